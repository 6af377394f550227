//! The Redis side: one password-protected redis-server with a proxy in front of each of
//! its ports for each network (no delay, and the delay), what the delay adds (measured),
//! the round trips the proxies carried, and the count of connections Redis accepted.

use super::rows::{Network, Ports};
use crate::output::Num;
use crate::stats;
use crate::sys;
use anyhow::{Context, bail};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Read;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use test_support::{Conn, Proxy, Redis, RedisOptions, Reply, Runtime, TlsFiles};

/// The redis-server, with a TLS port when `tls` is given, a random password and a delay
/// proxy in front of each port; stopped (and no longer tracked for Ctrl-C) on drop.
pub(super) struct Backend {
    pub redis: Redis,
    pub password: String,
    pub ports: Ports,
    proxies: Vec<(Network, Proxy)>,
}

impl Backend {
    pub(super) fn start(tls: Option<&TlsFiles>, delay: Duration) -> anyhow::Result<Backend> {
        let password = random_hex(16)?;
        let redis = Redis::start_with(RedisOptions {
            runtime: Runtime::Host,
            bind: "127.0.0.1",
            tls,
            cluster: false,
        });
        redis.require_password(&password);
        let proxy = |port: u16, delay: Duration| {
            Proxy::bind(0, SocketAddr::from(([127, 0, 0, 1], port)), delay)
                .with_context(|| format!("starting a proxy to port {port}"))
        };
        let mut proxies = vec![
            (Network::Tcp, proxy(redis.port, Duration::ZERO)?),
            (Network::TcpDelay, proxy(redis.port, delay)?),
        ];
        if tls.is_some() {
            proxies.push((Network::Tls, proxy(redis.tls_port, Duration::ZERO)?));
            proxies.push((Network::TlsDelay, proxy(redis.tls_port, delay)?));
        }
        let port = |network| {
            proxies
                .iter()
                .find(|(n, _)| *n == network)
                .map(|(_, proxy)| proxy.port)
        };
        let ports = Ports {
            direct: redis.port,
            tcp: port(Network::Tcp).unwrap_or_default(),
            tcp_delay: port(Network::TcpDelay).unwrap_or_default(),
            tls: port(Network::Tls).zip(port(Network::TlsDelay)),
        };
        sys::track_process(redis.pid());
        Ok(Backend {
            redis,
            password,
            ports,
            proxies,
        })
    }

    /// Round trips the proxy of `network` carried so far (each chunk a client sent, and
    /// each connection's handshake); `None` without Redis.
    pub(super) fn round_trips(&self, network: Network) -> Option<usize> {
        self.proxies
            .iter()
            .find(|(n, _)| *n == network)
            .map(|(_, proxy)| proxy.round_trips() + proxy.accepted())
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        sys::untrack_process(self.redis.pid());
    }
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("reading /dev/urandom")?;
    Ok(buf
        .iter()
        .fold(String::with_capacity(bytes * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        }))
}

/// Connections Redis has accepted so far (INFO stats), asked on a connection kept open.
pub(super) fn connections_received(conn: &mut Conn) -> anyhow::Result<u64> {
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

/// What the delay proxy adds, measured with PING: on one open connection (one round
/// trip), and on a new connection each time (handshake + round trip).
#[derive(Serialize)]
#[allow(
    clippy::struct_field_names,
    reason = "the fields are sessions.json's keys, each with its unit"
)]
pub(super) struct Probe {
    pub ping_direct_ms: Num,
    pub ping_proxied_ms: Num,
    pub connect_ping_direct_ms: Num,
    pub connect_ping_proxied_ms: Num,
}

impl Probe {
    pub(super) fn measure(backend: &Backend) -> anyhow::Result<Probe> {
        let ports = &backend.ports;
        Ok(Probe {
            ping_direct_ms: Num(ping_ms(backend, ports.direct)),
            ping_proxied_ms: Num(ping_ms(backend, ports.tcp_delay)),
            connect_ping_direct_ms: Num(connect_ping_ms(ports.direct)?),
            connect_ping_proxied_ms: Num(connect_ping_ms(ports.tcp_delay)?),
        })
    }

    /// The round trip the proxy adds (ms).
    pub(super) fn added_round_trip_ms(&self) -> f64 {
        self.ping_proxied_ms.0 - self.ping_direct_ms.0
    }

    pub(super) fn line(&self) -> String {
        format!(
            "delay proxy: PING round trip {:.3} ms direct, {:.3} ms through the proxy; \
             connect + PING {:.3} ms direct, {:.3} ms through the proxy",
            self.ping_direct_ms.0,
            self.ping_proxied_ms.0,
            self.connect_ping_direct_ms.0,
            self.connect_ping_proxied_ms.0
        )
    }
}

/// Median PING round trip on one open connection through `port`.
fn ping_ms(backend: &Backend, port: u16) -> f64 {
    let mut conn = backend.redis.connect_via(port);
    let samples: Vec<u32> = (0..200)
        .map(|_| {
            let t = Instant::now();
            let _ = conn.try_command(&["PING"]);
            u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX)
        })
        .collect();
    median_ms(samples)
}

/// Median time to connect to `port` and PING (unauthenticated: still one round trip).
fn connect_ping_ms(port: u16) -> anyhow::Result<f64> {
    let mut samples: Vec<u32> = vec![];
    for _ in 0..50 {
        let t = Instant::now();
        let mut conn = Conn::open(&format!("127.0.0.1:{port}"))
            .with_context(|| format!("connecting to Redis on port {port}"))?;
        conn.try_command(&["PING"])
            .with_context(|| format!("PING on port {port}"))?;
        samples.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
    }
    Ok(median_ms(samples))
}

fn median_ms(mut samples_us: Vec<u32>) -> f64 {
    samples_us.sort_unstable();
    f64::from(stats::quantile(&samples_us, 0.5).unwrap_or(0)) / 1000.0
}
