//! The sockets this node holds: by account for addressed events, by watched telecaller for
//! presence. Delivery never blocks the sender: a full outbox closes that one slow connection.
//! An idle connection holds no queue memory: its outbox is an empty `VecDeque` that the socket's
//! loop takes whole each time it wakes.
//!
//! Presence is interest-based and coalesced. A change reaches only the connections that watch
//! that telecaller (an index telecaller → watchers, so its cost grows with her watchers, not with
//! everyone connected) and is parked on each of them, replacing an older change of hers; once
//! per flush interval the node sends every connection with parked changes one
//! `presence:update`, and, when the count of online telecallers moved, every other user
//! connection one shared frame with just the count.
//!
//! Longer than most modules on purpose: delivery, the watch index and the coalescing flush share
//! one lock discipline, which is easiest to keep right in one file.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use talktime_services::bus::ServerEvent;

use dashmap::DashMap;
use talktime_domain::account::Role;
use talktime_domain::ids::AccountId;
use talktime_services::bus::{Audience, ConnectionId, Delivery, LocalDelivery};
use tokio::sync::Notify;

/// What a socket's writer sends, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Out {
    /// A frame serialised once for many sockets.
    Frame(Arc<str>),
    /// A direct answer to this socket.
    Text(String),
    Ping,
    /// The close frame, then the writer stops.
    Close(u16),
}

/// One open socket, as the registry and the bus see it.
pub struct Conn {
    pub(super) id: ConnectionId,
    role: Role,
    account: AccountId,
    /// The token version its handshake checked (re-validated every interval).
    token_version: i32,
    capacity: usize,
    state: Mutex<ConnState>,
    /// Woken when something was queued for the socket (or the outbox overflowed).
    pub(super) wake: Notify,
    /// The flush round in which it last got a `presence:update` of its own.
    flushed: AtomicU64,
}

#[derive(Default)]
struct ConnState {
    outbox: VecDeque<Out>,
    /// Presence changes since this connection's last `presence:update`, one per telecaller.
    pending: Vec<(AccountId, Arc<str>)>,
    /// More than `capacity` deliveries waited: the connection closes with 1013.
    overflowed: bool,
    /// The socket is gone: deliveries are dropped.
    closed: bool,
}

/// What the socket's writer finds when it wakes.
pub(super) enum Outgoing {
    Deliver(VecDeque<Out>),
    /// The client could not keep up: close it (1013).
    Overflowed,
}

impl Conn {
    fn state(&self) -> std::sync::MutexGuard<'_, ConnState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, delivery: Delivery) {
        match delivery {
            Delivery::Frame(frame) => self.send(Out::Frame(frame)),
            Delivery::Close(code) => self.send(Out::Close(code)),
            // Presence changes are parked, not queued (see `park`).
            Delivery::Change(_) => {}
        }
    }

    /// Queues `out` for the socket's writer; more than the capacity waiting closes it (1013).
    pub(super) fn send(&self, out: Out) {
        {
            let mut state = self.state();
            if state.closed || state.overflowed {
                return;
            }
            if state.outbox.len() >= self.capacity {
                state.overflowed = true;
                state.outbox = VecDeque::new();
            } else {
                state.outbox.push_back(out);
            }
        }
        self.wake.notify_one();
    }

    /// Queues the close frame even past a full outbox or after the socket left the registry:
    /// the socket is going, this is its last word.
    pub(super) fn force_close(&self, code: u16) {
        self.state().outbox.push_back(Out::Close(code));
        self.wake.notify_one();
    }

    /// Everything queued since the last call (the outbox starts over empty, with no capacity).
    pub(super) fn take(&self) -> Outgoing {
        let mut state = self.state();
        if state.overflowed {
            return Outgoing::Overflowed;
        }
        Outgoing::Deliver(std::mem::take(&mut state.outbox))
    }

    /// Parks a change; answers whether the connection had none parked (it is newly dirty).
    fn park(&self, telecaller: AccountId, item: &Arc<str>) -> bool {
        let mut state = self.state();
        if state.closed {
            return false;
        }
        let was_clean = state.pending.is_empty();
        match state.pending.iter_mut().find(|(id, _)| *id == telecaller) {
            Some(slot) => slot.1 = item.clone(),
            None => state.pending.push((telecaller, item.clone())),
        }
        was_clean
    }
}

/// How often the server pings a socket, and how long it waits to hear anything back.
#[derive(Debug, Clone, Copy)]
pub struct Heartbeat {
    pub ping: std::time::Duration,
    pub timeout: std::time::Duration,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self { ping: std::time::Duration::from_secs(20), timeout: std::time::Duration::from_secs(60) }
    }
}

