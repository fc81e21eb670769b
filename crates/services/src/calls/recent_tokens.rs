//! LiveKit tokens handed out by `session:ready`, repeated for a short window: a party whose app
//! reconnects over and over gets the same token, not a fresh one each time (so a reconnect storm
//! cannot collect tokens), and a token is never minted for a call that is not ACCEPTED.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use talktime_domain::ids::{AccountId, CallId};

use super::events::LiveKitJoin;

/// A party's token is minted at most once per this window; within it the same one is repeated.
pub const TOKEN_REUSE: Duration = Duration::from_secs(10);

#[derive(Default)]
pub(super) struct RecentTokens {
    inner: Mutex<Recent>,
}

#[derive(Default)]
struct Recent {
    by_party: HashMap<(CallId, AccountId), (Instant, LiveKitJoin)>,
    /// The size at which stale entries are dropped next (amortised: no pass per mint).
    purge_at: usize,
}

impl RecentTokens {
    /// The party's token minted within the window, else a new one from `mint`.
    pub(super) fn get_or_mint<E>(
        &self,
        call: CallId,
        party: AccountId,
        mint: impl FnOnce() -> Result<LiveKitJoin, E>,
    ) -> Result<LiveKitJoin, E> {
        let now = Instant::now();
        let mut recent = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, join)) = recent.by_party.get(&(call, party))
            && now.duration_since(*at) < TOKEN_REUSE
        {
            return Ok(join.clone());
        }
        let join = mint()?;
        if recent.by_party.len() >= recent.purge_at {
            recent.by_party.retain(|_, (at, _)| now.duration_since(*at) < TOKEN_REUSE);
            recent.purge_at = (recent.by_party.len() * 2).max(256);
        }
        recent.by_party.insert((call, party), (now, join.clone()));
        Ok(join)
    }
}
