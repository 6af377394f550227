//! Real parts for the buildpack's end-to-end tests and its benchmarks: a redis-server of
//! one's own on a free loopback port and a client speaking RESP, a proxy in front of it
//! that delays, cuts or silences its connections, self-signed certificates, the two PHP
//! runtimes (the host's phpredis 5.3 and the Debian 13 one with phpredis 6), a web dyno's
//! php-fpm behind nginx or Apache, an HTTP client, file helpers that never hold an
//! executable open for writing, and the secret scans.

mod fs;
pub mod http;
mod process;
mod proxy;
mod redis;
mod runtime;
mod secrets;
mod tls;
mod web;

pub use fs::{copy_dir, copy_file, mode_listing, walk, write_executable};
pub use process::{Ran, free_port, run, unique_session_id};
pub use proxy::{Outage, Proxy};
pub use redis::{Conn, Redis, RedisOptions, Reply};
pub use runtime::{Runtime, repo_dir};
pub use secrets::{
    SECRET_MARKER, assert_no_secret, assert_tree_has_no_secret, awkward_password, url_encode,
    url_encode_bytes,
};
pub use tls::TlsFiles;
pub use web::{Frontend, WebStack};
