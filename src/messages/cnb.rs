//! The Cloud Native Buildpack's own words: the build log's closing steps, the errors only
//! a CNB build has, and the exec.d program's lines, tagged like the classic boot lines.

use crate::app::{ComposerNames, FileError};
use crate::cnb_spec::ExecDError;
use crate::log::boot_line;

/// The step lines after the one naming where ext-redis is required.
pub(crate) fn installed(layer: &str) -> Vec<String> {
    vec![
        format!(
            "Installed the boot helper in the launch layer `{layer}`: its exec.d program runs before every process"
        ),
        "At each launch, PHP sessions go to the Redis in REDIS_URL, with locking".into(),
        "Without a usable REDIS_URL, PHP keeps its default file sessions".into(),
    ]
}

pub(super) fn not_under_lifecycle(var: &str) -> String {
    format!(
        "{var} is not set to an absolute path, so this is not a Cloud Native Buildpacks build; \
         build with `pack build --buildpack heroku/php --buildpack <this buildpack>`, \
         or on Heroku classic add the buildpack with `heroku buildpacks:add`"
    )
}

/// Where a CNB user sets the build's variables.
const SET_IT: &str =
    "`pack build --env COMPOSER=...` or [[io.buildpacks.build.env]] in project.toml";

pub(super) fn bad_composer_var() -> String {
    format!(
        "the build's environment variable COMPOSER is empty or holds a line break or another \
         control character, and heroku/php uses it as it is, without trimming, as the path of \
         composer.json in the app; set it to just that path, such as composer-heroku.json ({SET_IT})"
    )
}

/// ext-redis is only in a dev section (`found` says where), which heroku/php never installs
/// on CNB.
pub(super) fn dev_only(found: &str, names: &ComposerNames) -> String {
    format!(
        "{found}, but heroku/php never installs dev requirements on Cloud Native Buildpacks \
         (it always runs `composer install --no-dev`; HEROKU_PHP_INSTALL_DEV is for Heroku classic only), \
         so PHP could not keep sessions in Redis; add \"ext-redis\": \"*\" to \"require\" in {}, \
         run `composer update`, and commit {}",
        names.manifest, names.lock
    )
}

pub(super) fn layer_failed(error: &std::io::Error) -> String {
    format!("could not write the layer's files ({error}); this is a bug, please report it")
}

/// A variable of the build's environment (a file of `<platform>/env/`) that cannot be read,
/// so it is ignored.
pub(crate) fn env_var_ignored(name: &str, error: &FileError) -> String {
    format!(
        "ignoring the build's environment variable {name}: {}; set it to the composer.json to use, \
         such as composer-heroku.json ({SET_IT})",
        super::env_file_problem(error)
    )
}

/// The one line the exec.d program prints when its variables cannot reach the launcher.
pub(crate) fn exec_d_error(error: &ExecDError) -> String {
    const KEPT: &str = "PHP keeps its default file sessions";
    let text = match error {
        ExecDError::Fd3NotOpen => format!(
            "file descriptor 3 is not open, so the session settings cannot be handed to the launcher and {KEPT}; \
             this program is run by the CNB launcher before every process, not by hand"
        ),
        ExecDError::Fd3Write(reason) => format!(
            "could not hand the session settings to the launcher on file descriptor 3 ({reason}), so {KEPT}; \
             please report this with the platform's lifecycle version"
        ),
        ExecDError::BadVariableName(name) => format!(
            "internal error ({name} is not a valid variable name), so {KEPT}; please report this bug"
        ),
    };
    boot_line(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{AppError, Declined};
    use crate::build::{BuildError, Platform};
    use crate::composer::{ComposerError, FileKind, Found};
    use crate::log::cnb::{done, error, header, step, warning};
    use crate::messages::build_error;
    use std::time::Duration;

    /// Every CNB build log line and error there is, in one snapshot.
    #[test]
    fn cnb_build_messages() {
        let names = ComposerNames::default();
        let renamed = ComposerNames::for_manifest("composer-heroku.json");
        let mut lines = vec![header("PHP Redis Sessions")];
        lines.extend(installed("sessions").iter().map(|l| step(l)));
        lines.push(done(Duration::from_millis(20)));
        lines.push(done(Duration::from_millis(1234)));
        for problem in [
            FileError::NotUtf8 {
                name: "COMPOSER".into(),
            },
            FileError::Unreadable {
                name: "COMPOSER".into(),
                reason: "Permission denied (os error 13)".into(),
            },
            FileError::TooLarge {
                name: "COMPOSER".into(),
                limit: 65536,
            },
        ] {
            lines.push(warning(&env_var_ignored("COMPOSER", &problem)));
        }
        for failure in [
            BuildError::NotUnderLifecycle {
                var: "CNB_LAYERS_DIR",
            },
            BuildError::App(Declined::BadComposerVar),
            BuildError::App(Declined::NotRequired {
                names: renamed.clone(),
            }),
            BuildError::App(Declined::DevOnly {
                found: Found::Manifest {
                    section: "require-dev",
                },
                names: names.clone(),
            }),
            BuildError::App(Declined::DevOnly {
                found: Found::LockPackage {
                    section: "packages-dev",
                    package: "acme/dev-tools".into(),
                },
                names: ComposerNames::for_manifest("sub/composer.json"),
            }),
            BuildError::App(Declined::Files {
                error: AppError::Composer(ComposerError::InvalidJson {
                    file: FileKind::Lock,
                    line: 4,
                    column: 3,
                    problem: "trailing comma".into(),
                }),
                names: renamed.clone(),
            }),
            BuildError::App(Declined::Files {
                error: AppError::File(FileError::IsDirectory {
                    name: "composer.json".into(),
                }),
                names: names.clone(),
            }),
            BuildError::Install(std::io::Error::from(std::io::ErrorKind::PermissionDenied)),
        ] {
            lines.push(error(&build_error(&failure, Platform::Cnb)));
        }
        insta::assert_snapshot!(lines.join("\n"));
    }

    /// Every line the exec.d program can print besides the boot notices.
    #[test]
    fn exec_d_messages() {
        let lines: Vec<String> = [
            ExecDError::Fd3NotOpen,
            ExecDError::Fd3Write("Broken pipe (os error 32)".into()),
            ExecDError::BadVariableName("A-B".into()),
        ]
        .iter()
        .map(exec_d_error)
        .collect();
        insta::assert_snapshot!(lines.join("\n"));
    }
}
