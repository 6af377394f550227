//! Heroku classic phases: `bin/detect BUILD_DIR` and `bin/compile BUILD_DIR CACHE_DIR ENV_DIR`.
//! Thin: they read files, call the pure core and print what `messages` renders.

use crate::app_files::{self, FileError};
use crate::composer::ComposerNames;
use crate::install;
use crate::messages::{self, classic};
use crate::php_check;
use std::io::Write;
use std::path::Path;

pub const COMPOSER_VAR: &str = "COMPOSER";
pub const INSTALL_DEV_VAR: &str = "HEROKU_PHP_INSTALL_DEV";

/// What detect decided: take part, or decline with the one line to print on stderr.
pub enum Detection {
    Pass,
    Decline(String),
}

/// Shared by classic and CNB detect: the same rules and the same messages.
pub fn detect(app_dir: &Path, names: &ComposerNames, install_dev: bool) -> Detection {
    match app_files::inspect_app(app_dir, names, install_dev) {
        Ok(Some(_)) => Detection::Pass,
        Ok(None) => Detection::Decline(messages::detect_declined(&messages::not_required(names))),
        Err(error) => Detection::Decline(messages::detect_declined(&messages::app_error(
            &error, names,
        ))),
    }
}

/// `bin/compile`: returns the process exit code. The log goes to `out`.
pub fn compile(build_dir: &Path, env_dir: &Path, out: &mut impl Write) -> std::io::Result<i32> {
    writeln!(out, "{}", classic::header(messages::BUILDPACK_NAME))?;

    let mut warnings = Vec::new();
    let composer = match app_files::read_env_var(env_dir, COMPOSER_VAR) {
        Ok(value) => value,
        Err(error) => {
            warnings.push(messages::env_var_ignored(COMPOSER_VAR, &error));
            None
        }
    };
    // The PHP buildpack installs dev requirements when the var is set at all, even empty.
    let install_dev = match app_files::read_text(env_dir, INSTALL_DEV_VAR, app_files::MAX_ENV_VALUE)
    {
        Ok(value) => value.is_some(),
        Err(FileError::NotUtf8 { .. }) => true,
        Err(error) => {
            warnings.push(messages::env_var_ignored(INSTALL_DEV_VAR, &error));
            false
        }
    };
    for warning in &warnings {
        writeln!(out, "{}", classic::warning(warning))?;
    }

    let names = match composer {
        None => ComposerNames::default(),
        Some(name) if is_plain_file_name(&name) => ComposerNames::for_manifest(&name),
        Some(_) => {
            writeln!(out, "{}", classic::error(&messages::bad_composer_var()))?;
            return Ok(1);
        }
    };

    let found = match app_files::inspect_app(build_dir, &names, install_dev) {
        Ok(Some(found)) => found,
        Ok(None) => {
            writeln!(out, "{}", classic::error(&messages::not_required(&names)))?;
            return Ok(1);
        }
        Err(error) => {
            writeln!(
                out,
                "{}",
                classic::error(&messages::app_error(&error, &names))
            )?;
            return Ok(1);
        }
    };
    writeln!(out, "{}", classic::detail(&messages::found(&found, &names)))?;

    let (details, php_warnings) = messages::php_check(
        &php_check::check_classic(build_dir),
        messages::PhpPlace::Classic,
    );
    for line in &details {
        writeln!(out, "{}", classic::detail(line))?;
    }
    for line in &php_warnings {
        writeln!(out, "{}", classic::warning(line))?;
    }

    if let Err(error) = install::install_classic(build_dir) {
        writeln!(out, "{}", classic::error(&messages::install_failed(&error)))?;
        return Ok(1);
    }
    for line in messages::classic_installed() {
        writeln!(out, "{}", classic::detail(&line))?;
    }
    Ok(0)
}

/// `COMPOSER` must name a file in the app's root, as the PHP buildpack expects.
pub fn is_plain_file_name(name: &str) -> bool {
    !name.contains('/') && name != "." && name != ".."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composer_var_must_be_a_file_name() {
        assert!(is_plain_file_name("composer-heroku.json"));
        assert!(!is_plain_file_name("sub/composer.json"));
        assert!(!is_plain_file_name("/composer.json"));
        assert!(!is_plain_file_name(".."));
    }
}
