//! Stopping and restarting the real binary: SIGTERM closes sockets with 1012 and the process exits
//! 0; after a crash, a lone node's live calls end at the reconnect grace unless a party returns.

use std::time::Duration;

use crate::support::ws::Ws;
use crate::support::{FakeServer, spawn_node};
use serde_json::json;
use talktime_domain::call::{CallStatus, EndReason};
use talktime_repository::ledger::{self, Cause};
use talktime_repository::testing::TestDatabase;

#[tokio::test]
async fn sigterm_closes_sockets_with_1012_and_exits() {
    let mut node = spawn_node(TestDatabase::new().await.unwrap(), &[]).await;
    let user = node.user().await;
    let (mut socket, _) = Ws::connect(&node, "/ws/user", &user.token).await;
    assert_eq!(node.terminate().await, Some(0));
    assert_eq!(socket.closed().await, Some(1012));
}

#[tokio::test]
async fn after_a_crash_a_lone_nodes_live_call_ends_at_the_reconnect_grace() {
    let rooms = FakeServer::start().await;
    rooms.route("POST", "/twirp/livekit.RoomService/DeleteRoom", 200, "");
    let vars = [("LIVEKIT_API_URL", rooms.base.as_str()), ("SWEEP_INTERVAL_MS", "100"), ("RECONNECT_GRACE_SECS", "1")];
    let mut node = spawn_node(TestDatabase::new().await.unwrap(), &vars).await;
    let (user, telecaller) = (node.user().await, node.telecaller(true).await);
    node.grant_coins(&user.id, 1_000).await;
    let (mut user_ws, _) = Ws::connect(&node, "/ws/user", &user.token).await;
    let (mut telecaller_ws, _) = Ws::connect(&node, "/ws/telecaller", &telecaller.token).await;
    user_ws.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let call = user_ws.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    telecaller_ws.expect("call:incoming").await;
    telecaller_ws.send("call:accept", json!({ "callId": call })).await;
    user_ws.expect("call:accepted").await;

    // The node dies with the call live (its balance pays for 500 s); a new one starts.
    node.kill();
    let restarted = spawn_node(node.database(), &vars).await;
    let call_id = call.parse().unwrap();
    let mut ended = None;
    for _ in 0..250 {
        let current = talktime_repository::calls::find(restarted.db.pool(), call_id).await.unwrap().unwrap();
        if current.status != CallStatus::Accepted {
            ended = Some(current);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ended = ended.expect("the call ended at the grace");
    assert_eq!(ended.status, CallStatus::Completed);
    assert!(
        matches!(ended.end_reason, Some(EndReason::UserDisconnected | EndReason::TelecallerDisconnected)),
        "{:?}",
        ended.end_reason
    );
    assert!(ledger::is_posted(restarted.db.pool(), Cause::Call, call_id.0).await.unwrap());
    let seconds = ended.duration_seconds.unwrap();
    assert_eq!(restarted.balance(&user.id).await, 1_000 - seconds * 2);
    restarted.assert_books_balance().await;
}
