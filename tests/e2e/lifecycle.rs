//! The Cloud Native Buildpacks lifecycle played by the spec (Buildpack API 0.10) and by the
//! lifecycle's own sources (buildpacks/lifecycle), without Docker or pack:
//!
//! - the buildpack is installed read-only in the builder's store (`/cnb/buildpacks/...`),
//!   owned by root, and every phase runs as the build image's CNB user (heroku/builder:24's
//!   1002:1000), with the app and the layers its own; without root, the store is made
//!   read-only with its mode bits instead;
//! - `bin/detect <platform> <plan>` and `bin/build <layers> <platform> <plan>` get their
//!   positional arguments and the lifecycle's variables, in the environment the lifecycle
//!   builds (`env/build.go`, `buildpack/detect.go`, `buildpack/build.go`): of the builder's
//!   own variables only `PATH` and `HOME`, on a build image that has no PHP; then, for
//!   `bin/build`, every *build* layer of the buildpacks before it (its `bin/` on `PATH`,
//!   `lib/`, `include/`, `pkgconfig/`, then its `env/` and `env.build/` files); then the
//!   user's variables from `<platform>/env/`; stdout and stderr are one stream, as the
//!   lifecycle logs them;
//! - heroku/php is simulated as heroku/buildpacks-php lays it out: a `platform` layer
//!   (build and launch) holding PHP, with `env/PATH.prepend`, `PATH.delim`,
//!   `PHP_INI_SCAN_DIR.override` and `PHPRC.override`;
//! - the launch (`launch/launcher.go`, `env/launch.go`, `launch/exec_d.go`) starts from the
//!   image's environment without the lifecycle's own `CNB_*` variables, applies each
//!   buildpack's launch layers in two passes (every layer's `bin/` and `lib/`, then every
//!   layer's `env/` and `env.launch/`), then runs every exec.d program with file descriptor
//!   3 open on a pipe and applies the TOML it writes.

use crate::support::{Ran, copy_dir, walk};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The id of the PHP buildpack that runs before this one.
pub(crate) const PHP_BUILDPACK_ID: &str = "heroku/php";
/// heroku/php's layer that holds PHP (buildpacks/php/src/main.rs: `layer_name!("platform")`).
pub(crate) const PHP_LAYER: &str = "platform";
/// Marker the simulated PHP buildpack's own ini sets, to show its conf.d is still loaded.
pub(crate) const PHP_LAYER_MARKER: &str = "heroku-php-layer";

/// The user heroku/builder:24's build image runs the lifecycle as (heroku/base-images,
/// heroku-24-build/Dockerfile: `CNB_USER_ID=1002`, `CNB_GROUP_ID=1000`).
const CNB_USER: (u32, u32) = (1002, 1000);
/// The build and run images' `PATH` (Ubuntu's): here without the `php` programs, which
/// neither image has.
const IMAGE_PATH_DIRS: [&str; 4] = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin"];
/// Where the exporter puts the launcher and the process type links; the launcher removes
/// them from `PATH` (env/launch.go, `NewLaunchEnv`).
const LIFECYCLE_PATH_DIRS: [&str; 2] = ["/cnb/process", "/cnb/lifecycle"];
/// A layer's directories and the variables the lifecycle prepends them to, at build
/// (env/build.go, `POSIXBuildEnv`) and at launch (env/launch.go, `POSIXLaunchEnv`).
const BUILD_ROOT_DIRS: [(&str, &[&str]); 4] = [
    ("bin", &["PATH"]),
    ("lib", &["LD_LIBRARY_PATH", "LIBRARY_PATH"]),
    ("include", &["CPATH"]),
    ("pkgconfig", &["PKG_CONFIG_PATH"]),
];
const LAUNCH_ROOT_DIRS: [(&str, &[&str]); 2] = [("bin", &["PATH"]), ("lib", &["LD_LIBRARY_PATH"])];
/// What the launcher removes from the process's environment (env/launch.go,
/// `LaunchEnvExcludelist`): the lifecycle's own variables, not every `CNB_*` one.
pub(crate) const LAUNCH_ENV_EXCLUDED: [&str; 5] = [
    "CNB_LAYERS_DIR",
    "CNB_APP_DIR",
    "CNB_PROCESS_TYPE",
    "CNB_PLATFORM_API",
    "CNB_DEPRECATION_MODE",
];

