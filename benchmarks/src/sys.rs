//! The few libc calls std does not offer (std links libc already).
#![allow(
    unsafe_code,
    reason = "kill, sysconf, signal and _exit are only reachable through libc"
)]

use std::sync::atomic::{AtomicI32, Ordering};

unsafe extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
    fn sysconf(name: i32) -> i64;
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    fn _exit(status: i32) -> !;
}

const SC_CLK_TCK: i32 = 2;

const SIGINT: i32 = 2;
const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;

/// Kills a whole process group (PHP's built-in server forks its workers into it).
pub(crate) fn kill_group(pgid: u32) {
    if let Ok(pgid) = i32::try_from(pgid)
        && pgid > 1
    {
        // SAFETY: plain syscall on a process group this program created.
        unsafe {
            kill(-pgid, SIGKILL);
        }
    }
}

/// The unit of CPU times in /proc/PID/stat.
pub(crate) fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a system constant.
    let ticks = unsafe { sysconf(SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// What to kill if this program is interrupted: PHP's web servers run in process groups
/// of their own, so Ctrl-C in the terminal would not reach them, and a SIGTERM sent to
/// this program alone would reach neither them nor redis-server. A process group is
/// stored as its negative id, as `kill()` takes it.
static TARGETS: [AtomicI32; 32] = [const { AtomicI32::new(0) }; 32];

fn track(target: i32) {
    for slot in &TARGETS {
        if slot
            .compare_exchange(0, target, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

fn untrack(target: i32) {
    for slot in &TARGETS {
        let _ = slot.compare_exchange(target, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

pub(crate) fn track_group(pgid: u32) {
    track(-i32::try_from(pgid).unwrap_or(0));
}

pub(crate) fn untrack_group(pgid: u32) {
    untrack(-i32::try_from(pgid).unwrap_or(0));
}

pub(crate) fn track_process(pid: u32) {
    track(i32::try_from(pid).unwrap_or(0));
}

pub(crate) fn untrack_process(pid: u32) {
    untrack(i32::try_from(pid).unwrap_or(0));
}

extern "C" fn on_interrupt(signal: i32) {
    for slot in &TARGETS {
        let target = slot.load(Ordering::SeqCst);
        if !(-1..=1).contains(&target) {
            // SAFETY: kill and _exit are async-signal-safe.
            unsafe {
                kill(target, SIGKILL);
            }
        }
    }
    // SAFETY: as above.
    unsafe { _exit(128 + signal) }
}

/// On SIGINT or SIGTERM, kill what is tracked, then exit.
pub(crate) fn kill_tracked_on_interrupt() {
    // SAFETY: installs a handler that only makes async-signal-safe calls.
    unsafe {
        signal(SIGINT, on_interrupt);
        signal(SIGTERM, on_interrupt);
    }
}
