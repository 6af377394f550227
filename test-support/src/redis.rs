//! A redis-server of one's own, and a RESP client for looking inside it.

use crate::process::free_port;
use crate::runtime::Runtime;
use crate::tls::TlsFiles;
use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

    #[allow(
        clippy::needless_pass_by_value,
        reason = "options are written for the one call, as a struct literal"
    )]
    pub fn start_with(options: RedisOptions) -> Redis {
        for _ in 0..5 {
            let port = free_port();
            let tls_port = free_port();
            let dir = tempfile::tempdir().unwrap();
            let args = server_args(&options, port, tls_port, dir.path());
            let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
            let mut binds: Vec<&Path> = vec![dir.path()];
            binds.extend(options.tls.map(|tls| tls.dir.path()));
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
                && conn
                    .try_command(&["PING"])
                    .is_ok_and(|r| r == Reply::Simple("PONG".into()))
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn connect_raw(&self) -> io::Result<Conn> {
        Conn::open(&format!("{}:{}", self.host, self.port))
    }

    /// A connection logged in with the credentials set by [`Redis::require_password`] or
    /// [`Redis::add_user`].
    pub fn connect(&self) -> Conn {
        self.log_in(self.connect_raw().unwrap())
    }

    /// A connection through 127.0.0.1:`port`, a proxy in front of this server, logged in
    /// as [`Redis::connect`]'s.
    pub fn connect_via(&self, port: u16) -> Conn {
        self.log_in(Conn::open(&format!("127.0.0.1:{port}")).unwrap())
    }

    /// The redis-server process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log_in(&self, mut conn: Conn) -> Conn {
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

/// redis-server's command line for `options`, keeping its files in `dir`.
fn server_args(options: &RedisOptions, port: u16, tls_port: u16, dir: &Path) -> Vec<String> {
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
    .map(std::string::ToString::to_string)
    .collect();
    args.extend([
        "--dir".into(),
        dir.display().to_string(),
        "--protected-mode".into(),
        "no".into(),
    ]);
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
            dir.join("nodes.conf").display().to_string(),
            "--cluster-node-timeout".into(),
            "5000".into(),
        ]);
    }
    args
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

/// A Redis connection speaking RESP2, enough for the tests and the benchmarks.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

const READ_TIMEOUT: Duration = Duration::from_secs(10);

impl Conn {
    /// A connection to `address` (`HOST:PORT`), not logged in.
    pub fn open(address: &str) -> io::Result<Conn> {
        let stream = TcpStream::connect(address)?;
        stream.set_read_timeout(Some(READ_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// Sends a command and reads its reply; panics if the connection fails.
    pub fn command(&mut self, args: &[&str]) -> Reply {
        self.try_command(args).unwrap()
    }

    /// Sends a command and reads its reply.
    pub fn try_command(&mut self, args: &[&str]) -> io::Result<Reply> {
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            request.extend(format!("${}\r\n", arg.len()).bytes());
            request.extend(arg.bytes());
            request.extend(b"\r\n");
        }
        self.writer.write_all(&request)?;
        self.read_reply()
    }

    /// The lines received until none came for `quiet`: what MONITOR reported meanwhile.
    pub fn drain_lines(&mut self, quiet: Duration) -> Vec<String> {
        let _ = self.writer.set_read_timeout(Some(quiet));
        let mut lines = vec![];
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(n) if n > 0 => lines.push(line.trim_end().to_string()),
                _ => break,
            }
        }
        let _ = self.writer.set_read_timeout(Some(READ_TIMEOUT));
        lines
    }

    fn read_reply(&mut self) -> io::Result<Reply> {
        let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches("\r\n");
        let length = |rest: &str| -> io::Result<i64> {
            rest.parse()
                .map_err(|_| invalid(format!("bad RESP length {rest:?}")))
        };
        let (kind, rest) = line.split_at_checked(1).unwrap_or(("", ""));
        Ok(match kind {
            "+" => Reply::Simple(rest.into()),
            "-" => Reply::Error(rest.into()),
            ":" => Reply::Integer(length(rest)?),
            "$" => {
                let Ok(len) = usize::try_from(length(rest)?) else {
                    return Ok(Reply::Nil);
                };
                let mut buf = vec![0; len + 2];
                self.reader.read_exact(&mut buf)?;
                buf.truncate(len);
                Reply::Bulk(String::from_utf8_lossy(&buf).into_owned())
            }
            "*" => {
                let Ok(len) = usize::try_from(length(rest)?) else {
                    return Ok(Reply::Nil);
                };
                let items = (0..len).map(|_| self.read_reply());
                Reply::Array(items.collect::<io::Result<_>>()?)
            }
            other => return Err(invalid(format!("unexpected RESP type {other:?}"))),
        })
    }
}
