//! The app as the build sees it: the names of its composer files (the `COMPOSER` rule of
//! each platform's PHP buildpack), reading them, and whether ext-redis is required: what
//! classic detect passes or declines with, and what the build starts from. Also the
//! classic `ENV_DIR`'s files. Every failure to read names the file ([`FileError`]).

use crate::composer::{self, ComposerError, ComposerFiles, Found, Framework, Inspection};
use std::io::{self, Read};
use std::path::Path;

/// composer.json and composer.lock are read whole; anything larger is not a Composer file
/// anyone commits, and reading it would only slow the build down.
pub(crate) const MAX_COMPOSER_FILE: u64 = 64 * 1024 * 1024;
/// A config var holds at most 32 kB on Heroku.
pub(crate) const MAX_ENV_VALUE: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileError {
    IsDirectory { name: String },
    Unreadable { name: String, reason: String },
    NotUtf8 { name: String },
    TooLarge { name: String, limit: u64 },
}

/// A problem with the app's composer files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AppError {
    File(FileError),
    Composer(ComposerError),
}

/// The composer file names a build uses (the `COMPOSER` config var can rename them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ComposerNames {
    pub manifest: String,
    pub lock: String,
}

impl ComposerNames {
    pub(crate) fn for_manifest(manifest: &str) -> Self {
        ComposerNames {
            manifest: manifest.to_string(),
            lock: lock_name_for(manifest),
        }
    }
}

impl Default for ComposerNames {
    fn default() -> Self {
        Self::for_manifest("composer.json")
    }
}

/// The lock file's name for a given composer.json name, as both PHP buildpacks and
/// Composer itself derive it: a name ending in `.json` gets `.lock` instead, any other
/// name gets `.lock` appended (`deps` locks in `deps.lock`), next to it.
pub(crate) fn lock_name_for(manifest: &str) -> String {
    let stem = manifest.strip_suffix(".json").unwrap_or(manifest);
    format!("{stem}.lock")
}

/// What the platform's PHP buildpack installs from the app's composer files, which this
/// buildpack follows: how it reads `COMPOSER`, and whether dev requirements count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    /// heroku/heroku-buildpack-php (classic): `COMPOSER` trimmed, blank as unset, a file in
    /// the app's root; dev requirements installed when `HEROKU_PHP_INSTALL_DEV` is set.
    Classic { install_dev: bool },
    /// heroku/buildpacks-php (CNB), as its sources have it (buildpacks/php/src/ at commit
    /// 46648198b0d2437dca5098c90430cfd032dcd21e):
    /// - `php_project.rs` lines 38-46: the name is `COMPOSER` as it is (no trimming; an empty
    ///   value is used too), else `composer.json`; lines 47-53: the lock is that name with a
    ///   `.json` ending dropped, then `.lock`; lines 59 and 67-68: both are joined to the
    ///   app's directory, so a relative path (`sub/composer.json`) or an absolute one works;
    /// - `main.rs` line 101 asks for the platform packages without dev requirements
    ///   (`dev = false`, which `php_project.rs` lines 185-190 turn into dropping
    ///   `require-dev`), and `layers/platform.rs` line 79 and
    ///   `package_manager/composer.rs` line 31 install with `--no-dev`: there is no
    ///   `HEROKU_PHP_INSTALL_DEV` on CNB, and dev requirements never count.
    Cnb,
}

/// `COMPOSER` must name a file in the app's root, as the classic PHP buildpack expects.
fn is_plain_file_name(name: &str) -> bool {
    !name.contains('/') && name != "." && name != ".."
}

/// The composer file names for the value of `COMPOSER`, by the platform's rules.
pub(crate) fn composer_names(
    composer_var: Option<&str>,
    rules: Rules,
) -> Result<ComposerNames, Declined> {
    match rules {
        Rules::Classic { .. } => match composer_var.map(str::trim).filter(|n| !n.is_empty()) {
            None => Ok(ComposerNames::default()),
            Some(name) if is_plain_file_name(name) => Ok(ComposerNames::for_manifest(name)),
            Some(_) => Err(Declined::BadComposerVar),
        },
        // heroku/php would look for a file named "" (the app's directory) or with a line
        // break in its name, and fail: say so instead of reading something else.
        Rules::Cnb => match composer_var {
            None => Ok(ComposerNames::default()),
            Some(name) if name.is_empty() || name.contains(char::is_control) => {
                Err(Declined::BadComposerVar)
            }
            Some(name) => Ok(ComposerNames::for_manifest(name)),
        },
    }
}

