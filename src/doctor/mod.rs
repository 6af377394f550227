//! `php-redis-sessions doctor`: run on a dyno (`heroku run php-redis-sessions doctor`), it
//! shows what boot decided, asks PHP for its versions, checks every server and writes,
//! reads and deletes a test session through PHP's session module, with timings. It exits
//! non-zero naming the cause when anything fails.
//!
//! It asks the pure core what boot decides for this process's environment and which
//! variables that sets, and runs the probe (`probe`) with them; `report` is its text. A
//! process whose environment lacks those variables was not booted (a shell that bypassed
//! `.profile.d` or the CNB launcher): whatever the checks find, the doctor fails saying so,
//! since that process's PHP keeps file sessions.

mod probe;
mod report;

use crate::boot::{self, Outcome};
use crate::config::save_path::Mode;
use crate::config::settings::SessionHandler;
use crate::env::ProcessEnv;
use crate::layout;
use probe::Cause;

/// Runs the doctor against the process environment; returns the exit code.
#[must_use]
pub fn run() -> u8 {
    let installed = layout::own_installed();
    let decision = boot::decide(&ProcessEnv, &installed);
    let mut lines = report::decision(&decision);
    lines.extend(report::frameworks(&installed.frameworks));
    let code = match &decision.outcome {
        Outcome::FileSessions => {
            lines.push(report::failed(&Cause::NoRedis));
            1
        }
        Outcome::Redis {
            config,
            servers,
            vars,
            ..
        } => {
            let cluster = matches!(config.summary.mode, Mode::Cluster(_));
            let booted = boot::applied(vars, &ProcessEnv);
            match probe::run(vars, &decision.settings, servers, cluster) {
                None => {
                    let cause = if booted {
                        Cause::PhpMissing
                    } else {
                        Cause::NotBooted
                    };
                    lines.push(report::failed(&cause));
                    1
                }
                Some(answer) => {
                    lines.extend(report::probe(
                        servers,
                        cluster,
                        config.handler,
                        installed.phpredis_built.as_deref(),
                        &answer,
                    ));
                    let handler = match config.handler {
                        SessionHandler::Buildpack => "buildpack",
                        SessionHandler::Phpredis => config.save_handler,
                    };
                    let verdict = if booted {
                        probe::verdict(servers, cluster, handler, &answer)
                    } else {
                        Some(Cause::NotBooted)
                    };
                    match verdict {
                        None => {
                            lines.push(report::ok());
                            0
                        }
                        Some(cause) => {
                            lines.push(report::failed(&cause));
                            1
                        }
                    }
                }
            }
        }
    };
    for line in &lines {
        println!("{line}");
    }
    code
}
