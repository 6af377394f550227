//! Production's shape: a web dyno's php-fpm behind nginx or Apache httpd, booted by the
//! buildpack's `.profile.d` script, with Redis a network hop away (a proxy that can cut
//! or silence its connections, or be down). What a user of a Heroku web dyno would
//! check: sessions in Redis under the expected key, no write lost under concurrency, how
//! many requests fail when Redis restarts or dies, that an outage answers within the
//! timeouts and passes, that the app's own phpredis connections cannot move the sessions,
//! that new credentials after a restart just work, and how many round trips a request
//! costs, and that the doctor names what php-fpm serves. Each with phpredis' own session
//! handler (the default) and with the buildpack's (`PHP_REDIS_SESSIONS_HANDLER=buildpack`),
//! over TCP and TLS.

use crate::support::*;
use std::time::Duration;

fn example_app() -> std::path::PathBuf {
    repo_dir().join("example")
}

/// A Redis with a password behind a proxy, a slug, and what to set for the dyno.
struct Setup {
    redis: Redis,
    proxy: Proxy,
    slug: Slug,
    url: String,
    _tls: Option<TlsFiles>,
    /// An ini directory added before boot's (`PHP_INI_SCAN_DIR`), for the test's own
    /// PHP settings.
    scan_dir: String,
}

const PASSWORD: &str = "Sekr1t-web,&+%";

/// Which session handler the dyno runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handler {
    Phpredis,
    Buildpack,
}

impl Handler {
    fn vars(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Handler::Phpredis => &[],
            Handler::Buildpack => &[("PHP_REDIS_SESSIONS_HANDLER", "buildpack")],
        }
    }

    /// `session.save_handler` once it is in place.
    fn save_handler(self) -> &'static str {
        match self {
            Handler::Phpredis => "redis",
            Handler::Buildpack => "user",
        }
    }

    /// The key of session `id` in this handler.
    fn key(self, slug: &Slug, id: &str) -> String {
        match self {
            Handler::Phpredis => slug.session_key(id),
            Handler::Buildpack => slug.handler_session_key(id),
        }
    }
}

impl Setup {
    fn new(rt: &Runtime, tls: bool) -> Setup {
        Setup::with(rt, tls, &example_app(), "", "")
    }

    /// `app` built with `php_options` for the PHP buildpack's PHP, and `ini` among the
    /// dyno's PHP settings (both as the PHP buildpack's php.ini would have them).
    fn with(rt: &Runtime, tls: bool, app: &std::path::Path, php_options: &str, ini: &str) -> Setup {
        let files = tls.then(TlsFiles::create);
        let redis = match &files {
            Some(files) => Redis::start_tls(rt, files),
            None => Redis::start_in(rt),
        };
        redis.require_password(PASSWORD);
        let port = if tls { redis.tls_port } else { redis.port };
        let proxy = Proxy::start(format!("127.0.0.1:{port}").parse().unwrap(), Duration::ZERO);
        let slug = build_with_php_options(rt, &Buildpack::assemble(), app, &[], php_options);
        let extra = slug.path().join("test-ini");
        std::fs::create_dir_all(&extra).unwrap();
        let mut ini = ini.to_string();
        if let Some(files) = &files {
            // phpredis 5.3 ignores the save path's TLS options and verifies with PHP's
            // default CAs: let them include the test's own, as a real CA would be.
            let ca = extra.join("ca.pem");
            std::fs::copy(files.cert(), &ca).unwrap();
            ini.push_str("openssl.cafile = \"");
            ini.push_str(&ca.display().to_string());
            ini.push_str("\"\n");
        }
        std::fs::write(extra.join("test.ini"), ini).unwrap();
        let scheme = if tls { "rediss" } else { "redis" };
        Setup {
            url: format!(
                "{scheme}://:{}@127.0.0.1:{}",
                url_encode(PASSWORD),
                proxy.port
            ),
            redis,
            proxy,
            slug,
            _tls: files,
            scan_dir: format!(":{}", extra.display()),
        }
    }

    fn dyno(
        &self,
        rt: &Runtime,
        frontend: Frontend,
        workers: u32,
        vars: &[(&str, &str)],
    ) -> WebDyno {
        let mut all = vec![
            ("REDIS_URL", self.url.as_str()),
            ("PHP_INI_SCAN_DIR", self.scan_dir.as_str()),
        ];
        all.extend_from_slice(vars);
        WebDyno::start(rt, self.slug.path(), &all, frontend, workers)
    }