/// Where ext-redis is required, in which files, and the frameworks the app is built on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Requirement {
    pub found: Found,
    pub names: ComposerNames,
    pub frameworks: Vec<Framework>,
}

/// Why an app does not take part: detect declines with it, the build fails with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Declined {
    /// `COMPOSER` does not name a file in the app's root directory.
    BadComposerVar,
    /// The composer files cannot be read, or Composer would reject them.
    Files {
        error: AppError,
        names: ComposerNames,
    },
    /// Nothing requires ext-redis.
    NotRequired { names: ComposerNames },
    /// Only a dev section requires ext-redis, and the PHP buildpack never installs those
    /// (CNB).
    DevOnly { found: Found, names: ComposerNames },
}

/// Detection, as classic detect and both builds do it: the composer files named by
/// `COMPOSER`, read in `app_dir`, require ext-redis where the platform's PHP buildpack
/// installs it from.
pub(crate) fn detect(
    app_dir: &Path,
    composer_var: Option<&str>,
    rules: Rules,
) -> Result<Requirement, Declined> {
    let names = composer_names(composer_var, rules)?;
    let install_dev = match rules {
        Rules::Classic { install_dev } => install_dev,
        Rules::Cnb => false,
    };
    match inspect_app(app_dir, &names, install_dev) {
        Ok(Inspection {
            found: Some(found),
            frameworks,
        }) => Ok(Requirement {
            found,
            names,
            frameworks,
        }),
        Ok(_) if rules == Rules::Cnb => match inspect_app(app_dir, &names, true) {
            Ok(Inspection {
                found: Some(found), ..
            }) => Err(Declined::DevOnly { found, names }),
            _ => Err(Declined::NotRequired { names }),
        },
        Ok(_) => Err(Declined::NotRequired { names }),
        Err(error) => Err(Declined::Files { error, names }),
    }
}

/// Reads the app's composer files in `app_dir` and looks for ext-redis and frameworks in
/// them.
pub(crate) fn inspect_app(
    app_dir: &Path,
    names: &ComposerNames,
    install_dev: bool,
) -> Result<Inspection, AppError> {
    let manifest =
        read_text(app_dir, &names.manifest, MAX_COMPOSER_FILE).map_err(AppError::File)?;
    let lock = read_text(app_dir, &names.lock, MAX_COMPOSER_FILE).map_err(AppError::File)?;
    let files = ComposerFiles {
        manifest: manifest.as_deref(),
        lock: lock.as_deref(),
    };
    composer::inspect(files, install_dev).map_err(AppError::Composer)
}

/// The text of `dir/name`, `None` if there is no such file.
pub(crate) fn read_text(dir: &Path, name: &str, limit: u64) -> Result<Option<String>, FileError> {
    let path = dir.join(name);
    let metadata = match std::fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(unreadable(name, &error)),
    };
    if metadata.is_dir() {
        return Err(FileError::IsDirectory { name: name.into() });
    }
    // Sized up front: a 6 MB lock read into a growing buffer would be copied over and over.
    let expected = usize::try_from(metadata.len().min(limit)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(expected.saturating_add(1));
    std::fs::File::open(&path)
        .and_then(|file| file.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|error| unreadable(name, &error))?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge {
            name: name.into(),
            limit,
        });
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| FileError::NotUtf8 { name: name.into() })
}

fn unreadable(name: &str, error: &io::Error) -> FileError {
    // The OS message without the path: "Permission denied (os error 13)".
    FileError::Unreadable {
        name: name.into(),
        reason: error.to_string(),
    }
}

