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

/// A wire enum value (`FEMALE`, `hindi`, `avatar-3`…).
pub fn one_of<T: FromStr>(value: &str, _: &()) -> garde::Result {
    value.parse::<T>().map(|_| ()).map_err(|_| garde::Error::new(format!("`{value}` is not an accepted value")))
}

/// Parses a value that its garde rule already accepted.
pub fn parsed<T: FromStr>(field: &'static str, value: &str) -> Result<T, crate::error::ApiError> {
    value.parse().map_err(|_| {
        crate::error::ApiError::validation(vec![crate::error::FieldError {
            field: field.to_owned(),
            message: format!("`{value}` is not an accepted value"),
        }])
    })
}

/// Pagination bounds per list.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub default_limit: u32,
    pub max_limit: u32,
}

impl Paging {
    pub fn request(self, page: Option<u32>, limit: Option<u32>) -> talktime_services::catalog::PageRequest {
        talktime_services::catalog::PageRequest {
            page: page.unwrap_or(1).max(1),
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
