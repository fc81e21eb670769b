//! Operators and calls: the list (live ones with their billed time), ending one, refunding one.

use serde_json::json;
use talktime_domain::account::Role;
use talktime_domain::call::EndReason;
use talktime_domain::ids::{AccountId, AdminId, CallId};
use talktime_domain::promotion::RefundSplit;
use talktime_repository::{RepoError, audit, calls};

use super::AdminService;
use crate::catalog::PageRequest;
use crate::{ServiceError, ledger};

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

impl AdminService {
    pub async fn calls(
        &self,
        status: Option<talktime_domain::call::CallStatus>,
        chats: bool,
        page: PageRequest,
    ) -> Result<talktime_domain::page::Page<talktime_domain::call::AdminCallRow>, ServiceError> {
        Ok(calls::admin_page(self.db(), status, chats, page.limit(), page.offset()).await?)
    }

    /// Ends a live call (or, with `chat`, a live chat) now (reason ADMIN), billed to this moment.
    pub async fn end_call(
        &self,
        by: AdminId,
        id: CallId,
        chat: bool,
    ) -> Result<talktime_domain::call::Call, ServiceError> {
        let (noun, not_found) = if chat { ("chat", "chat_not_found") } else { ("call", "call_not_found") };
        let call = calls::find(self.db().pool(), id)
            .await?
            .filter(|c| c.call_type.is_chat() == chat)
            .ok_or_else(|| ServiceError::not_found(not_found, format!("No such {noun}")))?;
        let ended = self.calls.end_by_force(id, EndReason::Admin).await?.ok_or_else(|| {
            ServiceError::conflict(
                if chat { "chat_not_active" } else { "call_not_active" },
                format!("This {noun} is not live"),
            )
        })?;
        self.record(
            by,
            if chat { "chat.end" } else { "call.end" },
            noun,
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
        // Her share of the call's whole value (free seconds included) is what she gives back.
        let value = spent + call.free_coins;
        let (from_telecaller, _) =
            talktime_domain::call::refund_split(coins, value, call.coins_earned.unwrap_or(0), her_balance);
        let split = RefundSplit::new(coins, spent, call.promo_spent, from_telecaller);
        if !ledger::refund_call(&mut tx, &call, &split).await? {
            return Err(ServiceError::conflict("already_refunded", "This call was refunded already"));
        }
        self.promotions.refunded(&mut tx, call.user_id, call.id, split.to_promo).await?;
        let from_revenue = split.from_revenue;
        audit::audit(
            &mut tx,
            by,
            "call.refund",
            "call",
            Some(id.0),
            json!({ "coinsSpent": spent }),
            json!({ "refundedCoins": coins, "toPromo": split.to_promo, "fromTelecaller": from_telecaller,
                    "fromRevenue": from_revenue, "fromMarketing": split.from_marketing, "reason": reason }),
        )
        .await?;
        tx.commit().await.map_err(RepoError::from)?;
        let user_balance = ledger::balance(self.db(), call.user_id).await?;
        let telecaller_balance = ledger::balance(self.db(), call.telecaller_id).await?;
        self.presence().wallet_changed(Role::User, call.user_id, user_balance);
        self.presence().wallet_changed(Role::Telecaller, call.telecaller_id, telecaller_balance);
        Ok(Refund { call: id, coins, from_telecaller, from_revenue, user_balance, telecaller_balance })
    }

    /// Hides (or shows again) one side's feedback on a call: a hidden user's rating stops
    /// counting on the telecaller's card. Audited; repeating it changes nothing.
    pub async fn hide_feedback(
        &self,
        by: AdminId,
        id: CallId,
        author: AccountId,
        hidden: bool,
    ) -> Result<(), ServiceError> {
        let call = calls::find(self.db().pool(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("feedback_not_found", "No such feedback"))?;
        let mut tx = self.db().begin().await?;
        let Some(rating) = calls::set_feedback_hidden(&mut *tx, id, author, hidden).await? else {
            drop(tx);
            let exists = calls::feedback_on(self.db().pool(), id).await?.iter().any(|f| f.author_id == author);
            return if exists {
                Ok(())
            } else {
                Err(ServiceError::not_found("feedback_not_found", "No such feedback"))
            };
        };
        if let Some(rating) = rating.filter(|_| author == call.user_id) {
            let sign = if hidden { -1 } else { 1 };
            talktime_repository::ratings::tally(&mut tx, call.telecaller_id, sign * i64::from(rating), sign).await?;
        }
        audit::audit(
            &mut tx,
            by,
            if hidden { "feedback.hide" } else { "feedback.show" },
            "call",
            Some(id.0),
            json!({ "authorId": author.0, "hidden": !hidden }),
            json!({ "authorId": author.0, "hidden": hidden }),
        )
        .await?;
        tx.commit().await.map_err(RepoError::from)?;
        self.auth().cache().changed(talktime_repository::changes::Change::Ratings);
        Ok(())
    }
}
