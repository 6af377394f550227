//! A Redis URL as providers hand it out (`redis://`, `rediss://`, one or several) parsed
//! into servers. Pure. A [`Server`]'s password is a [`Secret`].

use super::secret::Secret;
use percent_encoding::percent_decode_str;
use url::{Host, Url};

pub(crate) const DEFAULT_PORT: u16 = 6379;

/// Users in provider URLs that stand for "the password alone": Heroku's first Redis
/// add-ons put a dummy `h` in their URLs, Redis To Go and older Redis Cloud URLs carry
/// `redistogo` and `rediscloud` the same way (their servers only know `requirepass`),
/// and `default` is Redis 6's name for the user a password-only `AUTH` logs in as.
/// A password-only `AUTH` works with every Redis version; `AUTH user pass` needs an ACL
/// user of that name, which none of these servers has.
pub(crate) const NOMINAL_USERS: &[&str] = &["h", "default", "redistogo", "rediscloud"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthKind {
    None,
    Password,
    /// A named ACL user (`auth[]=USER&auth[]=PASS`); the name is not a secret.
    User(String),
    /// A user in the URL without a password: nothing to authenticate with.
    UserWithoutPassword,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    Empty,
    /// The url crate could not parse it; its reason.
    Unparsable(String),
    UnknownScheme(String),
    NoHost,
    /// A host with characters no DNS name has.
    BadHost,
    /// The path is not `/` followed by a database number.
    BadDatabase,
    /// A percent-escape in the user or password does not decode.
    BadEscape,
    /// A `weight` in the URL's query that is not a whole number from 1 to 1000.
    BadWeight,
    /// A `#`, or an `@` after the host: a raw `#`, `?` or `/` in the password ends the
    /// host early, and what looks like a host and port is then part of the password.
    StrayDelimiter,
    /// One of several URLs is unusable: which one (from 1) of how many, and why.
    InList {
        position: usize,
        count: usize,
        error: Box<UrlError>,
    },
    /// The seeds of a cluster must share one scheme and one login.
    ClusterMixed,
}

/// One Redis server from a URL. The password is a [`Secret`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub tls: bool,
    /// As phpredis reads it: IPv6 without brackets.
    pub host: String,
    pub port: u16,
    pub user: Vec<u8>,
    pub password: Secret<Vec<u8>>,
    pub database: Option<u32>,
    pub weight: Option<u32>,
}

impl Server {
    /// The login phpredis uses: nothing, the password alone, or an ACL user and password.
    pub fn auth(&self) -> AuthKind {
        let user_is_nominal = self.user.is_empty()
            || NOMINAL_USERS
                .iter()
                .any(|nominal| self.user == nominal.as_bytes());
        match (user_is_nominal, self.password.expose().is_empty()) {
            (true, true) => AuthKind::None,
            (false, true) => AuthKind::UserWithoutPassword,
            (true, false) => AuthKind::Password,
            (false, false) => AuthKind::User(String::from_utf8_lossy(&self.user).into_owned()),
        }
    }

    /// `host:port`, with an IPv6 host in brackets: how the doctor names a server.
    pub fn label(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The URLs in a variable: one, or several separated by commas or whitespace.
pub fn parse_servers(text: &str) -> Result<Vec<Server>, UrlError> {
    let urls: Vec<&str> = text
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|url| !url.is_empty())
        .collect();
    if urls.is_empty() {
        return Err(UrlError::Empty);
    }
    let count = urls.len();
    urls.iter()
        .enumerate()
        .map(|(index, url)| {
            parse_server(url).map_err(|error| {
                if count == 1 {
                    error
                } else {
                    UrlError::InList {
                        position: index + 1,
                        count,
                        error: Box::new(error),
                    }
                }
            })
        })
        .collect()
}

/// Parses one `redis://` or `rediss://` URL.
pub(crate) fn parse_server(url: &str) -> Result<Server, UrlError> {
    let parsed = Url::parse(url).map_err(|error| UrlError::Unparsable(error.to_string()))?;
    let tls = match parsed.scheme() {
        "redis" => false,
        "rediss" => true,
        other => return Err(UrlError::UnknownScheme(other.to_string())),
    };
    // A Redis URL has no fragment, and nothing after its host holds an `@`.
    let after_host = [parsed.path(), parsed.query().unwrap_or("")];
    if parsed.fragment().is_some() || after_host.iter().any(|part| part.contains('@')) {
        return Err(UrlError::StrayDelimiter);
    }
    let host = php_host(&parsed)?;
    let port = parsed.port().unwrap_or(DEFAULT_PORT);
    let database = database(parsed.path())?;
    let user = decode(parsed.username())?;
    let password = parsed
        .password()
        .map(decode)
        .transpose()?
        .unwrap_or_default();
    let weight = match parsed.query_pairs().find(|(key, _)| key == "weight") {
        None => None,
        Some((_, value)) => match value.parse::<u32>() {
            Ok(weight) if (1..=1000).contains(&weight) => Some(weight),
            _ => return Err(UrlError::BadWeight),
        },
    };
    Ok(Server {
        tls,
        host,
        port,
        user,
        password: Secret::new(password),
        database,
        weight,
    })
}

/// The host as phpredis 5.3 and 6.x both read it: IPv6 without brackets (`tcp://::1:6379`;
/// the port is then always written, which we do anyway).
#[allow(
    clippy::match_same_arms,
    reason = "IPv4 and IPv6 addresses print alike, but are told apart on purpose"
)]
fn php_host(url: &Url) -> Result<String, UrlError> {
    match url.host() {
        None => Err(UrlError::NoHost),
        Some(Host::Ipv6(address)) => Ok(address.to_string()),
        Some(Host::Ipv4(address)) => Ok(address.to_string()),
        Some(Host::Domain("")) => Err(UrlError::NoHost),
        Some(Host::Domain(name)) => {
            let ok = name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
            if ok {
                Ok(name.to_ascii_lowercase())
            } else {
                Err(UrlError::BadHost)
            }
        }
    }
}

