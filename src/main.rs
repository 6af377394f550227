//! php-redis-sessions: the one helper behind the buildpack's `bin/` scripts and its boot hook.

use php_redis_sessions::{boot_hook, classic, cnb, composer, doctor, exec_d, messages};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: php-redis-sessions detect BUILD_DIR | compile BUILD_DIR CACHE_DIR ENV_DIR | boot --shell | doctor | cnb-detect | cnb-build | exec-d";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let code = match args.as_slice() {
        ["boot", "--shell"] => run_boot(boot_hook::run_shell),
        ["doctor"] => u8::try_from(doctor::run()).unwrap_or(1),
        // The CNB launcher runs the layer's exec.d program without arguments.
        [] if exec_d::invoked_as_exec_d() => run_boot(exec_d::run),
        ["exec-d"] => run_boot(exec_d::run),
        ["cnb-detect"] => cnb_detect(),
        ["cnb-build"] => cnb_build(),
        ["detect", build_dir] => classic_detect(Path::new(build_dir)),
        ["compile", build_dir, _cache_dir, env_dir] => {
            classic_compile(Path::new(build_dir), Path::new(env_dir))
        }
        _ => {
            eprintln!("{USAGE}");
            2
        }
    };
    ExitCode::from(code)
}

/// Boot must never stop a dyno: a panic (which would be a bug) becomes one generic line,
/// without the panic's message, and exit code 0 with nothing exported.
fn run_boot(boot: fn() -> i32) -> u8 {
    std::panic::set_hook(Box::new(|_| {
        // Not eprintln!: it panics when stderr is a closed pipe, and a panic in the hook aborts.
        let _ = writeln!(
            std::io::stderr(),
            "{}: internal error, so PHP keeps its default file sessions; please report this bug",
            messages::BOOT_TAG
        );
    }));
    let _ = std::panic::catch_unwind(boot);
    0
}

fn classic_detect(build_dir: &Path) -> u8 {
    let install_dev = std::env::var_os(classic::INSTALL_DEV_VAR).is_some();
    match classic::detect(build_dir, &composer::ComposerNames::default(), install_dev) {
        classic::Detection::Pass => {
            println!("{}", messages::BUILDPACK_NAME);
            0
        }
        classic::Detection::Decline(line) => {
            eprintln!("{line}");
            1
        }
    }
}

fn classic_compile(build_dir: &Path, env_dir: &Path) -> u8 {
    let mut out = std::io::stdout().lock();
    match classic::compile(build_dir, env_dir, &mut out) {
        Ok(code) => u8::try_from(code).unwrap_or(1),
        Err(error) => {
            eprintln!(
                "{}",
                messages::classic::error(&format!("could not write the build log: {error}"))
            );
            1
        }
    }
}

/// CNB `bin/detect`: the app is the working directory; 0 passes, 100 declines.
fn cnb_detect() -> u8 {
    match cnb::detect(Path::new("."), cnb::process_env) {
        classic::Detection::Pass => {
            println!("{}", messages::BUILDPACK_NAME);
            0
        }
        classic::Detection::Decline(line) => {
            eprintln!("{line}");
            100
        }
    }
}

/// CNB `bin/build`: the app is the working directory, the layers in `CNB_LAYERS_DIR`.
fn cnb_build() -> u8 {
    let mut out = std::io::stdout().lock();
    match cnb::build(Path::new("."), cnb::process_env, &mut out) {
        Ok(code) => u8::try_from(code).unwrap_or(1),
        Err(error) => {
            eprintln!(
                "{}",
                messages::cnb::error(&format!("could not write the build log: {error}"))
            );
            1
        }
    }
}
