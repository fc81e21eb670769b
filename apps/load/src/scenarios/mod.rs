//! The scenarios, and the two plans that run them all: the full one `scripts/bench.sh` uses and
//! a smoke run small enough for CI.

mod calls;
mod chats;
mod fanout;
mod idle;
mod list;
mod setup;
mod soak;

use std::time::Duration;

pub use calls::calls;
pub use chats::{ChatLoad, chats};
pub use fanout::fanout;
pub use idle::idle;
pub use list::list;
pub use setup::setup;
pub use soak::{Node, SoakLoad, soak};
use talktime_repository::Db;

use crate::cpu::CpuClock;
use crate::population::{self, Sizes};
use crate::report::Report;
use crate::{Error, Target};

/// How big each scenario runs.
#[derive(Debug, Clone)]
pub struct Plan {
    pub watchers: usize,
    pub changes: usize,
    /// The server's `PRESENCE_FLUSH_MS`.
    pub flush: Duration,
    pub idle: usize,
    pub setup_rate: f64,
    pub setup_seconds: f64,
    /// Idle sockets kept open while calls run.
    pub idle_during_calls: usize,
    pub call_telecallers: usize,
    pub call_seconds: f64,
    pub hold: Duration,
    pub list_connections: usize,
    pub list_seconds: f64,
    /// Telecallers online while the list is read.
    pub listed: usize,
    /// How long the idle sockets are held after they were measured (for a heap profiler).
    pub hold_idle: Duration,
    /// Concurrent chat sessions, their message rate and how long they exchange messages.
    pub chats: ChatLoad,
    /// The soak run (only when asked for: `--only soak`).
    pub soak: SoakLoad,
}

impl Plan {
    /// The figures of `docs/benchmarks.md`.
    pub fn full() -> Self {
        Self {
            watchers: 15_000,
            changes: 6,
            flush: Duration::from_millis(1_000),
            idle: 18_000,
            setup_rate: 500.0,
            setup_seconds: 6.0,
            idle_during_calls: 10_000,
            // Each telecaller takes a call every `hold` and a little: 500 can bill at most 454 calls
            // a second, above what this machine reaches (1 500 were tried: no more calls billed,
            // and a longer drain of the calls in flight at the end).
            call_telecallers: 500,
            call_seconds: 15.0,
            hold: Duration::from_millis(1_100),
            list_connections: 64,
            list_seconds: 10.0,
            listed: 50,
            hold_idle: Duration::ZERO,
            chats: ChatLoad { sessions: 1_000, messages_per_s: 1.0, seconds: 20.0 },
            soak: SoakLoad::full(),
        }
    }

    /// A few hundred sockets for a few seconds (CI).
    pub fn smoke(flush: Duration) -> Self {
        Self {
            watchers: 100,
            changes: 2,
            flush,
            idle: 200,
            setup_rate: 20.0,
            setup_seconds: 2.0,
            idle_during_calls: 100,
            call_telecallers: 4,
            call_seconds: 2.5,
            hold: Duration::from_millis(1_100),
            list_connections: 4,
            list_seconds: 1.0,
            listed: 20,
            hold_idle: Duration::ZERO,
            chats: ChatLoad { sessions: 4, messages_per_s: 4.0, seconds: 1.5 },
            soak: SoakLoad {
                seconds: 6.0,
                window: Duration::from_secs(2),
                calls_per_s: 2.0,
                hold: Duration::from_millis(1_200),
                chats: 1,
                watchers: 10,
                list_per_s: 5.0,
                drain: Duration::ZERO,
                also: None,
            },
        }
    }

    /// Callers used by `setup` (each initiates at most 4 times: the limit is 5 a minute).
    fn setup_callers(&self) -> usize {
        ((self.setup_rate * self.setup_seconds) / 4.0).ceil() as usize + 1
    }

    /// Callers used by `calls`: each telecaller takes a call every `hold` and a bit.
    fn call_callers(&self) -> usize {
        let per_telecaller = (self.call_seconds / self.hold.as_secs_f64()).ceil() as usize + 1;
        (self.call_telecallers * per_telecaller).div_ceil(4) + self.call_telecallers
    }
}

/// A scenario's name on the command line and in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    Fanout,
    Idle,
    Setup,
    Calls,
    List,
    Chats,
    /// Not in the default set: half an hour against two nodes (`scripts/soak.sh`).
    Soak,
}

