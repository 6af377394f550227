//! The two libc calls std does not offer (std links libc already).

unsafe extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    fn sysconf(name: i32) -> i64;
}

const SC_CLK_TCK: i32 = 2;

const SIGKILL: i32 = 9;
const PR_SET_TIMERSLACK: i32 = 29;

/// Kills a whole process group (PHP's built-in server forks its workers into it).
pub fn kill_group(pgid: u32) {
    if let Ok(pgid) = i32::try_from(pgid)
        && pgid > 1
    {
        // SAFETY: plain syscall on a process group this program created.
        unsafe {
            kill(-pgid, SIGKILL);
        }
    }
}

/// Lets this thread's sleeps end on time: the default timer slack (50 us) would add to
/// every delayed packet.
pub fn precise_sleeps() {
    // SAFETY: PR_SET_TIMERSLACK only changes the calling thread's timer slack.
    unsafe {
        prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0);
    }
}

/// The unit of CPU times in /proc/PID/stat.
pub fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a system constant.
    let ticks = unsafe { sysconf(SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}
