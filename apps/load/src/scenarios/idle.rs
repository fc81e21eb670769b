//! `idle`: N authenticated user sockets held open; the server's memory per socket.

use std::time::{Duration, Instant};

use crate::Target;
use crate::client::{Held, open_many, rss_kib};
use crate::population::Member;
use crate::report::Report;

/// Opens a user socket per member and keeps them; answers the report and the sockets.
pub async fn idle(target: &Target, users: &[Member]) -> (Report, Vec<Held>) {
    crate::progress(format!("idle: opening {} user sockets", users.len()));
    // The server is still taking in the accounts just prepared (their change notifications).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = target.pid.and_then(rss_kib);
    let started = Instant::now();
    let tokens = users.iter().map(|u| u.token.clone()).collect();
    let (held, failed, error) =
        open_many(target, "/ws/user", tokens, 128, None, |_, socket| Held::spawn(socket, |_, _| {})).await;
    let took = started.elapsed().as_secs_f64();
    // Let the server finish what each connection started before reading its memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = target.pid.and_then(rss_kib);
    let mut report = Report::new("idle")
        .figure("sockets", held.len() as f64)
        .figure("failed", failed as f64)
        .figure("opened_per_s", held.len() as f64 / took.max(1e-9));
    if let (Some(before), Some(after)) = (before, after) {
        let per_socket = after.saturating_sub(before) as f64 / (held.len().max(1)) as f64;
        report = report.figure("server_rss_mib", after as f64 / 1024.0).figure("rss_per_socket_kib", per_socket);
    }
    if failed > 0 {
        report.fail(format!("{failed} sockets failed to open: {}", error.unwrap_or_default()));
    }
    (report, held)
}
