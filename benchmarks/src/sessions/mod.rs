//! The session benchmark, every setup side by side in one run: one password-protected
//! redis-server (a TCP port and, with `--tls`, a TLS port with a self-signed
//! certificate), a delay proxy in front of each port, and a web server serving PHP with
//! several workers for each setup (PHP's built-in server; the kind is pluggable, see
//! [`server`]):
//!
//! - `files`: PHP's default file sessions, no Redis at all;
//! - `hand-written`: the snippet apps paste today (benchmarks/php/handwritten.php, loaded
//!   with `auto_prepend_file)`: parse `REDIS_URL`, no persistence, no locking;
//! - `buildpack`: the built slug's `.profile.d` sourced as a dyno does, with its defaults.
//!
//! Rounds run every row in turn (the order reversed every other round, so slow drift on a
//! shared machine hits all rows alike); then the lost-write trials run for every row.

mod redis;
mod report;
mod rows;
mod server;
mod trace;

use crate::cli::ServerKind;
use crate::cli::SessionsArgs;
use crate::load;
use crate::lost;
use crate::output::write_json;
use crate::sys;
use anyhow::Context;
use redis::{Backend, Probe, connections_received};
use report::{Report, RowReport, SettingsReport, Versions};
use rows::{Network, RowResult, Setup};
use server::{Server, Site};
use std::path::PathBuf;
use std::time::Duration;
use test_support::{Conn, TlsFiles};

struct Config {
    slug: PathBuf,
    work: PathBuf,
    handwritten: PathBuf,
    out: PathBuf,
    tls: bool,
    clients: usize,
    workers: u32,
    warmup: Duration,
    duration: Duration,
    rounds: u32,
    delay: Duration,
    lost_requests: u32,
    lost_hold_ms: u32,
    lost_trials: u32,
    /// What serves PHP.
    server: ServerKind,
}

impl Config {
    /// The settings, with the defaults of a full run or, with `--quick`, of a short one.
    fn new(args: &SessionsArgs) -> Config {
        let (warmup, duration, rounds, lost_trials) = if args.quick {
            (Duration::from_millis(500), Duration::from_secs(2), 1, 2)
        } else {
            (Duration::from_secs(2), Duration::from_secs(8), 3, 5)
        };
        Config {
            slug: args.slug.clone(),
            work: args.work.clone(),
            handwritten: args.handwritten.clone(),
            out: args.out.clone(),
            tls: args.tls,
            clients: args.clients,
            workers: args.workers,
            warmup: args.warmup.unwrap_or(warmup),
            duration: args.duration.unwrap_or(duration),
            rounds: args.rounds.unwrap_or(rounds),
            delay: args.delay,
            lost_requests: args.lost_requests,
            lost_hold_ms: args.lost_hold_ms,
            lost_trials: args.lost_trials.unwrap_or(lost_trials),
            server: args.server,
        }
    }
}

pub(crate) fn run(args: &SessionsArgs) -> anyhow::Result<()> {
    let config = Config::new(args);
    sys::kill_tracked_on_interrupt();
    for dir in [config.work.join("logs"), config.work.join("file-sessions")] {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let runtime = Versions::of_this_runtime();
    eprintln!(
        "==> Sessions on {}, served by {}",
        runtime.line(),
        config.server.name()
    );
    let tls_files = config.tls.then(TlsFiles::create);
    let bench = Bench {
        config: &config,
        backend: Backend::start(tls_files.as_ref(), config.delay)?,
    };
    let probe = Probe::measure(&bench.backend)?;
    eprintln!("    {}", probe.line());
    let traces = [
        Setup::Handwritten,
        Setup::Buildpack,
        Setup::BuildpackNoLock,
        Setup::BuildpackHandler,
    ]
    .into_iter()
    .map(|setup| trace::trace(&bench, setup, probe.added_round_trip_ms()))
    .collect::<anyhow::Result<Vec<_>>>()?;
    let mut rows = RowResult::all(&bench.backend.ports);
    measure_rounds(&bench, &mut rows)?;
    for row in rows.iter_mut().filter(|row| row.skipped.is_none()) {
        count_lost_writes(&bench, row)?;
    }
    let report = Report {
        runtime,
        settings: SettingsReport::new(&config),
        probe,
        traces,
        rows: rows
            .iter()
            .map(|r| RowReport::new(r, config.delay))
            .collect(),
    };
    write_json(&config.out, &report)
}

/// What every step of the run shares: the settings and Redis.
pub(crate) struct Bench<'a> {
    config: &'a Config,
    backend: Backend,
}

