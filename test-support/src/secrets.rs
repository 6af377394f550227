//! The test passwords and the scans that prove none of them was shown.

use crate::fs::walk;
use std::path::Path;

/// Every password the tests use contains this marker; the test command fails if it shows
/// up anywhere in the test output, and [`assert_no_secret`] checks captured output.
pub const SECRET_MARKER: &str = "Sekr1t";

/// Every printable ASCII character, including the ones that break hand-written parsers:
/// `,` and space (phpredis splits on them), `&`, `+`, `%`, `#`, `=`, `?`, `@`, `:`, quotes.
pub fn awkward_password() -> String {
    let printable: String = (0x20u8..0x7f).map(char::from).collect();
    format!("{SECRET_MARKER}{printable}")
}

/// Percent-encodes every byte that is not unreserved, as a URL's user info wants it.
#[must_use]
pub fn url_encode(value: &str) -> String {
    url_encode_bytes(value.as_bytes())
}

#[must_use]
pub fn url_encode_bytes(value: &[u8]) -> String {
    value
        .iter()
        .map(|&b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What secret `text` shows, if any: the marker, or a raw or percent-encoded password.
fn shown_password(text: &str, passwords: &[&str]) -> Option<&'static str> {
    if text.contains(SECRET_MARKER) {
        return Some("a test password");
    }
    passwords.iter().find_map(|password| {
        if text.contains(password) {
            Some("a password")
        } else if text.contains(&url_encode(password)) {
            Some("an encoded password")
        } else {
            None
        }
    })
}

/// Fails if `text` shows a secret: the marker, a raw or encoded password, or an auth query.
pub fn assert_no_secret(what: &str, text: &str, passwords: &[&str]) {
    if let Some(secret) = shown_password(text, passwords) {
        panic!("{what} shows {secret}");
    }
    assert!(!text.contains("auth="), "{what} shows a save path");
    assert!(!text.contains("auth[]="), "{what} shows a save path");
}

/// Every file under `dir`, read as bytes, must be free of passwords. (The helper binary
/// holds "auth=" as a format string, so only passwords are looked for here.)
pub fn assert_tree_has_no_secret(dir: &Path, passwords: &[&str]) {
    for entry in walk(dir) {
        if entry.is_file() {
            let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned();
            if let Some(secret) = shown_password(&text, passwords) {
                panic!("{} holds {secret}", entry.display());
            }
        }
    }
}
