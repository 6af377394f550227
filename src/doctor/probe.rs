//! The doctor's PHP side: `files/doctor-probe.php`, run by the PHP of the dyno with the
//! variables boot set, checks every server and writes, reads and deletes a test session,
//! then answers with one JSON line, read here into typed structs (an answer of another
//! shape is no answer). Raw error messages from PHP may quote the save path, so they are
//! only classified here, never kept.

use crate::boot::Var;
use crate::config::redis_url::{AuthKind, Server};
use crate::config::settings::Settings;
use serde::{Deserialize, Serialize};
use std::process::{Command, Stdio};

/// Where the probe finds its target: the environment, never the command line.
const TARGET_VAR: &str = "PHP_REDIS_SESSIONS_DOCTOR_TARGET";
const PROBE: &str = include_str!("../../files/doctor-probe.php");

/// Why the doctor failed, as users need to hear it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Cause {
    /// Boot keeps file sessions: no URL, an unusable one, or switched off.
    NoRedis,
    /// This process was not booted (a shell that bypassed `.profile.d` or the CNB
    /// launcher): its PHP keeps file sessions whatever the checks found.
    NotBooted,
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
pub(super) enum ErrorKind {
    Refused,
    Authentication,
    TlsVerification,
    Timeout,
    HostNotFound,
    Lock,
    Other,
}

/// Sorts a phpredis, PHP stream or Redis error message into what it means.
pub(super) fn classify(message: &str) -> ErrorKind {
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
pub(super) struct ProbeResult {
    pub php: String,
    pub redis: Option<String>,
    pub extension: bool,
    /// Per server (one entry for a cluster): milliseconds, or the error's kind.
    pub checks: Vec<Result<f64, ErrorKind>>,
    pub session: Option<SessionCheck>,
    pub logging: Option<Logging>,
}

/// PHP's error-logging settings, as the doctor's PHP has them: where a warning of the
/// session module (which quotes `session.save_path`) would go.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(super) struct Logging {
    pub display_errors: String,
    pub log_errors: bool,
    pub error_log: String,
    /// `error_reporting` includes `E_WARNING`.
    pub warnings: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct SessionCheck {
    pub handler: String,
    pub write_ms: f64,
    pub read_ms: Option<f64>,
    pub delete_ms: Option<f64>,
    pub error: Option<ErrorKind>,
}

/// The probe's answer as PHP writes it.
#[derive(Deserialize)]
struct Answer {
    php: String,
    redis: Option<String>,
    extension: bool,
    #[serde(default)]
    checks: Vec<CheckAnswer>,
    #[serde(default)]
    session: Option<SessionAnswer>,
    #[serde(default)]
    logging: Option<Logging>,
}

#[derive(Deserialize)]
struct CheckAnswer {
    ok: bool,
    ms: f64,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct SessionAnswer {
    handler: String,
    write_ms: f64,
    #[serde(default)]
    read_ms: Option<f64>,
    #[serde(default)]
    delete_ms: Option<f64>,
    ok: bool,
    #[serde(default)]
    error: Option<String>,
}

/// Reads the probe's JSON line; `None` when PHP printed something else.
pub(super) fn parse_probe(stdout: &str) -> Option<ProbeResult> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))?;
    let answer: Answer = serde_json::from_str(line).ok()?;
    let kind =
        |ok: bool, error: Option<String>| (!ok).then(|| classify(&error.unwrap_or_default()));
    Some(ProbeResult {
        php: answer.php,
        redis: answer.redis,
        extension: answer.extension,
        checks: answer
            .checks
            .into_iter()
            .map(|check| match kind(check.ok, check.error) {
                None => Ok(check.ms),
                Some(kind) => Err(kind),
            })
            .collect(),
        session: answer.session.map(|session| SessionCheck {
            handler: session.handler,
            write_ms: session.write_ms,
            read_ms: session.read_ms,
            delete_ms: session.delete_ms,
            error: kind(session.ok, session.error),
        }),
        logging: answer.logging,
    })
}

