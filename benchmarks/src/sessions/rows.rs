//! What the session benchmark compares: each setup on each network, one row each.

use crate::load::Outcome;
use crate::lost;
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Setup {
    Files,
    Handwritten,
    Buildpack,
    /// Not one of the three setups compared: the buildpack with
    /// `PHP_REDIS_SESSIONS_LOCKING=0`, to show what locking costs and what it buys.
    BuildpackNoLock,
    /// The buildpack with one of phpredis' settings changed (see [`Setup::tweak`]), to
    /// show what each costs or saves.
    BuildpackWith(Tweak),
    /// The buildpack with its own session handler (`PHP_REDIS_SESSIONS_HANDLER=buildpack`):
    /// two round trips a request, locking on.
    BuildpackHandler,
}

/// A name and its value.
pub(super) type Pair = (&'static str, &'static str);

/// One setting changed from the buildpack's defaults.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Tweak {
    /// `redis.pconnect.echo_check_liveness=1` (the default before phpredis 6).
    EchoCheckOn,
    /// `redis.pconnect.echo_check_liveness=0` (the default from phpredis 6 on).
    EchoCheckOff,
    /// `redis.session.early_refresh=1` (phpredis 6; needs Redis 6.2 for GETEX).
    EarlyRefresh,
    /// `redis.pconnect.pooling_enabled=1`.
    Pooling,
    /// `PHP_REDIS_SESSIONS_STRICT_MODE=0`.
    StrictOff,
    /// `PHP_REDIS_SESSIONS_PERSISTENT=0`.
    NotPersistent,
}

impl Tweak {
    pub(super) const ALL: [Tweak; 6] = [
        Tweak::EchoCheckOn,
        Tweak::EchoCheckOff,
        Tweak::EarlyRefresh,
        Tweak::Pooling,
        Tweak::StrictOff,
        Tweak::NotPersistent,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Tweak::EchoCheckOn => "buildpack, liveness check on",
            Tweak::EchoCheckOff => "buildpack, liveness check off",
            Tweak::EarlyRefresh => "buildpack, early refresh",
            Tweak::Pooling => "buildpack, connection pooling",
            Tweak::StrictOff => "buildpack, strict mode off",
            Tweak::NotPersistent => "buildpack, not persistent",
        }
    }

    /// The php.ini setting, or the config var, that makes the change.
    pub(super) fn change(self) -> (Option<Pair>, Option<Pair>) {
        match self {
            Tweak::EchoCheckOn => (Some(("redis.pconnect.echo_check_liveness", "1")), None),
            Tweak::EchoCheckOff => (Some(("redis.pconnect.echo_check_liveness", "0")), None),
            Tweak::EarlyRefresh => (Some(("redis.session.early_refresh", "1")), None),
            Tweak::Pooling => (Some(("redis.pconnect.pooling_enabled", "1")), None),
            Tweak::StrictOff => (None, Some(("PHP_REDIS_SESSIONS_STRICT_MODE", "0"))),
            Tweak::NotPersistent => (None, Some(("PHP_REDIS_SESSIONS_PERSISTENT", "0"))),
        }
    }
}

impl Setup {
    pub(super) fn name(self) -> &'static str {
        match self {
            Setup::Files => "files",
            Setup::Handwritten => "hand-written",
            Setup::Buildpack => "buildpack",
            Setup::BuildpackNoLock => "buildpack, locking off",
            Setup::BuildpackWith(tweak) => tweak.name(),
            Setup::BuildpackHandler => "buildpack's handler",
        }
    }

    /// The save handler every response must report.
    pub(super) fn handler(self) -> &'static str {
        match self {
            Setup::Files => "files",
            Setup::BuildpackHandler => "user",
            _ => "redis",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Network {
    Local,
    Tcp,
    TcpDelay,
    Tls,
    TlsDelay,
}

impl Network {
    pub(super) fn name(self, delay: Duration) -> String {
        let ms = delay.as_secs_f64() * 1000.0;
        match self {
            Network::Local => "local disk".into(),
            Network::Tcp => "TCP".into(),
            Network::TcpDelay => format!("TCP + {ms} ms"),
            Network::Tls => "TLS".into(),
            Network::TlsDelay => format!("TLS + {ms} ms"),
        }
    }

    pub(super) fn is_tls(self) -> bool {
        matches!(self, Network::Tls | Network::TlsDelay)
    }
}

const ROWS: [(Setup, Network); 21] = [
    (Setup::Files, Network::Local),
    (Setup::Handwritten, Network::Tcp),
    (Setup::Buildpack, Network::Tcp),
    (Setup::BuildpackHandler, Network::Tcp),
    (Setup::Handwritten, Network::TcpDelay),
    (Setup::Buildpack, Network::TcpDelay),
    (Setup::BuildpackNoLock, Network::TcpDelay),
    (Setup::BuildpackHandler, Network::TcpDelay),
    (Setup::Handwritten, Network::Tls),
    (Setup::Buildpack, Network::Tls),
    (Setup::BuildpackHandler, Network::Tls),
    (Setup::Handwritten, Network::TlsDelay),
    (Setup::Buildpack, Network::TlsDelay),
    (Setup::BuildpackNoLock, Network::TlsDelay),
    (Setup::BuildpackHandler, Network::TlsDelay),
    (Setup::BuildpackWith(Tweak::ALL[0]), Network::TcpDelay),
    (Setup::BuildpackWith(Tweak::ALL[1]), Network::TcpDelay),
    (Setup::BuildpackWith(Tweak::ALL[2]), Network::TcpDelay),
    (Setup::BuildpackWith(Tweak::ALL[3]), Network::TcpDelay),
    (Setup::BuildpackWith(Tweak::ALL[4]), Network::TcpDelay),
    (Setup::BuildpackWith(Tweak::ALL[5]), Network::TcpDelay),
];

/// Where each network reaches Redis: a proxy each (no delay, or the delay), so that each
/// row's round trips are counted; and Redis itself, for the probe.
pub(super) struct Ports {
    pub direct: u16,
    pub tcp: u16,
    pub tcp_delay: u16,
    /// The TLS port and its delay proxy, when Redis has one.
    pub tls: Option<(u16, u16)>,
}

impl Ports {
    pub(super) fn port(&self, network: Network) -> Option<u16> {
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
pub(super) struct RowResult {
    pub setup: Setup,
    pub network: Network,
    pub skipped: Option<String>,
    pub rounds: Vec<Outcome>,
    pub lost: Vec<lost::Trial>,
    pub server_warnings: Vec<String>,
    /// Connections Redis accepted, round trips to it, and requests served, over all
    /// rounds.
    pub connections: u64,
    pub round_trips: u64,
    pub requests: u64,
}

impl RowResult {
    /// Every row, nothing measured yet; the TLS rows skipped when Redis has no TLS port.
    pub(super) fn all(ports: &Ports) -> Vec<RowResult> {
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
                round_trips: 0,
                requests: 0,
            })
            .collect()
    }

    pub(super) fn label(&self, delay: Duration) -> String {
        format!("{} / {}", self.setup.name(), self.network.name(delay))
    }
}
