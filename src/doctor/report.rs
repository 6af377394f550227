//! The doctor's report: what boot decided (the password shown as `****`), the versions
//! and checks the probe ran, and the verdict. Text only. It is handed the whole decision,
//! passwords and save path included, but those are `Secret`s, which print as `****`; it
//! shows the settings, the servers' labels and the save path's safe `Summary`.

use super::probe::{Cause, ErrorKind, Logging, ProbeResult};
use crate::boot::{Decision, Outcome};
use crate::composer::Framework;
use crate::config::redis_url::{AuthKind, Server};
use crate::config::save_path::{Mode, SessionConfig};
use crate::config::settings::{SessionHandler, Settings, format_seconds};
use crate::log::BOOT_TAG;
use crate::messages;

/// One `label value` row of the report.
fn row(label: &str, value: &str) -> String {
    format!("  {label:<13} {value}")
}

/// The report's first part: what boot decided.
pub(super) fn decision(decision: &Decision) -> Vec<String> {
    let mut lines = vec![format!("{BOOT_TAG} doctor"), "Boot decided:".to_string()];
    for notice in &decision.notices {
        lines.push(format!("  ! {}", messages::notice_text(notice)));
    }
    match &decision.outcome {
        Outcome::FileSessions => lines.push(row("Sessions", "PHP's default file sessions")),
        Outcome::Redis {
            url_var,
            config,
            servers,
            ..
        } => {
            lines.push(row("URL variable", url_var));
            lines.extend(redis_rows(config, servers, &decision.settings));
        }
    }
    lines
}

/// What the frameworks the build found in composer.lock do with sessions: this process's
/// PHP sessions are what the doctor checks, the framework's may be elsewhere.
pub(super) fn frameworks(frameworks: &[Framework]) -> Vec<String> {
    frameworks
        .iter()
        .map(|framework| {
            let name = messages::framework_sessions(*framework);
            let text = match framework {
                Framework::Laravel | Framework::CodeIgniter => format!(
                    "composer.lock shows {name}: PHP's own sessions are checked below, but {name} keeps its \
                     sessions with its own drivers, never with PHP's handler, so they are not in Redis unless \
                     its own settings put them there (the build log says how)"
                ),
                Framework::Symfony => format!(
                    "composer.lock shows {name}: they use PHP's handler, checked below, when \
                     framework.session.handler_id is null (Symfony's recipes) and no save_path is set; \
                     session.handler.native_file keeps them in files"
                ),
                Framework::Yii3 => format!(
                    "composer.lock shows {name}: they use PHP's handler, checked below, unless the app gives \
                     the session a handler of its own"
                ),
            };
            format!("  ! {text}")
        })
        .collect()
}

fn redis_rows(config: &SessionConfig, servers: &[Server], settings: &Settings) -> Vec<String> {
    let summary = &config.summary;
    let mut lines = vec![row("Sessions", &sessions(summary.mode, config.handler))];
    for server in servers {
        let weight = match (summary.mode, server.weight) {
            (Mode::Shards(_), Some(weight)) => format!(", weight {weight}"),
            _ => String::new(),
        };
        lines.push(row("Server", &format!("{}{weight}", server.label())));
    }
    lines.push(row(
        "Scheme",
        if summary.tls {
            "rediss:// (TLS)"
        } else {
            "redis:// (plain TCP)"
        },
    ));
    if summary.tls {
        lines.push(row("Verification", &verification(summary.verify, settings)));
    }
    let database = match (summary.mode, summary.database) {
        (Mode::Cluster(_), _) => "none (a cluster has no databases)".to_string(),
        (_, database) => database.unwrap_or(0).to_string(),
    };
    lines.push(row("Database", &database));
    lines.push(row("Login", &login(&summary.auth)));
    lines.push(row("Locking", &locking(config)));
    let prefix = if summary.key_prefix.is_empty() {
        "none (keys are the session ids)"
    } else {
        &summary.key_prefix
    };
    lines.push(row("Key prefix", prefix));
    lines.push(row(
        "Connections",
        &connections(summary.persistent, settings),
    ));
    lines
}

