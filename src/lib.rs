//! The PHP Redis Sessions buildpack's helper. From the bottom floor up:
//!
//! - the kit: [`env`] (reading the environment) and `log` (how a line looks);
//! - the pure core: `config` (settings, the Redis URL, the save path), `composer`
//!   (where ext-redis is required), `boot` (environment to variables and notices), and
//!   `cnb_spec` (the TOML the CNB spec wants);
//! - what touches files and processes: `app` (the app's files), `php_check` (asking the
//!   PHP buildpack's PHP), `layout` (the files a build writes);
//! - `build`, the one build pipeline for both platforms;
//! - `messages`, every line a user reads;
//! - the edges `main.rs` calls: [`platform`] (classic, CNB, boot hooks) and [`doctor`].
//!
//! ARCHITECTURE.md draws the same house.

mod app;
mod boot;
mod build;
mod cnb_spec;
mod composer;
mod config;
pub mod doctor;
pub mod env;
mod layout;
mod log;
mod messages;
mod php_check;
pub mod platform;
mod prepend;

/// The pure core, for the fuzz targets and the property tests.
pub mod core {
    pub use crate::boot::{BootPlan, HandlerFiles, Installed, plan};
    pub use crate::composer::{ComposerFiles, Framework, find_ext_redis};
    pub use crate::config::redis_url::parse_servers;
    pub use crate::config::save_path::derive;
    pub use crate::config::settings::Settings;
}
