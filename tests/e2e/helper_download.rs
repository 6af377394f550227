//! The buildpack used as a plain git clone (`heroku buildpacks:add https://github.com/...`,
//! the buildpack registry): no helper and no Rust toolchain, so lib/find-helper.sh
//! downloads the release helper for the version in buildpack.toml and checks its sha256
//! against the committed checksum, or builds it with cargo, or fails saying what to do.
//! The release URL is a local HTTP server on loopback; no test ever uses the default URL.

use crate::file_server::FileServer;
use crate::lifecycle::Lifecycle;
use crate::support::*;
use std::path::Path;
use std::process::{Command, Stdio};

const ASSET: &str = "php-redis-sessions-x86_64-linux";
const URL_VAR: &str = "PHP_REDIS_SESSIONS_HELPER_URL";
/// Where the server keeps the asset; `{version}` is left for the scripts to fill in.
const ASSET_PATH: &str = "/download/v{version}/php-redis-sessions-x86_64-linux";

fn version() -> String {
    let text = std::fs::read_to_string(repo_dir().join("buildpack.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    table["buildpack"]["version"].as_str().unwrap().to_string()
}

fn helper_bytes() -> Vec<u8> {
    std::fs::read(env!("CARGO_BIN_EXE_php-redis-sessions")).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bytes).unwrap();
    let out = Command::new("sha256sum").arg(file.path()).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// The buildpack as a git clone has it: bin/, lib/find-helper.sh and buildpack.toml, no
/// helper and no target/. `checksum`: what lib/checksums/ says for this version (the
/// release's, here the served file's); `sources`: also the Rust sources cargo needs.
fn git_clone(checksum: Option<&str>, sources: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo_dir();
    copy_dir(&repo.join("bin"), &dir.path().join("bin"));
    std::fs::create_dir_all(dir.path().join("lib/checksums")).unwrap();
    copy_file(
        &repo.join("lib/find-helper.sh"),
        &dir.path().join("lib/find-helper.sh"),
    );
    copy_file(
        &repo.join("buildpack.toml"),
        &dir.path().join("buildpack.toml"),
    );
    if let Some(checksum) = checksum {
        std::fs::write(
            dir.path().join(format!(
                "lib/checksums/php-redis-sessions-{}-x86_64-linux.sha256",
                version()
            )),
            format!("{checksum}  {ASSET}\n"),
        )
        .unwrap();
    }
    if sources {
        for name in ["Cargo.toml", "Cargo.lock"] {
            copy_file(&repo.join(name), &dir.path().join(name));
        }
        for name in ["src", "files", "test-support"] {
            copy_dir(&repo.join(name), &dir.path().join(name));
        }
    }
    dir
}

/// PATH without any directory that holds cargo: a build machine without Rust.
fn path_without_cargo() -> String {
    std::env::var("PATH")
        .unwrap()
        .split(':')
        .filter(|dir| !Path::new(dir).join("cargo").exists())
        .collect::<Vec<_>>()
        .join(":")
}

fn run_script(
    program: &Path,
    args: &[&Path],
    cwd: &Path,
    path: &str,
    vars: &[(&str, &str)],
) -> Ran {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", path)
        .stdin(Stdio::null());
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().unwrap().into()
}

/// A classic build of the example app: returns (detect, compile, build dir).
fn classic_phases(
    buildpack: &Path,
    detect_env: &[(&str, &str)],
    config: &[(&str, &str)],
) -> (Ran, Ran, tempfile::TempDir) {
    let build_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let env_dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_dir().join("example"), build_dir.path());
    for (name, value) in config {
        std::fs::write(env_dir.path().join(name), value).unwrap();
    }
    let path = path_without_cargo();
    let cwd = build_dir.path();
    let detect = run_script(
        &buildpack.join("bin/detect"),
        &[cwd],
        cwd,
        &path,
        detect_env,
    );
    let compile = run_script(
        &buildpack.join("bin/compile"),
        &[cwd, cache_dir.path(), env_dir.path()],
        cwd,
        &path,
        &[],
    );
    (detect, compile, build_dir)
}

fn serve_helper(bytes: Vec<u8>) -> FileServer {
    let path = ASSET_PATH.replace("{version}", &version());
    FileServer::start(vec![(path, bytes)])
}

/// What a test may snapshot: the server's port and the temporary paths replaced.
fn normalized(text: &str, server: &FileServer, dirs: &[&Path]) -> String {
    let mut text = text.replace(&server.port.to_string(), "PORT");
    for dir in dirs {
        text = text.replace(dir.to_str().unwrap(), "<dir>");
    }
    text
}

#[test]
fn classic_git_clone_downloads_the_helper_once_and_runs() {
    let helper = helper_bytes();
    let server = serve_helper(helper.clone());
    let clone = git_clone(Some(&sha256(&helper)), false);
    let url = server.url(ASSET_PATH);
    // Classic detect sees no config vars; the variable stands in for the default URL here.
    let (detect, compile, _build_dir) =
        classic_phases(clone.path(), &[(URL_VAR, &url)], &[(URL_VAR, &url)]);
    assert_eq!(detect.code, Some(0), "{}", detect.all());
    assert_eq!(detect.stdout, "PHP Redis Sessions\n");
    assert_eq!(
        normalized(&detect.stderr, &server, &[]),
        format!(
            "PHP Redis Sessions: downloading the helper v{} from http://127.0.0.1:PORT\n",
            version()
        )
    );
    assert_eq!(compile.code, Some(0), "{}", compile.all());
    assert_eq!(
        compile.stderr, "",
        "compile must use what detect downloaded"
    );
    assert_eq!(
        server.requests(),
        [format!("GET /download/v{}/{ASSET} HTTP/1.1", version())]
    );
    let installed = clone.path().join("lib/php-redis-sessions");
    assert_eq!(std::fs::read(&installed).unwrap(), helper);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&installed).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o755);
    assert_no_download_leftovers(clone.path());

    // The downloaded helper is the buildpack's from now on: a dyno gets Redis sessions.
    let redis = Redis::start();
    let buildpack = Buildpack { dir: clone };
    let slug = build(&buildpack, &repo_dir().join("example"), &[]);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let (report, _) = php_new_session(
        &Runtime::host(),
        slug.path(),
        &[("REDIS_URL", url.as_str())],
        "downloaded",
    );
    assert_eq!(report.save_handler, "redis");
    assert!(redis.get(0, &slug.session_key("downloaded")).is_some());
    assert_eq!(server.requests().len(), 1);
}

