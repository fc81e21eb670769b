//! Rate limiting behind a trait: in memory for one node; Redis-backed for several (later).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dashmap::DashMap;

/// A refused hit: wait this long before the oldest counted hit leaves the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, at least one (for the `Retry-After` header).
    pub fn secs(self) -> u64 {
        self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)
    }
}

#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one hit on `key` unless it already had `limit` hits within `window`; refused hits
    /// are not counted.
    async fn hit(&self, key: &str, limit: u32, window: Duration) -> Result<(), RetryAfter>;
}

/// Sliding-window limiter in process memory. Sharded map, so no global lock on the hot path.
#[derive(Default)]
pub struct InMemoryRateLimiter {
    buckets: DashMap<String, Bucket>,
    hits: AtomicU64,
}

struct Bucket {
    window: Duration,
    hits: VecDeque<Instant>,
}

/// Every this many hits, buckets with nothing left in their window are dropped.
const PRUNE_EVERY: u64 = 4096;

impl InMemoryRateLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn hit_at(&self, key: &str, limit: u32, window: Duration, now: Instant) -> Result<(), RetryAfter> {
        if self.hits.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.buckets.retain(|_, b| b.hits.back().is_some_and(|last| now.duration_since(*last) < b.window));
        }
        let mut bucket = self.buckets.entry(key.to_owned()).or_insert_with(|| Bucket { window, hits: VecDeque::new() });
        bucket.window = window;
        while bucket.hits.front().is_some_and(|first| now.duration_since(*first) >= window) {
            bucket.hits.pop_front();
        }
        if bucket.hits.len() >= limit as usize {
            let oldest = bucket.hits.front().copied().unwrap_or(now);
            return Err(RetryAfter(window.saturating_sub(now.duration_since(oldest))));
        }
        bucket.hits.push_back(now);
        Ok(())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.len()
    }
}

#[async_trait]
impl RateLimiter for InMemoryRateLimiter {
    async fn hit(&self, key: &str, limit: u32, window: Duration) -> Result<(), RetryAfter> {
        self.hit_at(key, limit, window, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window() {
        let limiter = InMemoryRateLimiter::new();
        let start = Instant::now();
        let window = Duration::from_secs(60);
        for i in 0..3 {
            assert!(limiter.hit_at("k", 3, window, start + Duration::from_secs(i)).is_ok());
        }
        let refused = limiter.hit_at("k", 3, window, start + Duration::from_secs(10)).unwrap_err();
        assert_eq!(refused.secs(), 50);
        assert!(limiter.hit_at("other", 3, window, start).is_ok());
        assert!(limiter.hit_at("k", 3, window, start + Duration::from_secs(60)).is_ok());
        assert!(limiter.hit_at("k", 3, window, start + Duration::from_secs(60)).is_err());
    }

    #[test]
    fn idle_buckets_are_pruned() {
        let limiter = InMemoryRateLimiter::new();
        let start = Instant::now();
        for i in 0..PRUNE_EVERY - 1 {
            let _ = limiter.hit_at(&format!("k{i}"), 1, Duration::from_secs(1), start);
        }
        let _ = limiter.hit_at("late", 1, Duration::from_secs(1), start + Duration::from_secs(5));
        assert_eq!(limiter.len(), 1);
    }
}
