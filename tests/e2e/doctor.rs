//! `php-redis-sessions doctor` on a booted dyno, against real Redis servers: success, and
//! each failure named for what it is. Timings, versions and ports vary from run to run, so
//! the snapshots show placeholders for them.

use crate::support::*;
use std::net::TcpListener;

/// Runs the doctor as a user would: `heroku run php-redis-sessions doctor`.
fn doctor(rt: &Runtime, slug: &Slug, vars: &[(&str, &str)], path_prefix: Option<&str>) -> Ran {
    let command = match path_prefix {
        Some(dir) => format!("PATH={dir}:$PATH php-redis-sessions doctor"),
        None => "php-redis-sessions doctor".to_string(),
    };
    dyno_run(rt, slug.path(), vars, &command)
}

/// Replaces what varies between runs: timings, versions, ports, temporary paths and the
/// app's namespace (16 hex digits, new with each build).
fn mask(text: &str, ports: &[u16], paths: &[&str]) -> String {
    let mut out = text.to_string();
    if let Some(at) = out.find("PHPREDIS_SESSION:") {
        let start = at + "PHPREDIS_SESSION:".len();
        let namespace: String = out[start..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .collect();
        if namespace.len() == 16 {
            out = out.replace(&namespace, "<namespace>");
        }
    }
    for path in paths {
        out = out.replace(path, "<dir>");
    }
    for port in ports {
        out = out.replace(&format!(":{port}"), ":<port>");
    }
    let lines: Vec<String> = out
        .lines()
        .map(|line| {
            let line = if line.starts_with("  PHP ") || line.starts_with("  phpredis ") {
                let label = &line[..15];
                format!("{label}<version>")
            } else {
                line.to_string()
            };
            mask_timings(&line)
        })
        .collect();
    lines.join("\n")
}

/// `0.42 ms` becomes `N ms`.
fn mask_timings(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    let mut out = vec![];
    for (i, word) in words.iter().enumerate() {
        let next_is_ms = words.get(i + 1).is_some_and(|w| w.starts_with("ms"));
        let numeric = !word.is_empty()
            && word
                .trim_start_matches('(')
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.');
        if next_is_ms && numeric {
            out.push(if word.starts_with('(') { "(N" } else { "N" });
        } else {
            out.push(word);
        }
    }
    out.join(" ")
}

fn setup() -> (Buildpack, Slug) {
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &repo_dir().join("example"), &[]);
    (buildpack, slug)
}

/// A Redis that requires `password`, the example app built, and the URL of that Redis.
fn with_password(rt: &Runtime, password: &str) -> (Redis, Slug, String) {
    let redis = Redis::start_in(rt);
    redis.require_password(password);
    let (_bp, slug) = setup();
    let url = format!("redis://:{}@127.0.0.1:{}", url_encode(password), redis.port);
    (redis, slug, url)
}

fn assert_failed(ran: &Ran, cause_start: &str, passwords: &[&str]) {
    assert_eq!(ran.code, Some(1), "{}", ran.all());
    let last = ran.stdout.lines().last().unwrap_or("");
    assert!(
        last.starts_with(&format!("FAILED: {cause_start}")),
        "{last}"
    );
    assert_no_secret("doctor output", &ran.all(), passwords);
}

fn doctor_succeeds(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let password = format!("{SECRET_MARKER} doctor,&=");
    redis.add_user("webapp", &password);
    let (_bp, slug) = setup();
    let url = format!(
        "redis://webapp:{}@127.0.0.1:{}/4",
        url_encode(&password),
        redis.port
    );
    let ran = doctor(rt, &slug, &[("REDIS_URL", &url)], None);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert_eq!(ran.stderr, "");
    assert_no_secret("doctor output", &ran.all(), &[&password]);
    // It cleaned up after itself: no test session left behind.
    assert!(redis.keys(4).is_empty(), "{:?}", redis.keys(4));
    if !rt.is_trixie() {
        insta::assert_snapshot!("doctor_ok", mask(&ran.stdout, &[redis.port], &[]));
    }
}

