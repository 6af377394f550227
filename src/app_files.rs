//! Reading the app's composer files and the classic ENV_DIR: the only file reads of
//! detect and compile, each failure turned into a [`FileError`] that names the file.

use crate::composer::{self, ComposerError, ComposerFiles, ComposerNames, Found};
use std::io::{self, Read};
use std::path::Path;

/// composer.json and composer.lock are read whole; anything larger is not a Composer file
/// anyone commits, and reading it would only slow the build down.
pub const MAX_COMPOSER_FILE: u64 = 64 * 1024 * 1024;
/// A config var holds at most 32 kB on Heroku.
pub const MAX_ENV_VALUE: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    IsDirectory { name: String },
    Unreadable { name: String, reason: String },
    NotUtf8 { name: String },
    TooLarge { name: String, limit: u64 },
}

/// A problem with the app's composer files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppError {
    File(FileError),
    Composer(ComposerError),
}

/// Reads the app's composer files in `app_dir` and looks for ext-redis in them.
pub fn inspect_app(
    app_dir: &Path,
    names: &ComposerNames,
    install_dev: bool,
) -> Result<Option<Found>, AppError> {
    let manifest =
        read_text(app_dir, &names.manifest, MAX_COMPOSER_FILE).map_err(AppError::File)?;
    let lock = read_text(app_dir, &names.lock, MAX_COMPOSER_FILE).map_err(AppError::File)?;
    let files = ComposerFiles {
        manifest: manifest.as_deref(),
        lock: lock.as_deref(),
    };
    composer::find_ext_redis(files, install_dev).map_err(AppError::Composer)
}

/// The text of `dir/name`, `None` if there is no such file.
pub fn read_text(dir: &Path, name: &str, limit: u64) -> Result<Option<String>, FileError> {
    let path = dir.join(name);
    let metadata = match std::fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(unreadable(name, &error)),
    };
    if metadata.is_dir() {
        return Err(FileError::IsDirectory { name: name.into() });
    }
    let mut bytes = Vec::new();
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

/// A config var from the classic ENV_DIR (one file per var). Missing, empty or
/// whitespace-only means unset; a directory, binary or huge entry is an error the caller
/// reports as a warning before carrying on without it.
pub fn read_env_var(env_dir: &Path, name: &str) -> Result<Option<String>, FileError> {
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
}
