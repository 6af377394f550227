//! Beyond one Redis: sessions sharded over several independent servers (the `redis`
//! handler's server list, with locking) and a real Redis Cluster of three masters (the
//! `rediscluster` handler), each through a booted dyno and real PHP; and both with the
//! buildpack's own handler, which locks on either under the app's key prefix.

use crate::support::*;
use std::ffi::OsStr;
use std::path::Path;
use std::time::{Duration, Instant};

const COUNT: usize = 90;

/// Adds one visit to each of `COUNT` sessions through PHP; returns the visit counts.
/// The first visit starts new sessions under ids the server picks; later ones send them
/// back as cookies.
fn visit_many(
    rt: &Runtime,
    slug: &Path,
    vars: &[(&str, &str)],
    prefix: &str,
    new: bool,
) -> (Vec<Option<u64>>, Ran) {
    let script = repo_dir().join("tests/php/many_sessions.php");
    let count = COUNT.to_string();
    let mut all = vars.to_vec();
    all.extend([
        ("SESSION_PREFIX", prefix),
        ("SESSION_COUNT", count.as_str()),
    ]);
    if new {
        all.push(("NEW_SESSIONS", "1"));
    }
    let ran = dyno_run(rt, slug, &all, &format!("php {}", script.display()));
    assert_eq!(ran.code, Some(0), "php failed: {}", ran.all());
    let value: serde_json::Value =
        serde_json::from_str(ran.stdout.trim()).expect("no report from PHP");
    let visits = value["visits"]
        .as_array()
        .unwrap()
        .iter()
        .map(serde_json::Value::as_u64)
        .collect();
    (visits, ran)
}

/// The keys of the sessions a `visit_many` with `prefix` wrote on this server, checking
/// they carry the handler's key prefix.
fn session_keys(redis: &Redis, key_prefix: &str, prefix: &str) -> usize {
    let keys: Vec<String> = redis
        .keys(0)
        .into_iter()
        .filter(|key| key.ends_with(&format!("-{prefix}")))
        .collect();
    assert!(
        keys.iter().all(|key| key.starts_with(key_prefix)),
        "{keys:?}"
    );
    keys.len()
}

/// Three independent servers in one variable: every session lives on one of them, all
/// three get some, and a second visit finds each session again.
fn sharding_spreads_sessions_over_all_servers(rt: &Runtime) {
    let password = format!("{SECRET_MARKER}, shards & weights");
    let servers: Vec<Redis> = (0..3).map(|_| Redis::start_in(rt)).collect();
    for server in &servers {
        server.require_password(&password);
    }
    let url = servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "redis://:{}@127.0.0.1:{}?weight={}",
                url_encode(&password),
                s.port,
                i + 1
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &repo_dir().join("example"), &[]);
    let vars = [("REDIS_URL", url.as_str())];

    let (first, ran) = visit_many(rt, slug.path(), &vars, "shard", true);
    // Boot says, once, that phpredis' handler does not lock shards.
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("sessions are sharded over several servers"),
        "{}",
        ran.stderr
    );
    assert!(first.iter().all(|v| *v == Some(1)), "{first:?}");
    let (second, _) = visit_many(rt, slug.path(), &vars, "shard", false);
    assert!(
        second.iter().all(|v| *v == Some(2)),
        "a session was not found again: {second:?}"
    );

    let key_prefix = format!(
        "PHPREDIS_SESSION:{}:",
        namespace(&slug.path().join(".php-redis-sessions"))
    );
    let per_server: Vec<usize> = servers
        .iter()
        .map(|s| session_keys(s, &key_prefix, "shard"))
        .collect();
    assert_eq!(per_server.iter().sum::<usize>(), COUNT, "{per_server:?}");
    assert!(
        per_server.iter().all(|n| *n > 0),
        "a server got no session: {per_server:?}"
    );
    assert_no_secret("dyno output", &ran.all(), &[&password]);
}

