//! Benchmark tools for the PHP Redis Sessions buildpack (run by scripts/bench.sh), on the
//! parts in test-support (Redis, the delay proxy, the HTTP client, the lost-write trial):
//!
//! - `sessions`: the session benchmark end to end: a password-protected redis-server with
//!   a TCP and a TLS port, delay proxies in front of both, PHP's built-in web server for
//!   each setup (file sessions, the hand-written snippet, the buildpack), the load
//!   generator and the lost-write counter; writes one JSON file.
//! - `load`, `proxy`, `lost-writes`: the same pieces on their own, for poking at by hand.
//! - `gen-app`: a large app (composer.json and a composer.lock of thousands of packages).
//! - `noise`: how much CPU other people's processes used while the benchmark ran.

mod args;
mod genapp;
mod load;
mod lost;
mod noise;
mod output;
mod sessions;
mod stats;
mod sys;

use args::Args;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: php-redis-sessions-bench COMMAND [--option value]...
  sessions     --slug DIR --work DIR --handwritten FILE --out FILE [--tls] [--quick]
               [--clients 8] [--workers 4] [--warmup 2] [--duration 8] [--rounds 3]
               [--delay-ms 1] [--lost-requests 24] [--lost-hold-ms 30] [--lost-trials 5]
  load         --port P [--clients 8] [--warmup 1] [--duration 5] [--expect-handler redis]
  proxy        --listen-port P --to HOST:PORT [--delay-ms 1]   (runs until killed)
  lost-writes  --port P [--requests 24] [--hold-ms 30] [--trials 3]
  gen-app      --dir DIR [--packages 4000]
  noise        --session SID --phase-file FILE --out FILE   (samples until FILE says stop)";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = argv.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let args = match Args::parse(rest) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("{error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = match command.as_str() {
        "sessions" => sessions::run(&args),
        "load" => run_load(&args),
        "proxy" => run_proxy(&args),
        "lost-writes" => run_lost(&args),
        "gen-app" => genapp::run(&args),
        "noise" => noise::run(&args),
        _ => Err(format!("unknown command {command}\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("php-redis-sessions-bench {command}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_load(args: &Args) -> Result<(), String> {
    let settings = load::Settings {
        port: args.number("port", None)?,
        clients: args.number("clients", Some(8))?,
        warmup: Duration::from_secs_f64(args.float("warmup", Some(1.0))?),
        duration: Duration::from_secs_f64(args.float("duration", Some(5.0))?),
        expect_handler: args.text("expect-handler", Some("redis"))?,
    };
    let outcome = load::run(&settings);
    println!("{}", output::to_json(&outcome.summary()));
    Ok(())
}

fn run_proxy(args: &Args) -> Result<(), String> {
    let to = args.text("to", None)?;
    let upstream = to
        .parse()
        .map_err(|_| format!("--to {to}: expected HOST:PORT"))?;
    let delay = Duration::from_secs_f64(args.float("delay-ms", Some(1.0))? / 1000.0);
    let port =
        test_support::start_delay_proxy(args.number("listen-port", Some(0))?, upstream, delay)
            .map_err(|e| format!("cannot listen: {e}"))?;
    eprintln!("delay proxy on 127.0.0.1:{port} -> {to}, {delay:?} each way");
    loop {
        std::thread::park();
    }
}

fn run_lost(args: &Args) -> Result<(), String> {
    let port = args.number("port", None)?;
    let requests = args.number("requests", Some(24))?;
    let hold_ms = args.number("hold-ms", Some(30))?;
    for _ in 0..args.number::<u32>("trials", Some(3))? {
        let trial = lost::trial(port, requests, hold_ms)?;
        println!("{}", output::to_json(&trial));
    }
    Ok(())
}
