//! `setup`: `call:initiate` → `call:incoming` latency at a steady rate. Each call is cancelled
//! as soon as it rings, so telecallers are free again at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::{Mutex, mpsc};

use crate::Target;
use crate::client::Peer;
use crate::population::Member;
use crate::report::Report;
use crate::stats::Latencies;

/// Uses of a caller per run (`call:initiate` allows 5 a minute).
const USES: u32 = 4;

pub async fn setup(target: &Target, callers: &[Member], telecallers: &[Member], rate: f64, seconds: f64) -> Report {
    crate::progress(format!("setup: {rate}/s for {seconds} s with {} telecallers", telecallers.len()));
    let mut report = Report::new("setup");
    let (free_hosts, hosts) = mpsc::unbounded_channel::<(Peer, String)>();
    let (free_callers, queue) = mpsc::unbounded_channel::<(Peer, u32)>();
    for host in telecallers {
        match Peer::connect(target, "/ws/telecaller", &host.token).await {
            Ok((peer, _)) => drop(free_hosts.send((peer, host.id.to_string()))),
            Err(error) => report.fail(format!("a telecaller could not connect: {error}")),
        }
    }
    for caller in callers {
        match Peer::connect(target, "/ws/user", &caller.token).await {
            Ok((peer, _)) => drop(free_callers.send((peer, 0))),
            Err(error) => report.fail(format!("a caller could not connect: {error}")),
        }
    }
    let hosts = Arc::new(Mutex::new(hosts));
    let queue = Arc::new(Mutex::new(queue));
    let latencies = Arc::new(std::sync::Mutex::new(Latencies::default()));
    let errors = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::new();
    while started.elapsed().as_secs_f64() < seconds {
        ticker.tick().await;
        let (hosts, queue, free_hosts, free_callers) =
            (hosts.clone(), queue.clone(), free_hosts.clone(), free_callers.clone());
        let (latencies, errors) = (latencies.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let Some((mut host, host_id)) = hosts.lock().await.recv().await else { return };
            let Some((mut caller, uses)) = queue.lock().await.recv().await else { return };
            match ring_once(&mut caller, &mut host, &host_id).await {
                Ok(latency) => latencies.lock().unwrap_or_else(|e| e.into_inner()).push(latency),
                Err(error) => errors.lock().unwrap_or_else(|e| e.into_inner()).push(error),
            }
            let _ = free_hosts.send((host, host_id));
            if uses + 1 < USES {
                let _ = free_callers.send((caller, uses + 1));
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = std::mem::take(&mut *latencies.lock().unwrap_or_else(|e| e.into_inner()));
    let errors = std::mem::take(&mut *errors.lock().unwrap_or_else(|e| e.into_inner()));
    let (p50, p99, max) = latencies.summary();
    let mut report = report
        .figure("setups", latencies.len() as f64)
        .figure("per_s", latencies.len() as f64 / elapsed)
        .figure("p50_ms", p50)
        .figure("p99_ms", p99)
        .figure("max_ms", max);
    if !errors.is_empty() {
        report.fail(format!("{} setups failed, first: {}", errors.len(), errors[0]));
    }
    report
}

/// Rings `host` from `caller` and cancels; answers initiate → incoming.
async fn ring_once(caller: &mut Peer, host: &mut Peer, host_id: &str) -> Result<Duration, String> {
    caller.drain();
    host.drain();
    let sent = Instant::now();
    caller.send("call:initiate", json!({ "telecallerId": host_id, "callType": "AUDIO" })).await.map_err(text)?;
    let incoming = host.expect("call:incoming").await.map_err(text)?;
    let latency = incoming.at.saturating_duration_since(sent);
    let call = incoming.data["callId"].clone();
    caller.expect("call:ringing").await.map_err(text)?;
    caller.send("call:cancel", json!({ "callId": call })).await.map_err(text)?;
    caller.expect("call:cancelled").await.map_err(text)?;
    host.expect("call:cancelled").await.map_err(text)?;
    Ok(latency)
}

fn text(error: crate::Error) -> String {
    error.to_string()
}
