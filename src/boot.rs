//! What to do at boot, decided from the environment: which variables to set so that PHP
//! loads the session ini, and what to tell the user. Pure: [`decide`] reads the
//! environment through [`Env`] into a [`Decision`], [`variables`] turns a decision into the
//! variables to set. The classic `.profile.d` edge renders them as shell, the CNB exec.d
//! edge as TOML, and the doctor hands them to the PHP it runs.

use crate::composer::Framework;
use crate::config::redis_url::{self, AuthKind, Server, UrlError};
use crate::config::save_path::{self, Mode, SessionConfig};
use crate::config::secret::Secret;
use crate::config::settings::{self, InvalidSetting, SessionHandler, Settings};
use crate::env::{Env, EnvValue, PHP_INI_SCAN_DIR};

/// The variables boot sets for the session ini, which reads them with `${...}`.
pub(crate) const SAVE_HANDLER_VAR: &str = "PHP_REDIS_SESSIONS_INI_SAVE_HANDLER";
pub(crate) const SAVE_PATH_VAR: &str = "PHP_REDIS_SESSIONS_INI_SAVE_PATH";
pub(crate) const LOCKING_VAR: &str = "PHP_REDIS_SESSIONS_INI_LOCKING_ENABLED";
pub(crate) const LOCK_EXPIRE_VAR: &str = "PHP_REDIS_SESSIONS_INI_LOCK_EXPIRE";
pub(crate) const LOCK_WAIT_TIME_VAR: &str = "PHP_REDIS_SESSIONS_INI_LOCK_WAIT_TIME";
pub(crate) const LOCK_RETRIES_VAR: &str = "PHP_REDIS_SESSIONS_INI_LOCK_RETRIES";
pub(crate) const STRICT_MODE_VAR: &str = "PHP_REDIS_SESSIONS_INI_USE_STRICT_MODE";
pub(crate) const ECHO_CHECK_VAR: &str = "PHP_REDIS_SESSIONS_INI_ECHO_CHECK_LIVENESS";
/// The buildpack's handler only: the handler's ini reads its path, the handler reads its
/// configuration (with the passwords) and the app's own prepend file, which it runs.
pub(crate) const AUTO_PREPEND_VAR: &str = "PHP_REDIS_SESSIONS_INI_AUTO_PREPEND_FILE";
pub(crate) const HANDLER_CONFIG_VAR: &str = "PHP_REDIS_SESSIONS_HANDLER_CONFIG";
pub(crate) const APP_PREPEND_VAR: &str = "PHP_REDIS_SESSIONS_APP_PREPEND_FILE";
/// Every variable the session ini reads.
#[cfg(test)]
pub(crate) const INI_VARS: [&str; 8] = [
    SAVE_HANDLER_VAR,
    STRICT_MODE_VAR,
    ECHO_CHECK_VAR,
    SAVE_PATH_VAR,
    LOCKING_VAR,
    LOCK_EXPIRE_VAR,
    LOCK_WAIT_TIME_VAR,
    LOCK_RETRIES_VAR,
];

/// The longest `NAME=value` boot exports: the kernel refuses to start any program whose
/// environment holds a string over 128 KiB (`MAX_ARG_STRLEN`), so a longer export would
/// make every later `exec` on the dyno fail. Half of that leaves room for the rest.
pub(crate) const MAX_EXPORT: usize = 64 * 1024;

/// One variable boot sets; its value may hold the password.
pub(crate) type Var = (&'static str, Secret<String>);

/// The outcome of boot. `vars` may hold secrets and go only to the environment (their
/// values print as `****`); `notices` are safe to print.
#[derive(Debug, Clone, PartialEq)]
pub struct BootPlan {
    pub vars: Vec<Var>,
    pub notices: Vec<Notice>,
}

/// Something boot tells the user on stderr. None of them carries a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    InvalidSetting(InvalidSetting),
    /// Sessions stay in files: why.
    FileSessions(Fallback),
    UserWithoutPassword {
        url_var: String,
    },
    /// `REDIS_URL` is not set and the search found another variable; `others` were set too.
    UsingUrlVar {
        url_var: String,
        others: Vec<String>,
    },
    /// phpredis' cluster handler has no session locking.
    ClusterWithoutLocking,
    /// phpredis 5's cluster handler does not check session ids: strict mode has no
    /// effect there (a made-up id becomes a session, under the app's prefix).
    ClusterWithoutStrictIds,
    /// With several servers, phpredis' handler keeps the key prefix and cannot lock.
    ShardsWithoutLocking,
    /// A cluster has no databases: the `/N` in the URL is ignored.
    ClusterDatabaseIgnored {
        url_var: String,
    },
    /// `PHP_REDIS_SESSIONS_HANDLER=buildpack`, but phpredis' handler keeps the sessions.
    HandlerUnavailable(HandlerBlocker),
}