/// phpredis' handler does not lock shards (it could only under an empty key prefix):
/// concurrent requests on one session lose writes, as boot said; the buildpack's handler,
/// which locks them, loses none (`buildpack_handler_shards_keep_the_prefix_and_lock`).
fn phpredis_handler_does_not_lock_shards(rt: &Runtime) {
    let servers: Vec<Redis> = (0..3).map(|_| Redis::start_in(rt)).collect();
    let url = servers
        .iter()
        .map(|s| format!("redis://127.0.0.1:{}", s.port))
        .collect::<Vec<_>>()
        .join(",");
    let buildpack = Buildpack::assemble();
    let slug = build(&buildpack, &repo_dir().join("example"), &[]);
    let server = WebServer::start(rt, slug.path(), &[("REDIS_URL", &url)], "public", 4);
    let visits = server.concurrent_visits(24);
    assert!(visits.lost > 0, "no write lost: were the shards locked?");
    let holders = servers.iter().filter(|s| !s.keys(0).is_empty()).count();
    assert_eq!(holders, 1, "one session lives on exactly one server");
}

/// Three masters on loopback, slots shared out by `redis-cli --cluster create`.
struct Cluster {
    nodes: Vec<Redis>,
}

impl Cluster {
    fn start(rt: &Runtime, tls: Option<&TlsFiles>, password: &str) -> Cluster {
        let nodes: Vec<Redis> = (0..3)
            .map(|_| {
                Redis::start_with(RedisOptions {
                    runtime: rt.clone(),
                    bind: "127.0.0.1",
                    tls,
                    cluster: true,
                })
            })
            .collect();
        for node in &nodes {
            node.require_password(password);
        }
        let mut args: Vec<String> = vec!["--cluster".into(), "create".into()];
        args.extend(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)));
        args.extend([
            "--cluster-replicas".into(),
            "0".into(),
            "--cluster-yes".into(),
        ]);
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let cwd = tempfile::tempdir().unwrap();
        let out = rt
            .command(
                "redis-cli",
                &args,
                &[("REDISCLI_AUTH", OsStr::new(password))],
                &[cwd.path()],
                cwd.path(),
            )
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        for node in &nodes {
            loop {
                let info = match node.connect().command(&["CLUSTER", "INFO"]) {
                    Reply::Bulk(info) => info,
                    other => panic!("CLUSTER INFO: {other:?}"),
                };
                if info.contains("cluster_state:ok") {
                    break;
                }
                assert!(Instant::now() < deadline, "the cluster did not come up");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Cluster { nodes }
    }
}

