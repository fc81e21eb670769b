//! What LiveKit tells us about a call's room (webhooks), and the meter that follows the media:
//! with webhooks on, an accepted call is billed from the moment both parties are in its room;
//! one whose media never connects ends SETUP_FAILED at no charge; anyone who joins a room they
//! have no business in is taken out and the room closed.

use chrono::{DateTime, Utc};
use talktime_domain::account::Role;
use talktime_domain::call::Call;
use talktime_domain::call::{self as rules, CallStatus, EndReason};
use talktime_domain::ids::{AccountId, CallId};
use talktime_repository::calls;
use talktime_repository::{RepoError, Tx};

use super::CallService;
use super::events::*;
use crate::ServiceError;
use crate::bus::{Audience, ServerEvent, send};
use crate::livekit::{MediaEvent, MediaWebhook};

impl CallService {
    /// Acts on a verified LiveKit webhook, once per event id (a redelivery is acknowledged and
    /// ignored; an event whose handling failed is forgotten, so LiveKit's retry is handled).
    #[tracing::instrument(name = "media_webhook", skip_all, fields(event = %webhook.id))]
    pub async fn media_webhook(&self, webhook: MediaWebhook) -> Result<(), ServiceError> {
        if matches!(webhook.event, MediaEvent::Other(_)) {
            return Ok(());
        }
        if !webhook.id.is_empty() && !calls::record_media_event(self.db.pool(), &webhook.id).await? {
            tracing::info!(id = %webhook.id, "a LiveKit webhook delivered again: ignored");
            return Ok(());
        }
        let handled = match webhook.event {
            MediaEvent::Joined { room, identity } => self.joined(&room, &identity).await,
            MediaEvent::Left { room, identity } => self.left(&room, &identity).await,
            MediaEvent::Other(_) => Ok(()),
        };
        if handled.is_err() && !webhook.id.is_empty() {
            calls::forget_media_event(self.db.pool(), &webhook.id).await?;
        }
        handled
    }

    /// The call a room belongs to, and the party an identity is, if they are.
    async fn party_in(&self, room: &str, identity: &str) -> Result<Option<(Call, AccountId)>, ServiceError> {
        let (Ok(call), Ok(party)) = (room.parse::<CallId>(), identity.parse::<AccountId>()) else { return Ok(None) };
        let Some(call) = calls::find(self.db.pool(), call).await? else { return Ok(None) };
        let is_party = call.user_id == party || call.telecaller_id == party;
        Ok(is_party.then_some((call, party)))
    }

    async fn joined(&self, room: &str, identity: &str) -> Result<(), ServiceError> {
        let accepted = match self.party_in(room, identity).await? {
            Some((call, party)) if call.status == CallStatus::Accepted => {
                calls::joined(self.db.pool(), call.id, party).await?
            }
            _ => None,
        };
        let Some(call) = accepted else {
            // A room of a call that is over (or never was), or someone who is not a party: out,
            // and the room with them.
            tracing::warn!(room, identity, "a join to a room with no live call of theirs: removed");
            let removed = self.rooms.remove_participant(room, identity).await;
            let deleted = self.rooms.delete_room(room).await;
            removed.and(deleted).map_err(|e| ServiceError::upstream("media_server_failed", "LiveKit failed", e))?;
            return Ok(());
        };
        if call.connected_at.is_none()
            && let (Some(user), Some(telecaller)) = (call.user_joined_at, call.telecaller_joined_at)
        {
            self.connect(call.id, user.max(telecaller)).await?;
        }
        Ok(())
    }

    /// A party left the room: their media grace starts, as long as a socket's grace but apart
    /// from it: only rejoining the room ends it (a socket that reconnects does not, or a party
    /// could stay out of the room and keep the meter running by reconnecting). When it runs out
    /// the call ends for them, billed to the moment they left.
    async fn left(&self, room: &str, identity: &str) -> Result<(), ServiceError> {
        if let Some((call, party)) = self.party_in(room, identity).await?
            && call.status == CallStatus::Accepted
        {
            let grace = self.settings.reconnect_grace.as_secs_f64();
            if let Some(call) = calls::left_room(self.db.pool(), call.id, party, grace).await?
                && let Some(deadline) = call.media_grace_deadline_of(party)
            {
                self.schedule(call.id, deadline);
            }
        }
        Ok(())
    }

    /// Starts the meter of a call waiting for its media, from `at`: the paid time is what the
    /// balance buys now. Both parties hear `call:connected`.
    async fn connect(&self, call: CallId, at: DateTime<Utc>) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        let Some(locked) = calls::lock(&mut tx, call).await? else { return Ok(()) };
        self.connect_locked(tx, &locked, at).await
    }

    async fn connect_locked(&self, mut tx: Tx, call: &Call, at: DateTime<Utc>) -> Result<(), ServiceError> {
        if call.status != CallStatus::Accepted || call.connected_at.is_some() {
            return Ok(());
        }
        let balance = talktime_repository::ledger::wallet_balance(&mut *tx, call.user_id).await?;
        let max = rules::max_duration_secs(balance, call.user_rate) + i64::from(call.free_seconds);
        let Some(connected) = calls::connect(&mut tx, call.id, at, max).await? else { return Ok(()) };
        tx.commit().await.map_err(RepoError::from)?;
        let data = Connected {
            call_id: connected.id.0,
            connected_at: connected.connected_at.unwrap_or(connected.now),
            max_duration_seconds: max,
        };
        send(self.bus(), Audience::account(Role::User, connected.user_id), ServerEvent::CallConnected, &data);
        send(
            self.bus(),
            Audience::account(Role::Telecaller, connected.telecaller_id),
            ServerEvent::CallConnected,
            &data,
        );
        self.schedule_billing(&connected);
        Ok(())
    }

    /// The media deadline passed without both joins heard. Webhooks can be late or lost, so
    /// LiveKit is asked who is in the room: both parties there starts the meter at the later of
    /// their joins; anything else ends the call SETUP_FAILED, at no charge.
    pub(super) async fn media_overdue(&self, mut tx: Tx, call: Call) -> Result<(), ServiceError> {
        let present = match self.rooms.participants(&call.id.to_string()).await {
            Ok(present) => present,
            Err(error) => {
                tracing::warn!(%error, call = %call.id, "cannot ask LiveKit who is in the room");
                Vec::new()
            }
        };
        let joined = |party: AccountId| present.iter().find(|p| p.identity == party.to_string()).map(|p| p.joined_at);
        if let (Some(user), Some(telecaller)) = (joined(call.user_id), joined(call.telecaller_id)) {
            return self.connect_locked(tx, &call, user.max(telecaller)).await;
        }
        if let Some(ended) = self.end_locked(&mut tx, &call, EndReason::SetupFailed).await? {
            tx.commit().await.map_err(RepoError::from)?;
            self.after_end(&ended, None).await?;
        }
        Ok(())
    }

    /// Something after the accept's commit failed (the room, a token, the caller): the call
    /// ends SETUP_FAILED at no charge and both parties are told.
    pub(super) async fn fail_setup(&self, call: CallId, cause: &ServiceError) {
        tracing::error!(%call, error = %cause, "call setup failed after the accept; ending it at no charge");
        if let Err(error) = self.end_by_force(call, EndReason::SetupFailed).await {
            // The media deadline or the grace ends it later; it is billed nothing either way.
            tracing::error!(%call, %error, "could not end a failed call setup");
        }
    }
}
