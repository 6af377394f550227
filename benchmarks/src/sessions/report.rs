//! sessions.json: what benchmarks/report.py makes the session tables from.

use super::redis::Probe;
use super::rows::{RowResult, Setup};
use super::trace::Trace;
use super::{Config, ServerKind};
use crate::load::{self, Outcome};
use crate::lost;
use crate::output::{Num, nums};
use crate::stats;
use serde::Serialize;
use std::process::Command;
use std::time::Duration;

#[derive(Serialize)]
pub(super) struct Report {
    pub runtime: Versions,
    pub settings: SettingsReport,
    pub probe: Probe,
    pub traces: Vec<Trace>,
    pub rows: Vec<RowReport>,
}

#[derive(Serialize)]
pub(super) struct SettingsReport {
    server: ServerKind,
    server_name: &'static str,
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
    pub(super) fn new(config: &Config) -> SettingsReport {
        SettingsReport {
            server: config.server,
            server_name: config.server.name(),
            clients: config.clients,
            php_workers: config.workers,
            warmup_s: Num(config.warmup.as_secs_f64()),
            duration_s: Num(config.duration.as_secs_f64()),
            rounds: config.rounds,
            delay_ms_each_way: Num(config.delay.as_secs_f64() * 1000.0),
            lost_requests: config.lost_requests,
            lost_hold_ms: config.lost_hold_ms,
            lost_trials: config.lost_trials,
            tls: config.tls,
            tls_certificate: if config.tls {
                "self-signed RSA 2048, clients do not verify it"
            } else {
                "none"
            },
        }
    }
}

/// One setup on one network: its rounds, pooled, and its lost-write trials.
#[derive(Serialize)]
pub(super) struct RowReport {
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
    /// Measured at the proxy: each chunk the PHP workers sent and each connection made.
    redis_round_trips_per_request: Option<Num>,
    lost_median: Option<Num>,
    lost_max: Option<Num>,
    server_warnings: usize,
    first_server_warning: Option<String>,
}

impl RowReport {
    pub(super) fn new(row: &RowResult, delay: Duration) -> RowReport {
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
            redis_round_trips_per_request: (row.requests > 0 && row.setup != Setup::Files)
                .then(|| Num(row.round_trips as f64 / row.requests as f64)),
            lost_median: stats::median(&lost).map(Num),
            lost_max: lost.iter().copied().reduce(f64::max).map(Num),
            server_warnings: row.server_warnings.len(),
            first_server_warning: row.server_warnings.first().cloned(),
        }
    }
}

/// PHP, phpredis, Redis and OpenSSL versions of the runtime this runs in.
#[derive(Serialize)]
pub(super) struct Versions {
    os: String,
    php: String,
    phpredis: String,
    redis: String,
    openssl: String,
}

impl Versions {
    pub(super) fn of_this_runtime() -> Versions {
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

    pub(super) fn line(&self) -> String {
        format!(
            "os {}, php {}, phpredis {}, redis {}, openssl {}",
            self.os, self.php, self.phpredis, self.redis, self.openssl
        )
    }
}

/// What `program args` printed, trimmed; empty if it could not run.
fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
