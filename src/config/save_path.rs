//! From parsed servers and the settings to phpredis' session configuration: the save
//! handler, the save path and the lock settings. Pure. The save path holds the password,
//! so it never reaches a log; [`Summary`] is the part that may be shown.

use super::handler::handler_config;
use super::redis_url::{AuthKind, Server, UrlError, parse_servers};
use super::secret::Secret;
use super::settings::{SessionHandler, Settings, format_seconds};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_encode};
/// phpredis' key prefix for sessions of the `redis` handler.
pub(crate) const DEFAULT_PREFIX: &str = "PHPREDIS_SESSION:";
/// The session handler's own persistent connections (see [`common_query`]).
pub(crate) const PERSISTENT_ID: &str = "php-redis-sessions";

/// Which of phpredis' session handlers a save path is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handler {
    Redis,
    Cluster,
}

/// phpredis' key prefix for sessions of the `rediscluster` handler.
pub(crate) const CLUSTER_DEFAULT_PREFIX: &str = "PHPREDIS_CLUSTER_SESSION:";

/// What PHP needs: the ini values for the session handler.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    pub save_handler: &'static str,
    /// The handler that keeps the sessions: phpredis', or the buildpack's.
    pub handler: SessionHandler,
    /// The buildpack's handler's configuration (with the passwords); `None` for phpredis'.
    pub handler_config: Option<Secret<String>>,
    /// PHP's `session.use_strict_mode`.
    pub strict_mode: bool,
    /// Holds the password.
    pub save_path: Secret<String>,
    pub locking: bool,
    pub lock_expire: u32,
    pub lock_wait_time: u32,
    pub lock_retries: u32,
    pub summary: Summary,
}

/// The parts of the configuration that are safe to print: no password, no save path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "four independent facts the doctor shows, not a state machine"
)]
pub struct Summary {
    pub mode: Mode,
    /// What comes before the session id in the keys.
    pub key_prefix: String,
    pub tls: bool,
    pub verify: bool,
    pub auth: AuthKind,
    pub database: Option<u32>,
    pub persistent: bool,
    pub locking: bool,
}

/// How the sessions are spread over the servers in the URL variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One Redis server (`redis` handler).
    Single,
    /// Several independent servers, each session on one of them (`redis` handler's list).
    Shards(usize),
    /// A Redis Cluster reached through these seeds (`rediscluster` handler).
    Cluster(usize),
}

/// Derives the session configuration for the URL or URLs in `text`: one server, shards
/// over several (`redis` handler), or a cluster (`rediscluster`) when the settings say so.
pub fn derive(text: &str, settings: &Settings) -> Result<SessionConfig, UrlError> {
    derive_for(&parse_servers(text)?, settings, None)
}

/// The key prefix phpredis' own default would give (`PHPREDIS_SESSION:`), with this
/// app's namespace after it, so that apps sharing a Redis never share session keys.
fn default_prefix(phpredis_default: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(namespace) => format!("{phpredis_default}{namespace}:"),
        None => phpredis_default.to_string(),
    }
}

