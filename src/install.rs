//! The files a build leaves behind for boot: the helper itself, the session ini and (on
//! classic) the `.profile.d` script. Static content only: no secret, no build path.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub const HELPER_NAME: &str = "php-redis-sessions";
/// The ini PHP loads once boot adds its directory to `PHP_INI_SCAN_DIR`.
pub const SESSION_INI: &str = include_str!("../files/php-redis-sessions.ini");
pub const INI_DIR: &str = "conf.d";
pub const INI_NAME: &str = "php-redis-sessions.ini";

/// Classic: everything lives in this directory of the slug (`/app/.php-redis-sessions`).
pub const CLASSIC_ROOT: &str = ".php-redis-sessions";
pub const CLASSIC_HELPER_DIR: &str = "bin";
/// CNB: the helper is the layer's exec.d program, which the launcher runs before every
/// process; the session ini is in the layer's `conf.d/`, found from the helper's location.
pub const CNB_HELPER_DIR: &str = "exec.d";
/// Sourced by bash before every dyno process. Numbered after the PHP buildpack's own
/// `100-php.sh` and `110-...` scripts.
pub const PROFILE_SCRIPT: &str = include_str!("../files/profile.sh");
pub const PROFILE_SCRIPT_PATH: &str = ".profile.d/200-php-redis-sessions.sh";

/// Writes the helper (a copy of the running executable) into `root/helper_dir/` and the
/// session ini into `root/conf.d/`. The ini directory is found at boot next to the
/// helper's own directory, so both classic (`bin/`) and CNB (`exec.d/`) use this.
pub fn install_helper_tree(root: &Path, helper_dir: &str) -> io::Result<()> {
    let helper = std::env::current_exe()?;
    let target_dir = root.join(helper_dir);
    fs::create_dir_all(&target_dir)?;
    let target = target_dir.join(HELPER_NAME);
    if fs::canonicalize(&target).ok() != Some(fs::canonicalize(&helper)?) {
        // Through a new file and a rename: a running helper is never overwritten in place.
        let partial = target_dir.join(format!(".{HELPER_NAME}.partial"));
        fs::copy(&helper, &partial)?;
        fs::set_permissions(&partial, fs::Permissions::from_mode(0o755))?;
        fs::rename(&partial, &target)?;
    }
    write_file(&root.join(INI_DIR).join(INI_NAME), SESSION_INI, 0o644)
}

/// Installs the classic slug's files under `build_dir`.
pub fn install_classic(build_dir: &Path) -> io::Result<()> {
    install_helper_tree(&build_dir.join(CLASSIC_ROOT), CLASSIC_HELPER_DIR)?;
    write_file(&build_dir.join(PROFILE_SCRIPT_PATH), PROFILE_SCRIPT, 0o644)
}

/// Installs a CNB layer's files in `layer_dir`: `exec.d/php-redis-sessions`,
/// `conf.d/php-redis-sessions.ini`, and `bin/php-redis-sessions`, a link to the exec.d
/// program that the launcher's PATH (which takes every launch layer's `bin/`) makes the
/// doctor command.
pub fn install_cnb_layer(layer_dir: &Path) -> io::Result<()> {
    install_helper_tree(layer_dir, CNB_HELPER_DIR)?;
    let bin = layer_dir.join("bin");
    fs::create_dir_all(&bin)?;
    let link = bin.join(HELPER_NAME);
    if fs::symlink_metadata(&link).is_ok() {
        fs::remove_file(&link)?;
    }
    std::os::unix::fs::symlink(Path::new("..").join(CNB_HELPER_DIR).join(HELPER_NAME), link)
}

pub fn write_file(path: &Path, contents: &str, mode: u32) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, contents)?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// Where boot finds the session ini: `conf.d` beside the directory holding the helper.
pub fn ini_dir_for_helper(helper: &Path) -> Option<std::path::PathBuf> {
    Some(helper.parent()?.parent()?.join(INI_DIR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_dir_is_beside_the_helper_dir() {
        assert_eq!(
            ini_dir_for_helper(Path::new("/app/.php-redis-sessions/bin/php-redis-sessions")),
            Some("/app/.php-redis-sessions/conf.d".into())
        );
        assert_eq!(
            ini_dir_for_helper(Path::new("/layers/x/sessions/exec.d/php-redis-sessions")),
            Some("/layers/x/sessions/conf.d".into())
        );
    }

    #[test]
    fn static_files_reference_only_the_environment() {
        for name in [
            crate::boot::SAVE_HANDLER_VAR,
            crate::boot::SAVE_PATH_VAR,
            crate::boot::LOCKING_VAR,
            crate::boot::LOCK_EXPIRE_VAR,
            crate::boot::LOCK_WAIT_TIME_VAR,
            crate::boot::LOCK_RETRIES_VAR,
        ] {
            assert!(SESSION_INI.contains(&format!("\"${{{name}}}\"")), "{name}");
        }
        assert!(
            PROFILE_SCRIPT.contains("${HOME:-/app}/.php-redis-sessions/bin/php-redis-sessions")
        );
    }
}
