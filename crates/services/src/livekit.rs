//! LiveKit: access tokens for a call's room, and closing rooms through RoomService.

use std::time::Duration;

use async_trait::async_trait;
use livekit_api::access_token::{AccessToken, VideoGrants};
use livekit_api::services::room::RoomClient;
use talktime_domain::call::CallType;
use talktime_domain::ids::{AccountId, CallId};

use crate::ServiceError;

/// How long a participant token is valid; LiveKit refreshes a connected participant's session.
pub const TOKEN_TTL: Duration = Duration::from_secs(10 * 60);

#[derive(Clone)]
pub struct LiveKitTokens {
    /// Sent to the apps.
    pub url: String,
    api_key: String,
    api_secret: String,
}

impl LiveKitTokens {
    pub fn new(url: String, api_key: String, api_secret: String) -> Self {
        Self { url, api_key, api_secret }
    }

    /// A token to join the call's room (named after the call) as `identity`: subscribe, data,
    /// and publish the microphone, plus the camera for a video call.
    pub fn mint(
        &self,
        call: CallId,
        identity: AccountId,
        name: &str,
        call_type: CallType,
    ) -> Result<String, ServiceError> {
        let mut sources = vec!["microphone".to_owned()];
        if call_type == CallType::Video {
            sources.push("camera".to_owned());
        }
        let grants = VideoGrants {
            room_join: true,
            room: call.to_string(),
            can_publish: Some(true),
            can_subscribe: Some(true),
            can_publish_data: Some(true),
            can_publish_sources: sources,
            ..Default::default()
        };
        AccessToken::with_api_key(&self.api_key, &self.api_secret)
            .with_identity(&identity.to_string())
            .with_name(name)
            .with_ttl(TOKEN_TTL)
            .with_grants(grants)
            .to_jwt()
            .map_err(ServiceError::internal)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("LiveKit RoomService failed: {0}")]
pub struct RoomError(pub String);

#[async_trait]
pub trait RoomService: Send + Sync {
    /// Closes the room, disconnecting everyone in it. A room that does not exist counts as closed.
    async fn delete_room(&self, room: &str) -> Result<(), RoomError>;
}

/// LiveKit's RoomService (Twirp) through the `livekit-api` crate.
pub struct LiveKitRooms {
    client: RoomClient,
}

impl LiveKitRooms {
    pub fn new(api_url: &str, api_key: &str, api_secret: &str) -> Self {
        let client = RoomClient::with_api_key(api_url, api_key, api_secret)
            .with_failover(false)
            .with_request_timeout(Duration::from_secs(10));
        Self { client }
    }
}

#[async_trait]
impl RoomService for LiveKitRooms {
    async fn delete_room(&self, room: &str) -> Result<(), RoomError> {
        match self.client.delete_room(room).await {
            Ok(()) => Ok(()),
            Err(error) => {
                let text = format!("{error:?}");
                if text.contains("not_found") || text.contains("NotFound") || text.contains("404") {
                    Ok(())
                } else {
                    Err(RoomError(text))
                }
            }
        }
    }
}
