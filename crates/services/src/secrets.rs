//! Secrets at rest: keyed hashes of one-time codes, and encryption of bank account numbers and PANs.
//! Every key is derived from `SECRETS_KEY` with its own label, so one never stands in for another.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use talktime_domain::ids::AccountId;
use talktime_domain::otp::OtpCode;

use crate::ServiceError;

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
        Self { key: derive_key(master_secret, b"talktime/otp-hash/v1") }
    }

    pub fn hash(&self, phone: &str, code: &OtpCode) -> Vec<u8> {
        let mut mac = keyed(&self.key);
        mac.update(phone.as_bytes());
        mac.update(&[0]);
        mac.update(code.expose().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// Keyed digests of phone numbers (of deleted accounts): they recognise a number without naming
/// it, under a key derived from `SECRETS_KEY`.
#[derive(Clone)]
pub struct PhoneDigests {
    key: [u8; 32],
}

impl PhoneDigests {
    pub fn new(master_secret: &[u8]) -> Self {
        Self { key: derive_key(master_secret, b"talktime/deleted-phone/v1") }
    }

    pub fn digest(&self, phone: &str) -> Vec<u8> {
        let mut mac = keyed(&self.key);
        mac.update(phone.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// A purpose-bound 32-byte key: HMAC-SHA256(master, label).
fn derive_key(master_secret: &[u8], label: &[u8]) -> [u8; 32] {
    let mut mac = keyed(master_secret);
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// Encrypts what a telecaller owns and only admins may read whole (bank account numbers, PANs)
/// with XChaCha20-Poly1305, under a key per kind. The stored form is
/// `version (1 byte) || nonce (24 bytes) || ciphertext`; the telecaller's id is the associated
/// data, so a ciphertext copied onto another telecaller's row fails to open.
#[derive(Clone)]
pub struct OwnerCipher {
    cipher: XChaCha20Poly1305,
}

const BANK_FORMAT_V1: u8 = 1;

impl OwnerCipher {
    pub fn bank_details(master_secret: &[u8]) -> Self {
        Self::labelled(master_secret, b"talktime/bank-details/v1")
    }

    pub fn pan(master_secret: &[u8]) -> Self {
        Self::labelled(master_secret, b"talktime/pan/v1")
    }

    fn labelled(master_secret: &[u8], label: &[u8]) -> Self {
        let key = derive_key(master_secret, label);
        Self { cipher: XChaCha20Poly1305::new(&key.into()) }
    }

    pub fn seal(&self, owner: AccountId, plaintext: &str) -> Result<Vec<u8>, ServiceError> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(ServiceError::internal)?;
        let sealed = self
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plaintext.as_bytes(), aad: owner.0.as_bytes() })
            .map_err(|_| ServiceError::internal(CipherError))?;
        let mut out = Vec::with_capacity(1 + nonce.len() + sealed.len());
        out.push(BANK_FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, owner: AccountId, stored: &[u8]) -> Result<String, ServiceError> {
        let (version, rest) = stored.split_first().ok_or_else(|| ServiceError::internal(CipherError))?;
        if *version != BANK_FORMAT_V1 || rest.len() < 24 {
            return Err(ServiceError::internal(CipherError));
        }
        let (nonce, sealed) = rest.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| ServiceError::internal(CipherError))?;
        let plain = self
            .cipher
            .decrypt(&XNonce::from(nonce), Payload { msg: sealed, aad: owner.0.as_bytes() })
            .map_err(|_| ServiceError::internal(CipherError))?;
        String::from_utf8(plain).map_err(ServiceError::internal)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a stored bank account number or PAN could not be decrypted (wrong SECRETS_KEY or damaged row)")]
struct CipherError;

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

    #[test]
    fn bank_cipher_round_trips_only_for_its_owner_and_key() {
        let cipher = OwnerCipher::bank_details(b"master");
        let owner = AccountId::new();
        let sealed = cipher.seal(owner, "123456789012").unwrap();
        assert!(!sealed.windows(12).any(|w| w == b"123456789012"));
        assert_eq!(cipher.open(owner, &sealed).unwrap(), "123456789012");
        assert_ne!(cipher.seal(owner, "123456789012").unwrap(), sealed, "fresh nonce each time");
        assert!(cipher.open(AccountId::new(), &sealed).is_err());
        assert!(OwnerCipher::bank_details(b"other").open(owner, &sealed).is_err());
        assert!(cipher.open(owner, &[]).is_err());
    }
}
