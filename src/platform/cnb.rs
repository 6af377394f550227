//! Cloud Native Buildpack build: `bin/build` under the lifecycle, with the app as working
//! directory. (CNB `bin/detect` always takes part and runs no helper: see bin/detect.) It
//! reads the app by heroku/php's CNB rules ([`app::Rules::Cnb`]), `COMPOSER` as heroku/php
//! reads it.

use crate::app::{self, FileError};
use crate::build::{self, Event, Input, PhpLocation, Platform};
use crate::cnb_spec::{LAYERS_DIR_VAR, PLATFORM_DIR_VAR};
use crate::env::{COMPOSER, Env, EnvValue, PATH};
use crate::layout::LAYER_NAME;
use crate::log::{BUILDPACK_NAME, cnb as log};
use crate::messages::{self, cnb as words};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// `COMPOSER` exactly as heroku/php reads it, and a warning when it cannot be read.
/// heroku/php takes it from libcnb's platform environment (heroku/buildpacks-php at commit
/// 46648198, `buildpacks/php/src/main.rs` lines 50 and 75,
/// `ProjectLoader::from_env(context.platform.env())`), which is the files of
/// `<platform>/env/`, each read whole, a directory skipped (libcnb.rs at commit 65e42bad,
/// `libcnb/src/platform.rs` lines 33-62, `read_platform_env`), and uses the value as it is
/// ([`app::Rules::Cnb`] has the rest). Composer itself trims `COMPOSER`, but heroku/php
/// looks for the files by the untrimmed name first. Not from this process's environment, which also
/// holds the operator's build-config variables, which heroku/php does not read for this.
fn composer_var(env: &impl Env) -> (Option<String>, Option<String>) {
    let EnvValue::Text(platform) = env.value(PLATFORM_DIR_VAR) else {
        return (None, None);
    };
    match app::read_text(
        &Path::new(&platform).join("env"),
        COMPOSER,
        app::MAX_ENV_VALUE,
    ) {
        Ok(value) => (value, None),
        Err(FileError::IsDirectory { .. }) => (None, None),
        Err(error) => (None, Some(words::env_var_ignored(COMPOSER, &error))),
    }
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
            rules: app::Rules::Cnb,
            php: PhpLocation::OnPath(env.value(PATH).text().unwrap_or_default()),
            target: layers_dir.clone(),
            cache: layers_dir,
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
            messages::framework_warnings(&requirement.frameworks, &requirement.names.lock),
        ),
        Event::PhpChecked(check) => messages::php_check(check, Platform::Cnb),
        Event::Namespaced { new } => (vec![messages::namespaced(*new)], vec![]),
        Event::NamespaceNotKept(error) => (
            vec![],
            vec![messages::namespace_not_kept(error, Platform::Cnb)],
        ),
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
    fn composer_var_is_the_platform_file_as_it_is() {
        let platform = tempfile::tempdir().unwrap();
        let dir = platform.path().to_str().unwrap();
        std::fs::create_dir(platform.path().join("env")).unwrap();
        let env = Vars::new([
            ("CNB_PLATFORM_DIR", dir),
            ("COMPOSER", "from-the-process.json"),
        ]);
        assert_eq!(composer_var(&env), (None, None));
        std::fs::write(platform.path().join("env/COMPOSER"), " sub/c.json\n").unwrap();
        assert_eq!(composer_var(&env), (Some(" sub/c.json\n".into()), None));
        std::fs::write(platform.path().join("env/COMPOSER"), [0xff]).unwrap();
        assert!(matches!(composer_var(&env), (None, Some(_))));
        std::fs::remove_file(platform.path().join("env/COMPOSER")).unwrap();
        std::fs::create_dir(platform.path().join("env/COMPOSER")).unwrap();
        assert_eq!(composer_var(&env), (None, None));
        assert_eq!(
            composer_var(&Vars::new([("COMPOSER", "x.json")])),
            (None, None)
        );
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