/// The session configuration for servers already parsed (at least one); `namespace` is
/// this app's, from its build (`None`: phpredis' own prefixes).
pub(crate) fn derive_for(
    servers: &[Server],
    settings: &Settings,
    namespace: Option<&str>,
) -> Result<SessionConfig, UrlError> {
    if settings.handler == SessionHandler::Buildpack {
        return buildpack_handler(servers, settings, namespace);
    }
    if settings.cluster {
        return cluster(servers, settings, namespace);
    }
    let shards = servers.len() > 1;
    // phpredis takes a session's lock on the server its id points to, but releases it on
    // the server the *prefixed* key points to (both by the first four bytes): with
    // several servers it can lock only under an empty prefix, where a session id a client
    // makes up would be the name of any key of the app's. The prefix stays, and phpredis'
    // handler does not lock on shards (the buildpack's own handler does).
    let key_prefix = settings
        .prefix
        .clone()
        .unwrap_or_else(|| default_prefix(DEFAULT_PREFIX, namespace));
    let locking = settings.lock.enabled && !shards;
    let save_path = servers
        .iter()
        .map(|server| single_path(server, settings, shards, &key_prefix))
        .collect::<Vec<_>>()
        .join(",");
    let first = &servers[0];
    let lock = &settings.lock;
    Ok(SessionConfig {
        save_handler: "redis",
        handler: SessionHandler::Phpredis,
        handler_config: None,
        strict_mode: settings.strict_mode,
        save_path: Secret::new(save_path),
        locking,
        lock_expire: lock.expire,
        lock_wait_time: lock.wait_time,
        lock_retries: lock.retries,
        summary: Summary {
            mode: if shards {
                Mode::Shards(servers.len())
            } else {
                Mode::Single
            },
            key_prefix,
            tls: first.tls,
            verify: first.tls && settings.tls.verify,
            auth: first.auth(),
            database: first.database,
            persistent: settings.persistent,
            locking,
        },
    })
}

/// The buildpack's own handler: its configuration (with the passwords) for the handler,
/// and for PHP's ini a save path of phpredis' handler without any login, which nothing
/// uses unless something takes the buildpack's handler out: then sessions fail where
/// they can be seen (Redis refuses them), and no warning PHP writes quotes a password.
/// It locks with shards and on a cluster too, under any key prefix.
fn buildpack_handler(
    servers: &[Server],
    settings: &Settings,
    namespace: Option<&str>,
) -> Result<SessionConfig, UrlError> {
    let first = &servers[0];
    let same_login =
        |s: &Server| s.tls == first.tls && s.user == first.user && s.password == first.password;
    if settings.cluster && !servers.iter().all(same_login) {
        return Err(UrlError::ClusterMixed);
    }
    let key_prefix = settings
        .prefix
        .clone()
        .unwrap_or_else(|| default_prefix(DEFAULT_PREFIX, namespace));
    let anonymous = Server {
        user: vec![],
        password: Secret::default(),
        ..first.clone()
    };
    let lock = &settings.lock;
    let mode = match (settings.cluster, servers.len()) {
        (true, n) => Mode::Cluster(n),
        (false, 1) => Mode::Single,
        (false, n) => Mode::Shards(n),
    };
    Ok(SessionConfig {
        save_handler: "redis",
        handler: SessionHandler::Buildpack,
        handler_config: Some(handler_config(servers, settings, &key_prefix)),
        strict_mode: settings.strict_mode,
        save_path: Secret::new(single_path(&anonymous, settings, false, &key_prefix)),
        locking: lock.enabled,
        lock_expire: lock.expire,
        lock_wait_time: lock.wait_time,
        lock_retries: lock.retries,
        summary: Summary {
            mode,
            key_prefix,
            tls: first.tls,
            verify: first.tls && settings.tls.verify,
            auth: first.auth(),
            database: if settings.cluster {
                servers.iter().find_map(|s| s.database)
            } else {
                first.database
            },
            persistent: settings.persistent,
            locking: lock.enabled,
        },
    })
}

/// One server of the `redis` handler: `tcp://HOST:PORT?auth=...&database=...`.
fn single_path(server: &Server, settings: &Settings, shards: bool, key_prefix: &str) -> String {
    let mut query = auth_params(server);
    if let Some(database) = server.database {
        query.push(format!("database={database}"));
    }
    if let (true, Some(weight)) = (shards, server.weight) {
        query.push(format!("weight={weight}"));
    }
    if key_prefix != DEFAULT_PREFIX {
        query.push(format!("prefix={}", encode(key_prefix.as_bytes())));
    }
    common_query(&mut query, settings, server.tls, Handler::Redis);
    let scheme = if server.tls { "tls" } else { "tcp" };
    format!(
        "{scheme}://{}:{}?{}",
        server.host,
        server.port,
        query.join("&")
    )
}

