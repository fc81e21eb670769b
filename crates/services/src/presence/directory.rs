//! Who is connected, on every node: the connection directory behind `is_connected`, the admins'
//! distinct-account counts and presence. In memory on one node; in Redis for several, where each
//! node's entries live only as long as the node keeps heartbeating.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use dashmap::DashMap;
use deadpool_redis::redis;
use talktime_domain::account::Role;
use talktime_domain::ids::AccountId;

use crate::cluster::Cluster;

#[async_trait]
pub trait ConnectionDirectory: Send + Sync {
    /// A connection of this account opened on this node.
    async fn opened(&self, role: Role, account: AccountId);
    /// A connection closed on this node; answers whether the account is still connected anywhere.
    async fn closed(&self, role: Role, account: AccountId) -> bool;
    async fn is_connected(&self, role: Role, account: AccountId) -> bool;
    /// Distinct accounts with this role connected to any node.
    async fn online(&self, role: Role) -> usize;
    /// Keeps this node's entries alive and takes over the entries of nodes that stopped.
    async fn heartbeat(&self) -> Heartbeat;
    /// This node stops (graceful shutdown): its entries go now rather than at expiry. Answers the
    /// accounts no longer connected anywhere.
    async fn leave(&self) -> Vec<(Role, AccountId)>;
}

/// What a heartbeat found for the calls service to act on.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Heartbeat {
    /// Accounts whose last connection was on a node that stopped heartbeating.
    pub lost: Vec<(Role, AccountId)>,
    /// This node's accounts, written again after the shared directory had lost them (Redis
    /// restarted, or this node was taken for dead): others may have treated them as gone.
    pub restored: Vec<(Role, AccountId)>,
}

/// Connection counts per account in this process (one node, and each node's own view).
#[derive(Default)]
pub struct LocalDirectory {
    counts: DashMap<(Role, AccountId), u32>,
}

impl LocalDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `delta` to the account's count; answers the new count.
    fn add(&self, role: Role, account: AccountId, delta: i32) -> u32 {
        let count = {
            let mut entry = self.counts.entry((role, account)).or_insert(0);
            *entry = entry.saturating_add_signed(delta);
            *entry
        };
        if count == 0 {
            self.counts.remove_if(&(role, account), |_, n| *n == 0);
        }
        count
    }

    fn count(&self, role: Role, account: AccountId) -> u32 {
        self.counts.get(&(role, account)).map_or(0, |n| *n)
    }

    fn snapshot(&self) -> Vec<((Role, AccountId), u32)> {
        self.counts.iter().map(|e| (*e.key(), *e.value())).collect()
    }
}

#[async_trait]
impl ConnectionDirectory for LocalDirectory {
    async fn opened(&self, role: Role, account: AccountId) {
        self.add(role, account, 1);
    }

    async fn closed(&self, role: Role, account: AccountId) -> bool {
        self.add(role, account, -1) > 0
    }

    async fn is_connected(&self, role: Role, account: AccountId) -> bool {
        self.count(role, account) > 0
    }

    async fn online(&self, role: Role) -> usize {
        self.counts.iter().filter(|e| e.key().0 == role).count()
    }

    async fn heartbeat(&self) -> Heartbeat {
        Heartbeat::default()
    }

    async fn leave(&self) -> Vec<(Role, AccountId)> {
        let gone = self.counts.iter().map(|e| *e.key()).collect();
        self.counts.clear();
        gone
    }
}

/// The directory in Redis. Per account, a hash of node → connections (`conn:<ROLE>:<id>`); per
/// node, a hash of account → connections (`node:<id>`), so a dead node's entries can be taken
/// out; per role, the set of accounts connected anywhere (`online:<ROLE>`, counted with SCARD);
/// and `nodes`, each node's heartbeat deadline. Counts move by ±1 in one script, so updates from
/// racing connections commute. While Redis is unreachable, answers come from this node's own
/// counts, and the next heartbeat that reaches Redis writes them back whole.
pub struct RedisDirectory {
    cluster: Cluster,
    local: LocalDirectory,
    expiry: Duration,
    /// An update did not reach Redis: the next heartbeat rewrites this node's entries.
    dirty: AtomicBool,
    /// The first heartbeat registers the node; later registrations are restorations.
    registered: AtomicBool,
    /// Redis lost this node's entries: once written back, they are reported as restored.
    restoring: AtomicBool,
}

/// Splits `ROLE:account` members in Lua.
const MEMBER: &str = "local function online_key(ns, m) local role, acct = string.match(m, '^(%u+):(.+)$') return ns .. ':online:' .. role, acct end\n";

