//! A small HTTP/1.0 client for the web servers the tests start: one request per
//! connection, written in one piece (PHP's built-in server rejects a request that arrives
//! in several writes), with the session cookie PHP sets and reads.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// What a request got back.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The `PHPSESSID` the response set, if any.
    pub session_cookie: Option<String>,
    pub body: String,
    /// From connecting to the last byte.
    pub elapsed: Duration,
}

/// GET `path` from `127.0.0.1:port`, sending `cookie` as `PHPSESSID` if given. A request
/// that cannot connect or gets no answer in `timeout` has status 0.
pub fn get(port: u16, path: &str, cookie: Option<&str>, timeout: Duration) -> Response {
    let started = Instant::now();
    let failed = |body: String| Response {
        status: 0,
        session_cookie: None,
        body,
        elapsed: started.elapsed(),
    };
    let mut stream = match TcpStream::connect(("127.0.0.1", port)) {
        Ok(stream) => stream,
        Err(error) => return failed(format!("connect: {error}")),
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let cookie = cookie
        .map(|c| format!("Cookie: PHPSESSID={c}\r\n"))
        .unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n{cookie}Connection: close\r\n\r\n");
    if let Err(error) = stream.write_all(request.as_bytes()) {
        return failed(format!("write: {error}"));
    }
    let mut response = Vec::new();
    if let Err(error) = stream.read_to_end(&mut response) {
        return failed(format!("read: {error}"));
    }
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    Response {
        status: head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        session_cookie: head
            .lines()
            .filter_map(|l| l.strip_prefix("Set-Cookie: PHPSESSID="))
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
            .next(),
        body: body.to_string(),
        elapsed: started.elapsed(),
    }
}
