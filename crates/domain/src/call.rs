//! Calls: the state machine and the per-second billing arithmetic.
//!
//! ```
//! use talktime_domain::call::{settle, CallStatus, EndReason, end_transition};
//!
//! assert_eq!(end_transition(CallStatus::Ringing, EndReason::RingTimeout), Some(CallStatus::Missed));
//! assert_eq!(end_transition(CallStatus::Accepted, EndReason::UserEnded), Some(CallStatus::Completed));
//! assert_eq!(end_transition(CallStatus::Completed, EndReason::UserEnded), None);
//!
//! // 90 seconds at 4 coins/s for the user, 2 coins/s for the telecaller, with 1000 coins.
//! let bill = settle(90, 4, 2, 1000);
//! assert_eq!((bill.spent, bill.earned, bill.revenue), (360, 180, 180));
//! ```

use chrono::{DateTime, Utc};

use crate::ids::{AccountId, CallId};

wire_enum!(
    /// `CHAT` is a paid chat session (docs/chat.md): the same row, rules and meter, no media.
    CallType { Audio => "AUDIO", Video => "VIDEO", Chat => "CHAT" }
);

impl CallType {
    pub fn is_chat(self) -> bool {
        self == CallType::Chat
    }
}

wire_enum!(
    /// `RINGING` → `ACCEPTED` → `COMPLETED`, or `RINGING` → `REJECTED` / `MISSED` / `CANCELLED`.
    CallStatus {
        Ringing => "RINGING",
        Accepted => "ACCEPTED",
        Completed => "COMPLETED",
        Rejected => "REJECTED",
        Missed => "MISSED",
        Cancelled => "CANCELLED",
    }
);

wire_enum!(
    /// Why a call ended.
    EndReason {
        UserEnded => "USER_ENDED",
        TelecallerEnded => "TELECALLER_ENDED",
        BalanceExhausted => "BALANCE_EXHAUSTED",
        UserDisconnected => "USER_DISCONNECTED",
        TelecallerDisconnected => "TELECALLER_DISCONNECTED",
        Admin => "ADMIN",
        AccountBlocked => "ACCOUNT_BLOCKED",
        RingTimeout => "RING_TIMEOUT",
        Rejected => "REJECTED",
        Cancelled => "CANCELLED",
        SetupFailed => "SETUP_FAILED",
        /// A chat with no message from either party for `CHAT_INACTIVITY_SECS`.
        Inactive => "INACTIVE",
    }
);

impl CallStatus {
    /// RINGING or ACCEPTED: the call holds both parties.
    pub fn is_active(self) -> bool {
        matches!(self, CallStatus::Ringing | CallStatus::Accepted)
    }
}

/// The only non-terminal move: the callee accepts a ringing call.
pub fn can_accept(from: CallStatus) -> bool {
    from == CallStatus::Ringing
}

/// Where ending a call in state `from` for `reason` leads, or `None` when that end does not
/// apply (the call is already over, or the reason belongs to the other phase).
pub fn end_transition(from: CallStatus, reason: EndReason) -> Option<CallStatus> {
    use EndReason::*;
    match (from, reason) {
        (CallStatus::Ringing, Rejected) => Some(CallStatus::Rejected),
        (CallStatus::Ringing, Cancelled | UserDisconnected | AccountBlocked | Admin | SetupFailed) => {
            Some(CallStatus::Cancelled)
        }
        (CallStatus::Ringing, RingTimeout | TelecallerDisconnected) => Some(CallStatus::Missed),
        (
            CallStatus::Accepted,
            UserEnded
            | TelecallerEnded
            | BalanceExhausted
            | UserDisconnected
            | TelecallerDisconnected
            | Admin
            | AccountBlocked
            | SetupFailed
            | Inactive,
        ) => Some(CallStatus::Completed),
        _ => None,
    }
}

/// Seconds a balance pays for at `rate` coins per second.
pub fn max_duration_secs(balance: i64, rate: i64) -> i64 {
    if rate <= 0 || balance <= 0 { 0 } else { balance / rate }
}

/// Whole seconds billed: from accept to the earlier of end and the billing deadline.
pub fn billed_seconds(accepted_at_ms: i64, ended_at_ms: i64, deadline_ms: i64) -> i64 {
    ((ended_at_ms.min(deadline_ms) - accepted_at_ms) / 1000).max(0)
}

/// The money a call moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bill {
    pub spent: i64,
    pub earned: i64,
    pub revenue: i64,
}