/// ARGV: namespace, node, member, delta. Returns 1 when the account is connected anywhere after.
const ADJUST: &str = r"
local ns, node, m, delta = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local ck, nk = ns .. ':conn:' .. m, ns .. ':node:' .. node
if redis.call('HINCRBY', ck, node, delta) <= 0 then redis.call('HDEL', ck, node) end
if redis.call('HINCRBY', nk, m, delta) <= 0 then redis.call('HDEL', nk, m) end
local ok, acct = online_key(ns, m)
if redis.call('EXISTS', ck) == 1 then
  redis.call('SADD', ok, acct)
  return 1
end
redis.call('SREM', ok, acct)
return 0
";

/// Takes a node's entries out. ARGV: namespace, node. Returns the members no longer connected
/// anywhere.
const DROP_NODE: &str = r"
local function drop_node(ns, node)
  local nk = ns .. ':node:' .. node
  local gone = {}
  for _, m in ipairs(redis.call('HKEYS', nk)) do
    local ck = ns .. ':conn:' .. m
    redis.call('HDEL', ck, node)
    if redis.call('EXISTS', ck) == 0 then
      local ok, acct = online_key(ns, m)
      redis.call('SREM', ok, acct)
      table.insert(gone, m)
    end
  end
  redis.call('DEL', nk)
  return gone
end
";

/// ARGV: namespace, node, expiry ms. Answers {1 if the node was not registered, dead nodes}.
/// Time comes from Redis, so nodes' clocks do not matter.
const HEARTBEAT: &str = r"
local ns, node = ARGV[1], ARGV[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local added = redis.call('ZADD', ns .. ':nodes', now + tonumber(ARGV[3]), node)
return {added, redis.call('ZRANGEBYSCORE', ns .. ':nodes', '-inf', now)}
";

/// ARGV: namespace, dead node. Only the node that removes it from `nodes` reaps it.
const REAP: &str = r"
local ns, node = ARGV[1], ARGV[2]
if redis.call('ZREM', ns .. ':nodes', node) == 0 then return {} end
return drop_node(ns, node)
";

/// ARGV: namespace, node, then member/count pairs: this node's entries, replaced whole.
const REWRITE: &str = r"
local ns, node = ARGV[1], ARGV[2]
drop_node(ns, node)
local nk = ns .. ':node:' .. node
for i = 3, #ARGV, 2 do
  local m, n = ARGV[i], ARGV[i + 1]
  redis.call('HSET', nk, m, n)
  redis.call('HSET', ns .. ':conn:' .. m, node, n)
  local ok, acct = online_key(ns, m)
  redis.call('SADD', ok, acct)
end
return 0
";

fn script(body: &str, with_drop: bool) -> redis::Script {
    let drop = if with_drop { DROP_NODE } else { "" };
    redis::Script::new(&format!("{MEMBER}{drop}{body}"))
}

static ADJUST_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| script(ADJUST, false));
static HEARTBEAT_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| script(HEARTBEAT, false));
static REAP_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| script(REAP, true));
static REWRITE_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| script(REWRITE, true));

fn member(role: Role, account: AccountId) -> String {
    format!("{role}:{account}")
}

fn parse_member(member: &str) -> Option<(Role, AccountId)> {
    let (role, account) = member.split_once(':')?;
    Some((role.parse().ok()?, account.parse().ok()?))
}

impl RedisDirectory {
    /// `expiry`: how long a node's entries outlive its last heartbeat.
    pub fn new(cluster: Cluster, expiry: Duration) -> Self {
        Self {
            cluster,
            local: LocalDirectory::new(),
            expiry,
            dirty: AtomicBool::new(false),
            registered: AtomicBool::new(false),
            restoring: AtomicBool::new(false),
        }
    }

    /// Tells Redis about one connection more or less; answers whether the account is connected
    /// anywhere (`None` when Redis did not answer).
    async fn adjust(&self, role: Role, account: AccountId, delta: i32) -> Option<bool> {
        let mut invocation = ADJUST_SCRIPT.prepare_invoke();
        invocation.arg(&self.cluster.namespace).arg(&self.cluster.node).arg(member(role, account)).arg(delta);
        match self.cluster.invoke::<i64>(&invocation).await {
            Ok(anywhere) => Some(anywhere == 1),
            Err(error) => {
                self.unreachable(&error);
                None
            }
        }
    }

    fn unreachable(&self, error: &str) {
        if !self.dirty.swap(true, Ordering::SeqCst) {
            tracing::warn!(%error, "Redis unreachable; connection directory answers from this node until it is back");
        }
    }

    async fn rewrite(&self, snapshot: &[((Role, AccountId), u32)]) -> Result<(), String> {
        let mut invocation = REWRITE_SCRIPT.prepare_invoke();
        invocation.arg(&self.cluster.namespace).arg(&self.cluster.node);
        for ((role, account), count) in snapshot {
            invocation.arg(member(*role, *account)).arg(*count);
        }
        self.cluster.invoke::<i64>(&invocation).await.map(|_| ())
    }

