//! The environment as the helper reads it: one lookup for every edge, the names of the
//! platform's own variables, and what a variable name may look like. The buildpack's
//! config vars are named in `config::settings`, the variables boot hands to PHP in `boot`.

use std::collections::BTreeMap;
use std::ffi::OsString;

/// Another name for composer.json (the lock is named after it), as the PHP buildpack reads it.
pub(crate) const COMPOSER: &str = "COMPOSER";
/// Set at all (even empty): the classic PHP buildpack installs the dev requirements too.
/// heroku/php's CNB has no such variable: it never installs them.
pub(crate) const INSTALL_DEV: &str = "HEROKU_PHP_INSTALL_DEV";
pub(crate) const PATH: &str = "PATH";
/// PHP's ini scan path: boot appends the session ini's directory to it.
pub(crate) const PHP_INI_SCAN_DIR: &str = "PHP_INI_SCAN_DIR";

/// One variable as the helper sees it: unset, text, or bytes that are not UTF-8 (which no
/// URL, number or file name the helper reads can be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Unset,
    Text(String),
    NotUnicode,
}

impl EnvValue {
    /// The text, if the variable is set to text.
    pub(crate) fn text(self) -> Option<String> {
        match self {
            EnvValue::Text(text) => Some(text),
            EnvValue::Unset | EnvValue::NotUnicode => None,
        }
    }
}

/// Where variables come from: the process, or a fixed set of them (tests, fuzz targets).
pub trait Env {
    fn value(&self, name: &str) -> EnvValue;
    /// Every variable's name, for the variables boot searches by pattern.
    fn names(&self) -> Vec<String>;
}

/// The process's own environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn value(&self, name: &str) -> EnvValue {
        match std::env::var_os(name).map(OsString::into_string) {
            None => EnvValue::Unset,
            Some(Ok(text)) => EnvValue::Text(text),
            Some(Err(_)) => EnvValue::NotUnicode,
        }
    }

    fn names(&self) -> Vec<String> {
        std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .collect()
    }
}

/// A fixed set of variables, all text.
#[derive(Debug, Clone, Default)]
pub struct Vars(BTreeMap<String, String>);

impl Vars {
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vars {
        Vars(
            pairs
                .into_iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        )
    }
}

impl Env for Vars {
    fn value(&self, name: &str) -> EnvValue {
        self.0
            .get(name)
            .map_or(EnvValue::Unset, |value| EnvValue::Text(value.clone()))
    }

    fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}

/// A name a shell and the CNB spec accept for a variable: a letter or `_`, then letters,
/// digits and `_`.
pub(crate) fn is_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        for good in ["A", "_A1", "REDIS_URL", "heroku_redis"] {
            assert!(is_env_name(good), "{good}");
        }
        for bad in ["", "1A", "A-B", "A.B", "A B", "É", "$A"] {
            assert!(!is_env_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn vars_are_an_env() {
        let vars = Vars::new([("A", "1")]);
        assert_eq!(vars.value("A"), EnvValue::Text("1".into()));
        assert_eq!(vars.value("B"), EnvValue::Unset);
        assert_eq!(vars.names(), ["A"]);
    }
}