    /// A dyno with `handler` (and `vars`).
    fn dyno_with(
        &self,
        rt: &Runtime,
        handler: Handler,
        frontend: Frontend,
        workers: u32,
        vars: &[(&str, &str)],
    ) -> WebDyno {
        let mut all = handler.vars().to_vec();
        all.extend_from_slice(vars);
        let dyno = self.dyno(rt, frontend, workers, &all);
        if handler == Handler::Buildpack {
            let (status, _, body) = dyno.get("/", None);
            let answer: serde_json::Value = serde_json::from_str(body.trim())
                .unwrap_or_else(|_| panic!("{status} {body}{}", dyno.log()));
            assert_eq!(answer["save_handler"], "user", "{}", dyno.log());
        }
        dyno
    }
}

fn visits(body: &str) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(body.trim())
        .ok()?
        .get("visits")?
        .as_u64()
}

/// 40 requests at once on one session through php-fpm: none of their visits is lost,
/// the session is under the expected key, and the dyno's log has no warning and no
/// secret.
fn concurrent_requests(rt: &Runtime, handler: Handler, frontend: Frontend, tls: bool) {
    let setup = Setup::new(rt, tls);
    let dyno = setup.dyno_with(rt, handler, frontend, 4, &[]);
    let visits = dyno.concurrent_visits_through(40, handler.save_handler());
    let log = dyno.log();
    assert_eq!(visits.lost, 0, "writes were lost: {log}");
    let last = visits.last.json().unwrap();
    let id = last["session_id"].as_str().unwrap();
    assert_eq!(
        setup.redis.get(0, &handler.key(&setup.slug, id)).as_deref(),
        Some("visits|i:42;")
    );
    assert!(
        setup.redis.keys(0).iter().all(|key| !key.ends_with("lock")),
        "a lock was left behind"
    );
    assert!(!log.contains("Warning"), "{log}");
    assert_no_secret("the dyno's log", &log, &[PASSWORD]);
}

fn nginx_concurrent_requests(rt: &Runtime) {
    concurrent_requests(rt, Handler::Phpredis, Frontend::Nginx, false);
}

fn apache_concurrent_requests(rt: &Runtime) {
    concurrent_requests(rt, Handler::Phpredis, Frontend::Apache, false);
}

fn nginx_concurrent_requests_over_tls(rt: &Runtime) {
    concurrent_requests(rt, Handler::Phpredis, Frontend::Nginx, true);
}

fn apache_concurrent_requests_over_tls(rt: &Runtime) {
    concurrent_requests(rt, Handler::Phpredis, Frontend::Apache, true);
}

fn buildpack_handler_nginx_concurrent_requests(rt: &Runtime) {
    concurrent_requests(rt, Handler::Buildpack, Frontend::Nginx, false);
}

fn buildpack_handler_apache_concurrent_requests(rt: &Runtime) {
    concurrent_requests(rt, Handler::Buildpack, Frontend::Apache, false);
}

fn buildpack_handler_apache_concurrent_requests_over_tls(rt: &Runtime) {
    concurrent_requests(rt, Handler::Buildpack, Frontend::Apache, true);
}

fn buildpack_handler_nginx_concurrent_requests_over_tls(rt: &Runtime) {
    concurrent_requests(rt, Handler::Buildpack, Frontend::Nginx, true);
}

/// Requests on one session after `event`, each checked to see one visit more than the
/// last: (failed, slowest). Before it, enough requests that every worker holds a
/// connection. No response may replace the session's cookie (a logout).
fn requests_after(dyno: &WebDyno, count: u32, event: impl FnOnce()) -> (u32, Duration) {
    let (_, cookie, body) = dyno.get("/", None);
    let cookie = cookie.unwrap_or_else(|| panic!("{body}{}", dyno.log()));
    let mut last = 1;
    for _ in 0..12 {
        let (status, _, body) = dyno.get("/", Some(&cookie));
        assert_eq!((status, visits(&body)), (200, Some(last + 1)), "{body}");
        last += 1;
    }
    event();
    let (mut failed, mut slowest) = (0, Duration::ZERO);
    for _ in 0..count {
        let response = dyno.request("/", Some(&cookie));
        slowest = slowest.max(response.elapsed);
        assert_eq!(
            response.session_cookie, None,
            "a response replaced the session (a logout): {}",
            response.body
        );
        match visits(&response.body) {
            Some(seen) if response.status == 200 && seen == last + 1 => last = seen,
            _ => failed += 1,
        }
    }
    (failed, slowest)
}

