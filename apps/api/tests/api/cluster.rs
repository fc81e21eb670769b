//! Cluster mode: two `talktime serve` processes on one Postgres database and one real Redis.
//! Presence, calls, counts and forced disconnects cross nodes; a killed node's telecaller goes
//! OFFLINE and her call ends at its grace on the surviving node; a Redis restart is ridden out.
//!
//! Long on purpose: one two-node stage (`cluster`) shared by every scene that crosses nodes.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::ws::Ws;
use crate::support::{FakeServer, Session, TestApp, eventually, fresh_phone, spawn_node};
use serde_json::{Value, json};
use talktime_domain::ids::CallId;
use talktime_repository::testing::{self, TestDatabase};

const DELETE_ROOM: &str = "/twirp/livekit.RoomService/DeleteRoom";
const CREATE_ROOM: &str = "/twirp/livekit.RoomService/CreateRoom";
/// A node's entries outlive its last heartbeat by this much (`NODE_EXPIRY_MS` below).
const EXPIRY: Duration = Duration::from_millis(1_000);

fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Nodes `a` and `b` on one fresh database, with a user (`coins` in her wallet) and an approved
/// telecaller. Timers are short: heartbeats every 100 ms, entries expire after a second, the
/// reconnect grace is one second.
struct Cluster {
    a: TestApp,
    b: TestApp,
    rooms: FakeServer,
    user: Session,
    telecaller: Session,
}

async fn cluster(redis: &str, coins: i64) -> Cluster {
    cluster_with(redis, coins, &[]).await
}

async fn cluster_with(redis: &str, coins: i64, extra: &[(&str, &str)]) -> Cluster {
    let rooms = FakeServer::start().await;
    rooms.route("POST", DELETE_ROOM, 200, "");
    rooms.route("POST", CREATE_ROOM, 200, "");
    let expiry = EXPIRY.as_millis().to_string();
    let mut vars = vec![
        ("REDIS_URL", redis),
        ("LIVEKIT_API_URL", rooms.base.as_str()),
        ("SWEEP_INTERVAL_MS", "100"),
        ("NODE_HEARTBEAT_MS", "100"),
        ("NODE_EXPIRY_MS", expiry.as_str()),
        ("RECONNECT_GRACE_SECS", "1"),
    ];
    for (key, value) in extra {
        vars.retain(|(k, _)| k != key);
        vars.push((key, value));
    }
    let database = TestDatabase::new().await.unwrap();
    let a = spawn_node(database, &vars).await;
    let b = spawn_node(a.database(), &vars).await;
    let user = a.user().await;
    let telecaller = b.telecaller(true).await;
    if coins > 0 {
        a.grant_coins(&user.id, coins).await;
    }
    Cluster { a, b, rooms, user, telecaller }
}

impl Cluster {
    /// The user on node A, the telecaller on node B; the user has seen her come ONLINE.
    async fn sockets(&self) -> (Ws, Ws) {
        let (mut user, _) = Ws::connect(&self.a, "/ws/user", &self.user.token).await;
        user.watch(&[&self.telecaller.id]).await;
        let (telecaller, _) = Ws::connect(&self.b, "/ws/telecaller", &self.telecaller.token).await;
        let online = user.presence_of(&self.telecaller.id).await;
        assert_eq!(online["presence"], json!("ONLINE"));
        (user, telecaller)
    }

    /// Initiated on A, accepted on B; returns the call id and the user's `call:accepted`.
    async fn accepted_call(&self, user: &mut Ws, telecaller: &mut Ws) -> (String, Value) {
        user.send("call:initiate", json!({ "telecallerId": self.telecaller.id, "callType": "AUDIO" })).await;
        let call = user.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
        assert_eq!(telecaller.expect("call:incoming").await["callId"], json!(call));
        telecaller.send("call:accept", json!({ "callId": call })).await;
        telecaller.expect("call:accepted").await;
        let accepted = user.expect("call:accepted").await;
        assert_eq!(accepted["callId"], json!(call));
        (call, accepted)
    }

    async fn counts(&self, node: &TestApp) -> Value {
        let admin = node.admin_token().await;
        let (mut ws, _) = Ws::connect(node, "/ws/admin", &admin).await;
        ws.send("presence:request-counts", json!({})).await;
        ws.expect("presence:counts").await
    }

