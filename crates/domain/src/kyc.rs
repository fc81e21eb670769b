//! A telecaller's KYC: her PAN, checked by an admin (docs/tax.md).

use chrono::{DateTime, Utc};

wire_enum!(
    /// `NOT_SUBMITTED` (no row) → `PENDING` → `VERIFIED` | `REJECTED`; a new PAN goes back to
    /// `PENDING`.
    KycStatus {
        NotSubmitted => "NOT_SUBMITTED",
        Pending => "PENDING",
        Verified => "VERIFIED",
        Rejected => "REJECTED",
    }
);

/// A PAN's shape: five letters, four digits, a letter (`ABCDE1234F`).
///
/// ```
/// use talktime_domain::kyc::is_pan;
/// assert!(is_pan("ABCPE1234F"));
/// assert!(!is_pan("ABCPE1234"));
/// assert!(!is_pan("abcpe1234f"));
/// assert!(!is_pan("ABCP31234F"));
/// ```
pub fn is_pan(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() == 10
        && b[..5].iter().all(u8::is_ascii_uppercase)
        && b[5..9].iter().all(u8::is_ascii_digit)
        && b[9].is_ascii_uppercase()
}

/// `XXXXXX234F`: every view of a PAN but the admin's detail shows only its last four characters.
pub fn mask_pan(last4: &str) -> String {
    format!("XXXXXX{last4}")
}

/// What is stored of her KYC (the PAN sealed by the services layer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKyc {
    pub telecaller_id: crate::ids::AccountId,
    pub pan_enc: Vec<u8>,
    pub pan_last4: String,
    pub name_on_pan: String,
    pub status: KycStatus,
    pub rejection_reason: Option<String>,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}
