//! Every line users read, in one place: build logs, warnings, errors and boot messages.
//! Each error says what went wrong and what to do. Nothing here receives a secret: the
//! types rendered carry no password, URL or save path.

use crate::app_files::{AppError, FileError};
use crate::boot::{Fallback, Notice};
use crate::composer::{ComposerError, ComposerNames, FileKind, Found};
use crate::php_check::{CheckFailure, PhpCheck};
use crate::session_config::UrlError;

pub const BUILDPACK_NAME: &str = "PHP Redis Sessions";
/// Prefix of every boot line, so they can be found in `heroku logs`.
pub const BOOT_TAG: &str = "php-redis-sessions";

pub fn found(found: &Found, names: &ComposerNames) -> String {
    match found {
        Found::Manifest { section } => {
            format!("ext-redis is required in {} \"{section}\"", names.manifest)
        }
        Found::LockPlatform { section } => {
            format!("ext-redis is required in {} \"{section}\"", names.lock)
        }
        Found::LockPackage { section, package } => {
            format!(
                "ext-redis is required by {package} in {} \"{section}\"",
                names.lock
            )
        }
    }
}

/// What to do when ext-redis is not required.
pub fn not_required(names: &ComposerNames) -> String {
    format!(
        "this app does not require ext-redis, so PHP could not keep sessions in Redis; \
         add \"ext-redis\": \"*\" to \"require\" in {}, run `composer update`, and commit {}",
        names.manifest, names.lock
    )
}

pub fn app_error(error: &AppError, names: &ComposerNames) -> String {
    match error {
        AppError::File(error) => file_error(error),
        AppError::Composer(error) => composer_error(error, names),
    }
}

pub fn composer_error(error: &ComposerError, names: &ComposerNames) -> String {
    let name = |file: &FileKind| match file {
        FileKind::Manifest => names.manifest.as_str(),
        FileKind::Lock => names.lock.as_str(),
    };
    match error {
        ComposerError::InvalidJson {
            file,
            line,
            column,
            problem,
        } => format!(
            "{} is not valid JSON: line {line}, column {column}: {problem}; fix it (`composer validate` shows where) and commit it",
            name(file)
        ),
        ComposerError::WrongType {
            file,
            path,
            expected,
            found,
        } => format!(
            "{}: {} must be {expected} but is {found}; fix it (`composer validate` checks the file) and commit it",
            name(file),
            if path == "the top level" {
                path.clone()
            } else {
                format!("\"{path}\"")
            }
        ),
    }
}

pub fn file_error(error: &FileError) -> String {
    match error {
        FileError::IsDirectory { name } => {
            format!("{name} is a directory, not a file; remove or rename it")
        }
        FileError::Unreadable { name, reason } => {
            format!("{name} cannot be read ({reason}); check its permissions")
        }
        FileError::NotUtf8 { name } => format!("{name} is not UTF-8 text; save it as UTF-8"),
        FileError::TooLarge { name, limit } => {
            format!(
                "{name} is larger than {} MB; check that it is the right file",
                limit / (1024 * 1024)
            )
        }
    }
}

/// The one line a classic or CNB detect prints on stderr when it declines.
pub fn detect_declined(reason: &str) -> String {
    format!("{BUILDPACK_NAME}: {reason}")
}

