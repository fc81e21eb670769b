//! Operators' catalog, prices, reports, live calls and dashboard (audited where they change).

use chrono::{DateTime, Duration as Span, Timelike, Utc};
use serde_json::json;
use talktime_domain::account::Role;
use talktime_domain::call::EndReason;
use talktime_domain::ids::{AdminId, CallId};
use talktime_repository::admin::{self, AdminPlan, ReportRow};
use talktime_repository::app_config::AppConfig;
use talktime_repository::dashboard::{self, Stats};
use talktime_repository::{RepoError, calls};
use uuid::Uuid;

use crate::admin::AdminService;
use crate::{ServiceError, ledger};

/// A plan as an operator writes it; `None` keeps the current value on update.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    pub amount_paise: Option<i64>,
    pub coins: Option<i64>,
    pub discount_hundredths: Option<i32>,
    pub is_active: Option<bool>,
}

/// What a refund moved.
#[derive(Debug, Clone, Copy)]
pub struct Refund {
    pub call: CallId,
    pub coins: i64,
    pub from_telecaller: i64,
    pub from_revenue: i64,
    pub user_balance: i64,
    pub telecaller_balance: i64,
}

/// Price changes; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ConfigInput {
    pub inr_to_coin_ratio_hundredths: Option<i64>,
    pub min_withdrawal_coins: Option<i64>,
    pub user_video_coins_per_sec: Option<i64>,
    pub user_audio_coins_per_sec: Option<i64>,
    pub telecaller_video_coins_per_sec: Option<i64>,
    pub telecaller_audio_coins_per_sec: Option<i64>,
    pub min_call_balance_seconds: Option<i64>,
}

impl ConfigInput {
    /// Nothing to change.
    pub fn is_empty(&self) -> bool {
        self.inr_to_coin_ratio_hundredths.is_none()
            && self.min_withdrawal_coins.is_none()
            && self.user_video_coins_per_sec.is_none()
            && self.user_audio_coins_per_sec.is_none()
            && self.telecaller_video_coins_per_sec.is_none()
            && self.telecaller_audio_coins_per_sec.is_none()
            && self.min_call_balance_seconds.is_none()
    }
}

fn plan_json(p: &AdminPlan) -> serde_json::Value {
    json!({ "amountPaise": p.amount_paise, "coins": p.coins, "discountPercentage": f64::from(p.discount_hundredths) / 100.0, "isActive": p.is_active })
}

fn config_json(c: &AppConfig) -> serde_json::Value {
    json!({
        "inrToCoinRatioHundredths": c.inr_to_coin_ratio_hundredths, "minWithdrawalCoins": c.min_withdrawal_coins,
        "userAudioCallCoinPerSec": c.user_audio_coins_per_sec, "userVideoCallCoinPerSec": c.user_video_coins_per_sec,
        "telecallerAudioCallCoinPerSec": c.telecaller_audio_coins_per_sec,
        "telecallerVideoCallCoinPerSec": c.telecaller_video_coins_per_sec, "minCallBalanceSeconds": c.min_call_balance_seconds,
    })
}

fn plan_not_found() -> ServiceError {
    ServiceError::not_found("plan_not_found", "Plan not found")
}

impl AdminService {
    /// A page of the plans (active or not, deleted ones excluded), by price, with their count.
    pub async fn plans(&self, limit: i64, offset: i64) -> Result<(Vec<AdminPlan>, i64), ServiceError> {
        Ok(admin::plans_page(self.db(), limit, offset).await?)
    }

