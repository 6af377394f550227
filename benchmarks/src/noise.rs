//! How busy the machine was with other people's work while the benchmark ran: every
//! second, the CPU time of every process outside this run's session (the kernel's own
//! threads left out), as a share of the machine's capacity, by phase. A process that
//! both starts and ends between two samples is missed, so the figures are a floor.

use crate::cli::NoiseArgs;
use crate::output::{Num, write_json};
use crate::sys;
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Others' CPU use during one phase of the benchmark, in noise.json.
#[derive(Serialize)]
#[allow(
    clippy::struct_field_names,
    reason = "the fields are noise.json's keys"
)]
struct Phase {
    phase: String,
    seconds: usize,
    others_cpu_mean_pct: Num,
    others_cpu_max_pct: Num,
}

/// Per-process CPU time in clock ticks, keyed by pid and start time (pids are reused).
type Snapshot = HashMap<(u32, u64), u64>;

#[allow(
    clippy::similar_names,
    reason = "utime and stime are the names proc(5) gives the fields"
)]
fn snapshot(own_session: u32) -> Snapshot {
    let mut out = Snapshot::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command name is in parentheses and may hold spaces: split after it.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // fields[0] is field 3 (state): session is field 6, utime 14, stime 15, start 22.
        let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
        let (Some(session), Some(utime), Some(stime), Some(start)) =
            (field(6), field(14), field(15), field(22))
        else {
            continue;
        };
        if session == 0 || session == u64::from(own_session) {
            continue;
        }
        out.insert((pid, start), utime + stime);
    }
    out
}

pub(crate) fn run(args: &NoiseArgs) -> anyhow::Result<()> {
    let own_session = args.session;
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get) as f64;
    let ticks = sys::clock_ticks_per_second();
    // phase -> per-second shares of the machine used by others (0..=1)
    let mut phases: Vec<(String, Vec<f64>)> = vec![];
    let mut previous = snapshot(own_session);
    let mut last = Instant::now();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let phase = std::fs::read_to_string(&args.phase_file).unwrap_or_default();
        let phase = phase.trim();
        let current = snapshot(own_session);
        let now = Instant::now();
        let used: u64 = current
            .iter()
            .map(|(key, &cpu)| cpu.saturating_sub(previous.get(key).copied().unwrap_or(0)))
            .sum();
        let share = used as f64 / ticks / (now - last).as_secs_f64() / cpus;
        previous = current;
        last = now;
        if phase == "stop" {
            break;
        }
        if phase.is_empty() {
            continue;
        }
        match phases.last_mut() {
            Some((name, samples)) if name == phase => samples.push(share),
            _ => phases.push((phase.to_string(), vec![share])),
        }
    }
    let report: Vec<Phase> = phases
        .into_iter()
        .map(|(phase, samples)| Phase {
            seconds: samples.len(),
            others_cpu_mean_pct: Num(100.0 * samples.iter().sum::<f64>() / samples.len() as f64),
            others_cpu_max_pct: Num(100.0 * samples.iter().copied().fold(0.0, f64::max)),
            phase,
        })
        .collect();
    write_json(&args.out, &report)
}
