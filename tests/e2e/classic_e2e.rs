//! The classic buildpack end to end: bin/detect, bin/compile and bin/release on the example
//! app, the slug moved away from where it was built, `.profile.d` sourced by bash as a dyno
//! does, and a real PHP with phpredis against a real redis-server.

use crate::support::*;
use std::path::Path;

fn example_app() -> std::path::PathBuf {
    repo_dir().join("example")
}

fn session_key(id: &str) -> String {
    format!("PHPREDIS_SESSION:{id}")
}

/// Writes the session twice through PHP and checks it in Redis, as a user would.
fn assert_sessions_in_redis(rt: &Runtime, redis: &Redis, url: &str, db: u32, passwords: &[&str]) {
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let id = unique_session_id("test");
    let vars = [("REDIS_URL", url)];

    let (first, ran1) = php_session(rt, slug.path(), &vars, &id);
    let (second, ran2) = php_session(rt, slug.path(), &vars, &id);
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

fn url_without_password(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    assert_sessions_in_redis(
        rt,
        &redis,
        &format!("redis://127.0.0.1:{}", redis.port),
        0,
        &[],
    );
}

fn password_with_every_printable_character(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let password = awkward_password();
    redis.require_password(&password);
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    assert_sessions_in_redis(rt, &redis, &url, 0, &[&password]);
}

fn heroku_legacy_user_h(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let password = format!("{SECRET_MARKER}-legacy,h");
    redis.require_password(&password);
    let url = format!(
        "redis://h:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    assert_sessions_in_redis(rt, &redis, &url, 0, &[&password]);
}

fn default_user_with_password(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let password = format!("{SECRET_MARKER} default & user");
    redis.require_password(&password);
    let url = format!(
        "redis://default:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    assert_sessions_in_redis(rt, &redis, &url, 0, &[&password]);
}

fn acl_user_with_awkward_name_and_password(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let user = "app-1:x%y,z@w";
    let password = format!("{SECRET_MARKER}@acl #1, +&=?/%");
    redis.add_user(user, &password);
    let url = format!(
        "redis://{}:{}@127.0.0.1:{}",
        url_encode(user),
        url_encode(&password),
        redis.port
    );
    assert_sessions_in_redis(rt, &redis, &url, 0, &[&password]);
}

fn database_number(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let password = format!("{SECRET_MARKER}db");
    redis.require_password(&password);
    let url = format!("redis://:{password}@127.0.0.1:{}/7", redis.port);
    assert_sessions_in_redis(rt, &redis, &url, 7, &[&password]);
}

fn ipv6_loopback(rt: &Runtime) {
    let redis = Redis::start_with(RedisOptions {
        runtime: rt.clone(),
        bind: "::1",
        tls: None,
        cluster: false,
    });
    let password = format!("{SECRET_MARKER}v6");
    redis.require_password(&password);
    let url = format!("redis://:{password}@[::1]:{}/2", redis.port);
    assert_sessions_in_redis(rt, &redis, &url, 2, &[&password]);
}

/// Without a usable URL: file sessions, a dyno that boots, and one line saying why.
fn assert_file_sessions(
    rt: &Runtime,
    vars: &[(&str, &str)],
    expected_line_start: &str,
    passwords: &[&str],
) {
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let id = unique_session_id("files");
    let (first, ran) = php_session(rt, slug.path(), vars, &id);
    let (second, _) = php_session(rt, slug.path(), vars, &id);
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

fn unset_url_keeps_file_sessions(rt: &Runtime) {
    assert_file_sessions(rt, &[], "php-redis-sessions: REDIS_URL is not set", &[]);
}

fn empty_url_keeps_file_sessions(rt: &Runtime) {
    assert_file_sessions(
        rt,
        &[("REDIS_URL", "")],
        "php-redis-sessions: REDIS_URL is not set",
        &[],
    );
}

fn malformed_urls_keep_file_sessions(rt: &Runtime) {
    let password = format!("{SECRET_MARKER}pw");
    for url in [
        format!("{password}:x@host:6379"),
        format!("http://:{password}@127.0.0.1:6379"),
        format!("redis://:{password}@127.0.0.1:99999"),
        format!("redis://:{password}@host:1,redis://:{password}@:2"),
        format!("redis://:{password}%zz@host:1"),
        format!("redis://:{password}@host:1/db"),
    ] {
        assert_file_sessions(
            rt,
            &[("REDIS_URL", &url)],
            "php-redis-sessions: REDIS_URL is not a usable Redis URL",
            &[&password],
        );
    }
}

fn disabled_keeps_file_sessions(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    assert_file_sessions(
        rt,
        &[("REDIS_URL", &url), ("PHP_REDIS_SESSIONS_DISABLE", "1")],
        "php-redis-sessions: PHP_REDIS_SESSIONS_DISABLE is set",
        &[],
    );
    assert!(redis.keys(0).is_empty());
}

fn other_url_variable(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let url = format!("redis://127.0.0.1:{}/3", redis.port);
    let vars = [
        ("REDISCLOUD_URL", url.as_str()),
        ("PHP_REDIS_SESSIONS_URL_VAR", "REDISCLOUD_URL"),
    ];
    let (report, ran) = php_session(rt, slug.path(), &vars, "othervar");
    assert_eq!(
        (report.save_handler.as_str(), report.visits),
        ("redis", Some(1))
    );
    assert_eq!(ran.stderr, "");
    assert!(redis.get(3, &session_key("othervar")).is_some());
}

/// Without REDIS_URL, boot searches: a Heroku Key-Value Store instance's color variable
/// comes before REDISCLOUD_URL, and boot names the variable it took.
fn url_found_by_search(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let password = format!("{SECRET_MARKER}-pink");
    redis.require_password(&password);
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let pink = format!(
        "redis://:{}@127.0.0.1:{}/4",
        url_encode(&password),
        redis.port
    );
    let unused = format!("redis://127.0.0.1:{}", free_port());
    let vars = [
        ("HEROKU_REDIS_PINK_URL", pink.as_str()),
        ("REDISCLOUD_URL", unused.as_str()),
    ];
    let id = unique_session_id("search");
    let (report, ran) = php_session(rt, slug.path(), &vars, &id);
    assert_eq!(
        (report.save_handler.as_str(), report.visits),
        ("redis", Some(1))
    );
    assert_eq!(
        ran.stderr,
        "php-redis-sessions: REDIS_URL is not set, so sessions use HEROKU_REDIS_PINK_URL; \
         set PHP_REDIS_SESSIONS_URL_VAR to choose another variable\n"
    );
    assert!(redis.get(4, &session_key(&id)).is_some());
    assert_no_secret("dyno output", &ran.all(), &[&password]);
}

fn user_scan_dir_is_kept(rt: &Runtime) {
    let redis = Redis::start_in(rt);
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
        rt,
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
        rt,
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

    let mut written: Vec<String> = mode_listing(slug.path())
        .into_iter()
        .filter(|line| {
            !line
                .split_once(' ')
                .is_some_and(|(_, path)| path.starts_with("public"))
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
    assert_eq!(first_log.code, Some(0), "{}", first_log.all());
    let first = snapshot(build_dir.path());
    let second_log = run(&buildpack.bin("compile"), &args, build_dir.path(), &[]);
    assert_eq!(second_log.code, Some(0), "{}", second_log.all());
    assert_eq!(first, snapshot(build_dir.path()));
    assert_eq!(first_log.stdout, second_log.stdout);
}

/// 24 concurrent requests on one session through PHP's web server with 4 workers, each
/// adding one visit while holding the session for a moment: with the buildpack's default
/// locking, no visit is lost.
fn concurrent_requests_lose_no_write(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let password = format!("{SECRET_MARKER}-concurrency");
    redis.require_password(&password);
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    let (visits, server_log) = concurrent_visits(rt, &[("REDIS_URL", &url)], 24);
    assert_eq!(
        visits.lost, 0,
        "lost {} of 24 concurrent writes",
        visits.lost
    );
    assert_no_secret("web server log", &server_log, &[&password]);
}

/// The same load with locking switched off loses writes: the test above can fail, and the
/// default matters.
fn without_locking_concurrent_requests_lose_writes(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let (visits, _) = concurrent_visits(
        rt,
        &[("REDIS_URL", &url), ("PHP_REDIS_SESSIONS_LOCKING", "0")],
        24,
    );
    assert!(visits.lost > 0, "no write was lost without locking");
}

/// Opens a session, then sends `concurrency` requests on it at once; returns what a final
/// request saw and the server's stderr.
fn concurrent_visits(rt: &Runtime, vars: &[(&str, &str)], concurrency: u32) -> (Visits, String) {
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let server = WebServer::start(rt, slug.path(), vars, "public", 4);
    (server.concurrent_visits(concurrency), server.stderr())
}

/// Boot writes nothing: not into the slug, not into /tmp. Every value reaches PHP through
/// the environment, so rotated credentials need only a restart.
fn boot_writes_no_file(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let password = format!("{SECRET_MARKER}-boot-writes");
    redis.require_password(&password);
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let listing = |dir: &Path| -> Vec<(String, u64, Option<std::time::SystemTime>)> {
        walk(dir)
            .into_iter()
            .map(|p| {
                let meta = std::fs::symlink_metadata(&p).unwrap();
                (p.display().to_string(), meta.len(), meta.modified().ok())
            })
            .collect()
    };
    let before = listing(slug.path());
    // A temporary directory of its own: whatever boot wrote there would show.
    let tmp = tempfile::tempdir().unwrap();
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    let tmp_dir = tmp.path().to_str().unwrap();
    let ran = dyno_command(
        rt,
        slug.path(),
        &[("REDIS_URL", &url), ("TMPDIR", tmp_dir)],
        "true",
    )
    .output()
    .map(Ran::from)
    .unwrap();
    assert_eq!((ran.code, ran.all()), (Some(0), String::new()));
    assert_eq!(before, listing(slug.path()));
    // On the host the dyno's TMPDIR is this directory; the Debian 13 runtime has a /tmp of
    // its own for every run, gone with it, so there the slug listing is the check.
    if !rt.is_trixie() {
        assert!(walk(tmp.path()).is_empty(), "boot wrote into TMPDIR");
    }
    assert_tree_has_no_secret(slug.path(), &[&password]);
}

/// Modes: the helper is executable by all and writable only by its owner; the rest is
/// plain readable files; nothing is world-writable.
#[test]
fn written_files_have_sensible_modes() {
    let buildpack = Buildpack::assemble();
    let build_dir = tempfile::tempdir().unwrap();
    copy_dir(&example_app(), build_dir.path());
    let (cache, env) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ran = run(
        &buildpack.bin("compile"),
        &[build_dir.path(), cache.path(), env.path()],
        build_dir.path(),
        &[],
    );
    assert_eq!(ran.code, Some(0));
    let mode = |rel: &str| {
        std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(build_dir.path().join(rel))
                .unwrap()
                .permissions(),
        ) & 0o7777
    };
    assert_eq!(mode(".php-redis-sessions/bin/php-redis-sessions"), 0o755);
    assert_eq!(
        mode(".php-redis-sessions/conf.d/php-redis-sessions.ini"),
        0o644
    );
    assert_eq!(mode(".profile.d/200-php-redis-sessions.sh"), 0o644);
    for path in walk(&build_dir.path().join(".php-redis-sessions")) {
        let m = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(m & 0o022, 0, "{} is writable by others", path.display());
    }
}

in_both_runtimes!(
    url_without_password,
    password_with_every_printable_character,
    heroku_legacy_user_h,
    default_user_with_password,
    acl_user_with_awkward_name_and_password,
    database_number,
    ipv6_loopback,
    unset_url_keeps_file_sessions,
    empty_url_keeps_file_sessions,
    malformed_urls_keep_file_sessions,
    disabled_keeps_file_sessions,
    other_url_variable,
    user_scan_dir_is_kept,
    concurrent_requests_lose_no_write,
    without_locking_concurrent_requests_lose_writes,
    boot_writes_no_file,
    tracing_strict_shell_shows_no_secret,
    url_found_by_search,
);

/// A shell that traces (`set -xv`, say from a user's own `.profile`) and is strict
/// (`set -euo pipefail`) still boots, gets Redis sessions, keeps its options, and echoes
/// no secret into the log.
fn tracing_strict_shell_shows_no_secret(rt: &Runtime) {
    let redis = Redis::start_in(rt);
    let password = format!("{SECRET_MARKER}-traced");
    redis.require_password(&password);
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    let script = repo_dir().join("tests/php/session.php");
    let command = format!(
        "set -euxv -o pipefail\nfor f in \"$HOME\"/.profile.d/*.sh; do . \"$f\"; done\n\
         echo \"flags=$-\" >&2\nphp {}",
        script.display()
    );
    let env = [
        ("HOME", slug.path().as_os_str()),
        ("REDIS_URL", std::ffi::OsStr::new(&url)),
        ("SESSION_ID", std::ffi::OsStr::new("traced")),
    ];
    let php_dir = repo_dir().join("tests/php");
    let out: Ran = rt
        .command(
            "bash",
            &[std::ffi::OsStr::new("-c"), std::ffi::OsStr::new(&command)],
            &env,
            &[slug.path(), &php_dir],
            slug.path(),
        )
        .output()
        .unwrap()
        .into();
    assert_eq!(
        out.code,
        Some(0),
        "the strict shell did not survive the boot"
    );
    let report = SessionReport::parse(&out.stdout).expect("no session report");
    assert_eq!(
        (report.save_handler.as_str(), report.visits),
        ("redis", Some(1))
    );
    assert!(
        out.stderr.contains("flags=")
            && out.stderr.lines().any(|l| l.starts_with("flags=")
                && l.contains('x')
                && l.contains('v')
                && l.contains('e')
                && l.contains('u')),
        "the shell's options were not restored"
    );
    assert!(out.stderr.contains("+ "), "the shell did trace");
    let traced = out
        .stderr
        .replace(&url_encode(&password), "")
        .replace(&password, "");
    assert_eq!(
        traced.len(),
        out.stderr.len(),
        "the trace shows the password"
    );
    assert!(
        !out.stderr.contains(SECRET_MARKER) && !out.stderr.contains("auth="),
        "the trace shows a secret"
    );
}
