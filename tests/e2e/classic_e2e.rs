//! The classic buildpack end to end: bin/detect, bin/compile and bin/release on the example
//! app, the slug moved away from where it was built, `.profile.d` sourced by bash as a dyno
//! does, and a real PHP with phpredis against a real redis-server.

use crate::support::*;
use std::path::Path;

fn example_app() -> std::path::PathBuf {
    repo_dir().join("example")
}

/// Writes the session twice through PHP and checks it in Redis, as a user would.
fn assert_sessions_in_redis(rt: &Runtime, redis: &Redis, url: &str, db: u32, passwords: &[&str]) {
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &example_app(), &[]);
    let id = unique_session_id("test");
    let vars = [("REDIS_URL", url)];

    let (first, ran1) = php_new_session(rt, slug.path(), &vars, &id);
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
        .get(db, &slug.session_key(&id))
        .expect("the session is not in Redis");
    assert_eq!(stored, "visits|i:2;");
    let ttl = redis.ttl(db, &slug.session_key(&id));
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
    let (first, ran) = php_new_session(rt, slug.path(), vars, &id);
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
    let (report, ran) = php_new_session(rt, slug.path(), &vars, "othervar");
    assert_eq!(
        (report.save_handler.as_str(), report.visits),
        ("redis", Some(1))
    );
    assert_eq!(ran.stderr, "");
    assert!(redis.get(3, &slug.session_key("othervar")).is_some());
}

/// Without `REDIS_URL`, boot searches: a Heroku Key-Value Store instance's color variable
/// comes before `REDISCLOUD_URL`, and boot names the variable it took.
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
    let (report, ran) = php_new_session(rt, slug.path(), &vars, &id);
    assert_eq!(
        (report.save_handler.as_str(), report.visits),
        ("redis", Some(1))
    );
    assert_eq!(
        ran.stderr,
        "php-redis-sessions: REDIS_URL is not set, so sessions use HEROKU_REDIS_PINK_URL; \
         set PHP_REDIS_SESSIONS_URL_VAR to choose another variable\n"
    );
    assert!(redis.get(4, &slug.session_key(&id)).is_some());
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
    // The cache keeps the app's namespace, and nothing else; ENV_DIR is left alone.
    let cached: Vec<_> = walk(cache_dir.path())
        .iter()
        .map(|p| {
            p.strip_prefix(cache_dir.path())
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        cached,
        ["php-redis-sessions", "php-redis-sessions/namespace"]
    );
    assert!(walk(env_dir.path()).is_empty());
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
    // The same log, but that the namespace is now the one kept in the cache.
    let kept = first_log.stdout.replace(
        "get a namespace of this app's own (PHPREDIS_SESSION:<namespace>:<id>), made now \
         and kept in the build cache, so apps that share a Redis never share sessions",
        "keep this app's namespace (PHPREDIS_SESSION:<namespace>:<id>), from the build cache",
    );
    assert_ne!(kept, first_log.stdout);
    assert_eq!(kept, second_log.stdout);
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
    (server.concurrent_visits(concurrency), server.log())
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
    for umask in ["022", "000", "077"] {
        written_files_have_sensible_modes_under(umask);
    }
}

