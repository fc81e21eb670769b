//! The notification inbox (every push but rings and their cancels, kept
//! `NOTIFICATION_RETENTION_DAYS`) and the categories an account mutes (docs/push.md).

use std::sync::Arc;
use std::time::Duration;

use talktime_domain::account::Account;
use talktime_domain::notification::{Notification, NotificationCategory};
use talktime_repository::{Db, notifications};

use crate::ServiceError;
use crate::catalog::PageRequest;

/// A page of her inbox.
#[derive(Debug, Clone)]
pub struct Inbox {
    pub notifications: Vec<Notification>,
    pub has_more: bool,
    pub unread: i64,
}

pub struct InboxService {
    db: Db,
    /// How long a notification is kept (`NOTIFICATION_RETENTION_DAYS`).
    retention: Duration,
}

/// How often each node deletes what is past the retention.
const RETENTION_SWEEP: Duration = Duration::from_secs(3600);

impl InboxService {
    pub fn new(db: Db, retention: Duration) -> Self {
        Self { db, retention }
    }

    pub async fn inbox(&self, account: &Account, page: PageRequest) -> Result<Inbox, ServiceError> {
        let (limit, offset) = (page.limit(), page.offset());
        let (mut notifications, unread) = futures_util::future::try_join(
            notifications::page(self.db.pool(), account.id, limit, offset),
            notifications::unread(self.db.pool(), account.id),
        )
        .await?;
        let has_more = talktime_domain::page::cut_to(&mut notifications, limit);
        Ok(Inbox { notifications, has_more, unread })
    }

    /// Marks hers read (`ids`, or all); how many changed and how many are left unread.
    pub async fn read(&self, account: &Account, ids: Option<&[uuid::Uuid]>) -> Result<(u64, i64), ServiceError> {
        let changed = notifications::mark_read(self.db.pool(), account.id, ids).await?;
        Ok((changed, notifications::unread(self.db.pool(), account.id).await?))
    }

    /// Each category, and whether it is on.
    pub async fn preferences(&self, account: &Account) -> Result<Vec<(NotificationCategory, bool)>, ServiceError> {
        let muted = notifications::muted(self.db.pool(), account.id).await?;
        Ok(NotificationCategory::ALL.iter().map(|c| (*c, !muted.contains(c))).collect())
    }

    /// Switches the given categories on or off (the others stay); answers them all.
    pub async fn set_preferences(
        &self,
        account: &Account,
        changes: &[(NotificationCategory, bool)],
    ) -> Result<Vec<(NotificationCategory, bool)>, ServiceError> {
        let mut muted = notifications::muted(self.db.pool(), account.id).await?;
        for (category, on) in changes {
            muted.retain(|m| m != category);
            if !on {
                muted.push(*category);
            }
        }
        notifications::set_muted(self.db.pool(), account.id, &muted).await?;
        self.preferences(account).await
    }

    /// Deletes what is past the retention; how many.
    pub async fn expire_once(&self) -> Result<u64, ServiceError> {
        Ok(notifications::delete_older_than(self.db.pool(), self.retention.as_secs_f64()).await?)
    }

    pub async fn run_retention(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(RETENTION_SWEEP);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(error) = self.expire_once().await {
                tracing::warn!(%error, "notification retention pass failed");
            }
        }
    }
}