/// Redis restarted under load (every connection closed): no request fails, on either
/// phpredis, over TCP and TLS.
fn redis_restart_fails_no_request(rt: &Runtime) {
    restart_fails_no_request(rt, Handler::Phpredis);
}

fn buildpack_handler_redis_restart_fails_no_request(rt: &Runtime) {
    restart_fails_no_request(rt, Handler::Buildpack);
}

fn restart_fails_no_request(rt: &Runtime, handler: Handler) {
    for tls in [false, true] {
        let setup = Setup::new(rt, tls);
        let dyno = setup.dyno_with(rt, handler, Frontend::Nginx, 4, &[]);
        let (failed, _) = requests_after(&dyno, 24, || setup.proxy.cut());
        assert_eq!(failed, 0, "tls {tls}: {}", dyno.log());
        assert_no_secret("the dyno's log", &dyno.log(), &[PASSWORD]);
    }
}

/// Redis dying silently (connections that stay open and never answer): each worker
/// fails one request, after the read timeout, and then all is well again. This is the
/// best phpredis' own handler does with either liveness setting it gets by default (on
/// phpredis 5.3 with the check off, no request would succeed again).
fn silent_redis_death_fails_one_request_per_worker(rt: &Runtime) {
    silent_redis_death(rt, Handler::Phpredis, false);
}

fn silent_redis_death_over_tls_fails_one_request_per_worker(rt: &Runtime) {
    silent_redis_death(rt, Handler::Phpredis, true);
}

/// The buildpack's handler replaces a kept connection that fails once: after a silent
/// death, no request fails; the first of each worker waits out the read timeout.
fn buildpack_handler_silent_redis_death_fails_no_request(rt: &Runtime) {
    silent_redis_death(rt, Handler::Buildpack, false);
}

fn buildpack_handler_silent_redis_death_over_tls_fails_no_request(rt: &Runtime) {
    silent_redis_death(rt, Handler::Buildpack, true);
}

fn silent_redis_death(rt: &Runtime, handler: Handler, tls: bool) {
    let setup = Setup::new(rt, tls);
    let workers = 4;
    let dyno = setup.dyno_with(
        rt,
        handler,
        Frontend::Nginx,
        workers,
        &[("PHP_REDIS_SESSIONS_READ_TIMEOUT", "1")],
    );
    let (failed, slowest) = requests_after(&dyno, 24, || setup.proxy.silence());
    let expected = match handler {
        Handler::Phpredis => 1..=workers,
        Handler::Buildpack => 0..=0,
    };
    assert!(
        expected.contains(&failed),
        "tls {tls}: {failed} failed: {}",
        dyno.log()
    );
    assert!(slowest < Duration::from_secs(3), "tls {tls}: {slowest:?}");
    let (failed_later, _) = requests_after(&dyno, 12, || {});
    assert_eq!(failed_later, 0, "tls {tls}: {}", dyno.log());
    assert_no_secret("the dyno's log", &dyno.log(), &[PASSWORD]);
}

/// Redis down, refusing (nothing listens) or unreachable (accepted, never answered: a
/// hung Redis): every request answers, none hangs (refused: at once; unreachable:
/// phpredis waits out the timeout at each of its steps, up to four of them, here 1 s
/// each); once Redis is back, the sessions carry on where they were, with their data;
/// and the password reaches the log only where the README says phpredis' handler puts
/// it.
fn outage_answers_in_time_and_passes(rt: &Runtime) {
    outage_answers_in_time(rt, Handler::Phpredis, false);
}

fn outage_over_tls_answers_in_time_and_passes(rt: &Runtime) {
    outage_answers_in_time(rt, Handler::Phpredis, true);
}

/// The same with the buildpack's handler, whose one step (a lock-and-read that fails
/// ends the request's session) tries twice when connections are kept (the first may be
/// one that died since the last request): at most two timeouts, 1 s each here. Its
/// warnings never quote a password: it is in no ini setting PHP could quote.
fn buildpack_handler_outage_answers_in_time_and_passes(rt: &Runtime) {
    outage_answers_in_time(rt, Handler::Buildpack, false);
}

fn buildpack_handler_outage_over_tls_answers_in_time_and_passes(rt: &Runtime) {
    outage_answers_in_time(rt, Handler::Buildpack, true);
}