/// This buildpack's id, read from buildpack.toml by a real TOML parser.
pub(crate) fn buildpack_id(buildpack_dir: &Path) -> String {
    descriptor(buildpack_dir)["buildpack"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn descriptor(buildpack_dir: &Path) -> toml::Table {
    let text = std::fs::read_to_string(buildpack_dir.join("buildpack.toml")).unwrap();
    text.parse().unwrap()
}

/// The directory name the lifecycle gives a buildpack's layers.
pub(crate) fn escaped(id: &str) -> String {
    id.replace('/', "_")
}

/// Whether this test process can run the phases as the CNB user.
fn is_root() -> bool {
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

/// What a phase printed, stdout and stderr as one stream (the lifecycle gives both to the
/// same writer), and its exit code.
pub(crate) struct Phase {
    pub code: Option<i32>,
    pub output: String,
}

impl Phase {
    /// What the user reads of a build phase: the buildpack's output as it is (the builder
    /// gives the lifecycle's own stdout to `bin/build`, cmd/lifecycle/builder.go), then,
    /// when it failed, the builder's last line (cmd/exit.go: `failed to build: ` and the
    /// exit error) on the lifecycle's error level.
    pub(crate) fn as_the_builder_shows_it(&self) -> String {
        match self.code {
            Some(0) => self.output.clone(),
            Some(code) => format!(
                "{}ERROR: failed to build: exit status {code}\n",
                self.output
            ),
            None => format!("{}ERROR: failed to build: signal\n", self.output),
        }
    }
}

/// How the simulated heroku/php leaves its `platform` layer.
#[derive(Clone, Copy)]
pub(crate) struct PhpBuildpack {
    /// `[types] build`: whether later buildpacks' builds get the layer (heroku/php: true).
    pub build: bool,
    /// Whether its PHP loads phpredis.
    pub phpredis: bool,
}

impl Default for PhpBuildpack {
    fn default() -> Self {
        PhpBuildpack {
            build: true,
            phpredis: true,
        }
    }
}

/// One build: the app (`/workspace`), the layers (`/layers`), the platform directory, the
/// builder's buildpack store, and the build and run images' `PATH`.
pub(crate) struct Lifecycle {
    root: tempfile::TempDir,
    image_path: String,
    /// The buildpacks before this one in the group, in order (those simulated here).
    earlier: RefCell<Vec<String>>,
    /// `CNB_TARGET_ARCH`: the run image's architecture.
    target_arch: RefCell<String>,
    /// The umask the phases run with (the test's own when `None`): a platform may run
    /// the lifecycle under any.
    umask: RefCell<Option<u32>>,
}

impl Lifecycle {
    /// A build of a copy of `app`, on images without PHP.
    pub(crate) fn new(app: &Path) -> Lifecycle {
        Lifecycle::on_images(app, false)
    }

    /// A build of a copy of `app` on images whose own `PATH` has PHP (the host's): a stack
    /// that brings PHP itself, without heroku/php.
    pub(crate) fn with_php_in_the_images(app: &Path) -> Lifecycle {
        Lifecycle::on_images(app, true)
    }

    fn on_images(app: &Path, images_have_php: bool) -> Lifecycle {
        let root = tempfile::tempdir().unwrap();
        std::fs::set_permissions(root.path(), PermissionsExt::from_mode(0o755)).unwrap();
        for dir in [
            "workspace",
            "layers",
            "platform/env",
            "plans",
            "home",
            "tmp",
        ] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        copy_dir(app, &root.path().join("workspace"));
        let image_path = if images_have_php {
            IMAGE_PATH_DIRS.join(":")
        } else {
            path_text(image_bin_without_php())
        };
        let lifecycle = Lifecycle {
            root,
            image_path,
            earlier: RefCell::new(vec![]),
            target_arch: RefCell::new("amd64".into()),
            umask: RefCell::new(None),
        };
        for dir in ["workspace", "layers", "plans", "home", "tmp"] {
            Self::give_to_cnb_user(&lifecycle.root.path().join(dir));
        }
        lifecycle
    }

    /// Where the build's directories are: `workspace/`, `layers/`, `platform/`, `cnb/`.
    pub(crate) fn root(&self) -> &Path {
        self.root.path()
    }

    /// The images' `PATH`, before any layer is added to it.
    pub(crate) fn image_path(&self) -> &str {
        &self.image_path
    }

    pub(crate) fn app(&self) -> PathBuf {
        self.root.path().join("workspace")
    }

    pub(crate) fn layers(&self) -> PathBuf {
        self.root.path().join("layers")
    }

    pub(crate) fn platform(&self) -> PathBuf {
        self.root.path().join("platform")
    }

    pub(crate) fn buildpack_layers(&self, id: &str) -> PathBuf {
        self.layers().join(escaped(id))
    }

    /// Builds for a run image of another architecture (`pack build --platform linux/arm64`,
    /// or the default on an arm64 machine): `CNB_TARGET_ARCH`.
    pub(crate) fn set_target_arch(&self, arch: &str) {
        *self.target_arch.borrow_mut() = arch.to_string();
    }

    /// Runs the phases under `umask` (for example `0o000`).
    pub(crate) fn set_umask(&self, umask: u32) {
        *self.umask.borrow_mut() = Some(umask);
    }

    /// The user-provided variables, as the platform gives them to buildpacks (`pack build
    /// --env`, project.toml): one file each in `<platform>/env/`, and no others.
    pub(crate) fn set_platform_env(&self, vars: &[(&str, &str)]) {
        let dir = self.platform().join("env");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        for (name, value) in vars {
            std::fs::write(dir.join(name), value).unwrap();
        }
    }

    /// Files of the lifecycle's root are the CNB user's, as the lifecycle creates them.
    fn give_to_cnb_user(path: &Path) {
        if !is_root() {
            return;
        }
        let (uid, gid) = CNB_USER;
        std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
        for path in walk(path) {
            std::os::unix::fs::lchown(&path, Some(uid), Some(gid)).unwrap();
        }
    }

    /// The buildpack as a builder holds it: `/cnb/buildpacks/<id>/<version>/`, owned by
    /// root and read-only for the phases.
    fn install(&self, buildpack: &Path) -> PathBuf {
        let table = descriptor(buildpack);
        let version = table["buildpack"]["version"].as_str().unwrap();
        let dir = self
            .root
            .path()
            .join("cnb/buildpacks")
            .join(escaped(&buildpack_id(buildpack)))
            .join(version);
        if !dir.exists() {
            copy_dir(buildpack, &dir);
            if !is_root() {
                for path in std::iter::once(dir.clone()).chain(walk(&dir)) {
                    let mode = std::fs::symlink_metadata(&path)
                        .unwrap()
                        .permissions()
                        .mode();
                    if !path.is_symlink() {
                        std::fs::set_permissions(&path, PermissionsExt::from_mode(mode & !0o222))
                            .unwrap();
                    }
                }
            }
        }
        dir
    }

    /// What heroku/php leaves before this buildpack runs: the `platform` layer that
    /// heroku/buildpacks-php writes (layers/platform.rs: build and launch, not cache), with
    /// PHP in `bin/` (here the host's PHP binary), its php.ini in `etc/php/` and the
    /// extensions' ini files in `etc/php/conf.d/` (here the host's, plus one of its own),
    /// and the env files its PHP package's install script asks for (heroku-buildpack-php,
    /// support/build/formulae/php, all with scope "all", so in `env/`): `PATH` prepended
    /// with `bin` and `sbin`, `PHP_INI_SCAN_DIR` and `PHPRC` as overrides. Returns that
    /// conf.d.
    pub(crate) fn simulate_php_buildpack(&self) -> PathBuf {
        self.simulate_php_buildpack_with(PhpBuildpack::default())
    }

    pub(crate) fn simulate_php_buildpack_with(&self, php: PhpBuildpack) -> PathBuf {
        let layers = self.buildpack_layers(PHP_BUILDPACK_ID);
        let layer = layers.join(PHP_LAYER);
        let etc = layer.join("etc/php");
        let conf_d = etc.join("conf.d");
        for dir in [&conf_d, &layer.join("bin"), &layer.join("sbin")] {
            std::fs::create_dir_all(dir).unwrap();
        }
        let host_php = host_php();
        std::os::unix::fs::symlink(&host_php, layer.join("bin/php")).unwrap();
        let files = Command::new(&host_php)
            .args([
                "-r",
                "echo php_ini_loaded_file(), PHP_EOL, php_ini_scanned_files();",
            ])
            .env_clear()
            .output()
            .unwrap();
        let files = String::from_utf8(files.stdout).unwrap();
        let (php_ini, scanned) = files.split_once('\n').unwrap();
        std::fs::copy(php_ini, etc.join("php.ini")).unwrap();
        let mut copied = 0;
        for file in scanned.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let file = Path::new(file);
            let name = file.file_name().unwrap();
            if !php.phpredis && name.to_string_lossy().contains("redis") {
                continue;
            }
            std::fs::copy(file, conf_d.join(name)).unwrap();
            copied += 1;
        }
        assert!(copied > 0, "the host's PHP scans no ini files");
        std::fs::write(
            conf_d.join("zz-heroku-php.ini"),
            format!("user_agent = \"{PHP_LAYER_MARKER}\"\n"),
        )
        .unwrap();
        let env = layer.join("env");
        std::fs::create_dir_all(&env).unwrap();
        let layer_text = layer.display();
        for (name, value) in [
            (
                "PATH.prepend",
                format!("{layer_text}/bin:{layer_text}/sbin"),
            ),
            ("PATH.delim", ":".to_string()),
            ("PHP_INI_SCAN_DIR.override", conf_d.display().to_string()),
            ("PHPRC.override", etc.display().to_string()),
        ] {
            std::fs::write(env.join(name), value).unwrap();
        }
        std::fs::write(
            layers.join(format!("{PHP_LAYER}.toml")),
            format!(
                "[types]\nlaunch = true\nbuild = {}\ncache = false\n",
                php.build
            ),
        )
        .unwrap();
        Self::give_to_cnb_user(&layers);
        self.earlier.borrow_mut().push(PHP_BUILDPACK_ID.to_string());
        conf_d
    }

    /// What every phase starts from: the variables of the builder that the lifecycle
    /// passes on (env/build.go, `NewBuildEnv`: `PATH` and the layer path variables, `HOME`,
    /// proxies), plus a `TMPDIR` of this build's own, so that what the phases leave in a
    /// temporary directory goes away with the build (a container's /tmp does).
    fn builder_env(&self) -> BTreeMap<String, String> {
        let root = self.root.path();
        BTreeMap::from([
            ("PATH".to_string(), self.image_path.clone()),
            ("HOME".to_string(), root.join("home").display().to_string()),
            ("TMPDIR".to_string(), root.join("tmp").display().to_string()),
        ])
    }

    /// The user's variables (`WithOverrides` in env/env.go with `clear-env = false`): the
    /// layer path variables get the value prepended, the others are set to it.
    fn apply_platform_env(&self, env: &mut BTreeMap<String, String>) {
        let root_vars: Vec<&str> = BUILD_ROOT_DIRS
            .iter()
            .flat_map(|(_, vars)| vars.iter().copied())
            .collect();
        for file in sorted_files(&self.platform().join("env")) {
            let name = file.file_name().unwrap().to_str().unwrap().to_string();
            let value = std::fs::read_to_string(&file).unwrap();
            let new = match env.get(&name) {
                Some(current) if root_vars.contains(&name.as_str()) && !current.is_empty() => {
                    format!("{value}:{current}")
                }
                _ => value,
            };
            env.insert(name, new);
        }
    }

    /// `CNB_TARGET_*` for heroku/builder:24's run image (Ubuntu 24.04).
    fn target_env(&self) -> [(&'static str, String); 4] {
        [
            ("CNB_TARGET_OS", "linux".to_string()),
            ("CNB_TARGET_ARCH", self.target_arch.borrow().clone()),
            ("CNB_TARGET_DISTRO_NAME", "ubuntu".to_string()),
            ("CNB_TARGET_DISTRO_VERSION", "24.04".to_string()),
        ]
    }

    /// `bin/detect <platform> <plan>` (buildpack/detect.go), the app as working directory.
    pub(crate) fn detect(&self, buildpack: &Path) -> Phase {
        let buildpack = self.install(buildpack);
        let plan_dir = tempfile::tempdir_in(self.root.path().join("plans")).unwrap();
        let plan = plan_dir.path().join("plan.toml");
        std::fs::write(&plan, "").unwrap();
        Self::give_to_cnb_user(plan_dir.path());
        let mut env = self.builder_env();
        self.apply_platform_env(&mut env);
        env.insert("CNB_BUILDPACK_DIR".into(), path_text(&buildpack));
        env.insert("CNB_PLATFORM_DIR".into(), path_text(&self.platform()));
        env.insert("CNB_BUILD_PLAN_PATH".into(), path_text(&plan));
        env.extend(self.target_env().map(|(k, v)| (k.to_string(), v)));
        self.run_phase(
            &buildpack.join("bin/detect"),
            &[&self.platform(), &plan],
            &env,
        )
    }

    /// `bin/build <layers> <platform> <plan>` (buildpack/build.go), with this buildpack's
    /// own layers directory, after the buildpacks simulated before it.
    pub(crate) fn build(&self, buildpack: &Path) -> Phase {
        let buildpack = self.install(buildpack);
        let layers = self.buildpack_layers(&buildpack_id(&buildpack));
        std::fs::create_dir_all(&layers).unwrap();
        Self::give_to_cnb_user(&layers);
        let plan_dir = tempfile::tempdir_in(self.root.path().join("plans")).unwrap();
        let plan = plan_dir.path().join("plan.toml");
        std::fs::write(&plan, "").unwrap();
        Self::give_to_cnb_user(plan_dir.path());
        let mut env = self.builder_env();
        // `setupEnv`: each build layer of each earlier buildpack, by name, in turn.
        for id in self.earlier.borrow().iter() {
            for layer in typed_layers(&self.buildpack_layers(id), "build") {
                add_root_dir(&mut env, &layer, &BUILD_ROOT_DIRS);
                apply_env_dir(&mut env, &layer.join("env"));
                apply_env_dir(&mut env, &layer.join("env.build"));
            }
        }
        self.apply_platform_env(&mut env);
        env.insert("CNB_BUILDPACK_DIR".into(), path_text(&buildpack));
        env.insert("CNB_PLATFORM_DIR".into(), path_text(&self.platform()));
        env.insert("CNB_BP_PLAN_PATH".into(), path_text(&plan));
        env.insert("CNB_LAYERS_DIR".into(), path_text(&layers));
        env.extend(self.target_env().map(|(k, v)| (k.to_string(), v)));
        self.run_phase(
            &buildpack.join("bin/build"),
            &[&layers, &self.platform(), &plan],
            &env,
        )
    }

    fn run_phase(&self, program: &Path, args: &[&Path], env: &BTreeMap<String, String>) -> Phase {
        let (mut reader, writer) = std::io::pipe().unwrap();
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(self.app())
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(writer.try_clone().unwrap())
            .stderr(writer);
        if is_root() {
            command.uid(CNB_USER.0).gid(CNB_USER.1);
        }
        if let Some(umask) = *self.umask.borrow() {
            // SAFETY: umask is async-signal-safe and changes the child's mask only.
            #[allow(
                unsafe_code,
                reason = "a child's umask can only be set between fork and exec"
            )]
            unsafe {
                command.pre_exec(move || {
                    libc::umask(umask as libc::mode_t);
                    Ok(())
                });
            }
        }
        let mut child = command.spawn().unwrap();
        // The parent's copies of the write end, so that the read ends with the child.
        drop(command);
        let mut output = vec![];
        reader.read_to_end(&mut output).unwrap();
        let status = child.wait().unwrap();
        Phase {
            code: status.code(),
            output: String::from_utf8_lossy(&output).into_owned(),
        }
    }

    /// The launch of a process, up to the moment it would start: `runtime_env` is what the
    /// container gets (`docker run -e`, Heroku's config vars). `group` lists the buildpack
    /// ids in order.
    pub(crate) fn launch(&self, group: &[&str], runtime_env: &[(&str, &str)]) -> Launch {
        // The image's own environment, as the exporter writes it.
        let mut env: BTreeMap<String, String> = BTreeMap::from([
            (
                "PATH".to_string(),
                format!("{}:{}", LIFECYCLE_PATH_DIRS.join(":"), self.image_path),
            ),
            ("CNB_LAYERS_DIR".to_string(), path_text(&self.layers())),
            ("CNB_APP_DIR".to_string(), path_text(&self.app())),
            ("CNB_PLATFORM_API".to_string(), "0.13".to_string()),
            ("CNB_DEPRECATION_MODE".to_string(), "quiet".to_string()),
        ]);
        for (name, value) in runtime_env {
            env.insert(name.to_string(), value.to_string());
        }
        // `NewLaunchEnv`.
        env.retain(|name, _| !LAUNCH_ENV_EXCLUDED.contains(&name.as_str()));
        let path: Vec<&str> = env["PATH"]
            .split(':')
            .filter(|dir| !LIFECYCLE_PATH_DIRS.contains(dir))
            .collect();
        env.insert("PATH".into(), path.join(":"));
        // `doEnv`: per buildpack, every layer's bin/ and lib/, then every layer's env files.
        for id in group {
            let layers = typed_layers(&self.buildpack_layers(id), "launch");
            for layer in &layers {
                add_root_dir(&mut env, layer, &LAUNCH_ROOT_DIRS);
            }
            for layer in &layers {
                apply_env_dir(&mut env, &layer.join("env"));
                apply_env_dir(&mut env, &layer.join("env.launch"));
            }
        }
        let env_before_exec_d = env.clone();
        let mut exec_d = vec![];
        for id in group {
            for layer in typed_layers(&self.buildpack_layers(id), "launch") {
                for program in sorted_files(&layer.join("exec.d")) {
                    let run = run_exec_d(&program, &env, &self.app());
                    if run.code == Some(0) {
                        let output: toml::Table = run
                            .fd3
                            .parse()
                            .unwrap_or_else(|e| panic!("exec.d output is not TOML: {e}"));
                        for (name, value) in output {
                            let value = value
                                .as_str()
                                .unwrap_or_else(|| panic!("exec.d set {name} to a non-string"));
                            env.insert(name, value.to_string());
                        }
                    }
                    exec_d.push(run);
                }
            }
        }
        Launch {
            env,
            env_before_exec_d,
            exec_d,
            app: self.app(),
        }
    }
}

impl Drop for Lifecycle {
    /// Without root the store was made read-only with mode bits: make it removable again.
    fn drop(&mut self) {
        let store = self.root.path().join("cnb");
        if is_root() || !store.exists() {
            return;
        }
        for path in std::iter::once(store.clone()).chain(walk(&store)) {
            if path.is_dir() && !path.is_symlink() {
                let _ = std::fs::set_permissions(&path, PermissionsExt::from_mode(0o755));
            }
        }
    }
}

fn path_text(path: &Path) -> String {
    path.to_str().expect("test paths are UTF-8").to_string()
}

/// The host's PHP binary, which stands for the one heroku/php installs.
fn host_php() -> PathBuf {
    IMAGE_PATH_DIRS
        .iter()
        .map(|dir| Path::new(dir).join("php"))
        .find(|php| php.is_file())
        .map(|php| std::fs::canonicalize(php).unwrap())
        .expect("no php on this machine: scripts/test.sh installs it")
}

/// The images' `PATH` without PHP: one directory of links to every program of
/// `IMAGE_PATH_DIRS` but PHP's, made once per test process (links are slow to make here)
/// in the system's temporary directory, where the CNB user can read it. Those of test
/// processes that have ended are removed first.
fn image_bin_without_php() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        const PREFIX: &str = "php-redis-sessions-image-bin-";
        let tmp = std::env::temp_dir();
        for entry in std::fs::read_dir(&tmp).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix(PREFIX)
                && !Path::new("/proc").join(pid).exists()
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let bin = tmp.join(format!("{PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&bin);
        std::fs::create_dir(&bin).unwrap();
        std::fs::set_permissions(&bin, PermissionsExt::from_mode(0o755)).unwrap();
        link_programs_but_php(&bin);
        bin
    })
}

