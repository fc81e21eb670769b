//! The bus across nodes: Redis pub/sub on one channel per deployment. A publishing node
//! delivers to its own sockets at once, then hands the message to one publisher task (so a
//! node's messages keep their order); every other node's subscriber delivers it to the sockets
//! that node holds. The subscriber is one dedicated connection per node that reconnects by
//! itself; messages published while a node is cut off from Redis are not replayed (clients
//! resynchronise from `session:ready`, and every state lives in Postgres).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deadpool_redis::redis;
use futures_util::StreamExt;
use talktime_domain::ids::AccountId;
use tokio::sync::mpsc;

use super::{Audience, Delivery, EventBus, LocalDelivery};
use crate::cluster::{Cluster, answer};

/// Messages a node may have waiting for Redis before it drops new ones.
const OUTGOING_CAPACITY: usize = 16_384;
/// Messages sent to Redis in one pipeline.
const BATCH: usize = 256;
const PING_EVERY: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct BusStats {
    pub published: AtomicU64,
    pub received: AtomicU64,
    pub dropped: AtomicU64,
    /// Messages put in the publisher's queue, and those it has since sent or dropped.
    pub queued: AtomicU64,
    pub handled: AtomicU64,
    /// Milliseconds between publishing and delivering the last message received from another
    /// node (as far as the two nodes' clocks agree).
    pub last_lag_ms: AtomicU64,
    pub subscribed: AtomicBool,
}

pub struct RedisBus {
    node: String,
    local: OnceLock<Arc<dyn LocalDelivery>>,
    outgoing: mpsc::Sender<String>,
    stats: Arc<BusStats>,
}

impl RedisBus {
    /// Starts the publisher and the subscriber (inside a Tokio runtime).
    pub fn start(cluster: &Cluster) -> Arc<Self> {
        let (outgoing, queue) = mpsc::channel(OUTGOING_CAPACITY);
        let bus = Arc::new(Self {
            node: cluster.node.clone(),
            local: OnceLock::new(),
            outgoing,
            stats: Arc::new(BusStats::default()),
        });
        let channel = cluster.key("events");
        tokio::spawn(publish_loop(cluster.clone(), channel.clone(), queue, bus.stats.clone()));
        tokio::spawn(subscribe_loop(cluster.client.clone(), channel, Arc::downgrade(&bus)));
        bus
    }

    /// Connects the transport's registry (once, at startup).
    pub fn attach(&self, sink: Arc<dyn LocalDelivery>) {
        let _ = self.local.set(sink);
    }

    pub fn stats(&self) -> Arc<BusStats> {
        self.stats.clone()
    }

    /// Whether this node currently hears the other nodes.
    pub fn is_subscribed(&self) -> bool {
        self.stats.subscribed.load(Ordering::Relaxed)
    }

    fn receive(&self, message: &str) {
        let Some(Envelope { node, sent_ms, audience, delivery }) = Envelope::decode(message) else {
            tracing::warn!("unreadable bus message ignored");
            return;
        };
        if node == self.node {
            return;
        }
        self.stats.received.fetch_add(1, Ordering::Relaxed);
        self.stats.last_lag_ms.store(now_ms().saturating_sub(sent_ms), Ordering::Relaxed);
        if let Some(local) = self.local.get() {
            local.deliver(&audience, &delivery);
        }
    }
}

