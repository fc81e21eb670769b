//! Telecallers' KYC: she gives her PAN (stored encrypted, shown masked except in the admin's
//! detail), an admin verifies or rejects it (audited). Withdrawals above a yearly amount need it
//! verified, and TDS is withheld at the lower rate only with it (docs/tax.md).

use serde_json::json;
use talktime_domain::account::{Account, Role};
use talktime_domain::ids::{AccountId, AdminId};
use talktime_domain::kyc::{HostKyc, KycStatus, is_pan};
use talktime_repository::{Db, RepoError, accounts, audit, kyc};

use crate::ServiceError;
use crate::secrets::OwnerCipher;

/// Her KYC as she or an admin sees it; `pan` is whole only in the admin's detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KycRecord {
    pub status: KycStatus,
    pub pan: Option<String>,
    pub name_on_pan: Option<String>,
    pub rejection_reason: Option<String>,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl KycRecord {
    fn masked(row: Option<HostKyc>) -> Self {
        Self::shown(row, |k| talktime_domain::kyc::mask_pan(&k.pan_last4))
    }

    fn shown(row: Option<HostKyc>, pan: impl FnOnce(&HostKyc) -> String) -> Self {
        match row {
            None => Self {
                status: KycStatus::NotSubmitted,
                pan: None,
                name_on_pan: None,
                rejection_reason: None,
                submitted_at: None,
                decided_at: None,
            },
            Some(k) => Self {
                status: k.status,
                pan: Some(pan(&k)),
                name_on_pan: Some(k.name_on_pan),
                rejection_reason: k.rejection_reason,
                submitted_at: Some(k.submitted_at),
                decided_at: k.decided_at,
            },
        }
    }
}

pub struct KycService {
    db: Db,
    cipher: OwnerCipher,
}

fn kyc_not_pending(status: KycStatus) -> ServiceError {
    ServiceError::conflict("kyc_not_pending", format!("This KYC is {status}, not PENDING"))
}

impl KycService {
    pub fn new(db: Db, cipher: OwnerCipher) -> Self {
        Self { db, cipher }
    }

    pub async fn mine(&self, telecaller: &Account) -> Result<KycRecord, ServiceError> {
        Ok(KycRecord::masked(kyc::find(self.db.pool(), telecaller.id).await?))
    }

    /// `PUT /telecaller/kyc`: a new PAN or name goes (back) to PENDING; the same ones again
    /// change nothing.
    pub async fn submit(&self, telecaller: &Account, pan: &str, name_on_pan: &str) -> Result<KycRecord, ServiceError> {
        if !is_pan(pan) {
            return Err(ServiceError::invalid_field(
                "pan",
                "invalid_pan",
                "A PAN is five letters, four digits, a letter",
            ));
        }
        if let Some(current) = kyc::find(self.db.pool(), telecaller.id).await?
            && current.name_on_pan == name_on_pan
            && self.cipher.open(telecaller.id, &current.pan_enc)? == pan
        {
            return Ok(KycRecord::masked(Some(current)));
        }
        let sealed = self.cipher.seal(telecaller.id, pan)?;
        let stored = kyc::submit(self.db.pool(), telecaller.id, &sealed, &pan[6..], name_on_pan).await?;
        Ok(KycRecord::masked(Some(stored)))
    }

    /// The admin's detail: the whole PAN.
    pub async fn detail(&self, telecaller: AccountId) -> Result<KycRecord, ServiceError> {
        self.require_telecaller(telecaller).await?;
        let row = kyc::find(self.db.pool(), telecaller).await?;
        let pan = match &row {
            Some(k) => Some(self.cipher.open(telecaller, &k.pan_enc)?),
            None => None,
        };
        Ok(KycRecord::shown(row, |_| pan.unwrap_or_default()))
    }

    /// PENDING → VERIFIED (`reason` `None`) or REJECTED with the reason, once (audited); 409
    /// `kyc_not_pending` otherwise.
    pub async fn decide(
        &self,
        admin: AdminId,
        telecaller: AccountId,
        reason: Option<&str>,
    ) -> Result<KycRecord, ServiceError> {
        self.require_telecaller(telecaller).await?;
        let mut tx = self.db.begin().await?;
        let Some(decided) = kyc::decide(&mut *tx, telecaller, admin, reason).await? else {
            drop(tx);
            return Err(match kyc::find(self.db.pool(), telecaller).await? {
                Some(k) => kyc_not_pending(k.status),
                None => kyc_not_pending(KycStatus::NotSubmitted),
            });
        };
        let action = if reason.is_some() { "telecaller.kyc.reject" } else { "telecaller.kyc.verify" };
        let after = json!({ "status": decided.status, "reason": reason });
        audit::audit(&mut tx, admin, action, "account", Some(telecaller.0), json!({ "status": "PENDING" }), after)
            .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(KycRecord::masked(Some(decided)))
    }

    async fn require_telecaller(&self, id: AccountId) -> Result<(), ServiceError> {
        match accounts::find_by_id(self.db.pool(), id).await? {
            Some(a) if a.role == Role::Telecaller => Ok(()),
            _ => Err(ServiceError::not_found("telecaller_not_found", "Telecaller not found")),
        }
    }
}
