//! The session benchmark, every setup side by side in one run: one password-protected
//! redis-server (a TCP port and, with `--tls`, a TLS port with a self-signed
//! certificate), a delay proxy in front of each port, and PHP's built-in server with
//! several workers for each setup:
//!
//! - `files`: PHP's default file sessions, no Redis at all;
//! - `hand-written`: the snippet apps paste today (benchmarks/php/handwritten.php, loaded
//!   with auto_prepend_file): parse REDIS_URL, no persistence, no locking;
//! - `buildpack`: the built slug's `.profile.d` sourced as a dyno does, with its defaults.
//!
//! Rounds run every row in turn (the order reversed every other round, so slow drift on a
//! shared machine hits all rows alike); then the lost-write trials run for every row.

use crate::cli::SessionsArgs;
use crate::load::{self, Outcome};
use crate::lost;
use crate::output::{Num, nums, write_json};
use crate::stats;
use crate::sys;
use anyhow::{Context, anyhow, bail};
use serde::Serialize;
use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use test_support::{Conn, Redis, RedisOptions, Reply, Runtime, TlsFiles};

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
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Setup {
    Files,
    Handwritten,
    Buildpack,
    /// Not one of the three setups compared: the buildpack with
    /// PHP_REDIS_SESSIONS_LOCKING=0, to show what locking costs and what it buys.
    BuildpackNoLock,
}

impl Setup {
    fn name(self) -> &'static str {
        match self {
            Setup::Files => "files",
            Setup::Handwritten => "hand-written",
            Setup::Buildpack => "buildpack",
            Setup::BuildpackNoLock => "buildpack, locking off",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Network {
    Local,
    Tcp,
    TcpDelay,
    Tls,
    TlsDelay,
}

impl Network {
    fn name(self, delay: Duration) -> String {
        let ms = delay.as_secs_f64() * 1000.0;
        match self {
            Network::Local => "local disk".into(),
            Network::Tcp => "TCP".into(),
            Network::TcpDelay => format!("TCP + {ms} ms"),
            Network::Tls => "TLS".into(),
            Network::TlsDelay => format!("TLS + {ms} ms"),
        }
    }

    fn is_tls(self) -> bool {
        matches!(self, Network::Tls | Network::TlsDelay)
    }
}

const ROWS: [(Setup, Network); 11] = [
    (Setup::Files, Network::Local),
    (Setup::Handwritten, Network::Tcp),
    (Setup::Buildpack, Network::Tcp),
    (Setup::Handwritten, Network::TcpDelay),
    (Setup::Buildpack, Network::TcpDelay),
    (Setup::BuildpackNoLock, Network::TcpDelay),
    (Setup::Handwritten, Network::Tls),
    (Setup::Buildpack, Network::Tls),
    (Setup::Handwritten, Network::TlsDelay),
    (Setup::Buildpack, Network::TlsDelay),
    (Setup::BuildpackNoLock, Network::TlsDelay),
];

/// Where each network reaches Redis.
struct Ports {
    tcp: u16,
    tcp_delay: u16,
    tls: Option<(u16, u16)>,
}

impl Ports {
    fn port(&self, network: Network) -> Option<u16> {
        match network {
            Network::Local => None,
            Network::Tcp => Some(self.tcp),
            Network::TcpDelay => Some(self.tcp_delay),
            Network::Tls => self.tls.map(|(direct, _)| direct),
            Network::TlsDelay => self.tls.map(|(_, delayed)| delayed),
        }
    }
}

struct RowResult {
    setup: Setup,
    network: Network,
    skipped: Option<String>,
    rounds: Vec<Outcome>,
    lost: Vec<lost::Trial>,
    server_warnings: Vec<String>,
    /// Connections Redis accepted, and requests served, over all rounds.
    connections: u64,
    requests: u64,
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
        }
    }
}

