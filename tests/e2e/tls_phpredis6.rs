//! `rediss://` end to end, where Heroku users run it: phpredis 6 (the Debian 13 runtime)
//! against a redis-server with a self-signed certificate, as every Heroku Key-Value Store
//! plan has. phpredis 5.3 ignores TLS options in a session save path, so the host's PHP
//! cannot take part.

use crate::support::*;
use std::time::{Duration, Instant};

struct TlsSetup {
    rt: Runtime,
    tls: TlsFiles,
    redis: Redis,
    slug: Slug,
    _buildpack: Buildpack,
}

fn setup() -> TlsSetup {
    let rt = Runtime::trixie();
    let tls = TlsFiles::create();
    let redis = Redis::start_tls(&rt, &tls);
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &repo_dir().join("example"), &[]);
    // Users commit their CA file with the app, so it is in the slug.
    std::fs::create_dir(slug.path().join("certs")).unwrap();
    std::fs::copy(tls.cert(), slug.path().join("certs/redis-ca.pem")).unwrap();
    std::fs::copy(tls.wrong_ca(), slug.path().join("certs/wrong-ca.pem")).unwrap();
    TlsSetup {
        rt,
        tls,
        redis,
        slug,
        _buildpack: buildpack,
    }
}

fn id(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{name}{}x{nanos}", std::process::id())
}

fn assert_tls_session(setup: &TlsSetup, vars: &[(&str, &str)], db: u32, passwords: &[&str]) {
    let id = id("tls");
    let (first, ran1) = php_new_session(&setup.rt, setup.slug.path(), vars, &id);
    let (second, ran2) = php_session(&setup.rt, setup.slug.path(), vars, &id);
    assert!(
        first.redis_version.starts_with('6'),
        "phpredis {}",
        first.redis_version
    );
    for ran in [&ran1, &ran2] {
        assert_eq!(ran.stderr, "", "boot or PHP complained");
        assert_no_secret("dyno output", &ran.all(), passwords);
    }
    assert_eq!(first.save_handler, "redis");
    assert_eq!((first.visits, second.visits), (Some(1), Some(2)));
    assert_eq!(
        setup.redis.get(db, &setup.slug.session_key(&id)).as_deref(),
        Some("visits|i:2;")
    );
    assert_tree_has_no_secret(setup.slug.path(), passwords);
}

/// The Heroku case with nothing configured: `rediss://:PASSWORD@HOST:PORT`, self-signed.
#[test]
fn self_signed_tls_with_default_settings() {
    let setup = setup();
    let password = format!("{SECRET_MARKER} tls, with + & = % #");
    setup.redis.require_password(&password);
    let url = format!(
        "rediss://:{}@127.0.0.1:{}",
        url_encode(&password),
        setup.redis.tls_port
    );
    assert_tls_session(&setup, &[("REDIS_URL", &url)], 0, &[&password]);
}

#[test]
fn tls_with_acl_user_and_database() {
    let setup = setup();
    let password = format!("{SECRET_MARKER}/acl:tls@");
    setup.redis.add_user("sessions", &password);
    let url = format!(
        "rediss://sessions:{}@127.0.0.1:{}/5",
        url_encode(&password),
        setup.redis.tls_port
    );
    assert_tls_session(&setup, &[("REDIS_URL", &url)], 5, &[&password]);
}

#[test]
fn tls_verification_with_the_right_ca() {
    let setup = setup();
    let password = format!("{SECRET_MARKER}verify");
    setup.redis.require_password(&password);
    let url = format!("rediss://:{password}@127.0.0.1:{}", setup.redis.tls_port);
    let ca = setup.slug.path().join("certs/redis-ca.pem");
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("PHP_REDIS_SESSIONS_TLS_CA_FILE", ca.to_str().unwrap()),
    ];
    assert_tls_session(&setup, &vars, 0, &[&password]);
}

/// Verification on with a CA that did not sign the server's certificate: the session
/// fails at once, PHP says why, and nothing hangs.
#[test]
fn tls_verification_with_a_wrong_ca_fails_clearly() {
    let setup = setup();
    let password = format!("{SECRET_MARKER}wrongca");
    setup.redis.require_password(&password);
    let url = format!("rediss://:{password}@127.0.0.1:{}", setup.redis.tls_port);
    let ca = setup.slug.path().join("certs/wrong-ca.pem");
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("PHP_REDIS_SESSIONS_TLS_CA_FILE", ca.to_str().unwrap()),
    ];
    let started = Instant::now();
    let ran = php_session_raw(&setup.rt, setup.slug.path(), &vars, &id("wrongca"));
    // Not a timing assertion: a hang would be the connect timeout (5 s) or worse.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the failing session hung"
    );
    let report = SessionReport::parse(&ran.stdout).expect("PHP went on after the failed session");
    assert!(!report.started, "the session started despite the wrong CA");
    assert!(
        ran.stderr.contains("certificate verify failed"),
        "PHP did not say why"
    );
    assert!(setup.redis.keys(0).is_empty());
}

/// Verification on without a CA file uses the system's CAs, which do not know a
/// self-signed certificate.
#[test]
fn tls_verification_without_ca_file_rejects_self_signed() {
    let setup = setup();
    let url = format!("rediss://127.0.0.1:{}", setup.redis.tls_port);
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("PHP_REDIS_SESSIONS_TLS_VERIFY", "1"),
    ];
    let ran = php_session_raw(&setup.rt, setup.slug.path(), &vars, &id("syscas"));
    let report = SessionReport::parse(&ran.stdout).expect("PHP went on after the failed session");
    assert!(!report.started);
    assert!(ran.stderr.contains("certificate verify failed"));
    let _ = &setup.tls;
}

/// Concurrent requests over TLS, with the default locking: no write lost.
#[test]
fn tls_concurrent_requests_lose_no_write() {
    let setup = setup();
    let password = format!("{SECRET_MARKER}tls-concurrency");
    setup.redis.require_password(&password);
    let url = format!(
        "rediss://:{}@127.0.0.1:{}",
        url_encode(&password),
        setup.redis.tls_port
    );
    let server = WebServer::start(
        &setup.rt,
        setup.slug.path(),
        &[("REDIS_URL", &url)],
        "public",
        4,
    );
    let visits = server.concurrent_visits(24);
    assert_eq!(visits.lost, 0, "writes were lost");
    assert_no_secret("web server log", &server.log(), &[&password]);
}

/// The compile-time check finds phpredis 6 and has nothing to warn about.
#[test]
fn compile_sees_phpredis6_and_does_not_warn() {
    let Runtime::Trixie { script } = Runtime::trixie() else {
        unreachable!()
    };
    let buildpack = Buildpack::assemble();
    let app = tempfile::tempdir().unwrap();
    copy_dir(&repo_dir().join("example"), app.path());
    let bin = app.path().join(".heroku/php/bin");
    std::fs::create_dir_all(&bin).unwrap();
    // The PHP buildpack's PHP, played by the runtime's PHP 8.4 with phpredis 6.
    std::fs::write(
        bin.join("php"),
        format!("#!/bin/sh\nexec {} run -- php \"$@\"\n", script.display()),
    )
    .unwrap();
    std::fs::set_permissions(
        bin.join("php"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let (cache, env) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ran = run(
        &buildpack.bin("compile"),
        &[app.path(), cache.path(), env.path()],
        app.path(),
        &[],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let check = ran.stdout.lines().nth(2).unwrap();
    assert!(
        check.starts_with("       The PHP buildpack's PHP loads phpredis 6."),
        "{check}"
    );
    assert!(!ran.stdout.contains("WARNING"), "{}", ran.stdout);
}
