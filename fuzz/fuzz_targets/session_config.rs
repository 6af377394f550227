//! Any bytes as `REDIS_URL` (and as a setting): deriving the session config and planning the
//! boot never panic, and an accepted URL gives a save path phpredis reads as one server.
#![no_main]

use libfuzzer_sys::fuzz_target;
use php_redis_sessions::core::{self as session_config, Installed, Settings};
use php_redis_sessions::env::Vars;

fuzz_target!(|data: &[u8]| {
    let (url, setting) = match data.iter().position(|b| *b == 0) {
        Some(index) => (&data[..index], &data[index + 1..]),
        None => (data, &[][..]),
    };
    let Ok(url) = std::str::from_utf8(url) else {
        return;
    };
    if let Ok(config) = session_config::derive(url, &Settings::default()) {
        // phpredis splits on commas and whitespace: only our own commas between servers.
        assert!(
            !config
                .save_path
                .expose()
                .contains([' ', '\t', '\n', '\r', '\x0b', '\x0c'])
        );
        let servers = session_config::parse_servers(url).unwrap();
        assert_eq!(config.save_path.expose().split(',').count(), servers.len());
        for entry in config.save_path.expose().split(',') {
            assert!(entry.starts_with("tcp://") || entry.starts_with("tls://"));
        }
    }
    let setting = String::from_utf8_lossy(setting).into_owned();
    let vars = Vars::new([
        ("REDIS_URL", url),
        ("PHP_REDIS_SESSIONS_TIMEOUT", setting.as_str()),
        ("PHP_REDIS_SESSIONS_LOCK_RETRIES", setting.as_str()),
        ("PHP_REDIS_SESSIONS_PREFIX", setting.as_str()),
    ]);
    let installed = Installed {
        ini_dir: Some("/app/.php-redis-sessions/conf.d".into()),
        namespace: Some("0123abcd".into()),
        phpredis_built: Some("6.2.0".into()),
        ..Installed::default()
    };
    let plan = session_config::plan(&vars, &installed);
    // All or nothing: file sessions set no variable; Redis sets the scan dir among them.
    assert!(
        plan.vars.is_empty()
            || plan
                .vars
                .iter()
                .any(|(name, _)| *name == "PHP_INI_SCAN_DIR")
    );
});