pub fn run(args: &SessionsArgs) -> anyhow::Result<()> {
    let config = Config::new(args);
    sys::kill_tracked_on_interrupt();
    let work = &config.work;
    for dir in [work.join("logs"), work.join("file-sessions")] {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }

    let runtime = runtime_versions();
    eprintln!("==> Sessions on {}", runtime.line());
    let password = random_hex(16)?;
    let tls_files = config.tls.then(TlsFiles::create);
    let redis = TrackedRedis::start(&password, tls_files.as_ref());
    let redis = &redis.0;
    let upstream = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));
    let listen = |port| {
        test_support::start_delay_proxy(0, upstream(port), config.delay)
            .with_context(|| format!("starting a delay proxy to port {port}"))
    };
    let ports = Ports {
        tcp: redis.port,
        tcp_delay: listen(redis.port)?,
        tls: match tls_files {
            Some(_) => Some((redis.tls_port, listen(redis.tls_port)?)),
            None => None,
        },
    };
    let probe = probe(redis, &ports)?;
    eprintln!("    {}", probe.1);
    let mut traces = vec![];
    for setup in [Setup::Handwritten, Setup::Buildpack, Setup::BuildpackNoLock] {
        traces.push(trace(&config, setup, redis, &ports, &password, probe.2)?);
    }
    let mut stats_conn = redis.connect();

    let mut results: Vec<RowResult> = ROWS
        .iter()
        .map(|&(setup, network)| RowResult {
            setup,
            network,
            skipped: (network.is_tls() && ports.tls.is_none()).then(|| {
                "--tls not given (phpredis 5.3 ignores TLS options in the save path)".to_string()
            }),
            rounds: vec![],
            lost: vec![],
            server_warnings: vec![],
            connections: 0,
            requests: 0,
        })
        .collect();

    for round in 0..config.rounds {
        let mut order: Vec<usize> = (0..results.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let row = &mut results[i];
            if row.skipped.is_some() {
                continue;
            }
            let label = format!("{} / {}", row.setup.name(), row.network.name(config.delay));
            let server = PhpServer::start(
                &config,
                row.setup,
                row.network,
                &ports,
                &password,
                config.workers,
            )?;
            let connections_before = connections_received(&mut stats_conn)?;
            let outcome = load::run(&load::Settings {
                port: server.port,
                clients: config.clients,
                warmup: config.warmup,
                duration: config.duration,
                expect_handler: expected_handler(row.setup).into(),
            });
            let s = outcome.summary();
            eprintln!(
                "    round {}/{} {label:<28} {:>7.1} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}",
                round + 1,
                config.rounds,
                s.rps.0,
                s.p50_ms.map_or(f64::NAN, |n| n.0),
                s.p99_ms.map_or(f64::NAN, |n| n.0),
                s.errors + s.session_errors
            );
            row.server_warnings.extend(server.warnings());
            drop(server);
            row.connections += connections_received(&mut stats_conn)? - connections_before;
            row.requests += outcome.completed;
            row.rounds.push(outcome);
        }
    }

    for row in &mut results {
        if row.skipped.is_some() {
            continue;
        }
        let server = PhpServer::start(
            &config,
            row.setup,
            row.network,
            &ports,
            &password,
            config.workers,
        )?;
        for _ in 0..config.lost_trials {
            row.lost.push(lost::trial(
                server.port,
                config.lost_requests,
                config.lost_hold_ms,
            )?);
        }
        let lost: Vec<String> = row.lost.iter().map(|t| t.lost.to_string()).collect();
        eprintln!(
            "    lost writes {:<28} {} (of {} each)",
            format!("{} / {}", row.setup.name(), row.network.name(config.delay)),
            lost.join(" "),
            config.lost_requests
        );
        row.server_warnings.extend(server.warnings());
    }

    let report = Report {
        runtime,
        settings: SettingsReport::new(&config, tls_files.is_some()),
        probe: probe.0,
        traces,
        rows: results
            .iter()
            .map(|r| RowReport::new(r, config.delay))
            .collect(),
    };
    write_json(&config.out, &report)
}

fn expected_handler(setup: Setup) -> &'static str {
    match setup {
        Setup::Files => "files",
        _ => "redis",
    }
}