fn assert_no_download_leftovers(bp_dir: &Path) {
    for entry in std::fs::read_dir(bp_dir.join("lib")).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            !name
                .to_string_lossy()
                .starts_with(".php-redis-sessions.download"),
            "{} left behind",
            name.display()
        );
    }
}

/// sha256sum escapes odd file names (its line then starts with a `\\`): a buildpack whose
/// path holds a backslash and a newline must still get, check and run its helper.
#[test]
fn odd_buildpack_path_downloads_and_uses_the_helper() {
    let helper = helper_bytes();
    let server = serve_helper(helper.clone());
    let clone = git_clone(Some(&sha256(&helper)), false);
    let parent = tempfile::tempdir().unwrap();
    let odd = parent.path().join("build\\pack\nclone");
    copy_dir(clone.path(), &odd);
    let url = server.url(ASSET_PATH);
    let (detect, compile, _build_dir) =
        classic_phases(&odd, &[(URL_VAR, &url)], &[(URL_VAR, &url)]);
    assert_eq!(detect.code, Some(0), "{}", detect.all());
    assert_eq!(
        normalized(&detect.stderr, &server, &[]),
        format!(
            "PHP Redis Sessions: downloading the helper v{} from http://127.0.0.1:PORT\n",
            version()
        )
    );
    assert_eq!(compile.code, Some(0), "{}", compile.all());
    assert!(
        compile.stdout.starts_with("-----> PHP Redis Sessions\n"),
        "{}",
        compile.stdout
    );
    assert_eq!(compile.stderr, "");
    assert_eq!(
        std::fs::read(odd.join("lib/php-redis-sessions")).unwrap(),
        helper
    );
    assert_no_download_leftovers(&odd);
}

