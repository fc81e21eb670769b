//! Phone numbers as the product accepts them: 10 to 15 digits.

use std::fmt;

/// A phone number of 10–15 ASCII digits (no `+`, spaces or dashes once trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("phone must be 10 to 15 digits")]
pub struct InvalidPhone;

impl Phone {
    pub const MIN_DIGITS: usize = 10;
    pub const MAX_DIGITS: usize = 15;

    /// Trims surrounding white space and checks the digits.
    pub fn parse(raw: &str) -> Result<Self, InvalidPhone> {
        let trimmed = raw.trim();
        let ok = (Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&trimmed.len())
            && trimmed.bytes().all(|b| b.is_ascii_digit());
        if ok { Ok(Self(trimmed.to_owned())) } else { Err(InvalidPhone) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a code may be sent to this number. A 10-digit number is national and belongs to
    /// `home_country` (the country code the SMS providers prefix); a longer one carries its
    /// country code in front. Either way the country must be one of `allowed` (calling codes
    /// without `+`), so codes never go to the premium-rate ranges toll fraud pumps.
    pub fn in_countries(&self, home_country: &str, allowed: &[String]) -> bool {
        self.country_among(home_country, allowed).is_some()
    }

    /// The calling code, among `allowed`, this number belongs to: `home_country` for a 10-digit
    /// national number; `None` when it is of none of them.
    pub fn country_among<'a>(&self, home_country: &str, allowed: &'a [String]) -> Option<&'a str> {
        if self.0.len() == Self::MIN_DIGITS {
            return allowed.iter().find(|code| *code == home_country).map(String::as_str);
        }
        // The subscriber number after the country code must still be a plausible length.
        allowed
            .iter()
            .find(|code| !code.is_empty() && self.0.starts_with(code.as_str()) && self.0.len() - code.len() >= 7)
            .map(String::as_str)
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(Phone::parse("123456789").is_err());
        assert!(Phone::parse("1234567890").is_ok());
        assert!(Phone::parse("123456789012345").is_ok());
        assert!(Phone::parse("1234567890123456").is_err());
        assert!(Phone::parse("+911234567890").is_err());
        assert!(Phone::parse("12345 67890").is_err());
        assert!(Phone::parse("１２３４５６７８９０").is_err());
        assert_eq!(Phone::parse(" 1234567890\n").unwrap().as_str(), "1234567890");
    }

    #[test]
    fn countries() {
        let india = ["91".to_owned()];
        let phone = |raw: &str| Phone::parse(raw).unwrap();
        assert!(phone("9876543210").in_countries("91", &india));
        assert!(phone("919876543210").in_countries("91", &india));
        assert!(!phone("447911123456").in_countries("91", &india));
        assert!(!phone("8821234567890").in_countries("91", &india)); // satellite, premium rate
        assert!(!phone("9876543210").in_countries("44", &india)); // national numbers of a refused home
        let both = ["91".to_owned(), "44".to_owned()];
        assert!(phone("447911123456").in_countries("91", &both));
    }
}