/// sessions.json: what benchmarks/report.py makes the session tables from.
#[derive(Serialize)]
struct Report {
    runtime: Versions,
    settings: SettingsReport,
    probe: Probe,
    traces: Vec<Trace>,
    rows: Vec<RowReport>,
}

#[derive(Serialize)]
struct SettingsReport {
    clients: usize,
    php_workers: u32,
    warmup_s: Num,
    duration_s: Num,
    rounds: u32,
    delay_ms_each_way: Num,
    lost_requests: u32,
    lost_hold_ms: u32,
    lost_trials: u32,
    tls: bool,
    tls_certificate: &'static str,
}

impl SettingsReport {
    fn new(config: &Config, tls: bool) -> SettingsReport {
        SettingsReport {
            clients: config.clients,
            php_workers: config.workers,
            warmup_s: Num(config.warmup.as_secs_f64()),
            duration_s: Num(config.duration.as_secs_f64()),
            rounds: config.rounds,
            delay_ms_each_way: Num(config.delay.as_secs_f64() * 1000.0),
            lost_requests: config.lost_requests,
            lost_hold_ms: config.lost_hold_ms,
            lost_trials: config.lost_trials,
            tls,
            tls_certificate: if tls {
                "self-signed RSA 2048, clients do not verify it"
            } else {
                "none"
            },
        }
    }
}

/// One setup on one network: its rounds, pooled, and its lost-write trials.
#[derive(Serialize)]
struct RowReport {
    setup: &'static str,
    network: String,
    skipped: Option<String>,
    rps_rounds: Vec<Num>,
    rps_median: Option<Num>,
    rps_min: Option<Num>,
    rps_max: Option<Num>,
    pooled: Option<load::Summary>,
    rounds: Vec<load::Summary>,
    lost_trials: Vec<lost::Trial>,
    redis_connections_per_request: Option<Num>,
    lost_median: Option<Num>,
    lost_max: Option<Num>,
    server_warnings: usize,
    first_server_warning: Option<String>,
}

impl RowReport {
    fn new(row: &RowResult, delay: Duration) -> RowReport {
        let rps: Vec<f64> = row
            .rounds
            .iter()
            .map(Outcome::requests_per_second)
            .collect();
        let lost: Vec<f64> = row.lost.iter().map(|t| f64::from(t.lost)).collect();
        RowReport {
            setup: row.setup.name(),
            network: row.network.name(delay),
            skipped: row.skipped.clone(),
            rps_rounds: nums(&rps),
            rps_median: stats::median(&rps).map(Num),
            rps_min: rps.iter().copied().reduce(f64::min).map(Num),
            rps_max: rps.iter().copied().reduce(f64::max).map(Num),
            pooled: (!row.rounds.is_empty()).then(|| Outcome::merge(&row.rounds).summary()),
            rounds: row.rounds.iter().map(Outcome::summary).collect(),
            lost_trials: row.lost.clone(),
            redis_connections_per_request: (row.requests > 0 && row.setup != Setup::Files)
                .then(|| Num(row.connections as f64 / row.requests as f64)),
            lost_median: stats::median(&lost).map(Num),
            lost_max: lost.iter().copied().reduce(f64::max).map(Num),
            server_warnings: row.server_warnings.len(),
            first_server_warning: row.server_warnings.first().cloned(),
        }
    }
}