/// Classic detect cannot see config vars: when its download fails it takes part anyway,
/// and compile, which reads the URL from `ENV_DIR`, downloads the helper.
#[test]
fn compile_takes_the_url_from_its_config_vars() {
    let helper = helper_bytes();
    let server = serve_helper(helper.clone());
    let clone = git_clone(Some(&sha256(&helper)), false);
    let missing = server.url("/nothing/here");
    let (detect, compile, _build_dir) = classic_phases(
        clone.path(),
        &[(URL_VAR, &missing)],
        &[(URL_VAR, &server.url(ASSET_PATH))],
    );
    assert_eq!(detect.code, Some(0), "{}", detect.all());
    assert_eq!(detect.stdout, "PHP Redis Sessions\n");
    insta::assert_snapshot!(
        "detect_defers_when_the_download_fails",
        normalized(&detect.stderr, &server, &[])
    );
    assert_eq!(compile.code, Some(0), "{}", compile.all());
    assert!(compile.stdout.starts_with("-----> PHP Redis Sessions\n"));
    assert_eq!(server.requests().len(), 2);
}

/// Under the lifecycle, bin/detect and bin/build read the URL from the platform's env/
/// directory too.
#[test]
fn cnb_build_downloads_with_the_platform_env() {
    let helper = helper_bytes();
    let server = serve_helper(helper.clone());
    let clone = git_clone(Some(&sha256(&helper)), false);
    let lifecycle = Lifecycle::new(&repo_dir().join("example"));
    lifecycle.set_platform_env(&[(URL_VAR, &server.url(ASSET_PATH))]);
    let build = lifecycle.build(clone.path());
    assert_eq!(build.code, Some(0), "{}", build.output);
    // The buildpack's directory is read-only: the download goes to a temporary directory.
    let (download, log) = build
        .output
        .split_once("## PHP Redis Sessions\n")
        .unwrap_or_else(|| panic!("no build log: {}", build.output));
    assert!(
        download.starts_with("PHP Redis Sessions: downloading the helper"),
        "{}",
        build.output
    );
    assert!(log.contains("- Done"), "{}", build.output);
    assert_eq!(server.requests().len(), 1);
    let id = crate::lifecycle::buildpack_id(clone.path());
    let exec_d = lifecycle
        .buildpack_layers(&id)
        .join("sessions/bin/php-redis-sessions");
    assert_eq!(std::fs::read(exec_d).unwrap(), helper);
}

/// A download whose sha256 is not the committed one is deleted unrun, and nothing else is
/// tried: not even cargo, though it is there.
#[test]
fn wrong_checksum_is_refused() {
    let helper = helper_bytes();
    let mut tampered = helper.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 0xff;
    let server = serve_helper(tampered.clone());
    let clone = git_clone(Some(&sha256(&helper)), true);
    let url = server.url(ASSET_PATH);
    let (detect, compile, _build_dir) =
        classic_phases(clone.path(), &[(URL_VAR, &url)], &[(URL_VAR, &url)]);
    assert_eq!(detect.code, Some(0), "detect defers: {}", detect.all());
    assert_eq!(compile.code, Some(1), "{}", compile.all());
    let stderr = normalized(&compile.stderr, &server, &[])
        .replace(&sha256(&tampered), "<sha256 of the download>")
        .replace(&sha256(&helper), "<committed sha256>");
    insta::assert_snapshot!("wrong_checksum", stderr);
    assert!(!clone.path().join("lib/php-redis-sessions").exists());
    assert_no_download_leftovers(clone.path());

    // With cargo on PATH too: still refused, and cargo is not run.
    let cache = tempfile::tempdir().unwrap();
    let env_dir = tempfile::tempdir().unwrap();
    std::fs::write(env_dir.path().join(URL_VAR), &url).unwrap();
    let app = tempfile::tempdir().unwrap();
    copy_dir(&repo_dir().join("example"), app.path());
    let compile = run_script(
        &clone.path().join("bin/compile"),
        &[app.path(), cache.path(), env_dir.path()],
        app.path(),
        &std::env::var("PATH").unwrap(),
        &[],
    );
    assert_eq!(compile.code, Some(1));
    assert!(!compile.stderr.contains("cargo"), "{}", compile.stderr);
    assert!(!clone.path().join("target").exists());
}

#[test]
fn missing_release_without_cargo_fails_clearly() {
    let server = FileServer::start(vec![]);
    let clone = git_clone(Some(&sha256(b"whatever")), false);
    let url = server.url(ASSET_PATH);
    let (_, compile, _build_dir) =
        classic_phases(clone.path(), &[(URL_VAR, &url)], &[(URL_VAR, &url)]);
    assert_eq!(compile.code, Some(1));
    assert_eq!(compile.stdout, "");
    insta::assert_snapshot!(
        "missing_release_without_cargo",
        normalized(&compile.stderr, &server, &[])
    );
}

