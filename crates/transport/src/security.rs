//! Headers and origins: what every response says about itself, the policy of the two HTML pages
//! (`/console`, `/docs`), which browser origins may open a WebSocket, and who may scrape
//! `/metrics` (docs/operations.md, "Deploying safely").

use actix_web::HttpRequest;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue, ORIGIN};
use actix_web::middleware::DefaultHeaders;
use talktime_domain::secret::Secret;

/// Headers every response carries (unless a handler set its own): `nosniff`, a referrer policy,
/// no framing, and in production HSTS.
pub fn default_headers(hsts: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"));
    if hsts { headers.add(("Strict-Transport-Security", "max-age=31536000; includeSubDomains")) } else { headers }
}

/// The Content-Security-Policy of the HTML pages: scripts and everything else from this server
/// only, plus the media server for the console's calls; never framed.
#[derive(Debug, Clone)]
pub struct HtmlPolicy(pub String);

impl HtmlPolicy {
    /// `livekit_url` (`ws://…` or `wss://…`), when a media server is configured, may be
    /// connected to (its signalling socket and its HTTP API).
    pub fn new(livekit_url: Option<&str>) -> Self {
        let media = livekit_url
            .map(|url| {
                let http = url.replacen("wss://", "https://", 1).replacen("ws://", "http://", 1);
                format!(" {url} {http}")
            })
            .unwrap_or_default();
        Self(format!(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
             media-src 'self' blob: mediastream:; worker-src 'self' blob:; connect-src 'self'{media}; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ))
    }

    pub fn header(&self) -> (HeaderName, HeaderValue) {
        let value = HeaderValue::from_str(&self.0).unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
        (actix_web::http::header::CONTENT_SECURITY_POLICY, value)
    }
}

/// Whether a WebSocket handshake's `Origin` may open a socket: no `Origin` (native apps send
/// none), the server's own origin, or one of `CORS_ALLOWED_ORIGINS` (`*` allows any).
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    if allowed.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let host = headers.get(actix_web::http::header::HOST).and_then(|h| h.to_str().ok());
    let own = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    matches!((own, host), (Some(own), Some(host)) if own.eq_ignore_ascii_case(host))
}

/// Who may read `/metrics` on the main address.
#[derive(Debug, Clone)]
pub enum MetricsAccess {
    /// Anyone (development).
    Open,
    /// `Authorization: Bearer $METRICS_TOKEN`.
    Token(Secret<String>),
    /// Served on `METRICS_BIND_ADDR` only; not on the main address.
    Elsewhere,
}

impl MetricsAccess {
    /// 404 where metrics are served on their own address, 401 `metrics_token_required` without
    /// the token.
    pub fn check(&self, req: &HttpRequest) -> Result<(), crate::error::ApiError> {
        match self {
            Self::Elsewhere => Err(crate::error::ApiError::not_found()),
            access if !access.allows(req) => Err(crate::error::ApiError::new(
                actix_web::http::StatusCode::UNAUTHORIZED,
                "metrics_token_required",
                "Metrics need `Authorization: Bearer` with the metrics token",
            )),
            _ => Ok(()),
        }
    }

    fn allows(&self, req: &HttpRequest) -> bool {
        match self {
            Self::Open => true,
            Self::Elsewhere => false,
            Self::Token(token) => req
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .is_some_and(|given| constant_time_eq(given.trim().as_bytes(), token.expose().as_bytes())),
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn origins() {
        let panel = vec!["https://panel.example".to_owned()];
        assert!(origin_allowed(&headers(&[("host", "api.example")]), &panel), "no Origin: a native app");
        assert!(origin_allowed(&headers(&[("origin", "https://panel.example")]), &panel));
        assert!(origin_allowed(&headers(&[("origin", "https://api.example"), ("host", "api.example")]), &panel));
        assert!(!origin_allowed(&headers(&[("origin", "https://evil.example"), ("host", "api.example")]), &panel));
        assert!(origin_allowed(&headers(&[("origin", "https://evil.example")]), &["*".to_owned()]));
    }

    #[test]
    fn the_html_policy_names_the_media_server() {
        let policy = HtmlPolicy::new(Some("wss://media.example")).0;
        assert!(policy.contains("connect-src 'self' wss://media.example https://media.example;"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(!HtmlPolicy::new(None).0.contains("media.example"));
    }
}
