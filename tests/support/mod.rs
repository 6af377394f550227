//! Real parts for the end-to-end tests: the buildpack as Heroku runs it, a redis-server on
//! a free loopback port, a Redis client speaking RESP, PHP run through the dyno's boot.
#![allow(dead_code)]

pub mod http;
pub mod lifecycle;

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
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Fails if `text` shows a secret: the marker, a raw or encoded password, or an auth query.
pub fn assert_no_secret(what: &str, text: &str, passwords: &[&str]) {
    assert!(
        !text.contains(SECRET_MARKER),
        "{what} shows a test password"
    );
    for password in passwords {
        assert!(!text.contains(password), "{what} shows a password");
        assert!(
            !text.contains(&url_encode(password)),
            "{what} shows an encoded password"
        );
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
            let what = entry.display().to_string();
            assert!(
                !text.contains(SECRET_MARKER),
                "{what} holds a test password"
            );
            for password in passwords {
                assert!(!text.contains(password), "{what} holds a password");
                assert!(
                    !text.contains(&url_encode(password)),
                    "{what} holds an encoded password"
                );
            }
        }
    }
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

/// A session id no other test of this run uses: file sessions share one directory, and
/// tests run in parallel.
pub fn unique_session_id(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{prefix}{}x{n}", std::process::id())
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap());
    for (name, value) in vars {
        command.env(name, value);
    }
    command.stdin(Stdio::null()).output().unwrap().into()
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
pub fn dyno_command(slug: &Path, vars: &[(&str, &str)], command: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(format!(
            "for f in \"$HOME\"/.profile.d/*.sh; do . \"$f\"; done\ncd \"$HOME\"\n{command}"
        ))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", slug)
        .current_dir(slug)
        .stdin(Stdio::null());
    for (name, value) in vars {
        cmd.env(name, value);
    }
    cmd
}

pub fn dyno_run(slug: &Path, vars: &[(&str, &str)], command: &str) -> Ran {
    dyno_command(slug, vars, command).output().unwrap().into()
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
pub fn php_session(slug: &Path, vars: &[(&str, &str)], id: &str) -> (SessionReport, Ran) {
    let script = repo_dir().join("tests/php/session.php");
    let mut all: Vec<(&str, &str)> = vars.to_vec();
    all.push(("SESSION_ID", id));
    let ran = dyno_run(slug, &all, &format!("php {}", script.display()));
    assert_eq!(ran.code, Some(0), "php failed: {}", ran.all());
    let report = SessionReport::parse(&ran.stdout)
        .unwrap_or_else(|| panic!("php printed no report: {}", ran.all()));
    (report, ran)
}

/// A redis-server of this test's own, on a free loopback port, stopped on drop.
pub struct Redis {
    pub port: u16,
    pub host: String,
    child: Child,
    _dir: tempfile::TempDir,
    /// Credentials the test client logs in with once the server asks for them.
    auth: Mutex<Vec<String>>,
}

impl Redis {
    pub fn start() -> Redis {
        Redis::start_on("127.0.0.1")
    }

    pub fn start_on(bind: &str) -> Redis {
        for _ in 0..5 {
            let port = free_port();
            let dir = tempfile::tempdir().unwrap();
            let child = Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    bind,
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .args([
                    "--dir",
                    dir.path().to_str().unwrap(),
                    "--protected-mode",
                    "no",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server must be installed (the test command installs it)");
            let host = if bind.contains(':') {
                format!("[{bind}]")
            } else {
                bind.to_string()
            };
            let mut redis = Redis {
                port,
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
    pub fn start(slug: &Path, vars: &[(&str, &str)], docroot: &str, workers: u32) -> WebServer {
        let port = free_port();
        let stderr_path = slug.join("web-server.log");
        let mut vars = vars.to_vec();
        let workers = workers.to_string();
        vars.push(("PHP_CLI_SERVER_WORKERS", &workers));
        let child = dyno_command(
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
}

impl Drop for WebServer {
    fn drop(&mut self) {
        // The workers are children of the main php process: stop the whole group.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}
