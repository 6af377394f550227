//! The Cloud Native Buildpacks lifecycle played by the spec (Buildpack API 0.10), without
//! Docker or pack: detect and build run with the variables the lifecycle sets; launch
//! applies every launch layer's env files (override, default, append, prepend, delim) in
//! group order, then runs every exec.d program with file descriptor 3 open on a pipe and
//! applies the TOML it writes, as the launcher does before a process starts.

use crate::support::{Ran, copy_dir};
use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The id of the PHP buildpack that runs before this one.
pub(crate) const PHP_BUILDPACK_ID: &str = "heroku/php";
/// Marker the simulated PHP buildpack's own ini sets, to show its conf.d is still loaded.
pub(crate) const PHP_LAYER_MARKER: &str = "heroku-php-layer";

/// This buildpack's id, read from buildpack.toml by a real TOML parser.
pub(crate) fn buildpack_id(buildpack_dir: &Path) -> String {
    let text = std::fs::read_to_string(buildpack_dir.join("buildpack.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    table["buildpack"]["id"].as_str().unwrap().to_string()
}

/// The directory name the lifecycle gives a buildpack's layers.
pub(crate) fn escaped(id: &str) -> String {
    id.replace('/', "_")
}

/// One build: the app (`/workspace`), the layers (`/layers`) and the platform directory.
pub(crate) struct Lifecycle {
    root: tempfile::TempDir,
}

impl Lifecycle {
    /// A build of a copy of `app`.
    pub(crate) fn new(app: &Path) -> Lifecycle {
        let root = tempfile::tempdir().unwrap();
        for dir in ["workspace", "layers", "platform/env", "plans"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        copy_dir(app, &root.path().join("workspace"));
        Lifecycle { root }
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

    /// User-provided variables as the platform gives them to buildpacks (`pack build
    /// --env`): one file each in `<platform>/env/`.
    pub(crate) fn set_platform_env(&self, vars: &[(&str, &str)]) {
        for (name, value) in vars {
            std::fs::write(self.platform().join("env").join(name), value).unwrap();
        }
    }

    /// What heroku/php leaves before this buildpack runs: a launch layer `php` whose conf.d
    /// loads PHP's extensions (here the host's, as heroku/php's loads its own) plus an ini
    /// of its own, and `PHP_INI_SCAN_DIR` set to that conf.d as an *override*, so PHP's
    /// compiled-in scan directory is no longer read. Returns that conf.d.
    pub(crate) fn simulate_php_buildpack(&self) -> PathBuf {
        let layers = self.buildpack_layers(PHP_BUILDPACK_ID);
        let layer = layers.join("php");
        let conf_d = layer.join("etc/php/conf.d");
        std::fs::create_dir_all(&conf_d).unwrap();
        let scanned = Command::new("php")
            .args(["-r", "echo php_ini_scanned_files();"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .output()
            .unwrap();
        let scanned = String::from_utf8(scanned.stdout).unwrap();
        let mut copied = 0;
        for file in scanned.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let file = Path::new(file);
            std::fs::copy(file, conf_d.join(file.file_name().unwrap())).unwrap();
            copied += 1;
        }
        assert!(copied > 0, "the host's PHP scans no ini files");
        std::fs::write(
            conf_d.join("zz-heroku-php.ini"),
            format!("user_agent = \"{PHP_LAYER_MARKER}\"\n"),
        )
        .unwrap();
        let env = layer.join("env.launch");
        std::fs::create_dir_all(&env).unwrap();
        std::fs::write(
            env.join("PHP_INI_SCAN_DIR.override"),
            conf_d.to_str().unwrap(),
        )
        .unwrap();
        std::fs::write(
            layers.join("php.toml"),
            "[types]\nlaunch = true\nbuild = false\ncache = false\n",
        )
        .unwrap();
        conf_d
    }

    /// `bin/detect`: no arguments, the app as working directory, the lifecycle's variables,
    /// and the user's variables in the environment (`clear-env = false`).
    pub(crate) fn detect(&self, buildpack: &Path, user_env: &[(&str, &str)]) -> Ran {
        let plan = self.root.path().join("plans/build-plan.toml");
        let mut command = self.phase_command(&buildpack.join("bin/detect"), user_env);
        command
            .env("CNB_BUILDPACK_DIR", buildpack)
            .env("CNB_PLATFORM_DIR", self.platform())
            .env("CNB_BUILD_PLAN_PATH", &plan);
        command.output().unwrap().into()
    }

    /// `bin/build` of the buildpack `buildpack`, with its own layers directory.
    pub(crate) fn build(&self, buildpack: &Path, user_env: &[(&str, &str)]) -> Ran {
        let layers = self.buildpack_layers(&buildpack_id(buildpack));
        std::fs::create_dir_all(&layers).unwrap();
        let plan = self.root.path().join("plans/bp-plan.toml");
        std::fs::write(&plan, "").unwrap();
        let mut command = self.phase_command(&buildpack.join("bin/build"), user_env);
        command
            .env("CNB_BUILDPACK_DIR", buildpack)
            .env("CNB_PLATFORM_DIR", self.platform())
            .env("CNB_LAYERS_DIR", &layers)
            .env("CNB_BP_PLAN_PATH", &plan);
        command.output().unwrap().into()
    }

    fn phase_command(&self, program: &Path, user_env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(self.app())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env("CNB_TARGET_OS", "linux")
            .env("CNB_TARGET_ARCH", "amd64")
            .stdin(Stdio::null());
        for (name, value) in user_env {
            command.env(name, value);
        }
        command
    }

    /// The launch of a process, up to the moment it would start: `runtime_env` is what the
    /// container gets (`docker run -e`, Heroku's config vars). `group` lists the buildpack
    /// ids in order.
    pub(crate) fn launch(&self, group: &[&str], runtime_env: &[(&str, &str)]) -> Launch {
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        env.insert("PATH".into(), std::env::var("PATH").unwrap());
        env.insert("CNB_APP_DIR".into(), self.app().display().to_string());
        env.insert("CNB_LAYERS_DIR".into(), self.layers().display().to_string());
        for (name, value) in runtime_env {
            env.insert(name.to_string(), value.to_string());
        }
        let layers: Vec<PathBuf> = group
            .iter()
            .flat_map(|id| launch_layers(&self.buildpack_layers(id)))
            .collect();
        for layer in &layers {
            if layer.join("bin").is_dir() {
                let path = format!("{}:{}", layer.join("bin").display(), env["PATH"]);
                env.insert("PATH".into(), path);
            }
            for dir in ["env", "env.launch"] {
                apply_env_dir(&mut env, &layer.join(dir));
            }
        }
        let env_before_exec_d = env.clone();
        let mut exec_d = vec![];
        for layer in &layers {
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
        Launch {
            env,
            env_before_exec_d,
            exec_d,
            app: self.app(),
        }
    }
}

/// The layers of one buildpack with `launch = true`, in the spec's order (by name).
fn launch_layers(buildpack_layers: &Path) -> Vec<PathBuf> {
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
        let launch = metadata
            .get("types")
            .and_then(|t| t.get("launch"))
            .and_then(toml::Value::as_bool)
            .unwrap_or(false);
        let dir = buildpack_layers.join(name);
        if launch && dir.is_dir() {
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

/// Applies one env directory of a layer by the spec's modification rules. The variable's
/// name is the file name up to the first `.`; `NAME.delim` separates this layer's appends
/// and prepends; values are used as they are, never through a shell.
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
            "default" | "delim" => continue,
            "append" if current.is_empty() => value,
            "append" => format!("{current}{delim}{value}"),
            "prepend" if current.is_empty() => value,
            "prepend" => format!("{value}{delim}{current}"),
            other => panic!("{}: unknown env file suffix .{other}", file.display()),
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