/// The modes of what compile writes do not follow the build's umask (directories once
/// came out 777 under `umask 000`).
fn written_files_have_sensible_modes_under(umask: &str) {
    let buildpack = Buildpack::assemble();
    let build_dir = tempfile::tempdir().unwrap();
    copy_dir(&example_app(), build_dir.path());
    let (cache, env) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let compile = format!(
        "umask {umask}; exec {} \"$@\"",
        buildpack.bin("compile").display()
    );
    let mut command = std::process::Command::new("sh");
    command
        .args(["-c", &compile, "sh"])
        .args([build_dir.path(), cache.path(), env.path()])
        .current_dir(build_dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap());
    let ran: Ran = command.output().unwrap().into();
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let listing: Vec<String> = mode_listing(build_dir.path())
        .into_iter()
        .filter(|line| line.contains("php-redis-sessions") || line.ends_with(" .profile.d"))
        .collect();
    assert_eq!(
        listing,
        [
            "755 .php-redis-sessions",
            "755 .php-redis-sessions/bin",
            "755 .php-redis-sessions/bin/php-redis-sessions",
            "755 .php-redis-sessions/conf.d",
            "644 .php-redis-sessions/conf.d/php-redis-sessions.ini",
            "755 .php-redis-sessions/conf.d-handler",
            "644 .php-redis-sessions/conf.d-handler/php-redis-sessions-handler.ini",
            "644 .php-redis-sessions/namespace",
            "755 .php-redis-sessions/php",
            "644 .php-redis-sessions/php/session-handler.php",
            "755 .profile.d",
            "644 .profile.d/200-php-redis-sessions.sh",
        ],
        "umask {umask}"
    );
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

/// A session id a client makes up never reaches a key the app did not create as one of
/// its sessions: not an app's own key of that name, and not another app's session in the
/// same Redis. Strict mode refuses unknown ids, and the keys carry the app's namespace.
fn made_up_session_ids_never_reach_other_keys(rt: &Runtime) {
    made_up_ids_never_reach_other_keys(rt, 1, false);
}

/// Several servers: phpredis' handler keeps the namespaced prefix there too (and does not
/// lock), the buildpack's handler keeps it and locks.
fn made_up_session_ids_never_reach_other_keys_on_shards(rt: &Runtime) {
    made_up_ids_never_reach_other_keys(rt, 3, false);
    made_up_ids_never_reach_other_keys(rt, 3, true);
}

fn made_up_session_ids_never_reach_other_keys_with_the_buildpack_handler(rt: &Runtime) {
    made_up_ids_never_reach_other_keys(rt, 1, true);
}

/// Client-chosen session ids (an app's key, another app's session, anything) on `count`
/// servers, each holding app keys next to the sessions: each gets a new session, and no
/// key but this app's sessions is read, deleted or written.
fn made_up_ids_never_reach_other_keys(rt: &Runtime, count: usize, buildpack_handler: bool) {
    let servers: Vec<Redis> = (0..count).map(|_| Redis::start_in(rt)).collect();
    let url = servers
        .iter()
        .map(|redis| format!("redis://127.0.0.1:{}", redis.port))
        .collect::<Vec<_>>()
        .join(",");
    let mut vars = vec![("REDIS_URL", url.as_str())];
    if buildpack_handler {
        vars.push(("PHP_REDIS_SESSIONS_HANDLER", "buildpack"));
    }
    let buildpack = Buildpack::assemble();
    let app = build(&buildpack, &example_app(), &[]);
    let other_app = build(&buildpack, &example_app(), &[]);
    let key = |slug: &Slug, id: &str| {
        if buildpack_handler {
            slug.handler_session_key(id)
        } else {
            slug.session_key(id)
        }
    };
    let find = |key: &str| servers.iter().find_map(|redis| redis.get(0, key));
    for redis in &servers {
        let mut conn = redis.connect();
        conn.command(&["SET", "ratelimit-global", "42"]);
        conn.command(&["SET", "PHPREDIS_SESSION:ratelimit-global", "app data"]);
    }
    let server = WebServer::start(rt, app.path(), &vars, "public", 2);
    let other = WebServer::start(rt, other_app.path(), &vars, "public", 2);
    let (_, other_id, _) = other.get("/", None);
    let other_id = other_id.expect("the other app gave no session");
    let other_key = key(&other_app, &other_id);
    let other_data = find(&other_key).expect("the other app's session");
    for made_up in ["ratelimit-global", other_id.as_str(), "attacker-chosen-id"] {
        let (status, issued, body) = server.get("/", Some(made_up));
        assert_eq!(status, 200, "{body}");
        let issued = issued.expect("no new session id for a made-up one");
        assert_ne!(issued, made_up);
        let visits: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
        assert_eq!(
            visits["visits"], 1,
            "{made_up}: it read someone else's data"
        );
        assert!(find(&key(&app, made_up)).is_none(), "{made_up}");
        assert!(find(&key(&app, &issued)).is_some());
    }
    for redis in &servers {
        assert_eq!(redis.get(0, "ratelimit-global").as_deref(), Some("42"));
        assert_eq!(
            redis.get(0, "PHPREDIS_SESSION:ratelimit-global").as_deref(),
            Some("app data")
        );
    }
    assert_eq!(find(&other_key), Some(other_data));
    assert_ne!(key(&app, "x"), key(&other_app, "x"));
}

in_both_runtimes!(
    made_up_session_ids_never_reach_other_keys,
    made_up_session_ids_never_reach_other_keys_on_shards,
    made_up_session_ids_never_reach_other_keys_with_the_buildpack_handler,
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

/// Runs `script` in bash with the app's `.profile.d` script sourced by its full path (as
/// Heroku does), `before` it; `env` is the whole environment.
fn sourced(rt: &Runtime, slug: &Path, env: &[(&str, &str)], before: &str, after: &str) -> Ran {
    let profile = slug.join(".profile.d/200-php-redis-sessions.sh");
    let script = format!("{before}\n. {}\n{after}", profile.display());
    let env: Vec<(&str, &std::ffi::OsStr)> = env
        .iter()
        .map(|(name, value)| (*name, std::ffi::OsStr::new(*value)))
        .collect();
    let php_dir = repo_dir().join("tests/php");
    rt.command(
        "/bin/bash",
        &[std::ffi::OsStr::new("-c"), std::ffi::OsStr::new(&script)],
        &env,
        &[slug, &php_dir],
        slug,
    )
    .output()
    .unwrap()
    .into()
}

/// A strict shell (`set -eu`) with `PATH` unset survives the boot (it once exited on the
/// unset variable), gets Redis sessions, and is left without a `PATH`.
#[test]
fn strict_shell_without_path_boots() {
    let redis = Redis::start();
    let slug = build(&Buildpack::assemble(), &example_app(), &[]);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let php = which_php();
    let session = repo_dir().join("tests/php/session.php");
    let ran = sourced(
        &Runtime::host(),
        slug.path(),
        &[("REDIS_URL", &url), ("NEW_SESSION_ID", "nopath")],
        "set -eu\nunset PATH",
        &format!(
            "echo \"PATH is ${{PATH-unset}}\" >&2\n{php} {}",
            session.display()
        ),
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert!(ran.stderr.contains("PATH is unset"), "{}", ran.stderr);
    let report = SessionReport::parse(&ran.stdout).unwrap();
    assert_eq!(report.save_handler, "redis");
    assert!(redis.get(0, &slug.session_key("nopath")).is_some());
}

/// An empty `PATH` gains the helper's directory alone: appending to it once made
/// `:DIR`, whose empty element is the current directory.
#[test]
fn empty_path_gains_no_current_directory() {
    let slug = build(&Buildpack::assemble(), &example_app(), &[]);
    let ran = sourced(
        &Runtime::host(),
        slug.path(),
        &[("PATH", "")],
        "",
        "printf '%s' \"$PATH\"",
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert_eq!(
        ran.stdout,
        slug.path()
            .join(".php-redis-sessions/bin")
            .display()
            .to_string()
    );
}

/// The slug is found from the script's own path, not from `HOME` (when `HOME` was not the
/// app's root, boot did nothing and said nothing).
#[test]
fn home_elsewhere_still_boots() {
    let redis = Redis::start();
    let slug = build(&Buildpack::assemble(), &example_app(), &[]);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let home = tempfile::tempdir().unwrap();
    let ran = sourced(
        &Runtime::host(),
        slug.path(),
        &[
            ("PATH", &std::env::var("PATH").unwrap()),
            ("HOME", home.path().to_str().unwrap()),
            ("REDIS_URL", &url),
            ("NEW_SESSION_ID", "elsewhere"),
        ],
        "",
        &format!("php {}", repo_dir().join("tests/php/session.php").display()),
    );
    let report = SessionReport::parse(&ran.stdout).unwrap_or_else(|| panic!("{}", ran.all()));
    assert_eq!(report.save_handler, "redis", "{}", ran.all());
    assert!(redis.get(0, &slug.session_key("elsewhere")).is_some());
}

/// A slug whose helper went missing says so at every boot, and the dyno boots.
#[test]
fn missing_helper_says_so() {
    let slug = build(&Buildpack::assemble(), &example_app(), &[]);
    std::fs::remove_file(
        slug.path()
            .join(".php-redis-sessions/bin/php-redis-sessions"),
    )
    .unwrap();
    let ran = sourced(
        &Runtime::host(),
        slug.path(),
        &[
            ("PATH", &std::env::var("PATH").unwrap()),
            ("REDIS_URL", "redis://h"),
        ],
        "set -eu",
        "echo booted",
    );
    assert_eq!((ran.code, ran.stdout.as_str()), (Some(0), "booted\n"));
    insta::assert_snapshot!(
        ran.stderr
            .replace(&slug.path().display().to_string(), "<slug>")
    );
}

fn which_php() -> String {
    let out = std::process::Command::new("sh")
        .args(["-c", "command -v php"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