/// PHP, phpredis, Redis and OpenSSL versions of the runtime this runs in.
fn runtime_versions() -> Versions {
    let output = |program: &str, args: &[&str]| -> String {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .unwrap_or("unknown")
        .trim_matches('"')
        .to_string();
    let redis = output("redis-server", &["--version"]);
    let redis = redis
        .split_whitespace()
        .find_map(|w| w.strip_prefix("v="))
        .unwrap_or("unknown")
        .to_string();
    Versions {
        os,
        php: output("php", &["-r", "echo PHP_VERSION;"]),
        phpredis: output("php", &["-r", "echo phpversion('redis');"]),
        redis,
        openssl: output("openssl", &["version"]),
    }
}

#[derive(Serialize)]
struct Versions {
    os: String,
    php: String,
    phpredis: String,
    redis: String,
    openssl: String,
}

impl Versions {
    fn line(&self) -> String {
        format!(
            "os {}, php {}, phpredis {}, redis {}, openssl {}",
            self.os, self.php, self.phpredis, self.redis, self.openssl
        )
    }
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("reading /dev/urandom")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// The password-protected redis-server, with a TLS port when `tls` is given; stopped (and
/// no longer tracked for Ctrl-C) on drop.
struct TrackedRedis(Redis);

impl TrackedRedis {
    fn start(password: &str, tls: Option<&TlsFiles>) -> TrackedRedis {
        let redis = Redis::start_with(RedisOptions {
            runtime: Runtime::Host,
            bind: "127.0.0.1",
            tls,
            cluster: false,
        });
        sys::track_process(redis.pid());
        redis.require_password(password);
        TrackedRedis(redis)
    }
}

impl Drop for TrackedRedis {
    fn drop(&mut self) {
        sys::untrack_process(self.0.pid());
    }
}

/// Connections Redis has accepted so far (INFO stats), asked on a connection kept open.
fn connections_received(conn: &mut Conn) -> anyhow::Result<u64> {
    match conn
        .try_command(&["INFO", "stats"])
        .context("Redis INFO stats")?
    {
        Reply::Bulk(info) => info
            .lines()
            .find_map(|l| l.strip_prefix("total_connections_received:"))
            .and_then(|n| n.trim().parse().ok())
            .context("Redis INFO stats: no total_connections_received"),
        other => bail!("Redis INFO stats: unexpected reply {other:?}"),
    }
}

/// What the delay proxy adds to a round trip, measured.
#[derive(Serialize)]
struct Probe {
    ping_direct_ms: Num,
    ping_proxied_ms: Num,
    connect_ping_direct_ms: Num,
    connect_ping_proxied_ms: Num,
}

/// What the delay proxy really adds, measured with PING: on one open connection (one
/// round trip), and on a new connection each time (handshake + round trip).
/// Returns the JSON, a line for the log, and the round trip it adds (ms).
fn probe(redis: &Redis, ports: &Ports) -> anyhow::Result<(Probe, String, f64)> {
    let ping = |port: u16| -> anyhow::Result<f64> {
        let mut conn = redis.connect_via(port);
        let mut samples: Vec<u32> = (0..200)
            .map(|_| {
                let t = Instant::now();
                let _ = conn.try_command(&["PING"]);
                t.elapsed().as_micros() as u32
            })
            .collect();
        samples.sort_unstable();
        Ok(f64::from(stats::quantile(&samples, 0.5).unwrap_or(0)) / 1000.0)
    };
    let fresh = |port: u16| -> anyhow::Result<f64> {
        let mut samples: Vec<u32> = vec![];
        for _ in 0..50 {
            let t = Instant::now();
            let mut conn = Conn::open(&format!("127.0.0.1:{port}"))
                .with_context(|| format!("connecting to Redis on port {port}"))?;
            conn.try_command(&["PING"])
                .with_context(|| format!("PING on port {port}"))?;
            samples.push(t.elapsed().as_micros() as u32);
        }
        samples.sort_unstable();
        Ok(f64::from(stats::quantile(&samples, 0.5).unwrap_or(0)) / 1000.0)
    };
    let (direct, delayed) = (ping(ports.tcp)?, ping(ports.tcp_delay)?);
    let (direct_new, delayed_new) = (fresh(ports.tcp)?, fresh(ports.tcp_delay)?);
    let line = format!(
        "delay proxy: PING round trip {direct:.3} ms direct, {delayed:.3} ms through the proxy; \
         connect + PING {direct_new:.3} ms direct, {delayed_new:.3} ms through the proxy"
    );
    Ok((
        Probe {
            ping_direct_ms: Num(direct),
            ping_proxied_ms: Num(delayed),
            connect_ping_direct_ms: Num(direct_new),
            connect_ping_proxied_ms: Num(delayed_new),
        },
        line,
        delayed - direct,
    ))
}

/// The Redis commands one steady-state request sends (the third request on a session,
/// served by a single PHP worker, watched with MONITOR), and whether it opened a new
/// connection. Commands scripts run inside Redis are left out; arguments are not kept.
/// Then the round trips a request waits for, measured: one client, one worker, the
/// median latency with Redis behind the delay proxy minus the median without it,
/// divided by the round trip the proxy adds.
fn trace(
    config: &Config,
    setup: Setup,
    redis: &Redis,
    ports: &Ports,
    password: &str,
    added_rtt_ms: f64,
) -> anyhow::Result<Trace> {
    let server = PhpServer::start(config, setup, Network::Tcp, ports, password, 1)?;
    let mut monitor = redis.connect();
    monitor.try_command(&["MONITOR"]).context("Redis MONITOR")?;
    let mut session: Option<String> = None;
    let mut requests: Vec<Vec<String>> = vec![];
    for _ in 0..3 {
        let response = test_support::http_get(
            server.port,
            "/",
            session.as_deref(),
            Duration::from_secs(30),
        )
        .with_context(|| format!("tracing {}: a request", setup.name()))?;
        if session.is_none() {
            session = response.new_session;
        }
        requests.push(monitor.drain_lines(Duration::from_millis(300)));
    }
    let parse = |line: &str| -> Option<(String, String)> {
        let (_, rest) = line.split_once(" [")?;
        let (client, rest) = rest.split_once("] \"")?;
        let client = client.split_once(' ')?.1.to_string();
        let command = rest.split('"').next()?.to_ascii_uppercase();
        (client != "lua").then_some((client, command))
    };
    let earlier: Vec<String> = requests[..2]
        .iter()
        .flatten()
        .filter_map(|l| parse(l).map(|(client, _)| client))
        .collect();
    let last: Vec<(String, String)> = requests[2].iter().filter_map(|l| parse(l)).collect();
    let new_connection = last.iter().any(|(client, _)| !earlier.contains(client));
    drop(monitor);
    drop(server);

    let unloaded = |network: Network| -> anyhow::Result<f64> {
        let server = PhpServer::start(config, setup, network, ports, password, 1)?;
        let outcome = load::run(&load::Settings {
            port: server.port,
            clients: 1,
            warmup: Duration::from_millis(500),
            duration: config.duration.min(Duration::from_secs(3)),
            expect_handler: expected_handler(setup).into(),
        });
        outcome
            .summary()
            .p50_ms
            .map(|n| n.0)
            .with_context(|| format!("tracing {}: no request completed", setup.name()))
    };
    let direct = unloaded(Network::Tcp)?;
    let delayed = unloaded(Network::TcpDelay)?;
    let round_trips = (delayed - direct) / added_rtt_ms;
    eprintln!(
        "    {:<24} {} Redis commands, {round_trips:.1} round trips \
         (one client: p50 {direct:.2} ms, {delayed:.2} ms with the delay)",
        setup.name(),
        last.len()
    );
    Ok(Trace {
        setup: setup.name(),
        commands: last.into_iter().map(|(_, c)| c).collect(),
        new_connection,
        one_client_p50_ms: Num(direct),
        one_client_p50_delayed_ms: Num(delayed),
        round_trips: Num(round_trips),
    })
}

/// The Redis commands of one request, and the round trips it waits for.
#[derive(Serialize)]
struct Trace {
    setup: &'static str,
    commands: Vec<String>,
    new_connection: bool,
    one_client_p50_ms: Num,
    one_client_p50_delayed_ms: Num,
    round_trips: Num,
}

/// PHP's built-in server for one setup, in its own process group; killed on drop.
struct PhpServer {
    port: u16,
    child: Child,
    log: PathBuf,
    log_start: u64,
}

const DYNO: &str = r#"for f in "$HOME"/.profile.d/*.sh; do . "$f"; done
cd "$HOME" && exec php -q -S "$1" -t public"#;

impl PhpServer {
    fn start(
        config: &Config,
        setup: Setup,
        network: Network,
        ports: &Ports,
        password: &str,
        workers: u32,
    ) -> anyhow::Result<PhpServer> {
        let url = ports.port(network).map(|port| {
            let scheme = if network.is_tls() { "rediss" } else { "redis" };
            format!("{scheme}://:{password}@127.0.0.1:{port}")
        });
        let log = config.work.join("logs").join(format!(
            "{}-{}.log",
            setup.name(),
            network.name(config.delay).replace([' ', '+'], "")
        ));
        let mut last_error = anyhow!("not started");
        for _ in 0..3 {
            let port = test_support::free_port();
            let address = format!("127.0.0.1:{port}");
            let docroot = config.slug.join("public");
            let mut command = match setup {
                Setup::Files => {
                    let mut c = Command::new("php");
                    c.arg("-d").arg(format!(
                        "session.save_path={}",
                        config.work.join("file-sessions").display()
                    ));
                    c.args(["-q", "-S", &address, "-t"]).arg(&docroot);
                    c
                }
                Setup::Handwritten => {
                    let mut c = Command::new("php");
                    c.arg("-d").arg(format!(
                        "auto_prepend_file={}",
                        config.handwritten.display()
                    ));
                    c.args(["-q", "-S", &address, "-t"]).arg(&docroot);
                    c
                }
                Setup::Buildpack | Setup::BuildpackNoLock => {
                    let mut c = Command::new("bash");
                    c.args(["-c", DYNO, "dyno", &address]);
                    c
                }
            };
            command
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("HOME", &config.slug)
                .current_dir(&config.slug)
                .process_group(0)
                .stdin(Stdio::null())
                .stdout(Stdio::null());
            if let Some(url) = &url {
                command.env("REDIS_URL", url);
            }
            if setup == Setup::BuildpackNoLock {
                command.env("PHP_REDIS_SESSIONS_LOCKING", "0");
            }
            if workers > 1 {
                command.env("PHP_CLI_SERVER_WORKERS", workers.to_string());
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .with_context(|| format!("opening {}", log.display()))?;
            let log_start = file.metadata().map(|m| m.len()).unwrap_or(0);
            let child = command
                .stderr(file)
                .spawn()
                .context("starting PHP's web server")?;
            sys::track_group(child.id());
            let server = PhpServer {
                port,
                child,
                log: log.clone(),
                log_start,
            };
            match server.check(expected_handler(setup)) {
                Ok(()) => return Ok(server),
                Err(error) => last_error = error,
            }
        }
        Err(last_error.context(format!(
            "starting PHP's web server for {} / {}",
            setup.name(),
            network.name(config.delay)
        )))
    }

    /// Waits for the server, then checks one request reaches the expected save handler.
    fn check(&self, handler: &str) -> anyhow::Result<()> {
        if !test_support::wait_for_port(self.port, Duration::from_secs(10)) {
            bail!("PHP's web server did not start");
        }
        let response = test_support::http_get(self.port, "/", None, Duration::from_secs(30))
            .context("the first request")?;
        if response.status != 200 || response.save_handler().as_deref() != Some(handler) {
            bail!(
                "expected save handler {handler}, got HTTP {} {}; log: {}",
                response.status,
                response.body.trim(),
                self.warnings().join(" | ")
            );
        }
        Ok(())
    }

    /// Warnings and errors PHP logged since this server started.
    fn warnings(&self) -> Vec<String> {
        let text = std::fs::read(&self.log).unwrap_or_default();
        let start = usize::try_from(self.log_start).unwrap_or(0).min(text.len());
        String::from_utf8_lossy(&text[start..])
            .lines()
            .filter(|l| !l.contains("Development Server") && !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    }
}

impl Drop for PhpServer {
    fn drop(&mut self) {
        sys::kill_group(self.child.id());
        let _ = self.child.wait();
        sys::untrack_group(self.child.id());
    }
}
