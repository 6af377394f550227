//! The one build, for both platforms: check that the app requires ext-redis, ask the PHP
//! buildpack's PHP whether it loads phpredis, keep the app's namespace for session keys,
//! install the boot files. It prints nothing:
//! each step it finishes is an [`Event`], and it stops at the first [`BuildError`]; the
//! platform edges render both in their own log style.

use crate::app::{self, Declined, Requirement};
use crate::layout;
use crate::php_check::{self, PhpCheck};
use crate::prepend;
use std::io;
use std::path::{Path, PathBuf};

/// Which platform builds: it decides where PHP is, what is installed, and how the log
/// speaks to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Heroku classic: `bin/compile` into the slug.
    Classic,
    /// Cloud Native Buildpacks: `bin/build` into a launch layer.
    Cnb,
}

/// What a build works from, read by the platform edge from wherever that platform keeps it.
pub(crate) struct Input<'a> {
    pub(crate) platform: Platform,
    pub(crate) app_dir: &'a Path,
    /// The value of `COMPOSER`, if set.
    pub(crate) composer_var: Option<&'a str>,
    /// How the platform's PHP buildpack reads the composer files.
    pub(crate) rules: app::Rules,
    /// Where the PHP buildpack's PHP is.
    pub(crate) php: PhpLocation,
    /// Where the boot files go.
    pub(crate) target: PathBuf,
    /// What the platform keeps from build to build: classic's cache directory, CNB's
    /// layers directory (for a cache layer).
    pub(crate) cache: PathBuf,
}

/// Where to find the PHP the PHP buildpack installed.
pub(crate) enum PhpLocation {
    /// `.heroku/php/bin/php` in the classic build directory.
    InBuildDir(PathBuf),
    /// The first `php` on this search path (heroku/php's build layers on CNB).
    OnPath(String),
}

/// A step the build finished, in order.
#[derive(Debug)]
pub(crate) enum Event {
    Required(Requirement),
    PhpChecked(PhpCheck),
    /// The app's namespace for session keys: `new`, or kept from an earlier build.
    Namespaced {
        new: bool,
    },
    /// The namespace could not be kept in the cache: session keys get none.
    NamespaceNotKept(io::Error),
    Installed,
}

/// Why a build stops.
#[derive(Debug)]
pub(crate) enum BuildError {
    /// CNB: a variable the lifecycle always sets is missing or not absolute.
    NotUnderLifecycle {
        var: &'static str,
    },
    App(Declined),
    /// The boot files could not be written.
    Install(io::Error),
}

/// Runs the build, telling `on_event` each step it finishes.
pub(crate) fn run(input: &Input<'_>, mut on_event: impl FnMut(Event)) -> Result<(), BuildError> {
    let requirement =
        app::detect(input.app_dir, input.composer_var, input.rules).map_err(BuildError::App)?;
    let frameworks = requirement.frameworks.clone();
    on_event(Event::Required(requirement));
    let probe = match &input.php {
        PhpLocation::InBuildDir(build_dir) => php_check::check_classic(build_dir),
        PhpLocation::OnPath(path) => php_check::check_on_path(path),
    };
    let phpredis = match &probe.check {
        PhpCheck::Loaded { version } => Some(version.clone()),
        PhpCheck::Skipped | PhpCheck::NotLoaded | PhpCheck::Failed(_) => None,
    };
    on_event(Event::PhpChecked(probe.check));
    let cache = layout::namespace_cache(&input.cache, input.platform == Platform::Cnb);
    let namespace = match layout::keep_namespace(&cache) {
        Ok((namespace, new)) => {
            on_event(Event::Namespaced { new });
            Some(namespace)
        }
        Err(error) => {
            on_event(Event::NamespaceNotKept(error));
            None
        }
    };
    let facts = layout::Facts {
        namespace,
        phpredis,
        frameworks,
        app_prepend_file: probe.auto_prepend_file,
        prepend_elsewhere: prepend::find(input.app_dir),
    };
    match input.platform {
        Platform::Classic => layout::install_classic(&input.target, &facts),
        Platform::Cnb => layout::install_cnb_layer(&input.target, &facts),
    }
    .map_err(BuildError::Install)?;
    on_event(Event::Installed);
    Ok(())
}
