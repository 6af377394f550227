//! What the session benchmark compares: each setup on each network, one row each.

use crate::load::Outcome;
use crate::lost;
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    Files,
    Handwritten,
    Buildpack,
    /// Not one of the three setups compared: the buildpack with
    /// PHP_REDIS_SESSIONS_LOCKING=0, to show what locking costs and what it buys.
    BuildpackNoLock,
}

impl Setup {
    pub fn name(self) -> &'static str {
        match self {
            Setup::Files => "files",
            Setup::Handwritten => "hand-written",
            Setup::Buildpack => "buildpack",
            Setup::BuildpackNoLock => "buildpack, locking off",
        }
    }

    /// The save handler every response must report.
    pub fn handler(self) -> &'static str {
        match self {
            Setup::Files => "files",
            _ => "redis",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Local,
    Tcp,
    TcpDelay,
    Tls,
    TlsDelay,
}

impl Network {
    pub fn name(self, delay: Duration) -> String {
        let ms = delay.as_secs_f64() * 1000.0;
        match self {
            Network::Local => "local disk".into(),
            Network::Tcp => "TCP".into(),
            Network::TcpDelay => format!("TCP + {ms} ms"),
            Network::Tls => "TLS".into(),
            Network::TlsDelay => format!("TLS + {ms} ms"),
        }
    }

    pub fn is_tls(self) -> bool {
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
pub struct Ports {
    pub tcp: u16,
    pub tcp_delay: u16,
    /// The TLS port and its delay proxy, when Redis has one.
    pub tls: Option<(u16, u16)>,
}

impl Ports {
    pub fn port(&self, network: Network) -> Option<u16> {
        match network {
            Network::Local => None,
            Network::Tcp => Some(self.tcp),
            Network::TcpDelay => Some(self.tcp_delay),
            Network::Tls => self.tls.map(|(direct, _)| direct),
            Network::TlsDelay => self.tls.map(|(_, delayed)| delayed),
        }
    }
}

/// What one row measured.
pub struct RowResult {
    pub setup: Setup,
    pub network: Network,
    pub skipped: Option<String>,
    pub rounds: Vec<Outcome>,
    pub lost: Vec<lost::Trial>,
    pub server_warnings: Vec<String>,
    /// Connections Redis accepted, and requests served, over all rounds.
    pub connections: u64,
    pub requests: u64,
}

impl RowResult {
    /// Every row, nothing measured yet; the TLS rows skipped when Redis has no TLS port.
    pub fn all(ports: &Ports) -> Vec<RowResult> {
        ROWS.iter()
            .map(|&(setup, network)| RowResult {
                setup,
                network,
                skipped: (network.is_tls() && ports.tls.is_none()).then(|| {
                    "--tls not given (phpredis 5.3 ignores TLS options in the save path)".into()
                }),
                rounds: vec![],
                lost: vec![],
                server_warnings: vec![],
                connections: 0,
                requests: 0,
            })
            .collect()
    }

    pub fn label(&self, delay: Duration) -> String {
        format!("{} / {}", self.setup.name(), self.network.name(delay))
    }
}
