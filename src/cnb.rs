//! Cloud Native Buildpack phases: `bin/detect` and `bin/build` under the lifecycle. Thin:
//! the same app inspection as classic, one launch layer holding the helper as an exec.d
//! program plus the session ini, and a build log rendered by `messages::cnb`.
//!
//! Under the lifecycle the user's environment variables (`pack build --env`, project.toml)
//! are in the process environment (`clear-env` is false), so `COMPOSER` and
//! `HEROKU_PHP_INSTALL_DEV` are read from there: detect and build follow the rules of
//! classic compile, which reads them from ENV_DIR.

use crate::app_files::AppError;
use crate::boot::EnvValue;
use crate::classic::{self, Detection};
use crate::cnb_spec::{self, LayerTypes};
use crate::composer::ComposerNames;
use crate::install;
use crate::messages::{self, cnb as log};
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The one layer this buildpack writes: `<layers>/sessions/`, holding
/// `exec.d/php-redis-sessions` and `conf.d/php-redis-sessions.ini`.
pub const LAYER_NAME: &str = "sessions";

/// Why a CNB build cannot go on. Rendered by [`messages::cnb::build_error`].
#[derive(Debug)]
pub enum CnbError {
    /// Not run by the lifecycle: a variable it always sets is missing or not absolute.
    NotUnderLifecycle {
        var: &'static str,
    },
    /// `COMPOSER` does not name a file in the app's root directory.
    BadComposerVar,
    App(AppError),
    /// The app does not require ext-redis.
    NotRequired,
    /// The layer could not be written.
    Layer(io::Error),
}

/// The process environment, as a lookup the phases take (tests pass their own).
pub fn process_env(name: &str) -> EnvValue {
    match std::env::var_os(name).map(OsString::into_string) {
        None => EnvValue::Unset,
        Some(Ok(text)) => EnvValue::Text(text),
        Some(Err(_)) => EnvValue::NotUnicode,
    }
}

/// The composer file names, from `COMPOSER` like classic compile; `Err` when it does not
/// name a file in the app's root. A value that is not text is ignored, with a warning.
fn composer_names(
    env: &impl Fn(&str) -> EnvValue,
    warnings: &mut Vec<String>,
) -> Result<ComposerNames, CnbError> {
    match env(classic::COMPOSER_VAR) {
        EnvValue::Text(name) if !name.trim().is_empty() => {
            let name = name.trim();
            if classic::is_plain_file_name(name) {
                Ok(ComposerNames::for_manifest(name))
            } else {
                Err(CnbError::BadComposerVar)
            }
        }
        EnvValue::Text(_) | EnvValue::Unset => Ok(ComposerNames::default()),
        EnvValue::NotUnicode => {
            warnings.push(log::env_var_not_text(classic::COMPOSER_VAR));
            Ok(ComposerNames::default())
        }
    }
}

/// The PHP buildpack installs dev requirements when the variable is set at all, even empty.
fn install_dev(env: &impl Fn(&str) -> EnvValue) -> bool {
    !matches!(env(classic::INSTALL_DEV_VAR), EnvValue::Unset)
}

/// `bin/detect` under the lifecycle: the app is the working directory. Same rules and
/// messages as classic detect, plus `COMPOSER` (which classic detect cannot see).
pub fn detect(app_dir: &Path, env: impl Fn(&str) -> EnvValue) -> Detection {
    let mut warnings = vec![];
    match composer_names(&env, &mut warnings) {
        Ok(names) => classic::detect(app_dir, &names, install_dev(&env)),
        Err(error) => Detection::Decline(messages::detect_declined(&log::build_error(
            &error,
            &ComposerNames::default(),
        ))),
    }
}

/// `bin/build` under the lifecycle. Writes the build log to `out`; returns the exit code.
pub fn build(
    app_dir: &Path,
    env: impl Fn(&str) -> EnvValue,
    out: &mut impl Write,
) -> io::Result<i32> {
    let started = Instant::now();
    writeln!(out, "{}", log::header(messages::BUILDPACK_NAME))?;
    let mut warnings = vec![];
    let outcome = build_layer(app_dir, &env, &mut warnings);
    for warning in &warnings {
        writeln!(out, "{}", log::warning(warning))?;
    }
    match outcome {
        Ok(lines) => {
            for line in lines {
                writeln!(out, "{}", log::step(&line))?;
            }
            writeln!(out, "{}", log::done(started.elapsed()))?;
            Ok(0)
        }
        Err((error, names)) => {
            writeln!(out, "{}", log::error(&log::build_error(&error, &names)))?;
            Ok(1)
        }
    }
}

