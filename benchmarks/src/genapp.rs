//! A large app for the build benchmark: composer.json and a composer.lock in Composer's
//! own shape, with thousands of packages (several MB). Only the last package in
//! `packages` requires ext-redis, so finding it means reading the whole lock (and grep
//! must read up to its last few kilobytes).

use crate::args::Args;
use crate::json::Json;

pub fn run(args: &Args) -> Result<(), String> {
    let dir = std::path::PathBuf::from(args.text("dir", None)?);
    let count: usize = args.number("packages", Some(4000))?;
    if count < 2 {
        return Err("--packages must be at least 2".into());
    }
    let mut rng = Rng(0x5eed_cafe_f00d_beef);
    let packages: Vec<Json> = (0..count)
        .map(|i| package(&mut rng, i, count, i + 1 == count))
        .collect();
    let direct: Vec<(String, Json)> = std::iter::once(("php".into(), Json::str(">=8.1")))
        .chain((0..count.min(25)).map(|i| (name(i), Json::str("^1.0"))))
        .collect();
    let manifest = Json::obj(vec![
        ("name", Json::str("bench/large-app")),
        (
            "description",
            Json::str("A generated app with a large composer.lock"),
        ),
        ("type", Json::str("project")),
        ("license", Json::str("MIT")),
        ("require", Json::Obj(direct)),
    ]);
    let lock = Json::obj(vec![
        (
            "_readme",
            Json::Arr(vec![
                Json::str("This file locks the dependencies of your project to a known state"),
                Json::str("This file is @generated automatically"),
            ]),
        ),
        ("content-hash", Json::str(hex(&mut rng, 32))),
        ("packages", Json::Arr(packages)),
        ("packages-dev", Json::Arr(vec![])),
        ("aliases", Json::Arr(vec![])),
        ("minimum-stability", Json::str("stable")),
        ("stability-flags", Json::Obj(vec![])),
        ("prefer-stable", Json::Bool(true)),
        ("prefer-lowest", Json::Bool(false)),
        (
            "platform",
            Json::Obj(vec![("php".into(), Json::str(">=8.1"))]),
        ),
        ("platform-dev", Json::Obj(vec![])),
        ("plugin-api-version", Json::str("2.6.0")),
    ]);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (file, value) in [("composer.json", manifest), ("composer.lock", lock)] {
        let path = dir.join(file);
        std::fs::write(&path, value.render() + "\n")
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn name(i: usize) -> String {
    format!("vendor{}/package-{i}", i % 400)
}

fn package(rng: &mut Rng, i: usize, count: usize, needs_redis: bool) -> Json {
    let name = name(i);
    let (vendor, project) = name.split_once('/').unwrap();
    let version = format!("v{}.{}.{}", rng.below(9), rng.below(30), rng.below(20));
    let reference = hex(rng, 20);
    let mut require = vec![("php".to_string(), Json::str(">=8.1"))];
    for _ in 0..rng.below(5) {
        let dep = (i + 1 + rng.below(count as u64) as usize) % count;
        require.push((
            self::name(dep),
            Json::str(format!("^{}.0", rng.below(5) + 1)),
        ));
    }
    if needs_redis {
        require.push(("ext-redis".into(), Json::str("*")));
    }
    let namespace = format!(
        "{}\\{}\\",
        capitalize(vendor),
        project.split('-').map(capitalize).collect::<String>()
    );
    let url = format!("https://git.example.org/{name}");
    Json::obj(vec![
        ("name", Json::str(&name)),
        ("version", Json::str(&version)),
        (
            "source",
            Json::obj(vec![
                ("type", Json::str("git")),
                ("url", Json::str(format!("{url}.git"))),
                ("reference", Json::str(&reference)),
            ]),
        ),
        (
            "dist",
            Json::obj(vec![
                ("type", Json::str("zip")),
                ("url", Json::str(format!("{url}/zipball/{reference}"))),
                ("reference", Json::str(&reference)),
                ("shasum", Json::str("")),
            ]),
        ),
        ("require", Json::Obj(require)),
        (
            "require-dev",
            Json::Obj(vec![("phpunit/phpunit".into(), Json::str("^10.5"))]),
        ),
        ("type", Json::str("library")),
        (
            "autoload",
            Json::obj(vec![(
                "psr-4",
                Json::Obj(vec![(namespace, Json::str("src/"))]),
            )]),
        ),
        (
            "notification-url",
            Json::str("https://packages.example.org/downloads/"),
        ),
        ("license", Json::Arr(vec![Json::str("MIT")])),
        (
            "authors",
            Json::Arr(vec![Json::obj(vec![
                ("name", Json::str(format!("Maintainer {}", rng.below(1000)))),
                (
                    "email",
                    Json::str(format!("dev{}@example.org", rng.below(1000))),
                ),
            ])]),
        ),
        (
            "description",
            Json::str(format!(
                "Package {i}: a generated library used to make a large composer.lock"
            )),
        ),
        ("homepage", Json::str(&url)),
        (
            "keywords",
            Json::Arr(vec![
                Json::str("bench"),
                Json::str(vendor),
                Json::str(project),
            ]),
        ),
        (
            "support",
            Json::obj(vec![
                ("issues", Json::str(format!("{url}/issues"))),
                ("source", Json::str(format!("{url}/tree/{version}"))),
            ]),
        ),
        (
            "time",
            Json::str(format!(
                "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}+00:00",
                15 + rng.below(11),
                1 + rng.below(12),
                1 + rng.below(28),
                rng.below(24),
                rng.below(60),
                rng.below(60)
            )),
        ),
    ])
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn hex(rng: &mut Rng, bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rng.below(256)))
        .collect()
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
