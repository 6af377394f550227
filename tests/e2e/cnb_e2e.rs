//! The Cloud Native Buildpack end to end, with the lifecycle played by the spec (see
//! support/lifecycle.rs): bin/detect and bin/build with the lifecycle's variables, after a
//! simulated heroku/php that sets `PHP_INI_SCAN_DIR` as an override; then the launch (env
//! files, exec.d on fd 3) and a real PHP with phpredis against a real redis-server.

use crate::lifecycle::*;
use crate::support::*;
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const LAYER: &str = "sessions";
const KEPT: &str = "PHP keeps its default file sessions";

fn example_app() -> PathBuf {
    repo_dir().join("example")
}

/// The names exec.d sets when there is a usable URL, in the order it writes them.
const EXEC_D_VARS: [&str; 7] = [
    "PHP_REDIS_SESSIONS_INI_SAVE_HANDLER",
    "PHP_REDIS_SESSIONS_INI_SAVE_PATH",
    "PHP_REDIS_SESSIONS_INI_LOCKING_ENABLED",
    "PHP_REDIS_SESSIONS_INI_LOCK_EXPIRE",
    "PHP_REDIS_SESSIONS_INI_LOCK_WAIT_TIME",
    "PHP_REDIS_SESSIONS_INI_LOCK_RETRIES",
    "PHP_INI_SCAN_DIR",
];

/// An app built by detect and build, optionally after the simulated heroku/php.
struct CnbBuild {
    buildpack: Buildpack,
    lifecycle: Lifecycle,
    id: String,
    detect: Ran,
    build: Ran,
}

fn cnb_build(app: &Path, with_php: bool, build_env: &[(&str, &str)]) -> CnbBuild {
    let buildpack = Buildpack::assemble();
    cnb_build_with(buildpack, app, with_php, build_env)
}

fn cnb_build_with(
    buildpack: Buildpack,
    app: &Path,
    with_php: bool,
    build_env: &[(&str, &str)],
) -> CnbBuild {
    let lifecycle = Lifecycle::new(app);
    if with_php {
        lifecycle.simulate_php_buildpack();
    }
    lifecycle.set_platform_env(build_env);
    let detect = lifecycle.detect(buildpack.dir.path(), build_env);
    assert_eq!(detect.code, Some(0), "detect: {}", detect.all());
    let build = lifecycle.build(buildpack.dir.path(), build_env);
    assert_eq!(build.code, Some(0), "build: {}", build.all());
    let id = buildpack_id(buildpack.dir.path());
    CnbBuild {
        buildpack,
        lifecycle,
        id,
        detect,
        build,
    }
}

impl CnbBuild {
    /// Launches a process's environment; the launch must not be aborted.
    fn launch(&self, runtime_env: &[(&str, &str)]) -> Launch {
        let launch = self
            .lifecycle
            .launch(&[PHP_BUILDPACK_ID, &self.id], runtime_env);
        for run in &launch.exec_d {
            assert_eq!(
                run.code,
                Some(0),
                "{} aborted the launch: {}",
                run.program.display(),
                run.stderr
            );
        }
        launch
    }

    fn layer(&self) -> PathBuf {
        self.lifecycle.buildpack_layers(&self.id).join(LAYER)
    }

    fn php_conf_d(&self) -> PathBuf {
        self.lifecycle
            .buildpack_layers(PHP_BUILDPACK_ID)
            .join("php/etc/php/conf.d")
    }
}

/// Runs tests/php/session.php as a direct process of the launched image.
fn launch_session(launch: &Launch, id: &str) -> (serde_json::Value, Ran) {
    let script = repo_dir().join("tests/php/session.php");
    let ran = launch.run("php", &[script.to_str().unwrap()], &[("SESSION_ID", id)]);
    assert_eq!(ran.code, Some(0), "php failed: {}", ran.all());
    let report = serde_json::from_str(ran.stdout.trim())
        .unwrap_or_else(|_| panic!("php printed no report: {}", ran.all()));
    (report, ran)
}