    async fn listed_presence(&self, node: &TestApp) -> Option<String> {
        let reply = node.get_auth("/users/telecallers", &self.user.token).await;
        reply.assert(200);
        reply.body["data"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["_id"] == json!(self.telecaller.id))
            .map(|t| t["presence"].as_str().unwrap().to_owned())
    }
}

#[tokio::test]
async fn presence_calls_billing_and_counts_work_across_nodes() {
    let cluster = cluster(&redis_url(), 1_130).await;
    let (mut user, mut telecaller) = cluster.sockets().await;
    assert_eq!(cluster.listed_presence(&cluster.a).await.as_deref(), Some("ONLINE"));
    // Her second app, on node A, is the same account.
    let (mut second_app, _) = Ws::connect(&cluster.a, "/ws/telecaller", &cluster.telecaller.token).await;
    for node in [&cluster.a, &cluster.b] {
        let counts = cluster.counts(node).await;
        assert_eq!((counts["onlineUsers"].clone(), counts["onlineTelecallers"].clone()), (json!(1), json!(1)));
    }

    // A call initiated on A rings her on both nodes; accepted on B; ended on A.
    let (call, _) = cluster.accepted_call(&mut user, &mut telecaller).await;
    assert_eq!(second_app.expect("call:answered-elsewhere").await["callId"], json!(call));
    assert_eq!(user.presence_of(&cluster.telecaller.id).await["presence"], json!("ON_CALL"));
    testing::age_call(&cluster.a.db, call.parse::<CallId>().unwrap(), 10).await.unwrap();
    user.send("call:end", json!({ "callId": call })).await;
    let ended = user.expect("call:ended").await;
    let talked = ended["durationInSeconds"].as_i64().unwrap();
    assert!(talked >= 10, "{ended}");
    assert_eq!((ended["reason"].clone(), ended["coinsSpent"].clone()), (json!("USER_ENDED"), json!(talked * 2)));
    let earned = telecaller.expect("call:ended").await;
    assert_eq!((earned["callId"].clone(), earned["coinsEarned"].clone()), (json!(call), json!(talked)));
    assert_eq!(user.presence_of(&cluster.telecaller.id).await["presence"], json!("ONLINE"));

    // The next call runs out of money (2 coins/s): one warning, one ending, one settlement.
    let left = 1_130 - talked * 2;
    let (call, accepted) = cluster.accepted_call(&mut user, &mut telecaller).await;
    assert_eq!(accepted["maxDurationSeconds"], json!(left / 2));
    testing::age_call(&cluster.a.db, call.parse::<CallId>().unwrap(), left / 2 - 2).await.unwrap();
    let mut warnings = 0;
    let ended = loop {
        let frame = user.next().await;
        match frame["event"].as_str() {
            Some("call:balance-low") => warnings += 1,
            Some("call:ended") => break frame["data"].clone(),
            _ => {}
        }
    };
    assert_eq!(warnings, 1);
    assert_eq!(ended["reason"], json!("BALANCE_EXHAUSTED"));
    assert_eq!((ended["coinsSpent"].clone(), ended["balance"].clone()), (json!(left), json!(0)));
    assert_eq!(telecaller.expect("call:ended").await["coinsEarned"], json!(left / 2));
    assert_eq!(cluster.a.balance(&cluster.user.id).await, 0);
    assert_eq!(cluster.a.balance(&cluster.telecaller.id).await, talked + left / 2);
    cluster.a.assert_books_balance().await;
}

