//! A TCP proxy in front of a Redis, on a free loopback port: a network hop of its own
//! (`delay` each way), and the failures a network hop has. [`Proxy::silence`] is a Redis
//! that died without closing anything (a host gone, a connection tracked away): the
//! connections open now stay open and never carry a byte again; new ones work.
//! [`Proxy::cut`] closes every connection open now, as a restarted Redis does.

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

pub struct Proxy {
    pub port: u16,
    links: Arc<Mutex<Vec<Arc<Link>>>>,
    accepted: Arc<AtomicUsize>,
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
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (links, accepted, stop) = (links.clone(), accepted.clone(), stop.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
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
                    pump(&link, true, delay);
                    pump(&link, false, delay);
                }
            })
        };
        Proxy {
            port,
            links,
            accepted,
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

    /// Closes every connection open now.
    pub fn cut(&self) {
        for link in self.links.lock().unwrap().drain(..) {
            let _ = link.client.shutdown(Shutdown::Both);
            let _ = link.upstream.shutdown(Shutdown::Both);
        }
    }

    /// Connections accepted so far.
    #[must_use]
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Copies one direction of `link` until either side closes; a silenced link's bytes are
/// read and dropped, so its peer waits for an answer that never comes.
fn pump(link: &Arc<Link>, to_upstream: bool, delay: Duration) {
    let link = link.clone();
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
