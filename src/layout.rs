//! Where the buildpack's files live in a classic slug and in a CNB launch layer, what they
//! hold, and writing them. Static content only: no secret, no build path. Every file is
//! written through a temporary file in its directory and renamed into place, so a failed
//! step leaves nothing half-written behind, and a running helper is never overwritten.

use crate::boot::{HandlerFiles, Installed};
use crate::cnb_spec::{self, LayerTypes};
use crate::composer::Framework;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub(crate) const HELPER_NAME: &str = "php-redis-sessions";
/// The ini PHP loads once boot adds its directory to `PHP_INI_SCAN_DIR`.
pub(crate) const SESSION_INI: &str = include_str!("../files/php-redis-sessions.ini");
pub(crate) const INI_DIR: &str = "conf.d";
pub(crate) const INI_NAME: &str = "php-redis-sessions.ini";
/// The buildpack's own session handler, and the ini that has PHP run it before the app
/// (in a directory of its own, which boot adds to the scan path only when it is chosen).
pub(crate) const HANDLER_PHP: &str = include_str!("../files/session-handler.php");
pub(crate) const HANDLER_DIR: &str = "php";
pub(crate) const HANDLER_NAME: &str = "session-handler.php";
pub(crate) const HANDLER_INI: &str = include_str!("../files/php-redis-sessions-handler.ini");
pub(crate) const HANDLER_INI_DIR: &str = "conf.d-handler";
pub(crate) const HANDLER_INI_NAME: &str = "php-redis-sessions-handler.ini";

/// Classic: everything lives in this directory of the slug (`/app/.php-redis-sessions`).
pub(crate) const CLASSIC_ROOT: &str = ".php-redis-sessions";
pub(crate) const CLASSIC_HELPER_DIR: &str = "bin";
/// Sourced by bash before every dyno process. Numbered after the PHP buildpack's own
/// `100-php.sh` and `110-...` scripts.
pub(crate) const PROFILE_SCRIPT: &str = include_str!("../files/profile.sh");
pub(crate) const PROFILE_SCRIPT_PATH: &str = ".profile.d/200-php-redis-sessions.sh";

/// This app's namespace for session keys, beside `conf.d/` in the slug and the layer.
pub(crate) const NAMESPACE_NAME: &str = "namespace";
/// The phpredis version the build found, beside it: boot picks settings by version.
pub(crate) const PHPREDIS_NAME: &str = "phpredis";
/// The frameworks composer.lock shows, one per line.
pub(crate) const FRAMEWORKS_NAME: &str = "frameworks";
/// The `auto_prepend_file` of PHP's ini files, which the buildpack's handler runs.
pub(crate) const APP_PREPEND_NAME: &str = "app-prepend-file";
/// The app's file that sets `auto_prepend_file` where it would replace the handler's.
pub(crate) const PREPEND_ELSEWHERE_NAME: &str = "prepend-elsewhere";

/// What the build learned that boot needs, written beside the session ini. Nothing
/// secret: a namespace of random digits, a version number, framework names and paths of
/// the app's own files.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub(crate) namespace: Option<String>,
    /// phpredis' version, as the PHP buildpack's PHP reported it.
    pub(crate) phpredis: Option<String>,
    pub(crate) frameworks: Vec<Framework>,
    pub(crate) app_prepend_file: Option<String>,
    pub(crate) prepend_elsewhere: Option<String>,
}

/// CNB: the launch layer this buildpack writes, `<layers>/sessions/`.
pub(crate) const LAYER_NAME: &str = "sessions";
/// CNB: the cache layer that keeps the namespace from build to build.
pub(crate) const NAMESPACE_LAYER: &str = "namespace";
/// Classic: where the namespace is kept in the build cache.
pub(crate) const CLASSIC_CACHE_DIR: &str = "php-redis-sessions";
/// CNB: the helper is in the layer's `bin/` (the launcher puts it on PATH, for the doctor)
/// and the layer's exec.d program is a small script that runs it and never fails the
/// launch, even if the helper cannot start.
pub(crate) const CNB_HELPER_DIR: &str = "bin";
pub(crate) const EXEC_D_SCRIPT: &str = include_str!("../files/exec-d.sh");

/// Installs the classic slug's files under `build_dir`: the helper, the session ini and
/// the namespace in `.php-redis-sessions/`, and the `.profile.d` script.
pub(crate) fn install_classic(build_dir: &Path, facts: &Facts) -> io::Result<()> {
    let root = build_dir.join(CLASSIC_ROOT);
    install_helper_tree(&root, CLASSIC_HELPER_DIR)?;
    install_facts(&root, facts)?;
    write_file(&build_dir.join(PROFILE_SCRIPT_PATH), PROFILE_SCRIPT, 0o644)
}