    pub async fn create_plan(&self, by: AdminId, input: PlanInput) -> Result<AdminPlan, ServiceError> {
        let (Some(amount_paise), Some(coins)) = (input.amount_paise, input.coins) else {
            return Err(ServiceError::invalid("validation_error", "amount and coins are required"));
        };
        let plan = AdminPlan {
            id: Uuid::now_v7(),
            amount_paise,
            coins,
            discount_hundredths: input.discount_hundredths.unwrap_or(0),
            is_active: input.is_active.unwrap_or(true),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let mut tx = self.db().begin().await?;
        let created = admin::insert_plan(&mut tx, &plan).await?;
        admin::audit(&mut tx, by, "plan.create", "plan", Some(created.id), json!(null), plan_json(&created)).await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(created)
    }

    pub async fn update_plan(&self, by: AdminId, id: Uuid, input: PlanInput) -> Result<AdminPlan, ServiceError> {
        let mut tx = self.db().begin().await?;
        let before = admin::find_plan(&mut tx, id).await?.ok_or_else(plan_not_found)?;
        let changed = AdminPlan {
            amount_paise: input.amount_paise.unwrap_or(before.amount_paise),
            coins: input.coins.unwrap_or(before.coins),
            discount_hundredths: input.discount_hundredths.unwrap_or(before.discount_hundredths),
            is_active: input.is_active.unwrap_or(before.is_active),
            ..before.clone()
        };
        let after = admin::update_plan(&mut tx, &changed).await?;
        admin::audit(&mut tx, by, "plan.update", "plan", Some(id), plan_json(&before), plan_json(&after)).await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(after)
    }

    pub async fn delete_plan(&self, by: AdminId, id: Uuid) -> Result<(), ServiceError> {
        let mut tx = self.db().begin().await?;
        let before = admin::find_plan(&mut tx, id).await?.ok_or_else(plan_not_found)?;
        admin::delete_plan(&mut tx, id).await?;
        admin::audit(&mut tx, by, "plan.delete", "plan", Some(id), plan_json(&before), json!({ "deleted": true }))
            .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(())
    }

    pub async fn config(&self) -> Result<AppConfig, ServiceError> {
        Ok(talktime_repository::app_config::get(self.db().pool()).await?)
    }

    /// New prices apply to calls that start afterwards (running calls keep the rates copied onto them).
    pub async fn update_config(&self, by: AdminId, input: ConfigInput) -> Result<AppConfig, ServiceError> {
        let mut tx = self.db().begin().await?;
        let before = admin::lock_config(&mut tx).await?;
        let after = AppConfig {
            inr_to_coin_ratio_hundredths: input
                .inr_to_coin_ratio_hundredths
                .unwrap_or(before.inr_to_coin_ratio_hundredths),
            min_withdrawal_coins: input.min_withdrawal_coins.unwrap_or(before.min_withdrawal_coins),
            user_audio_coins_per_sec: input.user_audio_coins_per_sec.unwrap_or(before.user_audio_coins_per_sec),
            user_video_coins_per_sec: input.user_video_coins_per_sec.unwrap_or(before.user_video_coins_per_sec),
            telecaller_audio_coins_per_sec: input
                .telecaller_audio_coins_per_sec
                .unwrap_or(before.telecaller_audio_coins_per_sec),
            telecaller_video_coins_per_sec: input
                .telecaller_video_coins_per_sec
                .unwrap_or(before.telecaller_video_coins_per_sec),
            min_call_balance_seconds: input.min_call_balance_seconds.unwrap_or(before.min_call_balance_seconds),
            updated_at: before.updated_at,
        };
        if after.telecaller_audio_coins_per_sec > after.user_audio_coins_per_sec
            || after.telecaller_video_coins_per_sec > after.user_video_coins_per_sec
        {
            return Err(ServiceError::invalid(
                "telecaller_rate_above_user_rate",
                "A telecaller's rate can never be above the user's rate",
            ));
        }
        let saved = admin::save_config(&mut tx, &after).await?;
        admin::audit(&mut tx, by, "config.update", "config", None, config_json(&before), config_json(&saved)).await?;
        tx.commit().await.map_err(RepoError::from)?;
        self.auth().cache().changed(talktime_repository::changes::Change::Config);
        Ok(saved)
    }

    pub async fn reports(
        &self,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ReportRow>, i64), ServiceError> {
        Ok(admin::reports_page(self.db(), status, limit, offset).await?)
    }

    /// A report with its call and the feedback both parties gave on it.
    pub async fn report(
        &self,
        id: Uuid,
    ) -> Result<(ReportRow, Option<calls::Call>, Vec<calls::Feedback>), ServiceError> {
        let report = admin::find_report(self.db(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("report_not_found", "Report not found"))?;
        let call = calls::find(self.db().pool(), CallId(report.call_id)).await?;
        let feedback = calls::feedback_on(self.db().pool(), CallId(report.call_id)).await?;
        Ok((report, call, feedback))
    }

    /// PENDING → UNDER_REVIEW → RESOLVED / DISMISSED, and back to UNDER_REVIEW to reopen.
    pub async fn move_report(
        &self,
        by: AdminId,
        id: Uuid,
        to: &str,
        notes: Option<&str>,
    ) -> Result<ReportRow, ServiceError> {
        let from: &[&str] = match to {
            "UNDER_REVIEW" => &["PENDING", "RESOLVED", "DISMISSED"],
            "RESOLVED" | "DISMISSED" => &["UNDER_REVIEW"],
            _ => &[],
        };
        let mut tx = self.db().begin().await?;
        let Some(before) = admin::move_report(&mut tx, id, from, to, notes).await? else {
            drop(tx);
            self.report(id).await?;
            return Err(ServiceError::conflict("invalid_transition", format!("The report cannot move to {to}")));
        };
        admin::audit(
            &mut tx,
            by,
            "report.status",
            "report",
            Some(id),
            json!({ "status": before }),
            json!({ "status": to, "adminNotes": notes }),
        )
        .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(self.report(id).await?.0)
    }

    pub async fn calls(
        &self,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<admin::AdminCallRow>, i64), ServiceError> {
        Ok(admin::calls_page(self.db(), status, limit, offset).await?)
    }

    /// Ends a live call now (reason ADMIN), billed to this moment.
    pub async fn end_call(&self, by: AdminId, id: CallId) -> Result<calls::Call, ServiceError> {
        let call = calls::find(self.db().pool(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("call_not_found", "Call not found"))?;
        let ended = self
            .calls_service()
            .end_by_force(id, EndReason::Admin)
            .await?
            .ok_or_else(|| ServiceError::conflict("call_not_active", "This call is not live"))?;
        self.record(
            by,
            "call.end",
            "call",
            Some(id.0),
            json!({ "status": call.status }),
            json!({ "status": ended.status, "endReason": "ADMIN" }),
        )
        .await?;
        Ok(ended)
    }

    /// Gives `coins` back to the user of a completed call (at most what it cost, once per
    /// call): her share comes back from the telecaller as far as her wallet allows, the rest from
    /// revenue. Both wallets hear `wallet:updated`.
    pub async fn refund_call(&self, by: AdminId, id: CallId, coins: i64, reason: &str) -> Result<Refund, ServiceError> {
        let mut tx = self.db().begin().await?;
        let call = calls::lock(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("call_not_found", "Call not found"))?;
        let spent = call.coins_spent.unwrap_or(0);
        if call.status != talktime_domain::call::CallStatus::Completed || spent <= 0 {
            return Err(ServiceError::invalid(
                "call_not_refundable",
                "Only a completed call that cost coins can be refunded",
            ));
        }
        if coins > spent {
            return Err(ServiceError::invalid_field(
                "coins",
                "refund_too_large",
                format!("The call cost {spent} coins: refund at most that"),
            ));
        }
        let her_balance = talktime_repository::ledger::wallet_balance(&mut *tx, call.telecaller_id).await?;
        let (from_telecaller, from_revenue) =
            talktime_domain::call::refund_split(coins, spent, call.coins_earned.unwrap_or(0), her_balance);
        if !ledger::refund_call(&mut tx, id.0, call.user_id, call.telecaller_id, coins, from_telecaller).await? {
            return Err(ServiceError::conflict("already_refunded", "This call was refunded already"));
        }
        admin::audit(
            &mut tx,
            by,
            "call.refund",
            "call",
            Some(id.0),
            json!({ "coinsSpent": spent }),
            json!({ "refundedCoins": coins, "fromTelecaller": from_telecaller, "fromRevenue": from_revenue, "reason": reason }),
        )
        .await?;
        tx.commit().await.map_err(RepoError::from)?;
        let user_balance = ledger::balance(self.db(), call.user_id).await?;
        let telecaller_balance = ledger::balance(self.db(), call.telecaller_id).await?;
        self.calls_service().wallet_changed(Role::User, call.user_id, user_balance);
        self.calls_service().wallet_changed(Role::Telecaller, call.telecaller_id, telecaller_balance);
        Ok(Refund { call: id, coins, from_telecaller, from_revenue, user_balance, telecaller_balance })
    }

    pub async fn stats(&self) -> Result<Stats, ServiceError> {
        Ok(dashboard::stats(self.db()).await?)
    }

    /// Users and telecallers created in `period` (`today`, `last7days`, `last30days`, `all`).
    pub async fn distribution(&self, period: &str) -> Result<(i64, i64), ServiceError> {
        let today = start_of_day(Utc::now());
        let since = match period {
            "today" => Some(today),
            "last7days" => Some(today - Span::days(6)),
            "last30days" => Some(today - Span::days(29)),
            _ => None,
        };
        Ok(dashboard::created_since(self.db(), since).await?)
    }

    /// Recharge and withdrawal amounts (paise) per UTC hour (`last24hours`) or day.
    pub async fn trends(&self, period: &str) -> Result<Vec<(DateTime<Utc>, i64, i64)>, ServiceError> {
        let (hourly, buckets) = match period {
            "last24hours" => (true, 24),
            "last7days" => (false, 7),
            _ => (false, 30),
        };
        Ok(dashboard::trends(self.db(), hourly, buckets).await?)
    }
}

fn start_of_day(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_hour(0)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}
