//! The buildpack's config vars, read at boot: a table of each var's name, the setting it
//! sets and what it must look like. Pure: it takes a lookup function, and every bad value
//! becomes a warning plus the safe default.

/// The variable holding the Redis URL unless `PHP_REDIS_SESSIONS_URL_VAR` names another.
pub(crate) const DEFAULT_URL_VAR: &str = "REDIS_URL";

pub(crate) const URL_VAR: &str = "PHP_REDIS_SESSIONS_URL_VAR";
pub(crate) const DISABLE: &str = "PHP_REDIS_SESSIONS_DISABLE";
pub(crate) const CLUSTER: &str = "PHP_REDIS_SESSIONS_CLUSTER";
pub(crate) const TLS_VERIFY: &str = "PHP_REDIS_SESSIONS_TLS_VERIFY";
pub(crate) const TLS_CA_FILE: &str = "PHP_REDIS_SESSIONS_TLS_CA_FILE";
pub(crate) const PERSISTENT: &str = "PHP_REDIS_SESSIONS_PERSISTENT";
pub(crate) const PREFIX: &str = "PHP_REDIS_SESSIONS_PREFIX";
pub(crate) const TIMEOUT: &str = "PHP_REDIS_SESSIONS_TIMEOUT";
pub(crate) const READ_TIMEOUT: &str = "PHP_REDIS_SESSIONS_READ_TIMEOUT";
pub(crate) const LOCKING: &str = "PHP_REDIS_SESSIONS_LOCKING";
pub(crate) const LOCK_EXPIRE: &str = "PHP_REDIS_SESSIONS_LOCK_EXPIRE";
pub(crate) const LOCK_WAIT_TIME: &str = "PHP_REDIS_SESSIONS_LOCK_WAIT_TIME";
pub(crate) const LOCK_RETRIES: &str = "PHP_REDIS_SESSIONS_LOCK_RETRIES";
pub(crate) const STRICT_MODE: &str = "PHP_REDIS_SESSIONS_STRICT_MODE";
pub(crate) const HANDLER: &str = "PHP_REDIS_SESSIONS_HANDLER";

/// Which session handler keeps the sessions in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionHandler {
    /// phpredis' own (`session.save_handler = redis`), configured by the save path.
    Phpredis,
    /// The buildpack's (files/session-handler.php): two round trips for a locked request,
    /// locking with shards and clusters, and no password in `session.save_path`.
    Buildpack,
}

#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "one field per config var, each its own switch"
)]
pub struct Settings {
    /// The variable named by `PHP_REDIS_SESSIONS_URL_VAR`; `None` searches the usual ones.
    pub url_var: Option<String>,
    pub disabled: bool,
    /// The URLs are seeds of a Redis Cluster (`rediscluster` handler).
    pub cluster: bool,
    pub tls: TlsSettings,
    pub persistent: bool,
    /// `None`: phpredis' own `PHPREDIS_SESSION:`, followed by the app's namespace.
    pub prefix: Option<String>,
    /// PHP's `session.use_strict_mode`: a session id a client makes up is refused.
    pub strict_mode: bool,
    pub handler: SessionHandler,
    /// Connect timeout in seconds (phpredis' session default is 86400, which hangs requests).
    pub timeout: f64,
    pub read_timeout: f64,
    pub lock: LockSettings,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub verify: bool,
    pub ca_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockSettings {
    pub enabled: bool,
    /// Seconds a lock lives if its holder dies: Heroku's router gives up after 30 s.
    pub expire: u32,
    /// Microseconds between two tries to take the lock.
    pub wait_time: u32,
    /// How often to try; `wait_time * retries` is the longest a request waits.
    pub retries: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            url_var: None,
            disabled: false,
            cluster: false,
            tls: TlsSettings {
                verify: false,
                ca_file: None,
            },
            persistent: true,
            prefix: None,
            strict_mode: true,
            handler: SessionHandler::Phpredis,
            timeout: 2.0,
            read_timeout: 2.0,
            lock: LockSettings {
                enabled: true,
                expire: 30,
                wait_time: 10_000,
                retries: 1_500,
            },
        }
    }
}

/// A config var whose value could not be used; the default was taken instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSetting {
    pub name: &'static str,
    pub expected: &'static str,
    pub default: String,
}

/// How the text of one config var becomes a setting: which field it sets, and what it
/// must look like.
enum Kind {
    /// The name of another environment variable.
    VarName(fn(&mut Settings) -> &mut Option<String>),
    /// Any text.
    Text(fn(&mut Settings) -> &mut Option<String>),
    /// `phpredis` or `buildpack`.
    Handler(fn(&mut Settings) -> &mut SessionHandler),
    Flag(fn(&mut Settings) -> &mut bool),
    /// Seconds above 0, at most a day.
    Seconds(fn(&mut Settings) -> &mut f64),
    /// A whole number in `min..=max`; `expected` says so in words.
    Whole {
        field: fn(&mut Settings) -> &mut u32,
        min: u32,
        max: u32,
        expected: &'static str,
    },
}

