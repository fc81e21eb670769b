//! Recharges and withdrawals: what kind a money transaction is, and where it stands.

use chrono::{DateTime, Utc};

wire_enum!(
    /// Coins bought through the gateway, or paid out to a bank.
    TransactionKind { Recharge => "RECHARGE", Withdrawal => "WITHDRAWAL" }
);

wire_enum!(
    /// A recharge goes PENDING → SUCCESS, CANCELLED or FAILED; a withdrawal PENDING → SUCCESS or
    /// REJECTED, or through a payout provider PENDING → APPROVED → SUCCESS or REJECTED.
    TransactionStatus {
        Pending => "PENDING",
        Approved => "APPROVED",
        Success => "SUCCESS",
        Failed => "FAILED",
        Cancelled => "CANCELLED",
        Rejected => "REJECTED",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub id: crate::ids::TransactionId,
    pub account_id: crate::ids::AccountId,
    pub r#type: TransactionKind,
    pub status: TransactionStatus,
    pub coins: i64,
    pub amount_paise: i64,
    pub plan_id: Option<crate::ids::PlanId>,
    pub gateway_order_id: Option<String>,
    pub gateway_payment_id: Option<String>,
    pub bank_account_enc: Option<Vec<u8>>,
    pub bank_account_len: Option<i32>,
    pub bank_account_last4: Option<String>,
    pub bank_ifsc_code: Option<String>,
    pub bank_holder_name: Option<String>,
    pub transfer_reference: Option<String>,
    pub rejection_reason: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
    pub processed_by: Option<crate::ids::AdminId>,
    /// A withdrawal's TDS (docs/tax.md), fixed with its amount: paise withheld, the coins that
    /// stand for them, the rate (hundredths of a percent), the section, and whether her PAN was
    /// verified.
    pub tds_paise: i64,
    pub tds_coins: i64,
    pub tds_rate_hundredths: Option<i32>,
    pub tds_section: Option<String>,
    pub with_pan: Option<bool>,
    /// A withdrawal handed to the payout provider: when, its payout id and mode, and the
    /// provider's last refusal.
    pub approved_at: Option<DateTime<Utc>>,
    pub payout_id: Option<String>,
    pub payout_mode: Option<String>,
    pub payout_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Transaction {
    /// What a withdrawal's owner receives: its amount less the TDS, in paise.
    pub fn net_paise(&self) -> i64 {
        self.amount_paise - self.tds_paise
    }
}

/// An admin's decision on a withdrawal.
pub enum Decision<'a> {
    Complete { transfer_reference: &'a str },
    Reject { reason: &'a str },
}