#[async_trait::async_trait]
impl EventBus for RedisBus {
    fn publish(&self, audience: Audience, delivery: Delivery) {
        if let Some(local) = self.local.get() {
            local.deliver(&audience, &delivery);
        }
        let message = Envelope { node: &self.node, sent_ms: now_ms(), audience, delivery }.encode();
        if self.outgoing.try_send(message).is_ok() {
            self.stats.queued.fetch_add(1, Ordering::Relaxed);
        } else {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Until the publisher has dealt with everything queued so far (sent or dropped), for at
    /// most two seconds.
    async fn flush(&self) {
        let queued = self.stats.queued.load(Ordering::Relaxed);
        let deadline = tokio::time::Instant::now() + FLUSH_TIMEOUT;
        while self.stats.handled.load(Ordering::Relaxed) < queued && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `<node> <sent ms> <audience> <kind>\n<body>`: a header line and the frame as it was
/// serialised, so a frame is never serialised twice. The audience is `<ROLE>:<account>`,
/// `<ROLE>:*` or `watch:<telecaller>`; the kind `F` (frame), `P` (presence change) or `C<code>`
/// (close). `except` names a connection of the publishing node, which that node already honoured.
struct Envelope<'a> {
    node: &'a str,
    sent_ms: u64,
    audience: Audience,
    delivery: Delivery,
}

impl<'a> Envelope<'a> {
    fn encode(&self) -> String {
        let audience = match &self.audience {
            Audience::Account { role, id, .. } => format!("{role}:{id}"),
            Audience::Everyone(role) => format!("{role}:*"),
            Audience::Watchers(id) => format!("watch:{id}"),
        };
        let (kind, body) = match &self.delivery {
            Delivery::Frame(frame) => ("F".to_owned(), &**frame),
            Delivery::Change(item) => ("P".to_owned(), &**item),
            Delivery::Close(code) => (format!("C{code}"), ""),
        };
        format!("{} {} {audience} {kind}\n{body}", self.node, self.sent_ms)
    }

    fn decode(message: &'a str) -> Option<Self> {
        let (header, body) = message.split_once('\n')?;
        let mut parts = header.split(' ');
        let node = parts.next()?;
        let sent_ms = parts.next()?.parse().ok()?;
        let audience = match parts.next()?.split_once(':')? {
            ("watch", id) => Audience::Watchers(id.parse().ok()?),
            (role, "*") => Audience::Everyone(role.parse().ok()?),
            (role, id) => Audience::account(role.parse().ok()?, id.parse::<AccountId>().ok()?),
        };
        let delivery = match parts.next()? {
            "F" => Delivery::Frame(body.into()),
            "P" => Delivery::Change(body.into()),
            kind => Delivery::Close(kind.strip_prefix('C')?.parse().ok()?),
        };
        Some(Self { node, sent_ms, audience, delivery })
    }
}

/// Sends queued messages in order, a pipeline at a time. While Redis is unreachable they are
/// dropped (and counted): the other nodes could not have heard them anyway.
async fn publish_loop(cluster: Cluster, channel: String, mut queue: mpsc::Receiver<String>, stats: Arc<BusStats>) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut healthy = true;
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for message in &batch {
            pipe.cmd("PUBLISH").arg(&channel).arg(message).ignore();
        }
        let sent = answer(async {
            let mut connection = cluster.pool.get().await.map_err(|e| e.to_string())?;
            pipe.query_async::<()>(&mut *connection).await.map_err(|e| e.to_string())
        })
        .await;
        let count = u64::try_from(batch.len()).unwrap_or(u64::MAX);
        match sent {
            Ok(()) => {
                stats.published.fetch_add(count, Ordering::Relaxed);
                if !healthy {
                    tracing::info!("bus publishing to Redis again");
                }
                healthy = true;
            }
            Err(error) => {
                stats.dropped.fetch_add(count, Ordering::Relaxed);
                if healthy {
                    tracing::warn!(%error, "bus cannot publish to Redis; other nodes miss events until it is back");
                }
                healthy = false;
            }
        }
        stats.handled.fetch_add(count, Ordering::Relaxed);
        batch.clear();
    }
}

/// The node's one subscription, for as long as the bus exists: connect, subscribe, deliver,
/// ping now and then (a dead connection is noticed even when nobody publishes), reconnect with
/// backoff when anything fails.
async fn subscribe_loop(client: redis::Client, channel: String, bus: Weak<RedisBus>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(stats) = bus.upgrade().map(|b| b.stats.clone()) else { return };
        match tokio::time::timeout(CONNECT_TIMEOUT, subscribe(&client, &channel)).await {
            Ok(Ok(pubsub)) => {
                stats.subscribed.store(true, Ordering::Relaxed);
                tracing::info!(%channel, "bus subscribed");
                backoff = Duration::from_millis(100);
                let ended = listen(pubsub, &bus).await;
                stats.subscribed.store(false, Ordering::Relaxed);
                if !ended {
                    return;
                }
                tracing::warn!("bus subscription lost; reconnecting");
            }
            Ok(Err(error)) => tracing::debug!(%error, "bus cannot subscribe yet"),
            Err(_) => tracing::debug!("bus subscription timed out"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn subscribe(client: &redis::Client, channel: &str) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// Delivers until the connection fails (`true`) or the bus is gone (`false`).
async fn listen(pubsub: redis::aio::PubSub, bus: &Weak<RedisBus>) -> bool {
    let (mut sink, mut stream) = pubsub.split();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return true };
                let Some(bus) = bus.upgrade() else { return false };
                match message.get_payload::<String>() {
                    Ok(payload) => bus.receive(&payload),
                    Err(error) => tracing::warn!(%error, "bus message without a text payload"),
                }
            }
            _ = ping.tick() => {
                if bus.strong_count() == 0 {
                    return false;
                }
                let answered = tokio::time::timeout(CONNECT_TIMEOUT, sink.ping::<redis::Value>()).await;
                if !matches!(answered, Ok(Ok(_))) {
                    return true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use talktime_domain::account::Role;

    use super::*;

    #[test]
    fn envelopes_round_trip() {
        let id = AccountId(uuid::Uuid::now_v7());
        let frame: Arc<str> = r#"{"event":"call:incoming","data":{"a":"b\nc"}}"#.into();
        let cases = [
            (Audience::Account { role: Role::Telecaller, id, except: Some(7) }, Delivery::Frame(frame.clone())),
            (Audience::Everyone(Role::User), Delivery::Frame(frame)),
            (Audience::account(Role::User, id), Delivery::Close(4003)),
            (Audience::Watchers(id), Delivery::Change(r#"{"telecallerId":"x","presence":"ONLINE"}"#.into())),
        ];
        for (audience, delivery) in cases {
            let encoded =
                Envelope { node: "node-a", sent_ms: 42, audience: audience.clone(), delivery: delivery.clone() }
                    .encode();
            let decoded = Envelope::decode(&encoded).unwrap();
            assert_eq!((decoded.node, decoded.sent_ms), ("node-a", 42));
            // `except` is the publisher's own business.
            let expected = match audience {
                Audience::Account { role, id, .. } => Audience::account(role, id),
                other => other,
            };
            assert_eq!(decoded.audience, expected);
            assert_eq!(decoded.delivery, delivery);
        }
        assert!(Envelope::decode("garbage").is_none());
        assert!(Envelope::decode("n 1 NOBODY:* F\n{}").is_none());
        assert!(Envelope::decode("n 1 watch:nope P\n{}").is_none());
    }
}