/// With the buildpack's own handler: the doctor runs it as a request would, and says so.
fn doctor_succeeds_with_the_buildpack_handler(rt: &Runtime) {
    let password = format!("{SECRET_MARKER} doctor-handler");
    let (redis, slug, url) = with_password(rt, &password);
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("PHP_REDIS_SESSIONS_HANDLER", "buildpack"),
    ];
    let ran = doctor(rt, &slug, &vars, None);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert_eq!(ran.stderr, "");
    assert_no_secret("doctor output", &ran.all(), &[&password]);
    assert!(redis.keys(0).is_empty(), "{:?}", redis.keys(0));
    if !rt.is_trixie() {
        insta::assert_snapshot!(
            "doctor_ok_buildpack_handler",
            mask(&ran.stdout, &[redis.port], &[])
        );
    }
}

/// The frameworks composer.lock shows are named, with what that means for their sessions.
#[test]
fn doctor_names_the_frameworks() {
    let redis = Redis::start();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let mut lines = vec![];
    for packages in [
        &["laravel/framework", "symfony/http-foundation"][..],
        &[
            "codeigniter4/framework",
            "symfony/framework-bundle",
            "yiisoft/session",
        ][..],
    ] {
        let app = app_with_packages(packages);
        let slug = build(&Buildpack::assemble(), app.path(), &[]);
        let ran = doctor(&Runtime::host(), &slug, &[("REDIS_URL", &url)], None);
        assert_eq!(ran.code, Some(0), "{}", ran.all());
        lines.extend(
            ran.stdout
                .lines()
                .filter(|line| line.contains("composer.lock shows"))
                .map(str::to_string),
        );
    }
    insta::assert_snapshot!("doctor_frameworks", lines.join("\n"));
}

fn doctor_without_url(rt: &Runtime) {
    let (_bp, slug) = setup();
    let ran = doctor(rt, &slug, &[], None);
    assert_failed(&ran, "no usable Redis URL", &[]);
    if !rt.is_trixie() {
        insta::assert_snapshot!("doctor_no_url", ran.stdout);
    }
}

/// A shell that bypassed boot (no `.profile.d` sourced, as a CNB shell that bypassed the
/// launcher gets no exec.d variables): the checks still run with what boot would set, but
/// the doctor fails, saying that this process's PHP keeps file sessions, instead of OK.
fn doctor_in_a_process_that_was_not_booted(rt: &Runtime) {
    let password = format!("{SECRET_MARKER} not-booted");
    let (redis, slug, url) = with_password(rt, &password);
    let env = [
        ("HOME", slug.path().as_os_str()),
        ("REDIS_URL", std::ffi::OsStr::new(&url)),
    ];
    let script = "cd \"$HOME\" && .php-redis-sessions/bin/php-redis-sessions doctor";
    let ran: Ran = rt
        .command(
            "bash",
            &[std::ffi::OsStr::new("-c"), std::ffi::OsStr::new(script)],
            &env,
            &[slug.path()],
            slug.path(),
        )
        .output()
        .unwrap()
        .into();
    assert_failed(&ran, "this process was started without boot", &[&password]);
    assert!(
        ran.stdout
            .contains("test session through PHP (save_handler redis): ok"),
        "{}",
        ran.stdout
    );
    assert!(redis.keys(0).is_empty(), "{:?}", redis.keys(0));
    if !rt.is_trixie() {
        insta::assert_snapshot!("doctor_not_booted", mask(&ran.stdout, &[redis.port], &[]));
    }
}

/// A raw `#` in the password once made the part before it the host and port, which the
/// doctor then showed (`Server h:22857`): the start of the password.
#[test]
fn doctor_never_shows_a_password_cut_by_a_raw_delimiter() {
    let (_bp, slug) = setup();
    for delimiter in ['#', '?', '/'] {
        let url = format!("redis://h:22857{delimiter}{SECRET_MARKER}Rest@127.0.0.1:6379");
        let ran = doctor(&Runtime::host(), &slug, &[("REDIS_URL", &url)], None);
        assert_failed(&ran, "no usable Redis URL", &[]);
        assert!(!ran.all().contains("22857"), "{}", ran.all());
    }
}

