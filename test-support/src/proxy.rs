//! A TCP proxy on loopback in front of a Redis: a network hop of its own, and the
//! failures a network hop has.
//!
//! - Delay: every byte is late by a fixed time in each direction, as a network between
//!   the dyno and Redis would make it. A new connection also pays the TCP handshake's
//!   round trip: the client's first bytes reach the server no sooner than three one-way
//!   delays after it connected (SYN, SYN-ACK, then the data), and answers take one more
//!   delay back. Bytes are forwarded in order, each chunk at its arrival time plus the
//!   delay, so pipelined traffic is delayed, not serialized.
//! - [`Proxy::silence`]: a Redis that died without closing anything (a host gone): the
//!   connections open now stay open and never carry a byte again; new ones work.
//! - [`Proxy::cut`]: every connection open now is closed, as a restarted Redis does.
//! - [`Proxy::outage`]: Redis down, refusing (nothing listens on the port: a connect gets
//!   `ECONNREFUSED`, as from a stopped Redis) or unreachable (accepted, never answered),
//!   until [`Proxy::heal`] listens on the same port again.
//! - [`Proxy::round_trips`]: chunks the clients sent, one per round trip for a client that
//!   waits for each answer (pipelined commands arrive in one chunk).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

const STACK: usize = 128 * 1024;

/// What the proxy does with new connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Refused: the port has no listener, as a stopped Redis's has none.
    Refused,
    /// Accepted and never answered, as a host that is gone.
    Unreachable,
}

const FORWARD: usize = 0;
const REFUSE: usize = 1;
const BLACKHOLE: usize = 2;

/// One proxied connection: its two sockets and whether it still carries bytes.
struct Link {
    client: TcpStream,
    upstream: Option<TcpStream>,
    silenced: AtomicBool,
    /// Directions still forwarding; at 0 the link is forgotten (its sockets closed), so
    /// that a proxy carrying thousands of short connections keeps no descriptor of theirs.
    open: AtomicUsize,
}

impl Link {
    fn close(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        if let Some(upstream) = &self.upstream {
            let _ = upstream.shutdown(Shutdown::Both);
        }
    }
}

/// What the accepting thread and the controls share.
#[derive(Default)]
struct State {
    links: Mutex<Vec<Arc<Link>>>,
    mode: AtomicUsize,
    accepted: AtomicUsize,
    sent: AtomicUsize,
    stop: AtomicBool,
    /// Whether the port has a listener now (none while refusing).
    listening: AtomicBool,
}

pub struct Proxy {
    pub port: u16,
    state: Arc<State>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Proxy {
    /// Forwards a free loopback port to `target`, each chunk `delay` late each way.
    pub fn start(target: SocketAddr, delay: Duration) -> Proxy {
        Proxy::bind(0, target, delay).expect("a loopback port for the proxy")
    }

    /// The same on `127.0.0.1:port` (0: any free port).
    pub fn bind(port: u16, target: SocketAddr, delay: Duration) -> io::Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(State::default());
        state.listening.store(true, Ordering::SeqCst);
        let thread = {
            let state = state.clone();
            thread::spawn(move || serve(&state, listener, port, target, delay))
        };
        Ok(Proxy {
            port,
            state,
            thread: Some(thread),
        })
    }

    /// Every connection open now goes silent for good, without being closed.
    pub fn silence(&self) {
        for link in self.state.links.lock().unwrap().iter() {
            link.silenced.store(true, Ordering::SeqCst);
        }
    }

    /// Closes every connection open now.
    pub fn cut(&self) {
        for link in self.state.links.lock().unwrap().drain(..) {
            link.close();
        }
    }

    /// Redis goes down: open connections are closed and the port stops listening
    /// (refused), or they and new ones are silenced (unreachable), until [`Proxy::heal`].
    pub fn outage(&self, outage: Outage) {
        match outage {
            Outage::Refused => {
                self.state.mode.store(REFUSE, Ordering::SeqCst);
                // Wakes the accepting thread, which then closes its listener.
                let _ = TcpStream::connect(("127.0.0.1", self.port));
                self.wait_until_listening(false);
                self.cut();
            }
            Outage::Unreachable => {
                self.state.mode.store(BLACKHOLE, Ordering::SeqCst);
                self.silence();
            }
        }
    }

    /// Redis is back: the port listens again, and new connections are forwarded.
    pub fn heal(&self) {
        self.state.mode.store(FORWARD, Ordering::SeqCst);
        self.wait_until_listening(true);
    }

