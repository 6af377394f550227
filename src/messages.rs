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
    };
    format!("{BOOT_TAG}: {text}")
}

fn file_sessions(fallback: &Fallback) -> String {
    const KEPT: &str = "PHP keeps its default file sessions";
    match fallback {
        Fallback::Disabled => format!(
            "PHP_REDIS_SESSIONS_DISABLE is set, so {KEPT}; unset it to keep sessions in Redis"
        ),
        Fallback::UrlUnset { url_var } => format!(
            "{url_var} is not set, so {KEPT}; attach a Redis add-on (heroku addons:create heroku-redis) \
             or name the variable holding the URL in PHP_REDIS_SESSIONS_URL_VAR"
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
        UrlError::Several => {
            "it holds whitespace or a comma; one URL of one Redis server is supported".into()
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

/// What the check of the PHP buildpack's PHP found: detail lines and warning lines.
pub fn php_check(check: &PhpCheck) -> (Vec<String>, Vec<String>) {
    const PHP: &str = ".heroku/php/bin/php";
    match check {
        PhpCheck::Skipped => (
            vec![
                "Skipped the ext-redis check: no PHP in .heroku/php yet (on Heroku, heroku/php runs before this buildpack)"
                    .to_string(),
            ],
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
        PhpCheck::Loaded { version } => (vec![format!("The PHP buildpack's PHP loads phpredis {version}")], vec![]),
        PhpCheck::NotLoaded => (
            vec![],
            vec![format!(
                "{PHP} does not load ext-redis, so PHP sessions would fail once a Redis URL is set; \
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
                    "could not ask {PHP} whether it loads ext-redis ({why}); the build goes on, \
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
        ];
        for error in [
            UrlError::Empty,
            UrlError::Several,
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
            let (details, warnings) = php_check(check);
            lines.push(format!("{check:?}:"));
            lines.extend(details.iter().map(|l| classic::detail(l)));
            lines.extend(warnings.iter().map(|l| classic::warning(l)));
        }
        insta::assert_snapshot!(lines.join("\n"));
    }
}
