//! The buildpack as Heroku runs it, for the end-to-end tests: assembled from this run's
//! helper, built into a slug, booted as a dyno, and PHP's built-in web server inside it.
//! The generic parts (Redis, runtimes, certificates, secret scans) are the `test-support`
//! crate, shared with the benchmarks.

pub use test_support::*;

use std::ffi::OsStr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
pub struct Buildpack {
    pub dir: tempfile::TempDir,
}

impl Buildpack {
    pub fn assemble() -> Buildpack {
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

    pub fn bin(&self, name: &str) -> PathBuf {
        self.dir.path().join("bin").join(name)
    }
}

/// The result of `bin/detect`, `bin/compile` and `bin/release` on an app, with the slug
/// then moved elsewhere, as Heroku runs it at `/app` rather than where it was built.
pub struct Slug {
    pub dir: tempfile::TempDir,
    pub detect: Ran,
    pub compile: Ran,
    pub release: Ran,
}

impl Slug {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Builds the app in `app` (copied first) with config vars `config` in ENV_DIR.
pub fn build(buildpack: &Buildpack, app: &Path, config: &[(&str, &str)]) -> Slug {
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
pub fn dyno_command(rt: &Runtime, slug: &Path, vars: &[(&str, &str)], command: &str) -> Command {
    let env: Vec<(&str, &OsStr)> = vars.iter().map(|(n, v)| (*n, OsStr::new(*v))).collect();
    dyno_command_os(rt, slug, &env, command)
}

pub fn dyno_command_os(
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

pub fn dyno_run(rt: &Runtime, slug: &Path, vars: &[(&str, &str)], command: &str) -> Ran {
    dyno_command(rt, slug, vars, command)
        .output()
        .unwrap()
        .into()
}

/// What tests/php/session.php reports.
#[derive(Debug)]
pub struct SessionReport {
    pub started: bool,
    pub closed: bool,
    pub session_id: String,
    pub visits: Option<u64>,
    pub save_handler: String,
    pub redis_version: String,
}

impl SessionReport {
    pub fn parse(text: &str) -> Option<SessionReport> {
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

/// Runs the session driver once in a booted dyno for session `id`.
pub fn php_session(
    rt: &Runtime,
    slug: &Path,
    vars: &[(&str, &str)],
    id: &str,
) -> (SessionReport, Ran) {
    let ran = php_session_raw(rt, slug, vars, id);
    assert_eq!(ran.code, Some(0), "php failed: {}", ran.all());
    let report = SessionReport::parse(&ran.stdout)
        .unwrap_or_else(|| panic!("php printed no report: {}", ran.all()));
    (report, ran)
}

/// The session driver's run, whatever its outcome.
pub fn php_session_raw(rt: &Runtime, slug: &Path, vars: &[(&str, &str)], id: &str) -> Ran {
    let script = repo_dir().join("tests/php/session.php");
    let mut all: Vec<(&str, &str)> = vars.to_vec();
    all.push(("SESSION_ID", id));
    dyno_run(rt, slug, &all, &format!("php {}", script.display()))
}

/// PHP's built-in web server with several workers, inside a booted dyno.
pub struct WebServer {
    pub port: u16,
    child: Child,
    pub stderr_path: PathBuf,
}

impl WebServer {
    pub fn start(
        rt: &Runtime,
        slug: &Path,
        vars: &[(&str, &str)],
        docroot: &str,
        workers: u32,
    ) -> WebServer {
        let port = free_port();
        let log_dir = tempfile::tempdir().unwrap().keep();
        let stderr_path = log_dir.join("web-server.log");
        let mut vars = vars.to_vec();
        let workers = workers.to_string();
        vars.push(("PHP_CLI_SERVER_WORKERS", &workers));
        let child = dyno_command(
            rt,
            slug,
            &vars,
            &format!("exec php -S 127.0.0.1:{port} -t {docroot}"),
        )
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
        let server = WebServer {
            port,
            child,
            stderr_path,
        };
        assert!(
            wait_for_port(port, Duration::from_secs(10)),
            "php -S did not start"
        );
        server
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Opens a session, sends `concurrency` requests on it at once, each holding the
    /// session for 30 ms while it adds a visit; checks that every request was served by
    /// phpredis' handler and returns what a last request then saw.
    pub fn concurrent_visits(&self, concurrency: u32) -> Visits {
        let visits = concurrent_visits(self.port, concurrency, 30)
            .unwrap_or_else(|e| panic!("{e}\n{}", self.stderr()));
        assert_eq!(visits.failed, 0, "{:?}", visits.first_failure);
        assert_eq!(visits.last.save_handler().as_deref(), Some("redis"));
        visits
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        // The workers are children of the main php process: stop the whole group.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        if let Some(dir) = self.stderr_path.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
        let _ = self.child.wait();
    }
}
