//! The one place where failures become HTTP responses.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use talktime_services::{ErrorKind, ServiceError};

/// One field that failed validation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The error envelope: `{success: false, message, code, errors?}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub success: bool,
    pub message: String,
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Figures some errors add beside `code` (e.g. `min`, `max`, `opensAt`, `reason`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub errors: Vec<FieldError>,
    pub retry_after_secs: Option<u64>,
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), errors: Vec::new(), retry_after_secs: None, details: None }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let message = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => "Validation failed".to_owned(),
        };
        Self { errors, ..Self::new(StatusCode::BAD_REQUEST, "validation_error", message) }
    }

    /// A 400 `validation_error` naming one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError { field: field.to_owned(), message: message.into() }])
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "Route not found")
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        let status = match error.kind {
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Upstream => StatusCode::BAD_GATEWAY,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            // The whole cause chain goes to the log; the body stays generic.
            tracing::error!(error = %error, cause = ?error.source, "request failed");
        }
        let errors = error
            .field
            .map(|field| vec![FieldError { field: field.to_owned(), message: error.message.clone() }])
            .unwrap_or_default();
        Self {
            status,
            code: error.code,
            message: error.message,
            errors,
            retry_after_secs: error.retry_after_secs,
            details: error.details.map(|d| *d),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
        }
        response.json(ErrorBody {
            success: false,
            message: self.message.clone(),
            code: self.code.to_owned(),
            errors: self.errors.clone(),
            details: self.details.clone(),
        })
    }
}

/// Turns serde's complaint about a body or query into field errors where it names the field.
pub fn from_serde_message(message: &str, fallback_code: &'static str) -> ApiError {
    let field = |prefix: &str| {
        message.split_once(prefix).and_then(|(_, rest)| rest.split_once('`')).map(|(name, _)| name.to_owned())
    };
    if let Some(name) = field("unknown field `") {
        return ApiError::validation(vec![FieldError { field: name, message: "unknown field".to_owned() }]);
    }
    if let Some(name) = field("missing field `") {
        return ApiError::validation(vec![FieldError { field: name, message: "is required".to_owned() }]);
    }
    let short = message.split(" at line ").next().unwrap_or(message);
    ApiError::new(StatusCode::BAD_REQUEST, fallback_code, format!("Invalid request: {short}"))
}
