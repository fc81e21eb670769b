//! Call history, feedback and reports.

use talktime_domain::account::{Account, Role};
use talktime_domain::call::{Call, CallStatus, HistoryRow};
use talktime_domain::ids::CallId;
use talktime_repository::calls;

use super::CallService;
use crate::ServiceError;
use crate::bus::ServerEvent;
use crate::catalog::PageRequest;

#[derive(Debug, Clone)]
pub struct HistoryPage {
    pub calls: Vec<HistoryRow>,
    pub has_more: bool,
}

impl CallService {
    /// The caller's calls, newest first (as user or as telecaller by role).
    pub async fn history(
        &self,
        account: &Account,
        chats: bool,
        page: PageRequest,
    ) -> Result<HistoryPage, ServiceError> {
        let (limit, offset) = (page.limit(), page.offset());
        let as_user = account.role == Role::User;
        let mut rows = calls::history(self.db.pool(), account.id, as_user, chats, limit, offset).await?;
        let has_more = talktime_domain::page::cut_to(&mut rows, limit);
        Ok(HistoryPage { calls: rows, has_more })
    }

    async fn own_call(&self, account: &Account, id: CallId) -> Result<Call, ServiceError> {
        calls::find(self.db.pool(), id)
            .await?
            .filter(|c| c.user_id == account.id || c.telecaller_id == account.id)
            .ok_or_else(|| ServiceError::not_found("call_not_found", "Call not found"))
    }

    /// Feedback on a completed call, once per side. The user's rating counts towards her card
    /// only when the call was billed at least `rating_min_billed_secs` (a few seconds' call is
    /// no measure of her, and cheap to repeat); a shorter call's feedback is kept, not counted.
    pub async fn feedback(
        &self,
        account: &Account,
        id: CallId,
        rating: Option<i32>,
        comment: Option<&str>,
    ) -> Result<(), ServiceError> {
        let call = self.own_call(account, id).await?;
        if call.status != CallStatus::Completed {
            return Err(ServiceError::invalid("call_not_completed", "Feedback is only for completed calls"));
        }
        let long_enough = call.duration_seconds.unwrap_or(0) >= self.settings.rating_min_billed_secs;
        let mut tx = self.db.begin().await?;
        if !calls::add_feedback(&mut *tx, id, account.id, rating, comment, long_enough).await? {
            return Err(ServiceError::conflict("feedback_already_given", "You already gave feedback on this call"));
        }
        // The user's rating counts toward the telecaller's card (hers of the user does not).
        let counted = rating.filter(|_| account.id == call.user_id && long_enough);
        if let Some(rating) = counted {
            talktime_repository::ratings::tally(&mut tx, call.telecaller_id, i64::from(rating), 1).await?;
        }
        tx.commit().await.map_err(talktime_repository::RepoError::from)?;
        if counted.is_some() {
            // At once on this node; the change feed tells the others.
            self.cache.changed(talktime_repository::changes::Change::Ratings);
        }
        Ok(())
    }

    /// A report of the other party of a call that reached ACCEPTED, once per reporter.
    pub async fn report(
        &self,
        account: &Account,
        id: CallId,
        description: &str,
        message_seq: Option<i64>,
    ) -> Result<talktime_domain::ids::ReportId, ServiceError> {
        let call = self.own_call(account, id).await?;
        if call.accepted_at.is_none() {
            return Err(ServiceError::invalid("call_not_connected", "Only calls that connected can be reported"));
        }
        if let Some(seq) = message_seq
            && !(call.call_type.is_chat() && talktime_repository::chats::exists(self.db.pool(), id, seq).await?)
        {
            return Err(ServiceError::invalid_field("messageSeq", "message_not_found", "No such message in this chat"));
        }
        let reported = if call.user_id == account.id { call.telecaller_id } else { call.user_id };
        let report = talktime_repository::reports::add_report(
            self.db.pool(),
            id,
            account.id,
            reported,
            description,
            message_seq,
        )
        .await?
        .ok_or_else(|| ServiceError::conflict("already_reported", "You already reported this call"))?;
        crate::bus::send(
            self.bus(),
            crate::bus::Audience::Everyone(Role::Admin),
            ServerEvent::ReportCreated,
            serde_json::json!({ "reportId": report.0, "callId": id.0, "reporterId": account.id.0, "reportedId": reported.0 }),
        );
        Ok(report)
    }
}
