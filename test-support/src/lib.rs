//! Real parts for the buildpack's end-to-end tests and its benchmarks: a redis-server of
//! one's own on a free loopback port and a client speaking RESP, a proxy in front of it
//! that puts Redis a network delay away and can cut, silence or take down its
//! connections, an HTTP/1.0 client and the lost-write trial, a web dyno's php-fpm behind
//! nginx or Apache, self-signed certificates, the two PHP runtimes (the host's phpredis
//! 5.3 and the Debian 13 one with phpredis 6), file helpers that never hold an executable
//! open for writing, and the secret scans.

mod fs;
mod http;
mod process;
mod proxy;
mod redis;
mod runtime;
mod secrets;
mod tls;
mod web;

pub use fs::{copy_dir, copy_file, mode_listing, walk, write_executable};
pub use http::{Response, Visits, concurrent_visits, http_get, wait_for_port};
pub use process::{Ran, free_port, run, unique_session_id};
pub use proxy::{Outage, Proxy, start_delay_proxy};
pub use redis::{Conn, Redis, RedisOptions, Reply};
pub use runtime::{Runtime, repo_dir};
pub use secrets::{
    SECRET_MARKER, assert_no_secret, assert_tree_has_no_secret, awkward_password, url_encode,
    url_encode_bytes,
};
pub use tls::TlsFiles;
pub use web::{Frontend, WebStack};
