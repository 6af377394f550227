//! The pure core of boot: the buildpack's config vars ([`settings`]), the Redis URL
//! ([`redis_url`]) and phpredis' session configuration derived from both ([`save_path`]).
//! No I/O, no environment: the callers hand in what they read.

pub mod redis_url;
pub mod save_path;
pub mod settings;