fn session_key(id: &str) -> String {
    format!("PHPREDIS_SESSION:{id}")
}

/// The exec.d output as the spec wants it: `NAME = "basic string"` lines only.
fn assert_exec_d_output_is_spec_toml(fd3: &str) {
    for line in fd3.lines() {
        let (name, value) = line
            .split_once(" = ")
            .unwrap_or_else(|| panic!("not NAME = value"));
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
        assert!(
            value.starts_with('"') && value.ends_with('"') && !value.starts_with("\"\"\""),
            "{name} is not a basic string"
        );
    }
}

#[test]
fn sessions_in_redis_after_the_php_buildpack() {
    let redis = Redis::start();
    let password = awkward_password();
    redis.require_password(&password);
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    // The URL is in the build's environment too: nothing of it may reach a layer.
    let built = cnb_build(&example_app(), true, &[("REDIS_URL", &url)]);
    let launch = built.launch(&[("REDIS_URL", &url)]);

    let php_conf_d = built.php_conf_d().display().to_string();
    let ours = built.layer().join("conf.d").display().to_string();
    assert_eq!(launch.env_before_exec_d["PHP_INI_SCAN_DIR"], php_conf_d);
    assert_eq!(
        launch.env["PHP_INI_SCAN_DIR"],
        format!("{php_conf_d}:{ours}"),
        "exec.d must append to heroku/php's scan dir"
    );
    assert_eq!(launch.exec_d.len(), 1);
    let run = &launch.exec_d[0];
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    let names: Vec<&str> = run
        .fd3
        .lines()
        .map(|l| l.split(" = ").next().unwrap())
        .collect();
    assert_eq!(names, EXEC_D_VARS);
    assert_exec_d_output_is_spec_toml(&run.fd3);

    let id = format!("cnb{}", std::process::id());
    let (first, ran1) = launch_session(&launch, &id);
    let (second, ran2) = launch_session(&launch, &id);
    for ran in [&ran1, &ran2] {
        assert_eq!(ran.stderr, "", "PHP complained");
    }
    assert_eq!(first["save_handler"], "redis");
    assert_eq!(first["locking"], "1");
    assert_eq!(
        (&first["visits"], &second["visits"]),
        (&1.into(), &2.into())
    );
    assert_eq!(
        redis.get(0, &session_key(&id)).as_deref(),
        Some("visits|i:2;")
    );
    // heroku/php's own conf.d is still read, before ours.
    let marker = launch.run("php", &["-r", "echo ini_get('user_agent');"], &[]);
    assert_eq!(marker.stdout, PHP_LAYER_MARKER);
    // The doctor is on the launch PATH, through the layer's bin/.
    let doctor = launch.run("php-redis-sessions", &["doctor"], &[]);
    assert_eq!(doctor.code, Some(0), "{}", doctor.all());
    assert!(
        doctor
            .stdout
            .ends_with("OK: PHP keeps its sessions in Redis\n"),
        "{}",
        doctor.stdout
    );

    for (what, text) in [
        ("detect output", built.detect.all()),
        ("build output", built.build.all()),
        ("exec.d output", launch.exec_d_output()),
        ("process output", ran1.all() + &ran2.all()),
        ("doctor output", doctor.all()),
    ] {
        assert_no_secret(what, &text, &[&password]);
    }
    assert_tree_has_no_secret(&built.lifecycle.layers(), &[&password]);
    assert_tree_has_no_secret(&built.lifecycle.app(), &[&password]);
}