/// `rediscluster`: one query string, `seed[]=HOST:PORT&...`, one login for all seeds.
/// Any `stream[...]` option makes phpredis use TLS; it has no `database` and no locking.
fn cluster(
    servers: &[Server],
    settings: &Settings,
    namespace: Option<&str>,
) -> Result<SessionConfig, UrlError> {
    let first = &servers[0];
    let same =
        |s: &Server| s.tls == first.tls && s.user == first.user && s.password == first.password;
    if !servers.iter().all(same) {
        return Err(UrlError::ClusterMixed);
    }
    let mut query: Vec<String> = servers
        .iter()
        .map(|s| {
            format!(
                "seed[]={}",
                encode(format!("{}:{}", s.host, s.port).as_bytes())
            )
        })
        .collect();
    query.extend(auth_params(first));
    let key_prefix = settings
        .prefix
        .clone()
        .unwrap_or_else(|| default_prefix(CLUSTER_DEFAULT_PREFIX, namespace));
    if key_prefix != CLUSTER_DEFAULT_PREFIX {
        query.push(format!("prefix={}", encode(key_prefix.as_bytes())));
    }
    common_query(&mut query, settings, first.tls, Handler::Cluster);
    Ok(SessionConfig {
        save_handler: "rediscluster",
        handler: SessionHandler::Phpredis,
        handler_config: None,
        strict_mode: settings.strict_mode,
        save_path: Secret::new(query.join("&")),
        locking: false,
        lock_expire: settings.lock.expire,
        lock_wait_time: settings.lock.wait_time,
        lock_retries: settings.lock.retries,
        summary: Summary {
            mode: Mode::Cluster(servers.len()),
            key_prefix,
            tls: first.tls,
            verify: first.tls && settings.tls.verify,
            auth: first.auth(),
            database: servers.iter().find_map(|s| s.database),
            persistent: settings.persistent,
            locking: false,
        },
    })
}

/// The options every server gets: persistence, timeouts and TLS.
fn common_query(query: &mut Vec<String>, settings: &Settings, tls: bool, handler: Handler) {
    query.push(format!("persistent={}", u8::from(settings.persistent)));
    // A persistent id of the session handler's own: phpredis shares a persistent
    // connection between everyone who asks for the same host and timeout, so an app that
    // `pconnect`s to the same Redis and `select`s another database would move the
    // sessions there. (The cluster handler takes no persistent id.)
    if settings.persistent && handler == Handler::Redis {
        query.push(format!("persistent_id={PERSISTENT_ID}"));
    }
    query.push(format!("timeout={}", format_seconds(settings.timeout)));
    query.push(format!(
        "read_timeout={}",
        format_seconds(settings.read_timeout)
    ));
    if tls {
        let verify = u8::from(settings.tls.verify);
        query.push(format!("stream[verify_peer]={verify}"));
        query.push(format!("stream[verify_peer_name]={verify}"));
        if let (true, Some(ca_file)) = (settings.tls.verify, &settings.tls.ca_file) {
            query.push(format!("stream[cafile]={}", encode(ca_file.as_bytes())));
        }
    }
}

/// The login in phpredis' query: `auth=PASSWORD`, `auth[]=USER&auth[]=PASSWORD`, or
/// nothing (an empty `auth=` breaks connections).
fn auth_params(server: &Server) -> Vec<String> {
    match server.auth() {
        AuthKind::None | AuthKind::UserWithoutPassword => vec![],
        AuthKind::Password => vec![format!("auth={}", encode(server.password.expose()))],
        AuthKind::User(_) => vec![
            format!("auth[]={}", encode(&server.user)),
            format!("auth[]={}", encode(server.password.expose())),
        ],
    }
}

