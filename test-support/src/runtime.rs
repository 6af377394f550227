//! Where PHP and Redis run: the host, or the cached Debian 13 root filesystem.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository this crate is part of.
#[must_use]
pub fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support sits in the repository")
        .to_path_buf()
}

/// Where PHP and Redis run: the host (Debian 12: PHP 8.2, phpredis 5.3.7, Redis 7) or the
/// cached Debian 13 root filesystem (PHP 8.4, phpredis 6.x, Redis 8) that
/// `scripts/trixie-runtime.sh` builds, entered by chroot. Both share the host's network.
#[derive(Debug, Clone)]
pub enum Runtime {
    Host,
    Trixie { script: PathBuf },
}

impl Runtime {
    #[must_use]
    pub fn host() -> Runtime {
        Runtime::Host
    }

    /// The phpredis 6 runtime; the test command builds it (`scripts/trixie-runtime.sh ensure`).
    #[must_use]
    pub fn trixie() -> Runtime {
        let script = repo_dir().join("scripts/trixie-runtime.sh");
        let out = Command::new(&script).arg("path").output().unwrap();
        let root = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        assert!(
            root.join(".php-redis-sessions-ready").is_file(),
            "the Debian 13 test runtime is missing: run scripts/test.sh, or scripts/trixie-runtime.sh ensure, as root"
        );
        Runtime::Trixie { script }
    }

    #[must_use]
    pub fn is_trixie(&self) -> bool {
        matches!(self, Runtime::Trixie { .. })
    }

    /// `program args` in this runtime with a clean environment (PATH only) plus `env`,
    /// in `cwd`; on trixie, `binds` are the host directories it needs to see.
    #[must_use]
    pub fn command(
        &self,
        program: &str,
        args: &[&OsStr],
        env: &[(&str, &OsStr)],
        binds: &[&Path],
        cwd: &Path,
    ) -> Command {
        match self {
            Runtime::Host => {
                let mut command = Command::new(program);
                command
                    .args(args)
                    .current_dir(cwd)
                    .env_clear()
                    .env("PATH", std::env::var("PATH").unwrap());
                for (name, value) in env {
                    command.env(name, value);
                }
                command.stdin(Stdio::null());
                command
            }
            Runtime::Trixie { script } => {
                let mut command = Command::new(script);
                command.arg("run");
                for bind in binds {
                    command.arg("--bind").arg(bind);
                }
                for (name, value) in env {
                    let mut pair = std::ffi::OsString::from(format!("{name}="));
                    pair.push(value);
                    command.arg("--env").arg(pair);
                }
                command
                    .arg("--cwd")
                    .arg(cwd)
                    .arg("--")
                    .arg(program)
                    .args(args);
                command.stdin(Stdio::null());
                command
            }
        }
    }
}
