//! The Redis connection directory against the real Redis (`TEST_REDIS_URL`, default the local
//! server): distinct counts across nodes, a dead node's entries taken over once, and a node
//! writing its entries back after Redis lost them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use std::time::Duration;

use deadpool_redis::redis;
use talktime_domain::account::Role;
use talktime_domain::ids::AccountId;
use talktime_services::cluster::Cluster;
use talktime_services::presence::{ConnectionDirectory, Heartbeat, RedisDirectory};

use common::redis_url;

const EXPIRY: Duration = Duration::from_millis(300);

/// Two nodes of one deployment (a namespace of this test's own).
fn nodes() -> (Cluster, RedisDirectory, RedisDirectory) {
    let namespace = format!("talktime-test:{}", uuid::Uuid::now_v7());
    let node = || Cluster::new(&redis_url(), &namespace).unwrap();
    let a = node();
    (a.clone(), RedisDirectory::new(a, EXPIRY), RedisDirectory::new(node(), EXPIRY))
}

fn account() -> AccountId {
    AccountId(uuid::Uuid::now_v7())
}

#[tokio::test]
async fn counts_are_distinct_and_a_dead_nodes_accounts_are_lost_once() {
    let (_, a, b) = nodes();
    let (user, telecaller, user_on_both) = (account(), account(), account());
    assert_eq!(a.heartbeat().await, Heartbeat::default());
    assert_eq!(b.heartbeat().await, Heartbeat::default());
    a.opened(Role::Telecaller, telecaller).await;
    b.opened(Role::Telecaller, telecaller).await;
    b.opened(Role::User, user).await;
    b.opened(Role::User, user).await;
    a.opened(Role::User, user_on_both).await;
    b.opened(Role::User, user_on_both).await;
    for node in [&a, &b] {
        assert_eq!(node.online(Role::Telecaller).await, 1);
        assert_eq!(node.online(Role::User).await, 2);
        assert!(node.is_connected(Role::User, user).await);
    }
    // One of two connections closing leaves the account connected.
    assert!(b.closed(Role::User, user).await);

    // Node B stops heartbeating; A takes its entries out once.
    tokio::time::sleep(EXPIRY + Duration::from_millis(100)).await;
    let beat = a.heartbeat().await;
    assert_eq!(beat.lost, vec![(Role::User, user)], "only accounts B alone held are lost");
    assert_eq!(a.heartbeat().await, Heartbeat::default(), "and only once");
    assert!(!a.is_connected(Role::User, user).await);
    assert!(a.is_connected(Role::User, user_on_both).await);
    assert_eq!((a.online(Role::User).await, a.online(Role::Telecaller).await), (1, 1));
    // A's last connection of an account closing says so.
    assert!(!a.closed(Role::Telecaller, telecaller).await);
    assert_eq!(a.online(Role::Telecaller).await, 0);
}

#[tokio::test]
async fn a_node_writes_its_entries_back_after_redis_lost_them() {
    let (cluster, a, _) = nodes();
    let telecaller = account();
    a.heartbeat().await;
    a.opened(Role::Telecaller, telecaller).await;
    // Redis restarts empty (this deployment's keys vanish).
    let mut connection = cluster.pool.get().await.unwrap();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}:*", cluster.namespace)).query_async(&mut *connection).await.unwrap();
    let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut *connection).await.unwrap();
    assert!(!a.is_connected(Role::Telecaller, telecaller).await);

    let beat = a.heartbeat().await;
    assert_eq!(beat.restored, vec![(Role::Telecaller, telecaller)]);
    assert!(a.is_connected(Role::Telecaller, telecaller).await);
    assert_eq!(a.online(Role::Telecaller).await, 1);
    assert_eq!(a.heartbeat().await, Heartbeat::default());
}
