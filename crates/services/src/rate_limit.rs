//! Rate limiting behind a trait: in memory for one node; in Redis for several.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dashmap::DashMap;
use talktime_domain::network::ClientNetwork;

/// A refused hit: wait this long before the oldest counted hit leaves the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, at least one (for the `Retry-After` header).
    pub fn secs(self) -> u64 {
        self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)
    }
}

/// A request budget: `limit` requests per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub limit: u32,
    pub window: Duration,
}

impl Budget {
    /// Counts one request on `key`; over the budget, a `rate_limited` error with `Retry-After`.
    pub async fn spend(self, limiter: &dyn RateLimiter, key: &str) -> Result<(), crate::ServiceError> {
        limiter.hit(key, self.limit, self.window).await.map_err(|retry| {
            crate::ServiceError::rate_limited(
                retry.secs(),
                format!("Too many requests, try again in {} seconds", retry.secs()),
            )
        })
    }
}

/// The per-network budgets (`RATE_LIMIT_*` settings), each counted per [`ClientNetwork`]: one
/// IPv4 address, or one IPv6 /64.
#[derive(Debug, Clone, Copy)]
pub struct NetworkLimits {
    /// `/auth/send`, `/auth/resend` and `/auth/verify` together: 100 per 15 minutes, loose
    /// enough for a carrier NAT (the per-phone limits do the strict work).
    pub login: Budget,
    /// Admin Google sign-in (10 per minute).
    pub admin_sign_in: Budget,
    /// WebSocket handshakes whose token is refused (10 per minute); accepted ones count per
    /// account instead.
    pub ws_connect: Budget,
}

impl Default for NetworkLimits {
    fn default() -> Self {
        Self {
            login: Budget { limit: 100, window: Duration::from_secs(15 * 60) },
            admin_sign_in: Budget { limit: 10, window: Duration::from_secs(60) },
            ws_connect: Budget { limit: 10, window: Duration::from_secs(60) },
        }
    }
}

/// The limiter key of `scope` for the network `ip` belongs to.
pub fn network_key(scope: &str, ip: IpAddr) -> String {
    format!("{scope}:net:{}", ClientNetwork::of(ip))
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

/// Sliding-window limits shared by every node through Redis. One Lua script per hit, so two
/// nodes can never both take the last slot. While Redis is unreachable the node falls back to
/// its own in-memory limits (never refusing everyone, never letting everyone through).
pub struct RedisRateLimiter {
    cluster: crate::cluster::Cluster,
    fallback: InMemoryRateLimiter,
}

/// Trims the window, refuses when full (answering the milliseconds until the oldest hit leaves),
/// else records this hit. Time comes from Redis, so nodes' clocks do not matter.
static SLIDING_WINDOW: std::sync::LazyLock<deadpool_redis::redis::Script> = std::sync::LazyLock::new(|| {
    deadpool_redis::redis::Script::new(
        r"
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return 0
",
    )
});

impl RedisRateLimiter {
    pub fn new(cluster: crate::cluster::Cluster) -> Self {
        Self { cluster, fallback: InMemoryRateLimiter::new() }
    }

    async fn shared_hit(&self, key: &str, limit: u32, window: Duration) -> Result<Result<(), RetryAfter>, String> {
        let mut invocation = SLIDING_WINDOW.key(self.cluster.key(&format!("rl:{key}")));
        invocation
            .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX))
            .arg(limit)
            .arg(uuid::Uuid::now_v7().to_string());
        let wait_ms: i64 = self.cluster.invoke(&invocation).await?;
        Ok(if wait_ms > 0 {
            Err(RetryAfter(Duration::from_millis(u64::try_from(wait_ms).unwrap_or(1))))
        } else {
            Ok(())
        })
    }
}

#[async_trait]
impl RateLimiter for RedisRateLimiter {
    async fn hit(&self, key: &str, limit: u32, window: Duration) -> Result<(), RetryAfter> {
        match self.shared_hit(key, limit, window).await {
            Ok(answer) => answer,
            Err(error) => {
                tracing::warn!(%error, "Redis rate limiter unavailable; using this node's in-memory limits");
                self.fallback.hit(key, limit, window).await
            }
        }
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
