//! `talktime import`: accounts, telecaller applications and wallet balances exported from the
//! earlier backend's MongoDB (one JSON document per line, as `mongoexport` writes them), each
//! opening balance posted as an `OPENING_BALANCE` journal so the books balance from day one.
//! Safe to run again: ids are derived from the Mongo ids, so a second run skips what the first
//! one loaded (docs/migrating.md).

use std::io::BufRead;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use talktime_domain::account::{Account, AccountStatus, ApprovalStatus, Role, TelecallerProfile};
use talktime_domain::ids::AccountId;
use talktime_domain::phone::Phone;
use talktime_domain::profile;
use talktime_repository::import::{self, Imported};
use talktime_repository::{Db, RepoError};
use uuid::Uuid;

use crate::{ServiceError, ledger};

/// One user document of the earlier backend. Dates and ids may be plain or Extended JSON
/// (`{"$oid": …}`, `{"$date": …}`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyAccount {
    #[serde(rename = "_id")]
    id: Value,
    phone: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    dob: Option<Value>,
    #[serde(default)]
    gender: Option<String>,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    account_status: Option<String>,
    #[serde(default)]
    wallet: Option<LegacyWallet>,
    /// Some exports flatten the wallet.
    #[serde(default)]
    wallet_balance: Option<f64>,
    #[serde(default)]
    telecaller_profile: Option<LegacyTelecaller>,
    #[serde(default)]
    created_at: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct LegacyWallet {
    #[serde(default)]
    balance: f64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyTelecaller {
    about: Option<String>,
    approval_status: Option<String>,
    verification_notes: Option<String>,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: usize,
    /// Coins posted as opening balances.
    pub coins: i64,
    pub already_imported: usize,
    /// Accounts whose phone signed up on Talktime before the import (left as they are).
    pub phone_taken: Vec<(usize, String)>,
    /// Accounts whose phone belonged to an account deleted on Talktime (never brought back).
    pub phone_deleted: Vec<(usize, String)>,
    /// Lines refused, with the reason (nothing of them was written).
    pub refused: Vec<(usize, String)>,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "imported {} accounts ({} coins of opening balances); {} already imported; {} phones already in use; \
             {} lines refused",
            self.imported,
            self.coins,
            self.already_imported,
            self.phone_taken.len(),
            self.refused.len()
        )?;
        for (line, phone) in &self.phone_taken {
            writeln!(f, "  line {line}: phone {phone} already has a Talktime account; skipped")?;
        }
        for (line, phone) in &self.phone_deleted {
            writeln!(f, "  line {line}: phone {phone} belonged to a deleted account; not brought back")?;
        }
        for (line, reason) in &self.refused {
            writeln!(f, "  line {line}: {reason}")?;
        }
        Ok(())
    }
}

