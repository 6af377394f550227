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
            "PHP Redis Sessions: downloading the helper v{} from http://127.0.0.1:PORT/download/v{}/{ASSET}\n",
            version(),
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
    let (report, _) = php_session(
        &Runtime::host(),
        slug.path(),
        &[("REDIS_URL", url.as_str())],
        "downloaded",
    );
    assert_eq!(report.save_handler, "redis");
    assert!(redis.get(0, "PHPREDIS_SESSION:downloaded").is_some());
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
            "PHP Redis Sessions: downloading the helper v{} from http://127.0.0.1:PORT/download/v{}/{ASSET}\n",
            version(),
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
    let build = lifecycle.build(clone.path(), &[]);
    assert_eq!(build.code, Some(0), "{}", build.all());
    assert!(
        build.stdout.starts_with("## PHP Redis Sessions\n"),
        "{}",
        build.stdout
    );
    assert!(
        build.stderr.contains("downloading the helper"),
        "{}",
        build.stderr
    );
    assert_eq!(server.requests().len(), 1);
    let id = crate::lifecycle::buildpack_id(clone.path());
    let exec_d = lifecycle
        .buildpack_layers(&id)
        .join("sessions/exec.d/php-redis-sessions");
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

#[test]
fn urls_are_shown_without_credentials_query_or_fragment() {
    let shown = bash_with_find_helper(
        r#"for u in 'https://h/p/a' 'https://u:p@h:1/p?x=1#f' 'http://tok@h/p#x' 'https://h/p@x?y=@' 'u:tok@mirror/p' 'a@b@h/p'; do display_url "$u"; done"#,
    );
    assert_eq!(
        shown,
        "https://h/p/a\nhttps://h:1/p\nhttp://h/p\nhttps://h/p@x\nmirror/p\nh/p\n"
    );
}
