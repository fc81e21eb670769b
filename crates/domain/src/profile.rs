//! Profile rules: names, the telecaller "about" text, adulthood, and bank details.
//!
//! Each `parse` trims and normalises; the normalised value is what gets stored.
//!
//! ```
//! use chrono::NaiveDate;
//! use talktime_domain::profile::{is_adult_on, BankDetails};
//!
//! let dob = NaiveDate::from_ymd_opt(2000, 6, 15).unwrap();
//! assert!(!is_adult_on(dob, NaiveDate::from_ymd_opt(2018, 6, 14).unwrap()));
//! assert!(is_adult_on(dob, NaiveDate::from_ymd_opt(2018, 6, 15).unwrap()));
//!
//! let bank = BankDetails::parse("123456789012", " hdfc0001234 ", "Asha Rao").unwrap();
//! assert_eq!(bank.ifsc_code, "HDFC0001234");
//! assert_eq!(bank.masked_account_number(), "XXXXXXXX9012");
//! ```

use chrono::{Months, NaiveDate};

/// A broken profile rule: which field, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldRule {
    pub field: &'static str,
    pub message: String,
}

fn rule(field: &'static str, message: impl Into<String>) -> FieldRule {
    FieldRule { field, message: message.into() }
}

pub const NAME_MIN: usize = 3;
pub const NAME_MAX: usize = 50;
pub const ABOUT_MIN: usize = 50;
pub const ABOUT_MAX: usize = 500;
pub const ADULT_AGE_YEARS: u32 = 18;

/// A display name of 3–50 characters after trimming. With `letters_only`, only letters and
/// single spaces (the edit-profile rule).
pub fn parse_name(raw: &str, letters_only: bool) -> Result<String, FieldRule> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let len = name.chars().count();
    if !(NAME_MIN..=NAME_MAX).contains(&len) {
        return Err(rule("name", format!("must be {NAME_MIN} to {NAME_MAX} characters")));
    }
    if letters_only && !name.chars().all(|c| c.is_alphabetic() || c == ' ') {
        return Err(rule("name", "may contain only letters and spaces"));
    }
    Ok(name)
}

/// A telecaller's self-description: 50–500 characters after trimming.
pub fn parse_about(raw: &str) -> Result<String, FieldRule> {
    let about = raw.trim().to_owned();
    let len = about.chars().count();
    if !(ABOUT_MIN..=ABOUT_MAX).contains(&len) {
        return Err(rule("about", format!("must be {ABOUT_MIN} to {ABOUT_MAX} characters")));
    }
    Ok(about)
}

/// `YYYY-MM-DD`, or an RFC 3339 timestamp whose date part is taken (older clients send those).
pub fn parse_dob(raw: &str) -> Result<NaiveDate, FieldRule> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(raw).map(|t| t.date_naive()))
        .map_err(|_| rule("dob", "must be a date (YYYY-MM-DD)"))
}

/// Whether someone born on `dob` is 18 or older on `today` (the 18th birthday counts; a 29
/// February birthday comes of age on 28 February in common years).
pub fn is_adult_on(dob: NaiveDate, today: NaiveDate) -> bool {
    dob.checked_add_months(Months::new(ADULT_AGE_YEARS * 12)).is_some_and(|birthday| birthday <= today)
}

/// The date-of-birth rule: not in the future, and adult on `today`.
pub fn check_dob(dob: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldRule> {
    if dob < EARLIEST_DOB {
        return Err(rule("dob", "must be on or after 1900-01-01"));
    }
    if dob > today {
        return Err(rule("dob", "cannot be in the future"));
    }
    if !is_adult_on(dob, today) {
        return Err(rule("dob", format!("you must be at least {ADULT_AGE_YEARS} years old")));
    }
    Ok(dob)
}

/// No date of birth before this is believed (nor could every store keep it).
pub const EARLIEST_DOB: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// A bank account for withdrawals, normalised.
#[derive(Clone, PartialEq, Eq)]
pub struct BankDetails {
    pub account_number: String,
    pub ifsc_code: String,
    pub account_holder_name: String,
}

impl std::fmt::Debug for BankDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankDetails")
            .field("account_number", &self.masked_account_number())
            .field("ifsc_code", &self.ifsc_code)
            .finish_non_exhaustive()
    }
}

