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

mod cli;
mod genapp;
mod load;
mod lost;
mod noise;
mod output;
mod sessions;
mod stats;
mod sys;

use anyhow::Context;
use clap::Parser;
use cli::{Cli, Command, LoadArgs, LostWritesArgs, ProxyArgs};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Sessions(args) => sessions::run(args),
        Command::Load(args) => run_load(args),
        Command::Proxy(args) => run_proxy(args),
        Command::LostWrites(args) => run_lost(args),
        Command::GenApp(args) => genapp::run(args),
        Command::Noise(args) => noise::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("php-redis-sessions-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

#[allow(
    clippy::unnecessary_wraps,
    reason = "every subcommand runs through one signature"
)]
fn run_load(args: &LoadArgs) -> anyhow::Result<()> {
    let settings = load::Settings {
        port: args.port,
        clients: args.clients,
        warmup: args.warmup,
        duration: args.duration,
        expect_handler: args.expect_handler.clone(),
    };
    let outcome = load::run(&settings);
    println!("{}", output::to_json(&outcome.summary()));
    Ok(())
}

fn run_proxy(args: &ProxyArgs) -> anyhow::Result<()> {
    let port = test_support::start_delay_proxy(args.listen_port, args.to, args.delay)
        .context("starting the delay proxy")?;
    eprintln!(
        "delay proxy on 127.0.0.1:{port} -> {}, {:?} each way",
        args.to, args.delay
    );
    loop {
        std::thread::park();
    }
}

fn run_lost(args: &LostWritesArgs) -> anyhow::Result<()> {
    for _ in 0..args.trials {
        let trial = lost::trial(args.port, args.requests, args.hold_ms)?;
        println!("{}", output::to_json(&trial));
    }
    Ok(())
}
