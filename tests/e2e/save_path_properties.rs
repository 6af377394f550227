//! Properties of the URL-to-save-path core: whatever the user, password and database, the
//! save path phpredis reads gives back exactly those credentials; and no input panics.
//! Decoding follows phpredis (split on commas and whitespace, `parse_url`, `parse_str`),
//! once in Rust over many generated cases and once by a real PHP over a batch.

use crate::support::url_encode_bytes;
use php_redis_sessions::core::{self as session_config, HandlerFiles, Installed, Settings};
use php_redis_sessions::env::Vars;
use proptest::prelude::*;
use std::process::Command;

/// What phpredis' session handler reads from one save path.
#[derive(Debug, PartialEq, Eq)]
struct Decoded {
    /// `auth=` (one element) or `auth[]=` (each element), `None` when absent.
    auth: Option<Vec<Vec<u8>>>,
    database: Option<Vec<u8>>,
}

/// PHP's `urldecode()`: `+` is a space, `%XX` a byte, anything else itself.
fn urldecode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    out
}

/// phpredis: the save path is first split on commas and whitespace (several servers);
/// each entry's query is then read like `parse_str()`.
fn phpredis_decode(save_path: &str) -> Decoded {
    let entries: Vec<&str> = save_path
        .split(|c: char| c == ',' || c.is_ascii_whitespace() || c == '\x0b')
        .filter(|e| !e.is_empty())
        .collect();
    assert_eq!(
        entries,
        [save_path],
        "the save path would be split into several servers"
    );
    let query = save_path.split_once('?').map_or("", |(_, q)| q);
    let (mut auth, mut auth_list, mut database) = (None, None::<Vec<Vec<u8>>>, None);
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (urldecode(key), urldecode(value));
        match key.as_slice() {
            b"auth" => auth = Some(vec![value]),
            b"auth[]" => auth_list.get_or_insert_with(Vec::new).push(value),
            b"database" => database = Some(value),
            _ => {}
        }
    }
    Decoded {
        auth: auth_list.or(auth),
        database,
    }
}

fn url(user: &[u8], password: &[u8], database: Option<u32>) -> String {
    let userinfo = match (user.is_empty(), password.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!("{}@", url_encode_bytes(user)),
        (_, false) => format!("{}:{}@", url_encode_bytes(user), url_encode_bytes(password)),
    };
    let path = database.map(|db| format!("/{db}")).unwrap_or_default();
    format!("rediss://{userinfo}redis.example.com:6380{path}")
}

/// What phpredis should send: nothing, the password alone, or user and password.
fn expected_auth(user: &[u8], password: &[u8]) -> Option<Vec<Vec<u8>>> {
    if password.is_empty() {
        None
    } else if user.is_empty() || user == b"h" || user == b"default" {
        Some(vec![password.to_vec()])
    } else {
        Some(vec![user.to_vec(), password.to_vec()])
    }
}

fn expected_database(database: Option<u32>) -> Option<Vec<u8>> {
    database
        .filter(|db| *db != 0)
        .map(|db| db.to_string().into_bytes())
}

