//! One HTTP/1.0 GET to PHP's built-in server on loopback, with the session cookie.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Response {
    pub status: u16,
    /// PHPSESSID from a Set-Cookie header, when the response starts a session.
    pub new_session: Option<String>,
    pub body: String,
}

impl Response {
    /// The `"visits":N` that example/public/index.php reports.
    pub fn visits(&self) -> Option<u64> {
        json_field(&self.body, "visits")?.parse().ok()
    }

    /// The `"save_handler":"..."` that example/public/index.php reports.
    pub fn save_handler(&self) -> Option<&str> {
        Some(json_field(&self.body, "save_handler")?.trim_matches('"'))
    }
}

fn json_field<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let start = body.find(&format!("\"{name}\":"))? + name.len() + 3;
    let rest = &body[start..];
    let end = rest.find([',', '}'])?;
    Some(rest[..end].trim())
}

pub fn get(
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
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no end of headers"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no status"))?;
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
        assert_eq!(r.save_handler(), Some("redis"));
    }
}