#[test]
fn no_committed_checksum_means_no_download() {
    let server = serve_helper(helper_bytes());
    let clone = git_clone(None, false);
    let url = server.url(ASSET_PATH);
    let (_, compile, _build_dir) =
        classic_phases(clone.path(), &[(URL_VAR, &url)], &[(URL_VAR, &url)]);
    assert_eq!(compile.code, Some(1));
    assert!(server.requests().is_empty());
    insta::assert_snapshot!(
        "no_committed_checksum",
        normalized(&compile.stderr, &server, &[])
    );
}

/// A mirror URL may carry credentials: the log shows it without them.
#[test]
fn credentials_in_the_url_are_never_shown() {
    let helper = helper_bytes();
    let server = serve_helper(helper.clone());
    let clone = git_clone(Some(&sha256(&helper)), false);
    let secret = format!("{SECRET_MARKER}-token");
    let with_credentials = |path: &str| {
        server
            .url(path)
            .replace("http://", &format!("http://mirror:{secret}@"))
            + &format!("?token={secret}#{secret}")
    };
    let missing = with_credentials("/nothing/here");
    let good = with_credentials(ASSET_PATH);
    let (detect, compile, _build_dir) =
        classic_phases(clone.path(), &[(URL_VAR, &missing)], &[(URL_VAR, &good)]);
    assert_eq!(detect.code, Some(0));
    assert_eq!(compile.code, Some(0), "{}", compile.all());
    assert!(
        detect.stderr.contains("could not download"),
        "{}",
        detect.stderr
    );
    for text in [detect.all(), compile.all()] {
        assert!(!text.contains(&secret), "the URL's credentials were shown");
        assert!(!text.contains("mirror"), "the URL's user was shown");
    }
}

/// `bin/compile` of the example app in a fresh clone that must download its helper from
/// `url`, on a machine without cargo; `path_front` goes first on PATH.
fn compile_downloading(
    checksum: &str,
    url: &str,
    path_front: Option<&Path>,
) -> (Ran, tempfile::TempDir) {
    let clone = git_clone(Some(checksum), false);
    let env_dir = tempfile::tempdir().unwrap();
    std::fs::write(env_dir.path().join(URL_VAR), url).unwrap();
    let app = tempfile::tempdir().unwrap();
    copy_dir(&repo_dir().join("example"), app.path());
    let cache = tempfile::tempdir().unwrap();
    let path = match path_front {
        Some(front) => format!("{}:{}", front.display(), path_without_cargo()),
        None => path_without_cargo(),
    };
    let compile = run_script(
        &clone.path().join("bin/compile"),
        &[app.path(), cache.path(), env_dir.path()],
        app.path(),
        &path,
        &[],
    );
    (compile, clone)
}

