//! Cross-node delivery through the Redis bus: bursts of presence broadcasts published on node A,
//! counted as node B's registry receives them. Needs Redis (`TEST_REDIS_URL`, default the local
//! server). Run with `cargo bench -p talktime-services --bench bus`; results in
//! `docs/benchmarks.md`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // a benchmark's harness

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use talktime_domain::account::Role;
use talktime_services::bus::{Audience, Delivery, EventBus, LocalDelivery, RedisBus, frame};
use talktime_services::cluster::Cluster;

#[derive(Default)]
struct Counter(AtomicU64);

impl LocalDelivery for Counter {
    fn deliver(&self, _: &Audience, _: &Delivery) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

async fn node(namespace: &str) -> (Arc<RedisBus>, Arc<Counter>) {
    let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let bus = RedisBus::start(&Cluster::new(&url, namespace).unwrap());
    let counter = Arc::new(Counter::default());
    bus.attach(counter.clone());
    while !bus.is_subscribed() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (bus, counter)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let namespace = format!("talktime-bench:{}", uuid::Uuid::now_v7());
    let (a, _) = node(&namespace).await;
    let (b, on_b) = node(&namespace).await;
    const BURST: u64 = 10_000;
    const BURSTS: u64 = 10;
    let mut rates = Vec::new();
    for burst in 0..BURSTS {
        let before = on_b.0.load(Ordering::Relaxed);
        let start = Instant::now();
        for n in 0..BURST {
            let data = json!({ "telecallerId": format!("0193-{burst}-{n}"), "presence": "ONLINE", "telecaller": null });
            a.publish(Audience::Everyone(Role::User), Delivery::Frame(frame("call:started", data)));
        }
        let published = start.elapsed();
        while on_b.0.load(Ordering::Relaxed) < before + BURST {
            assert!(start.elapsed() < Duration::from_secs(60), "deliveries stalled");
            tokio::task::yield_now().await;
        }
        let delivered = start.elapsed();
        rates.push(BURST as f64 / delivered.as_secs_f64());
        println!(
            "burst {burst}: {BURST} frames published in {published:?}, all delivered on B after {delivered:?} ({:.0}/s)",
            BURST as f64 / delivered.as_secs_f64()
        );
    }
    rates.sort_by(f64::total_cmp);
    let stats = a.stats();
    println!(
        "median {:.0} frames/s node to node; dropped {}; last lag {} ms",
        rates[rates.len() / 2],
        stats.dropped.load(Ordering::Relaxed),
        b.stats().last_lag_ms.load(Ordering::Relaxed)
    );
}
