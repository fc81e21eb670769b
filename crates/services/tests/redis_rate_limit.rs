//! The Redis rate limiter against the real Redis (`TEST_REDIS_URL`, default the local server).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::time::Duration;

use talktime_services::cluster::Cluster;
use talktime_services::rate_limit::{RateLimiter, RedisRateLimiter};

use common::redis_url;

/// A node's limiter; every test namespace is the same, as nodes of one deployment share it.
fn limiter(url: &str) -> RedisRateLimiter {
    RedisRateLimiter::new(Cluster::new(url, "talktime-test").unwrap())
}

#[tokio::test]
async fn two_nodes_share_one_budget() {
    let node_a = limiter(&redis_url());
    let node_b = limiter(&redis_url());
    let key = format!("test:{}", uuid::Uuid::now_v7());
    let window = Duration::from_secs(60);
    assert!(node_a.hit(&key, 3, window).await.is_ok());
    assert!(node_b.hit(&key, 3, window).await.is_ok());
    assert!(node_a.hit(&key, 3, window).await.is_ok());
    let refused = node_b.hit(&key, 3, window).await.expect_err("the fourth hit, on either node, is refused");
    assert!((1..=60).contains(&refused.secs()), "{refused:?}");
    assert!(node_a.hit(&key, 3, window).await.is_err());
    // Another key has its own budget.
    assert!(node_b.hit(&format!("{key}:other"), 3, window).await.is_ok());
}

#[tokio::test]
async fn concurrent_hits_from_two_nodes_take_exactly_the_limit() {
    let node_a = limiter(&redis_url());
    let node_b = limiter(&redis_url());
    let key = format!("test:{}", uuid::Uuid::now_v7());
    let window = Duration::from_secs(60);
    let hits = (0..40).map(|i| {
        let limiter = if i % 2 == 0 { &node_a } else { &node_b };
        let key = key.clone();
        async move { limiter.hit(&key, 10, window).await.is_ok() }
    });
    let allowed = futures_util::future::join_all(hits).await.into_iter().filter(|ok| *ok).count();
    assert_eq!(allowed, 10);
}

#[tokio::test]
async fn an_unreachable_redis_falls_back_to_local_limits() {
    let limiter = limiter("redis://127.0.0.1:1");
    let window = Duration::from_secs(60);
    for _ in 0..3 {
        assert!(limiter.hit("login:ip:10.0.0.1", 3, window).await.is_ok(), "never refuses everyone");
    }
    assert!(limiter.hit("login:ip:10.0.0.1", 3, window).await.is_err(), "and still limits");
    assert!(limiter.hit("login:ip:10.0.0.2", 3, window).await.is_ok());
}
