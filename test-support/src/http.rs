//! HTTP/1.0 on loopback, as PHP's built-in web server speaks it: one GET with the session
//! cookie, and the lost-write trial the tests assert on and the benchmarks count.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A response to [`http_get`].
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// PHPSESSID from a Set-Cookie header, when the response starts a session.
    pub new_session: Option<String>,
    pub body: String,
}

impl Response {
    /// The body as JSON, as example/public/index.php answers.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(self.body.trim()).ok()
    }

    /// The `visits` that example/public/index.php reports.
    pub fn visits(&self) -> Option<u64> {
        self.json()?["visits"].as_u64()
    }

    /// The `save_handler` that example/public/index.php reports.
    pub fn save_handler(&self) -> Option<String> {
        Some(self.json()?["save_handler"].as_str()?.to_string())
    }
}

/// GET `path` from 127.0.0.1:`port` on a new connection, with the session cookie if any.
pub fn http_get(
    port: u16,
    path: &str,
    session: Option<&str>,
    timeout: Duration,
) -> io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    let cookie = session
        .map(|id| format!("Cookie: PHPSESSID={id}\r\n"))
        .unwrap_or_default();
    // One write: PHP's built-in server rejects a request that arrives in pieces.
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{cookie}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::with_capacity(1024);
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let invalid = |what| io::Error::new(io::ErrorKind::InvalidData, what);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("no status"))?;
    let new_session = head
        .lines()
        .filter_map(|l| l.strip_prefix("Set-Cookie: PHPSESSID="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
        .next();
    Ok(Response {
        status,
        new_session,
        body: body.to_string(),
    })
}

/// Waits until something accepts connections on 127.0.0.1:`port`; false after `timeout`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// What [`concurrent_visits`] saw.
#[derive(Debug)]
pub struct Visits {
    pub requests: u32,
    /// Visits the concurrent requests added that the session does not hold.
    pub lost: u32,
    /// Concurrent requests that failed or got another session; the first one's error.
    pub failed: u32,
    pub first_failure: Option<String>,
    /// How long the concurrent requests took, together.
    pub seconds: f64,
    /// The last request's response.
    pub last: Response,
}

const VISIT_TIMEOUT: Duration = Duration::from_mins(1);

/// Lost writes, on example/public/index.php at 127.0.0.1:`port`: opens a session, sends
/// `requests` requests on it at once, each adding one visit while it holds the session for
/// `hold_ms`, then one more request that reads the count.
pub fn concurrent_visits(port: u16, requests: u32, hold_ms: u32) -> io::Result<Visits> {
    let unexpected = |what: &str, r: &Response| {
        io::Error::other(format!(
            "unexpected {what} response: HTTP {} {}",
            r.status,
            r.body.trim()
        ))
    };
    // The requests around the measured ones are tried twice when the server resets the
    // connection before answering (PHP's built-in server does, rarely, on a loaded
    // machine): they only set up and read back, and must not fail the measurement.
    let once_more = |cookie: Option<&str>| {
        http_get(port, "/", cookie, VISIT_TIMEOUT).or_else(|error| {
            if error.kind() == io::ErrorKind::ConnectionReset {
                http_get(port, "/", cookie, VISIT_TIMEOUT)
            } else {
                Err(error)
            }
        })
    };
    let first = once_more(None)?;
    let (Some(session), Some(1)) = (first.new_session.clone(), first.visits()) else {
        return Err(unexpected("first", &first));
    };
    let path = format!("/?hold_ms={hold_ms}");
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..requests)
            .map(|_| scope.spawn(|| http_get(port, &path, Some(&session), VISIT_TIMEOUT)))
            .collect();
        handles
            .into_iter()
            .filter_map(|h| match h.join().expect("a request thread panicked") {
                Ok(r) if r.status == 200 && r.new_session.is_none() => None,
                Ok(r) => Some(format!("HTTP {} {}", r.status, r.body.trim())),
                Err(e) => Some(e.to_string()),
            })
            .collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let last = once_more(Some(&session))?;
    let visits = last.visits().ok_or_else(|| unexpected("last", &last))?;
    // The first request counted 1 and the last one counts itself.
    let counted = u32::try_from(visits.saturating_sub(2)).unwrap_or(u32::MAX);
    Ok(Visits {
        requests,
        lost: requests.saturating_sub(counted),
        failed: u32::try_from(failures.len()).unwrap_or(u32::MAX),
        first_failure: failures.into_iter().next(),
        seconds,
        last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        let r = Response {
            status: 200,
            new_session: None,
            body: "{\"session_id\":\"abc\",\"visits\":12,\"save_handler\":\"redis\"}\n".into(),
        };
        assert_eq!(r.visits(), Some(12));
        assert_eq!(r.save_handler().as_deref(), Some("redis"));
    }
}
