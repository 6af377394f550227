//! Heroku classic build phases: `bin/detect BUILD_DIR` and `bin/compile BUILD_DIR
//! CACHE_DIR ENV_DIR`, whose config vars are the files of `ENV_DIR`.

use crate::app::{self, FileError};
use crate::build::{self, Event, Input, PhpLocation, Platform};
use crate::env::{COMPOSER, Env, EnvValue, INSTALL_DEV, ProcessEnv};
use crate::log::{BUILDPACK_NAME, classic as log};
use crate::messages;
use std::io::{self, Write};
use std::path::Path;

/// `bin/detect`: a classic detect cannot see config vars, so it always looks at
/// composer.json. It takes part (exit 0) printing the name on stdout, or declines (exit 1)
/// with the reason on stderr.
#[must_use]
pub fn detect(build_dir: &Path) -> u8 {
    // Set at all, even empty or not UTF-8, as the PHP buildpack reads it.
    let install_dev = ProcessEnv.value(INSTALL_DEV) != EnvValue::Unset;
    match app::detect(build_dir, None, app::Rules::Classic { install_dev }) {
        Ok(_) => {
            println!("{BUILDPACK_NAME}");
            0
        }
        Err(declined) => {
            eprintln!(
                "{}",
                messages::detect_declined(&messages::declined(&declined, Platform::Classic))
            );
            1
        }
    }
}

/// `bin/compile`: the build log goes to `out`; returns the exit code.
pub fn compile(
    build_dir: &Path,
    cache_dir: &Path,
    env_dir: &Path,
    out: &mut impl Write,
) -> io::Result<u8> {
    writeln!(out, "{}", log::header(BUILDPACK_NAME))?;
    let mut warnings = Vec::new();
    let composer_var = app::read_env_var(env_dir, COMPOSER).unwrap_or_else(|error| {
        warnings.push(messages::env_var_ignored(COMPOSER, &error));
        None
    });
    // The PHP buildpack installs dev requirements when the var is set at all, even empty.
    let install_dev = match app::read_text(env_dir, INSTALL_DEV, app::MAX_ENV_VALUE) {
        Ok(value) => value.is_some(),
        Err(FileError::NotUtf8 { .. }) => true,
        Err(error) => {
            warnings.push(messages::env_var_ignored(INSTALL_DEV, &error));
            false
        }
    };
    for warning in &warnings {
        writeln!(out, "{}", log::warning(warning))?;
    }
    let input = Input {
        platform: Platform::Classic,
        app_dir: build_dir,
        composer_var: composer_var.as_deref(),
        rules: app::Rules::Classic { install_dev },
        php: PhpLocation::InBuildDir(build_dir.to_path_buf()),
        target: build_dir.to_path_buf(),
        cache: cache_dir.to_path_buf(),
    };
    let mut written = Ok(());
    let outcome = build::run(&input, |event| {
        if written.is_ok() {
            written = write_event(out, &event);
        }
    });
    written?;
    match outcome {
        Ok(()) => Ok(0),
        Err(error) => {
            let text = messages::build_error(&error, Platform::Classic);
            writeln!(out, "{}", log::error(&text))?;
            Ok(1)
        }
    }
}

/// One finished step, as the classic log shows it, as soon as it is done.
fn write_event(out: &mut impl Write, event: &Event) -> io::Result<()> {
    match event {
        Event::Required(requirement) => {
            writeln!(
                out,
                "{}",
                log::detail(&messages::found(&requirement.found, &requirement.names))
            )?;
            for line in
                messages::framework_warnings(&requirement.frameworks, &requirement.names.lock)
            {
                writeln!(out, "{}", log::warning(&line))?;
            }
            Ok(())
        }
        Event::PhpChecked(check) => {
            let (details, warnings) = messages::php_check(check, Platform::Classic);
            for line in &details {
                writeln!(out, "{}", log::detail(line))?;
            }
            for line in &warnings {
                writeln!(out, "{}", log::warning(line))?;
            }
            Ok(())
        }
        Event::Namespaced { new } => {
            writeln!(out, "{}", log::detail(&messages::namespaced(*new)))
        }
        Event::NamespaceNotKept(error) => writeln!(
            out,
            "{}",
            log::warning(&messages::namespace_not_kept(error, Platform::Classic))
        ),
        Event::Installed => {
            for line in messages::classic_installed() {
                writeln!(out, "{}", log::detail(&line))?;
            }
            Ok(())
        }
    }
}
