//! The buildpack as Heroku runs it, for the end-to-end tests: assembled from this run's
//! helper, built into a slug, booted as a dyno, and PHP's built-in web server inside it.
//! The generic parts (Redis, runtimes, certificates, secret scans) are the `test-support`
//! crate, shared with the benchmarks.

pub(crate) use test_support::*;

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Declares each named test function (taking `&Runtime`) twice: `host::NAME` on the
/// host's PHP 8.2 with phpredis 5.3.7 and Redis 7, and `phpredis6::NAME` in the Debian 13
/// runtime with PHP 8.4, phpredis 6 and Redis 8.
macro_rules! in_both_runtimes {
    ($($name:ident),* $(,)?) => {
        mod host {
            $(#[test] fn $name() { super::$name(&super::Runtime::host()) })*
        }
        mod phpredis6 {
            $(#[test] fn $name() { super::$name(&super::Runtime::trixie()) })*
        }
    };
}

/// The buildpack as a packaged release lays it out: `bin/`, `lib/`, `buildpack.toml`, and
/// the helper this test run built in `lib/php-redis-sessions`.
pub(crate) struct Buildpack {
    pub dir: tempfile::TempDir,
}

impl Buildpack {
    pub(crate) fn assemble() -> Buildpack {
        let dir = tempfile::tempdir().unwrap();
        let repo = repo_dir();
        copy_dir(&repo.join("bin"), &dir.path().join("bin"));
        std::fs::create_dir_all(dir.path().join("lib")).unwrap();
        copy_file(
            &repo.join("lib/find-helper.sh"),
            &dir.path().join("lib/find-helper.sh"),
        );
        copy_file(
            Path::new(env!("CARGO_BIN_EXE_php-redis-sessions")),
            &dir.path().join("lib/php-redis-sessions"),
        );
        copy_file(
            &repo.join("buildpack.toml"),
            &dir.path().join("buildpack.toml"),
        );
        Buildpack { dir }
    }

    pub(crate) fn bin(&self, name: &str) -> PathBuf {
        self.dir.path().join("bin").join(name)
    }
}

/// The result of `bin/detect`, `bin/compile` and `bin/release` on an app, with the slug
/// then moved elsewhere, as Heroku runs it at `/app` rather than where it was built.
pub(crate) struct Slug {
    pub dir: tempfile::TempDir,
    pub detect: Ran,
    pub compile: Ran,
    pub release: Ran,
}

impl Slug {
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The key phpredis keeps session `id` under for this app.
    pub(crate) fn session_key(&self, id: &str) -> String {
        session_key(&self.path().join(".php-redis-sessions"), id)
    }

    /// The key the buildpack's own handler keeps session `id` under for this app: the
    /// id in braces, a hash tag that keeps the session and its lock in one slot.
    pub(crate) fn handler_session_key(&self, id: &str) -> String {
        format!(
            "PHPREDIS_SESSION:{}:{{{id}}}",
            namespace(&self.path().join(".php-redis-sessions"))
        )
    }
}

/// The namespace the build gave the app, from beside `conf.d/` in `root` (the slug's
/// `.php-redis-sessions/` or the CNB layer).
pub(crate) fn namespace(root: &Path) -> String {
    let text =
        std::fs::read_to_string(root.join("namespace")).expect("the build wrote no namespace");
    let namespace = text.trim().to_string();
    assert!(
        namespace.len() == 16 && namespace.bytes().all(|b| b.is_ascii_hexdigit()),
        "{namespace:?}"
    );
    namespace
}

/// `PHPREDIS_SESSION:<namespace>:<id>`: the key of session `id` with phpredis' default
/// prefix and the app's namespace (`root` as for [`namespace`]).
pub(crate) fn session_key(root: &Path, id: &str) -> String {
    format!("PHPREDIS_SESSION:{}:{id}", namespace(root))
}

/// Builds the app in `app` as `build` does, with the PHP of runtime `rt` where the PHP
/// buildpack leaves its own (`.heroku/php/bin/php`), so that compile finds that PHP's
/// phpredis, as it does on Heroku.
pub(crate) fn build_with_php(
    rt: &Runtime,
    buildpack: &Buildpack,
    app: &Path,
    config: &[(&str, &str)],
) -> Slug {
    build_with_php_options(rt, buildpack, app, config, "")
}

/// [`build_with_php`] with `options` for that PHP (such as `-d name=value`, as the PHP
/// buildpack's php.ini would set it).
pub(crate) fn build_with_php_options(
    rt: &Runtime,
    buildpack: &Buildpack,
    app: &Path,
    config: &[(&str, &str)],
    options: &str,
) -> Slug {
    let with_php = tempfile::tempdir().unwrap();
    copy_dir(app, with_php.path());
    let bin = with_php.path().join(".heroku/php/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let php = match rt {
        Runtime::Host => format!("exec php {options} \"$@\""),
        Runtime::Trixie { script } => {
            format!("exec {} run -- php {options} \"$@\"", script.display())
        }
    };
    write_executable(&bin.join("php"), &format!("#!/bin/sh\n{php}\n"));
    build(buildpack, with_php.path(), config)
}

/// The example app with these packages in composer.lock's `packages`.
pub(crate) fn app_with_packages(packages: &[&str]) -> tempfile::TempDir {
    let app = tempfile::tempdir().unwrap();
    copy_dir(&repo_dir().join("example"), app.path());
    let lock_path = app.path().join("composer.lock");
    let mut lock: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock_path).unwrap()).unwrap();
    lock["packages"] = packages
        .iter()
        .map(|name| serde_json::json!({"name": name, "version": "v1.0.0"}))
        .collect();
    std::fs::write(&lock_path, serde_json::to_string_pretty(&lock).unwrap()).unwrap();
    app
}

