//! The CNB launch edge: `php-redis-sessions exec-d`, which the layer's exec.d script
//! (`files/exec-d.sh`) runs before every process with the launch environment (already
//! holding heroku/php's `PHP_INI_SCAN_DIR`). It plans the boot exactly as the classic
//! `.profile.d` hook does and hands the variables to the launcher as TOML on file
//! descriptor 3.
//!
//! It never fails the launch: whatever happens, it exits 0; the worst outcome is PHP's
//! default file sessions and a line on stderr (the app's log). The variables (which hold
//! the password) go only to fd 3, never to stdout, stderr or a file.

use super::{own_boot_plan, print_notices};
use crate::cnb_spec::{self, ExecDError};
use crate::messages;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};

/// The exec.d program; always succeeds.
pub fn run() {
    // Claim fd 3 before anything else could open a file and be handed that number.
    let fd3 = open_fd3();
    let plan = own_boot_plan();
    print_notices(&plan);
    if plan.vars.is_empty() {
        return;
    }
    let vars: Vec<(&str, &str)> = plan
        .vars
        .iter()
        .map(|(name, value)| (*name, value.expose().as_str()))
        .collect();
    let result = cnb_spec::exec_d_output(&vars).and_then(|toml| {
        // One write of the whole output (up to boot's 64 KB cap per variable, so it may
        // pass PIPE_BUF): this program is fd 3's only writer, and the launcher reads it
        // to its end while the program runs (lifecycle `launch/exec_d.go`: `ReadAll`
        // beside `cmd.Run`), so it gets all of it.
        fd3?.write_all(toml.as_bytes())
            .map_err(|error| ExecDError::Fd3Write(error.to_string()))
    });
    if let Err(error) = result {
        let _ = writeln!(
            io::stderr().lock(),
            "{}",
            messages::cnb::exec_d_error(&error)
        );
    }
}

/// fd 3, opened anew for writing through procfs: the launcher's pipe when it is open,
/// with no raw descriptor and no `unsafe`.
fn open_fd3() -> Result<File, ExecDError> {
    OpenOptions::new()
        .write(true)
        .open(cnb_spec::EXEC_D_OUTPUT)
        .map_err(|error| match error.kind() {
            io::ErrorKind::NotFound => ExecDError::Fd3NotOpen,
            _ => ExecDError::Fd3Write(error.to_string()),
        })
}
