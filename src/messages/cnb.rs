//! The Cloud Native Buildpack's words: the build log in the style of Heroku's CNBs
//! (bullet_stream: `## Name`, `- step`, `! WARNING:`/`! ERROR:`, `- Done (finished in ...)`),
//! and the exec.d program's lines, tagged like the classic boot lines.

use super::{BOOT_TAG, app_error, not_required};
use crate::cnb::CnbError;
use crate::cnb_spec::SpecError;
use crate::composer::ComposerNames;
use crate::exec_d::ExecDError;
use std::time::Duration;

/// The build log's first line, followed by a blank line.
pub fn header(name: &str) -> String {
    format!("## {name}\n")
}

pub fn step(text: &str) -> String {
    format!("- {text}")
}

pub fn warning(text: &str) -> String {
    format!("! WARNING: {text}")
}

pub fn error(text: &str) -> String {
    format!("! ERROR: {text}")
}

/// The last line of a successful build.
pub fn done(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    if seconds < 0.1 {
        "- Done (finished in < 0.1s)".to_string()
    } else {
        format!("- Done (finished in {seconds:.1}s)")
    }
}

/// The step lines after the one naming where ext-redis is required.
pub fn installed(layer: &str) -> Vec<String> {
    vec![
        format!(
            "Installed the boot helper in the launch layer `{layer}`: its exec.d program runs before every process"
        ),
        "At each launch, PHP sessions go to the Redis in REDIS_URL, with locking".into(),
        "Without a usable REDIS_URL, PHP keeps its default file sessions".into(),
    ]
}

pub fn build_error(error: &CnbError, names: &ComposerNames) -> String {
    match error {
        CnbError::NotUnderLifecycle { var } => format!(
            "{var} is not set to an absolute path, so this is not a Cloud Native Buildpacks build; \
             build with `pack build --buildpack heroku/php --buildpack <this buildpack>`, \
             or on Heroku classic add the buildpack with `heroku buildpacks:add`"
        ),
        CnbError::BadComposerVar => {
            "the environment variable COMPOSER must name a file in the app's root \
             directory, such as composer-heroku.json; fix it where the build's environment is set \
             (`pack build --env COMPOSER=...` or [[io.buildpacks.build.env]] in project.toml)"
                .into()
        }
        CnbError::App(error) => app_error(error, names),
        CnbError::NotRequired => not_required(names),
        CnbError::Layer(error) => {
            format!("could not write the layer's files ({error}); this is a bug, please report it")
        }
    }
}

/// A variable of the build's environment whose value is not UTF-8, so it is ignored.
pub fn env_var_not_text(name: &str) -> String {
    format!(
        "ignoring the environment variable {name}: its value is not UTF-8 text; set it to a file name such as composer.json"
    )
}

/// The one line the exec.d program prints when its variables cannot reach the launcher.
pub fn exec_d_error(error: &ExecDError) -> String {
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
        ExecDError::Output(SpecError::BadVariableName(name)) => format!(
            "internal error ({name} is not a valid variable name), so {KEPT}; please report this bug"
        ),
    };
    format!("{BOOT_TAG}: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app_files::{AppError, FileError};
    use crate::composer::{ComposerError, FileKind};
    use crate::messages::detect_declined;

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
        for (error, names) in [
            (
                CnbError::NotUnderLifecycle {
                    var: "CNB_LAYERS_DIR",
                },
                &names,
            ),
            (CnbError::BadComposerVar, &names),
            (CnbError::NotRequired, &renamed),
            (
                CnbError::App(AppError::Composer(ComposerError::InvalidJson {
                    file: FileKind::Lock,
                    line: 4,
                    column: 3,
                    problem: "trailing comma".into(),
                })),
                &renamed,
            ),
            (
                CnbError::App(AppError::File(FileError::IsDirectory {
                    name: "composer.json".into(),
                })),
                &names,
            ),
            (
                CnbError::Layer(std::io::Error::from(std::io::ErrorKind::PermissionDenied)),
                &names,
            ),
        ] {
            lines.push(error_line(&error, names));
        }
        lines.push(detect_declined(&build_error(
            &CnbError::BadComposerVar,
            &names,
        )));
        insta::assert_snapshot!(lines.join("\n"));
    }

    fn error_line(e: &CnbError, names: &ComposerNames) -> String {
        error(&build_error(e, names))
    }

    /// Every line the exec.d program can print besides the boot notices.
    #[test]
    fn exec_d_messages() {
        let lines: Vec<String> = [
            ExecDError::Fd3NotOpen,
            ExecDError::Fd3Write("Broken pipe (os error 32)".into()),
            ExecDError::Output(SpecError::BadVariableName("A-B".into())),
        ]
        .iter()
        .map(exec_d_error)
        .collect();
        insta::assert_snapshot!(lines.join("\n"));
    }
}
