//! The output kit: how a line looks on each platform, and the tags every line carries.
//! It knows nothing of what the lines say (that is `messages`).

use std::time::Duration;

/// The buildpack's name: the first line of every build log, and what detect prints.
pub(crate) const BUILDPACK_NAME: &str = "PHP Redis Sessions";
/// Prefix of every boot line, so that they can be found in `heroku logs`.
pub(crate) const BOOT_TAG: &str = "php-redis-sessions";

/// A Heroku classic build log: `-----> ` headers, details indented by 7 spaces.
pub(crate) mod classic {
    pub(crate) fn header(text: &str) -> String {
        format!("-----> {text}")
    }

    pub(crate) fn detail(text: &str) -> String {
        format!("       {text}")
    }

    pub(crate) fn warning(text: &str) -> String {
        format!(" !     WARNING: {text}")
    }

    pub(crate) fn error(text: &str) -> String {
        format!(" !     ERROR: {text}")
    }
}

/// A Cloud Native Buildpack's build log in the style of Heroku's CNBs (`bullet_stream)`:
/// `## Name`, `- step`, `! WARNING:`/`! ERROR:`, `- Done (finished in ...)`.
pub(crate) mod cnb {
    use super::Duration;

    /// The build log's first line, followed by a blank line.
    pub(crate) fn header(name: &str) -> String {
        format!("## {name}\n")
    }

    pub(crate) fn step(text: &str) -> String {
        format!("- {text}")
    }

    pub(crate) fn warning(text: &str) -> String {
        format!("! WARNING: {text}")
    }

    pub(crate) fn error(text: &str) -> String {
        format!("! ERROR: {text}")
    }

    /// The last line of a successful build.
    pub(crate) fn done(elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64();
        if seconds < 0.1 {
            "- Done (finished in < 0.1s)".to_string()
        } else {
            format!("- Done (finished in {seconds:.1}s)")
        }
    }
}

/// A boot line (classic `.profile.d`, CNB exec.d): the tag, then the text.
pub(crate) fn boot_line(text: &str) -> String {
    format!("{BOOT_TAG}: {text}")
}
