//! What the user reads, in one place: build log steps, warnings, errors and boot notices,
//! as plain text (the edges give each line its platform's style with `log`). Each error
//! says what went wrong and what to do. Nothing here receives a secret: the types
//! rendered carry no password, URL or save path (and a `Secret` prints as `****` anyway).
//! The doctor's report is `doctor::report`.

use crate::app::{AppError, ComposerNames, Declined, FileError};
use crate::boot::{Fallback, HandlerBlocker, Notice};
use crate::build::{BuildError, Platform};
use crate::composer::{ComposerError, FileKind, Found, Framework};
use crate::config::redis_url::UrlError;
use crate::log::{BUILDPACK_NAME, boot_line};
use crate::php_check::{CheckFailure, PhpCheck};

pub(crate) fn found(found: &Found, names: &ComposerNames) -> String {
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
pub(crate) fn not_required(names: &ComposerNames) -> String {
    format!(
        "this app does not require ext-redis, so PHP could not keep sessions in Redis; \
         add \"ext-redis\": \"*\" to \"require\" in {}, run `composer update`, and commit {}",
        names.manifest, names.lock
    )
}

/// Why the app does not take part, as detect declines and the build fails.
pub(crate) fn declined(declined: &Declined, platform: Platform) -> String {
    match declined {
        Declined::BadComposerVar => bad_composer_var(platform),
        Declined::Files { error, names } => app_error(error, names),
        Declined::NotRequired { names } => not_required(names),
        Declined::DevOnly {
            found: place,
            names,
        } => cnb::dev_only(&found(place, names), names),
    }
}

/// Why a build stopped.
pub(crate) fn build_error(error: &BuildError, platform: Platform) -> String {
    match error {
        BuildError::NotUnderLifecycle { var } => cnb::not_under_lifecycle(var),
        BuildError::App(why) => declined(why, platform),
        BuildError::Install(error) => match platform {
            Platform::Classic => install_failed(error),
            Platform::Cnb => cnb::layer_failed(error),
        },
    }
}

pub(crate) fn app_error(error: &AppError, names: &ComposerNames) -> String {
    match error {
        AppError::File(error) => file_error(error),
        AppError::Composer(error) => composer_error(error, names),
    }
}

pub(crate) fn composer_error(error: &ComposerError, names: &ComposerNames) -> String {
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

pub(crate) fn file_error(error: &FileError) -> String {
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

/// The one line classic detect prints on stderr when it declines.
pub(crate) fn detect_declined(reason: &str) -> String {
    format!("{BUILDPACK_NAME}: {reason}")
}

/// A boot notice as the boot line prints it (tagged).
pub(crate) fn boot_notice(notice: &Notice) -> String {
    boot_line(&notice_text(notice))
}

/// A boot notice's text, untagged (the doctor lists them).
pub(crate) fn notice_text(notice: &Notice) -> String {
    match notice {
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
            set PHP_REDIS_SESSIONS_HANDLER=buildpack, whose handler locks on a cluster, if that matters"
            .to_string(),
        Notice::ClusterWithoutStrictIds => "phpredis 5's cluster session handler does not check session ids, \
            so session.use_strict_mode has no effect: a session id a client makes up becomes a session of its own \
            (under this app's key prefix, where it reaches no other key); set PHP_REDIS_SESSIONS_HANDLER=buildpack, \
            whose handler checks them, or use phpredis 6, which does"
            .to_string(),
        Notice::ShardsWithoutLocking => "sessions are sharded over several servers, where phpredis' own \
            handler cannot lock them without giving up the key prefix (and with it, keys a client's made-up \
            session id cannot reach): concurrent requests on one session can overwrite each other's changes; \
            set PHP_REDIS_SESSIONS_HANDLER=buildpack, whose handler locks on shards, if that matters"
            .to_string(),
        Notice::ClusterDatabaseIgnored { url_var } => format!(
            "{url_var} names a database, which a Redis Cluster does not have; it is ignored, remove it from the URL"
        ),
        Notice::HandlerUnavailable(blocker) => handler_unavailable(blocker),
    }
}

/// A framework's sessions, as a user knows them.
pub(crate) fn framework_sessions(framework: Framework) -> &'static str {
    match framework {
        Framework::Laravel => "Laravel",
        Framework::CodeIgniter => "CodeIgniter 4",
        Framework::Symfony => "Symfony's HttpFoundation sessions",
        Framework::Yii3 => "Yii 3's sessions (yiisoft/session)",
    }
}

/// The build's warnings for frameworks that keep their sessions away from PHP's handler
/// by default: what happens, and what to do instead.
pub(crate) fn framework_warnings(frameworks: &[Framework], lock: &str) -> Vec<String> {
    frameworks
        .iter()
        .filter(|framework| framework.bypasses_phps_handler())
        .map(|framework| match framework {
            Framework::Laravel => format!(
                "{lock} has laravel/framework: Laravel keeps its sessions with its own drivers (SESSION_DRIVER, \
                 file or database by default), never with PHP's session handler, so this buildpack does not \
                 move them to Redis; to keep them in Redis, set SESSION_DRIVER=redis \
                 (heroku config:set SESSION_DRIVER=redis), keep 'url' => env('REDIS_URL') in config/database.php's \
                 redis 'default' connection and, for Heroku's TLS Redis (self-signed), add to it \
                 'context' => ['stream' => ['verify_peer' => false, 'verify_peer_name' => false]] \
                 (with predis: 'ssl' => [the same two keys]); PHP's own sessions, if the app starts any, are in Redis"
            ),
            _ => format!(
                "{lock} has codeigniter4/framework: CodeIgniter 4 keeps its sessions with its own handlers \
                 (Config\\Session::$driver, FileHandler by default), never with PHP's session handler, so this \
                 buildpack does not move them to Redis; its RedisHandler cannot turn certificate verification \
                 off, which Heroku's TLS Redis needs, so use its DatabaseHandler (with Heroku Postgres, say) for \
                 sessions that outlive a dyno; PHP's own sessions, if the app starts any, are in Redis"
            ),
        })
        .collect()
}

fn handler_unavailable(blocker: &HandlerBlocker) -> String {
    const KEPT: &str = "so phpredis' own session handler keeps the sessions in Redis";
    match blocker {
        HandlerBlocker::NotInstalled => format!(
            "PHP_REDIS_SESSIONS_HANDLER is buildpack, but this app was built by a version of the buildpack \
             without its own session handler, {KEPT}; build the app again to use it"
        ),
        HandlerBlocker::Framework(framework) => format!(
            "PHP_REDIS_SESSIONS_HANDLER is buildpack, but the app uses {}, which put PHP's own \
             session handler in place of any other, {KEPT}; \
             unset PHP_REDIS_SESSIONS_HANDLER to use phpredis' handler without this notice",
            framework_sessions(*framework)
        ),
        HandlerBlocker::PrependElsewhere { file } => format!(
            "PHP_REDIS_SESSIONS_HANDLER is buildpack, but the app's {file} sets auto_prepend_file, which would \
             take the place of the buildpack's handler, {KEPT}; remove that setting and set \
             PHP_REDIS_SESSIONS_APP_PREPEND_FILE to the file instead: the buildpack's handler runs it after itself"
        ),
    }
}

fn file_sessions(fallback: &Fallback) -> String {
    const KEPT: &str = "PHP keeps its default file sessions";
    match fallback {
        Fallback::Disabled => format!(
            "PHP_REDIS_SESSIONS_DISABLE is set, so {KEPT}; unset it to keep sessions in Redis"
        ),
        Fallback::UrlUnset { url_var } if url_var == crate::config::settings::DEFAULT_URL_VAR => {
            format!(
                "{url_var} is not set (nor {}), so {KEPT}; attach a Redis add-on (heroku addons:create heroku-redis) \
             or name the variable holding the URL in PHP_REDIS_SESSIONS_URL_VAR",
                crate::boot::URL_SEARCH_ORDER[1..].join(", ")
            )
        }
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
        Fallback::IniDirUnknown => format!(
            "the boot helper cannot find its session ini beside itself (from the full path it was started by, \
             or /proc/self/exe), so it leaves PHP_INI_SCAN_DIR alone and {KEPT}; \
             build the app again, and report this if it persists"
        ),
        Fallback::ScanDirNotUnicode => format!(
            "PHP_INI_SCAN_DIR is not valid UTF-8, so it is left as it is and {KEPT}; \
             set it to UTF-8 directory names, or unset it"
        ),
        Fallback::TooLong {
            url_var,
            servers,
            bytes,
        } => format!(
            "the session settings for the {servers} URL(s) in {url_var} would take {} KB, more than the {} KB \
             one environment variable may safely hold (longer ones make every later program start fail), \
             so {KEPT}; list fewer URLs (a Redis Cluster needs only one or two seeds)",
            bytes.div_ceil(1024),
            crate::boot::MAX_EXPORT / 1024
        ),
    }
}

/// Why a URL cannot be used. Never quotes any part of the URL: a malformed URL can put
/// its password anywhere, even where the scheme should be.
pub(crate) fn url_error(error: &UrlError) -> String {
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
        UrlError::StrayDelimiter => {
            "it has a # or, after its host, an @; a raw #, ? or / in the password \
            ends the host early: percent-encode them in the password (# as %23, ? as %3F, / as %2F)"
                .into()
        }
        UrlError::BadEscape => {
            "its user or password has a % that is not followed by two hex digits; write % as %25"
                .into()
        }
    }
}

/// The Cloud Native Buildpack's own lines (in `messages/cnb.rs`).
pub(crate) mod cnb;

/// A classic `ENV_DIR` entry that cannot be read as a config var.
pub(crate) fn env_var_ignored(name: &str, error: &FileError) -> String {
    let why = env_file_problem(error);
    format!("ignoring the config var {name}: {why}; check it with `heroku config:get {name}`")
}

/// Why a file holding a variable's value (classic `ENV_DIR`, CNB `<platform>/env/`) cannot
/// be used.
fn env_file_problem(error: &FileError) -> String {
    match error {
        FileError::IsDirectory { .. } => "it is a directory".to_string(),
        FileError::Unreadable { reason, .. } => format!("it cannot be read ({reason})"),
        FileError::NotUtf8 { .. } => "its value is not text".to_string(),
        FileError::TooLarge { .. } => "its value is too large".to_string(),
    }
}

fn bad_composer_var(platform: Platform) -> String {
    match platform {
        Platform::Classic => "the config var COMPOSER must name a file in the app's root directory, such as composer-heroku.json; \
            fix it with `heroku config:set COMPOSER=...`"
            .into(),
        Platform::Cnb => cnb::bad_composer_var(),
    }
}

pub(crate) fn install_failed(error: &std::io::Error) -> String {
    format!(
        "could not write the buildpack's files into the app ({error}); this is a bug, please report it"
    )
}

/// What the check of the PHP buildpack's PHP found: detail lines and warning lines.
pub(crate) fn php_check(check: &PhpCheck, platform: Platform) -> (Vec<String>, Vec<String>) {
    let php = match platform {
        Platform::Classic => ".heroku/php/bin/php",
        Platform::Cnb => "`php` (from heroku/php)",
    };
    match check {
        PhpCheck::Skipped => (
            vec![match platform {
                Platform::Classic => "Skipped the ext-redis check: no PHP in .heroku/php yet \
                    (on Heroku, heroku/php runs before this buildpack)"
                    .to_string(),
                Platform::Cnb => "Skipped the ext-redis check: no `php` on the build's PATH \
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

/// The build step that gives session keys this app's namespace.
pub(crate) fn namespaced(new: bool) -> String {
    if new {
        "Session keys get a namespace of this app's own (PHPREDIS_SESSION:<namespace>:<id>), made now \
         and kept in the build cache, so apps that share a Redis never share sessions"
            .into()
    } else {
        "Session keys keep this app's namespace (PHPREDIS_SESSION:<namespace>:<id>), from the build cache"
            .into()
    }
}

/// The namespace could not be kept: without it, keys use phpredis' own prefix.
pub(crate) fn namespace_not_kept(error: &std::io::Error, platform: Platform) -> String {
    let cache = match platform {
        Platform::Classic => "the build cache",
        Platform::Cnb => "a cache layer",
    };
    format!(
        "could not keep this app's namespace for session keys in {cache} ({error}), so session keys \
         use phpredis' own prefix, which apps sharing a Redis share; set PHP_REDIS_SESSIONS_PREFIX \
         to a prefix of this app's own"
    )
}

/// Boot panicked: a bug, and PHP keeps its default file sessions.
pub(crate) fn boot_internal_error() -> String {
    "internal error, so PHP keeps its default file sessions; please report this bug".into()
}

/// The build log itself could not be written.
pub(crate) fn log_write_failed(error: &std::io::Error) -> String {
    format!("could not write the build log: {error}")
}

/// The classic build log's closing lines, the ones the README tells users to assert on.
pub(crate) fn classic_installed() -> Vec<String> {
    vec![
        "Installed the boot helper in .php-redis-sessions/ and .profile.d/200-php-redis-sessions.sh".into(),
        "At each dyno boot, PHP sessions go to the Redis in REDIS_URL, with locking".into(),
        "Without a usable REDIS_URL, PHP keeps its default file sessions".into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::InvalidSetting;
    use crate::log::{classic, cnb as cnb_log};

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
            Notice::ClusterWithoutStrictIds,
            Notice::ShardsWithoutLocking,
            Notice::ClusterDatabaseIgnored { url_var: url_var() },
            Notice::FileSessions(Fallback::IniDirUnknown),
            Notice::FileSessions(Fallback::ScanDirNotUnicode),
            Notice::FileSessions(Fallback::TooLong {
                url_var: url_var(),
                servers: 2900,
                bytes: 171_000,
            }),
            Notice::HandlerUnavailable(HandlerBlocker::NotInstalled),
            Notice::HandlerUnavailable(HandlerBlocker::Framework(Framework::Symfony)),
            Notice::HandlerUnavailable(HandlerBlocker::Framework(Framework::Yii3)),
            Notice::HandlerUnavailable(HandlerBlocker::PrependElsewhere {
                file: "public/.user.ini".into(),
            }),
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
            UrlError::StrayDelimiter,
        ] {
            notices.push(Notice::FileSessions(Fallback::UrlUnusable {
                url_var: url_var(),
                error,
            }));
        }
        let (_, invalid) =
            crate::config::settings::read(|name| Some(format!("bad value for {name}")));
        notices.extend(invalid.into_iter().map(Notice::InvalidSetting));
        notices.push(Notice::InvalidSetting(InvalidSetting {
            name: crate::config::settings::TIMEOUT,
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
            classic::error(&bad_composer_var(Platform::Classic)),
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
            let (details, warnings) = php_check(check, Platform::Classic);
            lines.push(format!("{check:?}:"));
            lines.extend(details.iter().map(|l| classic::detail(l)));
            lines.extend(warnings.iter().map(|l| classic::warning(l)));
        }
        for check in [&checks[0], &checks[3]] {
            let (details, warnings) = php_check(check, Platform::Cnb);
            lines.push(format!("CNB {check:?}:"));
            lines.extend(details.iter().map(|l| cnb_log::step(l)));
            lines.extend(warnings.iter().map(|l| cnb_log::warning(l)));
        }
        insta::assert_snapshot!(lines.join("\n"));
    }
}
