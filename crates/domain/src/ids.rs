//! Typed identifiers: a `PlanId` can never be passed where an `AccountId` is expected.

typed_id!(
    /// A phone account (a user or a telecaller).
    AccountId
);
typed_id!(
    /// An administrator.
    AdminId
);
typed_id!(
    /// A coin pack.
    PlanId
);
typed_id!(
    /// One call attempt; also the LiveKit room name.
    CallId
);
typed_id!(
    /// A gift in the catalogue.
    GiftId
);
typed_id!(
    /// One gift sent during a call or chat (the cause of its `GIFT` journal).
    GiftSendId
);
typed_id!(
    /// A recharge or a withdrawal (a withdrawal is a transaction of its own kind).
    TransactionId
);
typed_id!(
    /// A report filed about a call.
    ReportId
);
typed_id!(
    /// One push notification to one device, in the outbox (devices themselves are known by
    /// their token).
    NotificationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_time_ordered_and_round_trip() {
        let a = AccountId::new();
        let b = AccountId::new();
        assert!(a < b);
        assert_eq!(a.to_string().parse::<AccountId>().unwrap(), a);
        assert!("not-a-uuid".parse::<AccountId>().is_err());
    }
}
