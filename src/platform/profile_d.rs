//! The classic boot hook: `.profile.d/200-php-redis-sessions.sh` evals what
//! `php-redis-sessions boot --shell` prints before every dyno process. It never fails the
//! boot: the worst outcome is PHP's default file sessions and a line on stderr.

use super::{own_boot_plan, print_notices};
use crate::boot::BootPlan;
use std::fmt::Write as _;
use std::io::Write;

/// `boot --shell`: exports on stdout, notices on stderr; always succeeds.
pub fn run() {
    let plan = own_boot_plan();
    print_notices(&plan);
    // A closed stdout leaves file sessions in place, which is the safe outcome.
    let _ = std::io::stdout().write_all(shell_exports(&plan).as_bytes());
}

/// `export NAME='value'` lines for bash to eval.
fn shell_exports(plan: &BootPlan) -> String {
    let mut exports = String::new();
    for (name, value) in &plan.vars {
        let _ = writeln!(exports, "export {name}={}", shell_quote(value.expose()));
    }
    exports
}

/// Single quotes keep everything literal; a quote inside becomes `'\''`.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
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
