//! `chats`: N concurrent paid chat sessions exchanging messages at a set rate; the delivery
//! latency of a message (from its send to the other party's receipt), then every session ended at
//! once and settled (settlements per second); then the books must balance.

use std::time::{Duration, Instant};

use serde_json::json;
use talktime_repository::Db;

use crate::Target;
use crate::client::Peer;
use crate::population::Member;
use crate::report::Report;
use crate::stats::Latencies;

/// How a run of `chats` goes.
#[derive(Debug, Clone, Copy)]
pub struct ChatLoad {
    /// Sessions open at once (one caller and one telecaller each).
    pub sessions: usize,
    /// Messages per second in each session, the parties taking turns (each party may send 60 a
    /// minute: at most 2 per second per session).
    pub messages_per_s: f64,
    /// How long the sessions exchange messages.
    pub seconds: f64,
}

/// One session's pair of sockets, accepted.
struct Session {
    user: Peer,
    host: Peer,
    user_id: String,
    host_id: String,
    id: serde_json::Value,
}

pub async fn chats(target: &Target, db: &Db, callers: &[Member], telecallers: &[Member], load: ChatLoad) -> Report {
    crate::progress(format!(
        "chats: {} sessions, {} msg/s each, {} s",
        load.sessions, load.messages_per_s, load.seconds
    ));
    let mut report = Report::new("chats");
    let mut opening = Vec::new();
    for (caller, host) in callers.iter().zip(telecallers).take(load.sessions) {
        let (target, caller, host) = (target.clone(), caller.clone(), host.clone());
        opening.push(tokio::spawn(async move { open(&target, &caller, &host).await }));
    }
    let mut sessions = Vec::new();
    for task in opening {
        match task.await {
            Ok(Ok(session)) => sessions.push(session),
            Ok(Err(error)) => report.fail(format!("a chat did not start: {error}")),
            Err(error) => report.fail(format!("a chat task failed: {error}")),
        }
    }

    // Exchange: each session on its own task, sending at its pace, timing each delivery.
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(load.seconds);
    let every = Duration::from_secs_f64(1.0 / load.messages_per_s.max(0.01));
    let mut exchanging = Vec::new();
    let count = sessions.len().max(1) as f64;
    for (i, mut session) in sessions.into_iter().enumerate() {
        // Sessions are spread over the interval: a steady rate, not one burst per interval.
        let first = tokio::time::Instant::from(started) + every.mul_f64(i as f64 / count);
        exchanging.push(tokio::spawn(async move {
            let result = exchange(&mut session, first, deadline, every).await;
            (session, result)
        }));
    }
    let (mut latencies, mut sent, mut sessions) = (Latencies::default(), 0usize, Vec::new());
    for task in exchanging {
        match task.await {
            Ok((session, Ok(samples))) => {
                sent += samples.len();
                latencies.extend(samples);
                sessions.push(session);
            }
            Ok((_, Err(error))) => report.fail(format!("a chat's messages failed: {error}")),
            Err(error) => report.fail(format!("a chat task failed: {error}")),
        }
    }
    let exchanged = started.elapsed().as_secs_f64();

    // Every session ended at once: how fast are they settled?
    let (settled, spent, settling) = end_all(sessions, &mut report).await;
    let (p50, p99, max) = latencies.summary();
    report = report
        .figure("sessions", load.sessions as f64)
        .figure("messages", sent as f64)
        .figure("messages_per_s", sent as f64 / exchanged)
        .figure("p50_ms", p50)
        .figure("p99_ms", p99)
        .figure("max_ms", max)
        .figure("settled", settled as f64)
        .figure("settled_per_s", settled as f64 / settling.max(1e-6))
        .figure("coins_spent", spent as f64);
    if settled == 0 {
        report.fail("no chat was settled");
    }
    super::check_books(report, db).await
}

/// Ends every session at once; answers how many were settled, the coins they cost and how long
/// that took in seconds.
async fn end_all(sessions: Vec<Session>, report: &mut Report) -> (usize, i64, f64) {
    let ending = Instant::now();
    let mut ends = Vec::new();
    for mut session in sessions {
        ends.push(tokio::spawn(async move { end(&mut session).await }));
    }
    let (mut settled, mut spent) = (0usize, 0i64);
    for task in ends {
        match task.await {
            Ok(Ok(coins)) => {
                settled += 1;
                spent += coins;
            }
            Ok(Err(error)) => report.fail(format!("a chat did not end: {error}")),
            Err(error) => report.fail(format!("a chat task failed: {error}")),
        }
    }
    (settled, spent, ending.elapsed().as_secs_f64())
}

/// Connects both parties and opens a chat between them.
async fn open(target: &Target, caller: &Member, host: &Member) -> Result<Session, crate::Error> {
    let (mut host_peer, _) = Peer::connect(target, "/ws/telecaller", &host.token).await?;
    let (mut user, _) = Peer::connect(target, "/ws/user", &caller.token).await?;
    user.send("chat:request", json!({ "telecallerId": host.id.to_string() })).await?;
    let id = host_peer.expect("chat:incoming").await?.data["sessionId"].clone();
    host_peer.send("chat:accept", json!({ "sessionId": id })).await?;
    host_peer.expect("chat:accepted").await?;
    user.expect("chat:accepted").await?;
    Ok(Session { user, host: host_peer, user_id: caller.id.to_string(), host_id: host.id.to_string(), id })
}

/// The parties take turns sending one message every `every` from `first` until `deadline`;
/// answers the delivery latency of each.
async fn exchange(
    session: &mut Session,
    first: tokio::time::Instant,
    deadline: Instant,
    every: Duration,
) -> Result<Latencies, crate::Error> {
    let mut samples = Latencies::default();
    let mut tick = tokio::time::interval_at(first, every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n = 0u64;
    while Instant::now() < deadline {
        tick.tick().await;
        n += 1;
        let (from, to, from_id) = if n % 2 == 1 {
            (&mut session.user, &mut session.host, &session.user_id)
        } else {
            (&mut session.host, &mut session.user, &session.host_id)
        };
        let text = format!("message {n} of the load run");
        let sent = Instant::now();
        from.send("chat:message", json!({ "sessionId": session.id, "clientId": format!("m{n}"), "text": text }))
            .await?;
        loop {
            let frame = to.expect("chat:message").await?;
            if frame.data["from"].as_str() == Some(from_id.as_str()) {
                samples.push(frame.at.saturating_duration_since(sent));
                break;
            }
        }
    }
    Ok(samples)
}

/// The user ends the chat; answers the coins it cost once both parties heard it ended.
async fn end(session: &mut Session) -> Result<i64, crate::Error> {
    session.user.send("chat:end", json!({ "sessionId": session.id })).await?;
    let ended = session.user.expect("chat:ended").await?;
    session.host.expect("chat:ended").await?;
    Ok(ended.data["coinsSpent"].as_i64().unwrap_or(0))
}
