//! A value that holds a password: the save path, a URL's password, the variables boot
//! hands to PHP. Its `Debug` and `Display` print `****`, so no `{:?}` or `{}` anywhere can
//! show it; only [`Secret::expose`] gives it out, at the few places that hand it to PHP.

use std::fmt;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The value itself: only for handing it to PHP (environment, fd 3, the probe).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let secret = Secret::new("Sekr1t".to_string());
        assert_eq!(format!("{secret:?} {secret} {secret:#?}"), "**** **** ****");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(****)");
        assert_eq!(secret.expose(), "Sekr1t");
    }
}