impl BankDetails {
    /// Account number 9–18 digits; IFSC `^[A-Z]{4}0[A-Z0-9]{6}$` after trimming and
    /// upper-casing; holder 3–100 letters and spaces.
    pub fn parse(account_number: &str, ifsc_code: &str, holder: &str) -> Result<Self, Vec<FieldRule>> {
        let mut broken = Vec::new();
        let number = account_number.trim();
        if !(9..=18).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_digit()) {
            broken.push(rule("accountNumber", "must be 9 to 18 digits"));
        }
        let ifsc = ifsc_code.trim().to_ascii_uppercase();
        if !is_ifsc(&ifsc) {
            broken.push(rule("ifscCode", "must be a valid IFSC code (e.g. HDFC0001234)"));
        }
        let name = holder.split_whitespace().collect::<Vec<_>>().join(" ");
        let len = name.chars().count();
        if !(3..=100).contains(&len) || !name.chars().all(|c| c.is_alphabetic() || c == ' ') {
            broken.push(rule("accountHolderName", "must be 3 to 100 letters and spaces"));
        }
        if broken.is_empty() {
            Ok(Self { account_number: number.to_owned(), ifsc_code: ifsc, account_holder_name: name })
        } else {
            Err(broken)
        }
    }

    pub fn last4(&self) -> &str {
        &self.account_number[self.account_number.len().saturating_sub(4)..]
    }

    pub fn masked_account_number(&self) -> String {
        mask_account_number(self.account_number.len(), self.last4())
    }
}

/// `XXXXXXXX1234`: as many `X` as hidden digits, then the last four.
pub fn mask_account_number(length: usize, last4: &str) -> String {
    format!("{}{}", "X".repeat(length.saturating_sub(last4.len())), last4)
}

fn is_ifsc(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 11
        && b[..4].iter().all(u8::is_ascii_uppercase)
        && b[4] == b'0'
        && b[5..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn names() {
        assert_eq!(parse_name("  Asha   Rao ", true).unwrap(), "Asha Rao");
        assert!(parse_name("Al", false).is_err());
        assert!(parse_name(&"a".repeat(51), false).is_err());
        assert!(parse_name("R2D2 unit", true).is_err());
        assert!(parse_name("R2D2 unit", false).is_ok());
    }

    #[test]
    fn about_bounds() {
        assert!(parse_about(&"a".repeat(49)).is_err());
        assert!(parse_about(&"a".repeat(50)).is_ok());
        assert!(parse_about(&"a".repeat(500)).is_ok());
        assert!(parse_about(&"a".repeat(501)).is_err());
        assert!(parse_about(&format!("  {}  ", "a".repeat(49))).is_err());
    }

    #[test]
    fn adulthood() {
        let dob = date(2000, 6, 15);
        assert!(check_dob(dob, date(2018, 6, 14)).is_err());
        assert!(check_dob(dob, date(2018, 6, 15)).is_ok());
        assert!(check_dob(date(2030, 1, 1), date(2026, 1, 1)).is_err());
        assert!(check_dob(date(1899, 12, 31), date(2026, 1, 1)).is_err(), "before 1900");
        assert!(check_dob(date(1900, 1, 1), date(2026, 1, 1)).is_ok());
        assert!(check_dob(NaiveDate::MIN, date(2026, 1, 1)).is_err(), "year -262143 never reaches Postgres");
        // Leap-day birthday: adult on 28 February of the 18th year.
        assert!(!is_adult_on(date(2004, 2, 29), date(2022, 2, 27)));
        assert!(is_adult_on(date(2004, 2, 29), date(2022, 2, 28)));
    }

    #[test]
    fn dob_formats() {
        assert_eq!(parse_dob("1999-12-31").unwrap(), date(1999, 12, 31));
        assert_eq!(parse_dob("1999-12-31T00:00:00.000Z").unwrap(), date(1999, 12, 31));
        assert!(parse_dob("31/12/1999").is_err());
        assert!(parse_dob("1999-02-30").is_err());
    }

    #[test]
    fn bank_details() {
        let ok = BankDetails::parse(" 123456789 ", "sbin0a1b2c3", " Asha  Rao ").unwrap();
        assert_eq!((ok.account_number.as_str(), ok.ifsc_code.as_str()), ("123456789", "SBIN0A1B2C3"));
        assert_eq!(ok.account_holder_name, "Asha Rao");
        assert_eq!(ok.masked_account_number(), "XXXXX6789");
        assert!(!format!("{ok:?}").contains("123456789"));
        let broken = BankDetails::parse("12345678", "SBIN1A1B2C3", "A1").unwrap_err();
        assert_eq!(broken.len(), 3);
        assert!(BankDetails::parse("1234567890123456789", "SBIN0000001", "Asha").is_err());
    }
}
