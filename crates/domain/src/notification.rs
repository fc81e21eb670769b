//! The notification inbox: what was pushed to an account, by category, and which categories it
//! muted (docs/push.md).

use chrono::{DateTime, Utc};

wire_enum!(
    /// What a stored notification is about; each can be muted (rings never can: they are not
    /// stored, nor switchable).
    NotificationCategory {
        MissedCalls => "missed_calls",
        OnlineAlerts => "online_alerts",
        Wallet => "wallet",
        Announcements => "announcements",
        Offers => "offers",
    }
);

impl crate::push::PushKind {
    /// The inbox category of a push of this kind; `None` for a ring and its cancel (never stored,
    /// never muted).
    pub fn category(self) -> Option<NotificationCategory> {
        use crate::push::PushKind;
        match self {
            PushKind::IncomingCall | PushKind::CallCancelled | PushKind::IncomingChat => None,
            PushKind::MissedCall => Some(NotificationCategory::MissedCalls),
            PushKind::OnlineAlert => Some(NotificationCategory::OnlineAlerts),
            // A broadcast's category is its own (announcements or offers).
            PushKind::Broadcast => None,
        }
    }
}

/// One entry of an inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: uuid::Uuid,
    pub category: NotificationCategory,
    pub kind: String,
    pub title: Option<String>,
    pub body: Option<String>,
    pub data: serde_json::Value,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Who a broadcast goes to: every active account of `role`, narrowed by each filter given.
#[derive(Debug, Clone, PartialEq)]
pub struct Audience {
    pub role: crate::account::Role,
    pub language: Option<crate::account::Language>,
    /// Coins she can spend, at least.
    pub min_balance: Option<i64>,
    /// Opened the app (registered a device) or was in a call within this many days.
    pub last_active_within_days: Option<f64>,
    /// Has (or has not) a captured recharge.
    pub has_recharged: Option<bool>,
}

/// A broadcast sent, with what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    pub id: uuid::Uuid,
    pub title: String,
    pub body: String,
    pub category: NotificationCategory,
    pub audience: serde_json::Value,
    pub targeted: i32,
    pub per_second: i32,
    pub created_at: DateTime<Utc>,
    /// Pushes sent and given up, and inbox entries read.
    pub sent: i64,
    pub failed: i64,
    pub opened: i64,
}