/// Every config var, in the order their problems are reported.
const TABLE: &[(&str, Kind)] = &[
    (URL_VAR, Kind::VarName(|s| &mut s.url_var)),
    (DISABLE, Kind::Flag(|s| &mut s.disabled)),
    (CLUSTER, Kind::Flag(|s| &mut s.cluster)),
    (TLS_VERIFY, Kind::Flag(|s| &mut s.tls.verify)),
    (PERSISTENT, Kind::Flag(|s| &mut s.persistent)),
    (LOCKING, Kind::Flag(|s| &mut s.lock.enabled)),
    (STRICT_MODE, Kind::Flag(|s| &mut s.strict_mode)),
    (HANDLER, Kind::Handler(|s| &mut s.handler)),
    (TLS_CA_FILE, Kind::Text(|s| &mut s.tls.ca_file)),
    (PREFIX, Kind::Text(|s| &mut s.prefix)),
    (TIMEOUT, Kind::Seconds(|s| &mut s.timeout)),
    (READ_TIMEOUT, Kind::Seconds(|s| &mut s.read_timeout)),
    (
        LOCK_EXPIRE,
        Kind::Whole {
            field: |s| &mut s.lock.expire,
            min: 1,
            max: 86_400,
            expected: "a whole number of seconds from 1 to 86400",
        },
    ),
    (
        LOCK_WAIT_TIME,
        Kind::Whole {
            field: |s| &mut s.lock.wait_time,
            min: 1,
            max: 10_000_000,
            expected: "a whole number of microseconds from 1 to 10000000",
        },
    ),
    (
        LOCK_RETRIES,
        Kind::Whole {
            field: |s| &mut s.lock.retries,
            min: 1,
            max: 1_000_000,
            expected: "a whole number from 1 to 1000000",
        },
    ),
];

/// Reads every config var through `lookup`. Unset and empty values mean the default; a
/// value that cannot be used keeps the default and is reported.
pub(crate) fn read(lookup: impl Fn(&str) -> Option<String>) -> (Settings, Vec<InvalidSetting>) {
    let get = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut settings = Settings::default();
    let mut invalid = Vec::new();
    for (name, kind) in TABLE {
        if let Some(value) = get(name)
            && let Err((expected, default)) = apply(&mut settings, kind, value)
        {
            invalid.push(InvalidSetting {
                name,
                expected,
                default,
            });
        }
    }
    // A CA file only makes sense with verification: setting it turns verification on
    // unless PHP_REDIS_SESSIONS_TLS_VERIFY says 0 explicitly (an invalid value, already
    // reported, does not count as saying 0).
    let explicitly_off = get(TLS_VERIFY).and_then(|value| parse_flag(&value)) == Some(false);
    if settings.tls.ca_file.is_some() && !explicitly_off {
        settings.tls.verify = true;
    }
    (settings, invalid)
}

/// Sets the field `kind` names from `value`; `Err` holds what was expected and the
/// default kept.
fn apply(
    settings: &mut Settings,
    kind: &Kind,
    value: String,
) -> Result<(), (&'static str, String)> {
    match kind {
        Kind::VarName(field) if crate::env::is_env_name(&value) => *field(settings) = Some(value),
        Kind::VarName(_) => {
            return Err((
                "the name of an environment variable (letters, digits and _)",
                DEFAULT_URL_VAR.into(),
            ));
        }
        Kind::Text(field) => *field(settings) = Some(value),
        Kind::Handler(field) => {
            *field(settings) = match value.to_ascii_lowercase().as_str() {
                "phpredis" => SessionHandler::Phpredis,
                "buildpack" => SessionHandler::Buildpack,
                _ => return Err(("phpredis or buildpack", "phpredis".to_string())),
            };
        }
        Kind::Flag(field) => {
            let target = field(settings);
            *target = parse_flag(&value).ok_or_else(|| {
                (
                    "1 or 0 (also true/false, yes/no, on/off)",
                    if *target { "1" } else { "0" }.to_string(),
                )
            })?;
        }
        Kind::Seconds(field) => {
            let target = field(settings);
            match value.parse::<f64>() {
                Ok(parsed) if parsed.is_finite() && parsed > 0.0 && parsed <= 86_400.0 => {
                    *target = parsed;
                }
                _ => {
                    return Err((
                        "a number of seconds above 0 and at most 86400, such as 2.5",
                        format_seconds(*target),
                    ));
                }
            }
        }
        Kind::Whole {
            field,
            min,
            max,
            expected,
        } => {
            let target = field(settings);
            match value.parse::<u32>() {
                Ok(parsed) if (*min..=*max).contains(&parsed) => *target = parsed,
                _ => return Err((expected, target.to_string())),
            }
        }
    }
    Ok(())
}

/// Seconds as phpredis reads them (`5`, `2.5`).
pub(crate) fn format_seconds(value: f64) -> String {
    format!("{value}")
}

