//! A large app for the build benchmark: composer.json and a composer.lock in Composer's
//! own shape, with thousands of packages (several MB). Only the last package in
//! `packages` requires ext-redis, so finding it means reading the whole lock (and grep
//! must read up to its last few kilobytes).

use crate::cli::GenAppArgs;
use crate::output::write_json;
use anyhow::Context;
use serde::{Serialize, Serializer};
use std::fmt::Write as _;

pub(crate) fn run(args: &GenAppArgs) -> anyhow::Result<()> {
    let dir = &args.dir;
    let count = args.packages as usize;
    let mut rng = Rng(0x5eed_cafe_f00d_beef);
    let packages: Vec<Package> = (0..count)
        .map(|i| package(&mut rng, i, count, i + 1 == count))
        .collect();
    let manifest = Manifest {
        name: "bench/large-app",
        description: "A generated app with a large composer.lock",
        kind: "project",
        license: "MIT",
        require: Links(
            std::iter::once(("php".into(), ">=8.1".into()))
                .chain((0..count.min(25)).map(|i| (name(i), "^1.0".into())))
                .collect(),
        ),
    };
    let lock = Lock {
        readme: [
            "This file locks the dependencies of your project to a known state",
            "This file is @generated automatically",
        ],
        content_hash: hex(&mut rng, 32),
        packages,
        packages_dev: [],
        aliases: [],
        minimum_stability: "stable",
        stability_flags: Links(vec![]),
        prefer_stable: true,
        prefer_lowest: false,
        platform: Links(vec![("php".into(), ">=8.1".into())]),
        platform_dev: Links(vec![]),
        plugin_api_version: "2.6.0",
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write_json(&dir.join("composer.json"), &manifest)?;
    write_json(&dir.join("composer.lock"), &lock)
}

/// composer.json.
#[derive(Serialize)]
struct Manifest {
    name: &'static str,
    description: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    license: &'static str,
    require: Links,
}

/// composer.lock.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Lock {
    #[serde(rename = "_readme")]
    readme: [&'static str; 2],
    content_hash: String,
    packages: Vec<Package>,
    packages_dev: [Package; 0],
    aliases: [(); 0],
    minimum_stability: &'static str,
    stability_flags: Links,
    prefer_stable: bool,
    prefer_lowest: bool,
    platform: Links,
    platform_dev: Links,
    plugin_api_version: &'static str,
}

/// One package of composer.lock.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Package {
    name: String,
    version: String,
    source: Source,
    dist: Dist,
    require: Links,
    require_dev: Links,
    #[serde(rename = "type")]
    kind: &'static str,
    autoload: Autoload,
    notification_url: &'static str,
    license: [&'static str; 1],
    authors: [Author; 1],
    description: String,
    homepage: String,
    keywords: [String; 3],
    support: Support,
    time: String,
}

#[derive(Serialize)]
struct Source {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
    reference: String,
}

#[derive(Serialize)]
struct Dist {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
    reference: String,
    shasum: &'static str,
}

#[derive(Serialize)]
struct Autoload {
    #[serde(rename = "psr-4")]
    psr4: Links,
}

#[derive(Serialize)]
struct Author {
    name: String,
    email: String,
}

#[derive(Serialize)]
struct Support {
    issues: String,
    source: String,
}

/// A JSON object of strings in the order given: package names to constraints, say.
struct Links(Vec<(String, String)>);

impl Serialize for Links {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

fn name(i: usize) -> String {
    format!("vendor{}/package-{i}", i % 400)
}

fn package(rng: &mut Rng, i: usize, count: usize, needs_redis: bool) -> Package {
    let name = name(i);
    let (vendor, project) = name.split_once('/').unwrap();
    let version = format!("v{}.{}.{}", rng.below(9), rng.below(30), rng.below(20));
    let reference = hex(rng, 20);
    let require = requirements(rng, i, count, needs_redis);
    let namespace = format!(
        "{}\\{}\\",
        capitalize(vendor),
        project.split('-').map(capitalize).collect::<String>()
    );
    let url = format!("https://git.example.org/{name}");
    let author = Author {
        name: format!("Maintainer {}", rng.below(1000)),
        email: format!("dev{}@example.org", rng.below(1000)),
    };
    let time = timestamp(rng);
    Package {
        source: Source {
            kind: "git",
            url: format!("{url}.git"),
            reference: reference.clone(),
        },
        dist: Dist {
            kind: "zip",
            url: format!("{url}/zipball/{reference}"),
            reference,
            shasum: "",
        },
        require,
        require_dev: Links(vec![("phpunit/phpunit".into(), "^10.5".into())]),
        kind: "library",
        autoload: Autoload {
            psr4: Links(vec![(namespace, "src/".into())]),
        },
        notification_url: "https://packages.example.org/downloads/",
        license: ["MIT"],
        authors: [author],
        description: format!("Package {i}: a generated library used to make a large composer.lock"),
        keywords: ["bench".into(), vendor.into(), project.into()],
        support: Support {
            issues: format!("{url}/issues"),
            source: format!("{url}/tree/{version}"),
        },
        homepage: url,
        time,
        version,
        name,
    }
}

/// PHP and up to four other packages of the lock, and ext-redis if `needs_redis`.
fn requirements(rng: &mut Rng, i: usize, count: usize, needs_redis: bool) -> Links {
    let mut require = vec![("php".to_string(), ">=8.1".to_string())];
    for _ in 0..rng.below(5) {
        let below = usize::try_from(rng.below(count as u64)).expect("below a usize");
        let dep = (i + 1 + below) % count;
        require.push((name(dep), format!("^{}.0", rng.below(5) + 1)));
    }
    if needs_redis {
        require.push(("ext-redis".into(), "*".into()));
    }
    Links(require)
}

/// A release time between 2015 and 2025.
fn timestamp(rng: &mut Rng) -> String {
    format!(
        "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
        15 + rng.below(11),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn hex(rng: &mut Rng, bytes: usize) -> String {
    (0..bytes).fold(String::with_capacity(bytes * 2), |mut out, _| {
        let _ = write!(out, "{:02x}", rng.below(256));
        out
    })
}

/// xorshift64: the same app on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}
