//! Realtime delivery. Services never hold sockets: they publish frames addressed to an account
//! or an audience, and the transport's connection registry delivers them to the sockets it holds.
//! On one node the bus hands frames straight to that registry; a Redis bus (cluster mode) carries
//! them to every node's registry (`RedisBus`).

mod events;
mod pubsub;

pub use events::ServerEvent;

use std::sync::{Arc, OnceLock};

use serde::Serialize;
use talktime_domain::account::Role;
use talktime_domain::ids::AccountId;

pub use pubsub::{BusStats, RedisBus};

/// A connection, as numbered by the node that holds it.
pub type ConnectionId = u64;

/// Who a delivery is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every connection of one account, but `except` (the connection being answered directly).
    Account { role: Role, id: AccountId, except: Option<ConnectionId> },
    /// Every connection of every account with this role (all users, all admins).
    Everyone(Role),
    /// The connections watching this telecaller's presence (`presence:watch`); only a
    /// [`Delivery::Change`] goes to them.
    Watchers(AccountId),
}

impl Audience {
    pub fn account(role: Role, id: AccountId) -> Self {
        Audience::Account { role, id, except: None }
    }
}

/// What to do with the addressed connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A text frame, serialised once for every recipient.
    Frame(Arc<str>),
    /// Close with this WebSocket close code (4003 revoked, 1012 restart…).
    Close(u16),
    /// One item of `presence:update` (`{telecallerId, presence, telecaller}`), serialised once;
    /// each node's registry coalesces the items per connection and flushes them on its tick.
    Change(Arc<str>),
}

/// `{"event", "data"}` serialised once.
pub fn frame(event: &str, data: impl Serialize) -> Arc<str> {
    #[derive(Serialize)]
    struct Frame<'a, T> {
        event: &'a str,
        data: T,
    }
    serde_json::to_string(&Frame { event, data })
        .unwrap_or_else(|_| format!(r#"{{"event":"{event}","data":null}}"#))
        .into()
}

/// Where a bus hands deliveries on this node (the transport's connection registry).
pub trait LocalDelivery: Send + Sync {
    fn deliver(&self, audience: &Audience, delivery: &Delivery);
}

#[async_trait::async_trait]
pub trait EventBus: Send + Sync {
    fn publish(&self, audience: Audience, delivery: Delivery);

    /// Waits (briefly) until what was published has left this node: before it exits.
    async fn flush(&self) {}
}

/// One node: deliveries go straight to the local registry.
#[derive(Default)]
pub struct InProcessBus {
    sink: OnceLock<Arc<dyn LocalDelivery>>,
}

impl InProcessBus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Connects the transport's registry (once, at startup).
    pub fn attach(&self, sink: Arc<dyn LocalDelivery>) {
        let _ = self.sink.set(sink);
    }
}

#[async_trait::async_trait]
impl EventBus for InProcessBus {
    fn publish(&self, audience: Audience, delivery: Delivery) {
        if let Some(sink) = self.sink.get() {
            sink.deliver(&audience, &delivery);
        }
    }
}

/// `value` serialised once, as the body of a [`Delivery::Change`].
pub fn item(value: impl Serialize) -> Arc<str> {
    serde_json::to_string(&value).unwrap_or_else(|_| "null".to_owned()).into()
}

/// Shorthand for publishing an event.
pub fn send(bus: &dyn EventBus, audience: Audience, event: ServerEvent, data: impl Serialize) {
    bus.publish(audience, Delivery::Frame(frame(event.as_str(), data)));
}

/// Tells every connection of an account its new balance (`wallet:updated`), after a change that
/// is not a call's own (a recharge credited, a withdrawal held or released, a refund).
pub fn wallet_updated(bus: &dyn EventBus, role: Role, account: AccountId, balance: i64) {
    send(bus, Audience::account(role, account), ServerEvent::WalletUpdated, serde_json::json!({ "balance": balance }));
}
