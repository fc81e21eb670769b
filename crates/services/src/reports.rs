//! Reports of a call's other party, as operators review them (audited).

use serde_json::json;
use talktime_domain::ids::{AdminId, ReportId};
use talktime_domain::report::ReportRow;
use talktime_domain::report::ReportStatus;
use talktime_repository::reports;
use talktime_repository::{RepoError, audit, calls};

use crate::ServiceError;
use crate::admin::AdminService;
use crate::catalog::PageRequest;

/// What an admin sees of one report.
#[derive(Debug, Clone)]
pub struct ReportDetail {
    pub report: ReportRow,
    /// The call it is about (gone only if the data was tampered with).
    pub call: Option<talktime_domain::call::Call>,
    /// What both parties said of the call.
    pub feedback: Vec<talktime_domain::call::Feedback>,
}

impl AdminService {
    pub async fn reports(
        &self,
        status: Option<ReportStatus>,
        page: PageRequest,
    ) -> Result<talktime_domain::page::Page<ReportRow>, ServiceError> {
        Ok(reports::page(self.db(), status, page.limit(), page.offset()).await?)
    }

    /// A report with its call and the feedback both parties gave on it.
    pub async fn report(&self, id: ReportId) -> Result<ReportDetail, ServiceError> {
        let report = reports::find(self.db(), id)
            .await?
            .ok_or_else(|| ServiceError::not_found("report_not_found", "Report not found"))?;
        let call = calls::find(self.db().pool(), report.call_id).await?;
        let feedback = calls::feedback_on(self.db().pool(), report.call_id).await?;
        Ok(ReportDetail { report, call, feedback })
    }

    /// PENDING → UNDER_REVIEW → RESOLVED / DISMISSED, and back to UNDER_REVIEW to reopen.
    pub async fn move_report(
        &self,
        by: AdminId,
        id: ReportId,
        to: ReportStatus,
        notes: Option<&str>,
    ) -> Result<ReportRow, ServiceError> {
        let mut tx = self.db().begin().await?;
        let Some(before) = reports::move_status(&mut tx, id, to.reachable_from(), to, notes).await? else {
            drop(tx);
            self.report(id).await?;
            return Err(ServiceError::conflict("invalid_transition", format!("The report cannot move to {to}")));
        };
        audit::audit(
            &mut tx,
            by,
            "report.status",
            "report",
            Some(id.0),
            json!({ "status": before }),
            json!({ "status": to, "adminNotes": notes }),
        )
        .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(self.report(id).await?.report)
    }
}
