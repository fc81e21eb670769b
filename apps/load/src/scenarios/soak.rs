//! `soak`: a day of traffic and faults in half an hour (`scripts/soak.sh`, docs/benchmarks.md).
//! Calls, chats, presence watchers and list reads at a moderate steady rate against two nodes,
//! while the script restarts Redis and PostgreSQL, kills a node and stalls a client. Every call
//! attempt is counted by its outcome; afterwards no call may be left unended or settled twice,
//! the books must balance, and each node's memory and descriptors must stay flat.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use talktime_repository::{Db, calls};

use crate::Target;
use crate::client::{self, HttpConn, Peer};
use crate::population::Member;
use crate::report::Report;

/// How a soak run goes.
#[derive(Debug, Clone)]
pub struct SoakLoad {
    pub seconds: f64,
    /// RSS and descriptors are sampled at the end of each window.
    pub window: Duration,
    pub calls_per_s: f64,
    /// How long a call is held before the user ends it.
    pub hold: Duration,
    /// Chats kept going at once (each one runs a minute, then another starts).
    pub chats: usize,
    /// Presence watchers kept connected (reconnecting when a node drops them).
    pub watchers: usize,
    pub list_per_s: f64,
    /// After the traffic: how long the nodes get to end what the faults left open (a
    /// disconnected party's grace plus the sweeper) before the check.
    pub drain: Duration,
    /// The second node (the first is the run's target).
    pub also: Option<Node>,
}

impl SoakLoad {
    /// Half an hour at a moderate rate (`scripts/soak.sh`).
    pub fn full() -> Self {
        Self {
            seconds: 1_800.0,
            window: Duration::from_secs(300),
            calls_per_s: 5.0,
            hold: Duration::from_secs(3),
            chats: 20,
            watchers: 500,
            list_per_s: 20.0,
            drain: Duration::from_secs(90),
            also: None,
        }
    }

    /// Callers and telecallers of each half (calls, chats): each is used every 20 s at most.
    pub fn parties(&self) -> usize {
        ((self.calls_per_s * 20.0).ceil() as usize + 1).max(self.chats * 2)
    }
}

/// One node: where it listens, and where its process id is (a killed node comes back with a new
/// one, which the fault script writes to its pid file).
#[derive(Debug, Clone)]
pub struct Node {
    pub target: Target,
    pub pid_file: Option<PathBuf>,
}

impl Node {
    fn pid(&self) -> Option<u32> {
        match &self.pid_file {
            Some(path) => std::fs::read_to_string(path).ok()?.trim().parse().ok(),
            None => self.target.pid,
        }
    }
}

/// Outcomes by name (`billed`, `refused:<code>`, `failed:<what>`…).
#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, u64>>);

impl Tally {
    fn add(&self, outcome: impl Into<String>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(outcome.into()).or_default() += 1;
    }

    fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A call's or chat's outcome: billed, refused with a code, or failed at a step.
enum Outcome {
    Billed,
    Refused(String),
    Failed(String),
}

fn failed(what: &str) -> impl FnOnce(crate::Error) -> Outcome + '_ {
    move |_| Outcome::Failed(what.to_owned())
}

fn refused(frame: client::Frame) -> Outcome {
    Outcome::Refused(frame.data["code"].as_str().unwrap_or("unknown").to_owned())
}

