//! The CNB launch edge: the layer's `exec.d/php-redis-sessions`, which the launcher runs
//! before every process with the launch environment (already holding heroku/php's
//! `PHP_INI_SCAN_DIR`). It plans the boot exactly as the classic `.profile.d` hook does and
//! hands the variables to the launcher as TOML on file descriptor 3.
//!
//! It never fails the launch: whatever happens, it exits 0; the worst outcome is PHP's
//! default file sessions and a line on stderr (the app's log). The variables (which hold
//! the password) go only to fd 3, never to stdout, stderr or a file.

use crate::boot_hook;
use crate::cnb_spec::{self, SpecError};
use crate::install;
use crate::messages;
use std::fs::File;
use std::io::Write;
use std::os::fd::FromRawFd;
use std::path::Path;

/// Why the variables did not reach the launcher. Rendered by
/// [`messages::cnb::exec_d_error`]; none of them carries a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecDError {
    /// Nobody opened fd 3: not run by the launcher (by hand, or by a platform that does
    /// not follow the spec). Nothing is written anywhere else.
    Fd3NotOpen,
    /// Writing to fd 3 failed (e.g. the launcher closed its end).
    Fd3Write(String),
    /// A variable name the spec does not allow: a bug.
    Output(SpecError),
}

/// True when this executable sits in an `exec.d` directory: how the helper, which the
/// launcher runs without arguments, knows it is the exec.d program.
/// Also by the path it was started with (argv[0], a full path from the launcher), in case
/// `/proc/self/exe` cannot be read: a no-argument run must never end in a usage error,
/// which would abort the launch.
pub fn invoked_as_exec_d() -> bool {
    std::env::current_exe().is_ok_and(|exe| is_in_exec_d(&exe))
        || std::env::args_os()
            .next()
            .is_some_and(|arg0| is_in_exec_d(Path::new(&arg0)))
}

fn is_in_exec_d(exe: &Path) -> bool {
    exe.parent()
        .and_then(Path::file_name)
        .is_some_and(|dir| dir == install::CNB_HELPER_DIR)
}

/// The exec.d program. Always returns 0.
pub fn run() -> i32 {
    // Claim fd 3 before anything else could open a file and be handed that number.
    let fd3 = take_fd3();
    let plan = boot_hook::plan_from_process();
    boot_hook::print_notices(&plan);
    if plan.vars.is_empty() {
        return 0;
    }
    let result = cnb_spec::exec_d_output(&plan.vars)
        .map_err(ExecDError::Output)
        .and_then(|toml| {
            let mut fd3 = fd3.ok_or(ExecDError::Fd3NotOpen)?;
            // One write of a few hundred bytes: below PIPE_BUF, so the launcher never sees
            // half of it.
            fd3.write_all(toml.as_bytes())
                .map_err(|error| ExecDError::Fd3Write(error.to_string()))
        });
    if let Err(error) = result {
        let _ = writeln!(
            std::io::stderr().lock(),
            "{}",
            messages::cnb::exec_d_error(&error)
        );
    }
    0
}

/// fd 3 as a file, if this process inherited it open.
fn take_fd3() -> Option<File> {
    // SAFETY: F_GETFD only reads the descriptor's flags; on a closed descriptor it fails
    // with EBADF and changes nothing.
    let open = unsafe { libc::fcntl(cnb_spec::EXEC_D_FD, libc::F_GETFD) } != -1;
    // SAFETY: the descriptor is open, was inherited for this program to write its output
    // to, and nothing else in this process uses it; the File owns and closes it.
    open.then(|| unsafe { File::from_raw_fd(cnb_spec::EXEC_D_FD) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_when_it_is_in_exec_d() {
        assert!(is_in_exec_d(Path::new(
            "/layers/x_y/sessions/exec.d/php-redis-sessions"
        )));
        assert!(!is_in_exec_d(Path::new(
            "/app/.php-redis-sessions/bin/php-redis-sessions"
        )));
        assert!(!is_in_exec_d(Path::new("/exec.d")));
        assert!(!is_in_exec_d(Path::new("php-redis-sessions")));
    }
}
