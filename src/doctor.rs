//! `php-redis-sessions doctor`: run on a dyno (`heroku run php-redis-sessions doctor`), it
//! shows what boot decided, asks PHP for its versions, checks every server and writes,
//! reads and deletes a test session through PHP's session module, with timings. It exits
//! non-zero naming the cause when anything fails. Raw error messages from PHP may quote
//! the save path, so they are only classified here, never printed.

use crate::boot::{self, Decision, EnvValue, Outcome};
use crate::messages;
use crate::session_config::{Mode, Server};
use serde_json::{Value, json};
use std::ffi::OsString;
use std::process::{Command, Stdio};

pub const TARGET_VAR: &str = "PHP_REDIS_SESSIONS_DOCTOR_TARGET";
const PROBE: &str = include_str!("../files/doctor-probe.php");

/// Why the doctor failed, as users need to hear it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// Boot keeps file sessions: no URL, an unusable one, or switched off.
    NoRedis,
    /// PHP did not load the session ini: another session handler is in use.
    IniNotLoaded(String),
    PhpMissing,
    ExtensionMissing,
    ConnectionRefused(String),
    AuthenticationFailed(String),
    TlsVerificationFailed(String),
    Timeout(String),
    HostNotFound(String),
    ConnectionFailed(String),
    SessionFailed(ErrorKind),
}

/// What an error message from PHP or phpredis says went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Refused,
    Authentication,
    TlsVerification,
    Timeout,
    HostNotFound,
    Lock,
    Other,
}

/// Sorts a phpredis, PHP stream or Redis error message into what it means.
pub fn classify(message: &str) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if any(&[
        "certificate verify failed",
        "certificate",
        "ssl operation failed",
        "failed to enable crypto",
    ]) {
        ErrorKind::TlsVerification
    } else if any(&[
        "wrongpass",
        "noauth",
        "invalid password",
        "auth failed",
        "authentication",
    ]) {
        ErrorKind::Authentication
    } else if any(&["connection refused"]) {
        ErrorKind::Refused
    } else if any(&[
        "timed out",
        "timeout",
        "read error on connection",
        "socket error on read",
        "handshake timed out",
    ]) {
        ErrorKind::Timeout
    } else if any(&[
        "getaddrinfo",
        "name or service not known",
        "no address associated",
        "temporary failure in name",
    ]) {
        ErrorKind::HostNotFound
    } else if any(&["session lock"]) {
        ErrorKind::Lock
    } else {
        ErrorKind::Other
    }
}

/// The probe's answer, as far as the doctor reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeResult {
    pub php: String,
    pub redis: Option<String>,
    pub extension: bool,
    /// Per server (one entry for a cluster): milliseconds, or the error's kind.
    pub checks: Vec<Result<f64, ErrorKind>>,
    pub session: Option<SessionCheck>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SessionCheck {
    pub handler: String,
    pub write_ms: f64,
    pub read_ms: Option<f64>,
    pub delete_ms: Option<f64>,
    pub error: Option<ErrorKind>,
}

/// Reads the probe's JSON line; `None` when PHP printed something else.
pub fn parse_probe(stdout: &str) -> Option<ProbeResult> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))?;
    let value: Value = serde_json::from_str(line).ok()?;
    let checks = value["checks"]
        .as_array()
        .map(|checks| {
            checks
                .iter()
                .map(|c| match c["ok"].as_bool() {
                    Some(true) => Ok(c["ms"].as_f64().unwrap_or(0.0)),
                    _ => Err(classify(c["error"].as_str().unwrap_or(""))),
                })
                .collect()
        })
        .unwrap_or_default();
    let session = value
        .get("session")
        .filter(|s| s.is_object())
        .map(|s| SessionCheck {
            handler: s["handler"].as_str().unwrap_or("").to_string(),
            write_ms: s["write_ms"].as_f64().unwrap_or(0.0),
            read_ms: s["read_ms"].as_f64(),
            delete_ms: s["delete_ms"].as_f64(),
            error: match s["ok"].as_bool() {
                Some(true) => None,
                _ => Some(classify(s["error"].as_str().unwrap_or(""))),
            },
        });
    Some(ProbeResult {
        php: value["php"].as_str()?.to_string(),
        redis: value["redis"].as_str().map(str::to_string),
        extension: value["extension"].as_bool()?,
        checks,
        session,
    })
}