fn outage_answers_in_time(rt: &Runtime, handler: Handler, tls: bool) {
    for outage in [Outage::Refused, Outage::Unreachable] {
        let setup = Setup::new(rt, tls);
        let dyno = setup.dyno_with(
            rt,
            handler,
            Frontend::Nginx,
            2,
            &[
                ("PHP_REDIS_SESSIONS_TIMEOUT", "1"),
                ("PHP_REDIS_SESSIONS_READ_TIMEOUT", "1"),
            ],
        );
        let (_, cookie, _) = dyno.get("/", None);
        let cookie = cookie.unwrap();
        let (_, _, body) = dyno.get("/", Some(&cookie));
        assert_eq!(visits(&body), Some(2));
        setup.proxy.outage(outage);
        for _ in 0..4 {
            let response = dyno.request("/", Some(&cookie));
            let limit = match (outage, handler) {
                (Outage::Refused, _) => Duration::from_secs(1),
                (Outage::Unreachable, Handler::Phpredis) => Duration::from_secs(5),
                (Outage::Unreachable, Handler::Buildpack) => Duration::from_millis(2500),
            };
            assert!(
                response.elapsed < limit,
                "{outage:?}, tls {tls}: {:?}\n{}",
                response.elapsed,
                dyno.log()
            );
        }
        setup.proxy.heal();
        let mut resumed = None;
        for _ in 0..8 {
            let (status, _, body) = dyno.get("/", Some(&cookie));
            if status == 200 && visits(&body).is_some_and(|v| v >= 3) {
                resumed = visits(&body);
                break;
            }
        }
        assert_eq!(resumed, Some(3), "{outage:?}, tls {tls}: {}", dyno.log());
        let log = dyno.log();
        if handler == Handler::Buildpack {
            assert!(
                log.contains("php-redis-sessions: Redis could not be reached"),
                "{log}"
            );
        }
        // PHP's warning that quotes `session.save_path`, where phpredis' handler reads the
        // password (the README's "When Redis fails" table): once per failed connect,
        // through php-fpm and again through nginx's FastCGI line. A hung Redis fails the
        // connect only over TLS (in the handshake); over TCP it fails a read, which PHP
        // does not quote. The buildpack's handler has no password there to quote. Nothing
        // else may show one.
        let (quotes, rest): (Vec<&str>, Vec<&str>) = log
            .lines()
            .partition(|line| line.contains("session data: redis (path: "));
        let rest = rest.join("\n");
        let expected = match (handler, outage) {
            (Handler::Phpredis, Outage::Refused) => 4..=usize::MAX,
            (Handler::Phpredis, Outage::Unreachable) if tls => 1..=usize::MAX,
            (Handler::Buildpack, _) | (Handler::Phpredis, Outage::Unreachable) => 0..=0,
        };
        assert!(
            expected.contains(&quotes.len()),
            "{outage:?}, tls {tls}: {} warnings quote the save path; the rest of the log:\n{rest}",
            quotes.len()
        );
        assert_no_secret("the dyno's log", &rest, &[PASSWORD]);
    }
}

/// What `/lock.php` answered: (`session_start()`, the visits it found, `session_write_close()`).
fn lock_page(body: &str) -> (bool, u64, bool) {
    let answer: serde_json::Value =
        serde_json::from_str(body.trim()).unwrap_or_else(|_| panic!("lock.php answered {body}"));
    (
        answer["started"].as_bool().unwrap(),
        answer["found"].as_u64().unwrap(),
        answer["closed"].as_bool().unwrap(),
    )
}

/// The README's "Password logged?" column for a failed lock: phpredis' handler's failure
/// makes PHP quote `session.save_path`, password included (at least once), and nothing
/// else shows it; the buildpack's handler says `warning` and shows no password anywhere.
fn assert_password_only_where_the_table_says(log: &str, handler: Handler, warning: &str) {
    match handler {
        Handler::Phpredis => {
            let (quotes, rest): (Vec<&str>, Vec<&str>) = log.lines().partition(|line| {
                line.contains("(path: ") || line.contains("session.save_path is correct (")
            });
            let rest = rest.join("\n");
            assert!(
                !quotes.is_empty(),
                "no warning quotes the save path:\n{rest}"
            );
            assert_no_secret("the dyno's log", &rest, &[PASSWORD]);
        }
        Handler::Buildpack => {
            assert!(
                log.contains(&format!("php-redis-sessions: {warning}")),
                "{log}"
            );
            assert_no_secret("the dyno's log", log, &[PASSWORD]);
        }
    }
}