/// Every way a URL can carry a password, well formed or mangled (a raw `?`, `#`, `/`, `@`,
/// space, quote, backslash or line break in it; no scheme, a leading space, user info
/// where the port goes...): no part of the password is printed, nor the user. The log
/// names the server by `scheme://host[:port]` when the URL parses strictly, and not at all
/// otherwise; curl's failures are told in the buildpack's own words.
#[test]
#[allow(clippy::too_many_lines, reason = "a catalogue: one entry per case")]
fn no_part_of_a_password_is_ever_shown() {
    let helper = helper_bytes();
    let server = serve_helper(helper.clone());
    let checksum = sha256(&helper);
    let host = format!("127.0.0.1:{}", server.port);
    let port = server.port;
    let asset = ASSET_PATH;
    // Plain text where a TLS handshake was expected; a self-signed certificate (Redis').
    let not_tls = FileServer::answering(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    let tls = TlsFiles::create();
    let redis = Redis::start_tls(&Runtime::host(), &tls);
    let (plain, tls_port) = (not_tls.port, redis.tls_port);
    let shapes: Vec<(&str, String)> = vec![
        (
            "user info, query and fragment",
            format!("http://alice:Sekr1tA@{host}{asset}?token=Sekr1tB#Sekr1tC"),
        ),
        (
            "a token as the user",
            format!("http://Sekr1t@{host}{asset}"),
        ),
        (
            "a raw ? in the password",
            format!("http://alice:Sekr1tA?Sekr1tB@{host}{asset}"),
        ),
        (
            "a raw # in the password",
            format!("http://alice:Sekr1tA#Sekr1tB@{host}{asset}"),
        ),
        (
            "a raw / in the password",
            format!("http://alice:Sekr1tA/Sekr1tB@{host}{asset}"),
        ),
        (
            "a raw @ in the password",
            format!("http://alice:Sekr1tA@Sekr1tB@{host}{asset}"),
        ),
        (
            "an encoded @ in the password",
            format!("http://alice:Sekr1t%40x@{host}{asset}"),
        ),
        (
            "a raw space in the password",
            format!("http://alice:Sekr1tA Sekr1tB@{host}{asset}"),
        ),
        (
            "a quote and a backslash in the password",
            format!("http://alice:Sekr1t\"\\x@{host}{asset}"),
        ),
        (
            "a line break in the password",
            format!("http://alice:Sekr1tA\nSekr1tB@{host}{asset}"),
        ),
        (
            "a CR and a tab in the password",
            format!("http://alice:Sekr1tA\r\tSekr1tB@{host}{asset}"),
        ),
        (
            "a leading space",
            format!(" http://alice:Sekr1t@{host}{asset}"),
        ),
        ("no scheme", format!("alice:Sekr1t@{host}{asset}")),
        (
            "one slash after the scheme",
            format!("http:/alice:Sekr1t@{host}{asset}"),
        ),
        (
            "an upper-case scheme",
            format!("HTTP://alice:Sekr1t@{host}{asset}"),
        ),
        (
            "user info without an @",
            format!("http://alice:Sekr1t{asset}"),
        ),
        (
            "the password where the port goes",
            format!("http://alice@127.0.0.1:Sekr1t{asset}"),
        ),
        (
            "an @ in the query",
            format!("http://{host}{asset}?user=alice:Sekr1t@x"),
        ),
        (
            "an @ in the fragment",
            format!("http://{host}{asset}#alice:Sekr1t@x"),
        ),
        (
            "the password in the path",
            format!("http://{host}/alice:Sekr1t{asset}"),
        ),
        (
            "an IPv6 host",
            format!("http://alice:Sekr1t@[::1]:{port}{asset}"),
        ),
        (
            "user info inside the brackets",
            format!("http://[alice:Sekr1t@::1]:{port}{asset}"),
        ),
        (
            "an unknown host",
            format!("http://alice:Sekr1t@helper.invalid{asset}"),
        ),
        (
            "https to a server without TLS",
            format!("https://alice:Sekr1t@127.0.0.1:{plain}{asset}"),
        ),
        (
            "https to a self-signed certificate",
            format!("https://alice:Sekr1t@127.0.0.1:{tls_port}{asset}"),
        ),
        (
            "an HTTP error",
            format!("http://alice:Sekr1t@{host}/nothing/here"),
        ),
        (
            "a scheme curl does not speak",
            format!("gopher2://alice:Sekr1t@{host}{asset}"),
        ),
        (
            "a second config line",
            format!("http://alice:Sekr1t@{host}/nothing\"\nurl = \"http://{host}/injected"),
        ),
    ];
    let mut report = vec![];
    for (shape, url) in &shapes {
        let (compile, clone) = compile_downloading(&checksum, url, None);
        let output = compile.all();
        assert_no_secret(shape, &output, &[]);
        assert!(!output.contains("alice"), "{shape}: the user was shown");
        if compile.code == Some(0) {
            assert!(
                clone.path().join("lib/php-redis-sessions").is_file(),
                "{shape}"
            );
        }
        // The buildpack's own lines; the closing advice is snapshotted elsewhere.
        let stderr = normalized(&compile.stderr, &server, &[clone.path()])
            .replace(&format!(":{plain}"), ":PLAIN_PORT")
            .replace(&format!(":{tls_port}"), ":REDIS_TLS_PORT");
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|line| !line.contains("the helper binary is missing"))
            .collect();
        report.push(format!(
            "{shape}: exit {:?}\n{}",
            compile.code,
            lines.join("\n")
        ));
    }
    assert!(
        !server.requests().iter().any(|r| r.contains("/injected")),
        "a line break in the URL made curl read a config line of its own"
    );
    insta::assert_snapshot!("no_part_of_a_password_is_ever_shown", report.join("\n"));
}

