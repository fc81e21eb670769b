//! Reports of a call's other party, and how admins move them.

use chrono::{DateTime, Utc};

use crate::account::{AccountStatus, Role};

wire_enum!(
    /// PENDING → UNDER_REVIEW → RESOLVED or DISMISSED, and back to UNDER_REVIEW to reopen.
    ReportStatus {
        Pending => "PENDING",
        UnderReview => "UNDER_REVIEW",
        Resolved => "RESOLVED",
        Dismissed => "DISMISSED",
    }
);

impl ReportStatus {
    /// The statuses a report may move to `self` from (none: nobody moves a report to PENDING).
    pub fn reachable_from(self) -> &'static [ReportStatus] {
        match self {
            ReportStatus::UnderReview => &[ReportStatus::Pending, ReportStatus::Resolved, ReportStatus::Dismissed],
            ReportStatus::Resolved | ReportStatus::Dismissed => &[ReportStatus::UnderReview],
            ReportStatus::Pending => &[],
        }
    }

    /// Whether the report is closed (its `resolvedAt` is set).
    pub fn is_closed(self) -> bool {
        matches!(self, ReportStatus::Resolved | ReportStatus::Dismissed)
    }
}

#[derive(Debug, Clone)]
pub struct Complaint {
    pub id: crate::ids::ReportId,
    pub call_id: crate::ids::CallId,
    pub reporter_id: crate::ids::AccountId,
    pub reporter_name: Option<String>,
    pub reporter_status: AccountStatus,
    pub description: String,
    pub status: ReportStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct ReportRow {
    pub id: crate::ids::ReportId,
    pub call_id: crate::ids::CallId,
    pub reporter_id: crate::ids::AccountId,
    pub reporter_name: Option<String>,
    pub reporter_phone: String,
    pub reporter_role: Role,
    pub reporter_status: AccountStatus,
    pub reported_id: crate::ids::AccountId,
    pub reported_name: Option<String>,
    pub reported_phone: String,
    pub reported_role: Role,
    pub reported_status: AccountStatus,
    pub description: String,
    pub status: ReportStatus,
    pub admin_notes: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// On a chat: the message the report points at.
    pub message_seq: Option<i64>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_review_opens_and_closes_reports() {
        assert!(ReportStatus::Pending.reachable_from().is_empty());
        assert!(ReportStatus::Resolved.reachable_from() == [ReportStatus::UnderReview]);
        assert!(ReportStatus::UnderReview.reachable_from().contains(&ReportStatus::Dismissed));
        assert!(!ReportStatus::UnderReview.reachable_from().contains(&ReportStatus::UnderReview));
    }
}
