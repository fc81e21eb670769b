//! Recharges and withdrawals: what kind a money transaction is, and where it stands.

use chrono::{DateTime, Utc};

wire_enum!(
    /// Coins bought through the gateway, or paid out to a bank.
    TransactionKind { Recharge => "RECHARGE", Withdrawal => "WITHDRAWAL" }
);

wire_enum!(
    /// A recharge goes PENDING → SUCCESS, CANCELLED or FAILED; a withdrawal PENDING → SUCCESS or
    /// REJECTED.
    TransactionStatus {
        Pending => "PENDING",
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
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An admin's decision on a withdrawal.
pub enum Decision<'a> {
    Complete { transfer_reference: &'a str },
    Reject { reason: &'a str },
}