fn credentials() -> impl Strategy<Value = (Vec<u8>, Vec<u8>, Option<u32>)> {
    let bytes = prop_oneof![
        // Printable ASCII, where the hand-written parsers break.
        proptest::collection::vec(0x20u8..0x7f, 0..40),
        // Any byte at all.
        proptest::collection::vec(any::<u8>(), 0..40),
        Just(b"h".to_vec()),
        Just(b"default".to_vec()),
        Just(Vec::new()),
    ];
    let database = prop_oneof![
        Just(None),
        (0u32..16).prop_map(Some),
        (0u32..999_999_999).prop_map(Some)
    ];
    (bytes.clone(), bytes, database)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn credentials_survive_the_round_trip((user, password, database) in credentials()) {
        let config = session_config::derive(&url(&user, &password, database), &Settings::default()).unwrap();
        let decoded = phpredis_decode(config.save_path.expose());
        prop_assert_eq!(decoded.auth, expected_auth(&user, &password));
        prop_assert_eq!(decoded.database, expected_database(database));
        prop_assert!(config.save_path.expose().starts_with("tls://redis.example.com:6380?"));
    }

    #[test]
    fn any_text_derives_or_fails_cleanly(text in any::<String>()) {
        let _ = session_config::derive(&text, &Settings::default());
    }

    #[test]
    fn url_like_text_derives_or_fails_cleanly(text in "(redis|rediss|http)?(://)?[a-z:@%/\\[\\]0-9.,+ &?#=-]{0,60}") {
        if let Ok(config) = session_config::derive(&text, &Settings::default()) {
            // Whatever it accepted, phpredis reads as one server per URL.
            let servers = session_config::parse_servers(&text).unwrap();
            let entries: Vec<&str> = config.save_path.expose().split(',').collect();
            prop_assert_eq!(entries.len(), servers.len());
            for entry in entries {
                phpredis_decode(entry);
            }
        }
    }

    #[test]
    fn boot_never_panics(
        url in prop_oneof![any::<String>(), "rediss?://(:[a-z%]{1,8}@)?h[0-9]?(:[0-9]{1,5})?(/[0-9]{1,2})?"],
        scan in any::<Option<String>>(),
        timeout in any::<String>(),
        handler in prop_oneof![Just("buildpack".to_string()), Just("phpredis".to_string()), any::<String>()],
    ) {
        let mut vars = vec![
            ("REDIS_URL", url.as_str()),
            ("PHP_REDIS_SESSIONS_TIMEOUT", timeout.as_str()),
            ("PHP_REDIS_SESSIONS_HANDLER", handler.as_str()),
        ];
        if let Some(scan) = &scan {
            vars.push(("PHP_INI_SCAN_DIR", scan.as_str()));
        }
        let installed = Installed {
            ini_dir: Some("/app/.php-redis-sessions/conf.d".into()),
            handler: Some(HandlerFiles {
                php: "/app/.php-redis-sessions/php/session-handler.php".into(),
                ini_dir: "/app/.php-redis-sessions/conf.d-handler".into(),
            }),
            ..Installed::default()
        };
        let plan = session_config::plan(&Vars::new(vars), &installed);
        // Either sessions go to Redis (all variables set: the session ini's eight and
        // PHP_INI_SCAN_DIR, and the buildpack handler's two more) or nothing is set.
        let expected = if handler.eq_ignore_ascii_case("buildpack") { 11 } else { 9 };
        prop_assert!(plan.vars.is_empty() || plan.vars.len() == expected, "{:?}", plan.vars);
    }
}

/// A small deterministic generator, so the PHP batch is the same on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, printable: bool) -> Vec<u8> {
        let len = (self.next() % 24) as usize;
        (0..len)
            .map(|_| {
                if printable {
                    0x20 + u8::try_from(self.next() % 95).unwrap()
                } else {
                    self.next().to_le_bytes()[0]
                }
            })
            .collect()
    }
}

/// The same round trip, decoded by real PHP the way phpredis does it.
#[test]
fn real_php_reads_back_the_credentials() {
    let mut rng = XorShift(0x5eed_1234_abcd_ef01);
    let mut cases = vec![];
    for i in 0..400 {
        let printable = i % 2 == 0;
        let user = match i % 5 {
            0 => vec![],
            1 => b"h".to_vec(),
            2 => b"default".to_vec(),
            _ => rng.bytes(printable),
        };
        let password = rng.bytes(printable);
        let database = (i % 3 == 0).then(|| (rng.next() % 16) as u32);
        cases.push((user, password, database));
    }
    let save_paths: Vec<String> = cases
        .iter()
        .map(|(u, p, d)| {
            session_config::derive(&url(u, p, *d), &Settings::default())
                .unwrap()
                .save_path
                .expose()
                .clone()
        })
        .collect();
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(input.path(), save_paths.join("\n")).unwrap();

    // phpredis: split on commas and whitespace, then parse_url(), then parse_str().
    let decoder = r#"
        foreach (file($argv[1], FILE_IGNORE_NEW_LINES) as $path) {
            $entries = preg_split('/[\s,]+/', $path, -1, PREG_SPLIT_NO_EMPTY);
            $url = parse_url($entries[0]);
            parse_str($url['query'] ?? '', $params);
            $auth = $params['auth'] ?? null;
            $auth = $auth === null ? null : array_map('bin2hex', (array) $auth);
            echo json_encode([count($entries), $url['scheme'], $url['host'], $url['port'], $auth, $params['database'] ?? null]), "\n";
        }
    "#;
    let out = Command::new("php")
        .args(["-r", decoder, input.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "php failed");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), cases.len());
    for (index, ((user, password, database), decoded)) in cases.iter().zip(&lines).enumerate() {
        let expected_auth = expected_auth(user, password)
            .map(|parts| parts.iter().map(|p| hex(p)).collect::<Vec<_>>())
            .map_or(serde_json::Value::Null, |parts| serde_json::json!(parts));
        let expected_database = expected_database(*database)
            .map_or(serde_json::Value::Null, |db| {
                serde_json::json!(String::from_utf8(db).unwrap())
            });
        let expected = serde_json::json!([
            1,
            "tls",
            "redis.example.com",
            6380,
            expected_auth,
            expected_database
        ]);
        // Compare without printing the generated credentials, which are test secrets.
        assert!(
            decoded == &expected,
            "case {index}: PHP read other credentials than the URL had"
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