/// `spent = seconds × user rate`, never more than the balance; `earned = seconds × telecaller
/// rate`, never more than what was spent; the platform keeps the difference. (The rule of calls
/// placed before commissions existed; see [`bill`].)
pub fn settle(seconds: i64, user_rate: i64, telecaller_rate: i64, balance: i64) -> Bill {
    let seconds = seconds.max(0);
    let spent = seconds.saturating_mul(user_rate.max(0)).min(balance.max(0));
    let earned = seconds.saturating_mul(telecaller_rate.max(0)).min(spent);
    Bill { spent, earned, revenue: spent - earned }
}

/// A call's bill: `spent = seconds × user rate`, never more than the balance; with a commission
/// she earns `floor(spent × (10000 − commission) / 10000)` (docs/money.md), without one (a call
/// placed before commissions existed) as [`settle`] says.
///
/// ```
/// use talktime_domain::call::{Bill, Rates, bill};
/// let rates = Rates { user_rate: 5, telecaller_rate: 3, commission_hundredths: Some(4000) };
/// assert_eq!(bill(10, rates, 1_000), Bill { spent: 50, earned: 30, revenue: 20 });
/// // The balance ran out at 43 coins: she earns her share of what was paid.
/// assert_eq!(bill(10, rates, 43), Bill { spent: 43, earned: 25, revenue: 18 });
/// ```
pub fn bill(seconds: i64, rates: Rates, balance: i64) -> Bill {
    let Some(commission) = rates.commission_hundredths else {
        return settle(seconds, rates.user_rate, rates.telecaller_rate, balance);
    };
    let spent = seconds.max(0).saturating_mul(rates.user_rate.max(0)).min(balance.max(0));
    let earned = crate::pricing::her_share(spent, commission);
    Bill { spent, earned, revenue: spent - earned }
}

/// A session's settlement: `seconds` billed at `rates` (as [`bill`]), its first `free_seconds`
/// paid by marketing, the rest from the promotional balance first, then the paid one, never more
/// than the three cover (see [`Funding::split`](crate::promotion::Funding::split)). The end of a
/// session runs this rule in SQL (`session_funding`, for one round trip); a repository test holds
/// the two to the same answers.
///
/// ```
/// use talktime_domain::call::{Rates, session_funding};
/// let rates = Rates { user_rate: 5, telecaller_rate: 3, commission_hundredths: Some(4000) };
/// let f = session_funding(100, rates, 30, 1_000, 50);
/// assert_eq!((f.free, f.promo, f.paid, f.earned, f.revenue, f.marketing), (150, 50, 300, 300, 120, -70));
/// ```
pub fn session_funding(
    seconds: i64,
    rates: Rates,
    free_seconds: i32,
    paid_balance: i64,
    promo_balance: i64,
) -> crate::promotion::Funding {
    let free = seconds.min(i64::from(free_seconds)).saturating_mul(rates.user_rate);
    let bill = bill(seconds, rates, paid_balance.saturating_add(promo_balance).saturating_add(free));
    crate::promotion::Funding::split(bill.spent, free, bill.earned, promo_balance)
}

/// What a call bills at, copied onto it at initiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    pub user_rate: i64,
    pub telecaller_rate: i64,
    pub commission_hundredths: Option<i32>,
}