/// The first failure in the probe's answer, if any. `handler` is the one boot chose.
pub(super) fn verdict(
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
                servers.get(index).map_or_else(String::new, Server::label)
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

/// What the probe needs to reach the servers. Holds the passwords (hex, so that any byte
/// survives): it only ever goes to the PHP child's environment.
#[derive(Serialize)]
struct Target<'a> {
    cluster: bool,
    tls: bool,
    stream: Stream<'a>,
    timeout: f64,
    read_timeout: f64,
    servers: Vec<TargetServer<'a>>,
}

/// PHP's SSL context options.
#[derive(Serialize)]
struct Stream<'a> {
    verify_peer: bool,
    verify_peer_name: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cafile: Option<&'a str>,
}

#[derive(Serialize)]
struct TargetServer<'a> {
    host: &'a str,
    port: u16,
    /// Only for an ACL user: a nominal user logs in with the password alone.
    user: Option<String>,
    password: String,
    database: Option<u32>,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn probe_target(settings: &Settings, servers: &[Server], cluster: bool) -> String {
    let verify = settings.tls.verify;
    let target = Target {
        cluster,
        tls: servers.first().is_some_and(|s| s.tls),
        stream: Stream {
            verify_peer: verify,
            verify_peer_name: verify,
            cafile: settings.tls.ca_file.as_deref().filter(|_| verify),
        },
        timeout: settings.timeout,
        read_timeout: settings.read_timeout,
        servers: servers
            .iter()
            .map(|s| TargetServer {
                host: &s.host,
                port: s.port,
                user: matches!(s.auth(), AuthKind::User(_)).then(|| hex(&s.user)),
                password: hex(s.password.expose()),
                database: s.database,
            })
            .collect(),
    };
    serde_json::to_string(&target).expect("the target is plain data")
}

/// Runs the probe with `php` on PATH, in this process's environment plus the variables
/// boot would set (`vars`); `None` when PHP could not be run or gave no answer.
pub(super) fn run(
    vars: &[Var],
    settings: &Settings,
    servers: &[Server],
    cluster: bool,
) -> Option<ProbeResult> {
    let output = Command::new("php")
        .args(["-r", PROBE.trim_start_matches("<?php").trim_start()])
        .envs(vars.iter().map(|(name, value)| (*name, value.expose())))
        .env(TARGET_VAR, probe_target(settings, servers, cluster))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    parse_probe(&String::from_utf8_lossy(&output.stdout))
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
        let server = crate::config::redis_url::parse_server("redis://h:1").unwrap();
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
            logging: None,
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
    fn malformed_answers_are_no_answer() {
        for line in [
            r#"{"php":"8","redis":null}"#,
            r#"{"php":"8","redis":null,"extension":"yes"}"#,
            r#"{"php":"8","redis":null,"extension":true,"checks":[{"ok":true}]}"#,
            r#"{"php":"8","redis":null,"extension":true,"session":{"handler":"redis","ok":true}}"#,
        ] {
            assert!(parse_probe(line).is_none(), "{line}");
        }
        let answer = parse_probe(r#"{"php":"8","redis":null,"extension":false}"#).unwrap();
        assert!(answer.checks.is_empty() && answer.session.is_none());
    }

    #[test]
    fn the_target_holds_what_php_needs() {
        let servers = crate::config::redis_url::parse_servers("rediss://app:p%2Cw@h:1/2").unwrap();
        let target: serde_json::Value =
            serde_json::from_str(&probe_target(&Settings::default(), &servers, false)).unwrap();
        assert_eq!(target["servers"][0]["user"], "617070");
        assert_eq!(target["servers"][0]["password"], "702c77");
        assert_eq!(target["servers"][0]["database"], 2);
        assert_eq!(target["tls"], true);
        assert_eq!(target["stream"]["verify_peer"], false);
        assert!(target["stream"].get("cafile").is_none());
    }
}