/// Where a failed session's warning would go with these settings, and what it holds.
fn logging_text(logging: &Logging, handler: SessionHandler) -> String {
    let display = !matches!(
        logging.display_errors.to_ascii_lowercase().as_str(),
        "" | "0" | "off" | "false" | "no" | "stderr"
    );
    let to = match logging.error_log.as_str() {
        _ if !logging.log_errors => None,
        "" => Some("stderr, i.e. the dyno's log".to_string()),
        "syslog" => Some("syslog".to_string()),
        file => Some(file.to_string()),
    };
    let mut parts = vec![match &to {
        Some(to) => format!("log_errors on (to {to})"),
        None => "log_errors off".to_string(),
    }];
    parts.push(format!(
        "display_errors {}",
        if display {
            "on (into the page: turn it off in production)"
        } else {
            "off"
        }
    ));
    let carried = logging.warnings && (to.is_some() || display);
    let what = match (carried, handler) {
        (false, _) => "a failed session's warning would be written nowhere".to_string(),
        (true, SessionHandler::Phpredis) => "a failed session's warning would go there, quoting \
            session.save_path, password included"
            .to_string(),
        (true, SessionHandler::Buildpack) => "a failed session's warning would go there, \
            without any password (the buildpack's handler)"
            .to_string(),
    };
    format!(
        "{}; {what} (the CLI's settings; a php-fpm pool can change them)",
        parts.join(", ")
    )
}

fn sessions(mode: Mode, handler: SessionHandler) -> String {
    let native = |save_handler: &str| match handler {
        SessionHandler::Phpredis => format!("save_handler {save_handler}"),
        SessionHandler::Buildpack => "the buildpack's session handler".to_string(),
    };
    match mode {
        Mode::Single => format!("Redis, one server ({})", native("redis")),
        Mode::Shards(n) => format!("Redis, sharded over {n} servers ({})", native("redis")),
        Mode::Cluster(n) => format!("Redis Cluster, {n} seed(s) ({})", native("rediscluster")),
    }
}

fn verification(verify: bool, settings: &Settings) -> String {
    match (verify, &settings.tls.ca_file) {
        (false, _) => "off (the default: Heroku's certificates are self-signed)".to_string(),
        (true, Some(ca)) => format!("on, CA file {ca}"),
        (true, None) => "on, with the system's CAs".to_string(),
    }
}

fn login(auth: &AuthKind) -> String {
    match auth {
        AuthKind::None => "none".into(),
        AuthKind::Password => "password ****".into(),
        AuthKind::User(user) => format!("user {user}, password ****"),
        AuthKind::UserWithoutPassword => "none (a user without a password)".into(),
    }
}

fn locking(config: &SessionConfig) -> String {
    if config.summary.locking {
        format!(
            "on (expire {} s, retry every {} us, {} tries)",
            config.lock_expire, config.lock_wait_time, config.lock_retries
        )
    } else if let Mode::Cluster(_) = config.summary.mode {
        "unavailable (phpredis cannot lock cluster sessions)".into()
    } else {
        "off".into()
    }
}

fn connections(persistent: bool, settings: &Settings) -> String {
    format!(
        "{}, connect timeout {} s, read timeout {} s",
        if persistent {
            "persistent"
        } else {
            "not persistent"
        },
        format_seconds(settings.timeout),
        format_seconds(settings.read_timeout)
    )
}

/// The report's second part: versions and the checks that ran, with timings.
pub(super) fn probe(
    servers: &[Server],
    cluster: bool,
    handler: SessionHandler,
    built: Option<&str>,
    probe: &ProbeResult,
) -> Vec<String> {
    let phpredis = match (probe.redis.as_deref(), built) {
        (None, _) => "not loaded".to_string(),
        (Some(now), Some(built)) if now != built => format!(
            "{now} (the build found {built}: build the app again after changing PHP or phpredis)"
        ),
        (Some(now), _) => now.to_string(),
    };
    let mut lines = vec![
        "PHP:".to_string(),
        row("PHP", &probe.php),
        row("phpredis", &phpredis),
    ];
    if let Some(logging) = &probe.logging {
        lines.push(row("Logging", &logging_text(logging, handler)));
    }
    lines.push("Checks:".to_string());
    for (index, check) in probe.checks.iter().enumerate() {
        let what = if cluster {
            "connect to the cluster".to_string()
        } else {
            format!(
                "connect to {}",
                servers.get(index).map(Server::label).unwrap_or_default()
            )
        };
        lines.push(match check {
            Ok(ms) => format!("  {what}: ok ({ms} ms)"),
            Err(_) => format!("  {what}: failed"),
        });
    }
    if let Some(session) = &probe.session {
        let step = |name: &str, ms: Option<f64>| match ms {
            Some(ms) => format!("{name} {ms} ms"),
            None => format!("{name} -"),
        };
        let result = if session.error.is_none() {
            "ok"
        } else {
            "failed"
        };
        let handler = match session.handler.as_str() {
            "buildpack" => "the buildpack's handler".to_string(),
            other => format!("save_handler {other}"),
        };
        lines.push(format!(
            "  test session through PHP ({handler}): {result} ({}, {}, {})",
            step("write", Some(session.write_ms)),
            step("read", session.read_ms),
            step("delete", session.delete_ms)
        ));
    }
    lines
}

