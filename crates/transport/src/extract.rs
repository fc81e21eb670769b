//! Request extractors: validated JSON and query, the client IP, and the authenticated caller.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use garde::Validate;
use serde::de::DeserializeOwned;
use talktime_domain::account::{Account, Role};
use talktime_services::auth::Principal;
use talktime_services::auth::Principal::{Account as PhoneAccount, Admin as AdminPrincipal};

use crate::error::{ApiError, FieldError};
use crate::{AppState, TrustedProxies};

type Boxed<T, E> = Pin<Box<dyn Future<Output = Result<T, E>>>>;

/// The admin panel's cookie.
pub const AUTH_COOKIE: &str = "authenticationToken";

fn report_to_error(report: garde::Report) -> ApiError {
    ApiError::validation(
        report
            .iter()
            .map(|(path, error)| FieldError { field: path.to_string(), message: error.message().to_owned() })
            .collect(),
    )
}

/// Fields whose text may span lines (`about`, comments, descriptions, notes, reasons): they may
/// hold line breaks and tabs. No text anywhere may hold any other control character (NUL, escape,
/// bell…): Postgres refuses NUL, and none of them means anything in a name or a search.
pub(crate) const MULTILINE: &[&str] = &["about", "comment", "description", "adminNotes", "reason"];

/// Collects the fields of `value` (named by path) whose text holds a control character, and
/// writes whole numbers sent with a fraction (`1.0`) as integers: JSON, like JSON Schema, has one
/// number type, and an integer field must not refuse `1.0` that every client library may send.
fn inspect(value: &mut serde_json::Value, path: &str, found: &mut Vec<FieldError>) {
    use serde_json::Value;
    /// Integers up to 2^53 are exact as floats.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|f| number.is_f64() && f.fract() == 0.0 && f.abs() <= EXACT) {
                *number = serde_json::Number::from(float as i64);
            }
        }
        Value::String(text) => {
            let name = path.rsplit('.').next().unwrap_or(path);
            let multiline = MULTILINE.contains(&name);
            if text.chars().any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'))) {
                found.push(FieldError {
                    field: path.to_owned(),
                    message: if multiline {
                        "must not contain control characters other than line breaks".to_owned()
                    } else {
                        "must not contain control characters".to_owned()
                    },
                });
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                inspect(item, &format!("{path}[{index}]"), found);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let inner = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                inspect(item, &inner, found);
            }
        }
        Value::Null | Value::Bool(_) => {}
    }
}

/// A JSON body that deserialised (unknown fields refused by the type; whole numbers accepted as
/// integers), holds no control characters where text does not span lines, and passed validation.
pub struct ValidJson<T>(pub T);

impl<T> FromRequest for ValidJson<T>
where
    T: DeserializeOwned + Validate<Context = ()> + 'static,
{
    type Error = actix_web::Error;
    type Future = Boxed<Self, Self::Error>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move { Ok(ValidJson(checked(json.await?.into_inner())?)) })
    }
}

/// [`ValidJson`] for an operation whose body may be left out altogether (every field optional):
/// no body reads as `{}`.
pub struct OptionalJson<T>(pub T);

impl<T> FromRequest for OptionalJson<T>
where
    T: DeserializeOwned + Validate<Context = ()> + 'static,
{
    type Error = actix_web::Error;
    type Future = Boxed<Self, Self::Error>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
        let headers = req.headers();
        let empty = headers.get(CONTENT_LENGTH).map_or(!headers.contains_key(TRANSFER_ENCODING), |l| l == "0");
        let json = (!empty).then(|| web::Json::<serde_json::Value>::from_request(req, payload));
        Box::pin(async move {
            let raw = match json {
                Some(json) => json.await?.into_inner(),
                None => serde_json::Value::Object(serde_json::Map::new()),
            };
            Ok(OptionalJson(checked(raw)?))
        })
    }
}

/// The checks of [`ValidJson`] on a parsed body.
fn checked<T: DeserializeOwned + Validate<Context = ()>>(mut raw: serde_json::Value) -> Result<T, ApiError> {
    // serde would read a struct from an array of its fields in order: every body is an object.
    if !raw.is_object() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", "The body must be a JSON object"));
    }
    let mut found = Vec::new();
    inspect(&mut raw, "", &mut found);
    if !found.is_empty() {
        return Err(ApiError::validation(found));
    }
    let value: T = typed(raw, "invalid_body")?;
    value.validate().map_err(report_to_error)?;
    Ok(value)
}

/// Deserialises `input` into a request type whose fields are domain types: a value outside an
/// enum is a `validation_error` naming the field (as the rules answer: `` `X` is not an accepted
/// value``); any other mismatch keeps serde's message under `fallback_code`.
fn typed<'de, T, D>(input: D, fallback_code: &'static str) -> Result<T, ApiError>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde_path_to_error::deserialize(input).map_err(|error| {
        let field = error.path().to_string();
        let message = error.inner().to_string();
        match message.strip_prefix("unknown variant `").and_then(|rest| rest.split_once('`')) {
            Some((value, _)) => {
                ApiError::validation(vec![FieldError { field, message: format!("`{value}` is not an accepted value") }])
            }
            None => crate::error::from_serde_message(&message, fallback_code),
        }
    })
}

/// A query string that deserialised (unknown parameters refused by the type), holds no control
/// characters, and passed validation.
pub struct ValidQuery<T>(pub T);