fn parse_flag(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read_from(pairs: &[(&str, &str)]) -> (Settings, Vec<InvalidSetting>) {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        read(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults() {
        let (settings, invalid) = read_from(&[]);
        assert_eq!(settings, Settings::default());
        assert!(invalid.is_empty());
        // The longest wait for a lock is half the lock's life and half of Heroku's 30 s
        // (php-fpm's request_terminate_timeout and the router's): a waiter that got a dead
        // holder's lock after 29 s would be killed holding a new one, and the next request
        // would wait again (measured: 27 s); at 15 s it gives up with time to answer.
        let lock = settings.lock;
        assert_eq!(
            2 * u64::from(lock.wait_time) * u64::from(lock.retries),
            u64::from(lock.expire) * 1_000_000
        );
    }

    #[test]
    fn empty_values_mean_default() {
        let all: Vec<(&str, &str)> = TABLE.iter().map(|(name, _)| (*name, "  ")).collect();
        assert_eq!(read_from(&all), (Settings::default(), vec![]));
    }

    #[test]
    fn every_setting_is_read() {
        let (settings, invalid) = read_from(&[
            (URL_VAR, "REDISCLOUD_URL"),
            (DISABLE, "yes"),
            (CLUSTER, "on"),
            (TLS_VERIFY, "true"),
            (TLS_CA_FILE, "/app/ca.pem"),
            (PERSISTENT, "off"),
            (PREFIX, "myapp:"),
            (TIMEOUT, "2.5"),
            (READ_TIMEOUT, "10"),
            (LOCKING, "0"),
            (LOCK_EXPIRE, "60"),
            (LOCK_WAIT_TIME, "5000"),
            (LOCK_RETRIES, "12000"),
            (STRICT_MODE, "off"),
            (HANDLER, "Buildpack"),
        ]);
        assert!(invalid.is_empty(), "{invalid:?}");
        assert_eq!(
            settings,
            Settings {
                url_var: Some("REDISCLOUD_URL".into()),
                disabled: true,
                cluster: true,
                tls: TlsSettings {
                    verify: true,
                    ca_file: Some("/app/ca.pem".into())
                },
                persistent: false,
                prefix: Some("myapp:".into()),
                strict_mode: false,
                handler: SessionHandler::Buildpack,
                timeout: 2.5,
                read_timeout: 10.0,
                lock: LockSettings {
                    enabled: false,
                    expire: 60,
                    wait_time: 5000,
                    retries: 12000
                },
            }
        );
    }

    #[test]
    fn ca_file_turns_verification_on_unless_told_otherwise() {
        assert!(read_from(&[(TLS_CA_FILE, "/ca.pem")]).0.tls.verify);
        // An invalid TLS_VERIFY (warned about) does not switch the CA file's verification off.
        assert!(
            read_from(&[(TLS_CA_FILE, "/ca.pem"), (TLS_VERIFY, "2")])
                .0
                .tls
                .verify
        );
        assert!(
            !read_from(&[(TLS_CA_FILE, "/ca.pem"), (TLS_VERIFY, "0")])
                .0
                .tls
                .verify
        );
    }

    #[test]
    fn bad_values_fall_back_with_a_warning() {
        let cases: &[(&str, &str)] = &[
            (URL_VAR, "REDIS-URL"),
            (URL_VAR, "1REDIS"),
            (URL_VAR, "$REDIS_URL"),
            (DISABLE, "maybe"),
            (CLUSTER, "3"),
            (TLS_VERIFY, "2"),
            (PERSISTENT, "enabled"),
            (LOCKING, "y"),
            (TIMEOUT, "0"),
            (TIMEOUT, "-1"),
            (TIMEOUT, "NaN"),
            (TIMEOUT, "inf"),
            (TIMEOUT, "1e9"),
            (READ_TIMEOUT, "5s"),
            (LOCK_EXPIRE, "0"),
            (LOCK_EXPIRE, "1.5"),
            (LOCK_WAIT_TIME, "-5"),
            (LOCK_WAIT_TIME, "99999999999"),
            (LOCK_RETRIES, "-1"),
            (LOCK_RETRIES, "0"),
            (HANDLER, "pipelined"),
        ];
        for (name, value) in cases {
            let (settings, invalid) = read_from(&[(name, value)]);
            assert_eq!(settings, Settings::default(), "{name}={value}");
            assert_eq!(invalid.len(), 1, "{name}={value}");
            assert_eq!(invalid[0].name, *name);
        }
    }

    #[test]
    fn invalid_settings_report_their_default() {
        let (_, invalid) = read_from(&[(LOCK_RETRIES, "x"), (TIMEOUT, "x"), (LOCKING, "x")]);
        let defaults: Vec<&str> = invalid.iter().map(|i| i.default.as_str()).collect();
        assert_eq!(defaults, ["1", "2", "1500"]);
    }

    #[test]
    fn values_are_trimmed() {
        assert!(read_from(&[(DISABLE, " 1\n")]).0.disabled);
    }
}