    fn wait_until_listening(&self, listening: bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.state.listening.load(Ordering::SeqCst) != listening {
            assert!(
                Instant::now() < deadline,
                "the proxy on port {} did not {} listening",
                self.port,
                if listening { "start" } else { "stop" }
            );
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Connections forwarded so far.
    pub fn accepted(&self) -> usize {
        self.state.accepted.load(Ordering::SeqCst)
    }

    /// Chunks sent by the clients so far: their round trips.
    pub fn round_trips(&self) -> usize {
        self.state.sent.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        self.state.mode.store(FORWARD, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        for link in self.state.links.lock().unwrap().drain(..) {
            link.close();
        }
    }
}

/// A delay proxy to `upstream` on 127.0.0.1:`port` (0: any free port) that runs for the
/// rest of the process; returns the port.
pub fn start_delay_proxy(port: u16, upstream: SocketAddr, delay: Duration) -> io::Result<u16> {
    let proxy = Proxy::bind(port, upstream, delay)?;
    let port = proxy.port;
    std::mem::forget(proxy);
    Ok(port)
}

/// The accepting thread: forwards what `listener` accepts; while refusing, it has no
/// listener, and binds `port` again when the outage ends.
fn serve(
    state: &Arc<State>,
    listener: TcpListener,
    port: u16,
    target: SocketAddr,
    delay: Duration,
) {
    let mut listener = Some(listener);
    while !state.stop.load(Ordering::SeqCst) {
        let Some(open) = &listener else {
            if state.mode.load(Ordering::SeqCst) == REFUSE {
                thread::sleep(Duration::from_millis(2));
            } else if let Ok(bound) = TcpListener::bind(("127.0.0.1", port)) {
                listener = Some(bound);
                state.listening.store(true, Ordering::SeqCst);
            }
            continue;
        };
        let Ok((client, _)) = open.accept() else {
            continue;
        };
        if state.mode.load(Ordering::SeqCst) == REFUSE {
            drop(client);
            listener = None;
            state.listening.store(false, Ordering::SeqCst);
        } else if !state.stop.load(Ordering::SeqCst) {
            accept(state, client, target, delay);
        }
    }
}

fn accept(state: &Arc<State>, client: TcpStream, target: SocketAddr, delay: Duration) {
    let accepted = Instant::now();
    if state.mode.load(Ordering::SeqCst) == BLACKHOLE {
        state.links.lock().unwrap().push(Arc::new(Link {
            client,
            upstream: None,
            silenced: AtomicBool::new(true),
            open: AtomicUsize::new(0),
        }));
        return;
    }
    let Ok(upstream) = TcpStream::connect(target) else {
        let _ = client.shutdown(Shutdown::Both); // Redis is down: the client sees it closed
        return;
    };
    for stream in [&client, &upstream] {
        let _ = stream.set_nodelay(true);
    }
    state.accepted.fetch_add(1, Ordering::SeqCst);
    let link = Arc::new(Link {
        client,
        upstream: Some(upstream),
        silenced: AtomicBool::new(false),
        open: AtomicUsize::new(2),
    });
    state.links.lock().unwrap().push(link.clone());
    pipe(&link, true, delay, accepted + 3 * delay, state);
    pipe(&link, false, delay, accepted, state);
}

/// Forwards one direction of `link`: one thread reads and timestamps (counting the
/// clients' chunks, `to_upstream`), another writes each chunk when it is due. A silenced
/// link's bytes are read and dropped, so its peer waits for an answer that never comes.
fn pipe(
    link: &Arc<Link>,
    to_upstream: bool,
    delay: Duration,
    not_before: Instant,
    state: &Arc<State>,
) {
    let count = to_upstream.then(|| state.clone());
    let forget = state.clone();
    let Some(upstream) = &link.upstream else {
        return;
    };
    let (from, to) = if to_upstream {
        (&link.client, upstream)
    } else {
        (upstream, &link.client)
    };
    let (Ok(mut reader), Ok(mut writer)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let reading = link.clone();
    spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if reading.silenced.load(Ordering::SeqCst) {
                        continue;
                    }
                    if let Some(state) = &count {
                        state.sent.fetch_add(1, Ordering::SeqCst);
                    }
                    if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let writing = link.clone();
    spawn(move || {
        precise_sleeps();
        for (arrived, data) in rx {
            let due = (arrived + delay).max(not_before);
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if writing.silenced.load(Ordering::SeqCst) || writer.write_all(&data).is_err() {
                break;
            }
        }
        // The source closed (or the destination failed): pass the close on, unless the
        // link is silenced, whose peers must see nothing at all.
        if !writing.silenced.load(Ordering::SeqCst) {
            let _ = writer.shutdown(Shutdown::Write);
        }
        if writing.open.fetch_sub(1, Ordering::SeqCst) == 1 {
            forget
                .links
                .lock()
                .unwrap()
                .retain(|link| !Arc::ptr_eq(link, &writing));
        }
    });
}

fn spawn(f: impl FnOnce() + Send + 'static) {
    thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("cannot start a proxy thread");
}

/// Lets this thread's sleeps end on time: the default timer slack (50 us) would add to
/// every delayed packet.
fn precise_sleeps() {
    // SAFETY: PR_SET_TIMERSLACK only changes the calling thread's timer slack.
    #[allow(
        unsafe_code,
        reason = "the timer slack is only reachable through prctl"
    )]
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Short connections are forgotten once closed: a proxy carrying thousands of them
    /// (the hand-written snippet connects once a request) keeps no descriptor of theirs.
    #[test]
    fn closed_connections_are_forgotten() {
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = upstream.local_addr().unwrap();
        thread::spawn(move || {
            for stream in upstream.incoming().flatten() {
                drop(stream); // closes at once, as a server that answers and hangs up
            }
        });
        let proxy = Proxy::start(target, Duration::ZERO);
        for _ in 0..50 {
            let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
            let _ = client.write_all(b"PING\r\n");
            let mut buf = [0u8; 16];
            let _ = client.read(&mut buf);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !proxy.state.links.lock().unwrap().is_empty() {
            assert!(Instant::now() < deadline, "closed links are kept");
            thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(proxy.accepted(), 50);
    }
}
