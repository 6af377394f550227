//! A small HTTP/1.1 file server on a free loopback port, standing in for a release's
//! download URL: it serves fixed bytes at fixed paths, 404 elsewhere, and records what was
//! asked for (the request heads, header lines included). Stopped on drop.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

pub(crate) struct FileServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FileServer {
    /// Serves each `(path, bytes)`; the query string is ignored when matching.
    pub(crate) fn start(files: Vec<(String, Vec<u8>)>) -> FileServer {
        FileServer::start_with(files, None)
    }

    /// A server that answers every connection with `answer` at once, whatever is asked,
    /// and closes it: e.g. plain text where a client expects a TLS handshake.
    pub(crate) fn answering(answer: &[u8]) -> FileServer {
        FileServer::start_with(vec![], Some(answer.to_vec()))
    }

    fn start_with(files: Vec<(String, Vec<u8>)>, answer: Option<Vec<u8>>) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(vec![]));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    match (stream, &answer) {
                        (Ok(mut stream), Some(answer)) => {
                            let _ = stream.write_all(answer);
                        }
                        (Ok(stream), None) => serve(stream, &files, &requests),
                        (Err(_), _) => {}
                    }
                }
            })
        };
        FileServer {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The request lines received so far (`GET /path HTTP/1.1`).
    pub(crate) fn requests(&self) -> Vec<String> {
        self.heads()
            .iter()
            .map(|head| head.lines().next().unwrap_or("").to_string())
            .collect()
    }

    /// The request heads received so far: the request line and the header lines.
    pub(crate) fn heads(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(mut stream: TcpStream, files: &[(String, Vec<u8>)], requests: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let request_line = head.lines().next().unwrap_or("").to_string();
    requests.lock().unwrap().push(head);
    let target = request_line.split(' ').nth(1).unwrap_or("");
    let path = target.split('?').next().unwrap_or("");
    let response = match files.iter().find(|(p, _)| p == path) {
        Some((_, body)) => {
            let mut response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            response.extend_from_slice(body);
            response
        }
        None => {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
    };
    let _ = stream.write_all(&response);
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
