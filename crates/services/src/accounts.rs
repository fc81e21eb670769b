//! Phone accounts: profiles and wallets as their owners see them.

use talktime_domain::ids::AccountId;
use talktime_domain::money::Coins;
use talktime_repository::Db;

use crate::ServiceError;

pub struct AccountService {
    #[allow(dead_code)] // read by the wallet queries that come with the ledger
    db: Db,
}

impl AccountService {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The account's wallet balance. Until the ledger exists no coin can be held, so it is zero.
    pub async fn balance(&self, _account: AccountId) -> Result<Coins, ServiceError> {
        Ok(Coins(0))
    }
}
