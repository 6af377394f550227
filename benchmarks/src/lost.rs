//! Lost writes: one session, `requests` concurrent requests that each add one visit while
//! holding the session for `hold_ms`, then one more request to read the count
//! (test-support's trial, which the end-to-end tests assert on), counted.

use crate::json::Json;

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

pub fn trial(port: u16, requests: u32, hold_ms: u32) -> Result<Trial, String> {
    let visits =
        test_support::concurrent_visits(port, requests, hold_ms).map_err(|e| e.to_string())?;
    Ok(Trial {
        requests: visits.requests,
        lost: visits.lost,
        failed: visits.failed,
        seconds: visits.seconds,
    })
}