/// Why the buildpack's own session handler cannot serve this app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerBlocker {
    /// The build that made this slug or image installed no handler (an older version).
    NotInstalled,
    /// Symfony's native session storage (or Yii 3's session) puts a wrapper of PHP's own
    /// handler over any handler registered before it: phpredis' handler must be
    /// configured in full.
    Framework(Framework),
    /// This file of the app sets `auto_prepend_file` where it replaces the handler's.
    PrependElsewhere { file: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallback {
    Disabled,
    UrlUnset {
        url_var: String,
    },
    UrlNotUnicode {
        url_var: String,
    },
    UrlUnusable {
        url_var: String,
        error: UrlError,
    },
    /// The helper cannot tell where its session ini is, so it cannot add it to PHP's scan
    /// path (and never adds a made-up one).
    IniDirUnknown,
    /// `PHP_INI_SCAN_DIR` is not UTF-8: it is left as it is rather than rewritten.
    ScanDirNotUnicode,
    /// The settings for this many servers would be an environment string longer than
    /// [`MAX_EXPORT`] bytes.
    TooLong {
        url_var: String,
        servers: usize,
        bytes: usize,
    },
}

/// Where the URL is looked for when `PHP_REDIS_SESSIONS_URL_VAR` does not name a variable:
/// the first of these that is set wins. `HEROKU_REDIS_<COLOR>_URL` stands for every such
/// variable, taken in alphabetical order.
pub(crate) const URL_SEARCH_ORDER: &[&str] = &[
    "REDIS_URL",
    "REDIS_TLS_URL",
    "HEROKU_REDIS_<COLOR>_URL",
    "REDISCLOUD_URL",
    "REDISTOGO_URL",
];

/// What boot decided: used by [`plan`] and by the doctor command, which shows it.
/// `Redis` holds the parsed servers and the variables to set, passwords included (as
/// [`Secret`]s).
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub settings: Settings,
    pub notices: Vec<Notice>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "one decision per process: boxing would buy nothing"
)]
pub(crate) enum Outcome {
    /// PHP keeps its default file sessions (the notices say why).
    FileSessions,
    Redis {
        url_var: String,
        config: SessionConfig,
        servers: Vec<Server>,
        vars: Vec<Var>,
    },
}

/// What the build left beside the helper, as boot found it.
#[derive(Debug, Clone, Default)]
pub struct Installed {
    /// The session ini's directory; `None` when the helper cannot tell where it is.
    pub ini_dir: Option<String>,
    /// The buildpack's own session handler, if the build installed it.
    pub handler: Option<HandlerFiles>,
    /// The frameworks the build found in composer.lock.
    pub frameworks: Vec<Framework>,
    /// The `auto_prepend_file` of PHP's ini files at build time.
    pub app_prepend_file: Option<String>,
    /// The app's file that sets `auto_prepend_file` over the handler's.
    pub prepend_elsewhere: Option<String>,
    /// This app's namespace for session keys, made by its first build.
    pub namespace: Option<String>,
    /// phpredis' version, as the build found it (`None`: unknown): the doctor shows it
    /// beside the version PHP reports now.
    pub phpredis_built: Option<String>,
}

/// The buildpack's session handler's files: the PHP and its ini's directory.
#[derive(Debug, Clone)]
pub struct HandlerFiles {
    pub php: String,
    pub ini_dir: String,
}

/// Decides the boot for the environment `env` and what the build `installed`.
pub(crate) fn decide(env: &impl Env, installed: &Installed) -> Decision {
    let (settings, invalid) = settings::read(|name| env.value(name).text());
    let mut notices: Vec<Notice> = invalid.into_iter().map(Notice::InvalidSetting).collect();
    let outcome = match redis_outcome(env, installed, &settings, &mut notices) {
        Ok(outcome) => outcome,
        Err(why) => {
            notices.push(Notice::FileSessions(why));
            Outcome::FileSessions
        }
    };
    Decision {
        settings,
        notices,
        outcome,
    }
}