/// Sessions through a cluster: written, found again, spread over the masters under
/// `key_prefix`; then the doctor, as a user would run it, finds all well.
fn assert_cluster_sessions(
    rt: &Runtime,
    cluster: &Cluster,
    url: &str,
    password: &str,
    prefix: &str,
    key_prefix: &str,
) {
    let buildpack = Buildpack::assemble();
    let slug = build_with_php(rt, &buildpack, &repo_dir().join("example"), &[]);
    let mut vars = vec![("REDIS_URL", url), ("PHP_REDIS_SESSIONS_CLUSTER", "1")];
    // phpredis' own prefix gets the app's namespace; a prefix the user chose is theirs.
    let namespaced = format!(
        "{key_prefix}{}:",
        namespace(&slug.path().join(".php-redis-sessions"))
    );
    let key_prefix = if key_prefix == "PHPREDIS_CLUSTER_SESSION:" {
        namespaced.as_str()
    } else {
        vars.push(("PHP_REDIS_SESSIONS_PREFIX", key_prefix));
        key_prefix
    };
    let (first, ran) = visit_many(rt, slug.path(), &vars, prefix, true);
    assert!(
        first.iter().all(|v| *v == Some(1)),
        "{first:?} {}",
        ran.stderr
    );
    let (second, _) = visit_many(rt, slug.path(), &vars, prefix, false);
    assert!(
        second.iter().all(|v| *v == Some(2)),
        "a session was not found again: {second:?}"
    );
    // Boot says once that a cluster cannot lock sessions and, on phpredis 5, that it
    // does not check session ids; nothing else.
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        if rt.is_trixie() { 1 } else { 2 },
        "{}",
        ran.stderr
    );
    assert!(lines[0].starts_with(
        "php-redis-sessions: sessions are in a Redis Cluster, where phpredis cannot lock them"
    ));
    if !rt.is_trixie() {
        assert!(lines[1].starts_with(
            "php-redis-sessions: phpredis 5's cluster session handler does not check session ids"
        ));
    }
    assert_no_secret("dyno output", &ran.all(), &[password]);

    let per_node: Vec<usize> = cluster
        .nodes
        .iter()
        .map(|n| session_keys(n, key_prefix, prefix))
        .collect();
    assert_eq!(per_node.iter().sum::<usize>(), COUNT, "{per_node:?}");
    assert!(
        per_node.iter().all(|n| *n > 0),
        "the sessions did not spread over the slots: {per_node:?}"
    );

    let doctor = dyno_run(rt, slug.path(), &vars, "php-redis-sessions doctor");
    assert_eq!(
        doctor.code,
        Some(0),
        "the doctor failed on a working cluster: {}",
        doctor.stdout
    );
    assert!(
        doctor.stdout.contains("Locking       unavailable"),
        "{}",
        doctor.stdout
    );
    assert!(
        doctor
            .stdout
            .contains(&format!("Key prefix    {key_prefix}")),
        "{}",
        doctor.stdout
    );
    assert_no_secret("doctor output", &doctor.all(), &[password]);
}

/// One seed is enough: phpredis learns the other masters from it.
fn cluster_sessions_spread_over_the_slots(rt: &Runtime) {
    let password = format!("{SECRET_MARKER}-cluster,pw");
    let cluster = Cluster::start(rt, None, &password);
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        cluster.nodes[0].port
    );
    assert_cluster_sessions(
        rt,
        &cluster,
        &url,
        &password,
        "cluster",
        "PHPREDIS_CLUSTER_SESSION:",
    );
}