pub async fn soak(
    nodes: &[Node],
    db: &Db,
    callers: &[Member],
    telecallers: &[Member],
    users: &[Member],
    load: &SoakLoad,
) -> Report {
    crate::progress(format!(
        "soak: {} s against {} nodes: {} calls/s, {} chats, {} watchers, {} list reads/s",
        load.seconds,
        nodes.len(),
        load.calls_per_s,
        load.chats,
        load.watchers,
        load.list_per_s
    ));
    let mut report = Report::new("soak");
    let since = chrono::Utc::now();
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(load.seconds);
    let calls = Arc::new(Tally::default());
    let chats = Arc::new(Tally::default());
    let reads = Arc::new(Tally::default());
    let reconnects = Arc::new(AtomicUsize::new(0));

    // Callers and hosts of calls and chats come from two disjoint halves, each in turn.
    let (call_callers, chat_callers) = callers.split_at(callers.len() / 2);
    let (call_hosts, chat_hosts) = telecallers.split_at(telecallers.len() / 2);
    let background = background(nodes, chat_callers, chat_hosts, users, load, deadline, &chats, &reads, &reconnects);
    let windows = tokio::spawn(sample_windows(nodes.to_vec(), load.window, deadline, calls.clone()));

    // Calls at a steady rate; callers in turn (a caller's next turn comes after `callers / rate`
    // seconds: well inside `call:initiate`'s 5 a minute), each to the next free telecaller.
    let hosts = Hosts::online(nodes, call_hosts).await;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / load.calls_per_s.max(0.01)));
    let mut n = 0usize;
    let mut attempts = Vec::new();
    while Instant::now() < deadline {
        tick.tick().await;
        let caller = call_callers[n % call_callers.len()].clone();
        let (nodes, calls, hold, first, hosts) = (nodes.to_vec(), calls.clone(), load.hold, n, hosts.clone());
        n += 1;
        attempts.push(tokio::spawn(async move {
            let Some(mut host) = hosts.take(&nodes).await else { return };
            let outcome = match try_call(&nodes, first, &caller, &mut host, hold).await {
                Ok(outcome) | Err(outcome) => outcome,
            };
            calls.add(outcome.name());
            let gone = outcome.log_if_unbilled("call");
            hosts.give_back(&nodes, host, gone).await;
        }));
        attempts.retain(|task| !task.is_finished());
    }
    for task in attempts.into_iter().chain(background) {
        let _ = task.await;
    }
    let samples = windows.await.unwrap_or_default();
    crate::progress(format!("soak: traffic stopped; {} s for the nodes to end what is open", load.drain.as_secs()));
    tokio::time::sleep(load.drain).await;

    let calls = calls.snapshot();
    let billed = calls.get("billed").copied().unwrap_or(0);
    report = report
        .figure("calls_attempted", calls.values().sum::<u64>() as f64)
        .figure("calls_billed", billed as f64)
        .figure("chats_billed", chats.snapshot().get("billed").copied().unwrap_or(0) as f64)
        .figure("watcher_reconnects", reconnects.load(Ordering::Relaxed) as f64);
    print_tally("calls", &calls);
    print_tally("chats", &chats.snapshot());
    print_tally("list reads", &reads.snapshot());
    report = check(report, db, since).await;
    flat(report, &samples)
}

/// The traffic beside the calls: presence watchers, chat slots and the list reader.
#[allow(clippy::too_many_arguments)]
fn background(
    nodes: &[Node],
    chat_callers: &[Member],
    chat_hosts: &[Member],
    users: &[Member],
    load: &SoakLoad,
    deadline: Instant,
    chats: &Arc<Tally>,
    reads: &Arc<Tally>,
    reconnects: &Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut background = Vec::new();
    for (i, watcher) in users.iter().take(load.watchers).enumerate() {
        let (nodes, watcher, reconnects) = (nodes.to_vec(), watcher.clone(), reconnects.clone());
        background.push(tokio::spawn(async move { watch(&nodes, i, &watcher, deadline, &reconnects).await }));
    }
    for i in 0..load.chats {
        let (nodes, chats) = (nodes.to_vec(), chats.clone());
        let (callers, Some(host)) = (stride(chat_callers, i, load.chats), chat_hosts.get(i).cloned()) else { break };
        background.push(tokio::spawn(async move { chat_loop(&nodes, &callers, &host, deadline, &chats).await }));
    }
    if let Some(reader) = users.get(load.watchers) {
        let (nodes, reader, reads) = (nodes.to_vec(), reader.clone(), reads.clone());
        let every = Duration::from_secs_f64(1.0 / load.list_per_s.max(0.01));
        background.push(tokio::spawn(async move { read_loop(&nodes, &reader, every, deadline, &reads).await }));
    }
    background
}

