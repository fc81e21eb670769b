//! Push notifications: device platforms, what a notification is about, and the retry rule.

wire_enum!(
    /// Where a registration token comes from.
    DevicePlatform { Android => "android", Ios => "ios", Web => "web" }
);

wire_enum!(
    /// What a token is for: `alert` (FCM, or APNs for iOS when it is configured: everything but
    /// iOS rings) or `voip` (an iPhone's PushKit token: rings only, through APNs).
    DeviceKind { Alert => "alert", Voip => "voip" }
);

wire_enum!(
    /// Why a push is sent.
    PushKind {
        MissedCall => "MISSED_CALL",
        IncomingCall => "INCOMING_CALL",
        CallCancelled => "CALL_CANCELLED",
        OnlineAlert => "ONLINE_ALERT",
        Broadcast => "BROADCAST",
        /// A chat requested of an AWAY telecaller (an alert, never a VoIP ring).
        IncomingChat => "INCOMING_CHAT",
    }
);

/// The longest registration token accepted: FCM's and APNs' tokens are far shorter (about 160
/// characters and 64 hex digits); anything longer is not a token.
pub const PUSH_TOKEN_MAX_CHARS: usize = 512;

/// Sends of one notification to one device before it is given up.
pub const MAX_PUSH_ATTEMPTS: i32 = 8;

/// Seconds to wait before attempt `attempts + 1`: 2, 4, 8 … doubling up to an hour.
pub fn push_retry_delay_secs(attempts: i32) -> i64 {
    2_i64.saturating_pow(attempts.clamp(1, 12) as u32).min(3_600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_up_to_an_hour() {
        assert_eq!(push_retry_delay_secs(1), 2);
        assert_eq!(push_retry_delay_secs(3), 8);
        assert_eq!(push_retry_delay_secs(40), 3_600);
    }
}