/// Every master as a seed, as a comma-separated list.
fn cluster_with_every_master_as_a_seed(rt: &Runtime) {
    let password = format!("{SECRET_MARKER}-seeds");
    let cluster = Cluster::start(rt, None, &password);
    let url = cluster
        .nodes
        .iter()
        .map(|n| {
            format!(
                "redis://default:{}@127.0.0.1:{}",
                url_encode(&password),
                n.port
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    assert_cluster_sessions(rt, &cluster, &url, &password, "seeds", "myapp:sessions:");
}

const BUILDPACK_HANDLER: (&str, &str) = ("PHP_REDIS_SESSIONS_HANDLER", "buildpack");

/// The keys `prefix{id}` of the buildpack's handler for `visit_many`'s sessions with
/// `prefix`, in database `db`.
fn handler_keys(redis: &Redis, db: u32, key_prefix: &str, prefix: &str) -> usize {
    let keys = redis.keys(db);
    let ours: Vec<&String> = keys
        .iter()
        .filter(|key| key.ends_with(&format!("-{prefix}}}")))
        .collect();
    assert!(
        ours.iter()
            .all(|key| key.starts_with(&format!("{key_prefix}{{"))),
        "{ours:?}"
    );
    assert!(
        keys.iter().all(|key| !key.ends_with(":lock")),
        "a lock was left behind: {keys:?}"
    );
    ours.len()
}

/// What the doctor says about a working setup of the buildpack's handler.
fn assert_doctor_sees_the_handler(
    rt: &Runtime,
    slug: &Path,
    vars: &[(&str, &str)],
    key_prefix: &str,
) {
    let doctor = dyno_run(rt, slug, vars, "php-redis-sessions doctor");
    assert_eq!(doctor.code, Some(0), "{}", doctor.all());
    for expected in [
        "(the buildpack's session handler)".to_string(),
        "Locking       on".to_string(),
        format!("Key prefix    {key_prefix}"),
    ] {
        assert!(
            doctor.stdout.contains(&expected),
            "{expected}: {}",
            doctor.stdout
        );
    }
}

/// The buildpack's handler over three shards, each logging in as an ACL user into
/// database 2: every session on one shard, all shards used, the app's namespaced prefix
/// kept, locks taken and released (40 concurrent requests through php-fpm lose nothing),
/// boot silent (phpredis' handler would drop the prefix to lock).
fn buildpack_handler_shards_keep_the_prefix_and_lock(rt: &Runtime) {
    let password = format!("{SECRET_MARKER}-acl shards");
    let servers: Vec<Redis> = (0..3).map(|_| Redis::start_in(rt)).collect();
    for server in &servers {
        server.add_user("app", &password);
    }
    let url = servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "redis://app:{}@127.0.0.1:{}/2?weight={}",
                url_encode(&password),
                s.port,
                i + 1
            )
        })
        .collect::<Vec<_>>()
        .join(",");
    let slug = build(&Buildpack::assemble(), &repo_dir().join("example"), &[]);
    let key_prefix = format!(
        "PHPREDIS_SESSION:{}:",
        namespace(&slug.path().join(".php-redis-sessions"))
    );
    let vars = [("REDIS_URL", url.as_str()), BUILDPACK_HANDLER];
    let (first, ran) = visit_many(rt, slug.path(), &vars, "bpshard", true);
    assert_eq!(ran.stderr, "");
    assert!(first.iter().all(|v| *v == Some(1)), "{first:?}");
    let (second, _) = visit_many(rt, slug.path(), &vars, "bpshard", false);
    assert!(second.iter().all(|v| *v == Some(2)), "{second:?}");
    let per_server: Vec<usize> = servers
        .iter()
        .map(|s| handler_keys(s, 2, &key_prefix, "bpshard"))
        .collect();
    assert_eq!(per_server.iter().sum::<usize>(), COUNT, "{per_server:?}");
    assert!(per_server.iter().all(|n| *n > 0), "{per_server:?}");
    assert!(servers.iter().all(|s| s.keys(0).is_empty()));

    let dyno = WebDyno::start(rt, slug.path(), &vars, Frontend::Nginx, 4);
    let visits = dyno.concurrent_visits_through(40, "user");
    assert_eq!(visits.lost, 0, "writes were lost: {}", dyno.log());
    assert_no_secret("the dyno's log", &dyno.log(), &[&password]);
    assert_doctor_sees_the_handler(rt, slug.path(), &vars, &key_prefix);
}

/// The buildpack's handler on a Redis Cluster of three masters: it locks (phpredis'
/// cluster handler cannot), 40 concurrent requests through php-fpm lose nothing, the
/// sessions spread over the slots under the app's prefix.
fn buildpack_handler_locks_on_a_cluster(rt: &Runtime) {
    handler_on_a_cluster(rt, None);
}

