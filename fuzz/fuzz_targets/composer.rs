//! Any bytes as composer.json and composer.lock: detection never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use php_redis_sessions::core::{ComposerFiles, find_ext_redis};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (manifest, lock) = text.split_once('\u{0}').unwrap_or((&text, "{}"));
    for install_dev in [false, true] {
        let _ = find_ext_redis(
            ComposerFiles {
                manifest: Some(manifest),
                lock: Some(lock),
            },
            install_dev,
        );
    }
});
