//! Keyed hashing of secrets that must be compared but never stored in the clear.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use talktime_domain::otp::OtpCode;

type HmacSha256 = Hmac<Sha256>;

/// Hashes one-time codes under a key derived from `SECRETS_KEY`, so a database dump does not
/// reveal live codes (a 6-digit code is trivially brute-forced from an unkeyed hash).
#[derive(Clone)]
pub struct OtpHasher {
    key: [u8; 32],
}

impl OtpHasher {
    /// Derives a purpose-bound key from the master secret.
    pub fn new(master_secret: &[u8]) -> Self {
        let mut mac = keyed(master_secret);
        mac.update(b"talktime/otp-hash/v1");
        Self { key: mac.finalize().into_bytes().into() }
    }

    pub fn hash(&self, phone: &str, code: &OtpCode) -> Vec<u8> {
        let mut mac = keyed(&self.key);
        mac.update(phone.as_bytes());
        mac.update(&[0]);
        mac.update(code.expose().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

#[cfg(test)]
mod tests {
    use talktime_domain::otp::{OtpCode, OtpLength};

    use super::*;

    #[test]
    fn hash_depends_on_key_phone_and_code() {
        let code = OtpCode::parse("123456", OtpLength::DEFAULT).unwrap();
        let other = OtpCode::parse("123457", OtpLength::DEFAULT).unwrap();
        let a = OtpHasher::new(b"key-a");
        let b = OtpHasher::new(b"key-b");
        assert_eq!(a.hash("9876543210", &code), a.hash("9876543210", &code));
        assert_ne!(a.hash("9876543210", &code), b.hash("9876543210", &code));
        assert_ne!(a.hash("9876543210", &code), a.hash("9876543211", &code));
        assert_ne!(a.hash("9876543210", &code), a.hash("9876543210", &other));
    }
}