/// Decides the boot and keeps what the edges need: the variables and the notices.
pub fn plan(env: &impl Env, installed: &Installed) -> BootPlan {
    let decision = decide(env, installed);
    BootPlan {
        vars: match decision.outcome {
            Outcome::FileSessions => vec![],
            Outcome::Redis { vars, .. } => vars,
        },
        notices: decision.notices,
    }
}

fn redis_outcome(
    env: &impl Env,
    installed: &Installed,
    settings: &Settings,
    notices: &mut Vec<Notice>,
) -> Result<Outcome, Fallback> {
    if settings.disabled {
        return Err(Fallback::Disabled);
    }
    let url_var = url_var(env, settings, notices);
    let url = match env.value(&url_var) {
        EnvValue::Text(url) if !url.trim().is_empty() => url,
        EnvValue::Text(_) | EnvValue::Unset => return Err(Fallback::UrlUnset { url_var }),
        EnvValue::NotUnicode => return Err(Fallback::UrlNotUnicode { url_var }),
    };
    let blocker = match settings.handler {
        SessionHandler::Buildpack => handler_blocker(installed),
        SessionHandler::Phpredis => None,
    };
    let effective = match blocker {
        Some(_) => Settings {
            handler: SessionHandler::Phpredis,
            ..settings.clone()
        },
        None => settings.clone(),
    };
    let (config, servers) = redis_url::parse_servers(&url)
        .and_then(|servers| {
            let config =
                save_path::derive_for(&servers, &effective, installed.namespace.as_deref())?;
            Ok((config, servers))
        })
        .map_err(|error| Fallback::UrlUnusable {
            url_var: url_var.clone(),
            error,
        })?;
    let scan_dir = match env.value(PHP_INI_SCAN_DIR) {
        EnvValue::NotUnicode => return Err(Fallback::ScanDirNotUnicode),
        value => value.text(),
    };
    let ini_dir = installed
        .ini_dir
        .as_deref()
        .ok_or(Fallback::IniDirUnknown)?;
    let app_prepend = match env.value(APP_PREPEND_VAR) {
        EnvValue::Unset => installed.app_prepend_file.clone(),
        // The user's own value is left as it is.
        EnvValue::Text(_) | EnvValue::NotUnicode => None,
    };
    let vars = session_vars(
        &config,
        installed,
        scan_dir.as_deref(),
        ini_dir,
        app_prepend,
    );
    if let Some(bytes) = vars
        .iter()
        .map(|(name, value)| name.len() + 1 + value.expose().len())
        .find(|bytes| *bytes > MAX_EXPORT)
    {
        return Err(Fallback::TooLong {
            url_var,
            servers: servers.len(),
            bytes,
        });
    }
    notices.extend(blocker.map(Notice::HandlerUnavailable));
    notices.extend(redis_notices(
        &url_var,
        &config,
        settings,
        installed.phpredis_built.as_deref(),
    ));
    Ok(Outcome::Redis {
        url_var,
        config,
        servers,
        vars,
    })
}

/// The variable holding the URL: the one named, or the first the search finds.
fn url_var(env: &impl Env, settings: &Settings, notices: &mut Vec<Notice>) -> String {
    if let Some(explicit) = &settings.url_var {
        return explicit.clone();
    }
    match search_url_var(env) {
        Search::Found { name, others } => {
            if name != settings::DEFAULT_URL_VAR {
                notices.push(Notice::UsingUrlVar {
                    url_var: name.clone(),
                    others,
                });
            }
            name
        }
        Search::NotFound => settings::DEFAULT_URL_VAR.to_string(),
    }
}

/// Why the buildpack's handler cannot serve this app, if it cannot.
fn handler_blocker(installed: &Installed) -> Option<HandlerBlocker> {
    if installed.handler.is_none() {
        Some(HandlerBlocker::NotInstalled)
    } else if let Some(framework) = installed
        .frameworks
        .iter()
        .find(|framework| framework.wraps_phps_handler())
    {
        Some(HandlerBlocker::Framework(*framework))
    } else {
        installed
            .prepend_elsewhere
            .clone()
            .map(|file| HandlerBlocker::PrependElsewhere { file })
    }
}

