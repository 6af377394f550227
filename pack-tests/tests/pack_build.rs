//! The packaged buildpack under `pack build --builder heroku/builder:24 --buildpack
//! heroku/php --buildpack <it>`, and the image run by Docker: the build log, a session in a
//! Redis container, and file sessions without `REDIS_URL`. Needs pack and Docker, so it
//! only runs when asked: `cargo test --manifest-path pack-tests/Cargo.toml -- --ignored`.

use libcnb_test::{
    BuildConfig, BuildpackReference, ContainerConfig, TestRunner, assert_contains,
    assert_not_contains,
};
use std::path::{Path, PathBuf};
use std::process::Command;

const BUILDER: &str = "heroku/builder:24";
const PASSWORD: &str = "pack-test, a password & more";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs scripts/package.sh and returns the packaged buildpack directory.
fn package() -> PathBuf {
    let out = repo().join("target/pack-tests-package");
    let _ = std::fs::remove_dir_all(&out);
    let status = Command::new(repo().join("scripts/package.sh"))
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "scripts/package.sh failed");
    std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.is_dir())
        .expect("no packaged buildpack directory")
}

fn docker(args: &[&str]) -> String {
    let output = Command::new("docker").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// A Redis container on Docker's default bridge, which the app's container reaches by IP.
struct RedisContainer {
    name: String,
    ip: String,
}

impl RedisContainer {
    fn start() -> RedisContainer {
        let name = format!("php-redis-sessions-pack-test-{}", std::process::id());
        docker(&[
            "run",
            "--detach",
            "--rm",
            "--name",
            &name,
            "redis:7",
            "redis-server",
            "--requirepass",
            PASSWORD,
        ]);
        let ip = docker(&[
            "inspect",
            "--format",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            &name,
        ]);
        RedisContainer { name, ip }
    }

    fn get(&self, key: &str) -> String {
        docker(&[
            "exec",
            &self.name,
            "redis-cli",
            "--no-auth-warning",
            "-a",
            PASSWORD,
            "GET",
            key,
        ])
    }
}

impl Drop for RedisContainer {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "--force", &self.name])
            .output();
    }
}

/// PHP code run through the launcher (and so after exec.d), one line of output.
const SESSION_PHP: &str = r#"php -r 'session_id("packtest"); session_start(); $_SESSION["n"] = ($_SESSION["n"] ?? 0) + 1; session_write_close(); echo ini_get("session.save_handler"), " ", $_SESSION["n"], PHP_EOL;'"#;

#[test]
#[ignore = "needs pack and a Docker daemon"]
fn pack_build_with_heroku_builder_24() {
    let buildpack = package();
    let redis = RedisContainer::start();
    let encoded: String = PASSWORD
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let url = format!("redis://:{encoded}@{}:6379", redis.ip);

    TestRunner::default().build(
        BuildConfig::new(BUILDER, repo().join("example")).buildpacks([
            BuildpackReference::Other("heroku/php".into()),
            BuildpackReference::Other(buildpack.display().to_string()),
        ]),
        |context| {
            assert_contains!(context.pack_stdout, "## PHP Redis Sessions");
            assert_contains!(
                context.pack_stdout,
                "- ext-redis is required in composer.lock \"platform\""
            );
            assert_not_contains!(context.pack_stdout, "! ERROR");

            context.start_container(
                ContainerConfig::new()
                    .entrypoint("launcher")
                    .command([SESSION_PHP])
                    .env("REDIS_URL", &url),
                |container| {
                    let logs = container.logs_wait();
                    assert_eq!(logs.stdout.trim(), "redis 1", "{}", logs.stderr);
                    assert_not_contains!(logs.stderr, "php-redis-sessions");
                    assert_not_contains!(logs.stderr, PASSWORD);
                },
            );
            assert_eq!(redis.get("PHPREDIS_SESSION:packtest"), "n|i:1;");

            let files = context.run_shell_command(SESSION_PHP);
            assert_eq!(files.stdout.trim(), "files 1");
            assert_contains!(files.stderr, "php-redis-sessions: REDIS_URL is not set");

            let scan_dir = context.run_shell_command("echo \"$PHP_INI_SCAN_DIR\"");
            assert_not_contains!(scan_dir.stdout, "php-redis-sessions");
        },
    );
}
