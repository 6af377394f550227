//! php-redis-sessions: the one helper behind the buildpack's `bin/` scripts, its boot hooks
//! and the doctor. This file only maps the command line to a command.

use php_redis_sessions::doctor;
use php_redis_sessions::env::ProcessEnv;
use php_redis_sessions::platform::{self, classic, cnb, exec_d, profile_d};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: php-redis-sessions detect BUILD_DIR | compile BUILD_DIR CACHE_DIR ENV_DIR | boot --shell | doctor | cnb-build | exec-d";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let code = match args.as_slice() {
        ["boot", "--shell"] => guarded(profile_d::run),
        ["doctor"] => doctor::run(),
        ["exec-d"] => guarded(exec_d::run),
        ["cnb-build"] => with_log(|out| cnb::build(&ProcessEnv, out), platform::Platform::Cnb),
        ["detect", build_dir] => classic::detect(Path::new(build_dir)),
        ["compile", build_dir, cache_dir, env_dir] => with_log(
            |out| {
                classic::compile(
                    Path::new(build_dir),
                    Path::new(cache_dir),
                    Path::new(env_dir),
                    out,
                )
            },
            platform::Platform::Classic,
        ),
        _ => {
            eprintln!("{USAGE}");
            2
        }
    };
    ExitCode::from(code)
}

/// Boot must never stop a dyno: a panic (which would be a bug) becomes one generic line,
/// without the panic's message, and success with nothing exported.
fn guarded(boot: fn()) -> u8 {
    std::panic::set_hook(Box::new(|_| {
        // Not eprintln!: it panics when stderr is a closed pipe, and a panic in the hook aborts.
        let _ = writeln!(std::io::stderr(), "{}", platform::boot_internal_error());
    }));
    let _ = std::panic::catch_unwind(boot);
    0
}

/// A build phase writing its log to stdout; a log that cannot be written fails the build.
fn with_log(
    phase: impl FnOnce(&mut std::io::StdoutLock<'static>) -> std::io::Result<u8>,
    platform: platform::Platform,
) -> u8 {
    let mut out = std::io::stdout().lock();
    phase(&mut out).unwrap_or_else(|error| {
        eprintln!("{}", platform::log_write_failed(&error, platform));
        1
    })
}