/// Where a refund of `coins` to the user comes from: the telecaller gives back her share of it
/// (what she earned per coin the user spent), as far as her `telecaller_balance` allows; the
/// platform's revenue gives the rest. Answers (from the telecaller, from revenue).
///
/// ```
/// use talktime_domain::call::refund_split;
///
/// // A call that cost 100 and earned her 50: refunding 40 takes 20 from her, 20 from revenue.
/// assert_eq!(refund_split(40, 100, 50, 1_000), (20, 20));
/// // She has spent her earnings since: revenue covers what she cannot.
/// assert_eq!(refund_split(40, 100, 50, 5), (5, 35));
/// ```
pub fn refund_split(coins: i64, spent: i64, earned: i64, telecaller_balance: i64) -> (i64, i64) {
    if coins <= 0 || spent <= 0 {
        return (0, coins.max(0));
    }
    let share = i64::try_from(i128::from(coins) * i128::from(earned.clamp(0, spent)) / i128::from(spent)).unwrap_or(0);
    let from_telecaller = share.min(telecaller_balance.max(0));
    (from_telecaller, coins - from_telecaller)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub id: CallId,
    pub user_id: AccountId,
    pub telecaller_id: AccountId,
    pub call_type: CallType,
    pub status: CallStatus,
    pub end_reason: Option<EndReason>,
    pub user_rate: i64,
    pub telecaller_rate: i64,
    /// The platform's share (hundredths of a percent), copied at initiate; `None` on calls
    /// placed before commissions existed.
    pub commission_hundredths: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub ring_deadline: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub max_duration_seconds: Option<i64>,
    pub billing_deadline: Option<DateTime<Utc>>,
    pub balance_low_sent: bool,
    pub user_grace_deadline: Option<DateTime<Utc>>,
    pub telecaller_grace_deadline: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i64>,
    pub coins_spent: Option<i64>,
    pub coins_earned: Option<i64>,
    /// Billing runs from here: the accept, or the moment both parties were in the room.
    pub connected_at: Option<DateTime<Utc>>,
    /// An accepted call whose media is not connected by then ends SETUP_FAILED.
    pub media_deadline: Option<DateTime<Utc>>,
    pub user_joined_at: Option<DateTime<Utc>>,
    pub telecaller_joined_at: Option<DateTime<Utc>>,
    /// The telecaller was AWAY: the call rang through a push to her devices.
    pub rung_by_push: bool,
    /// When a party left the call's room (LiveKit), until they rejoin it.
    pub user_left_room_at: Option<DateTime<Utc>>,
    pub telecaller_left_room_at: Option<DateTime<Utc>>,
    /// A party out of the room by then ends the call (the media grace; only a rejoin ends it).
    pub user_media_grace_deadline: Option<DateTime<Utc>>,
    pub telecaller_media_grace_deadline: Option<DateTime<Utc>>,
    /// A first call's free seconds (set at accept), paid by marketing.
    pub free_seconds: i32,
    /// Of `coins_spent`, what came from the user's promotional wallet.
    pub promo_spent: i64,
    /// What the free seconds were worth at her price (marketing paid them).
    pub free_coins: i64,
    /// A chat with no message by then ends INACTIVE (chats only).
    pub inactive_deadline: Option<DateTime<Utc>>,
    /// A chat's last message number.
    pub last_seq: i64,
    /// The database's clock when the row was read (deadlines are compared against it).
    pub now: DateTime<Utc>,
}

impl Call {
    /// `party`'s socket grace deadline on this call (`None` for someone who is not a party).
    pub fn grace_deadline_of(&self, party: AccountId) -> Option<DateTime<Utc>> {
        self.of_party(party, self.user_grace_deadline, self.telecaller_grace_deadline)
    }

    /// `party`'s media grace deadline (out of the room) on this call.
    pub fn media_grace_deadline_of(&self, party: AccountId) -> Option<DateTime<Utc>> {
        self.of_party(party, self.user_media_grace_deadline, self.telecaller_media_grace_deadline)
    }

    /// The user's or the telecaller's value, as `party` is one or the other (`None` otherwise).
    fn of_party<T>(&self, party: AccountId, user: Option<T>, telecaller: Option<T>) -> Option<T> {
        if party == self.user_id {
            user
        } else if party == self.telecaller_id {
            telecaller
        } else {
            None
        }
    }
}

/// Calls as admins list them, with both parties' names and, for live calls, the billed seconds.
#[derive(Debug, Clone)]
pub struct AdminCallRow {
    pub id: CallId,
    pub user_id: AccountId,
    pub user_name: Option<String>,
    pub telecaller_id: AccountId,
    pub telecaller_name: Option<String>,
    pub call_type: crate::call::CallType,
    pub status: crate::call::CallStatus,
    pub end_reason: Option<EndReason>,
    pub user_rate: i64,
    pub created_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i64>,
    pub coins_spent: Option<i64>,
    pub coins_earned: Option<i64>,
    /// Seconds since accept, for live calls.
    pub elapsed_seconds: Option<i64>,
}

/// A call in someone's history, with the other party's card.
#[derive(Debug, Clone)]
pub struct HistoryRow {
    pub id: CallId,
    pub call_type: CallType,
    pub status: CallStatus,
    pub created_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i64>,
    pub coins: Option<i64>,
    pub end_reason: Option<EndReason>,
    pub peer_id: AccountId,
    pub peer_name: Option<String>,
    pub peer_profile: Option<crate::account::Avatar>,
}

/// What one party said about a call.
#[derive(Debug, Clone)]
pub struct Feedback {
    pub author_id: AccountId,
    pub rating: Option<i32>,
    pub comment: Option<String>,
    /// Hidden by an admin: its rating no longer counts.
    pub hidden: bool,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn any_reason() -> impl Strategy<Value = EndReason> {
        proptest::sample::select(EndReason::ALL.to_vec())
    }

    #[derive(Debug, Clone)]
    enum Event {
        Accept,
        End(EndReason),
    }

