//! Real parts for the end-to-end tests: the buildpack as Heroku runs it, a redis-server on
//! a free loopback port, a Redis client speaking RESP, PHP run through the dyno's boot.
#![allow(dead_code)]

pub mod http;
pub mod lifecycle;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Every password the tests use contains this marker; the test command fails if it shows
/// up anywhere in the test output, and [`assert_no_secret`] checks captured output.
pub const SECRET_MARKER: &str = "Sekr1t";

/// Every printable ASCII character, including the ones that break hand-written parsers:
/// `,` and space (phpredis splits on them), `&`, `+`, `%`, `#`, `=`, `?`, `@`, `:`, quotes.
pub fn awkward_password() -> String {
    let printable: String = (0x20u8..0x7f).map(char::from).collect();
    format!("{SECRET_MARKER}{printable}")
}

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Percent-encodes every byte that is not unreserved, as a URL's user info wants it.
pub fn url_encode(value: &str) -> String {
    url_encode_bytes(value.as_bytes())
}

pub fn url_encode_bytes(value: &[u8]) -> String {
    value
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What secret `text` shows, if any: the marker, or a raw or percent-encoded password.
fn shown_password(text: &str, passwords: &[&str]) -> Option<&'static str> {
    if text.contains(SECRET_MARKER) {
        return Some("a test password");
    }
    passwords.iter().find_map(|password| {
        if text.contains(password) {
            Some("a password")
        } else if text.contains(&url_encode(password)) {
            Some("an encoded password")
        } else {
            None
        }
    })
}

/// Fails if `text` shows a secret: the marker, a raw or encoded password, or an auth query.
pub fn assert_no_secret(what: &str, text: &str, passwords: &[&str]) {
    if let Some(secret) = shown_password(text, passwords) {
        panic!("{what} shows {secret}");
    }
    assert!(!text.contains("auth="), "{what} shows a save path");
    assert!(!text.contains("auth[]="), "{what} shows a save path");
}

/// Every file under `dir`, read as bytes, must be free of passwords. (The helper binary
/// holds "auth=" as a format string, so only passwords are looked for here.)
pub fn assert_tree_has_no_secret(dir: &Path, passwords: &[&str]) {
    for entry in walk(dir) {
        if entry.is_file() {
            let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
            if let Some(secret) = shown_password(&text, passwords) {
                panic!("{} holds {secret}", entry.display());
            }
        }
    }
}

/// `MODE PATH` for everything under `dir`, in path order: what a build wrote, and how.
pub fn mode_listing(dir: &Path) -> Vec<String> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let mode = std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(&p).unwrap().permissions(),
            );
            format!(
                "{:o} {}",
                mode & 0o7777,
                p.strip_prefix(dir).unwrap().display()
            )
        })
        .collect()
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                stack.push(path.clone());
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Declares each named test function (taking `&Runtime`) twice: `host::NAME` on the
/// host's PHP 8.2 with phpredis 5.3.7 and Redis 7, and `phpredis6::NAME` in the Debian 13
/// runtime with PHP 8.4, phpredis 6 and Redis 8.
#[allow(unused_macros)]
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
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
    pub fn host() -> Runtime {
        Runtime::Host
    }

    /// The phpredis 6 runtime; the test command builds it (`scripts/trixie-runtime.sh ensure`).
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

    pub fn is_trixie(&self) -> bool {
        matches!(self, Runtime::Trixie { .. })
    }

    /// `program args` in this runtime with a clean environment (PATH only) plus `env`,
    /// in `cwd`; on trixie, `binds` are the host directories it needs to see.
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

/// A self-signed certificate for 127.0.0.1 and localhost, and a CA that did not sign it.
pub struct TlsFiles {
    pub dir: tempfile::TempDir,
}

