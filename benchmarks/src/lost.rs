//! Lost writes: one session, `requests` concurrent requests that each add one visit while
//! holding the session for `hold_ms`, then one more request to read the count. As in
//! tests/classic_e2e.rs, but counted instead of asserted.

use crate::http;
use crate::json::Json;
use std::time::{Duration, Instant};

pub struct Trial {
    pub requests: u32,
    pub lost: u32,
    pub failed: u32,
    pub seconds: f64,
}

impl Trial {
    pub fn to_json(&self) -> Json {
        Json::obj(vec![
            ("requests", Json::Int(i64::from(self.requests))),
            ("lost", Json::Int(i64::from(self.lost))),
            ("failed", Json::Int(i64::from(self.failed))),
            ("seconds", Json::Num(self.seconds)),
        ])
    }
}

const TIMEOUT: Duration = Duration::from_secs(60);

pub fn trial(port: u16, requests: u32, hold_ms: u32) -> Result<Trial, String> {
    let first = http::get(port, "/", None, TIMEOUT).map_err(|e| e.to_string())?;
    let session = first
        .new_session
        .clone()
        .ok_or("the first response set no session cookie")?;
    if first.visits() != Some(1) {
        return Err(format!("unexpected first response: {}", first.body.trim()));
    }
    let path = format!("/?hold_ms={hold_ms}");
    let started = Instant::now();
    let failed = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..requests)
            .map(|_| scope.spawn(|| http::get(port, &path, Some(&session), TIMEOUT)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|r| !matches!(r, Ok(r) if r.status == 200 && r.new_session.is_none()))
            .count() as u32
    });
    let seconds = started.elapsed().as_secs_f64();
    let last = http::get(port, "/", Some(&session), TIMEOUT).map_err(|e| e.to_string())?;
    let visits = last
        .visits()
        .ok_or_else(|| format!("unexpected last response: {}", last.body.trim()))?;
    // The first request counted 1 and the last one counts itself.
    let counted = u32::try_from(visits.saturating_sub(2)).unwrap_or(u32::MAX);
    Ok(Trial {
        requests,
        lost: requests.saturating_sub(counted),
        failed,
        seconds,
    })
}