/// Everything but letters, digits and `-._~` is escaped: phpredis splits the save path on
/// commas and whitespace and then reads each query like `parse_str()`, where `+` is a space.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(crate) fn encode(bytes: &[u8]) -> String {
    percent_encode(bytes, QUERY_VALUE).to_string()
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;
    use percent_encoding::percent_decode_str;

    fn path(url: &str) -> String {
        derive(url, &Settings::default())
            .unwrap()
            .save_path
            .expose()
            .clone()
    }

    const TAIL: &str = "persistent=1&persistent_id=php-redis-sessions&timeout=2&read_timeout=2";
    const TLS_TAIL: &str = "persistent=1&persistent_id=php-redis-sessions&timeout=2&read_timeout=2\
        &stream[verify_peer]=0&stream[verify_peer_name]=0";
    const CLUSTER_TAIL: &str = "persistent=1&timeout=2&read_timeout=2";
    const CLUSTER_TLS_TAIL: &str =
        "persistent=1&timeout=2&read_timeout=2&stream[verify_peer]=0&stream[verify_peer_name]=0";

    #[test]
    fn plain_url() {
        assert_eq!(
            path("redis://redis.example.com:6380"),
            format!("tcp://redis.example.com:6380?{TAIL}")
        );
    }

    #[test]
    fn default_port() {
        assert_eq!(
            path("redis://localhost"),
            format!("tcp://localhost:6379?{TAIL}")
        );
        assert_eq!(
            path("redis://localhost/"),
            format!("tcp://localhost:6379?{TAIL}")
        );
    }

    #[test]
    fn heroku_tls_url() {
        assert_eq!(
            path("rediss://:p4ssw0rd@ec2-1-2-3-4.compute-1.amazonaws.com:12345"),
            format!("tls://ec2-1-2-3-4.compute-1.amazonaws.com:12345?auth=p4ssw0rd&{TLS_TAIL}")
        );
    }

    #[test]
    fn legacy_heroku_user_is_a_password_only_login() {
        assert_eq!(
            path("redis://h:secret@host:1"),
            format!("tcp://host:1?auth=secret&{TAIL}")
        );
    }

    #[test]
    fn default_user_is_a_password_only_login() {
        assert_eq!(
            path("redis://default:secret@host:1"),
            format!("tcp://host:1?auth=secret&{TAIL}")
        );
    }

    #[test]
    fn acl_user() {
        assert_eq!(
            path("redis://app:secret@host:1"),
            format!("tcp://host:1?auth[]=app&auth[]=secret&{TAIL}")
        );
        assert_eq!(
            derive("redis://app:x@h", &Settings::default())
                .unwrap()
                .summary
                .auth,
            AuthKind::User("app".into())
        );
    }

    #[test]
    fn user_without_password_authenticates_with_nothing() {
        let config = derive("redis://app@host:1", &Settings::default()).unwrap();
        assert_eq!(config.save_path.expose(), &format!("tcp://host:1?{TAIL}"));
        assert_eq!(config.summary.auth, AuthKind::UserWithoutPassword);
    }

    #[test]
    fn no_password_means_no_auth_parameter() {
        for url in [
            "redis://host:1",
            "redis://:@host:1",
            "redis://h:@host:1",
            "redis://default@host:1",
        ] {
            let config = derive(url, &Settings::default()).unwrap();
            assert_eq!(
                config.save_path.expose(),
                &format!("tcp://host:1?{TAIL}"),
                "{url}"
            );
            assert_eq!(config.summary.auth, AuthKind::None, "{url}");
        }
    }

    #[test]
    fn database() {
        assert_eq!(
            path("redis://host:1/3"),
            format!("tcp://host:1?database=3&{TAIL}")
        );
        assert_eq!(path("redis://host:1/0"), format!("tcp://host:1?{TAIL}"));
        assert_eq!(
            path("redis://:pw@host:1/15"),
            format!("tcp://host:1?auth=pw&database=15&{TAIL}")
        );
    }

    #[test]
    fn awkward_passwords_are_reencoded() {
        // `%2C` is a comma, `%20` a space, `%2B` a plus, `%25` a percent sign.
        assert_eq!(
            path("redis://:a%2Cb%20c%2Bd%25e%26f%3Dg%23h@host:1"),
            format!("tcp://host:1?auth=a%2Cb%20c%2Bd%25e%26f%3Dg%23h&{TAIL}")
        );
        // Characters the url crate lets through raw come out escaped.
        assert_eq!(
            path("redis://:a!$'()*;=b@host:1"),
            format!("tcp://host:1?auth=a%21%24%27%28%29%2A%3B%3Db&{TAIL}")
        );
    }

    #[test]
    fn every_printable_ascii_password_round_trips() {
        let password: String = (0x20u8..0x7f).map(char::from).collect();
        let in_url = percent_encode(password.as_bytes(), NON_ALPHANUMERIC).to_string();
        let saved = path(&format!("redis://:{in_url}@host:1"));
        let auth = saved
            .split('&')
            .next()
            .unwrap()
            .strip_prefix("tcp://host:1?auth=")
            .unwrap();
        assert!(
            auth.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"%-._~".contains(&b)),
            "{auth}"
        );
        assert_eq!(percent_decode_str(auth).decode_utf8().unwrap(), password);
    }

    #[test]
    fn non_utf8_passwords_keep_their_bytes() {
        assert_eq!(
            path("redis://:%FF%00x@host:1"),
            format!("tcp://host:1?auth=%FF%00x&{TAIL}")
        );
    }

    #[test]
    fn ipv6_hosts_lose_their_brackets() {
        assert_eq!(path("redis://[::1]:7000"), format!("tcp://::1:7000?{TAIL}"));
        assert_eq!(
            path("rediss://:pw@[2001:db8::2]"),
            format!("tls://2001:db8::2:6379?auth=pw&{TLS_TAIL}")
        );
    }

    #[test]
    fn hosts_are_lowercased() {
        assert_eq!(
            path("redis://Redis.Example.COM:1"),
            format!("tcp://redis.example.com:1?{TAIL}")
        );
    }

    #[test]
    fn ipv4_hosts() {
        assert_eq!(
            path("redis://127.0.0.1:1"),
            format!("tcp://127.0.0.1:1?{TAIL}")
        );
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        assert_eq!(path("  redis://host:1\n"), format!("tcp://host:1?{TAIL}"));
    }

    #[test]
    fn the_query_of_the_url_is_ignored() {
        assert_eq!(
            path("redis://host:1/2?ssl_cert_reqs=none"),
            format!("tcp://host:1?database=2&{TAIL}")
        );
    }

    #[test]
    fn settings_shape_the_query() {
        let mut settings = Settings::default();
        settings.persistent = false;
        settings.prefix = Some("app 1:sess,".into());
        settings.timeout = 2.5;
        settings.read_timeout = 0.25;
        settings.tls.verify = true;
        settings.tls.ca_file = Some("/app/certs/ca file.pem".into());
        let config = derive("rediss://:pw@host:1/2", &settings).unwrap();
        assert_eq!(
            config.save_path.expose(),
            "tls://host:1?auth=pw&database=2&prefix=app%201%3Asess%2C&persistent=0&timeout=2.5&read_timeout=0.25\
             &stream[verify_peer]=1&stream[verify_peer_name]=1&stream[cafile]=%2Fapp%2Fcerts%2Fca%20file.pem"
        );
        assert!(config.summary.verify);
    }

    #[test]
    fn verify_without_ca_uses_the_system_store() {
        let mut settings = Settings::default();
        settings.tls.verify = true;
        assert_eq!(
            derive("rediss://host:1", &settings)
                .unwrap()
                .save_path
                .expose(),
            "tls://host:1?persistent=1&persistent_id=php-redis-sessions&timeout=2&read_timeout=2&stream[verify_peer]=1&stream[verify_peer_name]=1"
        );
    }

    #[test]
    fn tls_options_only_for_tls() {
        let mut settings = Settings::default();
        settings.tls.verify = true;
        settings.tls.ca_file = Some("/ca".into());
        let config = derive("redis://host:1", &settings).unwrap();
        assert_eq!(config.save_path.expose(), &format!("tcp://host:1?{TAIL}"));
        assert!(!config.summary.verify);
    }

    #[test]
    fn lock_settings_are_carried() {
        let config = derive("redis://host", &Settings::default()).unwrap();
        assert_eq!(
            (
                config.save_handler,
                config.locking,
                config.lock_expire,
                config.lock_wait_time,
                config.lock_retries
            ),
            ("redis", true, 30, 10_000, 1_500)
        );
    }

    #[test]
    fn several_urls_are_shards_each_with_its_own_login() {
        let config = derive(
            "redis://:pw1@a:1/2?weight=2, rediss://app:pw2@b:2\tredis://c:3",
            &Settings::default(),
        )
        .unwrap();
        assert_eq!(
            config.save_path.expose(),
            &format!(
                "tcp://a:1?auth=pw1&database=2&weight=2&{TAIL},\
                 tls://b:2?auth[]=app&auth[]=pw2&{TLS_TAIL},\
                 tcp://c:3?{TAIL}"
            )
        );
        assert_eq!((config.save_handler, config.locking), ("redis", false));
        assert_eq!(config.summary.mode, Mode::Shards(3));
    }

    #[test]
    fn shards_keep_the_prefix_and_phpredis_does_not_lock_them() {
        let mut settings = Settings::default();
        settings.prefix = Some("app:".into());
        let config = derive("redis://a:1,redis://b:2", &settings).unwrap();
        assert_eq!(
            config.save_path.expose(),
            &format!("tcp://a:1?prefix=app%3A&{TAIL},tcp://b:2?prefix=app%3A&{TAIL}")
        );
        assert!(!config.locking && !config.summary.locking);
        settings.prefix = None;
        let config = derive_for(
            &parse_servers("redis://a:1,redis://b:2").unwrap(),
            &settings,
            Some("ns"),
        )
        .unwrap();
        assert_eq!(config.summary.key_prefix, "PHPREDIS_SESSION:ns:");
        assert!(
            derive("redis://a:1", &settings).unwrap().locking,
            "one server locks"
        );
    }

    #[test]
    fn weight_only_matters_for_shards() {
        assert_eq!(path("redis://a:1?weight=5"), format!("tcp://a:1?{TAIL}"));
    }

    #[test]
    fn cluster_is_one_query_of_seeds() {
        let mut settings = Settings::default();
        settings.cluster = true;
        let config = derive(
            "redis://app:p%2Cw@10.0.0.1:7000,redis://app:p%2Cw@10.0.0.2:7001",
            &settings,
        )
        .unwrap();
        assert_eq!(config.save_handler, "rediscluster");
        assert_eq!(
            config.save_path.expose(),
            &format!(
                "seed[]=10.0.0.1%3A7000&seed[]=10.0.0.2%3A7001&auth[]=app&auth[]=p%2Cw&{CLUSTER_TAIL}"
            )
        );
        assert!(!config.locking);
        assert_eq!(config.summary.mode, Mode::Cluster(2));
    }

    #[test]
    fn tls_cluster_gets_stream_options() {
        let mut settings = Settings::default();
        settings.cluster = true;
        let config = derive("rediss://:pw@h:7000/3", &settings).unwrap();
        assert_eq!(
            config.save_path.expose(),
            &format!("seed[]=h%3A7000&auth=pw&{CLUSTER_TLS_TAIL}")
        );
        assert_eq!(config.summary.database, Some(3));
    }

    #[test]
    fn cluster_seeds_share_one_login_and_scheme() {
        let mut settings = Settings::default();
        settings.cluster = true;
        for text in [
            "redis://:a@h:1,redis://:b@h:2",
            "redis://h:1,rediss://h:2",
            "redis://u:a@h:1,redis://v:a@h:2",
        ] {
            assert_eq!(
                derive(text, &settings),
                Err(UrlError::ClusterMixed),
                "{text}"
            );
        }
        // `h` and no user are the same login only to phpredis' eyes after mapping; be strict.
        assert!(derive("redis://:a@h:1,redis://:a@h:2", &settings).is_ok());
    }

    #[test]
    fn cluster_keeps_a_configured_prefix() {
        let mut settings = Settings::default();
        settings.cluster = true;
        settings.prefix = Some("app:".into());
        let config = derive("redis://h:7000", &settings).unwrap();
        assert_eq!(
            config.save_path.expose(),
            &format!("seed[]=h%3A7000&prefix=app%3A&{CLUSTER_TAIL}")
        );
        assert_eq!(config.summary.key_prefix, "app:");
    }

    #[test]
    fn provider_dummy_users_log_in_with_the_password_alone() {
        for user in ["h", "default", "redistogo", "rediscloud"] {
            assert_eq!(
                path(&format!("redis://{user}:pw@host:1")),
                format!("tcp://host:1?auth=pw&{TAIL}"),
                "{user}"
            );
        }
        assert_eq!(
            path("redis://redistogo2:pw@host:1"),
            format!("tcp://host:1?auth[]=redistogo2&auth[]=pw&{TAIL}")
        );
    }

    #[test]
    fn the_namespace_follows_phpredis_own_prefix() {
        let config = derive_for(
            &parse_servers("redis://host:1").unwrap(),
            &Settings::default(),
            Some("3f9a"),
        )
        .unwrap();
        assert_eq!(
            config.save_path.expose(),
            &format!("tcp://host:1?prefix=PHPREDIS_SESSION%3A3f9a%3A&{TAIL}")
        );
        assert_eq!(config.summary.key_prefix, "PHPREDIS_SESSION:3f9a:");
        let mut settings = Settings::default();
        settings.cluster = true;
        let config = derive_for(
            &parse_servers("redis://h:7000").unwrap(),
            &settings,
            Some("3f9a"),
        )
        .unwrap();
        assert_eq!(config.summary.key_prefix, "PHPREDIS_CLUSTER_SESSION:3f9a:");
        assert!(
            config
                .save_path
                .expose()
                .contains("&prefix=PHPREDIS_CLUSTER_SESSION%3A3f9a%3A&")
        );
        // A prefix the user chose is theirs, namespace or not.
        settings.cluster = false;
        settings.prefix = Some("mine:".into());
        let config = derive_for(
            &parse_servers("redis://host:1").unwrap(),
            &settings,
            Some("3f9a"),
        )
        .unwrap();
        assert_eq!(config.summary.key_prefix, "mine:");
    }

    #[test]
    fn the_buildpack_handler_keeps_the_password_out_of_the_save_path() {
        let mut settings = Settings::default();
        settings.handler = SessionHandler::Buildpack;
        let servers = parse_servers("rediss://app:Sekr1tPW@h:1/2,redis://:Sekr1tPW@g:2").unwrap();
        let config = derive_for(&servers, &settings, Some("ns")).unwrap();
        assert_eq!(config.handler, SessionHandler::Buildpack);
        assert!(!config.save_path.expose().contains("Sekr1t"));
        assert!(!config.save_path.expose().contains("auth"));
        assert!(
            config
                .handler_config
                .unwrap()
                .expose()
                .contains("53656b7231745057")
        );
        // Shards lock and keep the namespace: the lock and data of a session share a slot.
        assert_eq!(config.summary.mode, Mode::Shards(2));
        assert!(config.summary.locking);
        assert_eq!(config.summary.key_prefix, "PHPREDIS_SESSION:ns:");
        settings.cluster = true;
        let config = derive_for(&servers[..1], &settings, Some("ns")).unwrap();
        assert_eq!(config.summary.mode, Mode::Cluster(1));
        assert!(config.locking, "the buildpack's handler locks on a cluster");
        assert_eq!(
            derive_for(&servers, &settings, None),
            Err(UrlError::ClusterMixed)
        );
    }
}
