//! The Debian mirror the test runtime is built from (`scripts/trixie-runtime.sh`): no
//! address of a package mirror is written in the repository; the script takes the first
//! Debian mirror of the machine's own apt sources, or `PHP_REDIS_SESSIONS_TRIXIE_MIRROR`.
//! Its `mirror` subcommand runs that discovery alone, here on apt sources of the test's
//! own, which apt-config finds through `APT_CONFIG` as apt itself would.

use crate::support::*;
use std::path::Path;
use std::process::{Command, Stdio};

/// An apt configuration whose `Dir::Etc` is a directory of the test's own, holding
/// `files` (`sources.list`, `sources.list.d/NAME`).
fn apt_etc(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let etc = dir.path().join("etc");
    for sub in ["sources.list.d", "apt.conf.d"] {
        std::fs::create_dir_all(etc.join(sub)).unwrap();
    }
    std::fs::write(
        dir.path().join("apt.conf"),
        format!("Dir::Etc \"{}\";\n", etc.display()),
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(etc.join(name), text).unwrap();
    }
    dir
}

fn mirror(apt: &Path, vars: &[(&str, &str)]) -> Ran {
    let mut command = Command::new(repo_dir().join("scripts/trixie-runtime.sh"));
    command
        .arg("mirror")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("APT_CONFIG", apt.join("apt.conf"))
        .stdin(Stdio::null());
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().unwrap().into()
}

/// Debian 12 and 13's own layout: deb822, the security archive in a stanza of its own
/// (first here, to show that it is passed over), comments, a key folded over lines.
const DEB822_DEFAULT: &str = "\
Types: deb
# http://snapshot.example/archive/debian-security/20250520T000000Z
URIs: http://security.example/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
# A comment inside the stanza
URIs: http://mirror.example/debian/
Suites: trixie trixie-updates
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBF
 -----END PGP PUBLIC KEY BLOCK-----
";

const ONE_LINE: &str = "\
# deb http://commented.example/debian bookworm main
deb-src http://source.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/cloud.gpg] https://packages.example/apt cloud-sdk-bookworm main
deb http://security.example/debian-security bookworm-security main
deb [ arch=amd64 trusted=no ] https://mirror.example/debian/ bookworm main contrib # the mirror
deb http://second.example/debian bookworm main
";

const UBUNTU: &str = "\
deb http://archive.example/ubuntu noble main restricted
deb http://archive.example/ubuntu noble-updates main
deb http://security.example/ubuntu noble-security main
";

const UNUSABLE_THEN_GOOD: &str = "\
Types: deb
URIs: http://disabled.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb
URIs: mirror+file:/etc/apt/mirrors.txt
Suites: bookworm
Components: main

Types: deb-src
URIs: http://source.example/debian
Suites: bookworm
Components: main

types: deb
uris: https://one.example/pub/debian
 https://two.example/debian
suites: stable-updates
components: main
";

/// Names and values: files and their contents, or variables.
type Pairs<'a> = Vec<(&'a str, &'a str)>;

#[test]
fn the_mirror_comes_from_the_apt_sources() {
    // (case, apt files, variables)
    let cases: Vec<(&str, Pairs, Pairs)> = vec![
        (
            "deb822, as Debian 12 and 13 install it",
            vec![("sources.list.d/debian.sources", DEB822_DEFAULT)],
            vec![],
        ),
        (
            "one-line sources.list with options, comments, other archives",
            vec![("sources.list", ONE_LINE)],
            vec![],
        ),
        (
            "disabled, unusable and source-only entries passed over",
            vec![
                (
                    "sources.list",
                    "deb cdrom:[Debian GNU/Linux 12]/ bookworm main\n",
                ),
                ("sources.list.d/debian.sources", UNUSABLE_THEN_GOOD),
            ],
            vec![],
        ),
        (
            "the main list first, then the parts by name; other suffixes ignored",
            vec![
                ("sources.list", "# nothing here\n"),
                (
                    "sources.list.d/a.list.disabled",
                    "deb http://ignored.example/debian sid main\n",
                ),
                (
                    "sources.list.d/b.list",
                    "deb http://b.example/debian sid main\n",
                ),
                (
                    "sources.list.d/a.sources",
                    "Types: deb\nURIs: http://a.example/debian\nSuites: unstable\nComponents: main\n",
                ),
            ],
            vec![],
        ),
        (
            "only Ubuntu and security sources",
            vec![("sources.list", UBUNTU)],
            vec![],
        ),
        ("no apt sources at all", vec![], vec![]),
        (
            "PHP_REDIS_SESSIONS_TRIXIE_MIRROR wins",
            vec![("sources.list.d/debian.sources", DEB822_DEFAULT)],
            vec![(
                "PHP_REDIS_SESSIONS_TRIXIE_MIRROR",
                "http://override.example/debian",
            )],
        ),
    ];
    let mut report = vec![];
    for (name, files, vars) in cases {
        let apt = apt_etc(&files);
        let ran = mirror(apt.path(), &vars);
        report.push(format!(
            "{name}: exit {:?}\n{}{}",
            ran.code, ran.stdout, ran.stderr
        ));
    }
    insta::assert_snapshot!("mirror_from_apt_sources", report.join("\n"));
}

/// The repository names no package mirror: the runtime's comes from the machine.
#[test]
fn no_package_mirror_address_in_the_repository() {
    let pattern =
        r"(deb|ftp|security|httpredir|snapshot)[.]debian[.]org|(archive|security)[.]ubuntu[.]com";
    let out = Command::new("git")
        .args(["grep", "-n", "-I", "-E", pattern])
        .current_dir(repo_dir())
        .output()
        .unwrap();
    let found = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "mirror addresses found:\n{found}"
    );
}