#[test]
fn acl_user_and_database_without_a_php_buildpack() {
    let redis = Redis::start();
    let user = "app,1";
    let password = format!("{SECRET_MARKER} acl&cnb");
    redis.add_user(user, &password);
    let url = format!(
        "redis://{}:{}@127.0.0.1:{}/5",
        url_encode(user),
        url_encode(&password),
        redis.port
    );
    let built = cnb_build(&example_app(), false, &[]);
    let launch = built.launch(&[("REDIS_URL", &url)]);
    // No one set PHP_INI_SCAN_DIR: the empty first element keeps PHP's compiled-in conf.d,
    // which loads phpredis here.
    assert!(!launch.env_before_exec_d.contains_key("PHP_INI_SCAN_DIR"));
    assert_eq!(
        launch.env["PHP_INI_SCAN_DIR"],
        format!(":{}", built.layer().join("conf.d").display())
    );
    let (report, ran) = launch_session(&launch, "cnbacl");
    assert_eq!(report["save_handler"], "redis");
    assert_eq!(ran.stderr, "");
    assert!(redis.get(5, &session_key("cnbacl")).is_some());
    assert!(redis.keys(0).is_empty());
    assert_no_secret("exec.d output", &launch.exec_d_output(), &[&password]);
    assert_tree_has_no_secret(&built.lifecycle.layers(), &[&password]);
}

/// Without a usable URL: exec.d sets nothing and says why in one line, the launch goes on,
/// and PHP keeps file sessions.
fn assert_cnb_file_sessions(runtime_env: &[(&str, &str)], line_start: &str, passwords: &[&str]) {
    let built = cnb_build(&example_app(), true, &[]);
    let launch = built.launch(runtime_env);
    let run = &launch.exec_d[0];
    assert_eq!(run.fd3, "");
    assert_eq!(run.stdout, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(lines[0].starts_with(line_start), "{}", lines[0]);
    assert!(lines[0].contains(KEPT), "{}", lines[0]);
    assert_eq!(launch.env, launch.env_before_exec_d);
    let id = unique_session_id("cnbfiles");
    let (report, ran) = launch_session(&launch, &id);
    assert_eq!(report["save_handler"], "files");
    assert_eq!(report["visits"], 1);
    assert_eq!(ran.stderr, "");
    assert_no_secret("exec.d output", &run.stderr, passwords);
    let _ = std::fs::remove_file(format!("/var/lib/php/sessions/sess_{id}"));
    let _ = std::fs::remove_file(format!("/tmp/sess_{id}"));
}

#[test]
fn unset_url_keeps_file_sessions() {
    assert_cnb_file_sessions(&[], "php-redis-sessions: REDIS_URL is not set", &[]);
}

#[test]
fn malformed_url_keeps_file_sessions() {
    let password = format!("{SECRET_MARKER}cnb");
    for url in [
        format!("http://:{password}@127.0.0.1:6379"),
        format!("redis://:{password}%zz@host:1"),
        format!("{password}@host"),
    ] {
        assert_cnb_file_sessions(
            &[("REDIS_URL", &url)],
            "php-redis-sessions: REDIS_URL is not a usable Redis URL",
            &[&password],
        );
    }
}

#[test]
fn disabled_keeps_file_sessions() {
    let redis = Redis::start();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    assert_cnb_file_sessions(
        &[("REDIS_URL", &url), ("PHP_REDIS_SESSIONS_DISABLE", "1")],
        "php-redis-sessions: PHP_REDIS_SESSIONS_DISABLE is set",
        &[],
    );
    assert!(redis.keys(0).is_empty());
}

/// Runs the layer's exec.d program as something other than the launcher would.
fn run_exec_d_program(built: &CnbBuild, env: &[(&str, &str)], fd3: Fd3) -> Ran {
    let program = built.layer().join("exec.d/php-redis-sessions");
    let mut command = Command::new(&program);
    command
        .current_dir(built.lifecycle.app())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    let (reader, writer) = std::io::pipe().unwrap();
    let writer_fd = std::os::fd::AsRawFd::as_raw_fd(&writer);
    if matches!(fd3, Fd3::ClosedPipe) {
        drop(reader);
    }
    // SAFETY: close and dup2 are async-signal-safe and only touch the child's descriptors.
    #[allow(
        unsafe_code,
        reason = "the launcher's fd 3 can only be set up between fork and exec"
    )]
    unsafe {
        command.pre_exec(move || {
            match fd3 {
                Fd3::NotOpen => {
                    libc::close(3);
                }
                Fd3::ClosedPipe => {
                    if libc::dup2(writer_fd, 3) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
            }
            Ok(())
        });
    }
    let ran: Ran = command.output().unwrap().into();
    drop(writer);
    ran
}