fn handler_on_a_cluster(rt: &Runtime, tls: Option<&TlsFiles>) {
    let password = format!("{SECRET_MARKER}-bp-cluster");
    let cluster = Cluster::start(rt, tls, &password);
    let (scheme, port) = match tls {
        Some(_) => ("rediss", cluster.nodes[0].tls_port),
        None => ("redis", cluster.nodes[0].port),
    };
    let url = format!("{scheme}://:{}@127.0.0.1:{port}", url_encode(&password));
    let slug = build(&Buildpack::assemble(), &repo_dir().join("example"), &[]);
    let key_prefix = format!(
        "PHPREDIS_SESSION:{}:",
        namespace(&slug.path().join(".php-redis-sessions"))
    );
    let vars = [
        ("REDIS_URL", url.as_str()),
        ("PHP_REDIS_SESSIONS_CLUSTER", "1"),
        BUILDPACK_HANDLER,
    ];
    let (first, ran) = visit_many(rt, slug.path(), &vars, "bpcluster", true);
    assert_eq!(
        ran.stderr, "",
        "no notice: the cluster's sessions are locked"
    );
    assert!(first.iter().all(|v| *v == Some(1)), "{first:?}");
    let (second, _) = visit_many(rt, slug.path(), &vars, "bpcluster", false);
    assert!(second.iter().all(|v| *v == Some(2)), "{second:?}");
    let per_node: Vec<usize> = cluster
        .nodes
        .iter()
        .map(|n| handler_keys(n, 0, &key_prefix, "bpcluster"))
        .collect();
    assert_eq!(per_node.iter().sum::<usize>(), COUNT, "{per_node:?}");
    assert!(per_node.iter().all(|n| *n > 0), "{per_node:?}");

    let dyno = WebDyno::start(rt, slug.path(), &vars, Frontend::Nginx, 4);
    let visits = dyno.concurrent_visits_through(40, "user");
    assert_eq!(visits.lost, 0, "writes were lost: {}", dyno.log());
    assert_no_secret("the dyno's log", &dyno.log(), &[&password]);
    assert_doctor_sees_the_handler(rt, slug.path(), &vars, &key_prefix);
}

/// The value of `key` in the cluster, read on whichever master holds its slot (the
/// others answer MOVED).
fn cluster_get(cluster: &Cluster, key: &str) -> Option<String> {
    cluster
        .nodes
        .iter()
        .find_map(|node| match node.connect().command(&["GET", key]) {
            Reply::Bulk(value) => Some(value),
            _ => None,
        })
}

/// Sets `key` on the master that holds its slot.
fn cluster_set(cluster: &Cluster, key: &str, value: &str) {
    let set = cluster
        .nodes
        .iter()
        .any(|node| node.connect().command(&["SET", key, value]) == Reply::Simple("OK".into()));
    assert!(set, "no master took {key}");
}

