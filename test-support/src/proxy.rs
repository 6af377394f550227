//! A TCP proxy in front of a Redis, on a free loopback port: a network hop of its own
//! (`delay` each way), and the failures a network hop has. [`Proxy::silence`] is a Redis
//! that died without closing anything (a host gone, a connection tracked away): the
//! connections open now stay open and never carry a byte again; new ones work.
//! [`Proxy::cut`] closes every connection open now, as a restarted Redis does.
//! [`Proxy::outage`] makes it a Redis that is down, refusing (closed at once) or
//! unreachable (accepted, never answered), until [`Proxy::heal`].

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One proxied connection: its two sockets and whether it still carries bytes.
struct Link {
    client: TcpStream,
    upstream: TcpStream,
    silenced: AtomicBool,
}

/// What the proxy does with new connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Closed at once, as a connection to a stopped Redis is refused.
    Refused,
    /// Accepted and never answered, as a host that is gone.
    Unreachable,
}

const FORWARD: usize = 0;
const REFUSE: usize = 1;
const BLACKHOLE: usize = 2;

pub struct Proxy {
    pub port: u16,
    mode: Arc<AtomicUsize>,
    links: Arc<Mutex<Vec<Arc<Link>>>>,
    accepted: Arc<AtomicUsize>,
    /// Chunks the clients sent: one per round trip for a client that waits for each
    /// answer (pipelined commands arrive in one chunk).
    sent: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Forwards `127.0.0.1:<port>` to `target`, each chunk `delay` late in each direction.
    #[must_use]
    pub fn start(target: SocketAddr, delay: Duration) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port for the proxy");
        let port = listener.local_addr().unwrap().port();
        let links: Arc<Mutex<Vec<Arc<Link>>>> = Arc::default();
        let accepted = Arc::new(AtomicUsize::new(0));
        let sent = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let mode = Arc::new(AtomicUsize::new(FORWARD));
        let thread = {
            let (links, accepted, sent, stop, mode) = (
                links.clone(),
                accepted.clone(),
                sent.clone(),
                stop.clone(),
                mode.clone(),
            );
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    match mode.load(Ordering::SeqCst) {
                        REFUSE => {
                            let _ = client.shutdown(Shutdown::Both);
                            continue;
                        }
                        BLACKHOLE => {
                            links.lock().unwrap().push(Arc::new(Link {
                                upstream: client.try_clone().unwrap(),
                                client,
                                silenced: AtomicBool::new(true),
                            }));
                            continue;
                        }
                        _ => {}
                    }
                    let Ok(upstream) = TcpStream::connect(target) else {
                        continue; // the client sees its connection closed: Redis is down
                    };
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let link = Arc::new(Link {
                        client,
                        upstream,
                        silenced: AtomicBool::new(false),
                    });
                    links.lock().unwrap().push(link.clone());
                    pump(&link, Some(sent.clone()), delay);
                    pump(&link, None, delay);
                }
            })
        };
        Proxy {
            port,
            mode,
            links,
            accepted,
            sent,
            stop,
            thread: Some(thread),
        }
    }

    /// Every connection open now goes silent for good, without being closed.
    pub fn silence(&self) {
        for link in self.links.lock().unwrap().iter() {
            link.silenced.store(true, Ordering::SeqCst);
        }
    }

    /// Redis goes down: open connections are closed (refused) or silenced (unreachable),
    /// and so are new ones, until [`Proxy::heal`].
    pub fn outage(&self, outage: Outage) {
        match outage {
            Outage::Refused => {
                self.mode.store(REFUSE, Ordering::SeqCst);
                self.cut();
            }
            Outage::Unreachable => {
                self.mode.store(BLACKHOLE, Ordering::SeqCst);
                self.silence();
            }
        }
    }

    /// Redis is back: new connections are forwarded again.
    pub fn heal(&self) {
        self.mode.store(FORWARD, Ordering::SeqCst);
    }

    /// Closes every connection open now.
    pub fn cut(&self) {
        for link in self.links.lock().unwrap().drain(..) {
            let _ = link.client.shutdown(Shutdown::Both);
            let _ = link.upstream.shutdown(Shutdown::Both);
        }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Chunks sent by the clients so far: their round trips.
    pub fn round_trips(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }
}

/// Copies one direction of `link` until either side closes, counting the chunks in
/// `sent` (the clients' direction); a silenced link's bytes are read and dropped, so its
/// peer waits for an answer that never comes.
fn pump(link: &Arc<Link>, sent: Option<Arc<AtomicUsize>>, delay: Duration) {
    let link = link.clone();
    let to_upstream = sent.is_some();
    std::thread::spawn(move || {
        let (mut from, mut to) = if to_upstream {
            (&link.client, &link.upstream)
        } else {
            (&link.upstream, &link.client)
        };
        let mut buffer = [0u8; 16 * 1024];
        loop {
            let read = match from.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            };
            if link.silenced.load(Ordering::SeqCst) {
                continue;
            }
            if let Some(sent) = &sent {
                sent.fetch_add(1, Ordering::SeqCst);
            }
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
            if to.write_all(&buffer[..read]).is_err() {
                break;
            }
        }
        if !link.silenced.load(Ordering::SeqCst) {
            let _ = to.shutdown(Shutdown::Write);
        }
    });
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        for link in self.links.lock().unwrap().drain(..) {
            let _ = link.client.shutdown(Shutdown::Both);
            let _ = link.upstream.shutdown(Shutdown::Both);
        }
    }
}
