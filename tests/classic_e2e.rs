//! The classic buildpack end to end: bin/detect, bin/compile and bin/release on the example
//! app, the slug moved away from where it was built, `.profile.d` sourced by bash as a dyno
//! does, and a real PHP with phpredis against a real redis-server.

mod support;

use std::path::Path;
use support::*;

fn example_app() -> std::path::PathBuf {
    repo_dir().join("example")
}

fn session_key(id: &str) -> String {
    format!("PHPREDIS_SESSION:{id}")
}

/// Writes the session twice through PHP and checks it in Redis, as a user would.
fn assert_sessions_in_redis(redis: &Redis, url: &str, db: u32, passwords: &[&str]) {
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let id = format!("test{}", std::process::id());
    let vars = [("REDIS_URL", url)];

    let (first, ran1) = php_session(slug.path(), &vars, &id);
    let (second, ran2) = php_session(slug.path(), &vars, &id);
    for ran in [&ran1, &ran2] {
        assert_eq!(ran.stderr, "", "boot or PHP complained");
        assert_no_secret("dyno output", &ran.all(), passwords);
    }
    assert_eq!(first.save_handler, "redis");
    assert!(first.started && first.closed, "{first:?}");
    assert_eq!((first.visits, second.visits), (Some(1), Some(2)));
    assert_eq!(second.session_id, id);

    let stored = redis
        .get(db, &session_key(&id))
        .expect("the session is not in Redis");
    assert_eq!(stored, "visits|i:2;");
    let ttl = redis.ttl(db, &session_key(&id));
    assert!(
        ttl > 0 && ttl <= 1440,
        "session TTL {ttl} is not session.gc_maxlifetime"
    );
    if db != 0 {
        assert!(
            redis.keys(0).is_empty(),
            "the session went to database 0 too"
        );
    }
    for text in [&slug.detect.all(), &slug.compile.all(), &slug.release.all()] {
        assert_no_secret("build output", text, passwords);
    }
    assert_tree_has_no_secret(slug.path(), passwords);
}

#[test]
fn url_without_password() {
    let redis = Redis::start();
    assert_sessions_in_redis(&redis, &format!("redis://127.0.0.1:{}", redis.port), 0, &[]);
}

#[test]
fn password_with_every_printable_character() {
    let redis = Redis::start();
    let password = awkward_password();
    redis.require_password(&password);
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    assert_sessions_in_redis(&redis, &url, 0, &[&password]);
}