/// Every `stride`-th member from `start`: a chat slot's own callers.
fn stride(members: &[Member], start: usize, stride: usize) -> Vec<Member> {
    members.iter().skip(start).step_by(stride.max(1)).cloned().collect()
}

impl Outcome {
    /// A session's end as its user heard it: billed when it cost coins.
    fn of_ended(ended: &client::Frame) -> Self {
        if ended.data["coinsSpent"].as_i64().unwrap_or(0) > 0 {
            Outcome::Billed
        } else {
            Outcome::Failed("unbilled".into())
        }
    }

    /// Logs a call that was not billed, with its time (to be read beside the fault script's
    /// log); answers whether her socket went with its node (failed, or refused as offline).
    fn log_if_unbilled(&self, what: &str) -> bool {
        if !matches!(self, Outcome::Billed) {
            crate::progress(format!("{} {what} {}", chrono::Utc::now().format("%H:%M:%S"), self.name()));
        }
        match self {
            Outcome::Failed(_) => true,
            Outcome::Refused(code) => code == "telecaller_offline",
            Outcome::Billed => false,
        }
    }

    fn name(&self) -> String {
        match self {
            Outcome::Billed => "billed".to_owned(),
            Outcome::Refused(code) => format!("refused:{code}"),
            Outcome::Failed(what) => format!("failed:{what}"),
        }
    }
}

fn print_tally(what: &str, tally: &BTreeMap<String, u64>) {
    let parts: Vec<String> = tally.iter().map(|(name, n)| format!("{name}={n}")).collect();
    crate::progress(format!("soak {what}: {}", parts.join(" ")));
}

/// Connects to node `first` (of `nodes`, in turn), or to the next one that answers, as a load
/// balancer in front of them would.
/// Connects to the first node that answers, from `first` on; answers the socket and its
/// `session:ready` data.
async fn connect(nodes: &[Node], first: usize, path: &str, token: &str) -> Result<(Peer, Value), Outcome> {
    for i in 0..nodes.len() {
        if let Ok(connected) = Peer::connect(&nodes[(first + i) % nodes.len()].target, path, token).await {
            return Ok(connected);
        }
    }
    Err(Outcome::Failed("connect".to_owned()))
}

/// A call or chat this caller left behind when a node died is resumed by his reconnect (within
/// the grace, as the spec says) and would refuse a new one until it ends: he ends it first, as
/// his app would, whatever the answer (it may have ended meanwhile).
async fn end_left_over(him: &mut Peer, ready: &Value) -> Result<(), Outcome> {
    let (event, answer, data) = if let Some(id) = ready["activeChat"]["sessionId"].as_str() {
        ("chat:end", "chat:ended", json!({ "sessionId": id }))
    } else if let Some(id) = ready["activeCall"]["callId"].as_str() {
        match ready["activeCall"]["status"].as_str() {
            Some("RINGING") => ("call:cancel", "call:cancelled", json!({ "callId": id })),
            _ => ("call:end", "call:ended", json!({ "callId": id })),
        }
    } else {
        return Ok(());
    };
    him.send(event, data).await.map_err(failed("end"))?;
    him.answer(answer).await.map_err(failed("end"))?.ok();
    Ok(())
}

/// A telecaller waiting for calls, her socket held open as her app would (the directory knows
/// she is connected long before anyone calls her).
struct Host {
    member: Member,
    node: usize,
    peer: Option<Peer>,
}

/// The telecallers free to take a call.
#[derive(Clone)]
struct Hosts {
    free: tokio::sync::mpsc::UnboundedSender<Host>,
    queue: Arc<tokio::sync::Mutex<tokio::sync::mpsc::UnboundedReceiver<Host>>>,
}