/// What users of sessions in Redis should know about this configuration; `phpredis` is
/// the version the build found, if it found one.
fn redis_notices(
    url_var: &str,
    config: &SessionConfig,
    settings: &Settings,
    phpredis: Option<&str>,
) -> Vec<Notice> {
    let mut notices = vec![];
    if config.summary.auth == AuthKind::UserWithoutPassword {
        notices.push(Notice::UserWithoutPassword {
            url_var: url_var.to_string(),
        });
    }
    let native = config.handler == SessionHandler::Phpredis;
    if let (Mode::Shards(_), true, true) = (config.summary.mode, settings.lock.enabled, native) {
        notices.push(Notice::ShardsWithoutLocking);
    }
    if let Mode::Cluster(_) = config.summary.mode {
        if config.summary.database.is_some() {
            notices.push(Notice::ClusterDatabaseIgnored {
                url_var: url_var.to_string(),
            });
        }
        if native {
            notices.push(Notice::ClusterWithoutLocking);
        }
        if native && config.strict_mode && phpredis.is_some_and(checks_no_cluster_ids) {
            notices.push(Notice::ClusterWithoutStrictIds);
        }
    }
    notices
}

/// Whether this phpredis version's cluster session handler ignores strict mode: 5.x
/// (tested with 5.3.7: a made-up id is kept as the session's; 6.2 replaces it).
fn checks_no_cluster_ids(phpredis: &str) -> bool {
    major_version(phpredis).is_some_and(|major| major < 6)
}

/// The major number of a version such as phpredis' `6.2.0`.
pub(crate) fn major_version(version: &str) -> Option<u32> {
    version.split('.').next()?.parse().ok()
}

enum Search {
    Found { name: String, others: Vec<String> },
    NotFound,
}

/// The first variable of [`URL_SEARCH_ORDER`] that is set and not blank.
fn search_url_var(env: &impl Env) -> Search {
    let names = env.names();
    let is_set = |name: &str| match env.value(name) {
        EnvValue::Text(value) => !value.trim().is_empty(),
        EnvValue::NotUnicode => true,
        EnvValue::Unset => false,
    };
    for candidate in URL_SEARCH_ORDER {
        let mut found: Vec<String> = if *candidate == "HEROKU_REDIS_<COLOR>_URL" {
            names
                .iter()
                .filter(|name| is_heroku_redis_color(name))
                .cloned()
                .collect()
        } else {
            vec![candidate.to_string()]
        };
        found.sort();
        found.retain(|name| is_set(name));
        if !found.is_empty() {
            let name = found.remove(0);
            return Search::Found {
                name,
                others: found,
            };
        }
    }
    Search::NotFound
}

/// `HEROKU_REDIS_PINK_URL`, `HEROKU_REDIS_CRIMSON_URL`: one upper-case word between.
fn is_heroku_redis_color(name: &str) -> bool {
    name.strip_prefix("HEROKU_REDIS_")
        .and_then(|rest| rest.strip_suffix("_URL"))
        .is_some_and(|color| !color.is_empty() && color.bytes().all(|b| b.is_ascii_uppercase()))
}

fn session_vars(
    config: &SessionConfig,
    installed: &Installed,
    scan_dir: Option<&str>,
    ini_dir: &str,
    app_prepend: Option<String>,
) -> Vec<Var> {
    let mut scan_dir = append_scan_dir(scan_dir, ini_dir);
    let mut handler_vars = vec![];
    if let (Some(handler_config), Some(files)) = (&config.handler_config, &installed.handler) {
        scan_dir = append_scan_dir(Some(&scan_dir), &files.ini_dir);
        handler_vars.push((AUTO_PREPEND_VAR, files.php.clone()));
        handler_vars.push((HANDLER_CONFIG_VAR, handler_config.expose().clone()));
        handler_vars.extend(app_prepend.map(|file| (APP_PREPEND_VAR, file)));
    }
    [
        (SAVE_HANDLER_VAR, config.save_handler.to_string()),
        (STRICT_MODE_VAR, u8::from(config.strict_mode).to_string()),
        (ECHO_CHECK_VAR, ECHO_CHECK_LIVENESS.to_string()),
        (SAVE_PATH_VAR, config.save_path.expose().clone()),
        (LOCKING_VAR, u8::from(config.locking).to_string()),
        (LOCK_EXPIRE_VAR, config.lock_expire.to_string()),
        (LOCK_WAIT_TIME_VAR, config.lock_wait_time.to_string()),
        (LOCK_RETRIES_VAR, config.lock_retries.to_string()),
    ]
    .into_iter()
    .chain(handler_vars)
    .chain([(PHP_INI_SCAN_DIR, scan_dir)])
    .map(|(name, value)| (name, Secret::new(value)))
    .collect()
}

