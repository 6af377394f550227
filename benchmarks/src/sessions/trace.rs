//! What one request costs in Redis: the commands it sends, and the round trips it waits for.

use super::rows::{Network, Setup};
use super::{Bench, load_settings};
use crate::load;
use crate::output::Num;
use anyhow::Context;
use serde::Serialize;
use std::time::Duration;

/// The Redis commands of one request, and the round trips it waits for.
#[derive(Serialize)]
pub(super) struct Trace {
    setup: &'static str,
    commands: Vec<String>,
    new_connection: bool,
    one_client_p50_ms: Num,
    one_client_p50_delayed_ms: Num,
    round_trips: Num,
}

/// Traces `setup`: its commands (see [`monitor`]), then the round trips a request waits
/// for, measured: one client, one worker, the median latency with Redis behind the delay
/// proxy minus the median without it, divided by the round trip the proxy adds.
pub(super) fn trace(bench: &Bench, setup: Setup, added_rtt_ms: f64) -> anyhow::Result<Trace> {
    let (commands, new_connection) = monitor(bench, setup)?;
    let direct = one_client_p50_ms(bench, setup, Network::Tcp)?;
    let delayed = one_client_p50_ms(bench, setup, Network::TcpDelay)?;
    let round_trips = (delayed - direct) / added_rtt_ms;
    eprintln!(
        "    {:<24} {} Redis commands, {round_trips:.1} round trips \
         (one client: p50 {direct:.2} ms, {delayed:.2} ms with the delay)",
        setup.name(),
        commands.len()
    );
    Ok(Trace {
        setup: setup.name(),
        commands,
        new_connection,
        one_client_p50_ms: Num(direct),
        one_client_p50_delayed_ms: Num(delayed),
        round_trips: Num(round_trips),
    })
}

/// The Redis commands one steady-state request sends (the third request on a session,
/// served by a single PHP worker, watched with MONITOR), and whether it opened a new
/// connection. Commands scripts run inside Redis are left out; arguments are not kept.
fn monitor(bench: &Bench, setup: Setup) -> anyhow::Result<(Vec<String>, bool)> {
    let server = bench.server(setup, Network::Tcp, 1)?;
    let mut monitor = bench.backend.redis.connect();
    monitor.try_command(&["MONITOR"]).context("Redis MONITOR")?;
    let mut session: Option<String> = None;
    let mut requests: Vec<Vec<(String, String)>> = vec![];
    for _ in 0..3 {
        let response = test_support::http_get(
            server.port(),
            "/",
            session.as_deref(),
            Duration::from_secs(30),
        )
        .with_context(|| format!("tracing {}: a request", setup.name()))?;
        session = session.or(response.new_session);
        let lines = monitor.drain_lines(Duration::from_millis(300));
        requests.push(lines.iter().filter_map(|l| monitored(l)).collect());
    }
    let last = requests.pop().unwrap_or_default();
    let earlier: Vec<&String> = requests.iter().flatten().map(|(c, _)| c).collect();
    let new_connection = last.iter().any(|(client, _)| !earlier.contains(&client));
    Ok((last.into_iter().map(|(_, c)| c).collect(), new_connection))
}

/// The client address and the command of a MONITOR line, unless a script sent it.
fn monitored(line: &str) -> Option<(String, String)> {
    let (_, rest) = line.split_once(" [")?;
    let (client, rest) = rest.split_once("] \"")?;
    let client = client.split_once(' ')?.1.to_string();
    let command = rest.split('"').next()?.to_ascii_uppercase();
    (client != "lua").then_some((client, command))
}

/// The median latency of one client on one worker.
fn one_client_p50_ms(bench: &Bench, setup: Setup, network: Network) -> anyhow::Result<f64> {
    let server = bench.server(setup, network, 1)?;
    let settings = load::Settings {
        clients: 1,
        warmup: Duration::from_millis(500),
        duration: bench.config.duration.min(Duration::from_secs(3)),
        ..load_settings(bench.config, setup, &server)
    };
    load::run(&settings)
        .summary()
        .p50_ms
        .map(|n| n.0)
        .with_context(|| format!("tracing {}: no request completed", setup.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monitor_lines() {
        let line = r#"+1700000000.123456 [0 127.0.0.1:51234] "get" "PHPREDIS_SESSION:x""#;
        assert_eq!(
            monitored(line),
            Some(("127.0.0.1:51234".into(), "GET".into()))
        );
        assert_eq!(monitored(r#"+1.0 [0 lua] "get" "k""#), None);
        assert_eq!(monitored("+OK"), None);
    }
}
