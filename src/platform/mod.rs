//! The edges each platform calls: Heroku classic (`bin/detect`, `bin/compile`, the
//! `.profile.d` boot hook) and Cloud Native Buildpacks (`bin/detect`, `bin/build`, the
//! launch layer's exec.d program). Thin: they read their platform's inputs, call the core,
//! and print what `messages` says in their platform's `log` style.

pub mod classic;
pub mod cnb;
pub mod exec_d;
pub mod profile_d;

use crate::boot::{self, BootPlan};
use crate::env::ProcessEnv;
use crate::layout;
use crate::messages;
use std::io::Write;

/// The boot of this process: its environment, and the session ini beside this helper.
fn own_boot_plan() -> BootPlan {
    boot::plan(&ProcessEnv, &layout::own_installed())
}

/// The plan's notices on stderr, one line each; a closed stderr is ignored.
fn print_notices(plan: &BootPlan) {
    let mut stderr = std::io::stderr().lock();
    for notice in &plan.notices {
        let _ = writeln!(stderr, "{}", messages::boot_notice(notice));
    }
}

pub use crate::build::Platform;

/// The one line boot prints when it panicked (a bug): PHP keeps file sessions.
#[must_use]
pub fn boot_internal_error() -> String {
    crate::log::boot_line(&messages::boot_internal_error())
}

/// The error line for a build log that could not be written.
#[must_use]
pub fn log_write_failed(error: &std::io::Error, platform: Platform) -> String {
    let text = messages::log_write_failed(error);
    match platform {
        Platform::Classic => crate::log::classic::error(&text),
        Platform::Cnb => crate::log::cnb::error(&text),
    }
}