/// A config var from the classic `ENV_DIR` (one file per var). Missing, empty or
/// whitespace-only means unset; a directory, binary or huge entry is an error the caller
/// reports as a warning before carrying on without it.
pub(crate) fn read_env_var(env_dir: &Path, name: &str) -> Result<Option<String>, FileError> {
    let value = read_text(env_dir, name, MAX_ENV_VALUE)?;
    if value.as_deref().is_some_and(|v| v.contains('\0')) {
        return Err(FileError::NotUtf8 { name: name.into() });
    }
    Ok(value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const CLASSIC: Rules = Rules::Classic { install_dev: false };

    #[test]
    fn classic_composer_var_is_trimmed_and_a_file_in_the_root() {
        assert_eq!(composer_names(None, CLASSIC), Ok(ComposerNames::default()));
        assert_eq!(
            composer_names(Some(" "), CLASSIC),
            Ok(ComposerNames::default())
        );
        assert_eq!(
            composer_names(Some(" composer-x.json\n"), CLASSIC),
            Ok(ComposerNames::for_manifest("composer-x.json"))
        );
        for bad in ["sub/c.json", "/composer.json", "..", "."] {
            assert_eq!(
                composer_names(Some(bad), CLASSIC),
                Err(Declined::BadComposerVar),
                "{bad}"
            );
        }
    }

    #[test]
    fn cnb_composer_var_is_used_as_it_is() {
        assert_eq!(
            composer_names(None, Rules::Cnb),
            Ok(ComposerNames::default())
        );
        for name in [
            "composer-x.json",
            "sub/c.json",
            "/srv/composer.json",
            " x.json",
            "deps",
        ] {
            assert_eq!(
                composer_names(Some(name), Rules::Cnb),
                Ok(ComposerNames::for_manifest(name)),
                "{name}"
            );
        }
        assert_eq!(ComposerNames::for_manifest("sub/c.json").lock, "sub/c.lock");
        for bad in ["", "composer-x.json\n", "a\tb"] {
            assert_eq!(
                composer_names(Some(bad), Rules::Cnb),
                Err(Declined::BadComposerVar),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn cnb_never_counts_dev_requirements() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("composer.json"),
            r#"{"require-dev": {"ext-redis": "*"}}"#,
        )
        .unwrap();
        let names = ComposerNames::default();
        assert_eq!(
            detect(dir.path(), None, Rules::Cnb),
            Err(Declined::DevOnly {
                found: Found::Manifest {
                    section: "require-dev"
                },
                names: names.clone()
            })
        );
        assert!(detect(dir.path(), None, Rules::Classic { install_dev: true }).is_ok());
        assert_eq!(
            detect(dir.path(), None, CLASSIC),
            Err(Declined::NotRequired { names })
        );
    }

    #[test]
    fn missing_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_text(dir.path(), "composer.json", 10), Ok(None));
    }

    #[test]
    fn reads_text() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a"), "{}").unwrap();
        assert_eq!(read_text(dir.path(), "a", 10), Ok(Some("{}".into())));
    }

    #[test]
    fn directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("composer.json")).unwrap();
        assert_eq!(
            read_text(dir.path(), "composer.json", 10),
            Err(FileError::IsDirectory {
                name: "composer.json".into()
            })
        );
    }

    #[test]
    fn binary_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a"), [0xff, 0xfe, 0]).unwrap();
        assert_eq!(
            read_text(dir.path(), "a", 10),
            Err(FileError::NotUtf8 { name: "a".into() })
        );
    }

    #[test]
    fn too_large_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a"), "x".repeat(11)).unwrap();
        assert_eq!(
            read_text(dir.path(), "a", 10),
            Err(FileError::TooLarge {
                name: "a".into(),
                limit: 10
            })
        );
        fs::write(dir.path().join("a"), "x".repeat(10)).unwrap();
        assert!(read_text(dir.path(), "a", 10).is_ok());
    }

    #[test]
    fn env_values_are_trimmed_and_empty_is_unset() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("A"), " x \n").unwrap();
        fs::write(dir.path().join("B"), "\n").unwrap();
        fs::write(dir.path().join("C"), "a\0b").unwrap();
        assert_eq!(read_env_var(dir.path(), "A"), Ok(Some("x".into())));
        assert_eq!(read_env_var(dir.path(), "B"), Ok(None));
        assert_eq!(
            read_env_var(dir.path(), "C"),
            Err(FileError::NotUtf8 { name: "C".into() })
        );
        assert_eq!(read_env_var(dir.path(), "D"), Ok(None));
    }

    #[test]
    fn lock_names() {
        assert_eq!(lock_name_for("composer.json"), "composer.lock");
        assert_eq!(
            lock_name_for("composer-heroku.json"),
            "composer-heroku.lock"
        );
        assert_eq!(lock_name_for("deps"), "deps.lock");
    }
}