pub fn boot_notice(notice: &Notice) -> String {
    let text = match notice {
        Notice::InvalidSetting(invalid) => format!(
            "{} must be {}; using the default, {}",
            invalid.name, invalid.expected, invalid.default
        ),
        Notice::UserWithoutPassword { url_var } => format!(
            "{url_var} names a user but no password, so sessions connect without logging in; \
             put the password in the URL (redis://USER:PASSWORD@HOST:PORT)"
        ),
        Notice::FileSessions(fallback) => file_sessions(fallback),
        Notice::UsingUrlVar { url_var, others } if others.is_empty() => format!(
            "REDIS_URL is not set, so sessions use {url_var}; set PHP_REDIS_SESSIONS_URL_VAR to choose another variable"
        ),
        Notice::UsingUrlVar { url_var, others } => format!(
            "REDIS_URL is not set, so sessions use {url_var}, the first of {}; \
             set PHP_REDIS_SESSIONS_URL_VAR to choose another",
            std::iter::once(url_var.as_str()).chain(others.iter().map(String::as_str)).collect::<Vec<_>>().join(", ")
        ),
        Notice::ClusterWithoutLocking => "sessions are in a Redis Cluster, where phpredis cannot lock them: \
            concurrent requests on one session can overwrite each other's changes; \
            use several URLs without PHP_REDIS_SESSIONS_CLUSTER (sharding, with locking) if that matters"
            .to_string(),
        Notice::ShardPrefixIgnored => "PHP_REDIS_SESSIONS_PREFIX is ignored with several servers: \
            phpredis would release each session's lock on the wrong server, so the keys are the bare session ids; \
            unset it, or switch locking off (PHP_REDIS_SESSIONS_LOCKING=0) to keep a prefix"
            .to_string(),
        Notice::ClusterDatabaseIgnored { url_var } => format!(
            "{url_var} names a database, which a Redis Cluster does not have; it is ignored, remove it from the URL"
        ),
    };
    format!("{BOOT_TAG}: {text}")
}

fn file_sessions(fallback: &Fallback) -> String {
    const KEPT: &str = "PHP keeps its default file sessions";
    match fallback {
        Fallback::Disabled => format!(
            "PHP_REDIS_SESSIONS_DISABLE is set, so {KEPT}; unset it to keep sessions in Redis"
        ),
        Fallback::UrlUnset { url_var } if url_var == crate::settings::DEFAULT_URL_VAR => format!(
            "{url_var} is not set (nor {}), so {KEPT}; attach a Redis add-on (heroku addons:create heroku-redis) \
             or name the variable holding the URL in PHP_REDIS_SESSIONS_URL_VAR",
            crate::boot::URL_SEARCH_ORDER[1..].join(", ")
        ),
        Fallback::UrlUnset { url_var } => format!(
            "{url_var} is not set, so {KEPT}; set it, or name the variable holding the URL in PHP_REDIS_SESSIONS_URL_VAR"
        ),
        Fallback::UrlNotUnicode { url_var } => format!(
            "{url_var} is not valid UTF-8, so {KEPT}; set it to a redis:// or rediss:// URL"
        ),
        Fallback::UrlUnusable { url_var, error } => format!(
            "{url_var} is not a usable Redis URL ({}), so {KEPT}; set it to \
             redis://[USER:PASSWORD@]HOST[:PORT][/DATABASE] (rediss:// for TLS), \
             with special characters in the password percent-encoded",
            url_error(error)
        ),
    }
}

/// Why a URL cannot be used. Never quotes any part of the URL: a malformed URL can put
/// its password anywhere, even where the scheme should be.
pub fn url_error(error: &UrlError) -> String {
    match error {
        UrlError::Empty => "it is empty".into(),
        UrlError::BadWeight => "its weight is not a whole number from 1 to 1000".into(),
        UrlError::InList {
            position,
            count,
            error,
        } => {
            format!("URL {position} of {count}: {}", url_error(error))
        }
        UrlError::ClusterMixed => {
            "the cluster's URLs differ in scheme, user or password; a cluster has one login".into()
        }
        UrlError::Unparsable(reason) => format!("it cannot be parsed: {reason}"),
        UrlError::UnknownScheme(_) => "it does not start with redis:// or rediss://".into(),
        UrlError::NoHost => "it has no host".into(),
        UrlError::BadHost => "its host has characters that no host name has".into(),
        UrlError::BadDatabase => "its path is not a database number such as /0".into(),
        UrlError::BadEscape => {
            "its user or password has a % that is not followed by two hex digits; write % as %25"
                .into()
        }
    }
}

/// The Cloud Native Buildpack's build log and exec.d lines (in `messages/cnb.rs`).
pub mod cnb;

/// Heroku classic build log: `-----> ` headers, details indented by 7 spaces.
pub mod classic {
    pub fn header(text: &str) -> String {
        format!("-----> {text}")
    }

    pub fn detail(text: &str) -> String {
        format!("       {text}")
    }

