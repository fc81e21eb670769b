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
    ChatError,
    ChatRequested,
    ChatIncoming,
    ChatAccepted,
    ChatAnsweredElsewhere,
    ChatExtended,
    ChatBalanceLow,
    ChatRejected,
    ChatCancelled,
    ChatMissed,
    ChatEnded,
    ChatMessage,
    ChatTyping,
    ChatRead,
    GiftReceived,
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
            Self::ChatError => "chat:error",
            Self::ChatRequested => "chat:requested",
            Self::ChatIncoming => "chat:incoming",
            Self::ChatAccepted => "chat:accepted",
            Self::ChatAnsweredElsewhere => "chat:answered-elsewhere",
            Self::ChatExtended => "chat:extended",
            Self::ChatBalanceLow => "chat:balance-low",
            Self::ChatRejected => "chat:rejected",
            Self::ChatCancelled => "chat:cancelled",
            Self::ChatMissed => "chat:missed",
            Self::ChatEnded => "chat:ended",
            Self::ChatMessage => "chat:message",
            Self::ChatTyping => "chat:typing",
            Self::ChatRead => "chat:read",
            Self::GiftReceived => "gift:received",
        }
    }

    /// The event a session of `call_type` sends for this call event: a chat's lifecycle goes
    /// under `chat:` names (docs/chat.md), a call's is unchanged.
    pub const fn of_session(self, call_type: talktime_domain::call::CallType) -> Self {
        if !matches!(call_type, talktime_domain::call::CallType::Chat) {
            return self;
        }
        match self {
            Self::CallError => Self::ChatError,
            Self::CallRinging => Self::ChatRequested,
            Self::CallIncoming => Self::ChatIncoming,
            Self::CallAccepted => Self::ChatAccepted,
            Self::CallAnsweredElsewhere => Self::ChatAnsweredElsewhere,
            Self::CallExtended => Self::ChatExtended,
            Self::CallBalanceLow => Self::ChatBalanceLow,
            Self::CallRejected => Self::ChatRejected,
            Self::CallCancelled => Self::ChatCancelled,
            Self::CallMissed => Self::ChatMissed,
            Self::CallEnded => Self::ChatEnded,
            other => other,
        }
    }
}

impl std::fmt::Display for ServerEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
