//! Every event the server sends on a socket, named once (docs/realtime.md): services publish
//! them, the transport answers with them.

/// A server → client event, by its wire name ([`ServerEvent::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerEvent {
    SessionReady,
    Pong,
    Error,
    PresenceUpdate,
    PresenceCounts,
    CallError,
    CallRinging,
    CallIncoming,
    CallAccepted,
    CallAnsweredElsewhere,
    CallConnected,
    CallExtended,
    CallBalanceLow,
    CallRejected,
    CallCancelled,
    CallMissed,
    CallEnded,
    CallStarted,
    CallFinished,
    WalletUpdated,
    TelecallerApplied,
    WithdrawalRequested,
    ReportCreated,
}

impl ServerEvent {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SessionReady => "session:ready",
            Self::Pong => "pong",
            Self::Error => "error",
            Self::PresenceUpdate => "presence:update",
            Self::PresenceCounts => "presence:counts",
            Self::CallError => "call:error",
            Self::CallRinging => "call:ringing",
            Self::CallIncoming => "call:incoming",
            Self::CallAccepted => "call:accepted",
            Self::CallAnsweredElsewhere => "call:answered-elsewhere",
            Self::CallConnected => "call:connected",
            Self::CallExtended => "call:extended",
            Self::CallBalanceLow => "call:balance-low",
            Self::CallRejected => "call:rejected",
            Self::CallCancelled => "call:cancelled",
            Self::CallMissed => "call:missed",
            Self::CallEnded => "call:ended",
            Self::CallStarted => "call:started",
            Self::CallFinished => "call:finished",
            Self::WalletUpdated => "wallet:updated",
            Self::TelecallerApplied => "telecaller:applied",
            Self::WithdrawalRequested => "withdrawal:requested",
            Self::ReportCreated => "report:created",
        }
    }
}

impl std::fmt::Display for ServerEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