/// Where the namespace is kept between builds: classic, in the build cache; CNB, in a
/// cache layer.
pub(crate) fn namespace_cache(platform_cache: &Path, cnb: bool) -> PathBuf {
    let dir = if cnb {
        NAMESPACE_LAYER
    } else {
        CLASSIC_CACHE_DIR
    };
    platform_cache.join(dir).join(NAMESPACE_NAME)
}

/// The app's namespace for session keys: the one kept in `cache_file`, else a new one
/// (16 random hex digits) written there; `true` when it is new.
pub(crate) fn keep_namespace(cache_file: &Path) -> io::Result<(String, bool)> {
    if let Some(kept) = fs::read_to_string(cache_file)
        .ok()
        .map(|text| text.trim().to_string())
        .filter(|text| is_namespace(text))
    {
        return Ok((kept, false));
    }
    let mut bytes = [0u8; 8];
    io::Read::read_exact(&mut fs::File::open("/dev/urandom")?, &mut bytes)?;
    let namespace = bytes.iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    });
    write_file(cache_file, &format!("{namespace}\n"), 0o644)?;
    Ok((namespace, true))
}

/// 1 to 32 lowercase letters and digits: what a namespace file may hold.
fn is_namespace(text: &str) -> bool {
    (1..=32).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

fn install_facts(root: &Path, facts: &Facts) -> io::Result<()> {
    let frameworks = (!facts.frameworks.is_empty()).then(|| {
        facts
            .frameworks
            .iter()
            .map(|framework| framework.id())
            .collect::<Vec<_>>()
            .join("\n")
    });
    for (name, value) in [
        (NAMESPACE_NAME, &facts.namespace),
        (PHPREDIS_NAME, &facts.phpredis),
        (FRAMEWORKS_NAME, &frameworks),
        (APP_PREPEND_NAME, &facts.app_prepend_file),
        (PREPEND_ELSEWHERE_NAME, &facts.prepend_elsewhere),
    ] {
        if let Some(value) = value {
            write_file(&root.join(name), &format!("{value}\n"), 0o644)?;
        }
    }
    Ok(())
}

/// A fact file's one line, if it holds one (a path may hold any character but a line
/// break).
fn read_fact(root: &Path, name: &str) -> Option<String> {
    let text = fs::read_to_string(root.join(name)).ok()?;
    let line = text.strip_suffix('\n').unwrap_or(&text);
    (!line.is_empty() && !line.contains('\n')).then(|| line.to_string())
}

/// Writes `<layers>/sessions/` afresh (a launch layer from an earlier build is never
/// restored, but a rerun in the same build must not keep stale files) and its metadata:
/// `bin/php-redis-sessions` (the helper; the launcher's PATH, which takes every launch
/// layer's `bin/`, makes it the doctor command), `exec.d/php-redis-sessions` (the script
/// that runs it at launch) and `conf.d/php-redis-sessions.ini`. Nothing in it depends on
/// the app, the environment or the build.
pub(crate) fn install_cnb_layer(layers_dir: &Path, facts: &Facts) -> io::Result<()> {
    let layer = layers_dir.join(LAYER_NAME);
    match fs::remove_dir_all(&layer) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    install_helper_tree(&layer, CNB_HELPER_DIR)?;
    write_file(
        &layer.join("exec.d").join(HELPER_NAME),
        EXEC_D_SCRIPT,
        0o755,
    )?;
    install_facts(&layer, facts)?;
    if facts.namespace.is_some() {
        let kept = cnb_spec::layer_toml(LayerTypes {
            launch: false,
            build: false,
            cache: true,
        });
        write_file(
            &layers_dir.join(format!("{NAMESPACE_LAYER}.toml")),
            &kept,
            0o644,
        )?;
    }
    let metadata = cnb_spec::layer_toml(LayerTypes {
        launch: true,
        build: false,
        cache: false,
    });
    write_file(
        &layers_dir.join(format!("{LAYER_NAME}.toml")),
        &metadata,
        0o644,
    )
}

/// Writes the helper (a copy of the running executable) into `root/helper_dir/` and the
/// session ini into `root/conf.d/`. The ini directory is found at boot next to the
/// helper's own directory (`bin/` in both the classic slug and the CNB layer).
fn install_helper_tree(root: &Path, helper_dir: &str) -> io::Result<()> {
    let helper = std::env::current_exe()?;
    let target = root.join(helper_dir).join(HELPER_NAME);
    if fs::canonicalize(&target).ok() != Some(fs::canonicalize(&helper)?) {
        write_atomically(&target, 0o755, |file| {
            io::copy(&mut fs::File::open(&helper)?, file).map(|_| ())
        })?;
    }
    write_file(&root.join(INI_DIR).join(INI_NAME), SESSION_INI, 0o644)?;
    write_file(
        &root.join(HANDLER_DIR).join(HANDLER_NAME),
        HANDLER_PHP,
        0o644,
    )?;
    write_file(
        &root.join(HANDLER_INI_DIR).join(HANDLER_INI_NAME),
        HANDLER_INI,
        0o644,
    )
}

fn write_file(path: &Path, contents: &str, mode: u32) -> io::Result<()> {
    write_atomically(path, mode, |file| file.write_all(contents.as_bytes()))
}

/// Creates `path`'s directory, writes a temporary file there with `fill`, gives it `mode`
/// and renames it to `path`. On any failure the temporary file is removed.
fn write_atomically(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut fs::File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dirs(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".php-redis-sessions.")
        .tempfile_in(dir)?;
    fill(temp.as_file_mut())?;
    temp.as_file()
        .set_permissions(fs::Permissions::from_mode(mode))?;
    temp.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// Creates `dir` and its missing parents, each with mode 755 whatever the umask; leaves
/// the ones that exist as they are.
fn create_dirs(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent)?;
    }
    match fs::create_dir(dir) {
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
        Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(0o755)),
    }
}

