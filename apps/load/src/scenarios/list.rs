//! `list`: authenticated `GET /users/telecallers` as fast as C keep-alive connections go, with
//! telecallers online.

use std::time::{Duration, Instant};

use crate::Target;
use crate::client::{Held, HttpConn, get_request, open_many};
use crate::population::Member;
use crate::report::Report;
use crate::stats::Latencies;

pub async fn list(target: &Target, readers: &[Member], online: &[Member], connections: usize, seconds: f64) -> Report {
    crate::progress(format!("list: {connections} connections for {seconds} s, {} telecallers online", online.len()));
    let mut report = Report::new("list");
    let tokens = online.iter().map(|t| t.token.clone()).collect();
    let (_online, failed, error) =
        open_many(target, "/ws/telecaller", tokens, 32, None, |_, socket| Held::spawn(socket, |_, _| {})).await;
    if failed > 0 {
        report.fail(format!("{failed} telecallers could not connect: {}", error.unwrap_or_default()));
    }
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for reader in readers.iter().cycle().take(connections) {
        let (target, token) = (target.clone(), reader.token.clone());
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut errors, mut latencies, mut first_error) = (0u64, 0u64, Latencies::default(), None);
            let mut conn = match HttpConn::connect(&target).await {
                Ok(conn) => conn,
                Err(error) => return (0, 1, latencies, Some(error.to_string())),
            };
            let request = get_request(&target, "/users/telecallers?limit=15", &token);
            while Instant::now() < deadline {
                let sent = Instant::now();
                match conn.round_trip(&request).await {
                    // The first answer must list someone: an empty list measures nothing.
                    Ok((200, body)) if ok > 0 || body.windows(5).any(|w| w == b"\"_id\"") => {
                        ok += 1;
                        if ok % 16 == 0 {
                            latencies.push(sent.elapsed());
                        }
                    }
                    Ok((status, body)) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{status}: {}", String::from_utf8_lossy(&body)));
                    }
                    Err(error) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| error.to_string());
                        break;
                    }
                }
            }
            (ok, errors, latencies, first_error)
        }));
    }
    let (mut ok, mut errors, mut latencies, mut first_error) = (0, 0, Latencies::default(), None);
    for task in tasks {
        if let Ok((n, e, l, f)) = task.await {
            ok += n;
            errors += e;
            latencies.extend(l);
            first_error = first_error.or(f);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (p50, p99, _) = latencies.summary();
    let mut report = report
        .figure("requests", ok as f64)
        .figure("per_s", ok as f64 / elapsed)
        .figure("p50_ms", p50)
        .figure("p99_ms", p99);
    if errors > 0 {
        report.fail(format!("{errors} requests failed, first: {}", first_error.unwrap_or_default()));
    }
    report
}
