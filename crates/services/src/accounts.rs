//! Phone accounts: profiles, telecaller applications, bank details and wallets as their owners
//! see them.

use chrono::{NaiveDate, Utc};
use talktime_domain::account::{Account, ApprovalStatus, Avatar, Gender, Language, Role};
use talktime_domain::ids::AccountId;
use talktime_domain::profile::{self, BankDetails, FieldRule};
use talktime_repository::accounts::{self, CompletedProfile, ProfileEdit, Reapplication};
use talktime_repository::bank::{self, StoredBankDetails};
use talktime_repository::changes::Change;
use talktime_repository::{Db, RepoError};

use crate::ServiceError;
use crate::bus::ServerEvent;
use crate::cache::ReadCache;
use crate::presence::PresenceService;
use crate::promotions::PromotionService;
use crate::secrets::OwnerCipher;

/// `/users/complete-profile`, already shaped by the transport.
#[derive(Debug, Clone)]
pub struct CompleteProfile {
    pub name: String,
    pub dob: NaiveDate,
    pub gender: Gender,
    pub language: Language,
    pub role: Role,
    pub about: Option<String>,
    pub profile: Option<Avatar>,
    /// Who referred her (a USER only).
    pub referral_code: Option<String>,
}

/// `/users/edit-profile` and `/telecaller/edit-profile`: `None` leaves a field unchanged;
/// `profile: Some(None)` clears the avatar.
#[derive(Debug, Clone, Default)]
pub struct EditProfile {
    pub name: Option<String>,
    pub language: Option<Language>,
    pub profile: Option<Option<Avatar>>,
    pub about: Option<String>,
}

/// `/telecaller/reapply`.
#[derive(Debug, Clone)]
pub struct Reapply {
    pub name: String,
    pub dob: NaiveDate,
    pub language: Language,
    pub about: String,
}

/// What a profile shows besides the account (see [`AccountService::figures`]).
#[derive(Debug, Clone)]
pub struct ProfileFigures {
    /// Paid and promotional coins (what she can spend is their sum).
    pub balances: talktime_domain::promotion::Balances,
    /// A telecaller's prices in force.
    pub rates: Option<talktime_domain::pricing::RatesInForce>,
}

pub struct AccountService {
    db: Db,
    bank_cipher: OwnerCipher,
    cache: std::sync::Arc<ReadCache>,
    /// Admins hear of applications; a deleted account's sockets close, her presence follows.
    presence: std::sync::Arc<PresenceService>,
    /// A deleted account's phone is remembered by its digest only (`talktime import`).
    phones: crate::secrets::PhoneDigests,
    promotions: std::sync::Arc<PromotionService>,
    referrals: std::sync::Arc<crate::referrals::ReferralService>,
}