/// Loads every line of `input`: one transaction per account (its row, its application, its
/// opening balance), so a refused line writes nothing and the others go in.
pub async fn import_accounts(
    db: &Db,
    phones: &crate::secrets::PhoneDigests,
    input: impl BufRead,
) -> Result<ImportReport, ServiceError> {
    let mut report = ImportReport::default();
    for (index, line) in input.lines().enumerate() {
        let number = index + 1;
        let line = line.map_err(|e| ServiceError::invalid("unreadable_input", e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let (account, balance) = match parse(&line) {
            Ok(parsed) => parsed,
            Err(reason) => {
                report.refused.push((number, reason));
                continue;
            }
        };
        let mut tx = db.begin().await?;
        match import::insert_imported(&mut tx, &account, &phones.digest(&account.phone)).await {
            Ok(Imported::New) => {}
            Ok(Imported::AlreadyImported) => {
                report.already_imported += 1;
                continue;
            }
            Ok(Imported::PhoneTaken) => {
                report.phone_taken.push((number, account.phone));
                continue;
            }
            Ok(Imported::PhoneDeleted) => {
                report.phone_deleted.push((number, account.phone));
                continue;
            }
            // A row the database refuses (a constraint the parser does not know): that line only.
            Err(RepoError::Check(constraint)) => {
                report.refused.push((number, format!("refused by the database ({constraint})")));
                continue;
            }
            Err(error) => return Err(error.into()),
        }
        if balance > 0 {
            ledger::open_balance(&mut tx, account.id, balance).await?;
        }
        tx.commit().await.map_err(RepoError::from)?;
        report.imported += 1;
        report.coins += balance;
    }
    Ok(report)
}

/// One export line as an account and its opening balance, or why it cannot be loaded.
fn parse(line: &str) -> Result<(Account, i64), String> {
    let legacy: LegacyAccount = serde_json::from_str(line).map_err(|e| format!("not a user document: {e}"))?;
    let id = account_id(&legacy.id).ok_or("`_id` is missing or empty")?;
    let digits: String = legacy.phone.chars().filter(char::is_ascii_digit).collect();
    let phone = Phone::parse(&digits).map_err(|_| format!("phone `{}` is not 10 to 15 digits", legacy.phone))?;
    let role = match legacy.role.as_deref().map(str::to_uppercase).as_deref() {
        None | Some("USER") => Role::User,
        Some("TELECALLER") => Role::Telecaller,
        Some(other) => return Err(format!("role `{other}` is neither USER nor TELECALLER")),
    };
    let status = match legacy.account_status.as_deref().map(str::to_uppercase).as_deref() {
        None | Some("ACTIVE") => AccountStatus::Active,
        Some("SUSPENDED" | "BLOCKED") => AccountStatus::Suspended,
        Some(other) => return Err(format!("accountStatus `{other}` is neither ACTIVE nor SUSPENDED")),
    };
    let name = match legacy.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => Some(profile::parse_name(name, false).map_err(|e| format!("name: {}", e.message))?),
        None => None,
    };
    let dob = match legacy.dob.as_ref().and_then(date_text) {
        Some(text) => Some(profile::parse_dob(&text).map_err(|e| format!("dob: {}", e.message))?),
        None => None,
    };
    let telecaller = match (role, legacy.telecaller_profile) {
        (Role::Telecaller, Some(t)) => {
            let about = profile::parse_about(t.about.as_deref().unwrap_or_default())
                .map_err(|e| format!("telecallerProfile.about: {}", e.message))?;
            let approval_status = match t.approval_status.as_deref().map(str::to_uppercase) {
                None => ApprovalStatus::Pending,
                Some(s) => s.parse().map_err(|_| format!("telecallerProfile.approvalStatus `{s}` is not known"))?,
            };
            Some(TelecallerProfile {
                about,
                approval_status,
                verification_notes: t.verification_notes,
                reachable_by_push: false,
                rates: Default::default(),
                rates_set_at: None,
                commission_hundredths: None,
            })
        }
        (Role::Telecaller, None) => return Err("a TELECALLER needs a telecallerProfile with `about`".into()),
        (_, _) => None,
    };
    let raw_balance = legacy.wallet.map(|w| w.balance).or(legacy.wallet_balance).unwrap_or(0.0);
    if !(raw_balance.is_finite() && raw_balance >= 0.0 && raw_balance.fract() == 0.0 && raw_balance < 1e15) {
        return Err(format!("wallet balance {raw_balance} is not a whole number of coins"));
    }
    let created_at = legacy.created_at.as_ref().and_then(timestamp).unwrap_or_else(Utc::now);
    let account = Account {
        id,
        phone: phone.as_str().to_owned(),
        role,
        status,
        name,
        dob,
        // Unknown values of the optional lists are left out rather than refusing the account.
        gender: legacy.gender.and_then(|g| g.to_uppercase().parse().ok()),
        language: legacy.language.and_then(|l| l.to_lowercase().parse().ok()),
        profile: legacy.profile.and_then(|p| p.parse().ok()),
        token_version: 0,
        created_at,
        // The database draws one at insert.
        referral_code: String::new(),
        telecaller,
    };
    Ok((account, raw_balance as i64))
}

/// The Talktime id of a Mongo document: a UUID kept as is, otherwise one derived from the
/// Mongo id (an ObjectId's 12 bytes, or a hash of any other text), so a rerun finds it again.
fn account_id(raw: &Value) -> Option<AccountId> {
    let text = match raw {
        Value::String(s) => s.clone(),
        Value::Object(o) => o.get("$oid").and_then(Value::as_str)?.to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if text.is_empty() {
        return None;
    }
    if let Ok(uuid) = Uuid::parse_str(&text) {
        return Some(AccountId(uuid));
    }
    let mut bytes = [0u8; 16];
    match hex_bytes(&text) {
        Some(object_id) if object_id.len() == 12 => bytes[..12].copy_from_slice(&object_id),
        _ => bytes.copy_from_slice(&Sha256::digest(text.as_bytes())[..16]),
    }
    Some(AccountId(uuid::Builder::from_custom_bytes(bytes).into_uuid()))
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    text.len()
        .is_multiple_of(2)
        .then(|| (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect())
        .flatten()
}

/// A date as text: `"1999-02-03"`, an RFC 3339 timestamp, or `{"$date": …}` of either (or of
/// milliseconds since 1970).
fn date_text(raw: &Value) -> Option<String> {
    match raw {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => match o.get("$date")? {
            Value::String(s) => Some(s.clone()),
            other => millis(other).map(|t| t.to_rfc3339()),
        },
        _ => None,
    }
}

fn timestamp(raw: &Value) -> Option<DateTime<Utc>> {
    let text = date_text(raw)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
}

fn millis(raw: &Value) -> Option<DateTime<Utc>> {
    let ms = match raw {
        Value::Number(n) => n.as_i64()?,
        Value::Object(o) => o.get("$numberLong")?.as_str()?.parse().ok()?,
        _ => return None,
    };
    DateTime::from_timestamp_millis(ms)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn extended_json_documents_parse() {
        let line = r#"{"_id":{"$oid":"65f0c2a1b2c3d4e5f6a7b8c9"},"phone":"+91 98765 43210","name":"  Asha  Rao ","dob":{"$date":"1999-02-03T00:00:00.000Z"},"gender":"female","language":"Hindi","profile":"avatar-3","role":"TELECALLER","accountStatus":"ACTIVE","wallet":{"balance":120},"telecallerProfile":{"about":"I love talking about films, books and music with new people every day.","approvalStatus":"APPROVED"},"createdAt":{"$date":{"$numberLong":"1700000000000"}}}"#;
        let (account, balance) = parse(line).unwrap();
        assert_eq!(account.phone, "919876543210");
        assert_eq!(account.name.as_deref(), Some("Asha Rao"));
        assert_eq!(account.dob, NaiveDate::from_ymd_opt(1999, 2, 3));
        assert_eq!(account.telecaller.unwrap().approval_status, ApprovalStatus::Approved);
        assert_eq!(balance, 120);
        assert_eq!(account.created_at.timestamp(), 1_700_000_000);
        // The same Mongo id always maps to the same account.
        assert_eq!(parse(line).unwrap().0.id, account.id);
    }

    #[test]
    fn bad_documents_are_refused_with_a_reason() {
        assert!(parse(r#"{"_id":"a","phone":"123"}"#).unwrap_err().contains("phone"));
        assert!(
            parse(r#"{"_id":"a","phone":"9876543210","role":"TELECALLER"}"#).unwrap_err().contains("telecallerProfile")
        );
        assert!(parse(r#"{"_id":"a","phone":"9876543210","wallet":{"balance":-5}}"#).unwrap_err().contains("balance"));
        assert!(parse(r#"{"_id":"a","phone":"9876543210","wallet":{"balance":1.5}}"#).unwrap_err().contains("balance"));
        assert!(parse("not json").unwrap_err().contains("not a user document"));
    }
}
