//! One-time login codes: their shape, lifetime and how many tries they allow.

use std::fmt;

/// How long a code stays valid.
pub const OTP_TTL_SECS: i64 = 5 * 60;
/// Wrong guesses allowed before a code is locked.
pub const OTP_MAX_ATTEMPTS: i32 = 5;
/// Minimum time between two codes for one phone.
pub const OTP_RESEND_COOLDOWN_SECS: i64 = 60;

/// How many digits a code has (4–8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OtpLength(u8);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OTP length must be between 4 and 8")]
pub struct InvalidOtpLength;

impl OtpLength {
    pub const DEFAULT: OtpLength = OtpLength(6);

    pub fn new(digits: u8) -> Result<Self, InvalidOtpLength> {
        if (4..=8).contains(&digits) { Ok(Self(digits)) } else { Err(InvalidOtpLength) }
    }

    pub fn digits(self) -> usize {
        usize::from(self.0)
    }
}

/// A code of exactly `OtpLength` ASCII digits.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("OTP must be {0} digits")]
pub struct InvalidOtp(pub usize);

impl OtpCode {
    pub fn parse(raw: &str, length: OtpLength) -> Result<Self, InvalidOtp> {
        let trimmed = raw.trim();
        if trimmed.len() == length.digits() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(InvalidOtp(length.digits()))
        }
    }

    /// Draws a uniformly random code from `next_u32`, which must be a CSPRNG (its error, if any,
    /// is passed through).
    ///
    /// Values at or above the largest multiple of ten below 2³² are rejected, so every digit is
    /// equally likely.
    ///
    /// ```
    /// use talktime_domain::otp::{OtpCode, OtpLength};
    /// let mut values = [7u32, u32::MAX, 12, 3, 40, 5, 66].into_iter();
    /// let code = OtpCode::generate(OtpLength::DEFAULT, || values.next().ok_or("exhausted")).unwrap();
    /// assert_eq!(code.expose(), "723056");
    /// ```
    pub fn generate<E>(length: OtpLength, mut next_u32: impl FnMut() -> Result<u32, E>) -> Result<Self, E> {
        const LIMIT: u32 = u32::MAX - (u32::MAX % 10); // 4_294_967_290, a multiple of 10
        let mut code = String::with_capacity(length.digits());
        while code.len() < length.digits() {
            let value = next_u32()?;
            if value < LIMIT {
                code.push(char::from(b'0' + (value % 10) as u8));
            }
        }
        Ok(Self(code))
    }

    /// The digits themselves: only for hashing and for the SMS text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Never prints the digits, so a code cannot leak through a `{:?}` in a log line.
impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OtpCode(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds() {
        assert!(OtpLength::new(3).is_err());
        assert!(OtpLength::new(4).is_ok());
        assert!(OtpLength::new(8).is_ok());
        assert!(OtpLength::new(9).is_err());
    }

    #[test]
    fn parse_checks_exact_digits() {
        let six = OtpLength::DEFAULT;
        assert!(OtpCode::parse("123456", six).is_ok());
        assert!(OtpCode::parse("12345", six).is_err());
        assert!(OtpCode::parse("1234567", six).is_err());
        assert!(OtpCode::parse("12345a", six).is_err());
    }

    #[test]
    fn generation_rejects_biased_values_and_is_uniform() {
        let mut counter = 0u32;
        let code = OtpCode::generate(OtpLength::new(8).unwrap(), || {
            counter += 1;
            Ok::<_, ()>(if counter.is_multiple_of(2) { u32::MAX } else { counter })
        })
        .unwrap();
        assert_eq!(code.expose(), "13579135");
        assert!(!format!("{code:?}").contains('1'));

        let mut seed = 0x2545_f491_u32;
        let mut counts = [0usize; 10];
        for _ in 0..2_000 {
            let code = OtpCode::generate(OtpLength::DEFAULT, || {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                Ok::<_, ()>(seed)
            })
            .unwrap();
            for b in code.expose().bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        assert!(counts.iter().all(|&c| (1_000..1_400).contains(&c)), "{counts:?}");
    }
}
