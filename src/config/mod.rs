//! The pure core of boot: the buildpack's config vars ([`settings`]), the Redis URL
//! ([`redis_url`]) and phpredis' session configuration derived from both ([`save_path`]).
//! No I/O, no environment: the callers hand in what they read.

pub(crate) mod handler;
pub(crate) mod redis_url;
pub(crate) mod save_path;
pub(crate) mod secret;
pub(crate) mod settings;