/// Checks the app, then writes the layer; returns the log's step lines.
fn build_layer(
    app_dir: &Path,
    env: &impl Fn(&str) -> EnvValue,
    warnings: &mut Vec<String>,
) -> Result<Vec<String>, (CnbError, ComposerNames)> {
    let layers_dir = layers_dir(env).map_err(|e| (e, ComposerNames::default()))?;
    let names = composer_names(env, warnings).map_err(|e| (e, ComposerNames::default()))?;
    let found = match crate::app_files::inspect_app(app_dir, &names, install_dev(env)) {
        Ok(Some(found)) => found,
        Ok(None) => return Err((CnbError::NotRequired, names)),
        Err(error) => return Err((CnbError::App(error), names)),
    };
    let path = match env("PATH") {
        EnvValue::Text(path) => path,
        EnvValue::Unset | EnvValue::NotUnicode => String::new(),
    };
    let (checked, php_warnings) = messages::php_check(
        &crate::php_check::check_on_path(&path),
        messages::PhpPlace::Cnb,
    );
    warnings.extend(php_warnings);
    write_layer(&layers_dir).map_err(|e| (CnbError::Layer(e), names.clone()))?;
    let mut lines = vec![messages::found(&found, &names)];
    lines.extend(checked);
    lines.extend(log::installed(LAYER_NAME));
    Ok(lines)
}

fn layers_dir(env: &impl Fn(&str) -> EnvValue) -> Result<PathBuf, CnbError> {
    match env(cnb_spec::LAYERS_DIR_VAR) {
        EnvValue::Text(dir) if Path::new(&dir).is_absolute() => Ok(PathBuf::from(dir)),
        _ => Err(CnbError::NotUnderLifecycle {
            var: cnb_spec::LAYERS_DIR_VAR,
        }),
    }
}

/// Writes `<layers>/sessions/` afresh (a launch layer from an earlier build is never
/// restored, but a rerun in the same build must not keep stale files) and its metadata.
/// Nothing in it depends on the app, the environment or the build: no secret, no path.
pub fn write_layer(layers_dir: &Path) -> io::Result<()> {
    let layer = layers_dir.join(LAYER_NAME);
    match std::fs::remove_dir_all(&layer) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    install::install_cnb_layer(&layer)?;
    let metadata = cnb_spec::layer_toml(LayerTypes {
        launch: true,
        build: false,
        cache: false,
    });
    install::write_file(
        &layers_dir.join(format!("{LAYER_NAME}.toml")),
        &metadata,
        0o644,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> EnvValue + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            map.get(name)
                .map_or(EnvValue::Unset, |v| EnvValue::Text(v.clone()))
        }
    }

    #[test]
    fn composer_var_renames_the_files() {
        let mut warnings = vec![];
        let names = composer_names(&env_of(&[("COMPOSER", "composer-x.json")]), &mut warnings);
        assert_eq!(
            names.unwrap(),
            ComposerNames::for_manifest("composer-x.json")
        );
        let names = composer_names(&env_of(&[("COMPOSER", " ")]), &mut warnings);
        assert_eq!(names.unwrap(), ComposerNames::default());
        assert!(matches!(
            composer_names(&env_of(&[("COMPOSER", "sub/c.json")]), &mut warnings),
            Err(CnbError::BadComposerVar)
        ));
        assert!(warnings.is_empty());
        let not_text = |name: &str| {
            if name == "COMPOSER" {
                EnvValue::NotUnicode
            } else {
                EnvValue::Unset
            }
        };
        assert_eq!(
            composer_names(&not_text, &mut warnings).unwrap(),
            ComposerNames::default()
        );
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn install_dev_counts_when_set_even_empty() {
        assert!(!install_dev(&env_of(&[])));
        assert!(install_dev(&env_of(&[("HEROKU_PHP_INSTALL_DEV", "")])));
    }

    #[test]
    fn layers_dir_must_be_absolute() {
        assert!(layers_dir(&env_of(&[("CNB_LAYERS_DIR", "/layers/x")])).is_ok());
        for env in [env_of(&[("CNB_LAYERS_DIR", "layers")]), env_of(&[])] {
            assert!(matches!(
                layers_dir(&env),
                Err(CnbError::NotUnderLifecycle {
                    var: "CNB_LAYERS_DIR"
                })
            ));
        }
    }
}