/// Fills `bin` with links to every program of the images' `PATH` but PHP's.
fn link_programs_but_php(bin: &Path) {
    for dir in IMAGE_PATH_DIRS {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries {
            let name = entry.unwrap().file_name();
            let text = name.to_string_lossy();
            if text.starts_with("php") || text.starts_with("phar") {
                continue;
            }
            let link = bin.join(&name);
            if std::fs::symlink_metadata(&link).is_err() {
                std::os::unix::fs::symlink(Path::new(dir).join(&name), link).unwrap();
            }
        }
    }
}

/// The layers of one buildpack whose `<layer>.toml` has `[types] <kind> = true`, in the
/// lifecycle's order (by name).
fn typed_layers(buildpack_layers: &Path, kind: &str) -> Vec<PathBuf> {
    let mut layers = vec![];
    for file in sorted_files(buildpack_layers) {
        let Some(name) = file
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .strip_suffix(".toml")
        else {
            continue;
        };
        let metadata: toml::Table = std::fs::read_to_string(&file).unwrap().parse().unwrap();
        let typed = metadata
            .get("types")
            .and_then(|t| t.get(kind))
            .and_then(toml::Value::as_bool)
            .unwrap_or(false);
        let dir = buildpack_layers.join(name);
        if typed && dir.is_dir() {
            layers.push(dir);
        }
    }
    layers
}

fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// `AddRootDir` (env/env.go): each of the layer's directories that exists is prepended to
/// its variables, with `:`.
pub(crate) fn add_root_dir(
    env: &mut BTreeMap<String, String>,
    layer: &Path,
    root_dirs: &[(&str, &[&str])],
) {
    for (dir, vars) in root_dirs {
        let child = layer.join(dir);
        if !child.is_dir() {
            continue;
        }
        for var in *vars {
            let new = match env.get(*var) {
                Some(current) if !current.is_empty() => format!("{}:{current}", child.display()),
                _ => child.display().to_string(),
            };
            env.insert((*var).to_string(), new);
        }
    }
}

/// Applies one env directory of a layer by the spec's modification rules, as `AddEnvDir`
/// (env/env.go) does: files by name; the variable's name is the file name up to the first
/// `.`; `NAME.delim` separates this directory's appends and prepends; no suffix overrides
/// (Buildpack API 0.5 and later); an unknown suffix is ignored; values are used as they
/// are, never through a shell.
pub(crate) fn apply_env_dir(env: &mut BTreeMap<String, String>, dir: &Path) {
    let files = sorted_files(dir);
    let read = |file: &Path| std::fs::read_to_string(file).unwrap();
    let split = |file: &Path| {
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        match name.split_once('.') {
            Some((var, suffix)) => (var.to_string(), suffix.to_string()),
            None => (name, String::new()),
        }
    };
    let mut delims = BTreeMap::new();
    for file in &files {
        let (var, suffix) = split(file);
        if suffix == "delim" {
            delims.insert(var, read(file));
        }
    }
    for file in &files {
        let (var, suffix) = split(file);
        let value = read(file);
        let delim = delims.get(&var).cloned().unwrap_or_default();
        let current = env.get(&var).cloned().unwrap_or_default();
        #[allow(
            clippy::match_same_arms,
            reason = "one arm per rule of the spec, in the spec's words"
        )]
        let new = match suffix.as_str() {
            "" | "override" => value,
            "default" if current.is_empty() => value,
            "append" if current.is_empty() => value,
            "append" => format!("{current}{delim}{value}"),
            "prepend" if current.is_empty() => value,
            "prepend" => format!("{value}{delim}{current}"),
            _ => continue,
        };
        env.insert(var, new);
    }
}

