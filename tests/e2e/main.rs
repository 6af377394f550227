//! Every end-to-end test, in one binary: the buildpack run as Heroku classic and as a Cloud
//! Native Buildpack would run it, against real PHP, phpredis and redis-server. One binary
//! builds the shared support once; each module keeps the name its file had as a binary of
//! its own, so its snapshots keep theirs.

#[macro_use]
mod support;
mod file_server;
mod lifecycle;

mod architecture;
mod classic_e2e;
mod classic_hostile_input;
mod cnb_e2e;
mod doctor;
mod frameworks;
mod helper_download;
mod package;
mod save_path_properties;
mod scaling;
mod tls_phpredis6;
mod trixie_mirror;
mod web_dyno;
