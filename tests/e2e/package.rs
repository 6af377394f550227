//! scripts/package.sh, the one command that packages the buildpack: a directory and a
//! tarball with bin/, lib/ and buildpack.toml around a static `x86_64` helper. The tarball is
//! then used as it would be, by a Heroku classic build and by a CNB build, each ending in
//! a real PHP session in a real Redis.

use crate::lifecycle::{Lifecycle, PHP_BUILDPACK_ID, buildpack_id};
use crate::support::*;
use std::path::Path;
use std::process::Command;

const ASSET: &str = "php-redis-sessions-x86_64-linux";

fn readelf(args: &[&str], file: &Path) -> String {
    let out = Command::new("readelf")
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one story: package, then build and run on both platforms"
)]
fn package_makes_a_static_buildpack_that_builds_and_runs() {
    let out = tempfile::tempdir().unwrap();
    let packaged = Command::new(repo_dir().join("scripts/package.sh"))
        .args(["--out".as_ref(), out.path().as_os_str()])
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&packaged.stdout),
        String::from_utf8_lossy(&packaged.stderr)
    );
    assert!(packaged.status.success(), "{log}");

    let version = env!("CARGO_PKG_VERSION");
    let name = format!("php-redis-sessions-buildpack-{version}");
    let dir = out.path().join(&name);
    insta::assert_snapshot!("package_directory", mode_listing(&dir).join("\n"));
    for file in [
        "bin/detect",
        "bin/compile",
        "bin/release",
        "bin/build",
        "lib/find-helper.sh",
        "buildpack.toml",
    ] {
        assert_eq!(
            std::fs::read(dir.join(file)).unwrap(),
            std::fs::read(repo_dir().join(file)).unwrap(),
            "{file}"
        );
    }

    // Static: no interpreter, no shared library, and it runs with an empty environment.
    let helper = dir.join("lib/php-redis-sessions");
    assert!(!readelf(&["--dynamic"], &helper).contains("(NEEDED)"));
    assert!(!readelf(&["--program-headers"], &helper).contains("INTERP"));
    let ldd = Command::new("ldd").arg(&helper).output().unwrap();
    let ldd = String::from_utf8_lossy(&ldd.stdout) + String::from_utf8_lossy(&ldd.stderr);
    assert!(
        ldd.contains("statically linked") || ldd.contains("not a dynamic executable"),
        "{ldd}"
    );

    // The release asset is that helper, with its checksum.
    let asset = std::fs::read(out.path().join(ASSET)).unwrap();
    assert_eq!(asset, std::fs::read(&helper).unwrap());
    let sums = std::fs::read_to_string(out.path().join(format!("{ASSET}.sha256"))).unwrap();
    let sha = Command::new("sha256sum")
        .arg(&helper)
        .output()
        .unwrap()
        .stdout;
    assert_eq!(
        sums,
        format!("{}  {ASSET}\n", &String::from_utf8_lossy(&sha)[..64])
    );

    // The tarball holds the same files at its top level, as Heroku and pack expect.
    let extracted = tempfile::tempdir().unwrap();
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(out.path().join(format!("{name}.tgz")))
        .arg("-C")
        .arg(extracted.path())
        .status()
        .unwrap();
    assert!(untar.success());
    assert_eq!(mode_listing(extracted.path()), mode_listing(&dir));

    // Heroku classic, from the tarball: build, boot a dyno, keep a session in Redis.
    let redis = Redis::start();
    let password = format!("{SECRET_MARKER} package");
    redis.require_password(&password);
    let url = format!(
        "redis://:{}@127.0.0.1:{}",
        url_encode(&password),
        redis.port
    );
    let buildpack = Buildpack { dir: extracted };
    let slug = build(&buildpack, &repo_dir().join("example"), &[]);
    let (report, ran) = php_new_session(
        &Runtime::host(),
        slug.path(),
        &[("REDIS_URL", url.as_str())],
        "packaged",
    );
    assert_eq!(report.save_handler, "redis");
    assert_eq!(ran.stderr, "");
    assert!(redis.get(0, &slug.session_key("packaged")).is_some());

    // Cloud Native Buildpacks, from the same files.
    let lifecycle = Lifecycle::new(&repo_dir().join("example"));
    lifecycle.simulate_php_buildpack();
    let bp = buildpack.dir.path();
    assert_eq!(lifecycle.detect(bp).code, Some(0));
    let built = lifecycle.build(bp);
    assert_eq!(built.code, Some(0), "{}", built.output);
    let launch = lifecycle.launch(
        &[PHP_BUILDPACK_ID, &buildpack_id(bp)],
        &[("REDIS_URL", &url)],
    );
    assert!(
        launch
            .exec_d
            .iter()
            .all(|run| run.code == Some(0) && run.stderr.is_empty())
    );
    let script = repo_dir().join("tests/php/session.php");
    let ran = launch.run(
        "php",
        &[script.to_str().unwrap()],
        &[("NEW_SESSION_ID", "packagedcnb")],
    );
    assert!(
        ran.stdout.contains("\"save_handler\":\"redis\""),
        "{}",
        ran.all()
    );
    let layer = lifecycle
        .buildpack_layers(&buildpack_id(bp))
        .join("sessions");
    assert!(redis.get(0, &session_key(&layer, "packagedcnb")).is_some());
    assert_no_secret("package log", &log, &[&password]);
}

/// Each release commits the checksum of its helper for the version in buildpack.toml
/// (scripts/package.sh writes it), or a git clone of it could not download anything.
#[test]
fn the_checksum_for_this_version_is_committed() {
    let path = repo_dir().join(format!(
        "lib/checksums/php-redis-sessions-{}-x86_64-linux.sha256",
        env!("CARGO_PKG_VERSION")
    ));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing: run scripts/package.sh", path.display()));
    let (sha, name) = text
        .strip_suffix('\n')
        .and_then(|l| l.split_once("  "))
        .expect("sha256sum format");
    assert_eq!(name, ASSET);
    assert!(
        sha.len() == 64
            && sha
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
}
