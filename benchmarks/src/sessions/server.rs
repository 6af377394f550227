//! The web server that serves the app to the load generator: one pluggable piece. A
//! [`ServerKind`] starts a [`WebServer`] for a [`Site`] (what a setup asks of PHP); the
//! rest of the benchmark sees only [`Server`]: a port, checked to reach the expected save
//! handler, and the warnings PHP logged. Two kinds: php-fpm behind nginx, as a Heroku web
//! dyno serves PHP (the default), and PHP's built-in server.

use crate::cli::ServerKind;
use crate::sys;
use anyhow::{Context, anyhow, bail};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use test_support::{Frontend, WebStack};

/// What a setup asks of the web server: the app, PHP's settings and the app's config vars.
pub(super) struct Site {
    /// The slug: the dyno's HOME and working directory; its `public/` is the document root.
    pub slug: PathBuf,
    /// Source the slug's `.profile.d` scripts first, as a dyno boots.
    pub boot: bool,
    /// php.ini settings, given to PHP as `-d NAME=VALUE`.
    pub ini: Vec<(&'static str, String)>,
    /// Config vars: the environment besides PATH and HOME.
    pub env: Vec<(&'static str, String)>,
    /// PHP worker processes.
    pub workers: u32,
    /// Where PHP's and the server's stderr goes (appended).
    pub log: PathBuf,
}

impl ServerKind {
    fn start(self, site: &Site, port: u16) -> anyhow::Result<Box<dyn WebServer>> {
        match self {
            ServerKind::FpmNginx => Ok(Box::new(FpmNginx::start(site, port)?)),
            ServerKind::PhpBuiltin => Ok(Box::new(PhpBuiltin::start(site, port)?)),
        }
    }
}

/// A running web server of some kind, serving a [`Site`] on 127.0.0.1.
pub(super) trait WebServer {
    fn port(&self) -> u16;
    /// Stops it and everything it started; a second call does nothing.
    fn stop(&mut self);
    /// Whether a line of its log is one of its own routine messages, not a warning.
    fn is_routine(&self, line: &str) -> bool;
}

/// A web server for one setup, started and checked; stopped on drop.
pub(super) struct Server {
    inner: Box<dyn WebServer>,
    log: PathBuf,
    log_start: u64,
}

impl Server {
    /// Starts `kind` for `site` on a free port (another one if that fails), and checks
    /// that a request reaches the save handler `handler`.
    pub(super) fn start(kind: ServerKind, site: &Site, handler: &str) -> anyhow::Result<Server> {
        let mut last_error = anyhow!("not started");
        for _ in 0..3 {
            let log_start = std::fs::metadata(&site.log).map_or(0, |m| m.len());
            let server = Server {
                inner: kind.start(site, test_support::free_port())?,
                log: site.log.clone(),
                log_start,
            };
            match server.check(handler) {
                Ok(()) => return Ok(server),
                Err(error) => last_error = error,
            }
        }
        Err(last_error)
    }

    pub(super) fn port(&self) -> u16 {
        self.inner.port()
    }

    /// Waits for the server, then checks one request reaches the expected save handler.
    fn check(&self, handler: &str) -> anyhow::Result<()> {
        if !test_support::wait_for_port(self.port(), Duration::from_secs(10)) {
            bail!("the web server did not start");
        }
        let response = test_support::http_get(self.port(), "/", None, Duration::from_secs(30))
            .context("the first request")?;
        if response.status != 200 || response.save_handler().as_deref() != Some(handler) {
            bail!(
                "expected save handler {handler}, got HTTP {} {}; log: {}",
                response.status,
                response.body.trim(),
                self.warnings().join(" | ")
            );
        }
        Ok(())
    }

    /// Warnings and errors logged since this server started.
    pub(super) fn warnings(&self) -> Vec<String> {
        let text = std::fs::read(&self.log).unwrap_or_default();
        let start = usize::try_from(self.log_start).unwrap_or(0).min(text.len());
        String::from_utf8_lossy(&text[start..])
            .lines()
            .filter(|l| !l.trim().is_empty() && !self.inner.is_routine(l))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.inner.stop();
    }
}

/// PHP's built-in web server, in its own process group (its workers are its children).
struct PhpBuiltin {
    port: u16,
    group: ProcessGroup,
}

impl PhpBuiltin {
    fn start(site: &Site, port: u16) -> anyhow::Result<PhpBuiltin> {
        let mut args: Vec<String> = vec![];
        for (name, value) in &site.ini {
            args.extend(["-d".into(), format!("{name}={value}")]);
        }
        let address = format!("127.0.0.1:{port}");
        let docroot = site.slug.join("public").display().to_string();
        args.extend(["-q".into(), "-S".into(), address, "-t".into(), docroot]);
        let mut command = dyno_command(site, "php", &args);
        if site.workers > 1 {
            command.env("PHP_CLI_SERVER_WORKERS", site.workers.to_string());
        }
        let group = ProcessGroup::spawn(command, site).context("starting php -S")?;
        Ok(PhpBuiltin { port, group })
    }
}

impl WebServer for PhpBuiltin {
    fn port(&self) -> u16 {
        self.port
    }

    fn stop(&mut self) {
        self.group.kill();
    }

    fn is_routine(&self, line: &str) -> bool {
        line.contains("Development Server")
    }
}

/// php-fpm behind nginx, configured as test-support's [`WebStack`] writes it, started from
/// the dyno's environment; the site's ini settings set by the pool, over every ini file.
struct FpmNginx {
    port: u16,
    group: ProcessGroup,
    _dir: tempfile::TempDir,
}

impl FpmNginx {
    fn start(site: &Site, port: u16) -> anyhow::Result<FpmNginx> {
        let dir = tempfile::tempdir().context("a directory for php-fpm and nginx")?;
        let values: Vec<(&str, &str)> = site
            .ini
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let stack = WebStack::write(
            dir.path(),
            &site.slug.join("public"),
            port,
            Frontend::Nginx,
            site.workers,
            &values,
        );
        let run = stack.run_script().display().to_string();
        let command = dyno_command(site, "bash", &[run]);
        let group = ProcessGroup::spawn(command, site).context("starting php-fpm and nginx")?;
        stack
            .wait_ready("/__ready.php")
            .map_err(anyhow::Error::msg)?;
        Ok(FpmNginx {
            port,
            group,
            _dir: dir,
        })
    }
}

impl WebServer for FpmNginx {
    fn port(&self) -> u16 {
        self.port
    }

    fn stop(&mut self) {
        self.group.kill();
    }

    fn is_routine(&self, line: &str) -> bool {
        [
            "NOTICE: ",
            "[notice]",
            "*1 open() ",
            "Primary script unknown",
            "signal process",
            // nginx answering the readiness probe before php-fpm made its socket.
            "request: \"GET /__ready.php ",
        ]
        .iter()
        .any(|routine| line.contains(routine))
    }
}

/// `program args` as the dyno would run it: a clean environment (PATH, HOME at the slug,
/// the site's config vars) in the slug, after the `.profile.d` scripts when the site boots.
pub(super) fn dyno_command(site: &Site, program: &str, args: &[String]) -> Command {
    const BOOT: &str = r#"for f in "$HOME"/.profile.d/*.sh; do . "$f"; done
exec "$@""#;
    let mut command = if site.boot {
        let mut c = Command::new("bash");
        c.args(["-c", BOOT, "dyno", program]);
        c
    } else {
        Command::new(program)
    };
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &site.slug)
        .envs(site.env.iter().map(|(name, value)| (name, value)))
        .current_dir(&site.slug);
    command
}

/// A process started in a group of its own, with its stderr appended to the site's log;
/// the whole group is killed on [`ProcessGroup::kill`], on drop, and on Ctrl-C.
pub(super) struct ProcessGroup {
    child: Child,
    killed: bool,
}

impl ProcessGroup {
    pub(super) fn spawn(mut command: Command, site: &Site) -> anyhow::Result<ProcessGroup> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&site.log)
            .with_context(|| format!("opening {}", site.log.display()))?;
        let child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        sys::track_group(child.id());
        Ok(ProcessGroup {
            child,
            killed: false,
        })
    }

    pub(super) fn kill(&mut self) {
        if !std::mem::replace(&mut self.killed, true) {
            sys::kill_group(self.child.id());
            let _ = self.child.wait();
            sys::untrack_group(self.child.id());
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}
