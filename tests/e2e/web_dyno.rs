//! Production's shape: a web dyno's php-fpm behind nginx or Apache httpd, booted by the
//! buildpack's `.profile.d` script, with Redis a network hop away (a proxy that can cut
//! or silence its connections). What a user of a Heroku web dyno would check: sessions
//! in Redis under the expected key, no write lost under concurrency, how many requests
//! fail when Redis restarts or dies, that an outage answers fast and passes, that the
//! app's own phpredis connections cannot move the sessions, and that new credentials
//! after a restart just work.

use crate::support::*;

fn example_app() -> std::path::PathBuf {
    repo_dir().join("example")
}

/// 40 requests at once on one session through php-fpm: none of their visits is lost.
fn concurrent_requests_through_php_fpm(rt: &Runtime, frontend: Frontend) {
    let redis = Redis::start_in(rt);
    let slug = build(&Buildpack::assemble(), &example_app(), &[]);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let dyno = WebDyno::start(rt, slug.path(), &[("REDIS_URL", &url)], frontend, 4);
    let last = dyno.concurrent_visits(40);
    assert_eq!(last["save_handler"], "redis", "{}", dyno.log());
    assert_eq!(last["visits"], 42, "writes were lost: {}", dyno.log());
    let id = last["session_id"].as_str().unwrap();
    assert_eq!(
        redis.get(0, &slug.session_key(id)).as_deref(),
        Some("visits|i:42;")
    );
    assert_eq!(dyno.log().matches("WARNING").count(), 0, "{}", dyno.log());
}

fn nginx_concurrent_requests(rt: &Runtime) {
    concurrent_requests_through_php_fpm(rt, Frontend::Nginx);
}

fn apache_concurrent_requests(rt: &Runtime) {
    concurrent_requests_through_php_fpm(rt, Frontend::Apache);
}

in_both_runtimes!(nginx_concurrent_requests, apache_concurrent_requests);
