//! The change feed: Postgres notifies `talktime_changes` whenever accounts, telecaller profiles,
//! admins, favorites or the app config change (triggers of the `change_feed` migration), so the
//! services' read caches on every node can drop what went stale.

use talktime_domain::ids::{AccountId, AdminId};

use crate::{Db, RepoError};

const CHANNEL: &str = "talktime_changes";

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The account or its telecaller profile.
    Account(AccountId),
    Admin(AdminId),
    /// This user's favorites.
    Favorites(AccountId),
    Config,
    /// The platform's rating totals: every card's smoothed average moves with them.
    Ratings,
    /// A node's liveness probe of its own feed.
    Ping(u64),
}

impl Change {
    fn parse(payload: &str) -> Option<Self> {
        let (kind, id) = payload.split_once(':')?;
        Some(match kind {
            "account" => Change::Account(id.parse().ok()?),
            "admin" => Change::Admin(id.parse().ok()?),
            "favorites" => Change::Favorites(id.parse().ok()?),
            "config" => Change::Config,
            "ratings" => Change::Ratings,
            "ping" => Change::Ping(id.parse().ok()?),
            _ => return None,
        })
    }
}

/// One dedicated connection listening to the feed.
pub struct ChangeFeed(sqlx::postgres::PgListener);

impl ChangeFeed {
    pub async fn listen(db: &Db) -> Result<Self, RepoError> {
        let mut listener = sqlx::postgres::PgListener::connect_with(db.pool()).await?;
        listener.ignore_pool_close_event(true);
        listener.listen(CHANNEL).await?;
        Ok(Self(listener))
    }

    /// The next change; `Ok(None)` when the connection was lost (and re-established: whatever
    /// changed meanwhile was not heard).
    pub async fn next(&mut self) -> Result<Option<Change>, RepoError> {
        loop {
            match self.0.try_recv().await? {
                None => return Ok(None),
                Some(notification) => {
                    if let Some(change) = Change::parse(notification.payload()) {
                        return Ok(Some(change));
                    }
                    tracing::warn!(payload = notification.payload(), "unreadable change notification ignored");
                }
            }
        }
    }
}

/// Sends a `ping:<n>` through the feed (a node checks that its listener still hears it).
pub async fn ping(db: &Db, n: u64) -> Result<(), RepoError> {
    sqlx::query!("SELECT pg_notify($1, $2)", CHANNEL, format!("ping:{n}")).execute(db.pool()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse() {
        let id = AccountId::new();
        assert_eq!(Change::parse(&format!("account:{id}")), Some(Change::Account(id)));
        assert_eq!(Change::parse(&format!("favorites:{id}")), Some(Change::Favorites(id)));
        assert_eq!(Change::parse("config:true"), Some(Change::Config));
        assert_eq!(Change::parse("ping:7"), Some(Change::Ping(7)));
        assert_eq!(Change::parse("account:nope"), None);
        assert_eq!(Change::parse("weather:sunny"), None);
    }
}