/// Hardening item 7 on a Redis Cluster: client-chosen session ids (an app's key, another
/// app's session, anything) with app keys in the cluster next to the sessions: each gets
/// a new session (but with phpredis 5's cluster handler, which ignores strict mode, as
/// boot says: then a session of its own under this app's prefix), and no key but this
/// app's sessions is read, deleted or written; with phpredis' cluster handler and with
/// the buildpack's.
fn made_up_ids_on_a_cluster(rt: &Runtime, buildpack_handler: bool) {
    let password = format!("{SECRET_MARKER}-cluster-ids");
    let cluster = Cluster::start(rt, None, &password);
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        cluster.nodes[0].port
    );
    let mut vars = vec![
        ("REDIS_URL", url.as_str()),
        ("PHP_REDIS_SESSIONS_CLUSTER", "1"),
    ];
    if buildpack_handler {
        vars.push(("PHP_REDIS_SESSIONS_HANDLER", "buildpack"));
    }
    let buildpack = Buildpack::assemble();
    let app = build_with_php(rt, &buildpack, &repo_dir().join("example"), &[]);
    let other_app = build_with_php(rt, &buildpack, &repo_dir().join("example"), &[]);
    let key = |slug: &Slug, id: &str| {
        let namespace = namespace(&slug.path().join(".php-redis-sessions"));
        if buildpack_handler {
            format!("PHPREDIS_SESSION:{namespace}:{{{id}}}")
        } else {
            format!("PHPREDIS_CLUSTER_SESSION:{namespace}:{id}")
        }
    };
    let app_keys = [
        ("ratelimit-global", "42"),
        ("PHPREDIS_CLUSTER_SESSION:ratelimit-global", "app data"),
        ("PHPREDIS_SESSION:{ratelimit-global}", "more app data"),
    ];
    for (name, value) in app_keys {
        cluster_set(&cluster, name, value);
    }
    // phpredis 5's cluster handler ignores strict mode (boot says so); 6 and the
    // buildpack's handler replace a made-up id.
    let checks_ids = buildpack_handler || rt.is_trixie();
    let booted = dyno_run(rt, app.path(), &vars, "true");
    let unchecked = "phpredis 5's cluster session handler does not check session ids";
    assert_eq!(
        booted.stderr.contains(unchecked),
        !checks_ids,
        "{}",
        booted.stderr
    );
    let server = WebServer::start(rt, app.path(), &vars, "public", 2);
    let other = WebServer::start(rt, other_app.path(), &vars, "public", 2);
    let (_, other_id, body) = other.get("/", None);
    let other_id = other_id.unwrap_or_else(|| panic!("the other app gave no session: {body}"));
    let other_key = key(&other_app, &other_id);
    let other_data = cluster_get(&cluster, &other_key).expect("the other app's session");
    for made_up in ["ratelimit-global", other_id.as_str(), "attacker-chosen-id"] {
        let (status, issued, body) = server.get("/", Some(made_up));
        assert_eq!(status, 200, "{body}");
        let visits: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
        assert_eq!(
            visits["visits"], 1,
            "{made_up}: it read someone else's data"
        );
        if checks_ids {
            let issued = issued.expect("no new session id for a made-up one");
            assert_ne!(issued, made_up);
            assert!(
                cluster_get(&cluster, &key(&app, made_up)).is_none(),
                "{made_up}"
            );
            assert!(cluster_get(&cluster, &key(&app, &issued)).is_some());
        } else {
            // phpredis 5's cluster handler keeps the made-up id, as boot says: a
            // session of its own, under this app's prefix.
            assert_eq!((issued, &visits["session_id"]), (None, &made_up.into()));
            assert!(
                cluster_get(&cluster, &key(&app, made_up)).is_some(),
                "{made_up}"
            );
        }
    }
    for (name, value) in app_keys {
        assert_eq!(
            cluster_get(&cluster, name).as_deref(),
            Some(value),
            "{name}"
        );
    }
    assert_eq!(cluster_get(&cluster, &other_key), Some(other_data));
}

fn made_up_session_ids_on_a_cluster_never_reach_other_keys(rt: &Runtime) {
    made_up_ids_on_a_cluster(rt, false);
}

fn buildpack_handler_made_up_session_ids_on_a_cluster_never_reach_other_keys(rt: &Runtime) {
    made_up_ids_on_a_cluster(rt, true);
}

in_both_runtimes!(
    made_up_session_ids_on_a_cluster_never_reach_other_keys,
    buildpack_handler_made_up_session_ids_on_a_cluster_never_reach_other_keys,
    sharding_spreads_sessions_over_all_servers,
    phpredis_handler_does_not_lock_shards,
    cluster_sessions_spread_over_the_slots,
    cluster_with_every_master_as_a_seed,
    buildpack_handler_shards_keep_the_prefix_and_lock,
    buildpack_handler_locks_on_a_cluster,
);

/// A TLS cluster (`tls-cluster yes`, self-signed): phpredis 6 reaches it through `rediss://`.
#[test]
fn tls_cluster_on_phpredis6() {
    let rt = Runtime::trixie();
    let tls = TlsFiles::create();
    let password = format!("{SECRET_MARKER}-tls-cluster");
    let cluster = Cluster::start(&rt, Some(&tls), &password);
    let url = format!(
        "rediss://:{}@127.0.0.1:{}",
        url_encode(&password),
        cluster.nodes[0].tls_port
    );
    assert_cluster_sessions(
        &rt,
        &cluster,
        &url,
        &password,
        "tlscluster",
        "PHPREDIS_CLUSTER_SESSION:",
    );
}

/// The buildpack's handler on a TLS cluster (phpredis 6): `RedisCluster` takes the SSL
/// options themselves.
#[test]
fn buildpack_handler_on_a_tls_cluster_on_phpredis6() {
    handler_on_a_cluster(&Runtime::trixie(), Some(&TlsFiles::create()));
}
