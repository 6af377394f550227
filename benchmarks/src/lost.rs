//! Lost writes: one session, `requests` concurrent requests that each add one visit while
//! holding the session for `hold_ms`, then one more request to read the count
//! (test-support's trial, which the end-to-end tests assert on), counted.

use crate::output::Num;
use anyhow::Context;
use serde::Serialize;

#[derive(Clone, Serialize)]
pub(crate) struct Trial {
    pub requests: u32,
    pub lost: u32,
    pub failed: u32,
    pub seconds: Num,
}

pub(crate) fn trial(port: u16, requests: u32, hold_ms: u32) -> anyhow::Result<Trial> {
    let visits = test_support::concurrent_visits(port, requests, hold_ms)
        .with_context(|| format!("lost-write trial on port {port}"))?;
    Ok(Trial {
        requests: visits.requests,
        lost: visits.lost,
        failed: visits.failed,
        seconds: Num(visits.seconds),
    })
}