impl Hosts {
    /// Connects every telecaller, to the nodes in turn, and gives the directory a moment.
    async fn online(nodes: &[Node], members: &[Member]) -> Self {
        let (free, queue) = tokio::sync::mpsc::unbounded_channel();
        let hosts = Self { free, queue: Arc::new(tokio::sync::Mutex::new(queue)) };
        for (node, member) in members.iter().enumerate() {
            let peer = connect(nodes, node, "/ws/telecaller", &member.token).await.ok().map(|(peer, _)| peer);
            let _ = hosts.free.send(Host { member: member.clone(), node, peer });
        }
        tokio::time::sleep(ONLINE_AFTER).await;
        hosts
    }

    /// The next free telecaller, connected again first if her node dropped her socket.
    async fn take(&self, nodes: &[Node]) -> Option<Host> {
        let mut host = self.queue.lock().await.recv().await?;
        if !host.peer.as_ref().is_some_and(Peer::is_open) {
            host.reconnect(nodes).await;
        }
        Some(host)
    }

    /// After a failed call her socket may be gone with its node: she connects again first.
    async fn give_back(&self, nodes: &[Node], mut host: Host, gone: bool) {
        if gone {
            host.reconnect(nodes).await;
        }
        let _ = self.free.send(host);
    }
}

impl Host {
    /// Connects her to the next node, and waits until she shows online there.
    async fn reconnect(&mut self, nodes: &[Node]) {
        self.node += 1;
        self.peer = connect(nodes, self.node, "/ws/telecaller", &self.member.token).await.ok().map(|(peer, _)| peer);
        tokio::time::sleep(ONLINE_AFTER).await;
    }
}

/// How long a telecaller who just connected is left before she is called: her connection
/// reaches the shared directory a moment after her socket is ready (a real app calls her after
/// her presence said ONLINE).
const ONLINE_AFTER: Duration = Duration::from_secs(1);

/// One call, his socket on the node after hers while both are up: initiate, accept, hold, end.
async fn try_call(
    nodes: &[Node],
    first: usize,
    caller: &Member,
    host: &mut Host,
    hold: Duration,
) -> Result<Outcome, Outcome> {
    let her = host.peer.as_mut().ok_or_else(|| Outcome::Failed("connect".to_owned()))?;
    her.drain();
    let (mut him, ready) = connect(nodes, first, "/ws/user", &caller.token).await?;
    end_left_over(&mut him, &ready).await?;
    let host = &host.member;
    him.send("call:initiate", json!({ "telecallerId": host.id.to_string(), "callType": "AUDIO" }))
        .await
        .map_err(failed("initiate"))?;
    let ringing = him.answer("call:ringing").await.map_err(failed("initiate"))?.map_err(refused)?;
    let call = ringing.data["callId"].clone();
    her.expect("call:incoming").await.map_err(failed("ring"))?;
    her.send("call:accept", json!({ "callId": call })).await.map_err(failed("accept"))?;
    her.answer("call:accepted").await.map_err(failed("accept"))?.map_err(refused)?;
    him.expect("call:accepted").await.map_err(failed("accepted"))?;
    tokio::time::sleep(hold).await;
    him.send("call:end", json!({ "callId": call })).await.map_err(failed("end"))?;
    let ended = him.answer("call:ended").await.map_err(failed("end"))?.map_err(refused)?;
    Ok(Outcome::of_ended(&ended))
}