/// Builds the app in `app` (copied first) with config vars `config` in `ENV_DIR`.
pub(crate) fn build(buildpack: &Buildpack, app: &Path, config: &[(&str, &str)]) -> Slug {
    let build_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let env_dir = tempfile::tempdir().unwrap();
    copy_dir(app, build_dir.path());
    for (name, value) in config {
        std::fs::write(env_dir.path().join(name), value).unwrap();
    }
    let cwd = build_dir.path();
    let detect = run(&buildpack.bin("detect"), &[cwd], cwd, &[]);
    assert_eq!(detect.code, Some(0), "detect declined: {}", detect.stderr);
    let compile = run(
        &buildpack.bin("compile"),
        &[cwd, cache_dir.path(), env_dir.path()],
        cwd,
        &[],
    );
    assert_eq!(
        compile.code,
        Some(0),
        "compile failed: {}{}",
        compile.stdout,
        compile.stderr
    );
    let release = run(&buildpack.bin("release"), &[cwd], cwd, &[]);
    assert_eq!(release.code, Some(0));

    // The dyno: another directory, and the build directory gone.
    let slug = tempfile::tempdir().unwrap();
    copy_dir(build_dir.path(), slug.path());
    std::fs::set_permissions(
        slug.path()
            .join(".php-redis-sessions/bin/php-redis-sessions"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    drop(build_dir);
    Slug {
        dir: slug,
        detect,
        compile,
        release,
    }
}

/// A dyno process: bash sources every `.profile.d` script with `HOME` at the slug, as
/// Heroku does, then runs `command`. `vars` are the app's config vars.
pub(crate) fn dyno_command(
    rt: &Runtime,
    slug: &Path,
    vars: &[(&str, &str)],
    command: &str,
) -> Command {
    let env: Vec<(&str, &OsStr)> = vars.iter().map(|(n, v)| (*n, OsStr::new(*v))).collect();
    dyno_command_os(rt, slug, &env, command)
}

pub(crate) fn dyno_command_os(
    rt: &Runtime,
    slug: &Path,
    vars: &[(&str, &OsStr)],
    command: &str,
) -> Command {
    let script =
        format!("for f in \"$HOME\"/.profile.d/*.sh; do . \"$f\"; done\ncd \"$HOME\"\n{command}");
    let mut env: Vec<(&str, &OsStr)> = vec![("HOME", slug.as_os_str())];
    env.extend_from_slice(vars);
    let php_dir = repo_dir().join("tests/php");
    rt.command(
        "bash",
        &[OsStr::new("-c"), OsStr::new(&script)],
        &env,
        &[slug, &php_dir],
        slug,
    )
}

pub(crate) fn dyno_run(rt: &Runtime, slug: &Path, vars: &[(&str, &str)], command: &str) -> Ran {
    dyno_command(rt, slug, vars, command)
        .output()
        .unwrap()
        .into()
}

/// What tests/php/session.php reports.
#[derive(Debug)]
pub(crate) struct SessionReport {
    pub started: bool,
    pub closed: bool,
    pub session_id: String,
    pub visits: Option<u64>,
    pub save_handler: String,
    pub redis_version: String,
}

impl SessionReport {
    pub(crate) fn parse(text: &str) -> Option<SessionReport> {
        let value: serde_json::Value = serde_json::from_str(text.trim()).ok()?;
        Some(SessionReport {
            started: value["started"].as_bool()?,
            closed: value["closed"].as_bool()?,
            session_id: value["session_id"].as_str()?.to_string(),
            visits: value["visits"].as_u64(),
            save_handler: value["save_handler"].as_str()?.to_string(),
            redis_version: value["redis"].as_str().unwrap_or("").to_string(),
        })
    }
}

/// Runs the session driver once in a booted dyno, sending `id` as the session cookie.
pub(crate) fn php_session(
    rt: &Runtime,
    slug: &Path,
    vars: &[(&str, &str)],
    id: &str,
) -> (SessionReport, Ran) {
    let ran = php_session_raw(rt, slug, vars, id);
    session_report(ran)
}

/// Runs the session driver once in a booted dyno, starting a new session whose id the
/// server picks: `id`.
pub(crate) fn php_new_session(
    rt: &Runtime,
    slug: &Path,
    vars: &[(&str, &str)],
    id: &str,
) -> (SessionReport, Ran) {
    let script = repo_dir().join("tests/php/session.php");
    let mut all: Vec<(&str, &str)> = vars.to_vec();
    all.push(("NEW_SESSION_ID", id));
    session_report(dyno_run(
        rt,
        slug,
        &all,
        &format!("php {}", script.display()),
    ))
}

fn session_report(ran: Ran) -> (SessionReport, Ran) {
    assert_eq!(ran.code, Some(0), "php failed: {}", ran.all());
    let report = SessionReport::parse(&ran.stdout)
        .unwrap_or_else(|| panic!("php printed no report: {}", ran.all()));
    (report, ran)
}

/// The session driver's run, whatever its outcome.
pub(crate) fn php_session_raw(rt: &Runtime, slug: &Path, vars: &[(&str, &str)], id: &str) -> Ran {
    let script = repo_dir().join("tests/php/session.php");
    let mut all: Vec<(&str, &str)> = vars.to_vec();
    all.push(("SESSION_ID", id));
    dyno_run(rt, slug, &all, &format!("php {}", script.display()))
}

/// A web server serving the app in a booted dyno: GET with the session cookie, and the
/// dyno's log.
pub(crate) trait Web {
    fn port(&self) -> u16;

    /// What the dyno logged so far.
    fn log(&self) -> String;

    /// GET `path` with an optional session cookie (a minute's patience); a request that
    /// gets no answer has status 0 and the error as its body.
    fn request(&self, path: &str, cookie: Option<&str>) -> Answer {
        let started = Instant::now();
        match http_get(self.port(), path, cookie, Duration::from_mins(1)) {
            Ok(response) => Answer {
                status: response.status,
                session_cookie: response.new_session,
                body: response.body,
                elapsed: started.elapsed(),
            },
            Err(error) => Answer {
                status: 0,
                session_cookie: None,
                body: error.to_string(),
                elapsed: started.elapsed(),
            },
        }
    }

    /// GET `path`: the status, the session cookie the response set (if any), the body.
    fn get(&self, path: &str, cookie: Option<&str>) -> (u16, Option<String>, String) {
        let answer = self.request(path, cookie);
        (answer.status, answer.session_cookie, answer.body)
    }

    /// Opens a session, sends `concurrency` requests on it at once, each holding the
    /// session for 30 ms while it adds a visit; checks that every request was served by
    /// phpredis' handler and returns what a last request then saw.
    fn concurrent_visits(&self, concurrency: u32) -> Visits {
        self.concurrent_visits_through(concurrency, "redis")
    }

    /// [`Web::concurrent_visits`], served by the handler PHP calls `save_handler`
    /// (`user` for the buildpack's own).
    fn concurrent_visits_through(&self, concurrency: u32, save_handler: &str) -> Visits {
        let visits = concurrent_visits(self.port(), concurrency, 30)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.log()));
        assert_eq!(
            visits.failed,
            0,
            "{:?}\n{}",
            visits.first_failure,
            self.log()
        );
        assert_eq!(visits.last.save_handler().as_deref(), Some(save_handler));
        visits
    }
}