/// Runs `which` scenarios of `plan` against `target`, in a fixed order (idle, setup, calls,
/// fanout, list, chats, soak; the idle sockets stay open through setup and calls); answers their
/// reports.
pub async fn run(
    target: &Target,
    db: &Db,
    jwt_secret: &str,
    plan: &Plan,
    which: &[Scenario],
) -> Result<Vec<Report>, Error> {
    let runs = |s: Scenario| which.contains(&s);
    let setup_callers = if runs(Scenario::Setup) { plan.setup_callers() } else { 0 };
    let call_callers = if runs(Scenario::Calls) { plan.call_callers() } else { 0 };
    let idle_sockets = if runs(Scenario::Idle) { plan.idle } else { 0 };
    let watchers = if runs(Scenario::Fanout) { plan.watchers } else { 0 };
    let chat_sessions = if runs(Scenario::Chats) { plan.chats.sessions } else { 0 };
    let (soak_parties, soak_users) =
        if runs(Scenario::Soak) { (2 * plan.soak.parties(), plan.soak.watchers + 1) } else { (0, 0) };
    let hosts = plan.call_telecallers.max(plan.listed);
    let sizes = Sizes {
        users: watchers.max(idle_sockets).max(plan.list_connections).max(soak_users).max(1),
        callers: setup_callers + call_callers + chat_sessions + soak_parties,
        telecallers: SETUP_HOSTS + 1 + hosts + chat_sessions + soak_parties,
        // A soak caller makes a call every 20 s for half an hour.
        coins: if soak_parties > 0 { 1_000_000 } else { 1_000 },
    };
    let people = population::prepare(db, jwt_secret, sizes).await?;
    let (setup_callers, rest) = people.callers.split_at(setup_callers);
    let (call_callers, rest) = rest.split_at(call_callers);
    let (chat_callers, soak_callers) = rest.split_at(chat_sessions);
    let (setup_hosts, rest) = people.telecallers.split_at(SETUP_HOSTS);
    let (watched, rest) = rest.split_at(1);
    let (hosts, rest) = rest.split_at(hosts);
    let (chat_hosts, soak_hosts) = rest.split_at(chat_sessions);
    let mut reports = Vec::new();

    // Idle first: its memory figure is read from a server that has not held sockets before.
    let mut held = Vec::new();
    if runs(Scenario::Idle) {
        let clock = CpuClock::start(target.pid);
        let report;
        (report, held) = idle(target, &people.users[..idle_sockets]).await;
        reports.push(clock.figures(report));
        if !plan.hold_idle.is_zero() {
            crate::progress(format!("idle: holding the sockets for {:?}", plan.hold_idle));
            tokio::time::sleep(plan.hold_idle).await;
        }
    }
    if runs(Scenario::Setup) {
        reports.push(
            measured(target, setup(target, setup_callers, setup_hosts, plan.setup_rate, plan.setup_seconds)).await,
        );
    }
    held.truncate(plan.idle_during_calls);
    if runs(Scenario::Calls) {
        let hosts = &hosts[..plan.call_telecallers];
        reports.push(measured(target, calls(target, db, call_callers, hosts, plan.call_seconds, plan.hold)).await);
    }
    drop(held);
    if runs(Scenario::Fanout) {
        reports.push(
            measured(target, fanout(target, &people.users[..watchers], &watched[0], plan.changes, plan.flush)).await,
        );
    }
    if runs(Scenario::List) {
        let online = &hosts[..plan.listed];
        reports.push(
            measured(target, list(target, &people.users, online, plan.list_connections, plan.list_seconds)).await,
        );
    }
    if runs(Scenario::Chats) {
        reports.push(measured(target, chats(target, db, chat_callers, chat_hosts, plan.chats)).await);
    }
    if runs(Scenario::Soak) {
        let mut nodes = vec![Node { target: target.clone(), pid_file: None }];
        nodes.extend(plan.soak.also.clone());
        let users = &people.users[..=plan.soak.watchers];
        let run = soak(&nodes, db, soak_callers, soak_hosts, users, &plan.soak);
        reports.push(measured(target, run).await);
    }
    Ok(reports)
}

/// Checks the books after a scenario that moved coins: `books_balanced` or a failed check.
async fn check_books(mut report: Report, db: &Db) -> Report {
    match talktime_repository::ledger::books(db.pool()).await {
        Ok(books) if books.balanced() => report = report.figure("books_balanced", 1.0),
        Ok(books) => report.fail(format!("THE BOOKS DO NOT BALANCE: {books:?}")),
        Err(error) => report.fail(format!("cannot check the books: {error}")),
    }
    report
}

/// Runs a scenario and adds the tool's and the server's CPU use during it to its report.
async fn measured(target: &Target, scenario: impl std::future::Future<Output = Report>) -> Report {
    let clock = CpuClock::start(target.pid);
    let report = scenario.await;
    clock.figures(report)
}

/// Telecallers the setup scenario rings.
const SETUP_HOSTS: usize = 100;