    pub fn warning(text: &str) -> String {
        format!(" !     WARNING: {text}")
    }

    pub fn error(text: &str) -> String {
        format!(" !     ERROR: {text}")
    }
}

/// A classic ENV_DIR entry that cannot be read as a config var.
pub fn env_var_ignored(name: &str, error: &FileError) -> String {
    let why = match error {
        FileError::IsDirectory { .. } => "it is a directory".to_string(),
        FileError::Unreadable { reason, .. } => format!("it cannot be read ({reason})"),
        FileError::NotUtf8 { .. } => "its value is not text".to_string(),
        FileError::TooLarge { .. } => "its value is too large".to_string(),
    };
    format!("ignoring the config var {name}: {why}; check it with `heroku config:get {name}`")
}

pub fn bad_composer_var() -> String {
    "the config var COMPOSER must name a file in the app's root directory, such as composer-heroku.json; \
     fix it with `heroku config:set COMPOSER=...`"
        .into()
}

pub fn install_failed(error: &std::io::Error) -> String {
    format!(
        "could not write the buildpack's files into the app ({error}); this is a bug, please report it"
    )
}

/// Where the PHP buildpack's PHP is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhpPlace {
    /// `.heroku/php/bin/php` in the classic build directory.
    Classic,
    /// `php` on the CNB build's PATH, from heroku/php's layers.
    Cnb,
}

/// What the check of the PHP buildpack's PHP found: detail lines and warning lines.
pub fn php_check(check: &PhpCheck, place: PhpPlace) -> (Vec<String>, Vec<String>) {
    let php = match place {
        PhpPlace::Classic => ".heroku/php/bin/php",
        PhpPlace::Cnb => "`php` (from heroku/php)",
    };
    match check {
        PhpCheck::Skipped => (
            vec![match place {
                PhpPlace::Classic => "Skipped the ext-redis check: no PHP in .heroku/php yet \
                    (on Heroku, heroku/php runs before this buildpack)"
                    .to_string(),
                PhpPlace::Cnb => "Skipped the ext-redis check: no `php` on the build's PATH \
                    (heroku/php, before this buildpack, provides it)"
                    .to_string(),
            }],
            vec![],
        ),
        PhpCheck::Loaded { version } if check.tls_sessions_unsupported() => (
            vec![format!("The PHP buildpack's PHP loads phpredis {version}")],
            vec![format!(
                "phpredis {version} ignores the TLS options of a session save path, so rediss:// URLs \
                 (every Heroku Key-Value Store plan) cannot work with it; phpredis 6 or newer can: \
                 use the heroku-24 stack or PHP 8.3 or newer, and require \"ext-redis\": \"^6\" in composer.json"
            )],
        ),
        PhpCheck::Loaded { version } => (
            vec![format!("The PHP buildpack's PHP loads phpredis {version}")],
            vec![],
        ),
        PhpCheck::NotLoaded => (
            vec![],
            vec![format!(
                "{php} does not load ext-redis, so PHP sessions would fail once a Redis URL is set; \
                 add heroku/php before this buildpack (heroku buildpacks) and require \"ext-redis\": \"*\" in composer.json"
            )],
        ),
        PhpCheck::Failed(failure) => {
            let why = match failure {
                CheckFailure::CouldNotRun(reason) => format!("it could not be started: {reason}"),
                CheckFailure::Exited(Some(code)) => format!("it exited with status {code}"),
                CheckFailure::Exited(None) => "it was killed by a signal".to_string(),
                CheckFailure::TimedOut => "it did not answer within 20 seconds".to_string(),
                CheckFailure::Unexpected => "its answer was not understood".to_string(),
            };
            (
                vec![],
                vec![format!(
                    "could not ask {php} whether it loads ext-redis ({why}); the build goes on, \
                     check with `heroku run php -m` that redis is listed"
                )],
            )
        }
    }
}

/// The classic build log's closing lines, the ones the README tells users to assert on.
pub fn classic_installed() -> Vec<String> {
    vec![
        "Installed the boot helper in .php-redis-sessions/ and .profile.d/200-php-redis-sessions.sh".into(),
        "At each dyno boot, PHP sessions go to the Redis in REDIS_URL, with locking".into(),
        "Without a usable REDIS_URL, PHP keeps its default file sessions".into(),
    ]
}