fn database(path: &str) -> Result<Option<u32>, UrlError> {
    let digits = path.strip_prefix('/').unwrap_or(path);
    if digits.is_empty() {
        return Ok(None);
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 9 {
        return Err(UrlError::BadDatabase);
    }
    let number: u32 = digits.parse().map_err(|_| UrlError::BadDatabase)?;
    Ok((number != 0).then_some(number))
}

/// URL user info arrives percent-encoded; `%` not followed by two hex digits is an error
/// rather than a guess.
fn decode(text: &str) -> Result<Vec<u8>, UrlError> {
    let bytes = text.as_bytes();
    for (index, byte) in bytes.iter().enumerate() {
        if *byte == b'%' {
            let escape = bytes.get(index + 1..index + 3);
            if !escape.is_some_and(|pair| pair.iter().all(u8::is_ascii_hexdigit)) {
                return Err(UrlError::BadEscape);
            }
        }
    }
    Ok(percent_decode_str(text).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Server>, UrlError> {
        parse_servers(text)
    }

    #[test]
    fn malformed_urls() {
        let cases: &[(&str, UrlError)] = &[
            ("", UrlError::Empty),
            ("   ", UrlError::Empty),
            (
                "redis://:pass word@host",
                UrlError::InList {
                    position: 1,
                    count: 2,
                    error: Box::new(UrlError::Unparsable("empty host".into())),
                },
            ),
            (
                "redis://a:1,redis://b:99999",
                UrlError::InList {
                    position: 2,
                    count: 2,
                    error: Box::new(UrlError::Unparsable("invalid port number".into())),
                },
            ),
            ("redis://host:1?weight=0", UrlError::BadWeight),
            ("redis://host:1?weight=x", UrlError::BadWeight),
            (" , ", UrlError::Empty),
            ("http://host:1", UrlError::UnknownScheme("http".into())),
            (
                "unix:///tmp/redis.sock",
                UrlError::UnknownScheme("unix".into()),
            ),
            ("redis:///0", UrlError::NoHost),
            ("redis:host", UrlError::NoHost),
            (
                "redis://:pw@:6379",
                UrlError::Unparsable("empty host".into()),
            ),
            ("host:6379", UrlError::UnknownScheme("host".into())),
            (
                "redis://host:99999",
                UrlError::Unparsable("invalid port number".into()),
            ),
            ("redis://ho%73t:1", UrlError::BadHost),
            ("redis://host:1/abc", UrlError::BadDatabase),
            ("redis://host:1/1/2", UrlError::BadDatabase),
            ("redis://host:1/-1", UrlError::BadDatabase),
            ("redis://host:1/99999999999", UrlError::BadDatabase),
            ("redis://:%zz@host", UrlError::BadEscape),
            ("redis://:abc%@host", UrlError::BadEscape),
            ("redis://us%4@host", UrlError::BadEscape),
            (
                "redis://h:22857#pwRest@127.0.0.1:6379",
                UrlError::StrayDelimiter,
            ),
            (
                "redis://h:22857?pwRest@127.0.0.1:6379",
                UrlError::StrayDelimiter,
            ),
            (
                "redis://h:22857/pwRest@127.0.0.1:6379",
                UrlError::StrayDelimiter,
            ),
            ("redis://:pw@host:1/2#", UrlError::StrayDelimiter),
            ("redis://:pw@host:1/2#x", UrlError::StrayDelimiter),
        ];
        for (url, expected) in cases {
            assert_eq!(parse(url).as_ref().err(), Some(expected), "{url}");
        }
    }

    #[test]
    fn unparsable_urls() {
        for url in [
            "redis://host:port",
            "redis://[::1",
            "//host:1",
            "redis.example.com",
            "\u{0}",
        ] {
            assert!(
                matches!(parse(url), Err(UrlError::Unparsable(_) | UrlError::NoHost)),
                "{url}: {:?}",
                parse(url)
            );
        }
    }

    #[test]
    fn servers_do_not_show_their_password() {
        let server = parse_server("redis://app:Sekr1t@h:1").unwrap();
        let shown = format!("{server:?}");
        assert!(
            !shown.contains("Sekr1t") && shown.contains("****"),
            "{shown}"
        );
    }

    #[test]
    fn labels() {
        let servers = parse("redis://h:1,redis://[::1]:2").unwrap();
        let labels: Vec<String> = servers.iter().map(Server::label).collect();
        assert_eq!(labels, ["h:1", "[::1]:2"]);
    }
}