/// curl gets the URL on its standard input (`--config -`), never on its command line,
/// where `ps` and /proc/PID/cmdline show it to every user of the machine. A `curl` first
/// on PATH records its arguments and standard input, then runs the real curl with them.
/// The URL still arrives whole: quotes, backslashes and `&` in the password and the query.
#[test]
fn the_url_is_not_on_curls_command_line() {
    let helper = helper_bytes();
    let server = serve_helper(helper.clone());
    let real_curl = Command::new("sh")
        .args(["-c", "command -v curl"])
        .output()
        .unwrap();
    let real_curl = String::from_utf8(real_curl.stdout).unwrap();
    let real_curl = real_curl.trim_end();
    assert!(!real_curl.is_empty(), "no curl on PATH");
    let bin = tempfile::tempdir().unwrap();
    let argv = bin.path().join("argv");
    let stdin = bin.path().join("stdin");
    write_executable(
        &bin.path().join("curl"),
        &format!(
            "#!/bin/sh\nprintf '%s\\0' \"$@\" > '{}'\ncat > '{}'\nexec '{real_curl}' \"$@\" < '{}'\n",
            argv.display(),
            stdin.display(),
            stdin.display()
        ),
    );
    let password = format!("{SECRET_MARKER}\"\\&=x");
    let url = format!(
        "http://alice:{password}@127.0.0.1:{}{ASSET_PATH}?q=\"a\\b&c={SECRET_MARKER}",
        server.port
    );
    let (compile, clone) = compile_downloading(&sha256(&helper), &url, Some(bin.path()));
    // First the scan, then output that passed it.
    assert_no_secret("compile", &compile.all(), &[]);
    assert_eq!(compile.code, Some(0), "{}", compile.all());
    assert_eq!(
        std::fs::read(clone.path().join("lib/php-redis-sessions")).unwrap(),
        helper
    );

    let argv = String::from_utf8(std::fs::read(&argv).expect("curl was not run")).unwrap();
    for (what, part) in [
        ("password", SECRET_MARKER),
        ("user", "alice"),
        ("host", "127.0.0.1"),
        ("path", "/download/"),
        ("scheme", "http://"),
    ] {
        assert!(
            !argv.contains(part),
            "curl's command line holds the URL's {what}"
        );
    }
    let stdin = std::fs::read_to_string(&stdin).unwrap();
    assert!(
        stdin.contains(SECRET_MARKER),
        "the URL was not on curl's standard input"
    );

    let heads = server.heads();
    assert_eq!(heads.len(), 1);
    let head = &heads[0];
    let request_line = format!(
        "GET {}?q=\"a\\b&c={SECRET_MARKER} HTTP/1.1\r\n",
        ASSET_PATH.replace("{version}", &version())
    );
    assert!(
        head.starts_with(&request_line),
        "curl asked for another path or query"
    );
    let authorization = format!(
        "\r\nAuthorization: Basic {}\r\n",
        base64(format!("alice:{password}").as_bytes())
    );
    assert!(
        head.contains(&authorization),
        "curl sent another user or password"
    );
}

/// Standard base64, for an `Authorization: Basic` header.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// curl's own error text can quote the host or the whole URL, so it is never printed: each
/// exit code curl documents for a download gets a fixed description (an HTTP error with its
/// status, as curl's --write-out reports it), and any other code is named by number.
#[test]
fn curl_failures_are_told_in_fixed_words() {
    let shown = bash_with_find_helper(
        r"for failure in '3 000' '6 000' '7 000' '22 404' '22 503' '22 <script>' '28 000' '35 000' '60 000' '1 000' '47 301' '56 200'; do download_failure $failure; done",
    );
    insta::assert_snapshot!("curl_failures", shown);
}

