//! Gifts (docs/chat.md#gifts): a catalogue of priced items a user sends during a call or chat;
//! the coins go to the telecaller at her share of the session, the rest to revenue.

use chrono::{DateTime, Utc};

use crate::ids::{AccountId, CallId, GiftId, GiftSendId};

/// A catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gift {
    pub id: GiftId,
    pub name: String,
    pub icon: String,
    pub coins: i64,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One gift sent, as both parties' histories show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiftSent {
    pub id: GiftSendId,
    pub gift_id: GiftId,
    pub name: String,
    pub call_id: CallId,
    pub user_id: AccountId,
    pub telecaller_id: AccountId,
    pub coins: i64,
    pub earned: i64,
    pub created_at: DateTime<Utc>,
}

/// A gift's figures on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopGift {
    pub gift_id: GiftId,
    pub name: String,
    pub sent: i64,
    pub coins: i64,
}

/// The coins of `coins` a gift leaves of a user's wallets that a running session has not used:
/// what she holds minus what the session already owes at its rate (`elapsed_secs` billed
/// seconds, of which the first `free_secs` are free). A gift may spend only that, so it never
/// cuts a session below what was already billed.
///
/// ```
/// use talktime_domain::gift::spendable_during;
/// // 100 coins, 30 s into a call at 2 coins/s: 40 are spendable.
/// assert_eq!(spendable_during(100, 30, 0, 2), 40);
/// // The first 10 seconds were free.
/// assert_eq!(spendable_during(100, 30, 10, 2), 60);
/// assert_eq!(spendable_during(10, 30, 0, 2), 0);
/// ```
pub fn spendable_during(balance: i64, elapsed_secs: i64, free_secs: i64, rate: i64) -> i64 {
    let owed = (elapsed_secs - free_secs).max(0).saturating_mul(rate.max(0));
    (balance - owed).max(0)
}