/// The first failure in the probe's answer, if any. `handler` is the one boot chose.
pub fn verdict(
    servers: &[Server],
    cluster: bool,
    handler: &str,
    probe: &ProbeResult,
) -> Option<Cause> {
    if !probe.extension {
        return Some(Cause::ExtensionMissing);
    }
    for (index, check) in probe.checks.iter().enumerate() {
        if let Err(kind) = check {
            let server = if cluster {
                "the cluster".to_string()
            } else {
                servers.get(index).map_or_else(String::new, server_label)
            };
            return Some(match kind {
                ErrorKind::Refused => Cause::ConnectionRefused(server),
                ErrorKind::Authentication => Cause::AuthenticationFailed(server),
                ErrorKind::TlsVerification => Cause::TlsVerificationFailed(server),
                ErrorKind::Timeout => Cause::Timeout(server),
                ErrorKind::HostNotFound => Cause::HostNotFound(server),
                ErrorKind::Lock | ErrorKind::Other => Cause::ConnectionFailed(server),
            });
        }
    }
    match &probe.session {
        None => Some(Cause::SessionFailed(ErrorKind::Other)),
        Some(session) if session.handler != handler => {
            Some(Cause::IniNotLoaded(session.handler.clone()))
        }
        Some(SessionCheck {
            error: Some(kind), ..
        }) => Some(Cause::SessionFailed(*kind)),
        Some(_) => None,
    }
}

/// `host:port`, with IPv6 hosts in brackets.
pub fn server_label(server: &Server) -> String {
    if server.host.contains(':') {
        format!("[{}]:{}", server.host, server.port)
    } else {
        format!("{}:{}", server.host, server.port)
    }
}

/// What the probe needs to reach the servers. Holds the passwords: it only ever goes to
/// the PHP child's environment.
pub fn probe_target(decision: &Decision, servers: &[Server], cluster: bool) -> String {
    let settings = &decision.settings;
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let tls = servers.first().is_some_and(|s| s.tls);
    let mut stream = json!({
        "verify_peer": settings.tls.verify,
        "verify_peer_name": settings.tls.verify,
    });
    if let (true, Some(ca)) = (settings.tls.verify, &settings.tls.ca_file) {
        stream["cafile"] = json!(ca);
    }
    let servers: Vec<Value> = servers
        .iter()
        .map(|s| {
            let auth = s.auth();
            json!({
                "host": s.host,
                "port": s.port,
                "user": match auth { crate::session_config::AuthKind::User(_) => Some(hex(&s.user)), _ => None },
                "password": hex(&s.password),
                "database": s.database,
            })
        })
        .collect();
    json!({
        "cluster": cluster,
        "tls": tls,
        "stream": stream,
        "timeout": settings.timeout,
        "read_timeout": settings.read_timeout,
        "servers": servers,
    })
    .to_string()
}

/// Runs the doctor against the process environment; returns the exit code.
pub fn run() -> i32 {
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(n, _)| n.into_string().ok())
        .collect();
    let lookup = |name: &str| match std::env::var_os(name).map(OsString::into_string) {
        None => EnvValue::Unset,
        Some(Ok(text)) => EnvValue::Text(text),
        Some(Err(_)) => EnvValue::NotUnicode,
    };
    let decision = boot::decide(lookup, &names);
    let plan = crate::boot_hook::plan_from_process();
    let mut lines = messages::doctor_decision(&decision);

    let Outcome::Redis {
        config, servers, ..
    } = &decision.outcome
    else {
        lines.push(messages::doctor_failed(&Cause::NoRedis));
        print(&lines);
        return 1;
    };
    let cluster = matches!(config.summary.mode, Mode::Cluster(_));
    let output = Command::new("php")
        .args(["-r", PROBE.trim_start_matches("<?php").trim_start()])
        .envs(
            plan.vars
                .iter()
                .map(|(name, value)| (*name, value.as_str())),
        )
        .env(TARGET_VAR, probe_target(&decision, servers, cluster))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    let probe = match output
        .ok()
        .and_then(|out| parse_probe(&String::from_utf8_lossy(&out.stdout)))
    {
        Some(probe) => probe,
        None => {
            lines.push(messages::doctor_failed(&Cause::PhpMissing));
            print(&lines);
            return 1;
        }
    };
    lines.extend(messages::doctor_probe(servers, cluster, &probe));
    let code = match verdict(servers, cluster, config.save_handler, &probe) {
        None => {
            lines.push(messages::doctor_ok());
            0
        }
        Some(cause) => {
            lines.push(messages::doctor_failed(&cause));
            1
        }
    };
    print(&lines);
    code
}

