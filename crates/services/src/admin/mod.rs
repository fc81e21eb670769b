//! What operators do: sign in, moderate accounts and applications, edit prices and plans, and read
//! the audit log. Every change writes an audit entry in the same transaction.

mod calls;

pub use self::calls::Refund;

use std::sync::Arc;

use serde_json::{Value, json};
use talktime_domain::account::{Account, AccountStatus, Role};
use talktime_domain::admin::Admin;
use talktime_domain::call::EndReason;
use talktime_domain::ids::{AccountId, AdminId};
use talktime_domain::page::Page;
use talktime_repository::changes::Change;
use talktime_repository::{Db, RepoError, accounts, admins, audit, reports, telecallers};

use crate::ServiceError;
use crate::auth::{AuthService, Budget};
use crate::calls::CallService;
use crate::catalog::PageRequest;
use crate::google::IdTokenVerifier;
use crate::presence::PresenceService;
use crate::rate_limit::{RateLimiter, network_key};

/// What an admin sees of one account.
#[derive(Debug, Clone)]
pub struct AccountDetail {
    pub account: Account,
    pub balance: i64,
    /// Complaints against it, newest first, with how many there are.
    pub complaints: Page<talktime_domain::report::Complaint>,
}

pub struct AdminService {
    db: Db,
    auth: Arc<AuthService>,
    calls: Arc<CallService>,
    google: Arc<dyn IdTokenVerifier>,
    limiter: Arc<dyn RateLimiter>,
    sign_in_per_network: Budget,
    promotions: Arc<crate::promotions::PromotionService>,
}

fn account_not_found() -> ServiceError {
    ServiceError::not_found("account_not_found", "Account not found")
}

impl AdminService {
    pub fn new(
        db: Db,
        auth: Arc<AuthService>,
        calls: Arc<CallService>,
        google: Arc<dyn IdTokenVerifier>,
        limiter: Arc<dyn RateLimiter>,
        sign_in_per_network: Budget,
        promotions: Arc<crate::promotions::PromotionService>,
    ) -> Self {
        Self { db, auth, calls, google, limiter, sign_in_per_network, promotions }
    }

    /// Google sign-in: a verified Google account whose e-mail is in the admins table.
    pub async fn google_sign_in(&self, id_token: &str, ip: std::net::IpAddr) -> Result<(Admin, String), ServiceError> {
        self.sign_in_per_network.spend(&*self.limiter, &network_key("admin:signin", ip)).await?;
        let email = self.google.verified_email(id_token).await?;
        self.sign_in(&email).await
    }

    /// Development sign-in by e-mail (the transport refuses it in production).
    pub async fn sign_in(&self, email: &str) -> Result<(Admin, String), ServiceError> {
        let admin = admins::find_by_email(self.db.pool(), email)
            .await?
            .ok_or_else(|| ServiceError::forbidden("not_an_admin", "This account is not an administrator"))?;
        let token = self.auth.token_for_admin(&admin)?;
        Ok((admin, token))
    }

    /// Suspends an account: tokens revoked, sockets closed, a live call ended (billed to now),
    /// a telecaller taken offline.
    pub async fn block(&self, by: AdminId, id: AccountId) -> Result<Account, ServiceError> {
        self.set_status(by, id, AccountStatus::Suspended).await
    }

    pub async fn unblock(&self, by: AdminId, id: AccountId) -> Result<Account, ServiceError> {
        self.set_status(by, id, AccountStatus::Active).await
    }

    async fn set_status(&self, by: AdminId, id: AccountId, status: AccountStatus) -> Result<Account, ServiceError> {
        let before = accounts::find_by_id(self.db.pool(), id).await?.ok_or_else(account_not_found)?;
        if before.status == AccountStatus::Deleted {
            return Err(ServiceError::conflict("account_deleted", "The account was deleted by its owner"));
        }
        let mut tx = self.db.begin().await?;
        if !accounts::set_status(&mut *tx, id, status).await? {
            return Err(ServiceError::conflict("already_in_that_state", format!("The account is already {status}")));
        }
        let action = if status == AccountStatus::Suspended { "account.block" } else { "account.unblock" };
        audit::audit(
            &mut tx,
            by,
            action,
            "account",
            Some(id.0),
            json!({ "accountStatus": before.status }),
            json!({ "accountStatus": status }),
        )
        .await?;
        tx.commit().await.map_err(RepoError::from)?;
        self.auth.cache().changed(Change::Account(id));
        if status == AccountStatus::Suspended {
            self.take_off_air(&before, EndReason::AccountBlocked).await?;
        } else if before.role == Role::Telecaller {
            self.presence().refresh(id).await?;
        }
        accounts::find_by_id(self.db.pool(), id).await?.ok_or_else(account_not_found)
    }

    /// Closes the account's sockets, ends its live call and updates presence.
    async fn take_off_air(&self, account: &Account, reason: EndReason) -> Result<(), ServiceError> {
        self.presence().disconnect_account(account.role, account.id);
        if let Some(call) = talktime_repository::calls::active_for(self.db.pool(), account.id).await? {
            self.calls.end_by_force(call.id, reason).await?;
        }
        if account.role == Role::Telecaller {
            self.presence().refresh(account.id).await?;
        }
        Ok(())
    }