pub(super) fn ok() -> String {
    "OK: PHP keeps its sessions in Redis".to_string()
}

/// The report's last line when something failed: the cause and what to do.
pub(super) fn failed(cause: &Cause) -> String {
    let text = match cause {
        Cause::NoRedis => "no usable Redis URL, so PHP uses file sessions (see above); \
            attach a Redis add-on or set the URL variable"
            .to_string(),
        Cause::NotBooted => "this process was started without boot (its environment lacks what the \
            .profile.d script or the CNB exec.d program sets), so its PHP keeps file sessions; the checks \
            above used what boot would set. Run the doctor the way processes start: heroku run \
            php-redis-sessions doctor on Heroku classic; on Cloud Native Buildpacks through the launcher \
            (docker run --rm IMAGE php-redis-sessions doctor, or /cnb/lifecycle/launcher \
            php-redis-sessions doctor from a shell in the container)"
            .to_string(),
        Cause::IniNotLoaded(handler) => format!(
            "PHP uses save_handler {handler}, so it did not load the buildpack's ini; run the doctor on a dyno \
             (heroku run php-redis-sessions doctor), and keep .php-redis-sessions/conf.d in PHP_INI_SCAN_DIR"
        ),
        Cause::PhpMissing => {
            "PHP could not be run (is heroku/php before this buildpack, and `php` on PATH?)".into()
        }
        Cause::ExtensionMissing => {
            "PHP does not load ext-redis; require \"ext-redis\": \"*\" in composer.json, \
            run `composer update`, and deploy again"
                .into()
        }
        Cause::ConnectionRefused(server) => format!(
            "connection refused by {server}; check that Redis runs there and that the URL names the right host and port"
        ),
        Cause::AuthenticationFailed(server) => format!(
            "authentication failed at {server}; the user or password in the URL is wrong \
             (after a credential rotation, restart the dynos: heroku ps:restart)"
        ),
        Cause::TlsVerificationFailed(server) => format!(
            "TLS verification failed at {server}; check PHP_REDIS_SESSIONS_TLS_CA_FILE, \
             or unset PHP_REDIS_SESSIONS_TLS_VERIFY for Heroku's self-signed certificates"
        ),
        Cause::Timeout(server) => format!(
            "timeout talking to {server}; check the host and port, that it speaks TLS exactly when the URL says \
             rediss://, and PHP_REDIS_SESSIONS_TIMEOUT and PHP_REDIS_SESSIONS_READ_TIMEOUT"
        ),
        Cause::HostNotFound(server) => {
            format!("host not found: {server}; check the URL's host name")
        }
        Cause::ConnectionFailed(server) => format!("could not connect to {server}; check the URL"),
        Cause::SessionFailed(kind) => format!(
            "the servers answer, but the test session failed: {}",
            session_failure(*kind)
        ),
    };
    format!("FAILED: {text}")
}

fn session_failure(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Lock => "the session lock could not be taken; another request held it too long",
        ErrorKind::Timeout => "Redis did not answer in time",
        ErrorKind::Authentication => "authentication failed",
        ErrorKind::TlsVerification => "TLS verification failed",
        ErrorKind::Refused => "the connection was refused",
        ErrorKind::HostNotFound => "the host was not found",
        ErrorKind::Other => "PHP's session module reported an error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_a_failed_sessions_warning_goes() {
        let logging = |display: &str, log: bool, file: &str, warnings: bool| Logging {
            display_errors: display.into(),
            log_errors: log,
            error_log: file.into(),
            warnings,
        };
        let cases = [
            (logging("0", true, "", true), SessionHandler::Phpredis),
            (
                logging("Off", true, "/tmp/php-fpm.log", true),
                SessionHandler::Phpredis,
            ),
            (logging("1", false, "", true), SessionHandler::Phpredis),
            (
                logging("stderr", true, "syslog", true),
                SessionHandler::Buildpack,
            ),
            (logging("", false, "", true), SessionHandler::Phpredis),
            (logging("On", true, "", false), SessionHandler::Phpredis),
        ];
        let text: Vec<String> = cases
            .iter()
            .map(|(logging, handler)| logging_text(logging, *handler))
            .collect();
        insta::assert_snapshot!(text.join("\n"));
    }
}
