//! A TCP proxy on loopback that delays every byte by a fixed time in each direction, as
//! a network between the dyno and Redis would. A new connection also pays the TCP
//! handshake's round trip: the client's first bytes reach the server no sooner than
//! three one-way delays after it connected (SYN, SYN-ACK, then the data), and answers
//! take one more delay back. Bytes are forwarded in order, each chunk at its arrival
//! time plus the delay, so pipelined traffic is delayed, not serialized.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const STACK: usize = 128 * 1024;

/// A delay proxy to `upstream` on 127.0.0.1:`port` (0: any free port); returns the port.
/// It runs on background threads for the rest of the process.
pub fn start_delay_proxy(port: u16, upstream: SocketAddr, delay: Duration) -> io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let port = listener.local_addr()?.port();
    spawn(move || {
        for client in listener.incoming().flatten() {
            let accepted = Instant::now();
            spawn(move || connection(client, upstream, delay, accepted));
        }
    });
    Ok(port)
}

fn spawn(f: impl FnOnce() + Send + 'static) {
    thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("cannot start a proxy thread");
}

fn connection(client: TcpStream, upstream: SocketAddr, delay: Duration, accepted: Instant) {
    let Ok(server) = TcpStream::connect(upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    for stream in [&client, &server] {
        let _ = stream.set_nodelay(true);
    }
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    pipe(client, server, delay, accepted + 3 * delay);
    pipe(server2, client2, delay, accepted);
}

/// Forwards `from` to `to`: one thread reads and timestamps, another writes each chunk
/// when it is due.
fn pipe(from: TcpStream, to: TcpStream, delay: Duration, not_before: Instant) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let Ok(mut reader) = from.try_clone() else {
        return;
    };
    spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    });
    spawn(move || {
        precise_sleeps();
        let mut to = to;
        for (arrived, data) in rx {
            let due = (arrived + delay).max(not_before);
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if to.write_all(&data).is_err() {
                break;
            }
        }
        // The source closed (or the destination failed): pass the close on, and stop
        // reading from a source nobody listens to any more.
        let _ = to.shutdown(Shutdown::Write);
        let _ = from.shutdown(Shutdown::Read);
    });
}

/// Lets this thread's sleeps end on time: the default timer slack (50 us) would add to
/// every delayed packet.
fn precise_sleeps() {
    // SAFETY: PR_SET_TIMERSLACK only changes the calling thread's timer slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}
