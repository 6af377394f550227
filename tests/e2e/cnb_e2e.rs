//! The Cloud Native Buildpack end to end, with the lifecycle played by the spec (see
//! lifecycle.rs): bin/detect and bin/build as the lifecycle runs them, after a simulated
//! heroku/php whose `platform` layer brings PHP and sets `PHP_INI_SCAN_DIR` as an override;
//! then the launch (env files, exec.d on fd 3) and a real PHP with phpredis against a real
//! redis-server.

use crate::lifecycle::*;
use crate::support::*;
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const LAYER: &str = "sessions";
const KEPT: &str = "PHP keeps its default file sessions";

fn example_app() -> PathBuf {
    repo_dir().join("example")
}

/// The names exec.d sets when there is a usable URL, in the order it writes them.
const EXEC_D_VARS: [&str; 9] = [
    "PHP_REDIS_SESSIONS_INI_SAVE_HANDLER",
    "PHP_REDIS_SESSIONS_INI_USE_STRICT_MODE",
    "PHP_REDIS_SESSIONS_INI_ECHO_CHECK_LIVENESS",
    "PHP_REDIS_SESSIONS_INI_SAVE_PATH",
    "PHP_REDIS_SESSIONS_INI_LOCKING_ENABLED",
    "PHP_REDIS_SESSIONS_INI_LOCK_EXPIRE",
    "PHP_REDIS_SESSIONS_INI_LOCK_WAIT_TIME",
    "PHP_REDIS_SESSIONS_INI_LOCK_RETRIES",
    "PHP_INI_SCAN_DIR",
];

/// An app built by detect and build.
struct CnbBuild {
    buildpack: Buildpack,
    lifecycle: Lifecycle,
    id: String,
    detect: Phase,
    build: Phase,
}

/// Where PHP comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PhpFrom {
    /// The simulated heroku/php, before this buildpack; the images have no PHP.
    Buildpack,
    /// No PHP buildpack: the build and run images have PHP themselves (the host's).
    Images,
}

fn cnb_build(app: &Path, php: PhpFrom, build_env: &[(&str, &str)]) -> CnbBuild {
    let buildpack = Buildpack::assemble();
    cnb_build_with(buildpack, app, php, build_env)
}

fn cnb_build_with(
    buildpack: Buildpack,
    app: &Path,
    php: PhpFrom,
    build_env: &[(&str, &str)],
) -> CnbBuild {
    let lifecycle = match php {
        PhpFrom::Buildpack => Lifecycle::new(app),
        PhpFrom::Images => Lifecycle::with_php_in_the_images(app),
    };
    if php == PhpFrom::Buildpack {
        lifecycle.simulate_php_buildpack();
    }
    lifecycle.set_platform_env(build_env);
    let detect = lifecycle.detect(buildpack.dir.path());
    assert_eq!(detect.code, Some(0), "detect: {}", detect.output);
    let build = lifecycle.build(buildpack.dir.path());
    assert_eq!(build.code, Some(0), "build: {}", build.output);
    let id = buildpack_id(buildpack.dir.path());
    CnbBuild {
        buildpack,
        lifecycle,
        id,
        detect,
        build,
    }
}

impl CnbBuild {
    /// Launches a process's environment; the launch must not be aborted.
    fn launch(&self, runtime_env: &[(&str, &str)]) -> Launch {
        let launch = self
            .lifecycle
            .launch(&[PHP_BUILDPACK_ID, &self.id], runtime_env);
        for run in &launch.exec_d {
            assert_eq!(
                run.code,
                Some(0),
                "{} aborted the launch: {}",
                run.program.display(),
                run.stderr
            );
        }
        launch
    }

    fn layer(&self) -> PathBuf {
        self.lifecycle.buildpack_layers(&self.id).join(LAYER)
    }

    fn php_conf_d(&self) -> PathBuf {
        self.lifecycle
            .buildpack_layers(PHP_BUILDPACK_ID)
            .join(PHP_LAYER)
            .join("etc/php/conf.d")
    }
}

/// Runs tests/php/session.php as a direct process of the launched image, sending `id` as
/// the session cookie.
fn launch_session(launch: &Launch, id: &str) -> (serde_json::Value, Ran) {
    launch_session_with(launch, "SESSION_ID", id)
}

/// The same, starting a new session whose id the server picks: `id`.
fn launch_new_session(launch: &Launch, id: &str) -> (serde_json::Value, Ran) {
    launch_session_with(launch, "NEW_SESSION_ID", id)
}

fn launch_session_with(launch: &Launch, var: &str, id: &str) -> (serde_json::Value, Ran) {
    let script = repo_dir().join("tests/php/session.php");
    let ran = launch.run("php", &[script.to_str().unwrap()], &[(var, id)]);
    assert_eq!(ran.code, Some(0), "php failed: {}", ran.all());
    let report = serde_json::from_str(ran.stdout.trim())
        .unwrap_or_else(|_| panic!("php printed no report: {}", ran.all()));
    (report, ran)
}

/// The exec.d output as the spec wants it: `NAME = "basic string"` lines only.
fn assert_exec_d_output_is_spec_toml(fd3: &str) {
    for line in fd3.lines() {
        let (name, value) = line
            .split_once(" = ")
            .unwrap_or_else(|| panic!("not NAME = value"));
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
            "{name}"
        );
        assert!(
            value.starts_with('"') && value.ends_with('"') && !value.starts_with("\"\"\""),
            "{name} is not a basic string"
        );
    }
}

