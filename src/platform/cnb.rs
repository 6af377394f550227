//! Cloud Native Buildpack build: `bin/build` under the lifecycle, with the app as working
//! directory. (CNB `bin/detect` always takes part and runs no helper: see bin/detect.) The user's variables (`pack build --env`, project.toml)
//! are in the process environment (`clear-env` is false), so `COMPOSER` and
//! `HEROKU_PHP_INSTALL_DEV` are read from there.

use crate::build::{self, Event, Input, PhpLocation, Platform};
use crate::cnb_spec::LAYERS_DIR_VAR;
use crate::env::{COMPOSER, Env, EnvValue, INSTALL_DEV, PATH};
use crate::layout::LAYER_NAME;
use crate::log::{BUILDPACK_NAME, cnb as log};
use crate::messages::{self, cnb as words};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `COMPOSER`, if set to text; a value that is not text is ignored, with a warning.
fn composer_var(env: &impl Env) -> (Option<String>, Option<String>) {
    match env.value(COMPOSER) {
        EnvValue::Text(name) => (Some(name), None),
        EnvValue::Unset => (None, None),
        EnvValue::NotUnicode => (None, Some(words::env_var_not_text(COMPOSER))),
    }
}

/// The PHP buildpack installs dev requirements when the variable is set at all, even empty.
fn install_dev(env: &impl Env) -> bool {
    env.value(INSTALL_DEV) != EnvValue::Unset
}

/// `bin/build`: writes the build log to `out`, each line as soon as its step is done (a
/// warning right after the step it is about, as classic does); returns the exit code.
pub fn build(env: &impl Env, out: &mut impl Write) -> io::Result<u8> {
    let started = Instant::now();
    writeln!(out, "{}", log::header(BUILDPACK_NAME))?;
    let (composer_var, warning) = composer_var(env);
    if let Some(warning) = &warning {
        writeln!(out, "{}", log::warning(warning))?;
    }
    let mut written = Ok(());
    let outcome = layers_dir(env).and_then(|layers_dir| {
        let input = Input {
            platform: Platform::Cnb,
            app_dir: Path::new("."),
            composer_var: composer_var.as_deref(),
            install_dev: install_dev(env),
            php: PhpLocation::OnPath(env.value(PATH).text().unwrap_or_default()),
            target: layers_dir,
        };
        build::run(&input, |event| {
            if written.is_ok() {
                written = write_event(out, &event);
            }
        })
    });
    written?;
    match outcome {
        Ok(()) => {
            writeln!(out, "{}", log::done(started.elapsed()))?;
            Ok(0)
        }
        Err(error) => {
            let text = messages::build_error(&error, Platform::Cnb);
            writeln!(out, "{}", log::error(&text))?;
            Ok(1)
        }
    }
}

/// One finished step, as the CNB log shows it: its step lines, then its warnings.
fn write_event(out: &mut impl Write, event: &Event) -> io::Result<()> {
    let (steps, warnings) = match event {
        Event::Required(requirement) => (
            vec![messages::found(&requirement.found, &requirement.names)],
            vec![],
        ),
        Event::PhpChecked(check) => messages::php_check(check, Platform::Cnb),
        Event::Installed => (words::installed(LAYER_NAME), vec![]),
    };
    for line in &steps {
        writeln!(out, "{}", log::step(line))?;
    }
    for line in &warnings {
        writeln!(out, "{}", log::warning(line))?;
    }
    Ok(())
}

/// This buildpack's layers directory, which the lifecycle always sets.
fn layers_dir(env: &impl Env) -> Result<PathBuf, build::BuildError> {
    match env.value(LAYERS_DIR_VAR) {
        EnvValue::Text(dir) if Path::new(&dir).is_absolute() => Ok(PathBuf::from(dir)),
        _ => Err(build::BuildError::NotUnderLifecycle {
            var: LAYERS_DIR_VAR,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Vars;

    #[test]
    fn install_dev_counts_when_set_even_empty() {
        assert!(!install_dev(&Vars::new([])));
        assert!(install_dev(&Vars::new([("HEROKU_PHP_INSTALL_DEV", "")])));
    }

    #[test]
    fn layers_dir_must_be_absolute() {
        assert!(layers_dir(&Vars::new([("CNB_LAYERS_DIR", "/layers/x")])).is_ok());
        for env in [Vars::new([("CNB_LAYERS_DIR", "layers")]), Vars::new([])] {
            assert!(matches!(
                layers_dir(&env),
                Err(build::BuildError::NotUnderLifecycle {
                    var: "CNB_LAYERS_DIR"
                })
            ));
        }
    }
}