    fn any_event() -> impl Strategy<Value = Event> {
        prop_oneof![Just(Event::Accept), any_reason().prop_map(Event::End)]
    }

    proptest! {
        /// Whatever happens to a call, it ends at most once, and never leaves a terminal state.
        #[test]
        fn a_call_ends_at_most_once(events in proptest::collection::vec(any_event(), 0..20)) {
            let mut state = CallStatus::Ringing;
            let mut ends = 0;
            for event in events {
                match event {
                    Event::Accept if can_accept(state) => state = CallStatus::Accepted,
                    Event::Accept => {}
                    Event::End(reason) => {
                        if let Some(next) = end_transition(state, reason) {
                            prop_assert!(state.is_active());
                            prop_assert!(!next.is_active());
                            state = next;
                            ends += 1;
                        }
                    }
                }
            }
            prop_assert!(ends <= 1);
            prop_assert_eq!(ends == 1, !state.is_active());
        }

        /// A call billed with a commission never overdraws, pays her her share of what was paid
        /// and the platform the rest.
        #[test]
        fn commission_bills_balance(seconds in 0i64..100_000, user_rate in 1i64..100, commission in 0i32..=10_000, balance in 0i64..10_000_000) {
            let bill = bill(seconds, Rates { user_rate, telecaller_rate: 0, commission_hundredths: Some(commission) }, balance);
            prop_assert!(bill.spent <= balance);
            prop_assert_eq!(bill.spent, bill.earned + bill.revenue);
            prop_assert_eq!(bill.earned, bill.spent * (10_000 - i64::from(commission)) / 10_000);
        }

        /// A refund always adds up, never takes more from her than her share or her balance.
        #[test]
        fn refunds_add_up(coins in 1i64..10_000, spent in 1i64..10_000, share in 0i64..=100, balance in 0i64..10_000) {
            let earned = spent * share / 100;
            let (from_her, from_revenue) = refund_split(coins, spent, earned, balance);
            prop_assert_eq!(from_her + from_revenue, coins);
            prop_assert!(from_her >= 0 && from_revenue >= 0);
            prop_assert!(from_her <= balance);
            prop_assert!(from_her <= coins * earned / spent);
        }

        /// Bills never overdraw, never pay the telecaller more than was spent, and charge exactly
        /// seconds × rate when the balance covers it.
        #[test]
        fn bills_balance(seconds in 0i64..100_000, user_rate in 1i64..100, share in 0i64..=100, balance in 0i64..10_000_000) {
            let telecaller_rate = user_rate * share / 100;
            let bill = settle(seconds, user_rate, telecaller_rate, balance);
            prop_assert!(bill.spent <= balance);
            prop_assert!(bill.earned <= bill.spent);
            prop_assert_eq!(bill.spent, bill.earned + bill.revenue);
            if seconds * user_rate <= balance {
                prop_assert_eq!(bill.spent, seconds * user_rate);
                prop_assert_eq!(bill.earned, seconds * telecaller_rate);
            }
        }

        /// Within the paid time, billing stops at the deadline.
        #[test]
        fn billing_stops_at_the_deadline(balance in 0i64..100_000, rate in 1i64..50, extra_ms in 0i64..1_000_000) {
            let max = max_duration_secs(balance, rate);
            let deadline = max * 1000;
            let seconds = billed_seconds(0, deadline + extra_ms, deadline);
            prop_assert_eq!(seconds, max);
            prop_assert!(seconds * rate <= balance);
        }
    }

    #[test]
    fn a_call_ending_in_its_first_second_costs_nothing() {
        assert_eq!(billed_seconds(1_000, 1_999, 60_000), 0);
        assert_eq!(settle(0, 5, 2, 100), Bill { spent: 0, earned: 0, revenue: 0 });
        assert_eq!(billed_seconds(1_000, 2_000, 60_000), 1);
    }

    #[test]
    fn phases_have_their_own_ends() {
        assert_eq!(end_transition(CallStatus::Ringing, EndReason::UserEnded), None);
        assert_eq!(end_transition(CallStatus::Accepted, EndReason::RingTimeout), None);
        assert_eq!(end_transition(CallStatus::Ringing, EndReason::UserDisconnected), Some(CallStatus::Cancelled));
        assert_eq!(end_transition(CallStatus::Ringing, EndReason::TelecallerDisconnected), Some(CallStatus::Missed));
    }
}

/// Call figures for monitoring: calls per status, calls ever created, calls settled through the
/// ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFigures {
    pub by_status: Vec<(CallStatus, i64)>,
    pub setups: i64,
    pub settlements: i64,
}
