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
            PushKind::IncomingCall | PushKind::CallCancelled => None,
            PushKind::MissedCall => Some(NotificationCategory::MissedCalls),
            PushKind::OnlineAlert => Some(NotificationCategory::OnlineAlerts),
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
