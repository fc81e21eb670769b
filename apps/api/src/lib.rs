//! The `talktime` binary's library half: configuration, wiring and the command line, so tests
//! can build the real application in-process.

pub mod cli;
pub mod config;
pub mod demo;
pub mod startup;
pub mod telemetry;

pub use config::Settings;
pub use startup::Application;
