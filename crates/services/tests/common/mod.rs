//! What the Redis-backed tests share.

/// The real Redis the tests use (`TEST_REDIS_URL`, default the local server that
/// `scripts/test.sh` starts).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}
