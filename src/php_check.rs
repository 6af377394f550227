//! At build time, asks the PHP that the PHP buildpack installed (`.heroku/php` on classic)
//! whether it loads ext-redis and which version: phpredis before 6.0 ignores the TLS
//! options of a session save path, so `rediss://` URLs cannot work with it.

use crate::boot;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where the PHP buildpack puts PHP in the classic build directory.
pub(crate) const CLASSIC_PHP: &str = ".heroku/php/bin/php";
/// The PHP code the check runs: the app's `auto_prepend_file` as PHP's ini sets it
/// (`prepend HEX`), then `redis VERSION` or `no-redis`.
pub(crate) const PROBE: &str = "echo 'prepend ', bin2hex((string) ini_get('auto_prepend_file')), PHP_EOL, \
     extension_loaded('redis') ? 'redis '.phpversion('redis') : 'no-redis', PHP_EOL;";
/// A PHP that has not answered by then is not going to.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PhpCheck {
    /// No PHP from the PHP buildpack in the build directory.
    Skipped,
    NotLoaded,
    Loaded {
        version: String,
    },
    /// PHP could not be run, or said something unexpected.
    Failed(CheckFailure),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CheckFailure {
    CouldNotRun(String),
    Exited(Option<i32>),
    TimedOut,
    Unexpected,
}

/// What the PHP buildpack's PHP said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    pub(crate) check: PhpCheck,
    /// The `auto_prepend_file` PHP's ini files set, if any: the buildpack's own session
    /// handler, which takes that setting, runs it after itself.
    pub(crate) auto_prepend_file: Option<String>,
}

impl Probe {
    fn failed(failure: CheckFailure) -> Probe {
        Probe {
            check: PhpCheck::Failed(failure),
            auto_prepend_file: None,
        }
    }
}

impl PhpCheck {
    /// phpredis 6.0 is the first whose single-server session handler honours `stream[...]`.
    pub(crate) fn tls_sessions_unsupported(&self) -> bool {
        matches!(self, PhpCheck::Loaded { version } if boot::major_version(version).is_some_and(|major| major < 6))
    }
}

/// Reads the probe's output.
pub(crate) fn interpret(stdout: &str) -> Probe {
    let auto_prepend_file = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("prepend "))
        .and_then(|hex| {
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()?;
            String::from_utf8(bytes).ok()
        })
        .filter(|file| !file.is_empty());
    Probe {
        check: interpret_check(stdout),
        auto_prepend_file,
    }
}

fn interpret_check(stdout: &str) -> PhpCheck {
    // Extensions may print notices before our line: the answer is the last line.
    match stdout.lines().map(str::trim).rfind(|line| !line.is_empty()) {
        Some("no-redis") => PhpCheck::NotLoaded,
        Some(line) => match line.strip_prefix("redis ") {
            Some(version) if boot::major_version(version).is_some() => PhpCheck::Loaded {
                version: version.to_string(),
            },
            _ => PhpCheck::Failed(CheckFailure::Unexpected),
        },
        None => PhpCheck::Failed(CheckFailure::Unexpected),
    }
}

/// Runs the probe with the PHP in `build_dir`, if there is one.
pub(crate) fn check_classic(build_dir: &Path) -> Probe {
    let php = build_dir.join(CLASSIC_PHP);
    if !php.is_file() {
        return Probe {
            check: PhpCheck::Skipped,
            auto_prepend_file: None,
        };
    }
    run_probe(&php, TIMEOUT)
}

/// Runs the probe with the first `php` in `path` (a PATH value), if there is one: on CNB,
/// heroku/php's layers put its PHP there for the buildpacks after it.
pub(crate) fn check_on_path(path: &str) -> Probe {
    let found = std::env::split_paths(path)
        .map(|dir| dir.join("php"))
        .find(|php| {
            php.metadata().is_ok_and(|m| {
                m.is_file()
                    && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
            })
        });
    match found {
        Some(php) => run_probe(&php, TIMEOUT),
        None => Probe {
            check: PhpCheck::Skipped,
            auto_prepend_file: None,
        },
    }
}