/// Sockets woken per slice of a presence flush, and the pause after each (see `flush_presence`):
/// 18 000 sockets take 36 slices, so the flush is spread over some 40 ms rather than waking
/// every writer at once.
const FLUSH_SLICE: usize = 512;
const FLUSH_PAUSE: std::time::Duration = std::time::Duration::from_millis(1);
/// The session checks' turns per interval (see `run_session_checks`).
const SESSION_CHECK_SHARDS: u128 = 10;

/// Sockets one account may hold on a node unless configured otherwise.
pub const DEFAULT_MAX_PER_ACCOUNT: usize = 5;
/// The close code of a socket pushed out by a newer one of the same account.
pub const CLOSE_TOO_MANY_SOCKETS: u16 = 4008;

pub struct ConnectionRegistry {
    next: AtomicU64,
    queue_capacity: usize,
    /// Open sockets one account may hold on this node; a new one past it closes the oldest.
    max_per_account: usize,
    pub(super) heartbeat: Heartbeat,
    connections: DashMap<(Role, AccountId), Vec<Arc<Conn>>>,
    /// Telecaller → the connections of this node that watch her.
    watchers: DashMap<AccountId, HashMap<ConnectionId, Arc<Conn>>>,
    /// Connections with parked changes, each once, until the next flush.
    dirty: Mutex<Vec<Arc<Conn>>>,
    round: AtomicU64,
    /// The online count the last flush saw (`usize::MAX` before the first).
    last_count: AtomicUsize,
}

impl ConnectionRegistry {
    pub fn new(queue_capacity: usize) -> Self {
        Self {
            next: AtomicU64::new(1),
            queue_capacity: queue_capacity.max(1),
            max_per_account: DEFAULT_MAX_PER_ACCOUNT,
            heartbeat: Heartbeat::default(),
            connections: DashMap::new(),
            watchers: DashMap::new(),
            dirty: Mutex::new(Vec::new()),
            round: AtomicU64::new(0),
            last_count: AtomicUsize::new(usize::MAX),
        }
    }

