//! The PHP Redis Sessions buildpack's helper: pure core (composer detection, URL to session
//! config, settings, boot plan, messages) and the thin edges the binary calls.

pub mod app_files;
pub mod boot;
pub mod boot_hook;
pub mod classic;
pub mod cnb;
pub mod cnb_spec;
pub mod composer;
pub mod doctor;
pub mod exec_d;
pub mod install;
pub mod messages;
pub mod php_check;
pub mod session_config;
pub mod settings;