pub(crate) fn run_probe(php: &Path, timeout: Duration) -> Probe {
    let child = Command::new(php)
        .args(["-r", PROBE])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => return Probe::failed(CheckFailure::CouldNotRun(error.to_string())),
    };
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Probe::failed(CheckFailure::TimedOut);
            }
        }
    };
    let mut stdout = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_string(&mut stdout);
    }
    if !status.success() {
        return Probe::failed(CheckFailure::Exited(status.code()));
    }
    interpret(&stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests that write a script and run it take turns: while one holds the script open
    /// for writing, a child forked by the other inherits that descriptor until it execs, and
    /// running the script then fails with ETXTBSY ("Text file busy").
    static SCRIPTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn interpret(stdout: &str) -> PhpCheck {
        super::interpret(stdout).check
    }

    #[test]
    fn reads_the_apps_prepend_file() {
        let probe = super::interpret("prepend 2f6170702f702e706870\nredis 6.3.0\n");
        assert_eq!(probe.auto_prepend_file.as_deref(), Some("/app/p.php"));
        for none in [
            "prepend \nredis 6.3.0",
            "redis 6.3.0",
            "prepend 2f6\nno-redis",
            "prepend zz\n",
        ] {
            assert_eq!(super::interpret(none).auto_prepend_file, None, "{none}");
        }
    }

    #[test]
    fn interprets_the_probe() {
        assert_eq!(
            interpret("redis 6.3.0\n"),
            PhpCheck::Loaded {
                version: "6.3.0".into()
            }
        );
        assert_eq!(
            interpret("redis 5.3.7"),
            PhpCheck::Loaded {
                version: "5.3.7".into()
            }
        );
        assert_eq!(interpret("no-redis\n"), PhpCheck::NotLoaded);
        assert_eq!(
            interpret("PHP Notice: something\nredis 6.0.2\n\n"),
            PhpCheck::Loaded {
                version: "6.0.2".into()
            }
        );
        assert_eq!(interpret(""), PhpCheck::Failed(CheckFailure::Unexpected));
        assert_eq!(
            interpret("redis"),
            PhpCheck::Failed(CheckFailure::Unexpected)
        );
        assert_eq!(
            interpret("redis x.y"),
            PhpCheck::Failed(CheckFailure::Unexpected)
        );
    }

    #[test]
    fn tls_support_starts_with_phpredis_6() {
        let loaded = |v: &str| PhpCheck::Loaded { version: v.into() };
        assert!(loaded("5.3.7").tls_sessions_unsupported());
        assert!(loaded("4.3.0").tls_sessions_unsupported());
        assert!(!loaded("6.0.0").tls_sessions_unsupported());
        assert!(!loaded("6.3.0RC1").tls_sessions_unsupported());
        assert!(!loaded("10.0.0").tls_sessions_unsupported());
        assert!(!PhpCheck::NotLoaded.tls_sessions_unsupported());
        assert!(!PhpCheck::Skipped.tls_sessions_unsupported());
    }

    #[test]
    fn missing_php_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check_classic(dir.path()).check, PhpCheck::Skipped);
    }

    #[test]
    fn a_php_that_hangs_times_out() {
        let _turn = SCRIPTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = tempfile::tempdir().unwrap();
        let php = dir.path().join("php");
        std::fs::write(&php, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&php, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let started = Instant::now();
        assert_eq!(
            run_probe(&php, Duration::from_millis(200)).check,
            PhpCheck::Failed(CheckFailure::TimedOut)
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_php_that_fails_is_reported() {
        let _turn = SCRIPTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = tempfile::tempdir().unwrap();
        let php = dir.path().join("php");
        std::fs::write(&php, "#!/bin/sh\necho broken >&2\nexit 3\n").unwrap();
        std::fs::set_permissions(&php, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        assert_eq!(
            run_probe(&php, TIMEOUT).check,
            PhpCheck::Failed(CheckFailure::Exited(Some(3)))
        );
        std::fs::write(&php, "not a program").unwrap();
        assert!(matches!(
            run_probe(&php, TIMEOUT).check,
            PhpCheck::Failed(CheckFailure::CouldNotRun(_))
        ));
    }
}
