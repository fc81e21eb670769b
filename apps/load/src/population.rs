//! The accounts a run uses, made in the server's database in bulk (through the repository
//! crate), funded through the ledger module, with tokens minted by the server's own issuer.

use std::time::Duration;

use talktime_domain::account::Role;
use talktime_domain::ids::AccountId;
use talktime_repository::{Db, seed};
use talktime_services::tokens::TokenIssuer;

use crate::Error;

#[derive(Debug, Clone)]
pub struct Member {
    pub id: AccountId,
    pub token: String,
}

/// Users without coins (idle sockets, watchers, list readers), funded callers and approved
/// telecallers.
#[derive(Debug, Default)]
pub struct Population {
    pub users: Vec<Member>,
    pub callers: Vec<Member>,
    pub telecallers: Vec<Member>,
}

#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub users: usize,
    pub callers: usize,
    pub telecallers: usize,
    /// Coins in each caller's wallet.
    pub coins: i64,
}

pub async fn prepare(db: &Db, jwt_secret: &str, sizes: Sizes) -> Result<Population, Error> {
    let run = u32::try_from(uuid::Uuid::now_v7().as_u128() % 100_000).unwrap_or(0);
    crate::progress(format!(
        "preparing {} users, {} callers with {} coins each, {} telecallers (run {run})",
        sizes.users, sizes.callers, sizes.coins, sizes.telecallers
    ));
    let (users, telecallers) = seed::load_population(db, run, sizes.users + sizes.callers, sizes.telecallers).await?;
    let (callers, users) = users.split_at(sizes.callers);
    let mut tx = db.begin().await?;
    for caller in callers {
        talktime_services::ledger::credit_recharge(
            &mut tx,
            talktime_domain::ids::TransactionId::new(),
            *caller,
            sizes.coins,
        )
        .await?;
    }
    tx.commit().await?;
    let issuer = TokenIssuer::new(jwt_secret.as_bytes(), Duration::from_secs(24 * 3600));
    let members = |ids: &[AccountId], role: Role| -> Result<Vec<Member>, Error> {
        ids.iter().map(|id| Ok(Member { id: *id, token: issuer.issue(id.0, role, 0)? })).collect()
    };
    Ok(Population {
        users: members(users, Role::User)?,
        callers: members(callers, Role::User)?,
        telecallers: members(&telecallers, Role::Telecaller)?,
    })
}