/// phpredis checks a pooled persistent connection before reusing it with `AUTH` + `ECHO`
/// (one round trip). Measured behind php-fpm, with a Redis that died silently: phpredis
/// 5.3 with the check off never recovers (every request fails after the read timeout);
/// phpredis 6 recovers after one failed request per worker either way, but with the check
/// off that request also replaces the user's session cookie (strict mode takes the failed
/// check of the id for an unknown id): a logout. On for both, at one round trip a
/// request (the buildpack's own handler does without it, and loses nothing).
const ECHO_CHECK_LIVENESS: u8 = 1;

/// Whether `env` already holds every variable of `vars` with its value: a process that
/// was booted (its shell sourced the `.profile.d` script, or the CNB launcher ran the
/// exec.d program), where boot's plan for the same environment changes nothing. A shell
/// that bypassed both lacks them, and its PHP keeps file sessions.
pub(crate) fn applied(vars: &[Var], env: &impl Env) -> bool {
    vars.iter().all(
        |(name, value)| matches!(env.value(name), EnvValue::Text(text) if text == *value.expose()),
    )
}

/// Adds `ini_dir` to PHP's ini scan path. An unset (or empty) path becomes `:ini_dir`, whose
/// empty first element keeps PHP's compiled-in conf.d (where the PHP buildpack loads
/// ext-redis); a path already set, such as heroku/php's own layer, is kept in front.
/// Sourcing twice does not add the directory twice.
pub(crate) fn append_scan_dir(current: Option<&str>, ini_dir: &str) -> String {
    match current {
        None | Some("") => format!(":{ini_dir}"),
        Some(current) if current.split(':').any(|dir| dir == ini_dir) => current.to_string(),
        Some(current) => format!("{current}:{ini_dir}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::{DISABLE, LOCKING, TIMEOUT, URL_VAR};
    use crate::env::Vars;

    const INI_DIR: &str = "/app/.php-redis-sessions/conf.d";
    const SCAN_DIR_VAR: &str = PHP_INI_SCAN_DIR;

    fn installed() -> Installed {
        Installed {
            ini_dir: Some(INI_DIR.into()),
            ..Installed::default()
        }
    }

    fn plan_for(pairs: &[(&str, &str)]) -> BootPlan {
        plan(&Vars::new(pairs.iter().copied()), &installed())
    }

    fn var<'a>(plan: &'a BootPlan, name: &str) -> Option<&'a str> {
        plan.vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.expose().as_str())
    }

    #[test]
    fn usable_url_sets_every_ini_variable() {
        let plan = plan_for(&[("REDIS_URL", "rediss://:pw@host:1")]);
        assert!(plan.notices.is_empty());
        let names: Vec<&str> = plan.vars.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                SAVE_HANDLER_VAR,
                STRICT_MODE_VAR,
                ECHO_CHECK_VAR,
                SAVE_PATH_VAR,
                LOCKING_VAR,
                LOCK_EXPIRE_VAR,
                LOCK_WAIT_TIME_VAR,
                LOCK_RETRIES_VAR,
                SCAN_DIR_VAR
            ]
        );
        assert_eq!(var(&plan, SAVE_HANDLER_VAR), Some("redis"));
        assert!(
            var(&plan, SAVE_PATH_VAR)
                .unwrap()
                .starts_with("tls://host:1?auth=pw&")
        );
        assert_eq!(var(&plan, LOCKING_VAR), Some("1"));
        assert_eq!(
            var(&plan, SCAN_DIR_VAR),
            Some(":/app/.php-redis-sessions/conf.d")
        );
    }

    #[test]
    fn existing_scan_dir_is_kept_in_front() {
        let plan = plan_for(&[
            ("REDIS_URL", "redis://h"),
            (SCAN_DIR_VAR, "/layers/heroku_php/php/etc/conf.d"),
        ]);
        assert_eq!(
            var(&plan, SCAN_DIR_VAR),
            Some("/layers/heroku_php/php/etc/conf.d:/app/.php-redis-sessions/conf.d")
        );
    }

    #[test]
    fn phpredis_5_clusters_say_that_ids_go_unchecked() {
        let cluster = [
            ("REDIS_URL", "redis://h:1"),
            ("PHP_REDIS_SESSIONS_CLUSTER", "1"),
        ];
        let notices = |phpredis: Option<&str>, extra: &[(&str, &str)]| {
            let installed = Installed {
                phpredis_built: phpredis.map(str::to_string),
                handler: Some(HandlerFiles {
                    php: "/app/.php-redis-sessions/php/session-handler.php".into(),
                    ini_dir: "/app/.php-redis-sessions/handler.d".into(),
                }),
                ..installed()
            };
            let env = Vars::new(cluster.iter().chain(extra).copied());
            plan(&env, &installed).notices
        };
        let unchecked = Notice::ClusterWithoutStrictIds;
        assert!(notices(Some("5.3.7"), &[]).contains(&unchecked));
        assert!(notices(Some("5.1.1"), &[]).contains(&unchecked));
        for phpredis in [
            Some("6.0.2"),
            Some("6.2.0"),
            Some("10.0"),
            Some("dev"),
            None,
        ] {
            assert!(!notices(phpredis, &[]).contains(&unchecked), "{phpredis:?}");
        }
        let strict_off = [("PHP_REDIS_SESSIONS_STRICT_MODE", "0")];
        assert!(!notices(Some("5.3.7"), &strict_off).contains(&unchecked));
        let own_handler = [("PHP_REDIS_SESSIONS_HANDLER", "buildpack")];
        assert!(!notices(Some("5.3.7"), &own_handler).contains(&unchecked));
        let shards = Vars::new([("REDIS_URL", "redis://a:1,redis://b:1")]);
        let installed = Installed {
            phpredis_built: Some("5.3.7".into()),
            ..installed()
        };
        assert!(!plan(&shards, &installed).notices.contains(&unchecked));
    }

    #[test]
    fn a_booted_environment_holds_the_plan() {
        let bare = [
            ("REDIS_URL", "redis://:pw@host:1"),
            (SCAN_DIR_VAR, "/layers/heroku_php/php/etc/conf.d"),
        ];
        let plan = plan_for(&bare);
        assert!(!applied(&plan.vars, &Vars::new(bare.iter().copied())));
        let booted: Vec<(&str, &str)> = bare
            .iter()
            .copied()
            .filter(|(name, _)| *name != SCAN_DIR_VAR)
            .chain(plan.vars.iter().map(|(n, v)| (*n, v.expose().as_str())))
            .collect();
        let booted_env = Vars::new(booted.iter().copied());
        assert!(applied(&plan.vars, &booted_env));
        // Booting again plans the same: the shell of a booted dyno is booted.
        let again = super::plan(&booted_env, &installed());
        assert!(applied(&again.vars, &booted_env));
        // One variable missing or different is not booted.
        for (skip, _) in &plan.vars {
            let partial = Vars::new(booted.iter().copied().filter(|(n, _)| n != skip));
            assert!(!applied(&plan.vars, &partial), "{skip}");
        }
        let changed: Vec<(&str, &str)> = booted
            .iter()
            .map(|&(n, v)| if n == LOCKING_VAR { (n, "0") } else { (n, v) })
            .collect();
        assert!(!applied(&plan.vars, &Vars::new(changed.iter().copied())));
    }

    #[test]
    fn scan_dir_appending() {
        assert_eq!(append_scan_dir(None, "/x"), ":/x");
        assert_eq!(append_scan_dir(Some(""), "/x"), ":/x");
        assert_eq!(append_scan_dir(Some(":/a"), "/x"), ":/a:/x");
        assert_eq!(append_scan_dir(Some(":/x"), "/x"), ":/x");
        assert_eq!(append_scan_dir(Some("/a:/x:/b"), "/x"), "/a:/x:/b");
        assert_eq!(append_scan_dir(Some("/a:/xy"), "/x"), "/a:/xy:/x");
    }

    #[test]
    fn unset_or_blank_url_keeps_file_sessions() {
        for pairs in [&[][..], &[("REDIS_URL", "")], &[("REDIS_URL", " \n")]] {
            let plan = plan_for(pairs);
            assert!(plan.vars.is_empty());
            assert_eq!(
                plan.notices,
                [Notice::FileSessions(Fallback::UrlUnset {
                    url_var: "REDIS_URL".into()
                })]
            );
        }
    }

    #[test]
    fn malformed_url_keeps_file_sessions() {
        let plan = plan_for(&[("REDIS_URL", "http://:secret@host")]);
        assert!(plan.vars.is_empty());
        assert_eq!(
            plan.notices,
            [Notice::FileSessions(Fallback::UrlUnusable {
                url_var: "REDIS_URL".into(),
                error: UrlError::UnknownScheme("http".into())
            })]
        );
    }

    #[test]
    fn non_unicode_url_keeps_file_sessions() {
        struct NotText;
        impl Env for NotText {
            fn value(&self, name: &str) -> EnvValue {
                if name == "REDIS_URL" {
                    EnvValue::NotUnicode
                } else {
                    EnvValue::Unset
                }
            }
            fn names(&self) -> Vec<String> {
                vec!["REDIS_URL".into()]
            }
        }
        let plan = plan(&NotText, &installed());
        assert!(plan.vars.is_empty());
        assert_eq!(
            plan.notices,
            [Notice::FileSessions(Fallback::UrlNotUnicode {
                url_var: "REDIS_URL".into()
            })]
        );
    }

    #[test]
    fn disabled_wins() {
        let plan = plan_for(&[("REDIS_URL", "redis://h"), (DISABLE, "1")]);
        assert!(plan.vars.is_empty());
        assert_eq!(plan.notices, [Notice::FileSessions(Fallback::Disabled)]);
    }

    #[test]
    fn other_url_variable() {
        let plan = plan_for(&[
            ("REDIS_URL", "garbage"),
            ("REDISCLOUD_URL", "redis://cloud:1"),
            (URL_VAR, "REDISCLOUD_URL"),
        ]);
        assert!(
            var(&plan, SAVE_PATH_VAR)
                .unwrap()
                .starts_with("tcp://cloud:1?")
        );
    }

    #[test]
    fn invalid_settings_warn_and_boot_goes_on() {
        let plan = plan_for(&[
            ("REDIS_URL", "redis://h"),
            (TIMEOUT, "soon"),
            (LOCKING, "sometimes"),
        ]);
        assert_eq!(plan.notices.len(), 2);
        assert!(var(&plan, SAVE_PATH_VAR).unwrap().contains("timeout=2&"));
        assert_eq!(var(&plan, LOCKING_VAR), Some("1"));
    }

    #[test]
    fn locking_can_be_switched_off() {
        let plan = plan_for(&[("REDIS_URL", "redis://h"), (LOCKING, "0")]);
        assert_eq!(var(&plan, LOCKING_VAR), Some("0"));
    }

    #[test]
    fn user_without_password_is_noticed() {
        let plan = plan_for(&[("REDIS_URL", "redis://app@h")]);
        assert_eq!(
            plan.notices,
            [Notice::UserWithoutPassword {
                url_var: "REDIS_URL".into()
            }]
        );
        assert!(!plan.vars.is_empty());
    }

    #[test]
    fn url_variable_search_order() {
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a [&'a str]);
        let cases: &[Case] = &[
            (
                &[("REDIS_URL", "redis://a"), ("REDIS_TLS_URL", "rediss://b")],
                "REDIS_URL",
                &[],
            ),
            (
                &[("REDIS_URL", " "), ("REDIS_TLS_URL", "rediss://b")],
                "REDIS_TLS_URL",
                &[],
            ),
            (
                &[
                    ("HEROKU_REDIS_PINK_URL", "redis://p"),
                    ("REDISCLOUD_URL", "redis://c"),
                ],
                "HEROKU_REDIS_PINK_URL",
                &[],
            ),
            (
                &[
                    ("HEROKU_REDIS_PINK_URL", "redis://p"),
                    ("HEROKU_REDIS_CRIMSON_URL", "redis://c"),
                ],
                "HEROKU_REDIS_CRIMSON_URL",
                &["HEROKU_REDIS_PINK_URL"],
            ),
            (
                &[
                    ("HEROKU_REDIS_2_URL", "redis://x"),
                    ("REDISCLOUD_URL", "redis://c"),
                ],
                "REDISCLOUD_URL",
                &[],
            ),
            (&[("REDISTOGO_URL", "redis://t")], "REDISTOGO_URL", &[]),
        ];
        for (pairs, expected, others) in cases {
            let plan = plan_for(pairs);
            assert!(!plan.vars.is_empty(), "{pairs:?}");
            if *expected == "REDIS_URL" {
                assert!(plan.notices.is_empty());
            } else {
                assert_eq!(
                    plan.notices,
                    [Notice::UsingUrlVar {
                        url_var: expected.to_string(),
                        others: others
                            .iter()
                            .map(std::string::ToString::to_string)
                            .collect()
                    }],
                    "{pairs:?}"
                );
            }
        }
    }

    #[test]
    fn explicit_url_variable_is_not_searched_past() {
        let plan = plan_for(&[(URL_VAR, "MY_REDIS"), ("REDIS_URL", "redis://a")]);
        assert!(plan.vars.is_empty());
        assert_eq!(
            plan.notices,
            [Notice::FileSessions(Fallback::UrlUnset {
                url_var: "MY_REDIS".into()
            })]
        );
    }

    #[test]
    fn cluster_notices() {
        let plan = plan_for(&[
            ("REDIS_URL", "redis://a:1/2,redis://b:2"),
            (crate::config::settings::CLUSTER, "1"),
        ]);
        assert_eq!(var(&plan, SAVE_HANDLER_VAR), Some("rediscluster"));
        assert_eq!(var(&plan, LOCKING_VAR), Some("0"));
        assert_eq!(
            plan.notices,
            [
                Notice::ClusterDatabaseIgnored {
                    url_var: "REDIS_URL".into()
                },
                Notice::ClusterWithoutLocking
            ]
        );
    }

    #[test]
    fn several_urls_are_shards() {
        let plan = plan_for(&[("REDIS_URL", "redis://a:1, redis://b:2?weight=3")]);
        assert_eq!(plan.notices, [Notice::ShardsWithoutLocking]);
        assert_eq!(var(&plan, SAVE_HANDLER_VAR), Some("redis"));
        assert_eq!(var(&plan, LOCKING_VAR), Some("0"));
        let path = var(&plan, SAVE_PATH_VAR).unwrap();
        assert!(
            path.starts_with("tcp://a:1?persistent=1&")
                && path.contains(",tcp://b:2?weight=3&persistent=1&"),
            "phpredis' own prefix: {path}"
        );
        let plan = plan_for(&[("REDIS_URL", "redis://a:1,redis://b:2"), (LOCKING, "0")]);
        assert!(plan.notices.is_empty(), "locking off was the user's choice");
    }

    #[test]
    fn unknown_ini_dir_exports_nothing() {
        let plan = plan(
            &Vars::new([("REDIS_URL", "redis://h")]),
            &Installed::default(),
        );
        assert!(plan.vars.is_empty());
        assert_eq!(
            plan.notices,
            [Notice::FileSessions(Fallback::IniDirUnknown)]
        );
    }

    #[test]
    fn scan_dir_that_is_not_text_is_left_alone() {
        struct Env2;
        impl Env for Env2 {
            fn value(&self, name: &str) -> EnvValue {
                match name {
                    "REDIS_URL" => EnvValue::Text("redis://h".into()),
                    "PHP_INI_SCAN_DIR" => EnvValue::NotUnicode,
                    _ => EnvValue::Unset,
                }
            }
            fn names(&self) -> Vec<String> {
                vec!["REDIS_URL".into(), "PHP_INI_SCAN_DIR".into()]
            }
        }
        let plan = plan(&Env2, &installed());
        assert!(plan.vars.is_empty());
        assert_eq!(
            plan.notices,
            [Notice::FileSessions(Fallback::ScanDirNotUnicode)]
        );
    }

    #[test]
    fn exports_stay_under_the_kernel_limit() {
        // 2,900 short URLs fit in Heroku's 32 KB of config vars but make a save path of
        // about 170 KB, over the kernel's 128 KiB for one environment string.
        let urls = vec!["redis://h"; 2900].join(",");
        assert!(urls.len() < 32 * 1024);
        let plan = plan_for(&[("REDIS_URL", &urls)]);
        assert!(plan.vars.is_empty());
        assert!(
            matches!(
                &plan.notices[..],
                [Notice::FileSessions(Fallback::TooLong { servers: 2900, bytes, .. })]
                    if *bytes > 128 * 1024
            ),
            "{:?}",
            plan.notices
        );
        // A few hundred servers are fine.
        let urls: Vec<String> = (0..200).map(|i| format!("redis://h{i}:1")).collect();
        let plan = plan_for(&[("REDIS_URL", &urls.join(","))]);
        assert_eq!(plan.vars.len(), 9);
        for (name, value) in &plan.vars {
            assert!(name.len() + 1 + value.expose().len() <= MAX_EXPORT);
        }
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let env = Vars::new([("REDIS_URL", "rediss://app:Sekr1tPW@h:1/2")]);
        let decision = decide(&env, &installed());
        let plan = plan(&env, &installed());
        assert!(!plan.vars.is_empty());
        for shown in [
            format!("{decision:?}"),
            format!("{plan:?}"),
            format!("{decision:#?}"),
        ] {
            assert!(!shown.contains("Sekr1t"), "{shown}");
            assert!(!shown.contains("auth="), "{shown}");
        }
    }

    #[test]
    fn the_liveness_check_is_on() {
        let plan = plan(&Vars::new([("REDIS_URL", "redis://h")]), &installed());
        assert_eq!(var(&plan, ECHO_CHECK_VAR), Some("1"));
    }
}