/// The doctor's first part: what boot decided, with the password shown as `****`.
pub fn doctor_decision(decision: &crate::boot::Decision) -> Vec<String> {
    use crate::boot::Outcome;
    use crate::session_config::{AuthKind, Mode};
    let row = |label: &str, value: String| format!("  {label:<13} {value}");
    let mut lines = vec![format!("{BOOT_TAG} doctor"), "Boot decided:".to_string()];
    for notice in &decision.notices {
        lines.push(format!(
            "  ! {}",
            boot_notice(notice).trim_start_matches(&format!("{BOOT_TAG}: "))
        ));
    }
    let Outcome::Redis {
        url_var,
        config,
        servers,
    } = &decision.outcome
    else {
        lines.push(row("Sessions", "PHP's default file sessions".into()));
        return lines;
    };
    let summary = &config.summary;
    let settings = &decision.settings;
    lines.push(row("URL variable", url_var.clone()));
    lines.push(row(
        "Sessions",
        match summary.mode {
            Mode::Single => "Redis, one server (save_handler redis)".to_string(),
            Mode::Shards(n) => format!("Redis, sharded over {n} servers (save_handler redis)"),
            Mode::Cluster(n) => format!("Redis Cluster, {n} seed(s) (save_handler rediscluster)"),
        },
    ));
    for server in servers {
        let weight = match (summary.mode, server.weight) {
            (Mode::Shards(_), Some(weight)) => format!(", weight {weight}"),
            _ => String::new(),
        };
        lines.push(row(
            "Server",
            format!("{}{weight}", crate::doctor::server_label(server)),
        ));
    }
    lines.push(row(
        "Scheme",
        if summary.tls {
            "rediss:// (TLS)".into()
        } else {
            "redis:// (plain TCP)".into()
        },
    ));
    if summary.tls {
        let verify = match (summary.verify, &settings.tls.ca_file) {
            (false, _) => "off (the default: Heroku's certificates are self-signed)".to_string(),
            (true, Some(ca)) => format!("on, CA file {ca}"),
            (true, None) => "on, with the system's CAs".to_string(),
        };
        lines.push(row("Verification", verify));
    }
    lines.push(row(
        "Database",
        match (summary.mode, summary.database) {
            (Mode::Cluster(_), _) => "none (a cluster has no databases)".into(),
            (_, database) => database.unwrap_or(0).to_string(),
        },
    ));
    lines.push(row(
        "Login",
        match &summary.auth {
            AuthKind::None => "none".into(),
            AuthKind::Password => "password ****".into(),
            AuthKind::User(user) => format!("user {user}, password ****"),
            AuthKind::UserWithoutPassword => "none (a user without a password)".into(),
        },
    ));
    lines.push(row(
        "Locking",
        if summary.locking {
            format!(
                "on (expire {} s, retry every {} us, {} tries)",
                config.lock_expire, config.lock_wait_time, config.lock_retries
            )
        } else if let Mode::Cluster(_) = summary.mode {
            "unavailable (phpredis cannot lock cluster sessions)".into()
        } else {
            "off".into()
        },
    ));
    lines.push(row(
        "Key prefix",
        if summary.key_prefix.is_empty() {
            "none (keys are the session ids)".into()
        } else {
            summary.key_prefix.clone()
        },
    ));
    lines.push(row(
        "Connections",
        format!(
            "{}, connect timeout {} s, read timeout {} s",
            if summary.persistent {
                "persistent"
            } else {
                "not persistent"
            },
            crate::settings::format_seconds(settings.timeout),
            crate::settings::format_seconds(settings.read_timeout)
        ),
    ));
    lines
}