/// A TCP setup, a dyno with `handler` and `var` (2 workers behind nginx), and the cookie of
/// a session it has visited once.
fn one_session(rt: &Runtime, handler: Handler, var: (&str, &str)) -> (Setup, WebDyno, String) {
    let setup = Setup::new(rt, false);
    let dyno = setup.dyno_with(rt, handler, Frontend::Nginx, 2, &[var]);
    let (_, cookie, _) = dyno.get("/", None);
    let cookie = cookie.unwrap();
    (setup, dyno, cookie)
}

/// What Redis holds for the session of `cookie`.
fn stored_session(setup: &Setup, handler: Handler, cookie: &str) -> Option<String> {
    let id = cookie.trim_start_matches("PHPSESSID=");
    setup.redis.get(0, &handler.key(&setup.slug, id))
}

/// The README's "lock not taken within the wait" row: while one request holds the
/// session, another one on it waits (here 0.2 s: 20 tries 10 ms apart) and then: with
/// phpredis 6, `session_start()` fails; with phpredis 5.3, it succeeds with the data and
/// its write is refused at the end, silently; with the buildpack's handler,
/// `session_start()` fails with one warning that holds no password. Either way only the
/// holder's write lands.
fn lock_not_taken(rt: &Runtime, handler: Handler) {
    let (setup, dyno, cookie) = one_session(rt, handler, ("PHP_REDIS_SESSIONS_LOCK_RETRIES", "20"));
    let (holder, waiter) = std::thread::scope(|scope| {
        let holder = scope.spawn(|| dyno.request("/lock.php?hold_ms=1500", Some(&cookie)));
        std::thread::sleep(Duration::from_millis(300));
        let waiter = dyno.request("/lock.php", Some(&cookie));
        (holder.join().unwrap(), waiter)
    });
    assert_eq!(lock_page(&holder.body), (true, 1, true), "{}", dyno.log());
    let expected = match handler {
        Handler::Phpredis if !rt.is_trixie() => (true, 1, true),
        _ => (false, 0, false),
    };
    assert_eq!(lock_page(&waiter.body), expected, "{}", waiter.body);
    let stored = stored_session(&setup, handler, &cookie);
    assert_eq!(
        stored.as_deref(),
        Some("visits|i:2;"),
        "only the holder's write"
    );
    assert_password_only_where_the_table_says(
        &dyno.log(),
        handler,
        "the session lock could not be taken in time",
    );
}

/// The README's "the lock expired before the write" row: a request that holds its
/// session past `lock_expire` (here 1 s) has its write refused: phpredis'
/// `session_write_close()` still returns true; the buildpack's handler drops it with a
/// warning that holds no password.
fn lock_expired(rt: &Runtime, handler: Handler) {
    let (setup, dyno, cookie) = one_session(rt, handler, ("PHP_REDIS_SESSIONS_LOCK_EXPIRE", "1"));
    let late = dyno.request("/lock.php?hold_ms=2000", Some(&cookie));
    assert_eq!(lock_page(&late.body), (true, 1, true), "{}", dyno.log());
    let stored = stored_session(&setup, handler, &cookie);
    assert_eq!(
        stored.as_deref(),
        Some("visits|i:1;"),
        "the late write landed"
    );
    assert_password_only_where_the_table_says(
        &dyno.log(),
        handler,
        "the session lock expired before the write",
    );
}

fn lock_not_taken_in_time(rt: &Runtime) {
    lock_not_taken(rt, Handler::Phpredis);
}

fn buildpack_handler_lock_not_taken_in_time(rt: &Runtime) {
    lock_not_taken(rt, Handler::Buildpack);
}

fn lock_expired_before_the_write(rt: &Runtime) {
    lock_expired(rt, Handler::Phpredis);
}

fn buildpack_handler_lock_expired_before_the_write(rt: &Runtime) {
    lock_expired(rt, Handler::Buildpack);
}

/// An app whose own code `pconnect`s to the same Redis (with the same timeout as the
/// sessions, and the host written as phpredis' save path writes it, `tcp://HOST`, as
/// every TLS app must) and switches to database 3 does not move the sessions there: the
/// session handler's persistent connections have an id of their own, and the ini pools
/// connections by that id (`redis.pconnect.pool_pattern`). (Without the pool pattern,
/// every session of these requests landed in database 3.)
fn app_pconnect_does_not_move_sessions(rt: &Runtime) {
    pconnect_does_not_move_sessions(rt, Handler::Phpredis, false);
}

