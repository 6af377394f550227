//! Hostile input for the classic buildpack: broken composer files, odd `ENV_DIR` entries,
//! every kind of malformed `REDIS_URL`. Each gets a clear message, none a panic, and boot
//! always leaves a dyno that starts with working file sessions.

use crate::support::*;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};

const WITH_REDIS: &str = r#"{"require": {"ext-redis": "*"}}"#;

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) {
    fs::write(dir.join(name), contents).unwrap();
}

type Setup = fn(&Path);

/// Runs bin/detect on each app; one snapshot line per case with the exit code and output.
#[test]
#[allow(clippy::too_many_lines, reason = "a catalogue: one entry per case")]
fn detect_catalogue() {
    let cases: &[(&str, Setup)] = &[
        ("manifest require", |d| {
            write(d, "composer.json", WITH_REDIS);
        }),
        ("lock platform", |d| {
            write(d, "composer.json", "{}");
            write(
                d,
                "composer.lock",
                r#"{"packages": [], "platform": {"php": "^8.2", "ext-redis": "*"}}"#,
            );
        }),
        ("lock package", |d| {
            write(
                d,
                "composer.lock",
                r#"{"packages": [{"name": "acme/cache", "require": {"ext-redis": "^6"}}]}"#,
            );
        }),
        ("dev only", |d| {
            write(d, "composer.json", r#"{"require-dev": {"ext-redis": "*"}}"#);
        }),
        ("no composer files", |_| {}),
        ("no ext-redis", |d| {
            write(
                d,
                "composer.json",
                r#"{"require": {"php": "^8.3", "ext-mbstring": "*"}}"#,
            );
        }),
        ("empty composer.json", |d| write(d, "composer.json", "")),
        ("trailing comma", |d| {
            write(
                d,
                "composer.json",
                "{\n  \"require\": {\n    \"ext-redis\": \"*\",\n  }\n}\n",
            );
        }),
        ("truncated lock", |d| {
            write(d, "composer.lock", "{\"packages\": [");
        }),
        ("require is []", |d| {
            write(d, "composer.json", r#"{"require": []}"#);
        }),
        ("require is null", |d| {
            write(d, "composer.json", r#"{"require": null}"#);
        }),
        ("require is a number", |d| {
            write(d, "composer.json", r#"{"require": 42}"#);
        }),
        ("require is a string", |d| {
            write(d, "composer.json", r#"{"require": "ext-redis"}"#);
        }),
        ("top level is an array", |d| write(d, "composer.json", "[]")),
        ("top level is null", |d| write(d, "composer.lock", "null")),
        ("packages is an object", |d| {
            write(d, "composer.lock", r#"{"packages": {"a": 1}}"#);
        }),
        ("package is a number", |d| {
            write(d, "composer.lock", r#"{"packages": [1]}"#);
        }),
        ("platform is true", |d| {
            write(d, "composer.lock", r#"{"platform": true}"#);
        }),
        ("byte-order mark", |d| {
            write(d, "composer.json", format!("\u{feff}{WITH_REDIS}"));
        }),
        ("binary composer.json", |d| {
            write(d, "composer.json", [0xff, 0xfe, 0x00, 0x7b]);
        }),
        ("composer.json is a directory", |d| {
            fs::create_dir(d.join("composer.json")).unwrap();
        }),
        ("composer.lock is a symlink loop", |d| {
            std::os::unix::fs::symlink("composer.lock", d.join("composer.lock")).unwrap();
            write(d, "composer.json", WITH_REDIS);
        }),
        ("composer.lock over 64 MB", |d| {
            write(d, "composer.json", WITH_REDIS);
            let file = fs::File::create(d.join("composer.lock")).unwrap();
            file.set_len(64 * 1024 * 1024 + 1).unwrap();
        }),
        ("deeply nested JSON", |d| {
            write(
                d,
                "composer.json",
                format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            );
        }),
    ];
    let buildpack = Buildpack::assemble();
    let mut lines = vec![];
    for (name, setup) in cases {
        let app = tempfile::tempdir().unwrap();
        setup(app.path());
        let ran = run(&buildpack.bin("detect"), &[app.path()], app.path(), &[]);
        assert!(
            matches!(ran.code, Some(0 | 1)),
            "{name}: exit {:?}",
            ran.code
        );
        assert!(!ran.all().contains("panicked"), "{name}: {}", ran.all());
        if ran.code == Some(1) {
            assert_eq!(
                ran.stderr.lines().count(),
                1,
                "{name}: one line on stderr: {}",
                ran.stderr
            );
        }
        lines.push(format!(
            "{name}: exit {}\n{}{}",
            ran.code.unwrap(),
            ran.stdout,
            ran.stderr
        ));
    }
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn detect_counts_dev_sections_with_heroku_php_install_dev() {
    let buildpack = Buildpack::assemble();
    let app = tempfile::tempdir().unwrap();
    write(
        app.path(),
        "composer.lock",
        r#"{"packages-dev": [{"name": "a/b", "require": {"ext-redis": "*"}}]}"#,
    );
    let ran = run(&buildpack.bin("detect"), &[app.path()], app.path(), &[]);
    assert_eq!(ran.code, Some(1));
    let ran = run(
        &buildpack.bin("detect"),
        &[app.path()],
        app.path(),
        &[("HEROKU_PHP_INSTALL_DEV", "")],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
}

/// A large real-looking lock: thousands of packages, ext-redis required by the last one.
#[test]
fn detect_reads_a_large_lock() {
    let buildpack = Buildpack::assemble();
    let app = tempfile::tempdir().unwrap();
    let mut packages: Vec<String> = (0..5000)
        .map(|i| {
            format!(
                r#"{{"name": "vendor{i}/package{i}", "version": "1.{i}.0", "require": {{"php": ">=8.1", "ext-json": "*"}},
                "description": "{}", "autoload": {{"psr-4": {{"Vendor{i}\\": "src/"}}}}}}"#,
                "x".repeat(400)
            )
        })
        .collect();
    packages.push(r#"{"name": "last/one", "require": {"ext-redis": "*"}}"#.into());
    let lock = format!(
        r#"{{"packages": [{}], "platform": []}}"#,
        packages.join(",")
    );
    assert!(lock.len() > 2_000_000);
    write(app.path(), "composer.lock", lock);
    let ran = run(&buildpack.bin("detect"), &[app.path()], app.path(), &[]);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
}

/// bin/compile with odd config vars and PHP buildpack outcomes: the whole log, per case.
#[test]
#[allow(clippy::too_many_lines, reason = "a catalogue: one entry per case")]
fn compile_catalogue() {
    type EnvSetup = fn(&Path, &Path);
    let host_php = which("php");
    let cases: &[(&str, EnvSetup)] = &[
        ("COMPOSER renames both files", |app, env| {
            write(app, "composer.json", "{}");
            write(app, "composer-heroku.json", "{}");
            write(
                app,
                "composer-heroku.lock",
                r#"{"platform": {"ext-redis": "*"}}"#,
            );
            write(env, "COMPOSER", "composer-heroku.json\n");
        }),
        ("COMPOSER names a file without ext-redis", |app, env| {
            write(app, "composer.json", WITH_REDIS);
            write(app, "other.json", "{}");
            write(env, "COMPOSER", "other.json");
        }),
        ("COMPOSER is empty", |app, env| {
            write(app, "composer.json", WITH_REDIS);
            write(env, "COMPOSER", "");
        }),
        ("COMPOSER is binary", |app, env| {
            write(app, "composer.json", WITH_REDIS);
            write(env, "COMPOSER", [0xff, 0x00, 0xfe]);
        }),
        ("COMPOSER is a directory", |app, env| {
            write(app, "composer.json", WITH_REDIS);
            fs::create_dir(env.join("COMPOSER")).unwrap();
        }),
        ("COMPOSER has a path", |app, env| {
            write(app, "composer.json", WITH_REDIS);
            write(env, "COMPOSER", "../composer.json");
        }),
        ("HEROKU_PHP_INSTALL_DEV set empty", |app, env| {
            write(
                app,
                "composer.json",
                r#"{"require-dev": {"ext-redis": "*"}}"#,
            );
            write(env, "HEROKU_PHP_INSTALL_DEV", "");
        }),
        (
            "dev requirement without HEROKU_PHP_INSTALL_DEV",
            |app, _| {
                write(
                    app,
                    "composer.json",
                    r#"{"require-dev": {"ext-redis": "*"}}"#,
                );
            },
        ),
        ("invalid lock", |app, _| {
            write(app, "composer.json", WITH_REDIS);
            write(
                app,
                "composer.lock",
                "{\"platform\": {\"ext-redis\": \"*\"}",
            );
        }),
        ("PHP buildpack's PHP loads phpredis", |app, _| {
            write(app, "composer.json", WITH_REDIS);
            fake_php(app, &format!("exec {} \"$@\"", which("php")));
        }),
        ("PHP buildpack's PHP lacks phpredis", |app, _| {
            write(app, "composer.json", WITH_REDIS);
            fake_php(app, &format!("exec {} -n \"$@\"", which("php")));
        }),
        ("PHP buildpack's PHP is broken", |app, _| {
            write(app, "composer.json", WITH_REDIS);
            fake_php(
                app,
                "echo 'error while loading shared libraries' >&2; exit 127",
            );
        }),
        ("PHP buildpack's PHP is not executable", |app, _| {
            write(app, "composer.json", WITH_REDIS);
            fake_php(app, "exit 0");
            fs::set_permissions(
                app.join(".heroku/php/bin/php"),
                std::os::unix::fs::PermissionsExt::from_mode(0o644),
            )
            .unwrap();
        }),
    ];
    let buildpack = Buildpack::assemble();
    let mut logs = vec![];
    let host_version = Command::new(&host_php)
        .args(["-r", "echo phpversion('redis');"])
        .output()
        .unwrap()
        .stdout;
    let host_version = String::from_utf8(host_version).unwrap();
    for (name, setup) in cases {
        let app = tempfile::tempdir().unwrap();
        let env = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        setup(app.path(), env.path());
        let ran = run(
            &buildpack.bin("compile"),
            &[app.path(), cache.path(), env.path()],
            app.path(),
            &[],
        );
        assert!(
            matches!(ran.code, Some(0 | 1)),
            "{name}: exit {:?}",
            ran.code
        );
        assert_eq!(ran.stderr, "", "{name}");
        let installed = app
            .path()
            .join(".profile.d/200-php-redis-sessions.sh")
            .exists();
        assert_eq!(
            installed,
            ran.code == Some(0),
            "{name}: installed only on success"
        );
        // The host's phpredis version varies between machines: name it in the snapshot.
        let log = ran.stdout.replace(&host_version, "<host phpredis>");
        logs.push(format!("## {name}: exit {}\n{log}", ran.code.unwrap()));
    }
    insta::assert_snapshot!(logs.join("\n"));
}

fn which(program: &str) -> String {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A stand-in for the PHP buildpack's `.heroku/php/bin/php`: a script running `body`.
fn fake_php(app: &Path, body: &str) {
    let bin = app.join(".heroku/php/bin");
    fs::create_dir_all(&bin).unwrap();
    write_executable(&bin.join("php"), &format!("#!/bin/sh\n{body}\n"));
}

/// Malformed `REDIS_URL` values, each handed to the boot helper as a dyno would.
fn malformed_urls() -> Vec<(&'static str, Vec<u8>)> {
    let pw = format!("{SECRET_MARKER}pw");
    let mut cases: Vec<(&str, String)> = vec![
        ("no scheme", format!("{pw}@host:6379")),
        (
            "password where the scheme goes",
            format!("{pw}:x@host:6379"),
        ),
        ("unknown scheme", format!("http://:{pw}@host:6379")),
        ("unix socket", "unix:///tmp/redis.sock".into()),
        ("no host", format!("redis://:{pw}@:6379")),
        ("nothing after the scheme", "redis://".into()),
        ("port out of range", format!("redis://:{pw}@host:65536")),
        ("port not a number", format!("redis://:{pw}@host:port")),
        ("negative port", format!("redis://:{pw}@host:-1")),
        ("bad percent-escape", format!("redis://:{pw}%zz@host:1")),
        (
            "truncated percent-escape",
            format!("redis://:{pw}%4@host:1"),
        ),
        ("raw space in password", format!("redis://:{pw} x@host:1")),
        (
            "leading and inner spaces",
            format!("  redis:// :{pw}@host:1"),
        ),
        (
            "two URLs with a comma, one bad",
            format!("redis://:{pw}@a:1,http://:{pw}@b:2"),
        ),
        (
            "two URLs with a space, one bad",
            format!("redis://:{pw}@a:1 redis://:{pw}@:2"),
        ),
        (
            "two URLs on two lines, one bad",
            format!("redis://:{pw}@a:99999\nredis://:{pw}@b:2"),
        ),
        (
            "a bad weight",
            format!("redis://:{pw}@a:1?weight=heavy,redis://b:2"),
        ),
        (
            "database not a number",
            format!("redis://:{pw}@host:1/sessions"),
        ),
        (
            "database too large",
            format!("redis://:{pw}@host:1/99999999999"),
        ),
        ("host with a percent", format!("redis://:{pw}@ho%20st:1")),
        ("unclosed IPv6 bracket", format!("redis://:{pw}@[::1:6379")),
        ("bad IPv6 address", format!("redis://:{pw}@[::zz]:6379")),
        (
            "huge, with a bad port",
            format!("redis://:{pw}{}@host:99999", "a".repeat(100_000)),
        ),
        ("only a password", pw.clone()),
        (
            "control characters in the host",
            format!("redis://:{pw}@ho\u{7}\u{1b}st:1"),
        ),
        ("unicode host", format!("redis://:{pw}@hôst.example:1")),
        (
            "raw # in the password",
            format!("redis://h:22857#{pw}Rest@127.0.0.1:6379"),
        ),
        (
            "raw ? in the password",
            format!("redis://h:22857?{pw}Rest@127.0.0.1:6379"),
        ),
        (
            "raw / in the password",
            format!("redis://h:22857/{pw}Rest@127.0.0.1:6379"),
        ),
        ("a fragment", format!("redis://:{pw}@host:1/2#x")),
    ];
    cases.push(("not UTF-8", String::new()));
    cases
        .into_iter()
        .map(|(name, url)| {
            let bytes = if name == "not UTF-8" {
                let mut bytes = format!("redis://:{pw}").into_bytes();
                bytes.extend([0xff, 0xfe]);
                bytes.extend(b"@host:1");
                bytes
            } else {
                url.into_bytes()
            };
            (name, bytes)
        })
        .collect()
}

/// Every malformed URL: boot exits 0, exports nothing, prints one line without a secret.
#[test]
fn boot_catalogue() {
    let buildpack = Buildpack::assemble();
    let helper = buildpack.dir.path().join("lib/php-redis-sessions");
    let mut lines = vec![];
    for (name, url) in malformed_urls() {
        let out = Command::new(&helper)
            .args(["boot", "--shell"])
            .env_clear()
            .env("REDIS_URL", OsStr::from_bytes(&url))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}");
        assert!(out.stdout.is_empty(), "{name}: exported something");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert_no_secret(name, &stderr, &[]);
        lines.push(format!("{name}: {stderr}"));
    }
    insta::assert_snapshot!(lines.join(""));
}

/// The same URLs through a real dyno boot: PHP keeps working file sessions.
#[test]
fn boot_with_malformed_urls_keeps_file_sessions() {
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &repo_dir().join("example"), &[]);
    let script = repo_dir().join("tests/php/session.php");
    for (name, url) in malformed_urls() {
        let out = dyno_command(
            &Runtime::host(),
            slug.path(),
            &[("SESSION_ID", "hostile")],
            &format!("php {}", script.display()),
        )
        .env("REDIS_URL", OsStr::from_bytes(&url))
        .output()
        .unwrap();
        let report = SessionReport::parse(&String::from_utf8_lossy(&out.stdout))
            .unwrap_or_else(|| panic!("{name}: no report"));
        assert_eq!(out.status.code(), Some(0), "{name}");
        assert_eq!(report.save_handler, "files", "{name}");
        assert!(
            report.started && report.closed && report.visits.is_some(),
            "{name}"
        );
        assert_no_secret(name, &String::from_utf8_lossy(&out.stderr), &[]);
    }
    let _ = fs::remove_file("/var/lib/php/sessions/sess_hostile");
    let _ = fs::remove_file("/tmp/sess_hostile");
}

/// Odd config vars for the buildpack's own settings: a message each, defaults kept, and
/// sessions still in Redis.
#[test]
fn odd_settings_fall_back_to_defaults() {
    let redis = Redis::start();
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &repo_dir().join("example"), &[]);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("PHP_REDIS_SESSIONS_TIMEOUT", "-3"),
        ("PHP_REDIS_SESSIONS_LOCKING", "sometimes"),
        ("PHP_REDIS_SESSIONS_LOCK_RETRIES", "∞"),
        ("PHP_REDIS_SESSIONS_URL_VAR", "REDIS URL"),
        ("PHP_REDIS_SESSIONS_PERSISTENT", ""),
    ];
    let (report, ran) = php_new_session(&Runtime::host(), slug.path(), &vars, "oddsettings");
    assert_eq!(report.save_handler, "redis");
    assert_eq!(report.visits, Some(1));
    insta::assert_snapshot!(ran.stderr);
    assert!(redis.get(0, &slug.session_key("oddsettings")).is_some());
}

/// `command` with `/proc` hidden (an empty tmpfs over it, in a mount namespace of its own):
/// the helper can then not read `/proc/self/exe`.
fn without_proc(command: &Command) -> Command {
    let mut wrapped = Command::new("unshare");
    wrapped
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs none /proc && exec \"$@\"")
        .arg("sh")
        .arg(command.get_program())
        .args(command.get_args())
        .env_clear()
        .stdin(Stdio::null());
    for (name, value) in command.get_envs() {
        if let Some(value) = value {
            wrapped.env(name, value);
        }
    }
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

/// Without `/proc`, the `.profile.d` script starts the helper by its full path, which is
/// how the helper finds its session ini: sessions still go to Redis.
#[test]
fn boot_without_proc_finds_the_ini_by_path() {
    let redis = Redis::start();
    let slug = build(&Buildpack::assemble(), &repo_dir().join("example"), &[]);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let script = repo_dir().join("tests/php/session.php");
    let command = dyno_command(
        &Runtime::host(),
        slug.path(),
        &[("REDIS_URL", &url), ("NEW_SESSION_ID", "noproc")],
        &format!(
            "[ -e /proc/self/exe ] && echo proc is there; php {}",
            script.display()
        ),
    );
    let ran: Ran = without_proc(&command).output().unwrap().into();
    assert!(!ran.stdout.contains("proc is there"), "{}", ran.all());
    let report = SessionReport::parse(&ran.stdout).unwrap_or_else(|| panic!("{}", ran.all()));
    assert_eq!(report.save_handler, "redis", "{}", ran.all());
    assert!(redis.get(0, &slug.session_key("noproc")).is_some());
}

/// A helper that cannot tell where it is (started by a bare name, no `/proc`) never
/// exports a made-up scan path (it once exported `PHP_INI_SCAN_DIR=':'`, which loads
/// PHP's conf.d twice): nothing, and one line saying why.
#[test]
fn helper_that_cannot_find_itself_exports_nothing() {
    let slug = build(&Buildpack::assemble(), &repo_dir().join("example"), &[]);
    let bin = slug.path().join(".php-redis-sessions/bin");
    let mut command = Command::new("php-redis-sessions");
    command
        .args(["boot", "--shell"])
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("REDIS_URL", "redis://127.0.0.1:1");
    let ran: Ran = without_proc(&command).output().unwrap().into();
    assert_eq!(ran.code, Some(0));
    assert_eq!(ran.stdout, "", "exported something");
    insta::assert_snapshot!(ran.stderr);
}

/// 2,900 URLs fit in Heroku's config vars but would make a save path over the kernel's
/// 128 KiB limit for one environment string, after which no program could start on the
/// dyno. Boot exports nothing instead, says why, and programs start.
#[test]
fn long_url_lists_keep_every_program_startable() {
    let slug = build(&Buildpack::assemble(), &repo_dir().join("example"), &[]);
    let urls = vec!["redis://h"; 2900].join(",");
    let ran = dyno_run(
        &Runtime::host(),
        slug.path(),
        &[("REDIS_URL", &urls)],
        "php -r 'echo ini_get(\"session.save_handler\");'",
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert_eq!(ran.stdout, "files");
    insta::assert_snapshot!(ran.stderr);
}

/// A `PHP_INI_SCAN_DIR` that is not UTF-8 is left exactly as it was (it was once replaced,
/// which on CNB drops heroku/php's conf.d and with it ext-redis): file sessions, one line.
#[test]
fn scan_dir_that_is_not_utf8_is_left_alone() {
    let slug = build(&Buildpack::assemble(), &repo_dir().join("example"), &[]);
    let scan_dir = OsStr::from_bytes(b":/tmp/not-\xffutf8");
    let ran: Ran = dyno_command_os(
        &Runtime::host(),
        slug.path(),
        &[
            ("REDIS_URL", OsStr::new("redis://127.0.0.1:1")),
            ("PHP_INI_SCAN_DIR", scan_dir),
        ],
        "printf '%s' \"$PHP_INI_SCAN_DIR\" > scan_dir; php -r 'echo ini_get(\"session.save_handler\");'",
    )
    .output()
    .unwrap()
    .into();
    assert_eq!(ran.stdout, "files", "{}", ran.all());
    assert_eq!(
        fs::read(slug.path().join("scan_dir")).unwrap(),
        scan_dir.as_bytes()
    );
    insta::assert_snapshot!(ran.stderr);
}