/// A chat slot: one chat after another until `deadline`, each a minute of a message every two
/// seconds, its parties on different nodes.
async fn chat_loop(nodes: &[Node], callers: &[Member], host: &Member, deadline: Instant, tally: &Tally) {
    if callers.is_empty() {
        return;
    }
    let mut n = 0usize;
    let mut her: Option<Peer> = None;
    while Instant::now() < deadline {
        if her.is_none() {
            her = connect(nodes, n + 1, "/ws/telecaller", &host.token).await.ok().map(|(peer, _)| peer);
            tokio::time::sleep(ONLINE_AFTER).await;
        }
        let caller = &callers[n % callers.len()];
        let outcome = match her.as_mut() {
            Some(peer) => match one_chat(nodes, n, caller, host, peer, deadline).await {
                Ok(outcome) | Err(outcome) => outcome,
            },
            None => Outcome::Failed("connect".to_owned()),
        };
        n += 1;
        if !matches!(outcome, Outcome::Billed) {
            // A pause before the next try (as a person would), so a refusal is never retried in
            // a tight loop; her node may be gone, so she connects again.
            if outcome.log_if_unbilled("chat") {
                her = None;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        tally.add(outcome.name());
    }
}

async fn one_chat(
    nodes: &[Node],
    first: usize,
    caller: &Member,
    host: &Member,
    her: &mut Peer,
    deadline: Instant,
) -> Result<Outcome, Outcome> {
    her.drain();
    let (mut him, ready) = connect(nodes, first, "/ws/user", &caller.token).await?;
    end_left_over(&mut him, &ready).await?;
    him.send("chat:request", json!({ "telecallerId": host.id.to_string() })).await.map_err(failed("request"))?;
    let requested = him.answer("chat:requested").await.map_err(failed("request"))?.map_err(refused)?;
    let id = requested.data["sessionId"].clone();
    her.expect("chat:incoming").await.map_err(failed("incoming"))?;
    her.send("chat:accept", json!({ "sessionId": id })).await.map_err(failed("accept"))?;
    her.answer("chat:accepted").await.map_err(failed("accept"))?.map_err(refused)?;
    let until = (Instant::now() + Duration::from_secs(60)).min(deadline);
    let mut n = 0u32;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(2)).await;
        n += 1;
        let from = if n % 2 == 1 { &mut him } else { &mut *her };
        from.drain();
        let text = format!("soak message {n}");
        from.send("chat:message", json!({ "sessionId": id, "clientId": format!("s{n}"), "text": text }))
            .await
            .map_err(failed("message"))?;
        from.answer("chat:message").await.map_err(failed("message"))?.map_err(refused)?;
    }
    him.send("chat:end", json!({ "sessionId": id })).await.map_err(failed("end"))?;
    let ended = him.answer("chat:ended").await.map_err(failed("end"))?.map_err(refused)?;
    Ok(Outcome::of_ended(&ended))
}