#[test]
fn sessions_in_redis_after_the_php_buildpack() {
    let redis = Redis::start();
    let password = awkward_password();
    redis.require_password(&password);
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    // The URL is in the build's environment too: nothing of it may reach a layer.
    let built = cnb_build(&example_app(), PhpFrom::Buildpack, &[("REDIS_URL", &url)]);
    let launch = built.launch(&[("REDIS_URL", &url)]);

    let php_conf_d = built.php_conf_d().display().to_string();
    let ours = built.layer().join("conf.d").display().to_string();
    assert_eq!(launch.env_before_exec_d["PHP_INI_SCAN_DIR"], php_conf_d);
    assert_eq!(
        launch.env["PHP_INI_SCAN_DIR"],
        format!("{php_conf_d}:{ours}"),
        "exec.d must append to heroku/php's scan dir"
    );
    assert_eq!(launch.exec_d.len(), 1);
    let run = &launch.exec_d[0];
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    let names: Vec<&str> = run
        .fd3
        .lines()
        .map(|l| l.split(" = ").next().unwrap())
        .collect();
    assert_eq!(names, EXEC_D_VARS);
    assert_exec_d_output_is_spec_toml(&run.fd3);

    let id = format!("cnb{}", std::process::id());
    let (first, ran1) = launch_new_session(&launch, &id);
    let (second, ran2) = launch_session(&launch, &id);
    for ran in [&ran1, &ran2] {
        assert_eq!(ran.stderr, "", "PHP complained");
    }
    assert_eq!(first["save_handler"], "redis");
    assert_eq!(first["locking"], "1");
    assert_eq!(
        (&first["visits"], &second["visits"]),
        (&1.into(), &2.into())
    );
    assert_eq!(
        redis.get(0, &session_key(&built.layer(), &id)).as_deref(),
        Some("visits|i:2;")
    );
    // heroku/php's own conf.d is still read, before ours.
    let marker = launch.run("php", &["-r", "echo ini_get('user_agent');"], &[]);
    assert_eq!(marker.stdout, PHP_LAYER_MARKER);
    // The doctor is on the launch PATH, through the layer's bin/.
    let doctor = launch.run("php-redis-sessions", &["doctor"], &[]);
    assert_eq!(doctor.code, Some(0), "{}", doctor.all());
    assert!(
        doctor
            .stdout
            .ends_with("OK: PHP keeps its sessions in Redis\n"),
        "{}",
        doctor.stdout
    );

    for (what, text) in [
        ("detect output", built.detect.output.clone()),
        ("build output", built.build.output.clone()),
        ("exec.d output", launch.exec_d_output()),
        ("process output", ran1.all() + &ran2.all()),
        ("doctor output", doctor.all()),
    ] {
        assert_no_secret(what, &text, &[&password]);
    }
    assert_tree_has_no_secret(&built.lifecycle.layers(), &[&password]);
    assert_tree_has_no_secret(&built.lifecycle.app(), &[&password]);
}

/// `PHP_REDIS_SESSIONS_HANDLER=buildpack` under the launcher: exec.d adds the handler's
/// ini directory after the session ini's, PHP runs the layer's handler, sessions are under
/// its keys, and nothing of the password reaches a layer, a log or the save path.
#[test]
fn the_buildpack_handler_under_the_launcher() {
    let redis = Redis::start();
    let password = awkward_password();
    redis.require_password(&password);
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    let built = cnb_build(&example_app(), PhpFrom::Buildpack, &[]);
    let launch = built.launch(&[
        ("REDIS_URL", &url),
        ("PHP_REDIS_SESSIONS_HANDLER", "buildpack"),
    ]);
    let php_conf_d = built.php_conf_d().display().to_string();
    let layer = built.layer();
    assert_eq!(
        launch.env["PHP_INI_SCAN_DIR"],
        format!(
            "{php_conf_d}:{}:{}",
            layer.join("conf.d").display(),
            layer.join("conf.d-handler").display()
        )
    );
    assert_eq!(
        launch.env["PHP_REDIS_SESSIONS_INI_AUTO_PREPEND_FILE"],
        layer.join("php/session-handler.php").display().to_string()
    );
    assert!(!launch.env["PHP_REDIS_SESSIONS_INI_SAVE_PATH"].contains("auth"));
    assert_exec_d_output_is_spec_toml(&launch.exec_d[0].fd3);

    let id = format!("cnbh{}", std::process::id());
    let (first, ran1) = launch_new_session(&launch, &id);
    let (second, ran2) = launch_session(&launch, &id);
    for ran in [&ran1, &ran2] {
        assert_eq!(ran.stderr, "", "PHP complained");
    }
    assert_eq!(first["save_handler"], "user");
    assert_eq!(
        (&first["visits"], &second["visits"]),
        (&1.into(), &2.into())
    );
    let key = format!("PHPREDIS_SESSION:{}:{{{id}}}", namespace(&layer));
    assert_eq!(redis.get(0, &key).as_deref(), Some("visits|i:2;"));
    let doctor = launch.run("php-redis-sessions", &["doctor"], &[]);
    assert_eq!(doctor.code, Some(0), "{}", doctor.all());
    assert!(
        doctor.stdout.contains("(the buildpack's handler): ok"),
        "{}",
        doctor.stdout
    );
    for (what, text) in [
        ("exec.d output", launch.exec_d_output()),
        ("process output", ran1.all() + &ran2.all()),
        ("doctor output", doctor.all()),
    ] {
        assert_no_secret(what, &text, &[&password]);
    }
    assert_tree_has_no_secret(&built.lifecycle.layers(), &[&password]);
}

#[test]
fn acl_user_and_database_without_a_php_buildpack() {
    let redis = Redis::start();
    let user = "app,1";
    let password = format!("{SECRET_MARKER} acl&cnb");
    redis.add_user(user, &password);
    let url = format!(
        "redis://{}:{}@127.0.0.1:{}/5",
        url_encode(user),
        url_encode(&password),
        redis.port
    );
    let built = cnb_build(&example_app(), PhpFrom::Images, &[]);
    let launch = built.launch(&[("REDIS_URL", &url)]);
    // No one set PHP_INI_SCAN_DIR: the empty first element keeps PHP's compiled-in conf.d,
    // which loads phpredis here.
    assert!(!launch.env_before_exec_d.contains_key("PHP_INI_SCAN_DIR"));
    assert_eq!(
        launch.env["PHP_INI_SCAN_DIR"],
        format!(":{}", built.layer().join("conf.d").display())
    );
    let (report, ran) = launch_new_session(&launch, "cnbacl");
    assert_eq!(report["save_handler"], "redis");
    assert_eq!(ran.stderr, "");
    assert!(
        redis
            .get(5, &session_key(&built.layer(), "cnbacl"))
            .is_some()
    );
    assert!(redis.keys(0).is_empty());
    assert_no_secret("exec.d output", &launch.exec_d_output(), &[&password]);
    assert_tree_has_no_secret(&built.lifecycle.layers(), &[&password]);
}