    /// Another heartbeat than the default 20 s ping and 60 s timeout (tests make it short).
    pub fn with_heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.heartbeat = heartbeat;
        self
    }

    /// Another cap on one account's sockets than the default 5 (`WS_MAX_CONNECTIONS_PER_ACCOUNT`).
    pub fn with_max_per_account(mut self, max: usize) -> Self {
        self.max_per_account = max.max(1);
        self
    }

    /// Adds the socket to its account's; past the cap the oldest is closed with 4008, so a
    /// client that leaks sockets (or a token shared around) cannot pile them up.
    pub(super) fn register(&self, role: Role, account: AccountId, token_version: i32) -> Arc<Conn> {
        let conn = Arc::new(Conn {
            id: self.next.fetch_add(1, Ordering::Relaxed),
            role,
            account,
            token_version,
            capacity: self.queue_capacity,
            state: Mutex::default(),
            wake: Notify::new(),
            flushed: AtomicU64::new(0),
        });
        let evicted = {
            let mut list = self.connections.entry((role, account)).or_default();
            list.push(conn.clone());
            let excess = list.len().saturating_sub(self.max_per_account);
            list.drain(..excess).collect::<Vec<_>>()
        };
        for oldest in evicted {
            oldest.push(Delivery::Close(CLOSE_TOO_MANY_SOCKETS));
        }
        conn
    }

    /// The connection closed: it leaves the account's list and the watch index.
    pub(super) fn unregister(&self, role: Role, account: AccountId, conn: &Arc<Conn>, watching: &[AccountId]) {
        conn.state().closed = true;
        if let Some(mut list) = self.connections.get_mut(&(role, account)) {
            list.retain(|c| c.id != conn.id);
        }
        self.connections.remove_if(&(role, account), |_, list| list.is_empty());
        self.watch(conn, watching, &[]);
    }

    /// Replaces the telecallers `conn` watches (`old`) by `new`. Changes parked for telecallers
    /// it no longer watches are dropped.
    pub(super) fn watch(&self, conn: &Arc<Conn>, old: &[AccountId], new: &[AccountId]) {
        for telecaller in old.iter().filter(|t| !new.contains(t)) {
            if let Some(mut watchers) = self.watchers.get_mut(telecaller) {
                watchers.remove(&conn.id);
            }
            self.watchers.remove_if(telecaller, |_, watchers| watchers.is_empty());
        }
        for telecaller in new.iter().filter(|t| !old.contains(t)) {
            self.watchers.entry(*telecaller).or_default().insert(conn.id, conn.clone());
        }
        conn.state().pending.retain(|(id, _)| new.contains(id));
    }

    /// Sends what each connection's watched telecallers did since the last flush, and the count
    /// of online telecallers to every user connection when it changed. Paced: after each
    /// [`FLUSH_SLICE`] sockets it pauses [`FLUSH_PAUSE`], so the workers write one slice before
    /// the next is woken, and a ring (or any frame) queued meanwhile waits behind one slice of
    /// writers, not behind every socket of the node.
    pub async fn flush_presence(&self, online: usize) {
        let round = self.round.fetch_add(1, Ordering::Relaxed) + 1;
        let dirty = std::mem::take(&mut *self.dirty.lock().unwrap_or_else(PoisonError::into_inner));
        // Most connections have one change parked, the same as many others: one frame each
        // (keyed by the item's address).
        let mut single: HashMap<usize, Arc<str>> = HashMap::new();
        for slice in dirty.chunks(FLUSH_SLICE) {
            for conn in slice {
                let items = std::mem::take(&mut conn.state().pending);
                let frame = match items.as_slice() {
                    [] => continue,
                    [(_, item)] => single
                        .entry(item.as_ptr() as usize)
                        .or_insert_with(|| update_frame(std::iter::once(&**item), online))
                        .clone(),
                    many => update_frame(many.iter().map(|(_, item)| &**item), online),
                };
                conn.flushed.store(round, Ordering::Relaxed);
                conn.push(Delivery::Frame(frame));
            }
            if dirty.len() > FLUSH_SLICE {
                tokio::time::sleep(FLUSH_PAUSE).await;
            }
        }
        if self.last_count.swap(online, Ordering::Relaxed) == online {
            return;
        }
        let shared = Delivery::Frame(update_frame(std::iter::empty(), online));
        // Taken out of the map first: no shard lock is held across a pause.
        let users: Vec<Arc<Conn>> = self
            .connections
            .iter()
            .filter(|e| e.key().0 == Role::User)
            .flat_map(|e| {
                e.value().iter().filter(|c| c.flushed.load(Ordering::Relaxed) != round).cloned().collect::<Vec<_>>()
            })
            .collect();
        for slice in users.chunks(FLUSH_SLICE) {
            for conn in slice {
                conn.push(shared.clone());
            }
            if users.len() > FLUSH_SLICE {
                tokio::time::sleep(FLUSH_PAUSE).await;
            }
        }
    }

    /// Every account with a socket here, with the token version each socket was opened with
    /// (for the periodic re-validation).
    pub fn sessions(&self) -> Vec<(Role, AccountId, i32)> {
        self.sessions_of_shard(0, 1)
    }

    /// [`sessions`](Self::sessions) of the accounts in shard `shard` of `shards` (by id).
    pub fn sessions_of_shard(&self, shard: u128, shards: u128) -> Vec<(Role, AccountId, i32)> {
        let mut sessions: Vec<(Role, AccountId, i32)> = self
            .connections
            .iter()
            .filter(|entry| entry.key().1.0.as_u128() % shards.max(1) == shard)
            .flat_map(|entry| entry.value().iter().map(|c| (c.role, c.account, c.token_version)).collect::<Vec<_>>())
            .collect();
        sessions.sort_unstable_by_key(|(role, account, version)| (role.as_str(), account.0, *version));
        sessions.dedup();
        sessions
    }

    /// Closes every connection of these accounts on this node (4003).
    pub fn close_accounts(&self, accounts: &[(Role, AccountId)]) {
        for (role, account) in accounts {
            self.deliver(&Audience::account(*role, *account), &Delivery::Close(4003));
        }
    }

    /// Closes every connection with `code` (1012 when the server shuts down).
    pub fn close_all(&self, code: u16) {
        for entry in self.connections.iter() {
            for conn in entry.value() {
                conn.push(Delivery::Close(code));
            }
        }
    }

    /// Open connections on this node per endpoint (`user`, `telecaller`, `admin`).
    pub fn counts_by_role(&self) -> Vec<(&'static str, usize)> {
        [(Role::User, "user"), (Role::Telecaller, "telecaller"), (Role::Admin, "admin")]
            .into_iter()
            .map(|(role, name)| {
                (name, self.connections.iter().filter(|e| e.key().0 == role).map(|e| e.value().len()).sum())
            })
            .collect()
    }

    /// Open connections on this node.
    pub fn len(&self) -> usize {
        self.connections.iter().map(|e| e.value().len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Flushes presence every `every` for as long as the registry exists (one task per node).
pub async fn run_presence_flush(
    registry: std::sync::Weak<ConnectionRegistry>,
    presence: Arc<talktime_services::presence::PresenceService>,
    every: std::time::Duration,
) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let online = presence.online_telecallers().await;
        let Some(registry) = registry.upgrade() else { return };
        registry.flush_presence(online).await;
    }
}