/// A presence watcher: connected until `deadline`, reconnecting (after a second, to the next
/// node) whenever its node drops it.
async fn watch(nodes: &[Node], first: usize, watcher: &Member, deadline: Instant, reconnects: &AtomicUsize) {
    let mut attempt = 0;
    while Instant::now() < deadline {
        if attempt > 0 {
            reconnects.fetch_add(1, Ordering::Relaxed);
        }
        let node = &nodes[(first + attempt) % nodes.len()].target;
        attempt += 1;
        let Ok((mut socket, _)) = client::open_ws(node, "/ws/user", &watcher.token).await else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        // Read (and so answer the server's pings) until the node drops the socket.
        loop {
            tokio::select! {
                message = socket.next() => if !matches!(message, Some(Ok(_))) { break },
                _ = tokio::time::sleep_until(deadline.into()) => return,
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Authenticated list reads at a steady rate, alternating nodes; a failed connection is made
/// again at the next read.
async fn read_loop(nodes: &[Node], reader: &Member, every: Duration, deadline: Instant, tally: &Tally) {
    let mut conns: Vec<Option<HttpConn>> = nodes.iter().map(|_| None).collect();
    let mut tick = tokio::time::interval(every);
    let mut n = 0usize;
    while Instant::now() < deadline {
        tick.tick().await;
        let i = n % nodes.len();
        n += 1;
        // A node that does not answer is skipped, as a load balancer would.
        if conns[i].is_none() {
            conns[i] = HttpConn::connect(&nodes[i].target).await.ok();
        }
        let i = if conns[i].is_some() { i } else { (i + 1) % nodes.len() };
        if conns[i].is_none() {
            conns[i] = HttpConn::connect(&nodes[i].target).await.ok();
        }
        let target = &nodes[i].target;
        let Some(conn) = conns[i].as_mut() else {
            tally.add("failed:connect");
            continue;
        };
        match conn.round_trip(&client::get_request(target, "/users/telecallers?limit=15", &reader.token)).await {
            Ok((status, _)) => tally.add(format!("status:{status}")),
            Err(_) => {
                conns[i] = None;
                tally.add("failed:read");
            }
        }
    }
}

/// A node's memory and descriptors at the end of a window.
#[derive(Debug, Clone, Copy)]
struct Sample {
    node: usize,
    rss_kib: u64,
    fds: u64,
}

async fn sample_windows(nodes: Vec<Node>, window: Duration, deadline: Instant, calls: Arc<Tally>) -> Vec<Vec<Sample>> {
    let mut windows = Vec::new();
    let take = |nodes: &[Node]| -> Vec<Sample> {
        nodes
            .iter()
            .enumerate()
            .filter_map(|(node, n)| {
                let pid = n.pid()?;
                Some(Sample { node, rss_kib: client::rss_kib(pid)?, fds: client::open_fds(pid)? })
            })
            .collect()
    };
    windows.push(take(&nodes));
    let mut k = 0;
    while Instant::now() + window <= deadline + Duration::from_secs(1) {
        // The last window's sample is taken a few seconds before the traffic stops, not while
        // its sockets are closing.
        let end = (Instant::now() + window).min(deadline - Duration::from_secs(3).min(window / 2));
        tokio::time::sleep_until(end.into()).await;
        k += 1;
        let samples = take(&nodes);
        let described: Vec<String> =
            samples.iter().map(|s| format!("node {}: {} KiB, {} fds", s.node, s.rss_kib, s.fds)).collect();
        let billed = calls.snapshot().get("billed").copied().unwrap_or(0);
        crate::progress(format!("soak window {k}: {billed} calls billed so far; {}", described.join("; ")));
        windows.push(samples);
    }
    windows
}

/// No call left open, none settled twice, the books balanced.
async fn check(mut report: Report, db: &Db, since: chrono::DateTime<chrono::Utc>) -> Report {
    match calls::integrity(db.pool(), since).await {
        Ok(found) => {
            report = report.figure("lost", found.unended as f64).figure("settled_twice", found.settled_twice as f64);
            if found.unended > 0 {
                report.fail(format!("{} calls or chats never ended", found.unended));
            }
            if found.settled_twice > 0 {
                report.fail(format!("{} calls or chats were settled twice", found.settled_twice));
            }
        }
        Err(error) => report.fail(format!("cannot check the calls: {error}")),
    }
    super::check_books(report, db).await
}

/// Memory and descriptors flat: growth from the end of the first window to the end of the run
/// under 5%. Memory is judged on node 0, never restarted (node 1's figures start again at each
/// kill); descriptors on both nodes' sum, since node 1's clients move to node 0 while it is down
/// and come back only as they reconnect.
fn flat(mut report: Report, windows: &[Vec<Sample>]) -> Report {
    let (Some(first), Some(last)) = (windows.get(1), windows.last()) else { return report };
    let growth = |now: u64, then: u64| 100.0 * (now as f64 - then as f64) / (then.max(1) as f64);
    for sample in last {
        let Some(base) = first.iter().find(|s| s.node == sample.node) else { continue };
        let (rss, fds) = (growth(sample.rss_kib, base.rss_kib), growth(sample.fds, base.fds));
        let (rss_name, fds_name) = match sample.node {
            0 => ("node0_rss_growth_pct", "node0_fd_growth_pct"),
            _ => ("node1_rss_growth_pct", "node1_fd_growth_pct"),
        };
        report = report.figure(rss_name, rss).figure(fds_name, fds);
        if sample.node == 0 && rss >= 5.0 {
            report.fail(format!("node 0's memory grew {rss:.1}% after the first window"));
        }
    }
    let total = |samples: &[Sample]| samples.iter().map(|s| s.fds).sum::<u64>();
    let fds = growth(total(last), total(first));
    report = report.figure("fd_growth_pct", fds);
    if fds >= 5.0 {
        report.fail(format!("the nodes' descriptors grew {fds:.1}% after the first window"));
    }
    report
}