fn app_pconnect_over_tls_does_not_move_sessions(rt: &Runtime) {
    pconnect_does_not_move_sessions(rt, Handler::Phpredis, true);
}

fn buildpack_handler_app_pconnect_does_not_move_sessions(rt: &Runtime) {
    pconnect_does_not_move_sessions(rt, Handler::Buildpack, false);
}

fn buildpack_handler_app_pconnect_over_tls_does_not_move_sessions(rt: &Runtime) {
    pconnect_does_not_move_sessions(rt, Handler::Buildpack, true);
}

fn pconnect_does_not_move_sessions(rt: &Runtime, handler: Handler, tls: bool) {
    let setup = Setup::new(rt, tls);
    let port = setup.proxy.port.to_string();
    // Over TLS the app writes `tls://HOST` and verifies with PHP's CAs (the test's own,
    // through `openssl.cafile`), as an app must for a TLS Redis.
    let host = if tls {
        "tls://127.0.0.1"
    } else {
        "tcp://127.0.0.1"
    };
    let dyno = setup.dyno_with(
        rt,
        handler,
        Frontend::Nginx,
        1,
        &[
            ("APP_REDIS_HOST", host),
            ("APP_REDIS_PORT", &port),
            ("APP_REDIS_PASSWORD", PASSWORD),
            ("APP_REDIS_TIMEOUT", "5"),
        ],
    );
    for _ in 0..8 {
        let (status, _, body) = dyno.get("/app_pconnect.php", None);
        assert_eq!((status, body.trim()), (200, "ok"), "{}", dyno.log());
        let (status, _, body) = dyno.get("/", None);
        assert_eq!(status, 200, "{body}");
    }
    let sessions = |db| {
        setup
            .redis
            .keys(db)
            .iter()
            .filter(|key| key.starts_with("PHPREDIS_SESSION:"))
            .count()
    };
    let extra = usize::from(handler == Handler::Buildpack); // dyno_with's first visit
    assert_eq!((sessions(0), sessions(3)), (8 + extra, 0), "tls {tls}");
    assert_eq!(setup.redis.keys(3), ["app-cache"]);
    assert_no_secret("the dyno's log", &dyno.log(), &[PASSWORD]);
}

/// Credentials rotated: Redis takes a new password, the config var changes and the dyno
/// restarts (as Heroku does): the sessions carry on.
fn credential_rotation_after_restart(rt: &Runtime) {
    rotation_after_restart(rt, Handler::Phpredis, false);
}

fn credential_rotation_over_tls_after_restart(rt: &Runtime) {
    rotation_after_restart(rt, Handler::Phpredis, true);
}

fn buildpack_handler_credential_rotation_after_restart(rt: &Runtime) {
    rotation_after_restart(rt, Handler::Buildpack, false);
}

fn buildpack_handler_credential_rotation_over_tls_after_restart(rt: &Runtime) {
    rotation_after_restart(rt, Handler::Buildpack, true);
}

fn rotation_after_restart(rt: &Runtime, handler: Handler, tls: bool) {
    let setup = Setup::new(rt, tls);
    let dyno = setup.dyno_with(rt, handler, Frontend::Nginx, 2, &[]);
    let (_, cookie, _) = dyno.get("/", None);
    let cookie = cookie.unwrap();
    drop(dyno);
    let rotated = format!("{PASSWORD}-rotated");
    setup.redis.require_password(&rotated);
    let scheme = if tls { "rediss" } else { "redis" };
    let url = format!(
        "{scheme}://:{}@127.0.0.1:{}",
        url_encode(&rotated),
        setup.proxy.port
    );
    let mut vars = vec![
        ("REDIS_URL", url.as_str()),
        ("PHP_INI_SCAN_DIR", &setup.scan_dir),
    ];
    vars.extend_from_slice(handler.vars());
    let dyno = WebDyno::start(rt, setup.slug.path(), &vars, Frontend::Nginx, 2);
    let (status, _, body) = dyno.get("/", Some(&cookie));
    assert_eq!(
        (status, visits(&body)),
        (200, Some(2)),
        "tls {tls}: {}",
        dyno.log()
    );
    assert_no_secret("the dyno's log", &dyno.log(), &[PASSWORD, &rotated]);
}

