//! The Cloud Native Buildpack's own words: the build log's closing steps, the errors only
//! a CNB build has, and the exec.d program's lines, tagged like the classic boot lines.

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

pub(super) fn bad_composer_var() -> String {
    "the environment variable COMPOSER must name a file in the app's root \
     directory, such as composer-heroku.json; fix it where the build's environment is set \
     (`pack build --env COMPOSER=...` or [[io.buildpacks.build.env]] in project.toml)"
        .into()
}

pub(super) fn layer_failed(error: &std::io::Error) -> String {
    format!("could not write the layer's files ({error}); this is a bug, please report it")
}

/// A variable of the build's environment whose value is not UTF-8, so it is ignored.
pub(crate) fn env_var_not_text(name: &str) -> String {
    format!(
        "ignoring the environment variable {name}: its value is not UTF-8 text; set it to a file name such as composer.json"
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
    use crate::app::{AppError, ComposerNames, Declined, FileError};
    use crate::build::{BuildError, Platform};
    use crate::composer::{ComposerError, FileKind};
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
        lines.push(warning(&env_var_not_text("COMPOSER")));
        for failure in [
            BuildError::NotUnderLifecycle {
                var: "CNB_LAYERS_DIR",
            },
            BuildError::App(Declined::BadComposerVar),
            BuildError::App(Declined::NotRequired {
                names: renamed.clone(),
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
