//! Running commands, and what the tests need to keep them apart: ports and session ids.

use crate::runtime::Runtime;
use std::ffi::OsStr;
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;

/// A session id no other test uses, in this run or an earlier one: file sessions share
/// one directory (kept between runs in the cached runtime), and tests run in parallel.
pub fn unique_session_id(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}{}x{n}x{nanos}", std::process::id())
}

/// A loopback port nobody listens on right now.
#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Output of a command as text, both streams.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Ran {
    fn from(output: Output) -> Ran {
        Ran {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Ran {
    #[must_use]
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs a command with a minimal environment (PATH only, plus `vars`), as Heroku's build
/// does not pass the developer's environment either.
#[must_use]
pub fn run(program: &Path, args: &[&Path], cwd: &Path, vars: &[(&str, &str)]) -> Ran {
    let args: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let env: Vec<(&str, &OsStr)> = vars.iter().map(|(n, v)| (*n, OsStr::new(*v))).collect();
    let program = program.to_str().expect("test paths are UTF-8");
    Runtime::Host
        .command(program, &args, &env, &[], cwd)
        .output()
        .unwrap()
        .into()
}