/// What the build installed beside this running helper, found from the path it was
/// started by (the boot hooks start it by its full path), else from `/proc/self/exe`:
/// the session ini's directory (only if the ini is there, and its path is UTF-8) and the
/// app's namespace.
pub(crate) fn own_installed() -> Installed {
    let started_as = std::env::args_os()
        .next()
        .map(PathBuf::from)
        .filter(|path| path.is_absolute());
    let Some(root) = started_as
        .or_else(|| std::env::current_exe().ok())
        .and_then(|helper| Some(helper.parent()?.parent()?.to_path_buf()))
    else {
        return Installed::default();
    };
    let root = fs::canonicalize(&root).unwrap_or(root);
    let installed_path = |dir: PathBuf, file: &str, want_dir: bool| {
        dir.join(file)
            .is_file()
            .then(|| if want_dir { dir } else { dir.join(file) })
            .and_then(|path| path.into_os_string().into_string().ok())
    };
    let handler_file = installed_path(root.join(HANDLER_DIR), HANDLER_NAME, false);
    let handler_ini_dir = installed_path(root.join(HANDLER_INI_DIR), HANDLER_INI_NAME, true);
    Installed {
        ini_dir: installed_path(root.join(INI_DIR), INI_NAME, true),
        handler: handler_file
            .zip(handler_ini_dir)
            .map(|(php, ini_dir)| HandlerFiles { php, ini_dir }),
        frameworks: fs::read_to_string(root.join(FRAMEWORKS_NAME))
            .map(|text| text.lines().filter_map(Framework::from_id).collect())
            .unwrap_or_default(),
        app_prepend_file: read_fact(&root, APP_PREPEND_NAME),
        prepend_elsewhere: read_fact(&root, PREPEND_ELSEWHERE_NAME),
        namespace: fs::read_to_string(root.join(NAMESPACE_NAME))
            .ok()
            .map(|text| text.trim().to_string())
            .filter(|text| is_namespace(text)),
        phpredis_built: read_fact(&root, PHPREDIS_NAME),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_files_reference_only_the_environment() {
        for name in crate::boot::INI_VARS {
            assert!(SESSION_INI.contains(&format!("\"${{{name}}}\"")), "{name}");
        }
        assert!(HANDLER_INI.contains(&format!("\"${{{}}}\"", crate::boot::AUTO_PREPEND_VAR)));
        assert!(HANDLER_PHP.contains(crate::boot::HANDLER_CONFIG_VAR));
        assert!(HANDLER_PHP.contains(crate::boot::APP_PREPEND_VAR));
        assert!(PROFILE_SCRIPT.contains("/.php-redis-sessions/bin"));
        assert!(PROFILE_SCRIPT.contains("/php-redis-sessions\" boot --shell"));
    }

    #[test]
    fn the_namespace_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = namespace_cache(dir.path(), false);
        let (first, new) = keep_namespace(&file).unwrap();
        assert!(new && first.len() == 16 && is_namespace(&first), "{first}");
        assert_eq!(keep_namespace(&file).unwrap(), (first.clone(), false));
        fs::write(&file, "not/a namespace").unwrap();
        let (other, new) = keep_namespace(&file).unwrap();
        assert!(new && other != first);
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("file");
        let failed = write_atomically(&target, 0o644, |file| {
            file.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        write_file(&target, "whole", 0o640).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "whole");
        assert_eq!(
            fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