/// What a request through a [`Web`] got.
pub(crate) struct Answer {
    pub status: u16,
    /// The `PHPSESSID` the response set, if any.
    pub session_cookie: Option<String>,
    pub body: String,
    /// From connecting to the last byte.
    pub elapsed: Duration,
}

/// A process group started in a dyno, its stderr in a file, stopped on drop.
struct Running {
    child: Child,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl Running {
    fn spawn(mut command: Command) -> Running {
        let log_dir = tempfile::tempdir().unwrap();
        let log = log_dir.path().join("dyno.log");
        let child = command
            .process_group(0)
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::OpenOptions::new().append(true).open(&log).unwrap())
            .spawn()
            .unwrap();
        Running {
            child,
            log,
            _log_dir: log_dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Everything it started (workers, the front end) is in its process group.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// PHP's built-in web server with several workers, inside a booted dyno.
pub(crate) struct WebServer {
    pub port: u16,
    running: Running,
}

impl WebServer {
    pub(crate) fn start(
        rt: &Runtime,
        slug: &Path,
        vars: &[(&str, &str)],
        docroot: &str,
        workers: u32,
    ) -> WebServer {
        let port = free_port();
        let mut vars = vars.to_vec();
        let workers = workers.to_string();
        vars.push(("PHP_CLI_SERVER_WORKERS", &workers));
        let running = Running::spawn(dyno_command(
            rt,
            slug,
            &vars,
            &format!("exec php -S 127.0.0.1:{port} -t {docroot}"),
        ));
        assert!(
            wait_for_port(port, Duration::from_secs(10)),
            "php -S did not start"
        );
        WebServer { port, running }
    }
}

impl Web for WebServer {
    fn port(&self) -> u16 {
        self.port
    }

    fn log(&self) -> String {
        self.running.log()
    }
}

/// A web dyno as Heroku runs PHP: php-fpm behind nginx or Apache, started after the
/// `.profile.d` scripts, so from the environment boot made.
pub(crate) struct WebDyno {
    pub stack: WebStack,
    running: Running,
    _dir: tempfile::TempDir,
}

impl WebDyno {
    pub(crate) fn start(
        rt: &Runtime,
        slug: &Path,
        vars: &[(&str, &str)],
        frontend: Frontend,
        workers: u32,
    ) -> WebDyno {
        // Inside the slug, which the Debian 13 runtime sees too.
        let dir = tempfile::Builder::new()
            .prefix(".web-")
            .tempdir_in(slug)
            .unwrap();
        // The test pages (tests/php/web): count a visit, read only, the app's own phpredis.
        let docroot = dir.path().join("docroot");
        copy_dir(&repo_dir().join("tests/php/web"), &docroot);
        let stack = WebStack::write(dir.path(), &docroot, free_port(), frontend, workers, &[]);
        let running = Running::spawn(dyno_command(
            rt,
            slug,
            vars,
            &format!("exec bash {}", stack.run_script().display()),
        ));
        let dyno = WebDyno {
            stack,
            running,
            _dir: dir,
        };
        if let Err(error) = dyno.stack.wait_ready("/__ready.php") {
            panic!("{error}\n{}", dyno.log());
        }
        dyno
    }
}

impl Web for WebDyno {
    fn port(&self) -> u16 {
        self.stack.port
    }

    fn log(&self) -> String {
        self.running.log()
    }
}