impl<T> FromRequest for ValidQuery<T>
where
    T: DeserializeOwned + Validate<Context = ()> + 'static,
{
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let query = req.query_string();
        let result = check_query(query)
            .and_then(|()| {
                let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
                typed::<T, _>(pairs, "invalid_query")
            })
            .and_then(|value| {
                value.validate().map_err(report_to_error)?;
                Ok(ValidQuery(value))
            })
            .map_err(actix_web::Error::from);
        std::future::ready(result)
    }
}

/// Every query parameter's value is free of control characters.
fn check_query(query: &str) -> Result<(), ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|e| crate::error::from_serde_message(&e.to_string(), "invalid_query"))?;
    let found: Vec<FieldError> = pairs
        .iter()
        .filter(|(_, value)| value.chars().any(char::is_control))
        .map(|(name, _)| FieldError { field: name.clone(), message: "must not contain control characters".to_owned() })
        .collect();
    if found.is_empty() { Ok(()) } else { Err(ApiError::validation(found)) }
}

/// The client's IP address (see [`TrustedProxies`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequest for ClientIp {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let peer = req.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
        let ip = match req.app_data::<web::Data<TrustedProxies>>() {
            Some(proxies) => proxies.client_ip(peer, forwarded),
            None => peer,
        };
        std::future::ready(Ok(ClientIp(ip)))
    }
}

/// The bearer token, else the `authenticationToken` cookie.
pub fn request_token(req: &HttpRequest) -> Option<String> {
    token_in(req.headers())
}

/// The bearer token (with or without the `Bearer ` prefix), else the `authenticationToken`
/// cookie, from request headers.
pub fn token_in(headers: &actix_web::http::header::HeaderMap) -> Option<String> {
    // `Bearer <token>`, or the bare token as the earlier backend accepted it.
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .and_then(|v| match v.split_once(' ') {
            Some((scheme, token)) => scheme.eq_ignore_ascii_case("bearer").then_some(token),
            None => Some(v),
        })
        .map(|token| token.trim().to_owned())
        .filter(|t| !t.is_empty());
    bearer.or_else(|| {
        headers
            .get_all(actix_web::http::header::COOKIE)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == AUTH_COOKIE)
            .map(|(_, value)| value.trim().to_owned())
            .filter(|t| !t.is_empty())
    })
}

/// Whether a cookie-authenticated request may change state: it must come from an allowed origin
/// (cross-site request forgery protection). Bearer tokens are never attached by a browser on its
/// own, so they need no such check.
fn origin_allowed(req: &HttpRequest, allowed: &[String]) -> bool {
    use actix_web::http::{Method, header};
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let origin =
        req.headers().get(header::ORIGIN).or_else(|| req.headers().get(header::REFERER)).and_then(|v| v.to_str().ok());
    // The server's own origin too (its console): a forged cross-site request names another one.
    let own = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).map(|host| {
        let scheme = req.connection_info().scheme().to_owned();
        format!("{scheme}://{host}")
    });
    origin.is_some_and(|o| {
        allowed.iter().chain(own.as_ref()).any(|a| o.eq_ignore_ascii_case(a) || o.starts_with(&format!("{a}/")))
    })
}

fn authenticate(req: &HttpRequest) -> impl Future<Output = Result<Principal, ApiError>> + 'static {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = request_token(req);
    let by_cookie = token.is_some() && !req.headers().contains_key(AUTHORIZATION);
    let cross_site = by_cookie && state.as_ref().is_some_and(|s| !origin_allowed(req, &s.allowed_origins));
    async move {
        let state = state.ok_or_else(|| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong")
        })?;
        let token =
            token.ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "missing_token", "Authentication required"))?;
        if cross_site {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "Cookie-authenticated changes must come from the admin panel's origin",
            ));
        }
        Ok(state.auth.authenticate(&token).await?)
    }
}

fn wrong_role() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden_role", "You do not have access to this resource")
}

/// Declares an extractor that authenticates and then admits only some principals.
macro_rules! guarded_extractor {
    ($(#[$meta:meta])* $name:ident($inner:ty), |$principal:ident| $admit:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        pub struct $name(pub $inner);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Boxed<Self, Self::Error>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let principal = authenticate(req);
                Box::pin(async move {
                    let $principal = principal.await?;
                    let admitted: Option<$inner> = $admit;
                    admitted.map($name).ok_or_else(wrong_role)
                })
            }
        }
    };
}

guarded_extractor!(
    /// Any phone account (USER or TELECALLER), ACTIVE.
    CurrentAccount(Account),
    |principal| match principal { PhoneAccount(account) => Some(account), AdminPrincipal(_) => None }
);

guarded_extractor!(
    /// A phone account with role USER, ACTIVE.
    CurrentUser(Account),
    |principal| match principal { PhoneAccount(account) if account.role == Role::User => Some(account), _ => None }
);

guarded_extractor!(
    /// A phone account with role TELECALLER, ACTIVE (approval is checked per route).
    CurrentTelecaller(Account),
    |principal| match principal { PhoneAccount(account) if account.role == Role::Telecaller => Some(account), _ => None }
);

guarded_extractor!(
    /// An admin who still exists.
    CurrentAdmin(talktime_services::auth::AdminAccount),
    |principal| match principal { AdminPrincipal(admin) => Some(admin), PhoneAccount(_) => None }
);
