//! The configuration of the buildpack's own session handler (files/session-handler.php),
//! as JSON for `PHP_REDIS_SESSIONS_HANDLER_CONFIG`: the servers with their logins (user
//! and password in hex, so that any byte survives), TLS, timeouts, the key prefix and the
//! lock. Pure. It holds the passwords: a [`Secret`].

use super::redis_url::{AuthKind, Server};
use super::secret::Secret;
use super::settings::Settings;
use serde::Serialize;

#[derive(Serialize)]
struct HandlerConfig<'a> {
    cluster: bool,
    tls: bool,
    tls_options: TlsOptions<'a>,
    persistent: bool,
    timeout: f64,
    read_timeout: f64,
    /// The keys are `prefix{id}` and `prefix{id}:lock`: one hash slot per session.
    prefix: &'a str,
    lock: Lock,
    servers: Vec<ServerConfig<'a>>,
}

#[derive(Serialize)]
struct TlsOptions<'a> {
    verify: bool,
    cafile: Option<&'a str>,
}

#[derive(Serialize)]
struct Lock {
    enabled: bool,
    expire: u32,
    wait_us: u32,
    retries: u32,
}

#[derive(Serialize)]
struct ServerConfig<'a> {
    host: &'a str,
    port: u16,
    /// Only for an ACL user: the dummy users of providers log in with the password alone.
    user: Option<String>,
    password: Option<String>,
    database: Option<u32>,
    weight: u32,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The handler's configuration for `servers` under `settings`, keys after `prefix`.
pub(crate) fn handler_config(
    servers: &[Server],
    settings: &Settings,
    prefix: &str,
) -> Secret<String> {
    let lock = &settings.lock;
    let config = HandlerConfig {
        cluster: settings.cluster,
        tls: servers.first().is_some_and(|s| s.tls),
        tls_options: TlsOptions {
            verify: settings.tls.verify,
            cafile: settings.tls.ca_file.as_deref(),
        },
        persistent: settings.persistent,
        timeout: settings.timeout,
        read_timeout: settings.read_timeout,
        prefix,
        lock: Lock {
            enabled: lock.enabled,
            expire: lock.expire,
            wait_us: lock.wait_time,
            retries: lock.retries,
        },
        servers: servers
            .iter()
            .map(|server| {
                let auth = server.auth();
                ServerConfig {
                    host: &server.host,
                    port: server.port,
                    user: matches!(auth, AuthKind::User(_)).then(|| hex(&server.user)),
                    password: matches!(auth, AuthKind::Password | AuthKind::User(_))
                        .then(|| hex(server.password.expose())),
                    database: server.database,
                    weight: server.weight.unwrap_or(1),
                }
            })
            .collect(),
    };
    Secret::new(serde_json::to_string(&config).expect("the configuration is plain data"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::redis_url::parse_servers;

    #[test]
    fn the_handler_gets_what_it_needs() {
        let servers =
            parse_servers("rediss://app:p%2Cw@h:1/2?weight=3,rediss://h:pw@[::1]:2").unwrap();
        let json = handler_config(&servers, &Settings::default(), "PHPREDIS_SESSION:ns:");
        let config: serde_json::Value = serde_json::from_str(json.expose()).unwrap();
        assert_eq!(config["prefix"], "PHPREDIS_SESSION:ns:");
        assert_eq!(config["tls"], true);
        assert_eq!(config["tls_options"]["verify"], false);
        assert_eq!(config["lock"]["enabled"], true);
        assert_eq!(config["lock"]["wait_us"], 10_000);
        assert_eq!(config["servers"][0]["user"], "617070");
        assert_eq!(config["servers"][0]["password"], "702c77");
        assert_eq!(config["servers"][0]["database"], 2);
        assert_eq!(config["servers"][0]["weight"], 3);
        assert_eq!(config["servers"][1]["host"], "::1");
        assert_eq!(config["servers"][1]["user"], serde_json::Value::Null);
        assert_eq!(config["servers"][1]["password"], "7077");
        assert_eq!(format!("{json:?}"), "****");
        let none = handler_config(
            &parse_servers("redis://h").unwrap(),
            &Settings::default(),
            "p:",
        );
        let config: serde_json::Value = serde_json::from_str(none.expose()).unwrap();
        assert_eq!(config["servers"][0]["password"], serde_json::Value::Null);
    }
}
