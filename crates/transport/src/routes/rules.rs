//! garde rules shared by request types: each wraps a domain parser, so the rule and the
//! normalisation cannot drift apart.

use std::str::FromStr;

use talktime_domain::profile;

pub fn name_rule(value: &str, _: &()) -> garde::Result {
    profile::parse_name(value, false).map(|_| ()).map_err(|e| garde::Error::new(e.message))
}

pub fn letters_name_rule(value: &str, _: &()) -> garde::Result {
    profile::parse_name(value, true).map(|_| ()).map_err(|e| garde::Error::new(e.message))
}

pub fn about_rule(value: &str, _: &()) -> garde::Result {
    profile::parse_about(value).map(|_| ()).map_err(|e| garde::Error::new(e.message))
}

pub fn dob_rule(value: &str, _: &()) -> garde::Result {
    profile::parse_dob(value).map(|_| ()).map_err(|e| garde::Error::new(e.message))
}

/// Free text that is kept trimmed: `min`–`max` characters once trimmed (so blanks alone never
/// pass), and never more than `max` as sent.
pub fn trimmed(min: usize, max: usize) -> impl FnOnce(&str, &()) -> garde::Result {
    move |value, _| {
        let kept = value.trim().chars().count();
        if kept < min || value.chars().count() > max {
            return Err(garde::Error::new(format!("must be {min} to {max} characters")));
        }
        Ok(())
    }
}

/// Parses a value that its garde rule already accepted.
pub fn parsed<T: FromStr>(field: &'static str, value: &str) -> Result<T, crate::error::ApiError> {
    value.parse().map_err(|_| crate::error::ApiError::field(field, format!("`{value}` is not an accepted value")))
}

/// `value` in hundredths (rupees → paise, percent → hundredths of a percent), when it is finite
/// and has at most two decimals.
pub fn hundredths(value: f64) -> Option<i64> {
    let scaled = value * 100.0;
    let whole = scaled.round();
    (value.is_finite() && (scaled - whole).abs() <= 1e-6 && whole.abs() < 9e15).then_some(whole as i64)
}

/// A percentage (its 0–100 bound checked by the request's `#[bound]`) as hundredths of a
/// percent, rounded (`12.5` → 1250, `12.345` → 1235).
pub fn percent_hundredths(percent: f64) -> i32 {
    (percent.clamp(0.0, 100.0) * 100.0).round() as i32
}

/// The last page any list serves (the documented bound; far beyond any real list).
pub const MAX_PAGE: u32 = 1_000_000;

/// Admin lists: limit 1–100, default 20.
pub const ADMIN_PAGING: Paging = Paging { default_limit: 20, max_limit: 100 };

/// A list's query: its own fields, then `page` (1–`MAX_PAGE`) and `limit` (1–`$max`), whose
/// rules and documented bounds are written once, here: the one page query of every list.
/// (serde's `flatten` would share them but cannot be combined with `deny_unknown_fields`, which
/// refuses unknown parameters.)
macro_rules! paged_query {
    ($(#[$meta:meta])* $name:ident, limit $max:tt, $limit_doc:literal { $($(#[$fmeta:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[talktime_macros::bounds]
        #[derive(Debug, serde::Deserialize, garde::Validate, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// ≥ 1, default 1.
            #[bound(range(min = 1, max = 1_000_000))] // MAX_PAGE (a test keeps them equal)
            pub page: Option<u32>,
            #[doc = $limit_doc]
            #[bound(range(min = 1, max = $max))]
            pub limit: Option<u32>,
        }
    };
}
pub(crate) use paged_query;

paged_query!(
    /// The paging of admin lists that take no other parameter.
    AdminPage, limit 100, "1–100, default 20." {}
);

paged_query!(
    /// The paging of the apps' own lists (favorites, history, recharges).
    PageQuery, limit 50, "1–50." {}
);

/// Pagination bounds per list.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub default_limit: u32,
    pub max_limit: u32,
}

impl Paging {
    pub fn request(self, page: Option<u32>, limit: Option<u32>) -> talktime_services::catalog::PageRequest {
        talktime_services::catalog::PageRequest {
            page: page.unwrap_or(1).clamp(1, MAX_PAGE),
            limit: limit.unwrap_or(self.default_limit).clamp(1, self.max_limit),
        }
    }
}

/// `null` and absent differ for `profile` (`null` clears the avatar): absent → `None`,
/// `null` → `Some(None)`.
pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

/// The OpenAPI schema of a string that must be one of `values`, built from the same list the
/// rule checks against, so the document cannot drift from what is accepted.
pub fn one_of_schema<T: std::fmt::Display>(values: impl IntoIterator<Item = T>) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(values.into_iter().map(|v| v.to_string())))
        .build()
}

/// [`one_of_schema`], or `null`.
pub fn one_of_or_null_schema<T: std::fmt::Display>(values: impl IntoIterator<Item = T>) -> utoipa::openapi::Object {
    use utoipa::openapi::Type;
    use utoipa::openapi::schema::SchemaType;
    let mut accepted: Vec<serde_json::Value> = values.into_iter().map(|v| v.to_string().into()).collect();
    accepted.push(serde_json::Value::Null);
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(accepted))
        .build()
}

pub fn avatar_or_null_schema() -> utoipa::openapi::Object {
    one_of_or_null_schema(talktime_domain::account::Avatar::ALL)
}