#[tokio::test]
async fn watchers_and_the_online_count_follow_telecallers_on_either_node() {
    let cluster = cluster(&redis_url(), 0).await;
    let (mut watcher, _) = Ws::connect(&cluster.a, "/ws/user", &cluster.user.token).await;
    let second = cluster.a.telecaller(true).await;
    watcher.watch(&[&cluster.telecaller.id, &second.id]).await;
    let bystander = cluster.b.user().await;
    let (mut idle, _) = Ws::connect(&cluster.b, "/ws/user", &bystander.token).await;

    let (_on_b, _) = Ws::connect(&cluster.b, "/ws/telecaller", &cluster.telecaller.token).await;
    // Node a reads the count from Redis at each flush, and her change comes over the bus: a flush
    // between the two may tell the watcher the new count first, with no change in it.
    let update = loop {
        let update = watcher.expect("presence:update").await;
        if update["changes"] != json!([]) {
            break update;
        }
        assert_eq!(update["onlineTelecallers"], json!(1), "{update}");
    };
    assert_eq!(update["changes"][0]["telecallerId"], json!(cluster.telecaller.id), "{update}");
    assert_eq!(update["changes"].as_array().unwrap().len(), 1, "{update}");
    assert_eq!(update["onlineTelecallers"], json!(1));
    assert_eq!(idle.expect("presence:update").await, json!({ "changes": [], "onlineTelecallers": 1 }));

    let (_on_a, _) = Ws::connect(&cluster.a, "/ws/telecaller", &second.token).await;
    assert_eq!(watcher.presence_of(&second.id).await["presence"], json!("ONLINE"));
    loop {
        let update = idle.expect("presence:update").await;
        assert_eq!(update["changes"], json!([]), "the bystander watches nobody");
        if update["onlineTelecallers"] == json!(2) {
            break;
        }
    }
    let (_, ready) = Ws::connect(&cluster.b, "/ws/user", &bystander.token).await;
    assert_eq!(ready["onlineTelecallers"], json!(2));
}