fn broken(rule: FieldRule) -> ServiceError {
    ServiceError::invalid_field(rule.field, "validation_error", rule.message)
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Telecaller routes other than reapply need an approved application.
pub fn require_approved(account: &Account) -> Result<(), ServiceError> {
    match account.approval_status() {
        Some(ApprovalStatus::Approved) => Ok(()),
        _ => Err(ServiceError::forbidden("telecaller_not_approved", "Your telecaller profile is not approved")),
    }
}

impl AccountService {
    pub fn new(
        db: Db,
        bank_cipher: OwnerCipher,
        cache: std::sync::Arc<ReadCache>,
        presence: std::sync::Arc<PresenceService>,
        phones: crate::secrets::PhoneDigests,
        promotions: std::sync::Arc<PromotionService>,
        referrals: std::sync::Arc<crate::referrals::ReferralService>,
    ) -> Self {
        Self { db, bank_cipher, cache, presence, phones, promotions, referrals }
    }

    /// This node forgets its copy of the account at once (the others hear it from Postgres).
    fn changed(&self, account: AccountId) {
        self.cache.changed(Change::Account(account));
    }

    /// Tells the admins a telecaller application is waiting.
    fn applied(&self, account: &Account) {
        crate::bus::send(
            &**self.presence.bus(),
            crate::bus::Audience::Everyone(Role::Admin),
            ServerEvent::TelecallerApplied,
            serde_json::json!({ "telecallerId": account.id.0, "name": account.name }),
        );
    }

    /// The account's wallet balance.
    pub async fn balance(&self, account: AccountId) -> Result<i64, ServiceError> {
        crate::ledger::balance(&self.db, account).await
    }

    /// What a profile shows besides the account: its balance and, for a telecaller, her prices
    /// in force.
    pub async fn figures(&self, account: &Account) -> Result<ProfileFigures, ServiceError> {
        let balances = self.promotions.balances(account.id).await?;
        let rates = match account.telecaller {
            Some(_) => Some(self.cache.config().await?.rates_of(account.host_rates())),
            None => None,
        };
        Ok(ProfileFigures { balances, rates })
    }

    /// Deletes the account at its owner's request (app stores require it): personal data erased,
    /// the phone freed for a new sign-up, every token revoked and every socket closed. Refused
    /// (409) during a call or while a withdrawal is pending. Coins left in the wallet stay in the
    /// ledger and are not paid out (docs/money.md).
    #[tracing::instrument(name = "delete", skip_all, fields(account = %account.id))]
    pub async fn delete(&self, account: &Account) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        match accounts::erase(&mut tx, account.id, &self.phones.digest(&account.phone)).await? {
            accounts::Erased::Done => {}
            accounts::Erased::InCall => {
                return Err(ServiceError::conflict("call_in_progress", "End your call before deleting the account"));
            }
            accounts::Erased::WithdrawalPending => {
                return Err(ServiceError::conflict(
                    "withdrawal_pending",
                    "A withdrawal is pending: wait until an admin processes it",
                ));
            }
            accounts::Erased::Gone => return Err(ServiceError::not_found("account_not_found", "Account not found")),
        }
        tx.commit().await.map_err(RepoError::from)?;
        self.changed(account.id);
        self.cache.changed(Change::Favorites(account.id));
        self.presence.disconnect_account(account.role, account.id);
        // Her devices and reachability went with the account: an AWAY telecaller goes OFFLINE.
        self.presence.account_gone(account).await
    }

    /// Completes a new account's profile, once. Choosing TELECALLER (women only, with an
    /// `about`) files a PENDING application; the wallet is untouched.
    #[tracing::instrument(name = "complete_profile", skip_all, fields(account = %account.id))]
    pub async fn complete_profile(&self, account: &Account, input: CompleteProfile) -> Result<Account, ServiceError> {
        if account.is_profile_complete() {
            return Err(already_complete());
        }
        let name = profile::parse_name(&input.name, false).map_err(broken)?;
        let dob = profile::check_dob(input.dob, today()).map_err(broken)?;
        let about = match (input.role, input.about.as_deref()) {
            (Role::Telecaller, None) => {
                return Err(ServiceError::invalid_field("about", "validation_error", "is required for telecallers"));
            }
            (Role::Telecaller, Some(about)) => Some(profile::parse_about(about).map_err(broken)?),
            (_, Some(_)) => {
                return Err(ServiceError::invalid_field("about", "validation_error", "is only for telecallers"));
            }
            (_, None) => None,
        };
        if input.role == Role::Telecaller && input.gender != Gender::Female {
            return Err(ServiceError::invalid_field(
                "gender",
                "telecaller_must_be_female",
                "Only women can become telecallers",
            ));
        }
        if input.role == Role::Admin {
            return Err(ServiceError::invalid_field("role", "validation_error", "must be USER or TELECALLER"));
        }
        // Before the transaction: a cache miss inside it would wait for a second connection.
        let config = self.promotions.config().await?;
        let mut tx = self.db.begin().await?;
        let completed = CompletedProfile {
            name: &name,
            dob,
            gender: input.gender,
            language: input.language,
            profile: input.profile,
            role: input.role,
            about: about.as_deref(),
        };
        let updated =
            accounts::complete_profile(&mut tx, account.id, &completed).await?.ok_or_else(already_complete)?;
        if updated.role == Role::User {
            self.promotions.signup_bonus(&mut tx, &updated, &config).await?;
        }
        match (input.referral_code.as_deref(), updated.role) {
            (Some(code), Role::User) => self.referrals.give(&mut tx, &updated, code).await?,
            (Some(_), _) => {
                return Err(ServiceError::invalid_field("referralCode", "validation_error", "is only for users"));
            }
            (None, _) => {}
        }
        tx.commit().await.map_err(RepoError::from)?;
        self.changed(account.id);
        if updated.role == Role::Telecaller {
            // Her sockets opened as a user close (4003): she comes back on the telecaller endpoint.
            self.presence.disconnect_account(Role::User, account.id);
            self.applied(&updated);
        }
        Ok(updated)
    }

    /// A user's own edits (telecallers use [`Self::edit_telecaller_profile`]).
    pub async fn edit_user_profile(&self, account: &Account, edit: EditProfile) -> Result<Account, ServiceError> {
        if !account.is_profile_complete() {
            return Err(ServiceError::invalid("profile_incomplete", "Complete your profile first"));
        }
        self.apply_edit(account, edit).await
    }

    /// An approved telecaller's edits, `about` included.
    pub async fn edit_telecaller_profile(&self, account: &Account, edit: EditProfile) -> Result<Account, ServiceError> {
        require_approved(account)?;
        self.apply_edit(account, edit).await
    }

    async fn apply_edit(&self, account: &Account, edit: EditProfile) -> Result<Account, ServiceError> {
        if edit.name.is_none() && edit.language.is_none() && edit.profile.is_none() && edit.about.is_none() {
            return Err(ServiceError::invalid("validation_error", "Give at least one field to change"));
        }
        let name = edit.name.as_deref().map(|n| profile::parse_name(n, true)).transpose().map_err(broken)?;
        let about = edit.about.as_deref().map(profile::parse_about).transpose().map_err(broken)?;
        let mut tx = self.db.begin().await?;
        let changes = ProfileEdit {
            name: name.as_deref(),
            language: edit.language,
            profile: edit.profile,
            about: about.as_deref(),
        };
        let updated = accounts::edit_profile(&mut tx, account.id, &changes).await?.ok_or_else(gone)?;
        tx.commit().await.map_err(RepoError::from)?;
        self.changed(account.id);
        Ok(updated)
    }

    /// A rejected telecaller applies again: back to PENDING with the new details.
    pub async fn reapply(&self, account: &Account, input: Reapply) -> Result<Account, ServiceError> {
        let not_rejected = || ServiceError::conflict("not_rejected", "Only a rejected application can be resubmitted");
        if account.approval_status() != Some(ApprovalStatus::Rejected) {
            return Err(not_rejected());
        }
        let name = profile::parse_name(&input.name, false).map_err(broken)?;
        let dob = profile::check_dob(input.dob, today()).map_err(broken)?;
        let about = profile::parse_about(&input.about).map_err(broken)?;
        let mut tx = self.db.begin().await?;
        let again = Reapplication { name: &name, dob, language: input.language, about: &about };
        let updated = accounts::reapply(&mut tx, account.id, &again).await?.ok_or_else(not_rejected)?;
        tx.commit().await.map_err(RepoError::from)?;
        self.changed(account.id);
        self.applied(&updated);
        Ok(updated)
    }

    /// The telecaller's own bank details, account number in full.
    pub async fn bank_details(&self, account: &Account) -> Result<Option<BankDetails>, ServiceError> {
        require_approved(account)?;
        let Some(stored) = bank::find(self.db.pool(), account.id).await? else { return Ok(None) };
        let account_number = self.bank_cipher.open(account.id, &stored.account_number_enc)?;
        Ok(Some(BankDetails {
            account_number,
            ifsc_code: stored.ifsc_code,
            account_holder_name: stored.account_holder_name,
        }))
    }

    /// Adds or replaces the bank details; the account number is stored encrypted.
    pub async fn save_bank_details(
        &self,
        account: &Account,
        details: BankDetails,
    ) -> Result<BankDetails, ServiceError> {
        require_approved(account)?;
        let stored = StoredBankDetails {
            account_number_enc: self.bank_cipher.seal(account.id, &details.account_number)?,
            account_number_len: i32::try_from(details.account_number.len()).unwrap_or(i32::MAX),
            account_last4: details.last4().to_owned(),
            ifsc_code: details.ifsc_code.clone(),
            account_holder_name: details.account_holder_name.clone(),
            updated_at: Utc::now(),
        };
        bank::upsert(self.db.pool(), account.id, &stored).await?;
        Ok(details)
    }

    pub async fn delete_bank_details(&self, account: &Account) -> Result<(), ServiceError> {
        require_approved(account)?;
        if talktime_repository::transactions::has_pending_withdrawal(self.db.pool(), account.id).await? {
            return Err(ServiceError::conflict(
                "withdrawal_pending",
                "Bank details cannot be removed while a withdrawal is pending",
            ));
        }
        if bank::delete(self.db.pool(), account.id).await? {
            Ok(())
        } else {
            Err(ServiceError::not_found("bank_details_not_found", "No bank details saved"))
        }
    }
}

fn already_complete() -> ServiceError {
    ServiceError::conflict("profile_already_complete", "Your profile is already complete")
}

fn gone() -> ServiceError {
    ServiceError::unauthorized("token_revoked", "This account no longer exists")
}
