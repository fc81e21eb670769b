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