#[tokio::test]
async fn a_killed_node_takes_her_presence_with_it_and_her_call_ends_at_its_grace_on_the_other() {
    let mut cluster = cluster(&redis_url(), 1_000).await;
    let (mut user, mut telecaller) = cluster.sockets().await;
    let (call, _) = cluster.accepted_call(&mut user, &mut telecaller).await;
    assert_eq!(user.presence_of(&cluster.telecaller.id).await["presence"], json!("ON_CALL"));

    cluster.b.kill();
    let killed = Instant::now();
    let offline = user.presence_of(&cluster.telecaller.id).await;
    assert_eq!(offline["presence"], json!("OFFLINE"));
    let noticed = killed.elapsed();
    assert!(noticed < EXPIRY + Duration::from_millis(1_000), "OFFLINE after {noticed:?}");
    assert_eq!(cluster.listed_presence(&cluster.a).await, None);

    let ended = user.expect("call:ended").await;
    assert_eq!((ended["callId"].clone(), ended["reason"].clone()), (json!(call), json!("TELECALLER_DISCONNECTED")));
    let seconds = ended["durationInSeconds"].as_i64().unwrap();
    assert_eq!(ended["coinsSpent"], json!(seconds * 2));
    assert_eq!(cluster.a.balance(&cluster.user.id).await, 1_000 - seconds * 2);
    assert_eq!(cluster.a.balance(&cluster.telecaller.id).await, seconds);
    // Ended once: the user hears nothing more about it.
    user.send("ping", json!({})).await;
    loop {
        let frame = user.next().await;
        assert_ne!(frame["event"], json!("call:ended"), "a second ending: {frame}");
        if frame["event"] == json!("pong") {
            break;
        }
    }
    cluster.a.assert_books_balance().await;
    eventually("the room closed", async || {
        cluster.rooms.requests().iter().any(|r| r.path == DELETE_ROOM && r.body.contains(&call)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_node_shut_down_gracefully_hands_its_call_over_to_the_other() {
    // Expiry is long here: what the other node sees comes from the leaving node itself.
    let mut cluster =
        cluster_with(&redis_url(), 1_000, &[("NODE_EXPIRY_MS", "60000"), ("RECONNECT_GRACE_SECS", "20")]).await;
    let (mut user, mut telecaller) = cluster.sockets().await;
    let (call, _) = cluster.accepted_call(&mut user, &mut telecaller).await;
    assert_eq!(user.presence_of(&cluster.telecaller.id).await["presence"], json!("ON_CALL"));

    assert_eq!(cluster.b.terminate().await, Some(0));
    assert_eq!(telecaller.closed().await, Some(1012));
    // Node B took her connection out as it left, not at expiry: A counts her gone at once.
    let counts = cluster.counts(&cluster.a).await;
    assert_eq!((counts["onlineUsers"].clone(), counts["onlineTelecallers"].clone()), (json!(1), json!(0)));
    // Her call waits for her (the grace), as after any dropped connection.
    let grace = talktime_repository::calls::find(cluster.a.db.pool(), call.parse().unwrap()).await.unwrap().unwrap();
    assert!(grace.telecaller_grace_deadline.is_some(), "{grace:?}");

    // Her app reconnects, through the load balancer, to node A: the call goes on.
    let (mut telecaller, ready) = Ws::connect(&cluster.a, "/ws/telecaller", &cluster.telecaller.token).await;
    assert_eq!(ready["activeCall"]["callId"], json!(call));
    assert_eq!(ready["activeCall"]["status"], json!("ACCEPTED"));
    testing::age_call(&cluster.a.db, call.parse::<CallId>().unwrap(), 30).await.unwrap();
    telecaller.send("call:end", json!({ "callId": call })).await;
    let ended = user.expect("call:ended").await;
    assert_eq!(ended["reason"], json!("TELECALLER_ENDED"));
    let seconds = ended["durationInSeconds"].as_i64().unwrap();
    assert!(seconds >= 30, "{ended}");
    assert_eq!(cluster.a.balance(&cluster.telecaller.id).await, seconds);
    cluster.a.assert_books_balance().await;
}

#[tokio::test]
async fn blocking_through_one_node_closes_sockets_on_the_other_within_a_second() {
    let cluster = cluster(&redis_url(), 0).await;
    let (mut on_b, _) = Ws::connect(&cluster.b, "/ws/user", &cluster.user.token).await;
    let (mut also_on_b, _) = Ws::connect(&cluster.b, "/ws/user", &cluster.user.token).await;
    let admin = cluster.a.admin_token().await;
    let blocked_at = Instant::now();
    cluster.a.post_auth(&format!("/admin/users/{}/block", cluster.user.id), &admin, &json!({})).await.assert(200);
    assert_eq!(on_b.closed().await, Some(4003));
    assert_eq!(also_on_b.closed().await, Some(4003));
    let took = blocked_at.elapsed();
    assert!(took < Duration::from_secs(1), "closed after {took:?}");
}

/// A Redis server of this test's own, so restarting it disturbs no other test.
struct PrivateRedis {
    port: u16,
    server: Option<Child>,
}

impl PrivateRedis {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Self { port, server: None };
        redis.restart().await;
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn restart(&mut self) {
        let server = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/dev-redis.sh installs it)");
        self.server = Some(server);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("redis-server did not start");
    }

    fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.kill().unwrap();
            server.wait().unwrap();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn nodes_ride_out_a_redis_restart() {
    let mut redis = PrivateRedis::start().await;
    let cluster = cluster(&redis.url(), 1_000).await;
    let (mut user, mut telecaller) = cluster.sockets().await;

    redis.stop();
    // Logins and call limits answer from each node's memory meanwhile.
    let phone = fresh_phone();
    cluster.a.login(&phone).await;
    for _ in 0..5 {
        user.send("call:initiate", json!({ "telecallerId": cluster.telecaller.id, "callType": "AUDIO" })).await;
        let answer = user.next().await;
        assert_eq!(answer["event"], json!("call:error"), "{answer}");
        assert_ne!(answer["data"]["code"], json!("rate_limited"), "{answer}");
    }
    user.send("call:initiate", json!({ "telecallerId": cluster.telecaller.id, "callType": "AUDIO" })).await;
    assert_eq!(user.expect("error").await["code"], json!("rate_limited"));
    assert_eq!(cluster.a.get("/health/ready").await.status, 503);

    redis.restart().await;
    cluster.a.wait_ready().await;
    cluster.b.wait_ready().await;
    // Node B writes its connections back; she is listed on A again.
    eventually("her back online on A", async || {
        (cluster.listed_presence(&cluster.a).await.as_deref() == Some("ONLINE")).then_some(())
    })
    .await;
    // And events cross again: A's call rings her on B.
    let other = cluster.a.user().await;
    cluster.a.grant_coins(&other.id, 1_000).await;
    let (mut caller, _) = Ws::connect(&cluster.a, "/ws/user", &other.token).await;
    caller.send("call:initiate", json!({ "telecallerId": cluster.telecaller.id, "callType": "AUDIO" })).await;
    let call = caller.expect("call:ringing").await["callId"].clone();
    assert_eq!(telecaller.expect("call:incoming").await["callId"], call);
}

#[tokio::test]
async fn a_logout_or_block_on_one_node_refuses_the_very_next_request_on_the_other() {
    let _cpu = crate::support::exclusive().await;
    let cluster = cluster(&redis_url(), 0).await;
    let admin = cluster.a.admin_token().await;
    for round in 0..5 {
        // Both nodes have the account cached from a request of their own.
        let user = cluster.a.user().await;
        cluster.a.get_auth("/users/me", &user.token).await.assert(200);
        cluster.b.get_auth("/users/me", &user.token).await.assert(200);
        if round % 2 == 0 {
            cluster.a.post_auth("/auth/logout", &user.token, &json!({})).await.assert(200);
            cluster.b.get_auth("/users/me", &user.token).await.assert_error(401, "token_revoked");
        } else {
            cluster.a.post_auth(&format!("/admin/users/{}/block", user.id), &admin, &json!({})).await.assert(200);
            let next = cluster.b.get_auth("/users/telecallers", &user.token).await;
            assert!(next.status == 401 || next.status == 403, "{next:?}");
        }
    }
}

#[tokio::test]
async fn paging_across_nodes_never_repeats_or_skips_who_stayed_online() {
    let cluster = cluster(&redis_url(), 0).await;
    let mut hosts = vec![(cluster.telecaller.clone(), None)];
    for _ in 0..11 {
        hosts.push((cluster.b.telecaller(true).await, None));
    }
    for (n, (host, socket)) in hosts.iter_mut().enumerate() {
        let node = if n % 2 == 0 { &cluster.a } else { &cluster.b };
        *socket = Some(Ws::connect(node, "/ws/telecaller", &host.token).await.0);
    }
    let page = |node: &TestApp, n: u32| {
        let (node, token) = (node.url(&format!("/users/telecallers?page={n}&limit=4")), cluster.user.token.clone());
        let client = cluster.a.client.clone();
        async move {
            let reply = client.get(node).bearer_auth(token).send().await.unwrap();
            let body: Value = reply.json().await.unwrap();
            let ids: Vec<String> = body["data"]["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["_id"].as_str().unwrap().to_owned())
                .collect();
            (ids, body["data"]["hasMore"].as_bool().unwrap())
        }
    };
    let (first, more) = page(&cluster.a, 1).await;
    assert_eq!(first.len(), 4);
    assert!(more);
    // Between pages, one telecaller from page 1 and one not yet seen leave.
    let gone_seen = hosts.iter().position(|(h, _)| h.id == first[0]).unwrap();
    let gone_unseen = hosts.iter().position(|(h, _)| !first.contains(&h.id)).unwrap();
    for index in [gone_seen, gone_unseen] {
        hosts[index].1.take().unwrap().close().await;
    }
    let (second, _) = page(&cluster.b, 2).await;
    let (third, more) = page(&cluster.a, 3).await;
    assert!(!more);

    let mut seen: Vec<&String> = first.iter().chain(&second).chain(&third).collect();
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total, "someone was listed twice: {first:?} {second:?} {third:?}");
    for (n, (host, socket)) in hosts.iter().enumerate() {
        if socket.is_some() {
            assert!(seen.contains(&&host.id), "{n} stayed online but was skipped");
        }
    }
    let unseen_gone = &hosts[gone_unseen].0.id;
    assert!(!second.contains(unseen_gone) && !third.contains(unseen_gone), "listed after going offline");
}

#[tokio::test]
async fn with_the_bus_down_a_blocked_accounts_old_socket_cannot_call_and_is_closed_by_its_node() {
    let mut redis = PrivateRedis::start().await;
    let cluster = cluster_with(&redis.url(), 1_000, &[("SESSION_CHECK_INTERVAL_MS", "500")]).await;
    let (mut user, _telecaller) = cluster.sockets().await;
    let (mut on_b, _) = Ws::connect(&cluster.b, "/ws/user", &cluster.user.token).await;
    redis.stop();
    let admin = cluster.a.admin_token().await;
    cluster.a.post_auth(&format!("/admin/users/{}/block", cluster.user.id), &admin, &json!({})).await.assert(200);
    // Node A closes its own socket at once; node B never hears the bus.
    assert_eq!(user.closed().await, Some(4003));
    // B's socket, still open for now, cannot start a call: B checks the account as it is now.
    let blocked_at = Instant::now();
    let mut refused = false;
    while !refused {
        on_b.send("call:initiate", json!({ "telecallerId": cluster.telecaller.id, "callType": "AUDIO" })).await;
        match on_b.next_or_close().await {
            Some(frame) => {
                assert_ne!(frame["event"], json!("call:ringing"), "a blocked account rang someone: {frame}");
                // A block revokes the account's tokens too.
                refused = frame["data"]["code"] == json!("token_revoked");
            }
            None => break,
        }
    }
    assert!(refused, "the socket closed before it could be shown refusing");
    // And B closes it itself within its session check interval.
    assert_eq!(on_b.closed().await, Some(4003));
    assert!(blocked_at.elapsed() < Duration::from_secs(5), "closed after {:?}", blocked_at.elapsed());
}

#[tokio::test]
async fn a_chat_crosses_nodes_and_a_node_killed_mid_chat_ends_and_settles_it_once() {
    let mut cluster = cluster(&redis_url(), 1_000).await;
    let (mut user, mut telecaller) = cluster.sockets().await;
    // The user's second app is on node B, beside the telecaller.
    let (mut second_app, _) = Ws::connect(&cluster.b, "/ws/user", &cluster.user.token).await;

    user.send("chat:request", json!({ "telecallerId": cluster.telecaller.id })).await;
    let chat = user.expect("chat:requested").await["sessionId"].as_str().unwrap().to_owned();
    assert_eq!(telecaller.expect("chat:incoming").await["sessionId"], json!(chat));
    telecaller.send("chat:accept", json!({ "sessionId": chat })).await;
    telecaller.expect("chat:accepted").await;
    assert_eq!(user.expect("chat:accepted").await["sessionId"], json!(chat));
    assert_eq!(user.presence_of(&cluster.telecaller.id).await["presence"], json!("ON_CALL"));

    // Sent on B, delivered on A (and on B to the user's other app); answered on A, seen on B.
    telecaller.send("chat:message", json!({ "sessionId": chat, "clientId": "t1", "text": "namaste" })).await;
    assert_eq!(telecaller.expect("chat:message").await["seq"], json!(1));
    let got = user.expect("chat:message").await;
    assert_eq!((got["seq"].clone(), got["text"].clone()), (json!(1), json!("namaste")));
    assert_eq!(second_app.expect("chat:message").await["seq"], json!(1));
    user.send("chat:message", json!({ "sessionId": chat, "clientId": "u1", "text": "hello" })).await;
    assert_eq!(user.expect("chat:message").await["seq"], json!(2));
    assert_eq!(telecaller.expect("chat:message").await["text"], json!("hello"));
    assert_eq!(second_app.expect("chat:message").await["seq"], json!(2));
    user.send("chat:typing", json!({ "sessionId": chat })).await;
    assert_eq!(telecaller.expect("chat:typing").await["from"], json!(cluster.user.id));

    // Node B dies with her socket: node A ends the chat at her grace and settles it once.
    testing::age_call(&cluster.a.db, chat.parse::<CallId>().unwrap(), 10).await.unwrap();
    cluster.b.kill();
    let ended = user.expect("chat:ended").await;
    assert_eq!((ended["sessionId"].clone(), ended["reason"].clone()), (json!(chat), json!("TELECALLER_DISCONNECTED")));
    let seconds = ended["durationInSeconds"].as_i64().unwrap();
    assert!(seconds >= 10, "{ended}");
    // The platform's chat price (1 coin/s), half to her.
    assert_eq!(ended["coinsSpent"], json!(seconds));
    assert_eq!(cluster.a.balance(&cluster.user.id).await, 1_000 - seconds);
    assert_eq!(cluster.a.balance(&cluster.telecaller.id).await, seconds / 2);
    user.send("ping", json!({})).await;
    loop {
        let frame = user.next().await;
        assert_ne!(frame["event"], json!("chat:ended"), "a second ending: {frame}");
        if frame["event"] == json!("pong") {
            break;
        }
    }
    let journals = testing::journals_of(&cluster.a.db, "CHAT", Some(chat.parse().unwrap())).await.unwrap();
    assert_eq!(journals, 1);
    assert!(!cluster.rooms.requests().iter().any(|r| r.body.contains(&chat)), "a chat has no media room");
    cluster.a.assert_books_balance().await;
}