    /// A telecaller's own commission (hundredths of a percent), or `None` to return her to the
    /// platform's; audited. Calls already placed keep the commission copied onto them.
    pub async fn set_commission(
        &self,
        by: AdminId,
        id: AccountId,
        commission: Option<i32>,
    ) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        let before = telecallers::set_commission(&mut tx, id, commission)
            .await?
            .ok_or_else(|| ServiceError::not_found("telecaller_not_found", "Telecaller not found"))?;
        let (before, after) =
            (json!({ "commissionHundredths": before }), json!({ "commissionHundredths": commission }));
        audit::audit(&mut tx, by, "telecaller.commission", "account", Some(id.0), before, after).await?;
        tx.commit().await.map_err(RepoError::from)?;
        // The next call to her is priced from the cached account: it must see this at once.
        self.auth.cache().changed(Change::Account(id));
        Ok(())
    }

    /// PENDING → APPROVED; clears the rejection note.
    pub async fn approve(&self, by: AdminId, id: AccountId) -> Result<Account, ServiceError> {
        self.decide(by, id, None).await
    }

    /// PENDING or APPROVED → REJECTED with a reason; an approved telecaller goes offline and her
    /// live call ends.
    pub async fn reject(&self, by: AdminId, id: AccountId, reason: &str) -> Result<Account, ServiceError> {
        self.decide(by, id, Some(reason)).await
    }

    async fn decide(&self, by: AdminId, id: AccountId, rejection: Option<&str>) -> Result<Account, ServiceError> {
        let account = accounts::find_by_id(self.db.pool(), id)
            .await?
            .filter(|a| a.telecaller.is_some())
            .ok_or_else(|| ServiceError::not_found("telecaller_not_found", "Telecaller not found"))?;
        let mut tx = self.db.begin().await?;
        let Some(before) = telecallers::decide_application(&mut tx, id, rejection.is_none(), rejection).await? else {
            return Err(ServiceError::conflict(
                "invalid_transition",
                format!(
                    "A {} application cannot be {}",
                    account.approval_status().map(|s| s.as_str()).unwrap_or("?"),
                    if rejection.is_none() { "approved" } else { "rejected" }
                ),
            ));
        };
        let after = if rejection.is_none() { "APPROVED" } else { "REJECTED" };
        if rejection.is_some() {
            // A rejection ends every session, like a block; she signs in again to reapply.
            accounts::bump_token_version(&mut *tx, id).await?;
        }
        audit::audit(
            &mut tx,
            by,
            if rejection.is_none() { "telecaller.approve" } else { "telecaller.reject" },
            "telecaller",
            Some(id.0),
            json!({ "approvalStatus": before }),
            json!({ "approvalStatus": after, "verificationNotes": rejection }),
        )
        .await?;
        tx.commit().await.map_err(RepoError::from)?;
        self.auth.cache().changed(Change::Account(id));
        if rejection.is_some() && before == "APPROVED" {
            self.take_off_air(&account, EndReason::Admin).await?;
        }
        accounts::find_by_id(self.db.pool(), id).await?.ok_or_else(account_not_found)
    }

    /// Writes an audit entry on its own (for changes made by other services).
    pub async fn record(
        &self,
        by: AdminId,
        action: &str,
        target: &str,
        id: Option<uuid::Uuid>,
        before: Value,
        after: Value,
    ) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        audit::audit(&mut tx, by, action, target, id, before, after).await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(())
    }

    /// The presence service the calls notify through: moderation closes sockets, refreshes
    /// presence and tells wallets through the same one.
    pub(crate) fn presence(&self) -> &PresenceService {
        self.calls.presence()
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn auth(&self) -> &AuthService {
        &self.auth
    }

    pub async fn audit_log(&self, page: PageRequest) -> Result<Page<talktime_domain::audit::AuditEntry>, ServiceError> {
        Ok(audit::page(&self.db, page.limit(), page.offset()).await?)
    }

    pub async fn users(
        &self,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<talktime_domain::account::ListedAccount>, ServiceError> {
        Ok(accounts::users_page(&self.db, search, page.limit(), page.offset()).await?)
    }

    pub async fn telecallers(
        &self,
        approval: talktime_domain::account::ApprovalStatus,
        page: PageRequest,
    ) -> Result<Page<talktime_domain::account::ListedAccount>, ServiceError> {
        Ok(telecallers::applications_page(&self.db, approval, page.limit(), page.offset()).await?)
    }

    /// A telecaller's bank details with the account number masked (`XXXXXXXX1234`).
    pub async fn masked_bank_details(
        &self,
        id: AccountId,
    ) -> Result<Option<talktime_domain::profile::BankDetails>, ServiceError> {
        Ok(talktime_repository::bank::find(self.db.pool(), id).await?.map(|b| talktime_domain::profile::BankDetails {
            account_number: talktime_domain::profile::mask_account_number(
                usize::try_from(b.account_number_len).unwrap_or(0),
                &b.account_last4,
            ),
            ifsc_code: b.ifsc_code,
            account_holder_name: b.account_holder_name,
        }))
    }

    /// An account with its balance and the complaints against it.
    pub async fn account_detail(&self, id: AccountId) -> Result<AccountDetail, ServiceError> {
        let account = accounts::find_by_id(self.db.pool(), id).await?.ok_or_else(account_not_found)?;
        let balance = crate::ledger::balance(&self.db, id).await?;
        let complaints = reports::complaints(&self.db, id).await?;
        Ok(AccountDetail { account, balance, complaints })
    }
}