#[test]
fn heroku_legacy_user_h() {
    let redis = Redis::start();
    let password = format!("{SECRET_MARKER}-legacy,h");
    redis.require_password(&password);
    let url = format!(
        "redis://h:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    assert_sessions_in_redis(&redis, &url, 0, &[&password]);
}

#[test]
fn default_user_with_password() {
    let redis = Redis::start();
    let password = format!("{SECRET_MARKER} default & user");
    redis.require_password(&password);
    let url = format!(
        "redis://default:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    assert_sessions_in_redis(&redis, &url, 0, &[&password]);
}

#[test]
fn acl_user_with_awkward_name_and_password() {
    let redis = Redis::start();
    let user = "app-1:x%y,z@w";
    let password = format!("{SECRET_MARKER}@acl #1, +&=?/%");
    redis.add_user(user, &password);
    let url = format!(
        "redis://{}:{}@127.0.0.1:{}",
        url_encode(user),
        url_encode(&password),
        redis.port
    );
    assert_sessions_in_redis(&redis, &url, 0, &[&password]);
}

#[test]
fn database_number() {
    let redis = Redis::start();
    let password = format!("{SECRET_MARKER}db");
    redis.require_password(&password);
    let url = format!("redis://:{password}@127.0.0.1:{}/7", redis.port);
    assert_sessions_in_redis(&redis, &url, 7, &[&password]);
}

#[test]
fn ipv6_loopback() {
    let redis = Redis::start_on("::1");
    let password = format!("{SECRET_MARKER}v6");
    redis.require_password(&password);
    let url = format!("redis://:{password}@[::1]:{}/2", redis.port);
    assert_sessions_in_redis(&redis, &url, 2, &[&password]);
}

/// Without a usable URL: file sessions, a dyno that boots, and one line saying why.
fn assert_file_sessions(vars: &[(&str, &str)], expected_line_start: &str, passwords: &[&str]) {
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let id = unique_session_id("files");
    let (first, ran) = php_session(slug.path(), vars, &id);
    let (second, _) = php_session(slug.path(), vars, &id);
    assert_eq!(first.save_handler, "files");
    assert!(first.started && first.closed);
    assert_eq!((first.visits, second.visits), (Some(1), Some(2)));
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stderr: {}",
        ran.stderr
    );
    assert!(lines[0].starts_with(expected_line_start), "{}", lines[0]);
    assert!(
        lines[0].contains("PHP keeps its default file sessions"),
        "{}",
        lines[0]
    );
    assert_no_secret("boot output", &ran.all(), passwords);
    // The session went where PHP's files handler puts it.
    let _ = std::fs::remove_file(format!("/var/lib/php/sessions/sess_{id}"));
    let _ = std::fs::remove_file(format!("/tmp/sess_{id}"));
}

#[test]
fn unset_url_keeps_file_sessions() {
    assert_file_sessions(&[], "php-redis-sessions: REDIS_URL is not set", &[]);
}

#[test]
fn empty_url_keeps_file_sessions() {
    assert_file_sessions(
        &[("REDIS_URL", "")],
        "php-redis-sessions: REDIS_URL is not set",
        &[],
    );
}

#[test]
fn malformed_urls_keep_file_sessions() {
    let password = format!("{SECRET_MARKER}pw");
    for url in [
        format!("{password}:x@host:6379"),
        format!("http://:{password}@127.0.0.1:6379"),
        format!("redis://:{password}@127.0.0.1:99999"),
        format!("redis://:{password}@host:1,redis://:{password}@host:2"),
        format!("redis://:{password}%zz@host:1"),
        format!("redis://:{password}@host:1/db"),
    ] {
        assert_file_sessions(
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
    assert_file_sessions(
        &[("REDIS_URL", &url), ("PHP_REDIS_SESSIONS_DISABLE", "1")],
        "php-redis-sessions: PHP_REDIS_SESSIONS_DISABLE is set",
        &[],
    );
    assert!(redis.keys(0).is_empty());
}

#[test]
fn other_url_variable() {
    let redis = Redis::start();
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let url = format!("redis://127.0.0.1:{}/3", redis.port);
    let vars = [
        ("REDISCLOUD_URL", url.as_str()),
        ("PHP_REDIS_SESSIONS_URL_VAR", "REDISCLOUD_URL"),
    ];
    let (report, ran) = php_session(slug.path(), &vars, "othervar");
    assert_eq!(
        (report.save_handler.as_str(), report.visits),
        ("redis", Some(1))
    );
    assert_eq!(ran.stderr, "");
    assert!(redis.get(3, &session_key("othervar")).is_some());
}

#[test]
fn user_scan_dir_is_kept() {
    let redis = Redis::start();
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let extra = slug.path().join("extra-ini");
    std::fs::create_dir(&extra).unwrap();
    std::fs::write(extra.join("name.ini"), "session.name = MYAPPSESSID\n").unwrap();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let scan = format!(":{}", extra.display());
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("PHP_INI_SCAN_DIR", scan.as_str()),
    ];
    let ran = dyno_run(
        slug.path(),
        &vars,
        "php -r 'echo ini_get(\"session.name\"), \" \", ini_get(\"session.save_handler\"), \" \", getenv(\"PHP_INI_SCAN_DIR\");'",
    );
    assert_eq!(
        ran.stdout,
        format!(
            "MYAPPSESSID redis :{}:{}/.php-redis-sessions/conf.d",
            extra.display(),
            slug.path().display()
        )
    );
    // Sourcing the boot script again (a nested shell) does not add the directory twice.
    let ran = dyno_run(
        slug.path(),
        &vars,
        ". .profile.d/200-php-redis-sessions.sh; echo \"$PHP_INI_SCAN_DIR\"",
    );
    assert_eq!(
        ran.stdout.trim(),
        format!(
            ":{}:{}/.php-redis-sessions/conf.d",
            extra.display(),
            slug.path().display()
        )
    );
}

#[test]
fn build_log_and_files() {
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    assert_eq!(slug.detect.stdout, "PHP Redis Sessions\n");
    assert_eq!(slug.release.stdout, "--- {}\n");
    assert_eq!(slug.compile.stderr, "");
    insta::assert_snapshot!("classic_compile_log", slug.compile.stdout);

    let profile =
        std::fs::read_to_string(slug.path().join(".profile.d/200-php-redis-sessions.sh")).unwrap();
    insta::assert_snapshot!("classic_profile_script", profile);
    let ini = std::fs::read_to_string(
        slug.path()
            .join(".php-redis-sessions/conf.d/php-redis-sessions.ini"),
    )
    .unwrap();
    insta::assert_snapshot!("session_ini", ini);

    let mut written: Vec<String> = walk(slug.path())
        .into_iter()
        .filter(|p| !p.starts_with(slug.path().join("public")))
        .map(|p| {
            let mode = std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(&p).unwrap().permissions(),
            );
            format!(
                "{:o} {}",
                mode & 0o7777,
                p.strip_prefix(slug.path()).unwrap().display()
            )
        })
        .collect();
    written.sort();
    insta::assert_snapshot!("classic_slug_files", written.join("\n"));
}

#[test]
fn nothing_written_names_the_build_directory() {
    let buildpack = Buildpack::assemble();
    let build_dir = tempfile::tempdir().unwrap();
    copy_dir(&example_app(), build_dir.path());
    let env_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let ran = run(
        &buildpack.bin("compile"),
        &[build_dir.path(), cache_dir.path(), env_dir.path()],
        build_dir.path(),
        &[],
    );
    assert_eq!(ran.code, Some(0));
    let needle = build_dir.path().to_str().unwrap().as_bytes();
    for file in walk(build_dir.path()) {
        if file.is_file() {
            let bytes = std::fs::read(&file).unwrap();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} names the build directory",
                file.display()
            );
        }
    }
    assert!(walk(cache_dir.path()).is_empty() && walk(env_dir.path()).is_empty());
}

