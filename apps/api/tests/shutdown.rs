//! Graceful shutdown of the real binary: SIGTERM closes sockets with 1012 and the process exits 0.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod support;

use support::spawn_node;
use support::ws::Ws;
use talktime_repository::testing::TestDatabase;

#[tokio::test]
async fn sigterm_closes_sockets_with_1012_and_exits() {
    let mut node = spawn_node(TestDatabase::new().await.unwrap(), &[]).await;
    let user = node.user().await;
    let (mut socket, _) = Ws::connect(&node, "/ws/user", &user.token).await;
    assert_eq!(node.terminate().await, Some(0));
    assert_eq!(socket.closed().await, Some(1012));
}
