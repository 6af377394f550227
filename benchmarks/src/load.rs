//! Closed-loop load generator: each client is one thread with its own session cookie,
//! sending one request after another (each on a new connection: PHP's built-in server
//! closes every connection). Latency is connect-to-last-byte, recorded per request;
//! requests that complete during the warmup are not counted.

use crate::output::Num;
use crate::stats;
use serde::Serialize;
use std::time::{Duration, Instant};
use test_support::Response;

pub(crate) struct Settings {
    pub port: u16,
    pub clients: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// The save handler every response must report ("files" or "redis").
    pub expect_handler: String,
}

#[derive(Default)]
pub(crate) struct Outcome {
    /// Latencies (microseconds) of the good responses completed in the measured window.
    pub latencies_us: Vec<u32>,
    pub measured: Duration,
    /// Good responses over the whole run, warmup included.
    pub completed: u64,
    /// Failed requests over the whole run: connection errors, non-200, wrong handler.
    pub errors: u64,
    /// Responses whose visit count did not go up by exactly one for that client.
    pub session_errors: u64,
    pub first_error: Option<String>,
}

impl Outcome {
    pub(crate) fn requests_per_second(&self) -> f64 {
        self.latencies_us.len() as f64 / self.measured.as_secs_f64()
    }

    fn fail(&mut self, what: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what);
        }
    }

    pub(crate) fn merge(outcomes: &[Outcome]) -> Outcome {
        let mut all = Outcome::default();
        for o in outcomes {
            all.latencies_us.extend_from_slice(&o.latencies_us);
            all.measured += o.measured;
            all.completed += o.completed;
            all.errors += o.errors;
            all.session_errors += o.session_errors;
            if all.first_error.is_none() {
                all.first_error.clone_from(&o.first_error);
            }
        }
        all.latencies_us.sort_unstable();
        all
    }

    pub(crate) fn summary(&self) -> Summary {
        let ms = |q| stats::quantile(&self.latencies_us, q).map(|us| Num(f64::from(us) / 1000.0));
        Summary {
            requests: self.latencies_us.len() as u64,
            rps: Num(self.requests_per_second()),
            p50_ms: ms(0.5),
            p90_ms: ms(0.9),
            p99_ms: ms(0.99),
            max_ms: ms(1.0),
            errors: self.errors,
            session_errors: self.session_errors,
            first_error: self.first_error.clone(),
        }
    }
}

/// What a load run (or a row's rounds pooled) measured.
#[derive(Serialize)]
pub(crate) struct Summary {
    pub requests: u64,
    pub rps: Num,
    pub p50_ms: Option<Num>,
    pub p90_ms: Option<Num>,
    pub p99_ms: Option<Num>,
    pub max_ms: Option<Num>,
    pub errors: u64,
    pub session_errors: u64,
    pub first_error: Option<String>,
}

pub(crate) fn run(settings: &Settings) -> Outcome {
    let start = Instant::now();
    let measure_from = start + settings.warmup;
    let end = measure_from + settings.duration;
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..settings.clients)
            .map(|_| scope.spawn(|| client(settings, measure_from, end)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut merged = Outcome::merge(&outcomes);
    merged.measured = settings.duration;
    merged
}

fn client(settings: &Settings, measure_from: Instant, end: Instant) -> Outcome {
    let mut out = Outcome::default();
    let mut session = ClientSession::default();
    loop {
        let sent = Instant::now();
        if sent >= end {
            break;
        }
        let result = test_support::http_get(
            settings.port,
            "/",
            session.id.as_deref(),
            Duration::from_secs(30),
        );
        let done = Instant::now();
        let response = match result {
            Ok(r) if r.status == 200 => r,
            Ok(r) => {
                out.fail(format!("HTTP {}: {}", r.status, r.body.trim()));
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            Err(e) => {
                out.fail(format!("request failed: {e}"));
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let body = response.json().unwrap_or_default();
        if body["save_handler"].as_str() != Some(settings.expect_handler.as_str()) {
            out.fail(format!("unexpected response: {}", response.body.trim()));
            continue;
        }
        out.session_errors += session.follow(&response, body["visits"].as_u64());
        out.completed += 1;
        if done >= measure_from && done < end {
            let us = u32::try_from((done - sent).as_micros()).unwrap_or(u32::MAX);
            out.latencies_us.push(us);
        }
    }
    out
}

/// One client's session: its cookie, and the visit count it last saw.
#[derive(Default)]
struct ClientSession {
    id: Option<String>,
    visits: Option<u64>,
}

impl ClientSession {
    /// Follows a response reporting `visits`; the session errors it shows: the server
    /// lost the session and started another, or the count did not go up by one.
    fn follow(&mut self, response: &Response, visits: Option<u64>) -> u64 {
        let mut errors = 0;
        if let Some(id) = &response.new_session {
            errors += u64::from(self.id.is_some());
            self.id = Some(id.clone());
            self.visits = None;
        }
        if let (Some(v), Some(prev)) = (visits, self.visits)
            && v != prev + 1
        {
            errors += 1;
        }
        self.visits = visits;
        errors
    }
}