fn doctor_connection_refused(rt: &Runtime) {
    let (_bp, slug) = setup();
    let port = free_port();
    let password = format!("{SECRET_MARKER}refused");
    let url = format!("redis://:{password}@127.0.0.1:{port}");
    let ran = doctor(rt, &slug, &[("REDIS_URL", &url)], None);
    assert_failed(&ran, "connection refused by 127.0.0.1:", &[&password]);
    if !rt.is_trixie() {
        insta::assert_snapshot!("doctor_refused", mask(&ran.stdout, &[port], &[]));
    }
}

fn doctor_authentication_failed(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    redis.require_password(&format!("{SECRET_MARKER}right"));
    let (_bp, slug) = setup();
    let wrong = format!("{SECRET_MARKER}wrong");
    let url = format!("redis://:{wrong}@127.0.0.1:{}", redis.port);
    let ran = doctor(rt, &slug, &[("REDIS_URL", &url)], None);
    assert_failed(&ran, "authentication failed at 127.0.0.1:", &[&wrong]);
}

/// A server that accepts connections and never answers.
fn doctor_timeout(rt: &Runtime) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (_bp, slug) = setup();
    let url = format!("redis://127.0.0.1:{port}");
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("PHP_REDIS_SESSIONS_READ_TIMEOUT", "1"),
        ("PHP_REDIS_SESSIONS_TIMEOUT", "1"),
    ];
    let ran = doctor(rt, &slug, &vars, None);
    assert_failed(&ran, "timeout talking to 127.0.0.1:", &[]);
    drop(listener);
}

/// PHP without phpredis (played by `php -n`, which loads no extension ini).
fn doctor_extension_missing(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let (_bp, slug) = setup();
    let wrapper = slug.path().join("php-without-extensions");
    std::fs::create_dir(&wrapper).unwrap();
    let php = if rt.is_trixie() {
        "/usr/bin/php".to_string()
    } else {
        which_php()
    };
    std::fs::write(
        wrapper.join("php"),
        format!("#!/bin/sh\nexec {php} -n \"$@\"\n"),
    )
    .unwrap();
    std::fs::set_permissions(
        wrapper.join("php"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let ran = doctor(
        rt,
        &slug,
        &[("REDIS_URL", &url)],
        Some(wrapper.to_str().unwrap()),
    );
    assert_failed(&ran, "PHP does not load ext-redis", &[]);
}

fn which_php() -> String {
    let out = std::process::Command::new("sh")
        .args(["-c", "command -v php"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

in_both_runtimes!(
    doctor_succeeds,
    doctor_succeeds_with_the_buildpack_handler,
    doctor_without_url,
    doctor_in_a_process_that_was_not_booted,
    doctor_connection_refused,
    doctor_authentication_failed,
    doctor_timeout,
    doctor_extension_missing,
);

/// TLS verification with a CA that did not sign the server's certificate (phpredis 6).
#[test]
fn doctor_tls_verification_failed() {
    let rt = Runtime::trixie();
    let tls = TlsFiles::create();
    let redis = Redis::start_tls(&rt, &tls);
    let password = format!("{SECRET_MARKER}tls-doctor");
    redis.require_password(&password);
    let (_bp, slug) = setup();
    std::fs::copy(tls.wrong_ca(), slug.path().join("wrong-ca.pem")).unwrap();
    let url = format!("rediss://:{password}@127.0.0.1:{}", redis.tls_port);
    let ca = slug.path().join("wrong-ca.pem");
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("PHP_REDIS_SESSIONS_TLS_CA_FILE", ca.to_str().unwrap()),
    ];
    let ran = doctor(&rt, &slug, &vars, None);
    assert_failed(&ran, "TLS verification failed at 127.0.0.1:", &[&password]);

    // And with the right CA, the same server passes.
    std::fs::copy(tls.cert(), slug.path().join("right-ca.pem")).unwrap();
    let ca = slug.path().join("right-ca.pem");
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("PHP_REDIS_SESSIONS_TLS_CA_FILE", ca.to_str().unwrap()),
    ];
    let ran = doctor(&rt, &slug, &vars, None);
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    insta::assert_snapshot!(
        "doctor_tls_ok",
        mask(
            &ran.stdout,
            &[redis.tls_port],
            &[slug.path().to_str().unwrap()]
        )
    );
}