/// Without a usable URL: exec.d sets nothing and says why in one line, the launch goes on,
/// and PHP keeps file sessions.
fn assert_cnb_file_sessions(runtime_env: &[(&str, &str)], line_start: &str, passwords: &[&str]) {
    let built = cnb_build(&example_app(), PhpFrom::Buildpack, &[]);
    let launch = built.launch(runtime_env);
    let run = &launch.exec_d[0];
    assert_eq!(run.fd3, "");
    assert_eq!(run.stdout, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(lines[0].starts_with(line_start), "{}", lines[0]);
    assert!(lines[0].contains(KEPT), "{}", lines[0]);
    assert_eq!(launch.env, launch.env_before_exec_d);
    let id = unique_session_id("cnbfiles");
    let (report, ran) = launch_session(&launch, &id);
    assert_eq!(report["save_handler"], "files");
    assert_eq!(report["visits"], 1);
    assert_eq!(ran.stderr, "");
    assert_no_secret("exec.d output", &run.stderr, passwords);
    let _ = std::fs::remove_file(format!("/var/lib/php/sessions/sess_{id}"));
    let _ = std::fs::remove_file(format!("/tmp/sess_{id}"));
}

#[test]
fn unset_url_keeps_file_sessions() {
    assert_cnb_file_sessions(&[], "php-redis-sessions: REDIS_URL is not set", &[]);
}

#[test]
fn malformed_url_keeps_file_sessions() {
    let password = format!("{SECRET_MARKER}cnb");
    for url in [
        format!("http://:{password}@127.0.0.1:6379"),
        format!("redis://:{password}%zz@host:1"),
        format!("{password}@host"),
    ] {
        assert_cnb_file_sessions(
            &[("REDIS_URL", &url)],
            "php-redis-sessions: REDIS_URL is not a usable Redis URL",
            &[&password],
        );
    }
}

#[test]
fn disabled_keeps_file_sessions() {
    let redis = Redis::start();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    assert_cnb_file_sessions(
        &[("REDIS_URL", &url), ("PHP_REDIS_SESSIONS_DISABLE", "1")],
        "php-redis-sessions: PHP_REDIS_SESSIONS_DISABLE is set",
        &[],
    );
    assert!(redis.keys(0).is_empty());
}

/// Runs the layer's exec.d program as something other than the launcher would.
fn run_exec_d_program(built: &CnbBuild, env: &[(&str, &str)], fd3: Fd3) -> Ran {
    let program = built.layer().join("exec.d/php-redis-sessions");
    let mut command = Command::new(&program);
    command
        .current_dir(built.lifecycle.app())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    let (reader, writer) = std::io::pipe().unwrap();
    let writer_fd = std::os::fd::AsRawFd::as_raw_fd(&writer);
    if matches!(fd3, Fd3::ClosedPipe) {
        drop(reader);
    }
    // SAFETY: close and dup2 are async-signal-safe and only touch the child's descriptors.
    #[allow(
        unsafe_code,
        reason = "the launcher's fd 3 can only be set up between fork and exec"
    )]
    unsafe {
        command.pre_exec(move || {
            match fd3 {
                Fd3::NotOpen => {
                    libc::close(3);
                }
                Fd3::ClosedPipe => {
                    if libc::dup2(writer_fd, 3) == -1 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
            }
            Ok(())
        });
    }
    let ran: Ran = command.output().unwrap().into();
    drop(writer);
    ran
}

#[derive(Clone, Copy)]
enum Fd3 {
    NotOpen,
    ClosedPipe,
}

/// Run by hand (fd 3 not open): exit 0, one line saying so, nothing written anywhere.
#[test]
fn exec_d_without_fd3_does_not_fail() {
    let built = cnb_build(&example_app(), PhpFrom::Images, &[]);
    let password = format!("{SECRET_MARKER}fd3");
    let url = format!("redis://:{password}@127.0.0.1:6379");
    let ran = run_exec_d_program(&built, &[("REDIS_URL", &url)], Fd3::NotOpen);
    assert_eq!(ran.code, Some(0));
    assert_eq!(ran.stdout, "");
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    assert!(
        ran.stderr
            .starts_with("php-redis-sessions: file descriptor 3 is not open"),
        "{}",
        ran.stderr
    );
    assert_no_secret("exec.d output", &ran.all(), &[&password]);
    assert_tree_has_no_secret(&built.lifecycle.layers(), &[&password]);

    // With nothing to hand over, there is nothing to complain about but the URL.
    let ran = run_exec_d_program(&built, &[], Fd3::NotOpen);
    assert_eq!(ran.code, Some(0));
    assert!(
        ran.stderr
            .starts_with("php-redis-sessions: REDIS_URL is not set"),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.stderr.lines().count(), 1);
}

/// The launcher's end of fd 3 already closed: the write fails, the launch does not.
#[test]
fn exec_d_with_a_broken_fd3_does_not_fail() {
    let built = cnb_build(&example_app(), PhpFrom::Images, &[]);
    let ran = run_exec_d_program(
        &built,
        &[("REDIS_URL", "redis://127.0.0.1:6379")],
        Fd3::ClosedPipe,
    );
    assert_eq!(ran.code, Some(0));
    assert_eq!(ran.stdout, "");
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);
    assert!(
        ran.stderr.starts_with(
            "php-redis-sessions: could not hand the session settings to the launcher on file descriptor 3"
        ),
        "{}",
        ran.stderr
    );
}

/// `php-redis-sessions` typed with no arguments (the layer's `bin/` is on the launch PATH)
/// prints the usage, even with fd 3 open: it once resolved into the exec.d program and
/// wrote the save path, password included, to fd 3.
#[test]
fn the_helper_without_arguments_is_the_usage() {
    let built = cnb_build(&example_app(), PhpFrom::Images, &[]);
    let password = format!("{SECRET_MARKER}noargs");
    let url = format!("redis://:{password}@127.0.0.1:6379");
    let launch = built.launch(&[("REDIS_URL", &url)]);
    let run = run_exec_d(
        &built.layer().join("bin/php-redis-sessions"),
        &launch.env,
        &built.lifecycle.app(),
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert_eq!(run.fd3, "");
    assert!(
        run.stderr.starts_with("usage: php-redis-sessions"),
        "{}",
        run.stderr
    );
    assert_no_secret("the helper's output", &run.stderr, &[&password]);
}

/// A helper that cannot start in the run image (here its program loader is missing, as
/// for a dynamically linked build from another system: exit 127) never aborts a launch:
/// the exec.d script says so and PHP keeps file sessions.
#[test]
fn a_helper_that_cannot_start_never_aborts_the_launch() {
    let built = cnb_build(&example_app(), PhpFrom::Images, &[]);
    let helper = built.layer().join("bin/php-redis-sessions");
    let mut bytes = std::fs::read(&helper).unwrap();
    let loader = b"/lib64/ld-linux-x86-64.so.2";
    let at = bytes
        .windows(loader.len())
        .position(|window| window == loader)
        .expect("the test helper is dynamically linked");
    bytes[at + loader.len() - 1] = b'X';
    let patched = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(patched.path(), &bytes).unwrap();
    copy_file(patched.path(), &helper);
    let redis = Redis::start();
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let launch = built.launch(&[("REDIS_URL", &url)]);
    assert!(!launch.env.contains_key("PHP_REDIS_SESSIONS_INI_SAVE_PATH"));
    let stderr = launch.exec_d_output();
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("php-redis-sessions:"))
        .collect();
    insta::assert_snapshot!(ours.join("\n"));
    let (report, _) = launch_session(&launch, "nohelper");
    assert_eq!(report["save_handler"], "files");
    assert!(redis.keys(0).is_empty());
}

