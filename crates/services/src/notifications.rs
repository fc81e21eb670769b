//! The notification inbox (every push but rings and their cancels, kept
//! `NOTIFICATION_RETENTION_DAYS`), the categories an account mutes, and operators' broadcasts to
//! a segment (docs/push.md).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use talktime_domain::account::Account;
use talktime_domain::ids::AdminId;
use talktime_domain::notification::{Audience, Broadcast, Notification, NotificationCategory};
use talktime_repository::notifications::NewBroadcast;
use talktime_repository::{Db, RepoError, audit, notifications};

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
    /// Broadcast pushes per second (`BROADCAST_PER_SECOND`).
    broadcast_per_second: u32,
}

/// An operator's broadcast.
#[derive(Debug, Clone)]
pub struct BroadcastInput {
    pub title: String,
    pub body: String,
    /// `announcements` or `offers`.
    pub category: NotificationCategory,
    pub audience: Audience,
    /// As the admin sent it, for the record and the audit log.
    pub audience_json: serde_json::Value,
}

/// What `POST /admin/broadcasts` did.
#[derive(Debug, Clone)]
pub enum BroadcastOutcome {
    /// `?dryRun=true`: how many it would reach.
    Preview {
        targeted: i64,
    },
    Sent(Broadcast),
}

/// How often each node deletes what is past the retention.
const RETENTION_SWEEP: Duration = Duration::from_secs(3600);

impl InboxService {
    pub fn new(db: Db, retention: Duration, broadcast_per_second: u32) -> Self {
        Self { db, retention, broadcast_per_second: broadcast_per_second.max(1) }
    }

    /// Sends a broadcast (audited), or previews its audience: stored in each target's inbox and
    /// queued at `BROADCAST_PER_SECOND`, muted categories left out.
    pub async fn broadcast(
        &self,
        admin: AdminId,
        input: &BroadcastInput,
        dry_run: bool,
    ) -> Result<BroadcastOutcome, ServiceError> {
        if !matches!(input.category, NotificationCategory::Announcements | NotificationCategory::Offers) {
            return Err(ServiceError::invalid_field(
                "category",
                "validation_error",
                "a broadcast is `announcements` or `offers`",
            ));
        }
        if dry_run {
            let targeted = notifications::audience_size(self.db.pool(), &input.audience, input.category).await?;
            return Ok(BroadcastOutcome::Preview { targeted });
        }
        let id = uuid::Uuid::now_v7();
        let per_second = i32::try_from(self.broadcast_per_second).unwrap_or(i32::MAX);
        let new = NewBroadcast {
            id,
            admin,
            title: &input.title,
            body: &input.body,
            category: input.category,
            audience: &input.audience,
            audience_json: &input.audience_json,
            per_second,
        };
        let mut tx = self.db.begin().await?;
        let targeted = notifications::send(&mut tx, &new).await?;
        let after = json!({ "title": input.title, "category": input.category, "audience": input.audience_json,
            "targeted": targeted });
        audit::audit(&mut tx, admin, "broadcast.send", "broadcast", Some(id), json!(null), after).await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(BroadcastOutcome::Sent(self.broadcast_figures(id).await?))
    }

    /// A broadcast with its figures (404 `broadcast_not_found`).
    pub async fn broadcast_figures(&self, id: uuid::Uuid) -> Result<Broadcast, ServiceError> {
        notifications::broadcast(self.db.pool(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("broadcast_not_found", "Broadcast not found"))
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