impl Bench<'_> {
    /// A web server of the configured kind for `setup`, reaching Redis over `network`.
    fn server(&self, setup: Setup, network: Network, workers: u32) -> anyhow::Result<Server> {
        let site = self.site(setup, network, workers);
        Server::start(self.config.server, &site, setup.handler()).with_context(|| {
            format!(
                "starting the web server for {} / {}",
                setup.name(),
                network.name(self.config.delay)
            )
        })
    }

    /// What `setup` asks of PHP: file sessions in the work directory, the hand-written
    /// snippet prepended, or the slug booted as a dyno; and `REDIS_URL` for `network`.
    fn site(&self, setup: Setup, network: Network, workers: u32) -> Site {
        let config = self.config;
        let (ini, mut env) = match setup {
            Setup::Files => {
                let dir = config.work.join("file-sessions").display().to_string();
                (vec![("session.save_path", dir)], vec![])
            }
            Setup::Handwritten => {
                let file = config.handwritten.display().to_string();
                (vec![("auto_prepend_file", file)], vec![])
            }
            Setup::Buildpack => (vec![], vec![]),
            Setup::BuildpackNoLock => (vec![], vec![("PHP_REDIS_SESSIONS_LOCKING", "0".into())]),
            Setup::BuildpackHandler => (
                vec![],
                vec![("PHP_REDIS_SESSIONS_HANDLER", "buildpack".into())],
            ),
            Setup::BuildpackWith(tweak) => {
                let (ini, env) = tweak.change();
                (
                    ini.map(|(name, value)| (name, value.to_string()))
                        .into_iter()
                        .collect(),
                    env.map(|(name, value)| (name, value.to_string()))
                        .into_iter()
                        .collect(),
                )
            }
        };
        if let Some(port) = self.backend.ports.port(network) {
            let scheme = if network.is_tls() { "rediss" } else { "redis" };
            let password = &self.backend.password;
            env.push((
                "REDIS_URL",
                format!("{scheme}://:{password}@127.0.0.1:{port}"),
            ));
        }
        let log = format!(
            "{}-{}.log",
            setup.name(),
            network.name(config.delay).replace([' ', '+'], "")
        );
        Site {
            slug: config.slug.clone(),
            boot: !matches!(setup, Setup::Files | Setup::Handwritten),
            ini,
            env,
            workers,
            log: config.work.join("logs").join(log),
        }
    }
}

/// The load generator's settings for `setup` served by `server`.
fn load_settings(config: &Config, setup: Setup, server: &Server) -> load::Settings {
    load::Settings {
        port: server.port(),
        clients: config.clients,
        warmup: config.warmup,
        duration: config.duration,
        expect_handler: setup.handler().into(),
    }
}

/// Rounds run every row in turn, the order reversed every other round.
fn measure_rounds(bench: &Bench, rows: &mut [RowResult]) -> anyhow::Result<()> {
    let mut stats_conn = bench.backend.redis.connect();
    let rounds = bench.config.rounds;
    for round in 0..rounds {
        let mut order: Vec<usize> = (0..rows.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            if rows[i].skipped.is_none() {
                let label = format!("round {}/{rounds}", round + 1);
                measure_round(bench, &mut rows[i], &mut stats_conn, &label)?;
            }
        }
    }
    Ok(())
}

/// One round of one row: a fresh web server under load, and the connections Redis
/// accepted meanwhile (counted on `stats_conn`, which stays open).
fn measure_round(
    bench: &Bench,
    row: &mut RowResult,
    stats_conn: &mut Conn,
    label: &str,
) -> anyhow::Result<()> {
    let config = bench.config;
    let server = bench.server(row.setup, row.network, config.workers)?;
    let connections_before = connections_received(stats_conn)?;
    let trips_before = bench.backend.round_trips(row.network);
    let outcome = load::run(&load_settings(config, row.setup, &server));
    let trips = bench
        .backend
        .round_trips(row.network)
        .zip(trips_before)
        .map_or(0, |(after, before)| after - before);
    let s = outcome.summary();
    eprintln!(
        "    {label} {:<28} {:>7.1} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}",
        row.label(config.delay),
        s.rps.0,
        s.p50_ms.map_or(f64::NAN, |n| n.0),
        s.p99_ms.map_or(f64::NAN, |n| n.0),
        s.errors + s.session_errors
    );
    row.server_warnings.extend(server.warnings());
    drop(server);
    row.connections += connections_received(stats_conn)? - connections_before;
    row.round_trips += trips as u64;
    row.requests += outcome.completed;
    row.rounds.push(outcome);
    Ok(())
}

/// The lost-write trials of one row, on one web server.
fn count_lost_writes(bench: &Bench, row: &mut RowResult) -> anyhow::Result<()> {
    let config = bench.config;
    let server = bench.server(row.setup, row.network, config.workers)?;
    for _ in 0..config.lost_trials {
        let trial = lost::trial(server.port(), config.lost_requests, config.lost_hold_ms)
            .with_context(|| row.label(config.delay))?;
        row.lost.push(trial);
    }
    let lost: Vec<String> = row.lost.iter().map(|t| t.lost.to_string()).collect();
    eprintln!(
        "    lost writes {:<28} {} (of {} each)",
        row.label(config.delay),
        lost.join(" "),
        config.lost_requests
    );
    row.server_warnings.extend(server.warnings());
    Ok(())
}
