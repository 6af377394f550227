//! The command line: one subcommand for each tool.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Benchmark tools for the PHP Redis Sessions buildpack, run by scripts/bench.sh.
#[derive(Parser)]
#[command(name = "php-redis-sessions-bench")]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// The session benchmark end to end: Redis behind delay proxies, PHP's web server for
    /// each setup, the load generator and the lost-write counter; writes one JSON file.
    Sessions(SessionsArgs),
    /// Closed-loop load on a PHP web server; prints a JSON summary.
    Load(LoadArgs),
    /// A delay proxy in front of a TCP server; runs until killed.
    Proxy(ProxyArgs),
    /// Lost-write trials on a PHP web server; prints one JSON object a trial.
    LostWrites(LostWritesArgs),
    /// A large app: composer.json and a composer.lock of thousands of packages.
    GenApp(GenAppArgs),
    /// How much CPU other people's processes used, by phase, until the phase file says stop.
    Noise(NoiseArgs),
}

#[derive(Args)]
pub(crate) struct SessionsArgs {
    /// The built slug (the example app after bin/compile).
    #[arg(long)]
    pub slug: PathBuf,
    /// A directory for logs and file sessions.
    #[arg(long)]
    pub work: PathBuf,
    /// The hand-written snippet (benchmarks/php/handwritten.php).
    #[arg(long)]
    pub handwritten: PathBuf,
    /// The JSON file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Also a TLS port, and the TLS rows (phpredis 5.3 ignores TLS options in the save path).
    #[arg(long)]
    pub tls: bool,
    /// Shorter defaults, for development.
    #[arg(long)]
    pub quick: bool,
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// PHP workers per web server.
    #[arg(long, default_value_t = 4)]
    pub workers: u32,
    /// What serves PHP.
    #[arg(long, value_enum, default_value = "fpm-nginx")]
    pub server: ServerKind,
    /// Seconds of warmup per round [default: 2, 0.5 with --quick].
    #[arg(long, value_parser = seconds)]
    pub warmup: Option<Duration>,
    /// Seconds measured per round [default: 8, 2 with --quick].
    #[arg(long, value_parser = seconds)]
    pub duration: Option<Duration>,
    /// Rounds of every row [default: 3, 1 with --quick].
    #[arg(long)]
    pub rounds: Option<u32>,
    /// Milliseconds the proxy delays each way.
    #[arg(long = "delay-ms", value_parser = milliseconds, default_value = "1")]
    pub delay: Duration,
    /// Concurrent requests of a lost-write trial.
    #[arg(long, default_value_t = 24)]
    pub lost_requests: u32,
    /// Milliseconds each of them holds the session.
    #[arg(long, default_value_t = 30)]
    pub lost_hold_ms: u32,
    /// Lost-write trials per row [default: 5, 2 with --quick].
    #[arg(long)]
    pub lost_trials: Option<u32>,
}

#[derive(Args)]
pub(crate) struct LoadArgs {
    #[arg(long)]
    pub port: u16,
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Seconds of warmup.
    #[arg(long, value_parser = seconds, default_value = "1")]
    pub warmup: Duration,
    /// Seconds measured.
    #[arg(long, value_parser = seconds, default_value = "5")]
    pub duration: Duration,
    /// The save handler every response must report.
    #[arg(long, default_value = "redis")]
    pub expect_handler: String,
}

#[derive(Args)]
pub(crate) struct ProxyArgs {
    /// The port to listen on (0: any free one).
    #[arg(long, default_value_t = 0)]
    pub listen_port: u16,
    /// HOST:PORT of the server.
    #[arg(long)]
    pub to: SocketAddr,
    /// Milliseconds of delay each way.
    #[arg(long = "delay-ms", value_parser = milliseconds, default_value = "1")]
    pub delay: Duration,
}

#[derive(Args)]
pub(crate) struct LostWritesArgs {
    #[arg(long)]
    pub port: u16,
    #[arg(long, default_value_t = 24)]
    pub requests: u32,
    #[arg(long, default_value_t = 30)]
    pub hold_ms: u32,
    #[arg(long, default_value_t = 3)]
    pub trials: u32,
}

#[derive(Args)]
pub(crate) struct GenAppArgs {
    #[arg(long)]
    pub dir: PathBuf,
    #[arg(long, default_value_t = 4000, value_parser = clap::value_parser!(u32).range(2..))]
    pub packages: u32,
}

#[derive(Args)]
pub(crate) struct NoiseArgs {
    /// The session id of the benchmark's processes, which do not count.
    #[arg(long)]
    pub session: u32,
    /// The file naming the current phase; "stop" ends sampling.
    #[arg(long)]
    pub phase_file: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
}

/// A non-negative number of seconds.
fn seconds(text: &str) -> anyhow::Result<Duration> {
    let value: f64 = text.parse().context("not a number")?;
    Duration::try_from_secs_f64(value).context("must be a non-negative number")
}

/// A non-negative number of milliseconds.
fn milliseconds(text: &str) -> anyhow::Result<Duration> {
    Ok(seconds(text)? / 1000)
}

/// The kinds of web server the benchmark can put PHP behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ServerKind {
    /// php-fpm (`pm = static`, a unix socket) behind nginx: a Heroku web dyno's shape.
    FpmNginx,
    /// PHP's built-in web server (`php -S`), with `PHP_CLI_SERVER_WORKERS` workers.
    PhpBuiltin,
}

impl ServerKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ServerKind::FpmNginx => "php-fpm behind nginx",
            ServerKind::PhpBuiltin => "PHP's built-in server",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_sh_command_lines_parse() {
        let cli = Cli::try_parse_from([
            "bench",
            "sessions",
            "--slug",
            "s",
            "--work",
            "w",
            "--handwritten",
            "h.php",
            "--out",
            "o.json",
            "--quick",
            "--tls",
        ])
        .unwrap();
        let Command::Sessions(args) = cli.command else {
            panic!("not sessions")
        };
        assert!(args.quick && args.tls);
        assert_eq!(args.delay, Duration::from_millis(1));
        assert_eq!(args.warmup, None);
        for argv in [
            &["bench", "gen-app", "--dir", "d", "--packages", "4000"][..],
            &[
                "bench",
                "noise",
                "--session",
                "7",
                "--phase-file",
                "p",
                "--out",
                "o",
            ],
            &[
                "bench",
                "proxy",
                "--to",
                "127.0.0.1:6379",
                "--delay-ms",
                "0.5",
            ],
            &["bench", "lost-writes", "--port", "8080"],
            &["bench", "load", "--port", "8080", "--duration", "1.5"],
        ] {
            Cli::try_parse_from(argv).unwrap();
        }
        assert!(Cli::try_parse_from(["bench", "load", "--port", "1", "--warmup", "-1"]).is_err());
        assert!(
            Cli::try_parse_from(["bench", "gen-app", "--dir", "d", "--packages", "1"]).is_err()
        );
    }
}