/// The doctor, run in a one-off dyno of the same app with the same config vars, names the
/// handler and the key prefix that php-fpm's requests then use: what it says is what the
/// web dyno does.
fn doctor_names_what_php_fpm_serves(rt: &Runtime) {
    for handler in [Handler::Phpredis, Handler::Buildpack] {
        let setup = Setup::new(rt, false);
        let dyno = setup.dyno_with(rt, handler, Frontend::Nginx, 2, &[]);
        let (status, _, body) = dyno.get("/", None);
        assert_eq!(status, 200, "{body}");
        let answer: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
        assert_eq!(answer["save_handler"], handler.save_handler(), "{body}");
        let id = answer["session_id"].as_str().unwrap();
        let key = handler.key(&setup.slug, id);
        assert_eq!(setup.redis.get(0, &key).as_deref(), Some("visits|i:1;"));

        let mut vars = vec![
            ("REDIS_URL", setup.url.as_str()),
            ("PHP_INI_SCAN_DIR", setup.scan_dir.as_str()),
        ];
        vars.extend_from_slice(handler.vars());
        let ran = dyno_run(rt, setup.slug.path(), &vars, "php-redis-sessions doctor");
        assert_eq!(ran.code, Some(0), "{}", ran.all());
        let named = match handler {
            Handler::Phpredis => "save_handler redis",
            Handler::Buildpack => "the buildpack's session handler",
        };
        let line = |label: &str| {
            ran.stdout
                .lines()
                .find_map(|line| line.trim_start().strip_prefix(label))
                .map_or_else(|| panic!("no {label} line: {}", ran.stdout), str::trim)
                .to_string()
        };
        assert_eq!(line("Sessions"), format!("Redis, one server ({named})"));
        let prefix = line("Key prefix");
        assert!(key.starts_with(&prefix), "{key} / {prefix}");
        assert_no_secret("the doctor's output", &ran.all(), &[PASSWORD]);
        assert_no_secret("the dyno's log", &dyno.log(), &[PASSWORD]);
    }
}

/// Round trips to Redis per request (a TCP connect counts as one), over 20 requests
/// on one session: (a request that writes the session, one that only reads it).
fn round_trips(setup: &Setup, dyno: &WebDyno) -> (f64, f64) {
    let (_, cookie, _) = dyno.get("/", None);
    let cookie = cookie.unwrap();
    let mut measured = vec![];
    for path in ["/", "/read.php"] {
        dyno.get(path, Some(&cookie));
        let before = setup.proxy.round_trips() + setup.proxy.accepted();
        for _ in 0..20 {
            let (status, _, body) = dyno.get(path, Some(&cookie));
            assert_eq!(status, 200, "{body}");
        }
        let after = setup.proxy.round_trips() + setup.proxy.accepted();
        measured.push(f64::from(u32::try_from(after - before).unwrap()) / 20.0);
    }
    (measured[0], measured[1])
}

/// The round trips of a locked request with the defaults, counted at the proxy:
/// `AUTH`+`ECHO` (the liveness check of a kept connection, one round trip), then `EXISTS`
/// (strict mode), `SET NX` (lock), `GET`, `GET` (lock check), `SETEX`, `EVALSHA`
/// (unlock); phpredis 6 adds one more `AUTH` after the check (upstream issue 2536). A
/// request that only reads the session does `EXPIRE` instead of `GET SETEX`. Strict mode
/// off saves the `EXISTS`.
fn round_trips_per_request(rt: &Runtime) {
    let reauth = if rt.is_trixie() { 1.0 } else { 0.0 };
    let setup = Setup::new(rt, false);
    let dyno = setup.dyno(rt, Frontend::Nginx, 1, &[]);
    assert_eq!(round_trips(&setup, &dyno), (7.0 + reauth, 6.0 + reauth));
    drop(dyno);
    let dyno = setup.dyno(
        rt,
        Frontend::Nginx,
        1,
        &[("PHP_REDIS_SESSIONS_STRICT_MODE", "0")],
    );
    assert_eq!(round_trips(&setup, &dyno), (6.0 + reauth, 5.0 + reauth));
}

/// The buildpack's handler: two round trips for any request, strict mode or not (the
/// login pipelined with a script that checks the id, locks and reads, then one that
/// checks the lock, writes or refreshes the expiry, and unlocks).
fn buildpack_handler_round_trips_per_request(rt: &Runtime) {
    let setup = Setup::new(rt, false);
    for strict in ["1", "0"] {
        let dyno = setup.dyno_with(
            rt,
            Handler::Buildpack,
            Frontend::Nginx,
            1,
            &[("PHP_REDIS_SESSIONS_STRICT_MODE", strict)],
        );
        assert_eq!(round_trips(&setup, &dyno), (2.0, 2.0), "strict {strict}");
    }
}

