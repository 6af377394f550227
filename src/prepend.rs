//! Where the app sets PHP's `auto_prepend_file` in a way that would take the buildpack's
//! own session handler out (`PHP_REDIS_SESSIONS_HANDLER=buildpack` registers it through
//! that setting): a `.user.ini` (php-fpm reads it per directory, after every ini file),
//! and the php.ini (`-i`) or php-fpm pool configuration (`-F`) a Procfile hands to
//! `heroku-php-apache2` or `heroku-php-nginx`. The build looks; boot then keeps phpredis'
//! handler and says why. A setting in PHP's own ini files needs none of this: the
//! buildpack's handler runs that file after itself (the PHP check reports it).
//!
//! The text checks are pure; [`find`] walks the app.

use std::path::Path;

/// Directories never searched: dependencies and the platforms' own files.
const SKIPPED_DIRS: [&str; 6] = [
    "vendor",
    "node_modules",
    ".git",
    ".heroku",
    ".php-redis-sessions",
    ".profile.d",
];
/// How deep under the app's root a `.user.ini` is looked for (the document root is
/// rarely deeper than `public/` or `web/`).
const MAX_DEPTH: usize = 4;
/// Files larger than this are not configuration anyone writes by hand.
const MAX_FILE: u64 = 1024 * 1024;

/// Whether ini or php-fpm configuration text sets `auto_prepend_file` to a file:
/// `auto_prepend_file = x` (ini), `php_value[auto_prepend_file] = x` or
/// `php_admin_value[...]` (php-fpm), not commented out, not empty or `none`.
pub(crate) fn sets_auto_prepend(text: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim();
        if line.starts_with(';') || line.starts_with('#') {
            return false;
        }
        let Some((name, value)) = line.split_once('=') else {
            return false;
        };
        let name = name.trim();
        let named = name.eq_ignore_ascii_case("auto_prepend_file")
            || ["php_value[", "php_admin_value["].iter().any(|start| {
                name.strip_prefix(start)
                    .and_then(|rest| rest.strip_suffix(']'))
                    .is_some_and(|key| key.trim().eq_ignore_ascii_case("auto_prepend_file"))
            });
        let value = value.split(';').next().unwrap_or("").trim();
        let value = value.trim_matches(|c| c == '"' || c == '\'').trim();
        named && !value.is_empty() && !value.eq_ignore_ascii_case("none")
    })
}

/// The files a Procfile hands to the PHP buildpack's boot scripts with `-i` (php.ini)
/// or `-F` (php-fpm pool configuration), as written (relative to the app).
pub(crate) fn procfile_config_files(procfile: &str) -> Vec<String> {
    let mut files = vec![];
    for line in procfile.lines() {
        let mut words = line.split_whitespace();
        while let Some(word) = words.next() {
            let file = match word {
                "-i" | "-F" => words.next(),
                _ => word
                    .strip_prefix("-i")
                    .or_else(|| word.strip_prefix("-F"))
                    .filter(|rest| !rest.is_empty() && !word.starts_with("--")),
            };
            if let Some(file) = file {
                files.push(file.trim_matches(|c| c == '"' || c == '\'').to_string());
            }
        }
    }
    files
}

/// The first file of the app (relative to its root) that sets `auto_prepend_file` where
/// it would replace the buildpack's handler's: a `.user.ini`, or a file the Procfile
/// passes with `-i` or `-F`. Unreadable files are passed over.
pub(crate) fn find(app_dir: &Path) -> Option<String> {
    let read = |relative: &str| -> Option<String> {
        let path = app_dir.join(relative.trim_start_matches("/app/"));
        let metadata = std::fs::metadata(&path).ok()?;
        (metadata.is_file() && metadata.len() <= MAX_FILE)
            .then(|| std::fs::read(&path).ok())
            .flatten()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    };
    if let Some(procfile) = read("Procfile") {
        for file in procfile_config_files(&procfile) {
            if read(&file).is_some_and(|text| sets_auto_prepend(&text)) {
                return Some(file);
            }
        }
    }
    user_ini(app_dir, Path::new(""), 0, &read)
}

/// A `.user.ini` that sets `auto_prepend_file` in `dir` or below it.
fn user_ini(
    app_dir: &Path,
    dir: &Path,
    depth: usize,
    read: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let here = dir.join(".user.ini");
    let here = here.to_str()?;
    if read(here).is_some_and(|text| sets_auto_prepend(&text)) {
        return Some(here.to_string());
    }
    if depth == MAX_DEPTH {
        return None;
    }
    let mut subdirs: Vec<_> = std::fs::read_dir(app_dir.join(dir))
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .map(|entry| entry.file_name())
        .filter(|name| !SKIPPED_DIRS.iter().any(|skipped| name == *skipped))
        .collect();
    subdirs.sort();
    subdirs
        .into_iter()
        .find_map(|name| user_ini(app_dir, &dir.join(name), depth + 1, read))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_and_fpm_settings_of_the_prepend_file() {
        for sets in [
            "auto_prepend_file = /app/boot.php",
            "  AUTO_PREPEND_FILE=\"x.php\" ; mine",
            "memory_limit = 1G\nauto_prepend_file = 'p.php'",
            "php_value[auto_prepend_file] = /app/p.php",
            "php_admin_value[ auto_prepend_file ]=p.php",
        ] {
            assert!(sets_auto_prepend(sets), "{sets}");
        }
        for not in [
            "",
            "; auto_prepend_file = x.php",
            "# auto_prepend_file = x.php",
            "auto_prepend_file =",
            "auto_prepend_file = \"\"",
            "auto_prepend_file = none",
            "auto_append_file = x.php",
            "php_value[auto_append_file] = x.php",
            "php_flag[display_errors] = on",
            "auto_prepend_file",
        ] {
            assert!(!sets_auto_prepend(not), "{not}");
        }
    }

    #[test]
    fn config_files_a_procfile_names() {
        assert_eq!(
            procfile_config_files(
                "web: heroku-php-apache2 -i conf/php.ini -F conf/fpm.conf public/\n\
                 worker: php worker.php\n\
                 other: heroku-php-nginx -iuser.ini -C nginx.conf --verbose"
            ),
            ["conf/php.ini", "conf/fpm.conf", "user.ini"]
        );
        assert!(procfile_config_files("web: heroku-php-nginx public/").is_empty());
    }

    #[test]
    fn finds_the_first_setting_that_would_replace_the_handler() {
        let app = tempfile::tempdir().unwrap();
        let dir = app.path();
        assert_eq!(find(dir), None);
        std::fs::create_dir_all(dir.join("public/admin")).unwrap();
        std::fs::create_dir_all(dir.join("vendor/x")).unwrap();
        std::fs::write(dir.join("vendor/x/.user.ini"), "auto_prepend_file=a.php").unwrap();
        std::fs::write(dir.join("public/.user.ini"), "memory_limit=1G").unwrap();
        assert_eq!(find(dir), None, "vendor is not the app's");
        std::fs::write(
            dir.join("public/admin/.user.ini"),
            "auto_prepend_file=a.php",
        )
        .unwrap();
        assert_eq!(find(dir).as_deref(), Some("public/admin/.user.ini"));
        std::fs::write(
            dir.join("Procfile"),
            "web: heroku-php-nginx -F fpm.conf public/",
        )
        .unwrap();
        std::fs::write(
            dir.join("fpm.conf"),
            "php_value[auto_prepend_file]=/app/p.php",
        )
        .unwrap();
        assert_eq!(find(dir).as_deref(), Some("fpm.conf"));
    }
}
