//! Recharges and withdrawals: what kind a money transaction is, and where it stands.

wire_enum!(
    /// Coins bought through the gateway, or paid out to a bank.
    TransactionKind { Recharge => "RECHARGE", Withdrawal => "WITHDRAWAL" }
);

wire_enum!(
    /// A recharge goes PENDING → SUCCESS, CANCELLED or FAILED; a withdrawal PENDING → SUCCESS or
    /// REJECTED.
    TransactionStatus {
        Pending => "PENDING",
        Success => "SUCCESS",
        Failed => "FAILED",
        Cancelled => "CANCELLED",
        Rejected => "REJECTED",
    }
);