/// The doctor's second part: versions and the checks that ran, with timings.
pub fn doctor_probe(
    servers: &[crate::session_config::Server],
    cluster: bool,
    probe: &crate::doctor::ProbeResult,
) -> Vec<String> {
    let row = |label: &str, value: String| format!("  {label:<13} {value}");
    let mut lines = vec![
        "PHP:".to_string(),
        row("PHP", probe.php.clone()),
        row(
            "phpredis",
            probe.redis.clone().unwrap_or_else(|| "not loaded".into()),
        ),
        "Checks:".to_string(),
    ];
    for (index, check) in probe.checks.iter().enumerate() {
        let what = if cluster {
            "connect to the cluster".to_string()
        } else {
            format!(
                "connect to {}",
                servers
                    .get(index)
                    .map(crate::doctor::server_label)
                    .unwrap_or_default()
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
        lines.push(format!(
            "  test session through PHP (save_handler {}): {result} ({}, {}, {})",
            session.handler,
            step("write", Some(session.write_ms)),
            step("read", session.read_ms),
            step("delete", session.delete_ms)
        ));
    }
    lines
}

pub fn doctor_ok() -> String {
    "OK: PHP keeps its sessions in Redis".to_string()
}

/// The doctor's last line when something failed: the cause and what to do.
pub fn doctor_failed(cause: &crate::doctor::Cause) -> String {
    use crate::doctor::{Cause, ErrorKind};
    let text = match cause {
        Cause::NoRedis => "no usable Redis URL, so PHP uses file sessions (see above); \
            attach a Redis add-on or set the URL variable"
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
        Cause::SessionFailed(kind) => {
            let why = match kind {
                ErrorKind::Lock => {
                    "the session lock could not be taken; another request held it too long"
                }
                ErrorKind::Timeout => "Redis did not answer in time",
                ErrorKind::Authentication => "authentication failed",
                ErrorKind::TlsVerification => "TLS verification failed",
                ErrorKind::Refused => "the connection was refused",
                ErrorKind::HostNotFound => "the host was not found",
                ErrorKind::Other => "PHP's session module reported an error",
            };
            format!("the servers answer, but the test session failed: {why}")
        }
    };
    format!("FAILED: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::InvalidSetting;

    /// Every boot line there is, in one snapshot.
    #[test]
    fn boot_messages() {
        let url_var = || "REDIS_URL".to_string();
        let mut notices = vec![
            Notice::FileSessions(Fallback::Disabled),
            Notice::FileSessions(Fallback::UrlUnset { url_var: url_var() }),
            Notice::FileSessions(Fallback::UrlNotUnicode { url_var: url_var() }),
            Notice::UserWithoutPassword { url_var: url_var() },
            Notice::UsingUrlVar {
                url_var: "REDIS_TLS_URL".into(),
                others: vec![],
            },
            Notice::UsingUrlVar {
                url_var: "HEROKU_REDIS_CRIMSON_URL".into(),
                others: vec!["HEROKU_REDIS_PINK_URL".into()],
            },
            Notice::ClusterWithoutLocking,
            Notice::ShardPrefixIgnored,
            Notice::ClusterDatabaseIgnored { url_var: url_var() },
        ];
        for error in [
            UrlError::Empty,
            UrlError::BadWeight,
            UrlError::InList {
                position: 2,
                count: 3,
                error: Box::new(UrlError::NoHost),
            },
            UrlError::ClusterMixed,
            UrlError::Unparsable("invalid port number".into()),
            UrlError::UnknownScheme("http".into()),
            UrlError::NoHost,
            UrlError::BadHost,
            UrlError::BadDatabase,
            UrlError::BadEscape,
        ] {
            notices.push(Notice::FileSessions(Fallback::UrlUnusable {
                url_var: url_var(),
                error,
            }));
        }
        let (_, invalid) = crate::settings::read(|name| Some(format!("bad value for {name}")));
        notices.extend(invalid.into_iter().map(Notice::InvalidSetting));
        notices.push(Notice::InvalidSetting(InvalidSetting {
            name: crate::settings::TIMEOUT,
            expected: "a number of seconds above 0 and at most 86400, such as 2.5",
            default: "5".into(),
        }));
        let lines: Vec<String> = notices.iter().map(boot_notice).collect();
        insta::assert_snapshot!(lines.join("\n"));
    }

    /// Every build and detect message about the app's files.
    #[test]
    fn app_messages() {
        let names = ComposerNames::default();
        let renamed = ComposerNames::for_manifest("composer-heroku.json");
        let mut lines = vec![
            found(&Found::Manifest { section: "require" }, &names),
            found(
                &Found::Manifest {
                    section: "require-dev",
                },
                &renamed,
            ),
            found(
                &Found::LockPlatform {
                    section: "platform",
                },
                &names,
            ),
            found(
                &Found::LockPlatform {
                    section: "platform-dev",
                },
                &renamed,
            ),
            found(
                &Found::LockPackage {
                    section: "packages",
                    package: "acme/sessions".into(),
                },
                &names,
            ),
            detect_declined(&not_required(&names)),
            classic::error(&not_required(&renamed)),
            classic::error(&bad_composer_var()),
            classic::error(&install_failed(&std::io::Error::from(
                std::io::ErrorKind::PermissionDenied,
            ))),
        ];
        let errors = [
            AppError::Composer(ComposerError::InvalidJson {
                file: FileKind::Lock,
                line: 4,
                column: 3,
                problem: "trailing comma".into(),
            }),
            AppError::Composer(ComposerError::WrongType {
                file: FileKind::Manifest,
                path: "require".into(),
                expected: "an object",
                found: "a number",
            }),
            AppError::Composer(ComposerError::WrongType {
                file: FileKind::Lock,
                path: "the top level".into(),
                expected: "an object",
                found: "an array",
            }),
            AppError::File(FileError::IsDirectory {
                name: "composer.json".into(),
            }),
            AppError::File(FileError::Unreadable {
                name: "composer.lock".into(),
                reason: "Permission denied (os error 13)".into(),
            }),
            AppError::File(FileError::NotUtf8 {
                name: "composer.json".into(),
            }),
            AppError::File(FileError::TooLarge {
                name: "composer.lock".into(),
                limit: 64 * 1024 * 1024,
            }),
        ];
        for error in &errors {
            lines.push(detect_declined(&app_error(error, &names)));
        }
        for error in [
            FileError::IsDirectory {
                name: "COMPOSER".into(),
            },
            FileError::Unreadable {
                name: "COMPOSER".into(),
                reason: "Permission denied (os error 13)".into(),
            },
            FileError::NotUtf8 {
                name: "COMPOSER".into(),
            },
            FileError::TooLarge {
                name: "COMPOSER".into(),
                limit: 65536,
            },
        ] {
            lines.push(classic::warning(&env_var_ignored("COMPOSER", &error)));
        }
        lines.extend(classic_installed().iter().map(|l| classic::detail(l)));
        insta::assert_snapshot!(lines.join("\n"));
    }

    /// Every outcome of the check of the PHP buildpack's PHP, as the build log shows it.
    #[test]
    fn php_check_messages() {
        let checks = [
            PhpCheck::Skipped,
            PhpCheck::Loaded {
                version: "6.3.0".into(),
            },
            PhpCheck::Loaded {
                version: "5.3.7".into(),
            },
            PhpCheck::NotLoaded,
            PhpCheck::Failed(CheckFailure::CouldNotRun(
                "Permission denied (os error 13)".into(),
            )),
            PhpCheck::Failed(CheckFailure::Exited(Some(255))),
            PhpCheck::Failed(CheckFailure::Exited(None)),
            PhpCheck::Failed(CheckFailure::TimedOut),
            PhpCheck::Failed(CheckFailure::Unexpected),
        ];
        let mut lines = vec![];
        for check in &checks {
            let (details, warnings) = php_check(check, PhpPlace::Classic);
            lines.push(format!("{check:?}:"));
            lines.extend(details.iter().map(|l| classic::detail(l)));
            lines.extend(warnings.iter().map(|l| classic::warning(l)));
        }
        for check in [&checks[0], &checks[3]] {
            let (details, warnings) = php_check(check, PhpPlace::Cnb);
            lines.push(format!("CNB {check:?}:"));
            lines.extend(details.iter().map(|l| cnb::step(l)));
            lines.extend(warnings.iter().map(|l| cnb::warning(l)));
        }
        insta::assert_snapshot!(lines.join("\n"));
    }
}