/// Every `every`, checks the sessions of this node's sockets against Postgres and closes those
/// that ended (4003): a block, logout or rejection whose close never arrived (the bus was down)
/// still takes effect on every node within the interval. In [`SESSION_CHECK_SHARDS`] turns,
/// one shard of the accounts every `every / SESSION_CHECK_SHARDS`: each is still checked once
/// per interval, and no tick reads every socket's session at once.
pub async fn run_session_checks(
    registry: std::sync::Weak<ConnectionRegistry>,
    auth: Arc<talktime_services::auth::AuthService>,
    every: std::time::Duration,
) {
    let shards = SESSION_CHECK_SHARDS;
    let mut ticker = tokio::time::interval(every / u32::try_from(shards).unwrap_or(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    let mut turn: u128 = 0;
    loop {
        ticker.tick().await;
        turn += 1;
        let Some(sessions) = registry.upgrade().map(|r| r.sessions_of_shard(turn % shards, shards)) else { return };
        if sessions.is_empty() {
            continue;
        }
        match auth.ended_sessions(&sessions).await {
            Ok(ended) if !ended.is_empty() => {
                tracing::info!(count = ended.len(), "closing sockets whose sessions ended");
                if let Some(registry) = registry.upgrade() {
                    registry.close_accounts(&ended);
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot check the sessions of this node's sockets"),
        }
    }
}

/// `{"event":"presence:update","data":{"changes":[…],"onlineTelecallers":n}}` from items that
/// were each serialised once.
fn update_frame<'a>(items: impl Iterator<Item = &'a str>, online: usize) -> Arc<str> {
    let mut frame = format!(r#"{{"event":"{}","data":{{"changes":["#, ServerEvent::PresenceUpdate);
    for (n, item) in items.enumerate() {
        if n > 0 {
            frame.push(',');
        }
        frame.push_str(item);
    }
    frame.push_str(r#"],"onlineTelecallers":"#);
    frame.push_str(&online.to_string());
    frame.push_str("}}");
    frame.into()
}

impl LocalDelivery for ConnectionRegistry {
    fn deliver(&self, audience: &Audience, delivery: &Delivery) {
        match (audience, delivery) {
            (Audience::Watchers(telecaller), Delivery::Change(item)) => {
                let Some(watchers) = self.watchers.get(telecaller) else { return };
                let mut newly_dirty = Vec::new();
                for conn in watchers.values() {
                    if conn.park(*telecaller, item) {
                        newly_dirty.push(conn.clone());
                    }
                }
                drop(watchers);
                if !newly_dirty.is_empty() {
                    self.dirty.lock().unwrap_or_else(PoisonError::into_inner).extend(newly_dirty);
                }
            }
            (Audience::Watchers(_), _) | (_, Delivery::Change(_)) => {}
            (Audience::Account { role, id, except }, _) => {
                if let Some(list) = self.connections.get(&(*role, *id)) {
                    for conn in list.iter().filter(|c| Some(c.id) != *except) {
                        conn.push(delivery.clone());
                    }
                }
            }
            (Audience::Everyone(role), _) => {
                for entry in self.connections.iter().filter(|e| e.key().0 == *role) {
                    for conn in entry.value() {
                        conn.push(delivery.clone());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use talktime_services::bus::frame;

    use super::*;

    /// What the connection's loop would send now.
    fn sent(conn: &Conn) -> Vec<Out> {
        match conn.take() {
            Outgoing::Deliver(batch) => batch.into_iter().collect(),
            Outgoing::Overflowed => panic!("overflowed"),
        }
    }

    fn frames(conn: &Conn) -> Vec<Value> {
        sent(conn)
            .into_iter()
            .map(|d| match d {
                Out::Frame(text) => serde_json::from_str(&text).expect("JSON"),
                other => panic!("expected a frame, got {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_full_outbox_closes_only_the_slow_connection() {
        let registry = ConnectionRegistry::new(2);
        let slow = registry.register(Role::User, AccountId::new(), 0);
        let other = registry.register(Role::User, AccountId::new(), 0);
        let text = frame("call:incoming", json!({}));
        let event = Delivery::Frame(text.clone());
        for _ in 0..5 {
            registry.deliver(&Audience::Everyone(Role::User), &event);
            // The reader that keeps up gets every frame.
            assert_eq!(sent(&other), vec![Out::Frame(text.clone())]);
        }
        // The one that never reads is told to close (1013), and nobody waited for it.
        assert!(matches!(slow.take(), Outgoing::Overflowed));
    }

    #[test]
    fn deliveries_skip_the_connection_being_answered_and_closing_one_keeps_the_others() {
        let registry = ConnectionRegistry::new(8);
        let account = AccountId::new();
        let first = registry.register(Role::Telecaller, account, 0);
        let second = registry.register(Role::Telecaller, account, 0);
        let text = frame("call:answered-elsewhere", json!({}));
        let event = Delivery::Frame(text.clone());
        registry.deliver(&Audience::Account { role: Role::Telecaller, id: account, except: Some(first.id) }, &event);
        assert_eq!(sent(&second), vec![Out::Frame(text)]);
        assert!(sent(&first).is_empty());
        registry.unregister(Role::Telecaller, account, &first, &[]);
        assert_eq!(registry.len(), 1);
        // A closed connection queues nothing more.
        first.push(event);
        assert_eq!(registry.sessions(), vec![(Role::Telecaller, account, 0)]);
        assert!(sent(&first).is_empty());
    }

    #[test]
    fn the_session_checks_shards_cover_every_session_once() {
        let registry = ConnectionRegistry::new(8);
        for _ in 0..50 {
            registry.register(Role::User, AccountId::new(), 0);
        }
        let mut sharded: Vec<_> =
            (0..SESSION_CHECK_SHARDS).flat_map(|k| registry.sessions_of_shard(k, SESSION_CHECK_SHARDS)).collect();
        sharded.sort_unstable_by_key(|(role, account, version)| (role.as_str(), account.0, *version));
        assert_eq!(sharded, registry.sessions());
        assert_eq!(sharded.len(), 50);
        assert!((0..SESSION_CHECK_SHARDS).all(|k| registry.sessions_of_shard(k, SESSION_CHECK_SHARDS).len() < 50));
    }

    #[tokio::test]
    async fn changes_reach_only_watchers_coalesced_into_one_frame_per_flush() {
        let registry = ConnectionRegistry::new(8);
        let (asha, meera) = (AccountId::new(), AccountId::new());
        let watcher = registry.register(Role::User, AccountId::new(), 0);
        let idle = registry.register(Role::User, AccountId::new(), 0);
        registry.watch(&watcher, &[], &[asha]);
        registry.flush_presence(0).await;
        // The first flush sets the count: everyone hears it once.
        assert_eq!(frames(&watcher)[0]["data"]["onlineTelecallers"], json!(0));
        assert_eq!(frames(&idle)[0]["data"]["changes"], json!([]));

        for presence in ["ONLINE", "ON_CALL", "ONLINE"] {
            let item: Arc<str> = format!(r#"{{"telecallerId":"{asha}","presence":"{presence}"}}"#).into();
            registry.deliver(&Audience::Watchers(asha), &Delivery::Change(item));
        }
        let unwatched: Arc<str> = format!(r#"{{"telecallerId":"{meera}","presence":"ONLINE"}}"#).into();
        registry.deliver(&Audience::Watchers(meera), &Delivery::Change(unwatched));
        registry.flush_presence(1).await;
        let updates = frames(&watcher);
        assert_eq!(updates.len(), 1, "one frame per flush");
        assert_eq!(updates[0]["event"], json!("presence:update"));
        assert_eq!(updates[0]["data"]["changes"], json!([{ "telecallerId": asha.to_string(), "presence": "ONLINE" }]));
        assert_eq!(updates[0]["data"]["onlineTelecallers"], json!(1));
        // The idle connection learns only the count.
        assert_eq!(
            frames(&idle),
            vec![json!({ "event": "presence:update", "data": { "changes": [], "onlineTelecallers": 1 } })]
        );

        // Nothing changed: nothing is sent.
        registry.flush_presence(1).await;
        assert!(sent(&watcher).is_empty() && sent(&idle).is_empty());

        // Unwatched and closed connections leave the index.
        registry.watch(&watcher, &[asha], &[]);
        registry.deliver(&Audience::Watchers(asha), &Delivery::Change("{}".into()));
        registry.flush_presence(1).await;
        assert!(sent(&watcher).is_empty());
        assert!(registry.watchers.is_empty());
    }
}
