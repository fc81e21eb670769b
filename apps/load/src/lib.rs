//! `talktime-load`: drives a running Talktime server the way many apps at once would, and
//! reports what it measured. It prepares its own accounts straight in the server's database
//! (through the project's repository and services crates) and mints their tokens with the
//! server's secret, so nothing has to be clicked through first.
//!
//! Scenarios (each prints a table line and a JSON object):
//! - `idle`: hold N authenticated user sockets; the server's RSS per socket.
//! - `setup`: `call:initiate` → `call:incoming` latency at a given rate.
//! - `fanout`: a telecaller's presence change reaching W watchers.
//! - `calls`: whole billed calls as fast as P telecallers allow, then a check of the books.
//! - `list`: authenticated `GET /users/telecallers` per second.
//! - `chats`: N concurrent paid chats exchanging messages: delivery latency, settlements per
//!   second once all end, then a check of the books.
//! - `soak` (only with `--only soak`; `scripts/soak.sh`): calls, chats, presence watchers and list
//!   reads at a steady rate against two nodes for half an hour while a script injects faults;
//!   outcomes by code, calls lost or settled twice, the books, each node's RSS and descriptors.
//!
//! Every report carries the tool's and the server's CPU use during the scenario
//! (`tool_cpu_pct`, `server_cpu_pct`: percent of one core), so a figure can be told apart from
//! the tool's own cost.

pub mod client;
pub mod cpu;
pub mod population;
pub mod report;
pub mod scenarios;
pub mod stats;

use std::net::SocketAddr;

/// The server under load.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its process, to read its memory from `/proc` (same machine only).
    pub pid: Option<u32>,
}

/// What went wrong, for the operator.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Prints a progress line on stderr (long phases say how far they got).
pub fn progress(message: impl std::fmt::Display) {
    eprintln!("  .. {message}");
}