    async fn beat(&self) -> Result<Heartbeat, String> {
        let mut invocation = HEARTBEAT_SCRIPT.prepare_invoke();
        invocation
            .arg(&self.cluster.namespace)
            .arg(&self.cluster.node)
            .arg(u64::try_from(self.expiry.as_millis()).unwrap_or(u64::MAX));
        let (added, dead): (i64, Vec<String>) = self.cluster.invoke(&invocation).await?;
        let mut found = Heartbeat::default();
        if added == 1 && self.registered.swap(true, Ordering::SeqCst) {
            self.restoring.store(true, Ordering::SeqCst);
        }
        let dirty = self.dirty.swap(false, Ordering::SeqCst);
        if added == 1 || dirty || self.restoring.load(Ordering::SeqCst) {
            // A connection opening meanwhile may be counted twice or not at all until the next
            // rewrite: rewrites are rare (Redis lost data or did not answer), so that is fine.
            let snapshot = self.local.snapshot();
            if let Err(error) = self.rewrite(&snapshot).await {
                self.dirty.store(true, Ordering::SeqCst);
                return Err(error);
            }
            if self.restoring.swap(false, Ordering::SeqCst) {
                tracing::warn!(node = %self.cluster.node, "this node's directory entries were lost; written again");
                found.restored = snapshot.into_iter().map(|(key, _)| key).collect();
            }
        }
        for node in dead.iter().filter(|n| **n != self.cluster.node) {
            // A reaped node's accounts are this node's to act on: keep what was found so far.
            let gone = match self.reap(node).await {
                Ok(gone) => gone,
                Err(error) => {
                    self.unreachable(&error);
                    break;
                }
            };
            if !gone.is_empty() {
                tracing::warn!(%node, accounts = gone.len(), "a node stopped heartbeating; its connections are gone");
            }
            found.lost.extend(gone);
        }
        Ok(found)
    }

    /// Takes a node's entries out, unless another node already did; answers the accounts it
    /// alone held.
    async fn reap(&self, node: &str) -> Result<Vec<(Role, AccountId)>, String> {
        let mut invocation = REAP_SCRIPT.prepare_invoke();
        invocation.arg(&self.cluster.namespace).arg(node);
        let gone: Vec<String> = self.cluster.invoke(&invocation).await?;
        Ok(gone.iter().filter_map(|m| parse_member(m)).collect())
    }
}

#[async_trait]
impl ConnectionDirectory for RedisDirectory {
    async fn opened(&self, role: Role, account: AccountId) {
        self.local.add(role, account, 1);
        self.adjust(role, account, 1).await;
    }

    async fn closed(&self, role: Role, account: AccountId) -> bool {
        let here = self.local.add(role, account, -1) > 0;
        self.adjust(role, account, -1).await.unwrap_or(here)
    }

    async fn is_connected(&self, role: Role, account: AccountId) -> bool {
        let key = self.cluster.key(&format!("conn:{}", member(role, account)));
        match self.cluster.query::<i64>(redis::cmd("EXISTS").arg(key)).await {
            Ok(n) => n > 0,
            Err(error) => {
                self.unreachable(&error);
                self.local.count(role, account) > 0
            }
        }
    }

    async fn online(&self, role: Role) -> usize {
        let key = self.cluster.key(&format!("online:{role}"));
        match self.cluster.query::<usize>(redis::cmd("SCARD").arg(key)).await {
            Ok(n) => n,
            Err(error) => {
                self.unreachable(&error);
                self.local.online(role).await
            }
        }
    }

    async fn heartbeat(&self) -> Heartbeat {
        match self.beat().await {
            Ok(found) => found,
            Err(error) => {
                self.unreachable(&error);
                Heartbeat::default()
            }
        }
    }

    async fn leave(&self) -> Vec<(Role, AccountId)> {
        match self.reap(&self.cluster.node).await {
            Ok(gone) => gone,
            Err(error) => {
                tracing::warn!(%error, "cannot leave the directory; this node's entries expire instead");
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_round_trip() {
        let account = AccountId(uuid::Uuid::now_v7());
        assert_eq!(parse_member(&member(Role::Telecaller, account)), Some((Role::Telecaller, account)));
        assert_eq!(parse_member("nonsense"), None);
    }

    #[tokio::test]
    async fn local_counts_are_per_account() {
        let directory = LocalDirectory::new();
        let (a, b) = (AccountId(uuid::Uuid::now_v7()), AccountId(uuid::Uuid::now_v7()));
        directory.opened(Role::User, a).await;
        directory.opened(Role::User, a).await;
        directory.opened(Role::User, b).await;
        assert_eq!(directory.online(Role::User).await, 2);
        assert!(directory.closed(Role::User, a).await, "a still has a connection");
        assert!(!directory.closed(Role::User, a).await);
        assert!(!directory.is_connected(Role::User, a).await);
        assert_eq!(directory.online(Role::User).await, 1);
        assert_eq!(directory.online(Role::Telecaller).await, 0);
    }
}