/// One exec.d run: its exit code, what it printed and what it wrote to fd 3.
pub(crate) struct ExecDRun {
    pub program: PathBuf,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub fd3: String,
}

/// Runs an exec.d program as the launcher does: the launch environment, the app as working
/// directory, and file descriptor 3 the write end of a pipe this side reads.
pub(crate) fn run_exec_d(program: &Path, env: &BTreeMap<String, String>, app: &Path) -> ExecDRun {
    let (mut reader, writer) = std::io::pipe().unwrap();
    let writer_fd = writer.as_raw_fd();
    let mut command = Command::new(program);
    command
        .current_dir(app)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: dup2 is async-signal-safe; it puts the pipe's write end at fd 3, without
    // close-on-exec, in the child only.
    #[allow(
        unsafe_code,
        reason = "the launcher's fd 3 can only be set up between fork and exec"
    )]
    unsafe {
        command.pre_exec(move || {
            if libc::dup2(writer_fd, 3) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = command.spawn().unwrap();
    drop(writer);
    let reading = std::thread::spawn(move || {
        let mut fd3 = String::new();
        reader.read_to_string(&mut fd3).unwrap();
        fd3
    });
    let output = child.wait_with_output().unwrap();
    ExecDRun {
        program: program.to_path_buf(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        fd3: reading.join().unwrap(),
    }
}

/// The environment a process starts with, and how it came to be.
pub(crate) struct Launch {
    pub env: BTreeMap<String, String>,
    pub env_before_exec_d: BTreeMap<String, String>,
    pub exec_d: Vec<ExecDRun>,
    pub app: PathBuf,
}

impl Launch {
    /// A direct process (as Procfile processes are): no shell, exactly the launch env.
    pub(crate) fn command(&self, program: &str, args: &[&str], extra: &[(&str, &str)]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(&self.app)
            .env_clear()
            .envs(&self.env)
            .stdin(Stdio::null());
        for (name, value) in extra {
            command.env(name, value);
        }
        command
    }

    pub(crate) fn run(&self, program: &str, args: &[&str], extra: &[(&str, &str)]) -> Ran {
        self.command(program, args, extra).output().unwrap().into()
    }

    /// The exec.d runs' output, all of it, for secret scans.
    pub(crate) fn exec_d_output(&self) -> String {
        let mut output = String::new();
        for run in &self.exec_d {
            output.push_str(&run.stdout);
            output.push_str(&run.stderr);
        }
        output
    }
}