#[derive(Clone, Copy)]
enum Fd3 {
    NotOpen,
    ClosedPipe,
}

/// Run by hand (fd 3 not open): exit 0, one line saying so, nothing written anywhere.
#[test]
fn exec_d_without_fd3_does_not_fail() {
    let built = cnb_build(&example_app(), false, &[]);
    let password = format!("{SECRET_MARKER}fd3");
    let url = format!("redis://:{password}@127.0.0.1:6379");
    let ran = run_exec_d_program(&built, &[("REDIS_URL", &url)], Fd3::NotOpen);
    assert_eq!(ran.code, Some(0));
    assert_eq!(ran.stdout, "");
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    assert!(
        ran.stderr
            .starts_with("php-redis-sessions: file descriptor 3 is not open"),
        "{}",
        ran.stderr
    );
    assert_no_secret("exec.d output", &ran.all(), &[&password]);
    assert_tree_has_no_secret(&built.lifecycle.layers(), &[&password]);

    // With nothing to hand over, there is nothing to complain about but the URL.
    let ran = run_exec_d_program(&built, &[], Fd3::NotOpen);
    assert_eq!(ran.code, Some(0));
    assert!(
        ran.stderr
            .starts_with("php-redis-sessions: REDIS_URL is not set"),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.stderr.lines().count(), 1);
}

/// The launcher's end of fd 3 already closed: the write fails, the launch does not.
#[test]
fn exec_d_with_a_broken_fd3_does_not_fail() {
    let built = cnb_build(&example_app(), false, &[]);
    let ran = run_exec_d_program(
        &built,
        &[("REDIS_URL", "redis://127.0.0.1:6379")],
        Fd3::ClosedPipe,
    );
    assert_eq!(ran.code, Some(0));
    assert_eq!(ran.stdout, "");
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    assert!(
        ran.stderr.starts_with(
            "php-redis-sessions: could not hand the session settings to the launcher on file descriptor 3"
        ),
        "{}",
        ran.stderr
    );
}

/// exec.d sets exactly what the classic `.profile.d` hook exports for the same
/// environment, but for where the ini directory is.
#[test]
fn exec_d_sets_what_classic_boot_exports() {
    let built = cnb_build(&example_app(), false, &[]);
    let env = [
        (
            "REDIS_URL",
            "rediss://app:not-a-secret@cache.internal:6380/2",
        ),
        ("PHP_REDIS_SESSIONS_LOCK_RETRIES", "12"),
        ("PHP_REDIS_SESSIONS_PREFIX", "app:"),
    ];
    let launch = built.launch(&env);
    let helper = built.buildpack.dir.path().join("lib/php-redis-sessions");
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg("eval \"$(\"$0\" boot --shell)\"; env")
        .arg(&helper)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .envs(env.iter().copied());
    let classic: Ran = command.output().unwrap().into();
    let classic: BTreeMap<&str, &str> = classic
        .stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    for name in &EXEC_D_VARS[..6] {
        assert_eq!(launch.env[*name], classic[name], "{name}");
    }
    let ini_dir = |helper: &Path| {
        helper
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("conf.d")
            .display()
            .to_string()
    };
    assert_eq!(
        classic["PHP_INI_SCAN_DIR"],
        format!(":{}", ini_dir(&helper))
    );
    assert_eq!(
        launch.env["PHP_INI_SCAN_DIR"],
        format!(
            ":{}",
            ini_dir(&built.layer().join("exec.d/php-redis-sessions"))
        )
    );
}

