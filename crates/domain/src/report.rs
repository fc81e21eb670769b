//! Reports of a call's other party, and how admins move them.

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
