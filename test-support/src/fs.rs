//! Files: listings, and copies made by child processes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `MODE PATH` for everything under `dir`, in path order: what a build wrote, and how.
#[must_use]
pub fn mode_listing(dir: &Path) -> Vec<String> {
    walk(dir)
        .into_iter()
        .map(|p| {
            let mode = std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(&p).unwrap().permissions(),
            );
            format!(
                "{:o} {}",
                mode & 0o7777,
                p.strip_prefix(dir).unwrap().display()
            )
        })
        .collect()
}

#[must_use]
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                stack.push(path.clone());
            }
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Copies the contents of `from` into `to` (created if need be), modes included.
///
/// With cp(1), in a child process, as [`copy_file`] does: a file that this (threaded) test
/// process held open for writing would be inherited by every child that another test
/// forks meanwhile, until that child execs, and running the copy then fails with ETXTBSY
/// ("Text file busy"). Copies of executables must never be open for writing here.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    cp(&[&from.join("."), to]);
}

/// Copies one file, mode included; see [`copy_dir`] for why with cp(1).
pub fn copy_file(from: &Path, to: &Path) {
    cp(&[from, to]);
}

/// Writes an executable file (mode 755) from a child process, for the reason given at
/// [`copy_dir`].
pub fn write_executable(path: &Path, contents: &str) {
    let mut child = Command::new("sh")
        .args(["-c", "cat > \"$1\" && chmod 755 \"$1\"", "sh"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(contents.as_bytes())
        .unwrap();
    assert!(
        child.wait().unwrap().success(),
        "writing {} failed",
        path.display()
    );
}

fn cp(paths: &[&Path]) {
    let status = Command::new("cp")
        .arg("-R")
        .arg("--")
        .args(paths)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "cp {paths:?} failed");
}