/// Replaces the build's timing, the one thing in its log that changes between runs.
/// The build log without what varies: the time taken, and the host's phpredis version.
fn normalized_build_log(log: &str) -> String {
    let out = std::process::Command::new("php")
        .args(["-r", "echo phpversion('redis');"])
        .output()
        .unwrap();
    let host_phpredis = String::from_utf8(out.stdout).unwrap();
    let log = log.replace(
        &format!("phpredis {host_phpredis}"),
        "phpredis <host phpredis>",
    );
    log.lines()
        .map(|line| match line.find("(finished in ") {
            Some(at) => format!("{}(finished in <time>)", &line[..at]),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn tree_listing(dir: &Path) -> String {
    mode_listing(dir).join("\n")
}

fn tree_contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    walk(dir)
        .into_iter()
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn build_log_and_layer() {
    let built = cnb_build(&example_app(), true, &[]);
    assert_eq!(built.detect.stdout, "PHP Redis Sessions\n");
    assert_eq!(built.detect.stderr, "");
    assert_eq!(built.build.stderr, "");
    insta::assert_snapshot!("cnb_build_log", normalized_build_log(&built.build.stdout));

    let layers = built.lifecycle.buildpack_layers(&built.id);
    insta::assert_snapshot!("cnb_layer_files", tree_listing(&layers));
    let metadata = std::fs::read_to_string(layers.join(format!("{LAYER}.toml"))).unwrap();
    insta::assert_snapshot!("cnb_layer_metadata", metadata);
    let parsed: toml::Table = metadata.parse().unwrap();
    assert_eq!(parsed["types"]["launch"].as_bool(), Some(true));

    let ini = std::fs::read_to_string(built.layer().join("conf.d/php-redis-sessions.ini")).unwrap();
    assert_eq!(
        ini,
        std::fs::read_to_string(repo_dir().join("files/php-redis-sessions.ini")).unwrap()
    );
    assert_eq!(
        std::fs::read(built.layer().join("exec.d/php-redis-sessions")).unwrap(),
        std::fs::read(built.buildpack.dir.path().join("lib/php-redis-sessions")).unwrap()
    );
    // The app is left as it was, and nothing in the layer names where the build ran.
    assert_eq!(
        tree_contents(&built.lifecycle.app()),
        tree_contents(&example_app())
    );
    let root = built.lifecycle.layers();
    let needle = root.parent().unwrap().to_str().unwrap().as_bytes();
    for (path, bytes) in tree_contents(&built.layer()) {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{} names the build's directory",
            path.display()
        );
    }
}

#[test]
fn rebuild_replaces_the_layer() {
    let built = cnb_build(&example_app(), false, &[]);
    let layers = built.lifecycle.buildpack_layers(&built.id);
    let before = tree_contents(&layers);
    std::fs::write(built.layer().join("exec.d/stale"), "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::write(built.layer().join("conf.d/stale.ini"), "x=1\n").unwrap();
    let again = built.lifecycle.build(built.buildpack.dir.path(), &[]);
    assert_eq!(again.code, Some(0), "{}", again.all());
    assert_eq!(tree_contents(&layers), before);
}

/// Apps for detect, each as (name, files).
fn detect_apps() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        ("no composer files", vec![]),
        (
            "ext-redis in composer.json require",
            vec![("composer.json", r#"{"require": {"ext-redis": "*"}}"#)],
        ),
        (
            "no ext-redis",
            vec![("composer.json", r#"{"require": {"php": ">=8.1"}}"#)],
        ),
        (
            "ext-redis in composer.lock platform",
            vec![
                ("composer.json", r#"{"require": {"php": "*"}}"#),
                (
                    "composer.lock",
                    r#"{"packages": [], "platform": {"ext-redis": "*"}}"#,
                ),
            ],
        ),
        (
            "ext-redis only in require-dev",
            vec![("composer.json", r#"{"require-dev": {"ext-redis": "*"}}"#)],
        ),
        (
            "invalid composer.json",
            vec![("composer.json", "{\"require\": {\"ext-redis\": \"*\",}}")],
        ),
        (
            "composer.lock of the wrong type",
            vec![("composer.lock", r#"{"packages": {"a": 1}}"#)],
        ),
    ]
}

fn app_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// CNB detect follows the classic rules and prints the same lines: exit 0 for 0, and 100
/// where classic declines with 1.
#[test]
fn detect_has_the_classic_rules_and_messages() {
    let buildpack = Buildpack::assemble();
    let mut lines = vec![];
    for dev in [false, true] {
        let env: &[(&str, &str)] = if dev {
            &[("HEROKU_PHP_INSTALL_DEV", "")]
        } else {
            &[]
        };
        for (name, files) in detect_apps() {
            let app = app_with(&files);
            let classic = run(&buildpack.bin("detect"), &[app.path()], app.path(), env);
            let lifecycle = Lifecycle::new(app.path());
            let cnb = lifecycle.detect(buildpack.dir.path(), env);
            let expected = match classic.code {
                Some(0) => Some(0),
                Some(1) => Some(100),
                other => panic!("classic detect exited with {other:?}"),
            };
            assert_eq!(cnb.code, expected, "{name}: {}", cnb.all());
            assert_eq!(
                (&cnb.stdout, &cnb.stderr),
                (&classic.stdout, &classic.stderr),
                "{name}"
            );
            lines.push(format!(
                "{name}{}: exit {:?} {}",
                if dev { " (HEROKU_PHP_INSTALL_DEV)" } else { "" },
                cnb.code.unwrap(),
                (cnb.stdout + &cnb.stderr).trim_end()
            ));
        }
    }
    insta::assert_snapshot!("cnb_detect", lines.join("\n"));
}

/// Under the lifecycle, detect and build can see `COMPOSER` (classic detect cannot).
#[test]
fn composer_variable_renames_the_files() {
    let buildpack = Buildpack::assemble();
    let app = app_with(&[
        ("composer.json", r#"{"require": {"php": "*"}}"#),
        ("composer-heroku.json", r#"{"require": {"ext-redis": "*"}}"#),
    ]);
    let lifecycle = Lifecycle::new(app.path());
    let env = [("COMPOSER", "composer-heroku.json")];
    let detect = lifecycle.detect(buildpack.dir.path(), &env);
    assert_eq!(detect.code, Some(0), "{}", detect.all());
    let build = lifecycle.build(buildpack.dir.path(), &env);
    assert_eq!(build.code, Some(0), "{}", build.all());
    assert!(
        build
            .stdout
            .contains("- ext-redis is required in composer-heroku.json \"require\""),
        "{}",
        build.stdout
    );
    assert_eq!(lifecycle.detect(buildpack.dir.path(), &[]).code, Some(100));
    let bad = lifecycle.detect(buildpack.dir.path(), &[("COMPOSER", "../composer.json")]);
    assert_eq!(bad.code, Some(100));
    assert!(
        bad.stderr.contains("COMPOSER must name a file"),
        "{}",
        bad.stderr
    );
}

#[test]
fn build_failures() {
    let buildpack = Buildpack::assemble();
    let app = app_with(&[("composer.json", r#"{"require": {"php": "*"}}"#)]);
    let lifecycle = Lifecycle::new(app.path());
    let failed = lifecycle.build(buildpack.dir.path(), &[]);
    assert_eq!(failed.code, Some(1));
    let id = buildpack_id(buildpack.dir.path());
    assert!(walk(&lifecycle.buildpack_layers(&id)).is_empty());

    // The helper's build phase outside a lifecycle.
    let outside = run(
        &buildpack.dir.path().join("lib/php-redis-sessions"),
        &[Path::new("cnb-build")],
        &example_app(),
        &[],
    );
    assert_eq!(outside.code, Some(1));
    insta::assert_snapshot!(
        "cnb_build_failures",
        format!("{}\n{}", failed.all().trim_end(), outside.all().trim_end())
    );
}

/// The simulated launcher's env file rules, on the cases the spec spells out: the launch
/// tests above are only as good as these.
#[test]
fn lifecycle_applies_env_files_by_the_spec() {
    let layer = tempfile::tempdir().unwrap();
    let write = |dir: &str, name: &str, value: &str| {
        std::fs::create_dir_all(layer.path().join(dir)).unwrap();
        std::fs::write(layer.path().join(dir).join(name), value).unwrap();
    };
    write("env", "LIST.append", "/env");
    write("env", "LIST.delim", ":");
    write("env", "FRONT.prepend", "/front");
    write("env", "FRONT.delim", ":");
    write("env", "GLUED.append", "b");
    write("env", "DEFAULTED.default", "from-layer");
    write("env", "KEPT.default", "from-layer");
    write("env", "PLAIN", "no suffix overrides");
    write("env", "BOTH.override", "from env/");
    write("env.launch", "BOTH.override", "from env.launch/");
    write("env.launch", "LIST.append", "/launch");
    write("env.launch", "LIST.delim", ":");

    let mut env: BTreeMap<String, String> = [
        ("LIST", "/base"),
        ("FRONT", "/base"),
        ("GLUED", "a"),
        ("DEFAULTED", ""),
        ("KEPT", "from-user"),
        ("PLAIN", "old"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for dir in ["env", "env.launch"] {
        apply_env_dir(&mut env, &layer.path().join(dir));
    }
    let get = |name: &str| env.get(name).map(String::as_str);
    assert_eq!(get("LIST"), Some("/base:/env:/launch"));
    assert_eq!(get("FRONT"), Some("/front:/base"));
    assert_eq!(
        get("GLUED"),
        Some("ab"),
        "no delimiter: plain concatenation"
    );
    assert_eq!(
        get("DEFAULTED"),
        Some("from-layer"),
        "empty counts as unset"
    );
    assert_eq!(get("KEPT"), Some("from-user"));
    assert_eq!(get("PLAIN"), Some("no suffix overrides"));
    assert_eq!(
        get("BOTH"),
        Some("from env.launch/"),
        "env.launch/ comes after env/"
    );
    assert!(!env.keys().any(|k| k.contains('.')));
}

/// `PHP_REDIS_SESSIONS_URL_VAR` is the user's own setting (the name of the variable that
/// holds the Redis URL), and under the lifecycle the user's variables are in the
/// environment of detect and build: the scripts must hand it to every child unchanged.
/// A `php` first on PATH (which build runs to check phpredis) records its environment,
/// then runs the real PHP.
#[test]
fn build_keeps_the_users_url_var_setting() {
    let real_php = Command::new("sh")
        .args(["-c", "command -v php"])
        .output()
        .unwrap();
    let real_php = String::from_utf8(real_php.stdout).unwrap();
    let real_php = real_php.trim_end();
    assert!(!real_php.is_empty(), "no php on PATH");
    let bin = tempfile::tempdir().unwrap();
    let record = bin.path().join("environ");
    write_executable(
        &bin.path().join("php"),
        &format!(
            "#!/bin/sh\ncat /proc/$$/environ > '{}'\nexec '{real_php}' \"$@\"\n",
            record.display()
        ),
    );
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let env = [
        ("PATH", path.as_str()),
        ("PHP_REDIS_SESSIONS_URL_VAR", "MY_REDIS"),
    ];
    let built = cnb_build(&example_app(), false, &env);
    assert!(
        built.build.stdout.contains("phpredis"),
        "{}",
        built.build.all()
    );
    let environ = std::fs::read(&record).expect("build did not run php");
    let vars: Vec<String> = environ
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .filter(|v| v.starts_with("PHP_REDIS_SESSIONS_URL_VAR="))
        .collect();
    assert_eq!(vars, ["PHP_REDIS_SESSIONS_URL_VAR=MY_REDIS"]);
}
