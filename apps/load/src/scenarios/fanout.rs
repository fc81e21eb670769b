//! `fanout`: W user sockets watch one telecaller, who comes online and goes offline K times;
//! how long each change takes to reach every watcher, and whether any socket ever gets two
//! presence frames within one flush interval.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::mpsc;

use crate::Target;
use crate::client::{Held, Peer, open_many};
use crate::population::Member;
use crate::report::Report;
use crate::stats::Latencies;

pub async fn fanout(
    target: &Target,
    watchers: &[Member],
    telecaller: &Member,
    changes: usize,
    flush: Duration,
) -> Report {
    crate::progress(format!("fanout: {} watchers, {changes} changes", watchers.len()));
    let mut report = Report::new("fanout");
    let watched = telecaller.id.to_string();
    let Watching { held, mut arrived, too_close, frames, failed, error } =
        watch(target, watchers, &watched, flush).await;
    if failed > 0 {
        report.fail(format!("{failed} watchers failed to connect: {}", error.unwrap_or_default()));
    }

    let (mut from_change, mut after_tick) = (Latencies::default(), Latencies::default());
    let mut missing = 0;
    let mut host: Option<Peer> = None;
    for n in 0..changes {
        // Each change waits out a flush interval, so two changes never share a frame.
        tokio::time::sleep(flush + flush / 2).await;
        let changed = Instant::now();
        // She comes online (connects) and goes offline (drops her socket) in turn.
        host = match host.take() {
            Some(_) => None,
            None => match Peer::connect(target, "/ws/telecaller", &telecaller.token).await {
                Ok((peer, _)) => Some(peer),
                Err(error) => {
                    report.fail(format!("the telecaller could not connect: {error}"));
                    break;
                }
            },
        };
        let times = arrivals_of(&mut arrived, held.len(), flush + Duration::from_secs(10)).await;
        missing += held.len() - times.len();
        if let Some(first) = times.iter().min().copied() {
            for at in &times {
                from_change.push(at.saturating_duration_since(changed));
                after_tick.push(at.saturating_duration_since(first));
            }
        }
        crate::progress(format!("fanout: change {} reached {} watchers", n + 1, times.len()));
    }
    let (p50, p99, max) = after_tick.summary();
    let (_, change_p99, _) = from_change.summary();
    let seconds = ((changes as f64) * (flush + flush / 2).as_secs_f64()).max(1e-9);
    let mut report = report
        .figure("watchers", held.len() as f64)
        .figure("changes", changes as f64)
        .figure("p50_after_tick_ms", p50)
        .figure("p99_after_tick_ms", p99)
        .figure("max_after_tick_ms", max)
        .figure("p99_from_change_ms", change_p99)
        .figure("frames_per_s_per_socket", frames.load(Ordering::Relaxed) as f64 / held.len().max(1) as f64 / seconds)
        .figure("two_in_one_interval", too_close.load(Ordering::Relaxed) as f64);
    if missing > 0 {
        report.fail(format!("{missing} deliveries never arrived"));
    }
    if too_close.load(Ordering::Relaxed) > 0 {
        report.fail("a socket got two presence frames within one flush interval");
    }
    report
}

/// Up to `expected` arrivals, waiting at most `within` for them all.
async fn arrivals_of(
    arrived: &mut mpsc::UnboundedReceiver<Instant>,
    expected: usize,
    within: Duration,
) -> Vec<Instant> {
    let mut times = Vec::with_capacity(expected);
    let deadline = tokio::time::Instant::now() + within;
    while times.len() < expected {
        match tokio::time::timeout_at(deadline, arrived.recv()).await {
            Ok(Some(at)) => times.push(at),
            _ => break,
        }
    }
    times
}

/// The watchers' sockets, each watching the telecaller and counting its `presence:update`s.
struct Watching {
    held: Vec<Held>,
    /// When a frame naming her arrived, at each watcher.
    arrived: mpsc::UnboundedReceiver<Instant>,
    /// Frames that came less than half an interval after the previous one at the same socket.
    too_close: Arc<AtomicU64>,
    frames: Arc<AtomicU64>,
    failed: usize,
    error: Option<String>,
}

async fn watch(target: &Target, watchers: &[Member], watched: &str, flush: Duration) -> Watching {
    let watched = watched.to_owned();
    let hello = json!({ "event": "presence:watch", "data": { "telecallerIds": [watched] } }).to_string();
    let (arrivals, arrived) = mpsc::unbounded_channel::<Instant>();
    let too_close = Arc::new(AtomicU64::new(0));
    let frames = Arc::new(AtomicU64::new(0));
    let tokens = watchers.iter().map(|w| w.token.clone()).collect();
    let (held, failed, error) = {
        let (too_close, frames, watched) = (too_close.clone(), frames.clone(), watched.clone());
        open_many(target, "/ws/user", tokens, 128, Some(hello), move |_, socket| {
            let (arrivals, too_close, frames, watched) =
                (arrivals.clone(), too_close.clone(), frames.clone(), watched.clone());
            let mut last: Option<Instant> = None;
            Held::spawn(socket, move |text, at| {
                if !text.contains(r#""event":"presence:update""#) {
                    return;
                }
                frames.fetch_add(1, Ordering::Relaxed);
                // Timers jitter: a gap under half the interval means two frames in one.
                if last.is_some_and(|l| at.duration_since(l) < flush / 2) {
                    too_close.fetch_add(1, Ordering::Relaxed);
                }
                last = Some(at);
                if text.contains(&watched) {
                    let _ = arrivals.send(at);
                }
            })
        })
        .await
    };
    Watching { held, arrived, too_close, frames, failed, error }
}