/// The app's own `auto_prepend_file`, set in PHP's ini (here `-d` for the build's PHP and
/// an ini file for the dyno's, as the PHP buildpack's php.ini would set both): the build
/// records it, and the buildpack's handler, whose ini takes that setting's place, runs it
/// after registering itself. phpredis' handler leaves the setting alone.
fn the_apps_prepend_file_still_runs(rt: &Runtime) {
    let setup = Setup::with(
        rt,
        false,
        &example_app(),
        "-d auto_prepend_file=app_prepend.php",
        "auto_prepend_file = \"app_prepend.php\"\n",
    );
    let recorded = std::fs::read_to_string(
        setup
            .slug
            .path()
            .join(".php-redis-sessions/app-prepend-file"),
    );
    assert_eq!(recorded.unwrap(), "app_prepend.php\n");
    for handler in [Handler::Phpredis, Handler::Buildpack] {
        let dyno = setup.dyno_with(rt, handler, Frontend::Nginx, 1, &[]);
        let (status, _, body) = dyno.get("/", None);
        assert_eq!(status, 200, "{body}");
        let answer: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
        assert_eq!(answer["prepended"], true, "{handler:?}: {body}");
        assert_eq!(answer["save_handler"], handler.save_handler(), "{body}");
    }
}

/// A `.user.ini` that sets `auto_prepend_file` would take the buildpack's handler out on
/// every request of its directory: the build finds it, and boot keeps phpredis' handler
/// and says why, once.
fn a_user_ini_prepend_keeps_phpredis_handler(rt: &Runtime) {
    let app = tempfile::tempdir().unwrap();
    copy_dir(&example_app(), app.path());
    std::fs::write(
        app.path().join("public/.user.ini"),
        "auto_prepend_file = /app/public/boot.php\n",
    )
    .unwrap();
    let setup = Setup::with(rt, false, app.path(), "", "");
    let dyno = setup.dyno(rt, Frontend::Nginx, 1, Handler::Buildpack.vars());
    let (status, _, body) = dyno.get("/", None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""save_handler":"redis""#), "{body}");
    let log = dyno.log();
    assert_eq!(
        log.matches("but the app's public/.user.ini sets auto_prepend_file")
            .count(),
        1,
        "{log}"
    );
}

in_both_runtimes!(
    the_apps_prepend_file_still_runs,
    a_user_ini_prepend_keeps_phpredis_handler,
    nginx_concurrent_requests,
    apache_concurrent_requests,
    nginx_concurrent_requests_over_tls,
    apache_concurrent_requests_over_tls,
    redis_restart_fails_no_request,
    silent_redis_death_fails_one_request_per_worker,
    silent_redis_death_over_tls_fails_one_request_per_worker,
    outage_answers_in_time_and_passes,
    outage_over_tls_answers_in_time_and_passes,
    app_pconnect_does_not_move_sessions,
    app_pconnect_over_tls_does_not_move_sessions,
    credential_rotation_after_restart,
    credential_rotation_over_tls_after_restart,
    round_trips_per_request,
    doctor_names_what_php_fpm_serves,
    lock_not_taken_in_time,
    buildpack_handler_lock_not_taken_in_time,
    lock_expired_before_the_write,
    buildpack_handler_lock_expired_before_the_write,
    buildpack_handler_nginx_concurrent_requests,
    buildpack_handler_apache_concurrent_requests,
    buildpack_handler_apache_concurrent_requests_over_tls,
    buildpack_handler_nginx_concurrent_requests_over_tls,
    buildpack_handler_redis_restart_fails_no_request,
    buildpack_handler_silent_redis_death_fails_no_request,
    buildpack_handler_silent_redis_death_over_tls_fails_no_request,
    buildpack_handler_outage_answers_in_time_and_passes,
    buildpack_handler_outage_over_tls_answers_in_time_and_passes,
    buildpack_handler_app_pconnect_does_not_move_sessions,
    buildpack_handler_app_pconnect_over_tls_does_not_move_sessions,
    buildpack_handler_credential_rotation_after_restart,
    buildpack_handler_credential_rotation_over_tls_after_restart,
    buildpack_handler_round_trips_per_request,
);