/// exec.d sets exactly what the classic `.profile.d` hook exports for the same
/// environment, but for where the ini directory is.
#[test]
fn exec_d_sets_what_classic_boot_exports() {
    let built = cnb_build(&example_app(), PhpFrom::Images, &[]);
    let env = [
        (
            "REDIS_URL",
            "rediss://app:not-a-secret@cache.internal:6380/2",
        ),
        ("PHP_REDIS_SESSIONS_LOCK_RETRIES", "12"),
        ("PHP_REDIS_SESSIONS_PREFIX", "app:"),
    ];
    let launch = built.launch(&env);
    // The classic boot helper, laid out as in a slug: its session ini beside its bin/.
    let slug_root = tempfile::tempdir().unwrap();
    let helper = slug_root.path().join("bin/php-redis-sessions");
    std::fs::create_dir_all(helper.parent().unwrap()).unwrap();
    copy_file(
        &built.buildpack.dir.path().join("lib/php-redis-sessions"),
        &helper,
    );
    copy_dir(
        &built.layer().join("conf.d"),
        &slug_root.path().join("conf.d"),
    );
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg("eval \"$(\"$0\" boot --shell)\"; env")
        .arg(&helper)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .envs(env.iter().copied());
    let classic: Ran = command.output().unwrap().into();
    let classic: BTreeMap<&str, &str> = classic
        .stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    for name in &EXEC_D_VARS[..8] {
        assert_eq!(launch.env[*name], classic[name], "{name}");
    }
    let ini_dir = |helper: &Path| {
        helper
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("conf.d")
            .display()
            .to_string()
    };
    assert_eq!(
        classic["PHP_INI_SCAN_DIR"],
        format!(":{}", ini_dir(&helper))
    );
    assert_eq!(
        launch.env["PHP_INI_SCAN_DIR"],
        format!(
            ":{}",
            ini_dir(&built.layer().join("exec.d/php-redis-sessions"))
        )
    );
}

