//! `calls`: whole billed calls (initiate, accept, hold, end) as fast as P telecallers can take
//! them; then the books must balance.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use talktime_repository::Db;
use tokio::sync::{Mutex, mpsc};

use crate::Target;
use crate::client::Peer;
use crate::population::Member;
use crate::report::Report;

/// Calls per caller per run (`call:initiate` allows 5 a minute).
const USES: u32 = 4;

pub async fn calls(
    target: &Target,
    db: &Db,
    callers: &[Member],
    telecallers: &[Member],
    seconds: f64,
    hold: Duration,
) -> Report {
    crate::progress(format!("calls: {} telecallers, {} callers, {seconds} s", telecallers.len(), callers.len()));
    let mut report = Report::new("calls");
    let (free_callers, queue) = mpsc::unbounded_channel::<(Peer, u32)>();
    for caller in callers {
        match Peer::connect(target, "/ws/user", &caller.token).await {
            Ok((peer, _)) => drop(free_callers.send((peer, 0))),
            Err(error) => report.fail(format!("a caller could not connect: {error}")),
        }
    }
    let queue = Arc::new(Mutex::new(queue));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut loops = Vec::new();
    for host in telecallers {
        let (target, host, queue, free_callers) = (target.clone(), host.clone(), queue.clone(), free_callers.clone());
        loops.push(tokio::spawn(async move {
            let (mut settled, mut coins, mut errors) = (0u64, 0i64, Vec::new());
            let (mut peer, _) = match Peer::connect(&target, "/ws/telecaller", &host.token).await {
                Ok(peer) => peer,
                Err(error) => return (0, 0, vec![error.to_string()]),
            };
            while Instant::now() < deadline {
                let Some((mut caller, uses)) = queue.lock().await.recv().await else { break };
                match one_call(&mut caller, &mut peer, &host.id.to_string(), hold).await {
                    Ok(spent) => {
                        settled += 1;
                        coins += spent;
                    }
                    Err(error) => errors.push(error.to_string()),
                }
                if uses + 1 < USES {
                    let _ = free_callers.send((caller, uses + 1));
                }
            }
            (settled, coins, errors)
        }));
    }
    let (mut settled, mut spent, mut errors) = (0, 0, Vec::new());
    for task in loops {
        if let Ok((n, coins, mut failed)) = task.await {
            settled += n;
            spent += coins;
            errors.append(&mut failed);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    report = report
        .figure("telecallers", telecallers.len() as f64)
        .figure("settled", settled as f64)
        .figure("per_s", settled as f64 / elapsed)
        .figure("coins_spent", spent as f64);
    if !errors.is_empty() {
        report.fail(format!("{} calls failed, first: {}", errors.len(), errors[0]));
    }
    if settled == 0 {
        report.fail("no call was settled");
    }
    super::check_books(report, db).await
}

/// One billed call: answers the coins the user paid.
async fn one_call(caller: &mut Peer, host: &mut Peer, host_id: &str, hold: Duration) -> Result<i64, crate::Error> {
    caller.drain();
    host.drain();
    caller.send("call:initiate", json!({ "telecallerId": host_id, "callType": "AUDIO" })).await?;
    let call = host.expect("call:incoming").await?.data["callId"].clone();
    host.send("call:accept", json!({ "callId": call })).await?;
    host.expect("call:accepted").await?;
    caller.expect("call:accepted").await?;
    tokio::time::sleep(hold).await;
    caller.send("call:end", json!({ "callId": call })).await?;
    let ended = caller.expect("call:ended").await?;
    host.expect("call:ended").await?;
    let spent = ended.data["coinsSpent"].as_i64().unwrap_or(0);
    if spent <= 0 {
        return Err(format!("a call was not billed: {}", ended.data).into());
    }
    Ok(spent)
}
