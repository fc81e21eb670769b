use std::fmt;

use talktime_repository::RepoError;

/// What went wrong, in terms the transport maps to a status code (in one place).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input or a broken rule: 400.
    Invalid,
    /// Missing, invalid, expired or revoked credentials: 401.
    Unauthorized,
    /// Wrong role, suspended, not approved: 403.
    Forbidden,
    /// Absent, or owned by someone else: 404.
    NotFound,
    /// The state forbids it now (already done, already exists): 409.
    Conflict,
    /// Too many requests: 429.
    RateLimited,
    /// An outside provider failed: 502.
    Upstream,
    /// A dependency is down: 503.
    Unavailable,
    /// A bug or an unexpected failure: 500, details only in the log.
    Internal,
}

/// A use-case failure with a stable snake_case `code` and a message for people.
#[derive(Debug, thiserror::Error)]
pub struct ServiceError {
    pub kind: ErrorKind,
    pub code: &'static str,
    pub message: String,
    /// Seconds to wait, for `RateLimited`.
    pub retry_after_secs: Option<u64>,
    /// The request field at fault, for `Invalid`.
    pub field: Option<&'static str>,
    /// Figures a client acts on (the bounds a price broke, when a change opens), added to the
    /// error body beside `code`.
    pub details: Option<Box<serde_json::Map<String, serde_json::Value>>>,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl ServiceError {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Self {
        Self { kind, code, message: message.into(), retry_after_secs: None, field: None, details: None, source: None }
    }

    /// Adds figures to the error body (an object's keys; anything else is ignored).
    pub fn with_details(self, details: serde_json::Value) -> Self {
        match details {
            serde_json::Value::Object(map) => Self { details: Some(Box::new(map)), ..self },
            _ => self,
        }
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, code, message)
    }

    /// A rule broken by one field of the request.
    pub fn invalid_field(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self { field: Some(field), ..Self::new(ErrorKind::Invalid, code, message) }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, code, message)
    }

    pub fn rate_limited(retry_after_secs: u64, message: impl Into<String>) -> Self {
        Self::rate_limited_as("rate_limited", retry_after_secs, message)
    }

    /// Too many requests of one kind, with its own code (429).
    pub fn rate_limited_as(code: &'static str, retry_after_secs: u64, message: impl Into<String>) -> Self {
        Self { retry_after_secs: Some(retry_after_secs.max(1)), ..Self::new(ErrorKind::RateLimited, code, message) }
    }

    /// Refused for now, not for good: try again after `retry_after_secs`.
    pub fn unavailable(code: &'static str, message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self { retry_after_secs: Some(retry_after_secs.max(1)), ..Self::new(ErrorKind::Unavailable, code, message) }
    }

    pub fn upstream(
        code: &'static str,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self { source: Some(Box::new(source)), ..Self::new(ErrorKind::Upstream, code, message) }
    }

    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            source: Some(Box::new(source)),
            ..Self::new(ErrorKind::Internal, "internal_error", "Something went wrong")
        }
    }

    pub fn suspended() -> Self {
        Self::forbidden("account_suspended", "This account is suspended")
    }
}

impl From<RepoError> for ServiceError {
    fn from(error: RepoError) -> Self {
        ServiceError::internal(error)
    }
}