#[test]
fn compile_twice_gives_the_same_slug() {
    let buildpack = Buildpack::assemble();
    let build_dir = tempfile::tempdir().unwrap();
    copy_dir(&example_app(), build_dir.path());
    let env_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>, u32)> {
        walk(dir)
            .into_iter()
            .filter(|p| p.is_file())
            .map(|p| {
                let mode = std::os::unix::fs::PermissionsExt::mode(
                    &std::fs::metadata(&p).unwrap().permissions(),
                );
                (
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                    mode,
                )
            })
            .collect()
    };
    let args = [build_dir.path(), cache_dir.path(), env_dir.path()];
    let first_log = run(&buildpack.bin("compile"), &args, build_dir.path(), &[]);
    let first = snapshot(build_dir.path());
    let second_log = run(&buildpack.bin("compile"), &args, build_dir.path(), &[]);
    assert_eq!(first, snapshot(build_dir.path()));
    assert_eq!(first_log.stdout, second_log.stdout);
}

/// 24 concurrent requests on one session through PHP's web server with 4 workers, each
/// adding one visit while holding the session for a moment: with the buildpack's default
/// locking, no visit is lost.
#[test]
fn concurrent_requests_lose_no_write() {
    let redis = Redis::start();
    let password = format!("{SECRET_MARKER}-concurrency");
    redis.require_password(&password);
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    let (visits, server_log) = concurrent_visits(&[("REDIS_URL", &url)], 24);
    assert_eq!(visits, 25, "lost {} of 24 concurrent writes", 25 - visits);
    assert_no_secret("web server log", &server_log, &[&password]);
}

/// The same load with locking switched off loses writes: the test above can fail, and the
/// default matters.
#[test]
fn without_locking_concurrent_requests_lose_writes() {
    let redis = Redis::start();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let (visits, _) = concurrent_visits(
        &[("REDIS_URL", &url), ("PHP_REDIS_SESSIONS_LOCKING", "0")],
        24,
    );
    assert!(
        visits < 25,
        "no write was lost without locking ({visits} visits)"
    );
}

/// Opens a session, then sends `concurrency` requests on it at once; returns the visit
/// count a final request sees (minus that request) and the server's stderr.
fn concurrent_visits(vars: &[(&str, &str)], concurrency: usize) -> (u64, String) {
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let server = WebServer::start(slug.path(), vars, "public", 4);
    let (status, cookie, body) = server.get("/", None);
    assert_eq!(status, 200, "{body}{}", server.stderr());
    let cookie = cookie.expect("no session cookie");
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..concurrency)
            .map(|_| scope.spawn(|| server.get("/?hold_ms=30", Some(&cookie))))
            .collect();
        for handle in handles {
            let (status, _, body) = handle.join().unwrap();
            assert_eq!(status, 200, "{body}");
        }
    });
    let (_, _, body) = server.get("/", Some(&cookie));
    let value: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    assert_eq!(value["save_handler"], "redis");
    (value["visits"].as_u64().unwrap() - 1, server.stderr())
}
