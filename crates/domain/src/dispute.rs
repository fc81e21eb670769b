//! Chargebacks: a payment dispute on a recharge, as Razorpay reports it (docs/money.md).

use chrono::{DateTime, Utc};

wire_enum!(
    /// `OPEN` (the recharge's coins left in her wallet are frozen) → `LOST` (its coins go back;
    /// what she had spent, she owes), `WON` or `CLOSED` (the frozen coins are hers again).
    DisputeStatus { Open => "OPEN", Lost => "LOST", Won => "WON", Closed => "CLOSED" }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    pub id: uuid::Uuid,
    pub gateway_dispute_id: String,
    pub transaction_id: crate::ids::TransactionId,
    pub account_id: crate::ids::AccountId,
    pub status: DisputeStatus,
    pub amount_paise: i64,
    /// The recharge's coins, what was frozen when it opened, and what a lost one still has her
    /// owe.
    pub coins: i64,
    pub held_coins: i64,
    pub owed_coins: i64,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}
