//! The call scene many tests start from: the server with a fake LiveKit RoomService, a funded
//! user and an approved telecaller, and the questions tests ask of the fake.

use serde_json::json;

use super::ws::Ws;
use super::{FakeServer, Session, TestApp, eventually, spawn_app_with};

/// The RoomService's Twirp prefix.
pub const ROOMS: &str = "/twirp/livekit.RoomService";

pub struct Stage {
    pub app: TestApp,
    pub rooms: FakeServer,
    pub user: Session,
    pub telecaller: Session,
}

/// A server with `extra` settings, a RoomService answering every method with 200 and a 100 ms
/// sweeper; `coins` in the user's wallet.
pub async fn stage(extra: &[(&str, &str)], coins: i64) -> Stage {
    let rooms = FakeServer::start().await;
    for method in ["CreateRoom", "DeleteRoom", "RemoveParticipant", "ListParticipants", "ListRooms"] {
        rooms.route("POST", &format!("{ROOMS}/{method}"), 200, "");
    }
    let mut vars = vec![
        ("LIVEKIT_API_URL", rooms.base.as_str()),
        ("LIVEKIT_URL", "wss://media.example.test"),
        ("SWEEP_INTERVAL_MS", "100"),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app_with(&vars).await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    if coins > 0 {
        app.grant_coins(&user.id, coins).await;
    }
    Stage { app, rooms, user, telecaller }
}

impl Stage {
    pub async fn sockets(&self) -> (Ws, Ws) {
        let (user, _) = Ws::connect(&self.app, "/ws/user", &self.user.token).await;
        let (telecaller, _) = Ws::connect(&self.app, "/ws/telecaller", &self.telecaller.token).await;
        (user, telecaller)
    }

    /// Initiates and accepts an audio call; returns its id.
    pub async fn accepted_call(&self, user: &mut Ws, telecaller: &mut Ws) -> String {
        user.send("call:initiate", json!({ "telecallerId": self.telecaller.id, "callType": "AUDIO" })).await;
        let call = user.expect("call:ringing").await["callId"].as_str().expect("callId").to_owned();
        telecaller.expect("call:incoming").await;
        telecaller.send("call:accept", json!({ "callId": call })).await;
        telecaller.expect("call:accepted").await;
        user.expect("call:accepted").await;
        call
    }

    /// How many times the RoomService's `method` was asked about `call`.
    pub fn room_requests(&self, method: &str, call: &str) -> usize {
        let path = format!("{ROOMS}/{method}");
        self.rooms.requests().iter().filter(|r| r.path == path && r.body.contains(call)).count()
    }

    /// ListRooms answers these rooms from now on (protobuf, as LiveKit answers).
    pub fn open_rooms(&self, names: &[&str]) {
        use prost::Message;
        let rooms = names
            .iter()
            .map(|name| livekit_protocol::Room { name: (*name).to_owned(), ..Default::default() })
            .collect();
        let body = livekit_protocol::ListRoomsResponse { rooms }.encode_to_vec();
        let body = String::from_utf8(body).expect("short ASCII room names encode as ASCII");
        self.rooms.route("POST", &format!("{ROOMS}/ListRooms"), 200, &body);
    }

    /// Waits until DeleteRoom was asked for `call` (it is sent in the background).
    pub async fn room_closed(&self, call: &str) {
        eventually(&format!("DeleteRoom for {call}"), async || {
            (self.room_requests("DeleteRoom", call) > 0).then_some(())
        })
        .await;
    }
}
