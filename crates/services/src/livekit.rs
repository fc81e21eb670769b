//! LiveKit: access tokens for a call's room, the room's life through RoomService, and the
//! webhooks LiveKit signs with the API key and secret.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use livekit_api::access_token::{AccessToken, TokenVerifier, VideoGrants};
use livekit_api::services::room::{CreateRoomOptions, RoomClient};
use livekit_api::services::{ServerError, ServerErrorCode, ServiceError as LiveKitError};
use livekit_api::webhooks::WebhookReceiver;
use talktime_domain::call::CallType;
use talktime_domain::ids::{AccountId, CallId};

use crate::ServiceError;

/// The window in which a participant token lets its holder join: LiveKit refreshes a connected
/// participant's session itself, and a reconnecting app gets a fresh token in `session:ready`,
/// so an old token is of no use after the call.
pub const TOKEN_TTL: Duration = Duration::from_secs(60);
/// A call's room closes this long after the last participant left (DeleteRoom closes it at the
/// end of the call anyway).
pub const ROOM_EMPTY_TIMEOUT_SECS: u32 = 30;

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
    /// and publish the microphone, plus the camera for a video call. It cannot create a room.
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
            room_create: false,
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

/// Someone in a room, as RoomService reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InRoom {
    pub identity: String,
    pub joined_at: DateTime<Utc>,
}

#[async_trait]
pub trait RoomService: Send + Sync {
    /// Creates the call's room: two participants at most, gone soon after it empties (the
    /// LiveKit server runs with room auto-creation off, so only this makes a room).
    async fn create_room(&self, room: &str) -> Result<(), RoomError>;
    /// Closes the room, disconnecting everyone in it. A room that does not exist counts as closed.
    async fn delete_room(&self, room: &str) -> Result<(), RoomError>;
    /// Takes someone out of a room (gone already counts as done).
    async fn remove_participant(&self, room: &str, identity: &str) -> Result<(), RoomError>;
    /// Who is in the room now.
    async fn participants(&self, room: &str) -> Result<Vec<InRoom>, RoomError>;
    /// The names of every room the media server has open (ListRooms).
    async fn rooms(&self) -> Result<Vec<String>, RoomError>;
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

/// A `not_found` answer counts as done: the room or participant is gone either way. Decided by
/// LiveKit's Twirp error code, never by the error's text (a message that merely mentions "not
/// found" is a failure like any other).
fn done_unless_failed(result: Result<(), LiveKitError>) -> Result<(), RoomError> {
    match result {
        Ok(()) => Ok(()),
        Err(LiveKitError::Twirp(ServerError::Twirp(code))) if code.code == ServerErrorCode::NOT_FOUND => Ok(()),
        Err(error) => Err(RoomError(format!("{error:?}"))),
    }
}

#[async_trait]
impl RoomService for LiveKitRooms {
    async fn create_room(&self, room: &str) -> Result<(), RoomError> {
        let options =
            CreateRoomOptions { max_participants: 2, empty_timeout: ROOM_EMPTY_TIMEOUT_SECS, ..Default::default() };
        match self.client.create_room(room, options).await {
            Ok(_) => Ok(()),
            // RoomService answered 200 with a body that does not decode: the room exists, and
            // nothing of the answer is needed.
            Err(LiveKitError::Twirp(ServerError::Prost(_))) => Ok(()),
            Err(error) => Err(RoomError(format!("{error:?}"))),
        }
    }

    async fn delete_room(&self, room: &str) -> Result<(), RoomError> {
        done_unless_failed(self.client.delete_room(room).await)
    }

    async fn remove_participant(&self, room: &str, identity: &str) -> Result<(), RoomError> {
        done_unless_failed(self.client.remove_participant(room, identity).await)
    }

    async fn participants(&self, room: &str) -> Result<Vec<InRoom>, RoomError> {
        let found = self.client.list_participants(room).await.map_err(|e| RoomError(format!("{e:?}")))?;
        Ok(found
            .into_iter()
            .map(|p| InRoom {
                identity: p.identity,
                joined_at: DateTime::from_timestamp(p.joined_at, 0).unwrap_or_else(Utc::now),
            })
            .collect())
    }

    async fn rooms(&self) -> Result<Vec<String>, RoomError> {
        let found = self.client.list_rooms(Vec::new()).await.map_err(|e| RoomError(format!("{e:?}")))?;
        Ok(found.into_iter().map(|room| room.name).collect())
    }
}

/// No media server configured (local development): rooms are not managed, calls still ring,
/// connect and bill.
pub struct NoMediaServer;

#[async_trait]
impl RoomService for NoMediaServer {
    async fn create_room(&self, _room: &str) -> Result<(), RoomError> {
        Ok(())
    }

    async fn delete_room(&self, _room: &str) -> Result<(), RoomError> {
        Ok(())
    }

    async fn remove_participant(&self, _room: &str, _identity: &str) -> Result<(), RoomError> {
        Ok(())
    }

    async fn participants(&self, _room: &str) -> Result<Vec<InRoom>, RoomError> {
        Ok(Vec::new())
    }

    async fn rooms(&self) -> Result<Vec<String>, RoomError> {
        Ok(Vec::new())
    }
}

/// What a LiveKit webhook says, as far as calls care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    Joined {
        room: String,
        identity: String,
    },
    Left {
        room: String,
        identity: String,
    },
    /// Anything else (room_started, track_published…): acknowledged and ignored.
    Other(String),
}

/// A verified webhook: LiveKit's event id (each is acted on once) and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaWebhook {
    pub id: String,
    pub event: MediaEvent,
}

/// Webhooks older than this (by LiveKit's `createdAt`) are refused: a captured one cannot be
/// replayed later.
pub const WEBHOOK_MAX_AGE_SECS: i64 = 300;

/// Checks LiveKit's signature (a JWT signed with the API secret whose `sha256` claim is the
/// body's hash) and the event's age, and reads the event.
#[derive(Clone)]
pub struct MediaWebhooks {
    receiver: WebhookReceiver,
}

impl MediaWebhooks {
    pub fn new(api_key: &str, api_secret: &str) -> Self {
        Self { receiver: WebhookReceiver::new(TokenVerifier::with_api_key(api_key, api_secret)) }
    }

    pub fn read(&self, body: &str, authorization: &str) -> Result<MediaWebhook, ServiceError> {
        let token = authorization.strip_prefix("Bearer ").unwrap_or(authorization).trim();
        let event = self.receiver.receive(body, token).map_err(|error| {
            tracing::warn!(%error, "LiveKit webhook refused");
            ServiceError::unauthorized("invalid_signature", "The webhook signature is not valid")
        })?;
        let age = Utc::now().timestamp() - event.created_at;
        if age > WEBHOOK_MAX_AGE_SECS {
            tracing::warn!(id = %event.id, age, "a stale LiveKit webhook refused");
            return Err(ServiceError::invalid("stale_webhook", "The webhook is older than five minutes"));
        }
        let room = event.room.map(|r| r.name).unwrap_or_default();
        let identity = event.participant.map(|p| p.identity).unwrap_or_default();
        let media = match event.event.as_str() {
            "participant_joined" => MediaEvent::Joined { room, identity },
            "participant_left" => MediaEvent::Left { room, identity },
            other => MediaEvent::Other(other.to_owned()),
        };
        Ok(MediaWebhook { id: event.id, event: media })
    }
}