impl TlsFiles {
    pub fn create() -> TlsFiles {
        let dir = tempfile::tempdir().unwrap();
        for (name, san) in [
            ("server", "IP:127.0.0.1,DNS:localhost"),
            ("other", "DNS:other.example"),
        ] {
            let status = Command::new("openssl")
                .args([
                    "req",
                    "-x509",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=redis-test",
                ])
                .arg("-keyout")
                .arg(dir.path().join(format!("{name}.key")))
                .arg("-out")
                .arg(dir.path().join(format!("{name}.pem")))
                .args(["-addext", &format!("subjectAltName={san}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "openssl could not make a certificate");
        }
        // Readable from inside the runtime, whoever runs redis-server there.
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            std::fs::set_permissions(
                entry.unwrap().path(),
                std::os::unix::fs::PermissionsExt::from_mode(0o644),
            )
            .unwrap();
        }
        TlsFiles { dir }
    }

    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    pub fn key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }

    /// A CA that did not sign the server's certificate.
    pub fn wrong_ca(&self) -> PathBuf {
        self.dir.path().join("other.pem")
    }
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

/// Copies the contents of `from` into `to` (created if need be), modes included.
///
/// With cp(1), in a child process, as [`copy_file`] does: a file that this (threaded) test
/// process held open for writing would be inherited by every child that another test
/// forks meanwhile, until that child execs, and running the copy then fails with ETXTBSY
/// ("Text file busy"). Copies of executables must never be open for writing here.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    cp(&[&from.join("."), to]);
}

/// Copies one file, mode included; see [`copy_dir`] for why with cp(1).
pub fn copy_file(from: &Path, to: &Path) {
    cp(&[from, to]);
}

/// Writes an executable file (mode 755) from a child process, for the reason given at
/// [`copy_dir`].
pub fn write_executable(path: &Path, contents: &str) {
    let mut child = Command::new("sh")
        .args(["-c", "cat > \"$1\" && chmod 755 \"$1\"", "sh"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(contents.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "writing {path:?} failed");
}

fn cp(paths: &[&Path]) {
    let status = Command::new("cp")
        .arg("-R")
        .arg("--")
        .args(paths)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "cp {paths:?} failed");
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
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs a command with a minimal environment (PATH only, plus `vars`), as Heroku's build
/// does not pass the developer's environment either.
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

/// A redis-server of this test's own, on a free loopback port, stopped on drop.
pub struct Redis {
    pub port: u16,
    /// The TLS port, when started with TLS files.
    pub tls_port: u16,
    pub host: String,
    child: Child,
    _dir: tempfile::TempDir,
    /// Credentials the test client logs in with once the server asks for them.
    auth: Mutex<Vec<String>>,
}

/// How a test's redis-server listens: always plain TCP on `port` (the test's own client
/// uses it); with `tls`, also TLS on `tls_port`.
pub struct RedisOptions<'a> {
    pub runtime: Runtime,
    pub bind: &'a str,
    pub tls: Option<&'a TlsFiles>,
    /// A Redis Cluster node (`cluster-enabled`), its bus on a port of its own.
    pub cluster: bool,
}

impl Redis {
    pub fn start() -> Redis {
        Redis::start_on("127.0.0.1")
    }

    pub fn start_on(bind: &str) -> Redis {
        Redis::start_with(RedisOptions {
            runtime: Runtime::Host,
            bind,
            tls: None,
            cluster: false,
        })
    }

    pub fn start_in(runtime: &Runtime) -> Redis {
        Redis::start_with(RedisOptions {
            runtime: runtime.clone(),
            bind: "127.0.0.1",
            tls: None,
            cluster: false,
        })
    }

    /// Plain TCP on `port` for the test's client, TLS with `tls`'s certificate on `tls_port`.
    pub fn start_tls(runtime: &Runtime, tls: &TlsFiles) -> Redis {
        Redis::start_with(RedisOptions {
            runtime: runtime.clone(),
            bind: "127.0.0.1",
            tls: Some(tls),
            cluster: false,
        })
    }

    pub fn start_with(options: RedisOptions) -> Redis {
        for _ in 0..5 {
            let port = free_port();
            let tls_port = free_port();
            let dir = tempfile::tempdir().unwrap();
            let mut args: Vec<String> = [
                "--port",
                &port.to_string(),
                "--bind",
                options.bind,
                "--save",
                "",
                "--appendonly",
                "no",
            ]
            .iter()
            .map(|a| a.to_string())
            .collect();
            args.extend([
                "--dir".into(),
                dir.path().display().to_string(),
                "--protected-mode".into(),
                "no".into(),
            ]);
            let mut binds: Vec<&Path> = vec![dir.path()];
            if let Some(tls) = options.tls {
                args.extend([
                    "--tls-port".into(),
                    tls_port.to_string(),
                    "--tls-cert-file".into(),
                    tls.cert().display().to_string(),
                    "--tls-key-file".into(),
                    tls.key().display().to_string(),
                    "--tls-ca-cert-file".into(),
                    tls.cert().display().to_string(),
                    "--tls-auth-clients".into(),
                    "no".into(),
                ]);
                binds.push(tls.dir.path());
                if options.cluster {
                    args.extend(["--tls-cluster".into(), "yes".into()]);
                }
            }
            if options.cluster {
                args.extend([
                    "--cluster-enabled".into(),
                    "yes".into(),
                    "--cluster-port".into(),
                    free_port().to_string(),
                    "--cluster-config-file".into(),
                    dir.path().join("nodes.conf").display().to_string(),
                    "--cluster-node-timeout".into(),
                    "5000".into(),
                ]);
            }
            let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
            let child = options
                .runtime
                .command("redis-server", &args, &[], &binds, dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server must be installed (the test command installs it)");
            let host = if options.bind.contains(':') {
                format!("[{}]", options.bind)
            } else {
                options.bind.to_string()
            };
            let mut redis = Redis {
                port,
                tls_port,
                host,
                child,
                _dir: dir,
                auth: Mutex::new(vec![]),
            };
            if redis.wait_ready() {
                return redis;
            }
        }
        panic!("redis-server did not start");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false; // the port was taken meanwhile
            }
            if let Ok(mut conn) = self.connect_raw()
                && conn.command(&["PING"]) == Reply::Simple("PONG".into())
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn connect_raw(&self) -> std::io::Result<Conn> {
        let address = format!("{}:{}", self.host, self.port);
        let stream = TcpStream::connect(address)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// A connection logged in with the credentials set by [`Redis::require_password`] or
    /// [`Redis::add_user`].
    pub fn connect(&self) -> Conn {
        let mut conn = self.connect_raw().unwrap();
        let auth = self.auth.lock().unwrap().clone();
        if !auth.is_empty() {
            let mut args = vec!["AUTH"];
            args.extend(auth.iter().map(String::as_str));
            assert_eq!(conn.command(&args), Reply::Simple("OK".into()));
        }
        conn
    }

    /// Makes the default user require `password` (binary-safe: set through RESP).
    pub fn require_password(&self, password: &str) {
        let mut conn = self.connect();
        let rule = format!(">{password}");
        assert_eq!(
            conn.command(&["ACL", "SETUSER", "default", "on", "resetpass", &rule]),
            Reply::Simple("OK".into())
        );
        *self.auth.lock().unwrap() = vec![password.to_string()];
    }

    /// Adds an ACL user with all rights and switches the default user off, so that only
    /// this user can log in.
    pub fn add_user(&self, user: &str, password: &str) {
        let mut conn = self.connect();
        let rule = format!(">{password}");
        let reply = conn.command(&["ACL", "SETUSER", user, "on", &rule, "~*", "&*", "+@all"]);
        assert_eq!(reply, Reply::Simple("OK".into()));
        *self.auth.lock().unwrap() = vec![user.to_string(), password.to_string()];
        let mut conn = self.connect();
        assert_eq!(
            conn.command(&["ACL", "SETUSER", "default", "off"]),
            Reply::Simple("OK".into())
        );
    }

    /// The value at `key` in database `db`.
    pub fn get(&self, db: u32, key: &str) -> Option<String> {
        let mut conn = self.connect();
        assert_eq!(
            conn.command(&["SELECT", &db.to_string()]),
            Reply::Simple("OK".into())
        );
        match conn.command(&["GET", key]) {
            Reply::Bulk(value) => Some(value),
            Reply::Nil => None,
            other => panic!("GET: {other:?}"),
        }
    }

    pub fn keys(&self, db: u32) -> Vec<String> {
        let mut conn = self.connect();
        assert_eq!(
            conn.command(&["SELECT", &db.to_string()]),
            Reply::Simple("OK".into())
        );
        match conn.command(&["KEYS", "*"]) {
            Reply::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Reply::Bulk(key) => key,
                    other => panic!("KEYS: {other:?}"),
                })
                .collect(),
            other => panic!("KEYS: {other:?}"),
        }
    }

    pub fn ttl(&self, db: u32, key: &str) -> i64 {
        let mut conn = self.connect();
        conn.command(&["SELECT", &db.to_string()]);
        match conn.command(&["TTL", key]) {
            Reply::Integer(ttl) => ttl,
            other => panic!("TTL: {other:?}"),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(String),
    Nil,
    Array(Vec<Reply>),
}

/// A Redis connection speaking RESP2, enough for the tests.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    pub fn command(&mut self, args: &[&str]) -> Reply {
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend(format!("${}\r\n", arg.len()).bytes());
            request.extend(arg.bytes());
            request.extend(b"\r\n");
        }
        self.writer.write_all(&request).unwrap();
        self.read_reply()
    }

    fn read_reply(&mut self) -> Reply {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let line = line.trim_end_matches("\r\n");
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" => Reply::Simple(rest.into()),
            "-" => Reply::Error(rest.into()),
            ":" => Reply::Integer(rest.parse().unwrap()),
            "$" => {
                let len: i64 = rest.parse().unwrap();
                if len < 0 {
                    return Reply::Nil;
                }
                let mut buf = vec![0; len as usize + 2];
                self.reader.read_exact(&mut buf).unwrap();
                buf.truncate(len as usize);
                Reply::Bulk(String::from_utf8_lossy(&buf).into_owned())
            }
            "*" => {
                let len: i64 = rest.parse().unwrap();
                if len < 0 {
                    return Reply::Nil;
                }
                Reply::Array((0..len).map(|_| self.read_reply()).collect())
            }
            other => panic!("unexpected RESP type {other:?}"),
        }
    }
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
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "php -S did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// GET `path` with an optional session cookie; returns the status, the session cookie
    /// set by the response (if any) and the body.
    pub fn get(&self, path: &str, cookie: Option<&str>) -> (u16, Option<String>, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let cookie = cookie
            .map(|c| format!("Cookie: PHPSESSID={c}\r\n"))
            .unwrap_or_default();
        // One write: PHP's built-in server rejects a request that arrives in pieces.
        let request =
            format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n{cookie}Connection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let set_cookie = head
            .lines()
            .filter_map(|l| l.strip_prefix("Set-Cookie: PHPSESSID="))
            .map(|v| v.split(';').next().unwrap().to_string())
            .next();
        (status, set_cookie, body.to_string())
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Opens a session, sends `concurrency` requests on it at once, each holding the
    /// session for 30 ms while it adds a visit; returns what a last request then sees.
    pub fn concurrent_visits(&self, concurrency: usize) -> serde_json::Value {
        let (status, cookie, body) = self.get("/", None);
        assert_eq!(status, 200, "{body}{}", self.stderr());
        let cookie = cookie.expect("no session cookie");
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..concurrency)
                .map(|_| scope.spawn(|| self.get("/?hold_ms=30", Some(&cookie))))
                .collect();
            for handle in handles {
                let (status, _, body) = handle.join().unwrap();
                assert_eq!(status, 200, "{body}");
            }
        });
        let (_, _, body) = self.get("/", Some(&cookie));
        serde_json::from_str(body.trim()).unwrap()
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
