//! The boot edges: the classic `.profile.d` script evals what [`shell_exports`] prints;
//! the CNB exec.d program (later) writes the same variables as TOML. Neither ever fails
//! the boot: the worst outcome is PHP's default file sessions and a line on stderr.

use crate::boot::{self, BootPlan, EnvValue};
use crate::install;
use crate::messages;
use std::ffi::OsString;
use std::io::Write;

/// Reads the process environment and plans the boot for the helper at its own location.
pub fn plan_from_process() -> BootPlan {
    let ini_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| install::ini_dir_for_helper(&exe))
        .map(|dir| dir.to_string_lossy().into_owned())
        .unwrap_or_default();
    let names: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .collect();
    boot::plan(
        |name| match std::env::var_os(name).map(OsString::into_string) {
            None => EnvValue::Unset,
            Some(Ok(text)) => EnvValue::Text(text),
            Some(Err(_)) => EnvValue::NotUnicode,
        },
        &names,
        &ini_dir,
    )
}

/// `export NAME='value'` lines for bash to eval.
pub fn shell_exports(plan: &BootPlan) -> String {
    plan.vars
        .iter()
        .map(|(name, value)| format!("export {name}={}\n", shell_quote(value)))
        .collect()
}

/// Single quotes keep everything literal; a quote inside becomes `'\''`.
pub fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// `boot --shell`: exports on stdout, notices on stderr, exit code always 0.
pub fn run_shell() -> i32 {
    let plan = plan_from_process();
    print_notices(&plan);
    // A closed stdout leaves file sessions in place, which is the safe outcome.
    let _ = std::io::stdout().write_all(shell_exports(&plan).as_bytes());
    0
}

/// The plan's notices on stderr, one line each; a closed stderr is ignored.
pub fn print_notices(plan: &BootPlan) {
    let mut stderr = std::io::stderr().lock();
    for notice in &plan.notices {
        let _ = writeln!(stderr, "{}", messages::boot_notice(notice));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