fn print(lines: &[String]) {
    for line in lines {
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_real_messages() {
        let cases = [
            ("Connection refused", ErrorKind::Refused),
            (
                "WRONGPASS invalid username-password pair or user is disabled.",
                ErrorKind::Authentication,
            ),
            ("NOAUTH Authentication required.", ErrorKind::Authentication),
            (
                "AUTH failed: ERR invalid password",
                ErrorKind::Authentication,
            ),
            (
                "SSL operation failed with code 1. OpenSSL Error messages:\nerror:0A000086:SSL routines::certificate verify failed",
                ErrorKind::TlsVerification,
            ),
            (
                "read error on connection to 127.0.0.1:6379",
                ErrorKind::Timeout,
            ),
            ("Connection timed out", ErrorKind::Timeout),
            ("socket error on read socket", ErrorKind::Timeout),
            (
                "php_network_getaddresses: getaddrinfo for nohost failed: Name or service not known",
                ErrorKind::HostNotFound,
            ),
            ("Failed to acquire session lock", ErrorKind::Lock),
            ("something else", ErrorKind::Other),
        ];
        for (message, kind) in cases {
            assert_eq!(classify(message), kind, "{message}");
        }
    }

    #[test]
    fn parses_the_probe() {
        let line = r#"{"php":"8.4.1","redis":"6.2.0","extension":true,"checks":[{"ok":true,"ms":0.5},{"ok":false,"ms":1,"error":"Connection refused"}],"session":{"handler":"redis","write_ms":1.5,"read_ms":0.5,"delete_ms":0.25,"ok":true,"error":null}}"#;
        let probe = parse_probe(&format!("PHP Notice: x\n{line}\n")).unwrap();
        assert_eq!(probe.checks, [Ok(0.5), Err(ErrorKind::Refused)]);
        assert_eq!(probe.session.as_ref().unwrap().error, None);
        assert_eq!(parse_probe("garbage"), None);
    }

    #[test]
    fn verdicts() {
        let server = crate::session_config::parse_server("redis://h:1").unwrap();
        let probe = |checks, session: Option<Option<ErrorKind>>| ProbeResult {
            php: "8".into(),
            redis: Some("6".into()),
            extension: true,
            checks,
            session: session.map(|error| SessionCheck {
                handler: "redis".into(),
                write_ms: 1.0,
                read_ms: None,
                delete_ms: None,
                error,
            }),
        };
        let servers = [server];
        assert_eq!(
            verdict(&servers, false, "redis", &probe(vec![Ok(1.0)], Some(None))),
            None
        );
        assert_eq!(
            verdict(
                &servers,
                false,
                "redis",
                &probe(vec![Err(ErrorKind::Authentication)], None)
            ),
            Some(Cause::AuthenticationFailed("h:1".into()))
        );
        assert_eq!(
            verdict(
                &servers,
                true,
                "redis",
                &probe(vec![Err(ErrorKind::Timeout)], None)
            ),
            Some(Cause::Timeout("the cluster".into()))
        );
        assert_eq!(
            verdict(
                &servers,
                false,
                "redis",
                &probe(vec![Ok(1.0)], Some(Some(ErrorKind::Lock)))
            ),
            Some(Cause::SessionFailed(ErrorKind::Lock))
        );
        assert_eq!(
            verdict(
                &servers,
                false,
                "rediscluster",
                &probe(vec![Ok(1.0)], Some(None))
            ),
            Some(Cause::IniNotLoaded("redis".into()))
        );
        let mut missing = probe(vec![], None);
        missing.extension = false;
        assert_eq!(
            verdict(&servers, false, "redis", &missing),
            Some(Cause::ExtensionMissing)
        );
    }

    #[test]
    fn the_target_holds_what_php_needs() {
        let servers = crate::session_config::parse_servers("rediss://app:p%2Cw@h:1/2").unwrap();
        let decision = boot::decide(
            |name| {
                if name == "REDIS_URL" {
                    EnvValue::Text("rediss://app:p%2Cw@h:1/2".into())
                } else {
                    EnvValue::Unset
                }
            },
            &[],
        );
        let target: Value =
            serde_json::from_str(&probe_target(&decision, &servers, false)).unwrap();
        assert_eq!(target["servers"][0]["user"], "617070");
        assert_eq!(target["servers"][0]["password"], "702c77");
        assert_eq!(target["servers"][0]["database"], 2);
        assert_eq!(target["tls"], true);
        assert_eq!(target["stream"]["verify_peer"], false);
    }
}