/// A clone with its sources on a machine with cargo: the download fails, cargo builds it.
#[test]
fn cargo_builds_the_helper_when_the_download_fails() {
    let server = FileServer::start(vec![]);
    let clone = git_clone(Some(&sha256(b"whatever")), true);
    let env_dir = tempfile::tempdir().unwrap();
    std::fs::write(env_dir.path().join(URL_VAR), server.url(ASSET_PATH)).unwrap();
    let app = tempfile::tempdir().unwrap();
    copy_dir(&repo_dir().join("example"), app.path());
    let cache = tempfile::tempdir().unwrap();
    // A target directory of the repository's own, so that reruns are incremental.
    let target = repo_dir().join("target/helper-download-test");
    let mut vars: Vec<(&str, String)> = vec![("CARGO_TARGET_DIR", target.display().to_string())];
    for name in ["HOME", "CARGO_HOME", "RUSTUP_HOME", "RUSTUP_TOOLCHAIN"] {
        if let Ok(value) = std::env::var(name) {
            vars.push((name, value));
        }
    }
    let vars: Vec<(&str, &str)> = vars.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let compile = run_script(
        &clone.path().join("bin/compile"),
        &[app.path(), cache.path(), env_dir.path()],
        app.path(),
        &std::env::var("PATH").unwrap(),
        &vars,
    );
    assert_eq!(compile.code, Some(0), "{}", compile.all());
    assert!(
        compile
            .stderr
            .contains("PHP Redis Sessions: building the helper with cargo"),
        "{}",
        compile.stderr
    );
    assert!(target.join("release/php-redis-sessions").is_file());
    assert!(
        app.path()
            .join(".php-redis-sessions/bin/php-redis-sessions")
            .is_file()
    );
}

fn bash_with_find_helper(script: &str) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("source lib/find-helper.sh\n{script}"))
        .current_dir(repo_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The scripts read buildpack.toml as a TOML parser does, and the default URL is the
/// release asset of this version.
#[test]
fn scripts_read_buildpack_toml_like_a_toml_parser() {
    let text = std::fs::read_to_string(repo_dir().join("buildpack.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    let version = table["buildpack"]["version"].as_str().unwrap();
    let url = table["metadata"]["helper-url"].as_str().unwrap();
    assert_eq!(
        bash_with_find_helper(
            "toml_string buildpack.toml buildpack version; toml_string buildpack.toml metadata helper-url"
        ),
        format!("{version}\n{url}\n")
    );
    assert_eq!(
        bash_with_find_helper(
            "toml_string buildpack.toml buildpack name; toml_string buildpack.toml metadata version"
        ),
        format!("{}\n", table["buildpack"]["name"].as_str().unwrap())
    );
    assert_eq!(
        url.replace("{version}", version),
        format!(
            "https://github.com/php-redis-sessions/buildpack/releases/download/v{version}/{ASSET}"
        )
    );
    assert_eq!(
        version,
        env!("CARGO_PKG_VERSION"),
        "buildpack.toml and Cargo.toml versions differ"
    );
}

/// The log names the download server by `scheme://host[:port]` from a strict parse, and
/// shows nothing of a URL that does not parse so (`-` below): then a password may have
/// spilled out of the user info.
#[test]
fn urls_are_shown_as_scheme_host_and_port_only() {
    let cases = [
        ("https://h/p/a", "https://h"),
        ("https://u:p@h:1/p?x=1#f", "https://h:1"),
        ("http://tok@h/p#x", "http://h"),
        (
            "HTTPS://u@Mirror-1.example.COM:443",
            "HTTPS://Mirror-1.example.COM:443",
        ),
        ("http://u:p@[::1]:8080/p", "http://[::1]:8080"),
        ("http://[fe80::1]/p", "http://[fe80::1]"),
        ("http://a@b@h/p", "http://h"),
        ("https://h/p@x?y=@", "-"),
        ("http://h/p?u=a:b@c", "-"),
        ("http://h/p#a:b@c", "-"),
        ("http://a:b?c@h/p", "-"),
        ("http://a:b#c@h/p", "-"),
        ("http://a:b/c@h/p", "-"),
        (" http://h/p", "-"),
        ("u:tok@mirror/p", "-"),
        ("a@b@h/p", "-"),
        ("http:/h/p", "-"),
        ("ht-tp://h/p", "-"),
        ("http://", "-"),
        ("http://u:p@/p", "-"),
        ("http://u:p", "-"),
        ("http://h:port/p", "-"),
        ("http://h:/p", "-"),
        ("http://h_1/p", "-"),
        ("http://h\n", "-"),
        ("http://u:p\n@h/", "http://h"),
        ("http://h\u{e9}/p", "-"),
        ("http://[u:p@::1]/p", "-"),
        ("http://[::1%25eth0]/p", "-"),
    ];
    let script: String = cases
        .iter()
        .map(|(url, _)| format!("display_url '{}' || echo -", url.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join("\n");
    let shown = bash_with_find_helper(&script);
    let shown: Vec<&str> = shown.lines().collect();
    let expected: Vec<&str> = cases.iter().map(|(_, shown)| *shown).collect();
    assert_eq!(shown, expected);
}