/// Replaces the build's timing, the one thing in its log that changes between runs.
/// The build log without what varies: the time taken, and the host's phpredis version.
fn normalized_build_log(log: &str) -> String {
    let out = std::process::Command::new("php")
        .args(["-r", "echo phpversion('redis');"])
        .output()
        .unwrap();
    let host_phpredis = String::from_utf8(out.stdout).unwrap();
    let log = log.replace(
        &format!("phpredis {host_phpredis}"),
        "phpredis <host phpredis>",
    );
    log.lines()
        .map(|line| match line.find("(finished in ") {
            Some(at) => format!("{}(finished in <time>)", &line[..at]),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn tree_listing(dir: &Path) -> String {
    mode_listing(dir).join("\n")
}

fn tree_contents(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    walk(dir)
        .into_iter()
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().to_path_buf(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// An app on Laravel and `CodeIgniter` 4 builds, and the log warns about each.
#[test]
fn build_log_warns_about_frameworks_that_bypass_phps_handler() {
    let app = app_with_packages(&["laravel/framework", "codeigniter4/framework"]);
    let built = cnb_build(app.path(), PhpFrom::Buildpack, &[]);
    insta::assert_snapshot!(
        "cnb_framework_warnings",
        normalized_build_log(&built.build.output)
    );
}

#[test]
fn build_log_and_layer() {
    let built = cnb_build(&example_app(), PhpFrom::Buildpack, &[]);
    assert_eq!(built.detect.output, "");
    insta::assert_snapshot!("cnb_build_log", normalized_build_log(&built.build.output));

    let layers = built.lifecycle.buildpack_layers(&built.id);
    insta::assert_snapshot!("cnb_layer_files", tree_listing(&layers));
    let metadata = std::fs::read_to_string(layers.join(format!("{LAYER}.toml"))).unwrap();
    insta::assert_snapshot!("cnb_layer_metadata", metadata);
    let parsed: toml::Table = metadata.parse().unwrap();
    assert_eq!(parsed["types"]["launch"].as_bool(), Some(true));

    let ini = std::fs::read_to_string(built.layer().join("conf.d/php-redis-sessions.ini")).unwrap();
    assert_eq!(
        ini,
        std::fs::read_to_string(repo_dir().join("files/php-redis-sessions.ini")).unwrap()
    );
    assert_eq!(
        std::fs::read(built.layer().join("bin/php-redis-sessions")).unwrap(),
        std::fs::read(built.buildpack.dir.path().join("lib/php-redis-sessions")).unwrap()
    );
    // The app is left as it was, and nothing in the layer names where the build ran.
    assert_eq!(
        tree_contents(&built.lifecycle.app()),
        tree_contents(&example_app())
    );
    let root = built.lifecycle.layers();
    let needle = root.parent().unwrap().to_str().unwrap().as_bytes();
    for (path, bytes) in tree_contents(&built.layer()) {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{} names the build's directory",
            path.display()
        );
    }
}

#[test]
fn rebuild_replaces_the_layer() {
    let built = cnb_build(&example_app(), PhpFrom::Images, &[]);
    let layers = built.lifecycle.buildpack_layers(&built.id);
    let before = tree_contents(&layers);
    std::fs::write(built.layer().join("exec.d/stale"), "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::write(built.layer().join("conf.d/stale.ini"), "x=1\n").unwrap();
    let again = built.lifecycle.build(built.buildpack.dir.path());
    assert_eq!(again.code, Some(0), "{}", again.output);
    assert_eq!(tree_contents(&layers), before);
}

/// Apps for detect, each as (name, files).
fn detect_apps() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    vec![
        ("no composer files", vec![]),
        (
            "ext-redis in composer.json require",
            vec![("composer.json", r#"{"require": {"ext-redis": "*"}}"#)],
        ),
        (
            "no ext-redis",
            vec![("composer.json", r#"{"require": {"php": ">=8.1"}}"#)],
        ),
        (
            "ext-redis in composer.lock platform",
            vec![
                ("composer.json", r#"{"require": {"php": "*"}}"#),
                (
                    "composer.lock",
                    r#"{"packages": [], "platform": {"ext-redis": "*"}}"#,
                ),
            ],
        ),
        (
            "ext-redis only in require-dev",
            vec![("composer.json", r#"{"require-dev": {"ext-redis": "*"}}"#)],
        ),
        (
            "invalid composer.json",
            vec![("composer.json", "{\"require\": {\"ext-redis\": \"*\",}}")],
        ),
        (
            "composer.lock of the wrong type",
            vec![("composer.lock", r#"{"packages": {"a": 1}}"#)],
        ),
    ]
}

fn app_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// This buildpack is always added on purpose, and the lifecycle shows what a detect that
/// declines prints only among its debug lines (buildpacks/lifecycle phase/detector.go), so
/// CNB detect takes part in every app, silently, and the build fails saying why, where
/// the lifecycle shows it: the buildpack's output, then the builder's own last line. The
/// reasons are the ones classic detect declines with, but for dev requirements, which
/// heroku/php never installs on CNB (see `dev_requirements_never_count_on_cnb`).
#[test]
fn detect_always_takes_part_and_the_build_says_why_not() {
    let buildpack = Buildpack::assemble();
    let mut logs = vec![];
    for (name, files) in detect_apps() {
        let app = app_with(&files);
        let lifecycle = Lifecycle::new(app.path());
        lifecycle.simulate_php_buildpack();
        let detect = lifecycle.detect(buildpack.dir.path());
        assert_eq!(
            (detect.code, detect.output.as_str()),
            (Some(0), ""),
            "{name}"
        );
        let build = lifecycle.build(buildpack.dir.path());
        let classic = run(&buildpack.bin("detect"), &[app.path()], app.path(), &[]);
        match classic.code {
            Some(0) => assert_eq!(build.code, Some(0), "{name}: {}", build.output),
            Some(1) if name.contains("require-dev") => {
                assert_eq!(build.code, Some(1), "{name}: {}", build.output);
            }
            Some(1) => {
                assert_eq!(build.code, Some(1), "{name}: {}", build.output);
                let reason = classic
                    .stderr
                    .trim_end()
                    .strip_prefix("PHP Redis Sessions: ")
                    .unwrap();
                assert!(
                    build.output.ends_with(&format!("! ERROR: {reason}\n")),
                    "{name}: {}",
                    build.output
                );
            }
            other => panic!("classic detect exited with {other:?}"),
        }
        logs.push(format!(
            "{name}:\n{}",
            normalized_build_log(&build.as_the_builder_shows_it())
        ));
    }
    insta::assert_snapshot!("cnb_build_says_why", logs.join("\n\n"));
}

/// The last line a build printed about the app: where ext-redis is, or the error.
fn app_line(output: &str) -> &str {
    output
        .lines()
        .find(|l| l.starts_with("- ext-redis ") || l.starts_with("! ERROR: "))
        .unwrap_or(output)
}

/// On CNB, `COMPOSER` is what heroku/php reads (heroku/buildpacks-php `php_project.rs`,
/// `ProjectLoader::from_env`): the file `<platform>/env/COMPOSER` as it is, a path in the
/// app, the lock named by dropping a `.json` ending and adding `.lock`.
#[test]
fn composer_variable_as_heroku_php_reads_it() {
    let buildpack = Buildpack::assemble();
    let redis_in_lock = r#"{"packages": [], "platform": {"ext-redis": "*"}}"#;
    let app = app_with(&[
        ("composer.json", r#"{"require": {"php": "*"}}"#),
        ("composer-heroku.json", r#"{"require": {"ext-redis": "*"}}"#),
        ("deps", r#"{"require": {"php": "*"}}"#),
        ("deps.lock", redis_in_lock),
        ("sub/composer.json", r#"{"require": {"php": "*"}}"#),
        ("sub/composer.lock", redis_in_lock),
    ]);
    let lifecycle = Lifecycle::new(app.path());
    lifecycle.simulate_php_buildpack();
    let mut lines = vec![];
    for value in [
        None,
        Some("composer-heroku.json"),
        Some("deps"),
        Some("sub/composer.json"),
        Some("composer-heroku.json\n"),
        Some(""),
    ] {
        match value {
            Some(value) => lifecycle.set_platform_env(&[("COMPOSER", value)]),
            None => lifecycle.set_platform_env(&[]),
        }
        let build = lifecycle.build(buildpack.dir.path());
        lines.push(format!(
            "{value:?}: exit {:?}: {}",
            build.code.unwrap(),
            app_line(&build.output)
        ));
    }
    insta::assert_snapshot!("cnb_composer_variable", lines.join("\n"));
}

/// heroku/php always installs with `--no-dev` on CNB (`buildpacks/php/src/layers/platform.rs`
/// and `package_manager/composer.rs`), whatever `HEROKU_PHP_INSTALL_DEV` says (a classic
/// config var): ext-redis only in a dev section fails the build saying so. Classic detect,
/// with the config var, takes part.
#[test]
fn dev_requirements_never_count_on_cnb() {
    let buildpack = Buildpack::assemble();
    let no_redis = r#"{"require": {"php": "*"}}"#;
    let mut lines = vec![];
    for (name, files) in [
        (
            "require-dev",
            vec![("composer.json", r#"{"require-dev": {"ext-redis": "*"}}"#)],
        ),
        (
            "platform-dev",
            vec![
                ("composer.json", no_redis),
                (
                    "composer.lock",
                    r#"{"packages": [], "platform-dev": {"ext-redis": "*"}}"#,
                ),
            ],
        ),
        (
            "packages-dev",
            vec![
                ("composer.json", no_redis),
                (
                    "composer.lock",
                    r#"{"packages": [], "packages-dev": [{"name": "acme/dev-tools", "require": {"ext-redis": "*"}}]}"#,
                ),
            ],
        ),
    ] {
        let app = app_with(&files);
        let env = [("HEROKU_PHP_INSTALL_DEV", "1")];
        let classic = run(&buildpack.bin("detect"), &[app.path()], app.path(), &env);
        assert_eq!(classic.code, Some(0), "{name}: {}", classic.all());
        let lifecycle = Lifecycle::new(app.path());
        lifecycle.simulate_php_buildpack();
        lifecycle.set_platform_env(&env);
        let build = lifecycle.build(buildpack.dir.path());
        assert_eq!(build.code, Some(1), "{name}: {}", build.output);
        lines.push(format!("{name}: {}", app_line(&build.output)));
    }
    insta::assert_snapshot!("cnb_dev_requirements", lines.join("\n"));
}

#[test]
fn build_failures() {
    let buildpack = Buildpack::assemble();
    let app = app_with(&[("composer.json", r#"{"require": {"php": "*"}}"#)]);
    let lifecycle = Lifecycle::new(app.path());
    let failed = lifecycle.build(buildpack.dir.path());
    assert_eq!(failed.code, Some(1));
    let id = buildpack_id(buildpack.dir.path());
    assert!(walk(&lifecycle.buildpack_layers(&id)).is_empty());

    // The helper's build phase outside a lifecycle.
    let outside = run(
        &buildpack.dir.path().join("lib/php-redis-sessions"),
        &[Path::new("cnb-build")],
        &example_app(),
        &[],
    );
    assert_eq!(outside.code, Some(1));
    insta::assert_snapshot!(
        "cnb_build_failures",
        format!("{}\n{}", failed.output.trim_end(), outside.all().trim_end())
    );
}

/// The simulated launcher's env file rules, on the cases the spec spells out: the launch
/// tests above are only as good as these.
#[test]
fn lifecycle_applies_env_files_by_the_spec() {
    let layer = tempfile::tempdir().unwrap();
    let write = |dir: &str, name: &str, value: &str| {
        std::fs::create_dir_all(layer.path().join(dir)).unwrap();
        std::fs::write(layer.path().join(dir).join(name), value).unwrap();
    };
    write("env", "LIST.append", "/env");
    write("env", "LIST.delim", ":");
    write("env", "FRONT.prepend", "/front");
    write("env", "FRONT.delim", ":");
    write("env", "GLUED.append", "b");
    write("env", "DEFAULTED.default", "from-layer");
    write("env", "KEPT.default", "from-layer");
    write("env", "PLAIN", "no suffix overrides");
    write("env", "ODD.unknown", "ignored, as the lifecycle ignores it");
    write("env", "BOTH.override", "from env/");
    write("env.launch", "BOTH.override", "from env.launch/");
    write("env.launch", "LIST.append", "/launch");
    write("env.launch", "LIST.delim", ":");

    let mut env: BTreeMap<String, String> = [
        ("LIST", "/base"),
        ("FRONT", "/base"),
        ("GLUED", "a"),
        ("DEFAULTED", ""),
        ("KEPT", "from-user"),
        ("PLAIN", "old"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for dir in ["env", "env.launch"] {
        apply_env_dir(&mut env, &layer.path().join(dir));
    }
    let get = |name: &str| env.get(name).map(String::as_str);
    assert_eq!(get("LIST"), Some("/base:/env:/launch"));
    assert_eq!(get("FRONT"), Some("/front:/base"));
    assert_eq!(
        get("GLUED"),
        Some("ab"),
        "no delimiter: plain concatenation"
    );
    assert_eq!(
        get("DEFAULTED"),
        Some("from-layer"),
        "empty counts as unset"
    );
    assert_eq!(get("KEPT"), Some("from-user"));
    assert_eq!(get("PLAIN"), Some("no suffix overrides"));
    assert_eq!(
        get("BOTH"),
        Some("from env.launch/"),
        "env.launch/ comes after env/"
    );
    assert!(!env.contains_key("ODD"));
    assert!(!env.keys().any(|k| k.contains('.')));
}

/// A buildpack that reports what the played lifecycle gives its phases.
fn recorder_buildpack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("buildpack.toml"),
        "api = \"0.10\"\n\n[buildpack]\nid = \"test/recorder\"\nversion = \"0.0.1\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    let script = r#"#!/usr/bin/env bash
set -u
if [ "$(basename "$0")" = detect ]; then
  expected=("$CNB_PLATFORM_DIR" "$CNB_BUILD_PLAN_PATH")
else
  expected=("$CNB_LAYERS_DIR" "$CNB_PLATFORM_DIR" "$CNB_BP_PLAN_PATH")
fi
echo "$(basename "$0"), in $PWD"
if [ "$*" = "${expected[*]}" ]; then
  echo "arguments: the $# the spec names"
else
  echo "arguments: $*"
fi
echo "user: $(id -u):$(id -g); the buildpack is owned by $(stat -c %u:%g "$CNB_BUILDPACK_DIR")"
if touch "$CNB_BUILDPACK_DIR/written" 2>/dev/null; then
  echo "the buildpack's directory is writable"
else
  echo "the buildpack's directory is read-only"
fi
echo "variables: $(env | cut -d= -f1 | grep -v -x -e PWD -e SHLVL -e _ | sort | paste -sd ' ')"
echo "PATH=$PATH"
echo "php: $(command -v php || echo none)"
echo "PHP_INI_SCAN_DIR=${PHP_INI_SCAN_DIR-}"
echo "PHPRC=${PHPRC-}"
echo "USER_VAR=${USER_VAR-}"
echo "CNB_TARGET_ARCH=$CNB_TARGET_ARCH"
echo "and stderr, in the same stream" >&2
"#;
    for phase in ["detect", "build"] {
        write_executable(&dir.path().join("bin").join(phase), script);
    }
    dir
}

/// The played lifecycle runs bin/detect and bin/build as the lifecycle does: positional
/// arguments, the CNB user, a read-only buildpack directory, the builder's `PATH` without
/// PHP, then heroku/php's build layer (its `bin/` and its `env/` files), then the user's
/// variables (a `PATH` from the platform is prepended), and one output stream.
#[test]
fn lifecycle_runs_the_phases_as_the_lifecycle_does() {
    let recorder = recorder_buildpack();
    let lifecycle = Lifecycle::new(&example_app());
    lifecycle.simulate_php_buildpack();
    lifecycle.set_platform_env(&[
        ("USER_VAR", "from pack build --env"),
        ("PATH", "/from/the/platform"),
    ]);
    let detect = lifecycle.detect(recorder.path());
    let build = lifecycle.build(recorder.path());
    assert_eq!((detect.code, build.code), (Some(0), Some(0)));
    let root = lifecycle.root().display().to_string();
    let root_owner = std::fs::metadata("/proc/self").unwrap();
    let (uid, gid) = (
        std::os::unix::fs::MetadataExt::uid(&root_owner),
        std::os::unix::fs::MetadataExt::gid(&root_owner),
    );
    let normalize = |output: &str| {
        let user = if uid == 0 {
            "1002:1000; the buildpack is owned by 0:0".to_string()
        } else {
            format!("{uid}:{gid}; the buildpack is owned by {uid}:{gid}")
        };
        output
            .replace(lifecycle.image_path(), "<image PATH>")
            .replace(&root, "<root>")
            .replace(
                &user,
                "<CNB user>; the buildpack is owned by <another user>",
            )
    };
    insta::assert_snapshot!(
        "lifecycle_phases",
        format!(
            "{}\n{}",
            normalize(&detect.output),
            normalize(&build.output)
        )
    );
}

/// The build finds PHP only as the lifecycle hands it over: through heroku/php's *build*
/// layer, whose `bin/` is on the build's `PATH` and whose `env/PHP_INI_SCAN_DIR` decides
/// which extensions that PHP loads (the build image has no PHP).
#[test]
fn the_build_finds_php_only_through_heroku_phps_build_layer() {
    let buildpack = Buildpack::assemble();
    let build_with = |php: PhpBuildpack| {
        let lifecycle = Lifecycle::new(&example_app());
        lifecycle.simulate_php_buildpack_with(php);
        let build = lifecycle.build(buildpack.dir.path());
        assert_eq!(build.code, Some(0), "{}", build.output);
        build.output
    };
    let normal = build_with(PhpBuildpack::default());
    assert!(
        normal.contains("- The PHP buildpack's PHP loads phpredis "),
        "{normal}"
    );
    // A launch-only layer is not the build's: no PHP at all.
    let launch_only = build_with(PhpBuildpack {
        build: false,
        ..PhpBuildpack::default()
    });
    assert!(
        launch_only.contains("- Skipped the ext-redis check: no `php` on the build's PATH"),
        "{launch_only}"
    );
    // PHP's compiled-in scan directory loads phpredis here: only the layer's env/ override
    // of PHP_INI_SCAN_DIR, which loads no phpredis, makes the check see none.
    let without_phpredis = build_with(PhpBuildpack {
        phpredis: false,
        ..PhpBuildpack::default()
    });
    assert!(
        without_phpredis.contains("! WARNING: `php` (from heroku/php) does not load ext-redis"),
        "{without_phpredis}"
    );
}

/// The launch as the launcher does it: the lifecycle's own variables gone, `/cnb/...` off
/// `PATH`, heroku/php's layer applied (its `bin/` first on `PATH`, `PHPRC` and
/// `PHP_INI_SCAN_DIR`), the user's variables kept.
#[test]
fn the_launch_applies_the_layers_as_the_launcher_does() {
    let built = cnb_build(&example_app(), PhpFrom::Buildpack, &[]);
    let launch = built.launch(&[("CNB_PROCESS_TYPE", "web"), ("APP_VAR", "kept")]);
    for name in LAUNCH_ENV_EXCLUDED {
        assert!(!launch.env.contains_key(name), "{name} reached the process");
    }
    assert_eq!(launch.env["APP_VAR"], "kept");
    assert!(
        !launch.env["PATH"].contains("/cnb/"),
        "{}",
        launch.env["PATH"]
    );
    let php_layer = built
        .lifecycle
        .buildpack_layers(PHP_BUILDPACK_ID)
        .join(PHP_LAYER);
    let ran = launch.run(
        "sh",
        &[
            "-c",
            "command -v php; php -r 'echo php_ini_loaded_file(), PHP_EOL, getenv(\"PHP_INI_SCAN_DIR\");'",
        ],
        &[],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert_eq!(
        ran.stdout,
        format!(
            "{}\n{}\n{}",
            php_layer.join("bin/php").display(),
            php_layer.join("etc/php/php.ini").display(),
            php_layer.join("etc/php/conf.d").display(),
        )
    );
}

/// Only an amd64 helper is shipped. buildpack.toml declares arm64 too, so that target
/// matching lets an arm64 build (the default on an arm64 machine, where heroku/builder:24
/// and heroku/php run natively) reach bin/build, which then fails saying to build for
/// amd64, without running the helper; detect takes part without it. The build also checks
/// the machine it runs on (`uname -m`), here a stand-in `uname` the user's `PATH` brings.
#[test]
fn arm64_builds_fail_saying_to_build_for_amd64() {
    let buildpack = Buildpack::assemble();
    let descriptor: toml::Table =
        std::fs::read_to_string(buildpack.dir.path().join("buildpack.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let arches: Vec<&str> = descriptor["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["arch"].as_str().unwrap())
        .collect();
    assert_eq!(arches, ["amd64", "arm64"]);

    let arm64 = Lifecycle::new(&example_app());
    arm64.simulate_php_buildpack();
    arm64.set_target_arch("arm64");
    let detect = arm64.detect(buildpack.dir.path());
    assert_eq!((detect.code, detect.output.as_str()), (Some(0), ""));
    let build = arm64.build(buildpack.dir.path());
    assert_eq!(build.code, Some(1), "{}", build.output);
    assert!(walk(&arm64.buildpack_layers(&buildpack_id(buildpack.dir.path()))).is_empty());

    let fake = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        fake.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    write_executable(&fake.path().join("uname"), "#!/bin/sh\necho aarch64\n");
    let machine = Lifecycle::new(&example_app());
    machine.simulate_php_buildpack();
    machine.set_platform_env(&[("PATH", fake.path().to_str().unwrap())]);
    let on_arm64 = machine.build(buildpack.dir.path());
    assert_eq!(on_arm64.code, Some(1), "{}", on_arm64.output);

    insta::assert_snapshot!(
        "cnb_arm64",
        format!(
            "{}\n{}",
            build.as_the_builder_shows_it(),
            on_arm64.as_the_builder_shows_it()
        )
    );
}

/// buildpack.toml holds only what the spec's descriptor defines (Buildpack API 0.10,
/// "buildpack.toml (TOML)"), with anything under `[metadata]`: pack prints "Ignoring
/// unexpected key(s) in descriptor" on every build for any other key, and libcnb.rs
/// refuses the file.
#[test]
fn buildpack_toml_has_only_what_the_spec_defines() {
    fn unexpected(table: &toml::Table, path: &str, out: &mut Vec<String>) {
        let allowed: &[&str] = match path {
            "" => &["api", "buildpack", "order", "targets", "stacks", "metadata"],
            "buildpack" => &[
                "id",
                "name",
                "version",
                "homepage",
                "clear-env",
                "description",
                "keywords",
                "sbom-formats",
                "licenses",
            ],
            "buildpack.licenses" => &["type", "uri"],
            "targets" => &["os", "arch", "variant", "distros"],
            "targets.distros" => &["name", "version"],
            _ => &[],
        };
        for (key, value) in table {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if !allowed.contains(&key.as_str()) {
                out.push(here);
                continue;
            }
            let tables: Vec<&toml::Table> = match value {
                toml::Value::Table(t) => vec![t],
                toml::Value::Array(items) => {
                    items.iter().filter_map(toml::Value::as_table).collect()
                }
                _ => vec![],
            };
            if here != "metadata" {
                for t in tables {
                    unexpected(t, &here, out);
                }
            }
        }
    }
    let text = std::fs::read_to_string(repo_dir().join("buildpack.toml")).unwrap();
    let mut found = vec![];
    unexpected(&text.parse().unwrap(), "", &mut found);
    assert_eq!(found, Vec::<String>::new());
}

/// `PHP_REDIS_SESSIONS_URL_VAR` is the user's own setting (the name of the variable that
/// holds the Redis URL), and under the lifecycle the user's variables are in the
/// environment of detect and build: the scripts must hand it to every child unchanged.
/// A `php` first on PATH (which build runs to check phpredis) records its environment,
/// then runs the real PHP.
#[test]
fn build_keeps_the_users_url_var_setting() {
    let real_php = Command::new("sh")
        .args(["-c", "command -v php"])
        .output()
        .unwrap();
    let real_php = String::from_utf8(real_php.stdout).unwrap();
    let real_php = real_php.trim_end();
    assert!(!real_php.is_empty(), "no php on PATH");
    let bin = tempfile::tempdir().unwrap();
    let record = bin.path().join("environ");
    // The phases run as the CNB user: the fake php and its record must be theirs to use.
    std::fs::write(&record, "").unwrap();
    for (path, mode) in [(bin.path(), 0o755), (record.as_path(), 0o666)] {
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    }
    write_executable(
        &bin.path().join("php"),
        &format!(
            "#!/bin/sh\ncat /proc/$$/environ > '{}'\nexec '{real_php}' \"$@\"\n",
            record.display()
        ),
    );
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let env = [
        ("PATH", path.as_str()),
        ("PHP_REDIS_SESSIONS_URL_VAR", "MY_REDIS"),
    ];
    let built = cnb_build(&example_app(), PhpFrom::Buildpack, &env);
    assert!(
        built.build.output.contains("phpredis"),
        "{}",
        built.build.output
    );
    let environ = std::fs::read(&record).unwrap();
    assert!(
        !environ.is_empty(),
        "build did not run the php first on PATH"
    );
    let vars: Vec<String> = environ
        .split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .filter(|v| v.starts_with("PHP_REDIS_SESSIONS_URL_VAR="))
        .collect();
    assert_eq!(vars, ["PHP_REDIS_SESSIONS_URL_VAR=MY_REDIS"]);
}

/// Issue 8 of the hardening on CNB: a URL list whose settings would make an environment
/// string over the kernel's limit (2,900 URLs: 369 KB of settings) gets file sessions and
/// one line from exec.d, and every process still starts; a list under the 64 KB cap (400
/// URLs, about 50 KB, far over `PIPE_BUF`) reaches the process whole through fd 3.
#[test]
fn long_url_lists_on_cnb_keep_every_process_startable() {
    let built = cnb_build(&example_app(), PhpFrom::Images, &[]);
    let too_long = vec!["redis://h"; 2900].join(",");
    let launch = built.launch(&[("REDIS_URL", &too_long)]);
    assert_eq!(launch.exec_d.len(), 1);
    let run = &launch.exec_d[0];
    assert_eq!(
        (run.code, run.fd3.as_str()),
        (Some(0), ""),
        "{}",
        run.stderr
    );
    insta::assert_snapshot!("cnb_long_url_list", launch.exec_d_output());
    let php = launch.run("php", &["-r", "echo ini_get('session.save_handler');"], &[]);
    assert_eq!(
        (php.code, php.stdout.as_str()),
        (Some(0), "files"),
        "{}",
        php.all()
    );

    let long = vec!["redis://h"; 400].join(",");
    let launch = built.launch(&[("REDIS_URL", &long)]);
    let run = &launch.exec_d[0];
    // (Its one line is the notice every sharded list gets: no locking.)
    assert_eq!(run.code, Some(0));
    assert!(!run.stderr.contains("file sessions"), "{}", run.stderr);
    assert!(run.fd3.len() > 45_000, "{}", run.fd3.len());
    assert_exec_d_output_is_spec_toml(&run.fd3);
    let save_path = &launch.env["PHP_REDIS_SESSIONS_INI_SAVE_PATH"];
    let php = launch.run(
        "php",
        &[
            "-r",
            "echo ini_get('session.save_handler'), ' ', ini_get('session.save_path');",
        ],
        &[],
    );
    assert_eq!(php.code, Some(0), "{}", php.stderr);
    assert_eq!(php.stdout, format!("redis {save_path}"));
    assert_eq!(save_path.matches("tcp://h:6379?").count(), 400);
}

/// Symfony's `NativeSessionStorage` (Debian's php-symfony-http-foundation)
/// keeps its session in Redis under the launcher, through exec.d, with PHP's ids; and with
/// `PHP_REDIS_SESSIONS_HANDLER=buildpack`, exec.d keeps phpredis' handler for it and says
/// so once, as boot does on classic.
#[test]
fn symfony_native_sessions_in_redis_under_the_launcher() {
    let redis = Redis::start();
    let password = format!("{SECRET_MARKER}-cnb-symfony");
    redis.require_password(&password);
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    let app = app_with_packages(&["symfony/http-foundation"]);
    let built = cnb_build(app.path(), PhpFrom::Images, &[]);
    let script = repo_dir().join("tests/php/web/symfony.php");
    let script = script.to_str().unwrap();
    for handler in ["phpredis", "buildpack"] {
        let launch = built.launch(&[("REDIS_URL", &url), ("PHP_REDIS_SESSIONS_HANDLER", handler)]);
        let visit = |extra: &[(&str, &str)]| {
            let ran = launch.run("php", &[script], extra);
            assert_eq!(
                (ran.code, ran.stderr.as_str()),
                (Some(0), ""),
                "{}",
                ran.stdout
            );
            assert_no_secret("php output", &ran.all(), &[&password]);
            serde_json::from_str::<serde_json::Value>(ran.stdout.trim()).unwrap()
        };
        let first = visit(&[]);
        let id = first["session_id"].as_str().unwrap().to_string();
        let second = visit(&[("SESSION_ID", &id)]);
        assert_eq!(
            (&first["visits"], &second["visits"]),
            (&1.into(), &2.into())
        );
        assert_eq!(second["strict_mode"], "1");
        let stored = redis
            .get(0, &session_key(&built.layer(), &id))
            .unwrap_or_else(|| panic!("{handler}: not under phpredis' key"));
        assert!(stored.contains(r#"s:6:"visits";i:2;"#), "{stored}");
        // A made-up id is replaced (strict mode), not kept.
        let made_up = visit(&[("SESSION_ID", "made-up-by-a-client")]);
        assert_eq!(made_up["visits"], 1);
        assert_ne!(made_up["session_id"], "made-up-by-a-client");
        let exec_d = launch.exec_d_output();
        let expected = usize::from(handler == "buildpack");
        assert_eq!(
            exec_d
                .matches("but the app uses Symfony's HttpFoundation")
                .count(),
            expected,
            "{exec_d}"
        );
        assert_no_secret("exec.d output", &exec_d, &[&password]);
    }
}

/// Hardening item 13 on CNB: what `bin/build` writes into the layer has fixed modes
/// whatever the umask the platform runs the lifecycle with (755 directories and
/// programs, 644 files; nothing group- or world-writable, nothing unreadable).
#[test]
fn layer_files_have_sensible_modes_under_any_umask() {
    let mut listings = vec![];
    for umask in [0o022, 0o000, 0o077] {
        let lifecycle = Lifecycle::with_php_in_the_images(&example_app());
        lifecycle.set_umask(umask);
        let detect = lifecycle.detect(Buildpack::assemble().dir.path());
        assert_eq!(detect.code, Some(0), "{}", detect.output);
        let buildpack = Buildpack::assemble();
        let build = lifecycle.build(buildpack.dir.path());
        assert_eq!(build.code, Some(0), "umask {umask:03o}: {}", build.output);
        let layer = lifecycle
            .buildpack_layers(&buildpack_id(buildpack.dir.path()))
            .join(LAYER);
        let listing: Vec<String> = walk(&layer)
            .into_iter()
            .map(|path| {
                let meta = std::fs::symlink_metadata(&path).unwrap();
                let kind = if meta.is_symlink() {
                    "link".to_string()
                } else {
                    format!(
                        "{:03o}",
                        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777
                    )
                };
                format!("{kind} {}", path.strip_prefix(&layer).unwrap().display())
            })
            .collect();
        for line in &listing {
            assert!(
                ["755 ", "644 ", "link "]
                    .iter()
                    .any(|mode| line.starts_with(mode)),
                "umask {umask:03o}: {line}"
            );
        }
        listings.push(listing);
    }
    assert!(!listings[0].is_empty());
    assert!(
        listings.iter().all(|listing| *listing == listings[0]),
        "the modes follow the umask: {listings:#?}"
    );
}
