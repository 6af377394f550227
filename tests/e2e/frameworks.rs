//! Frameworks, with their own code as Debian packages it: Symfony's `HttpFoundation` keeps
//! its native sessions in Redis through the boot hook (and, with the buildpack's own
//! handler asked for, boot keeps phpredis' for it); Laravel's session component never
//! touches PHP's session handler, which is what the build's warning says; the build log
//! names the frameworks that bypass PHP's handler.

use crate::support::*;

const PASSWORD: &str = "Sekr1t-frameworks,&";

struct Setup {
    redis: Redis,
    slug: Slug,
    url: String,
}

impl Setup {
    fn new(rt: &Runtime, app: &std::path::Path) -> Setup {
        let redis = Redis::start_in(rt);
        redis.require_password(PASSWORD);
        let url = format!("redis://:{}@127.0.0.1:{}", url_encode(PASSWORD), redis.port);
        let slug = build_with_php(rt, &Buildpack::assemble(), app, &[]);
        Setup { redis, slug, url }
    }

    fn dyno(&self, rt: &Runtime, vars: &[(&str, &str)]) -> WebDyno {
        let mut all = vec![("REDIS_URL", self.url.as_str())];
        all.extend_from_slice(vars);
        WebDyno::start(rt, self.slug.path(), &all, Frontend::Nginx, 2)
    }
}

/// Two visits to the Symfony page on one session: (the session id, the second answer).
fn two_symfony_visits(dyno: &WebDyno) -> (String, serde_json::Value) {
    let (status, cookie, body) = dyno.get("/symfony.php", None);
    assert_eq!(status, 200, "{body}{}", dyno.log());
    let cookie = cookie.unwrap_or_else(|| panic!("no session cookie: {body}"));
    let (status, _, body) = dyno.get("/symfony.php", Some(&cookie));
    assert_eq!(status, 200, "{body}{}", dyno.log());
    let answer: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    (answer["session_id"].as_str().unwrap().to_string(), answer)
}

/// Symfony's `NativeSessionStorage` (its default, PHP's own handler, which it wraps: PHP
/// then reports `user`) keeps its session in Redis through the boot hook, with PHP's ids
/// (Symfony's strict mode) and its attributes under the app's key.
fn symfony_native_sessions_are_in_redis(rt: &Runtime) {
    let setup = Setup::new(rt, app_with_packages(&["symfony/http-foundation"]).path());
    let dyno = setup.dyno(rt, &[]);
    let (id, answer) = two_symfony_visits(&dyno);
    assert_eq!(answer["visits"], 2, "{answer}");
    assert_eq!(answer["strict_mode"], "1");
    let stored = setup.redis.get(0, &setup.slug.session_key(&id)).unwrap();
    assert!(stored.contains(r#"s:6:"visits";i:2;"#), "{stored}");
    assert_no_secret("the dyno's log", &dyno.log(), &[PASSWORD]);
}

/// `PHP_REDIS_SESSIONS_HANDLER=buildpack` on a Symfony app (composer.lock has
/// symfony/http-foundation): Symfony would put PHP's own handler in place of the
/// buildpack's, so boot keeps phpredis' handler, configured in full, and says so once.
fn symfony_with_the_buildpack_handler_keeps_phpredis_handler(rt: &Runtime) {
    let setup = Setup::new(rt, app_with_packages(&["symfony/http-foundation"]).path());
    let dyno = setup.dyno(rt, &[("PHP_REDIS_SESSIONS_HANDLER", "buildpack")]);
    let (id, answer) = two_symfony_visits(&dyno);
    assert_eq!(answer["visits"], 2, "{answer}");
    // Outside Symfony, PHP's handler is phpredis' (the buildpack's would be `user`).
    let (_, _, body) = dyno.get("/", None);
    assert!(body.contains(r#""save_handler":"redis""#), "{body}");
    assert!(
        setup.redis.get(0, &setup.slug.session_key(&id)).is_some(),
        "not under phpredis' key"
    );
    let log = dyno.log();
    assert_eq!(
        log.matches("but the app uses Symfony's HttpFoundation")
            .count(),
        1,
        "{log}"
    );
    assert_no_secret("the dyno's log", &log, &[PASSWORD]);
}

/// The same app with Symfony not in composer.lock (vendored by hand, say): boot cannot
/// know, Symfony's storage puts PHP's own handler in place of the buildpack's, and that
/// handler's save path has no login. The sessions fail where it shows (Redis refuses
/// them, PHP warns on every request), and no warning quotes the password: it is not in
/// the save path.
fn symfony_unknown_to_the_build_fails_where_it_shows(rt: &Runtime) {
    let setup = Setup::new(rt, &repo_dir().join("example"));
    let dyno = setup.dyno(rt, &[("PHP_REDIS_SESSIONS_HANDLER", "buildpack")]);
    let (status, _, body) = dyno.get("/symfony.php", None);
    let log = dyno.log();
    assert!(
        status != 200 || !body.contains("\"visits\":1"),
        "{status} {body}"
    );
    assert!(
        log.contains("NOAUTH") || log.contains("Failed to read session data"),
        "{log}"
    );
    assert!(setup.redis.keys(0).is_empty());
    assert_no_secret("the dyno's log", &log, &[PASSWORD]);
}

/// Laravel's session component with its default file driver (Debian's
/// php-illuminate-session): PHP's session module is never started, nothing reaches
/// Redis, the session is a file. This is what the build warns Laravel apps about.
fn laravel_sessions_do_not_use_phps_handler(rt: &Runtime) {
    let setup = Setup::new(rt, app_with_packages(&["laravel/framework"]).path());
    let sessions = tempfile::Builder::new()
        .prefix(".laravel-")
        .tempdir_in(setup.slug.path())
        .unwrap();
    let script = repo_dir().join("tests/php/laravel_session.php");
    let dir = sessions.path().display().to_string();
    let ran = dyno_run(
        rt,
        setup.slug.path(),
        &[("REDIS_URL", &setup.url), ("LARAVEL_SESSION_DIR", &dir)],
        &format!("php {}", script.display()),
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    let answer: serde_json::Value = serde_json::from_str(ran.stdout.trim()).unwrap();
    assert_eq!(answer["save_handler"], "redis", "boot configured PHP");
    assert_eq!(
        answer["php_session_status"], 1,
        "PHP_SESSION_NONE: never started"
    );
    assert_eq!(answer["files"], 1, "Laravel's session is a file");
    assert!(setup.redis.keys(0).is_empty());
    assert!(
        setup
            .slug
            .compile
            .stdout
            .contains("Laravel keeps its sessions with its own drivers"),
        "{}",
        setup.slug.compile.stdout
    );
}

/// The classic build log of an app on Laravel and `CodeIgniter` 4 (both in composer.lock):
/// it builds, and warns about each.
#[test]
fn classic_build_warns_about_frameworks_that_bypass_phps_handler() {
    let app = app_with_packages(&["laravel/framework", "codeigniter4/framework", "a/b"]);
    let slug = build(&Buildpack::assemble(), app.path(), &[]);
    insta::assert_snapshot!("classic_framework_warnings", slug.compile.stdout);
    let plain = build(&Buildpack::assemble(), &repo_dir().join("example"), &[]);
    assert!(
        !plain.compile.stdout.contains("WARNING"),
        "{}",
        plain.compile.stdout
    );
}

in_both_runtimes!(
    symfony_native_sessions_are_in_redis,
    symfony_with_the_buildpack_handler_keeps_phpredis_handler,
    symfony_unknown_to_the_build_fails_where_it_shows,
    laravel_sessions_do_not_use_phps_handler,
);
