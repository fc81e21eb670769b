//! `talktime-load` in its smoke size against the real server: every scenario runs, nothing
//! fails, and the books balance after the billed calls.

use std::time::Duration;

use talktime_load::Target;
use talktime_load::scenarios::{self, Node, Plan, Scenario};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_tool_runs_every_scenario_and_the_books_balance() {
    let _cpu = crate::support::exclusive().await;
    // The tool spreads its sockets over 127.0.0.x sources; a flush interval long enough that
    // timer jitter on a busy machine never looks like two frames in one interval.
    let app = crate::support::spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.0/8"), ("PRESENCE_FLUSH_MS", "200")]).await;
    let target = Target { addr: format!("127.0.0.1:{}", app.port).parse().unwrap(), pid: None };
    let plan = Plan::smoke(Duration::from_millis(200));
    let all = [Scenario::Fanout, Scenario::Idle, Scenario::Setup, Scenario::Calls, Scenario::List, Scenario::Chats];
    let reports = scenarios::run(&target, &app.db, crate::support::JWT_SECRET, &plan, &all).await.unwrap();
    assert_eq!(reports.len(), all.len());
    for report in &reports {
        assert!(report.ok, "{}", report.line());
        // (The server runs in this process, so the "tool's" share here includes it.)
        assert!(report.get("tool_cpu_pct").is_some_and(|pct| pct >= 0.0), "{}", report.line());
    }
    let figure =
        |scenario: &str, name: &str| reports.iter().find(|r| r.scenario == scenario).unwrap().get(name).unwrap();
    assert_eq!(figure("idle", "sockets"), 200.0);
    assert_eq!(figure("fanout", "watchers"), 100.0);
    assert!(figure("calls", "settled") >= 4.0);
    assert!(figure("calls", "tool_cpu_pct") > 0.0);
    assert_eq!(figure("calls", "books_balanced"), 1.0);
    assert!(figure("list", "requests") > 0.0);
    assert_eq!(figure("chats", "settled"), 4.0);
    assert!(figure("chats", "messages") >= 4.0);
    assert_eq!(figure("chats", "books_balanced"), 1.0);
    app.assert_books_balance().await;
}

/// `soak` in its smoke size against two nodes sharing Redis, the second killed (SIGKILL) in the
/// middle of the run: every call is accounted for, none is left open or settled twice, and the
/// books balance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soak_across_two_nodes_loses_no_call_when_one_is_killed() {
    let _cpu = crate::support::exclusive().await;
    let redis = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let rooms = crate::support::FakeServer::start().await;
    rooms.route("POST", "/twirp/livekit.RoomService/CreateRoom", 200, "");
    rooms.route("POST", "/twirp/livekit.RoomService/DeleteRoom", 200, "");
    let vars = [
        ("REDIS_URL", redis.as_str()),
        ("LIVEKIT_API_URL", rooms.base.as_str()),
        ("TRUSTED_PROXIES", "127.0.0.0/8"),
        ("SWEEP_INTERVAL_MS", "100"),
        ("NODE_HEARTBEAT_MS", "100"),
        ("NODE_EXPIRY_MS", "1000"),
        ("RECONNECT_GRACE_SECS", "1"),
    ];
    let database = talktime_repository::testing::TestDatabase::new().await.unwrap();
    let a = crate::support::spawn_node(database, &vars).await;
    let mut b = crate::support::spawn_node(a.database(), &vars).await;
    let node = |port: u16| Target { addr: format!("127.0.0.1:{port}").parse().unwrap(), pid: None };
    let mut plan = Plan::smoke(Duration::from_millis(1_000));
    plan.soak.drain = Duration::from_secs(4);
    plan.soak.also = Some(Node { target: node(b.port), pid_file: None });

    let target = node(a.port);
    let run = scenarios::run(&target, &a.db, crate::support::JWT_SECRET, &plan, &[Scenario::Soak]);
    // The fault, halfway through the traffic (a schedule, not a wait for the server).
    let fault = async {
        tokio::time::sleep(Duration::from_secs_f64(plan.soak.seconds / 2.0)).await;
        b.kill();
    };
    let (reports, ()) = tokio::join!(run, fault);
    let report = &reports.unwrap()[0];
    assert!(report.ok, "{}", report.line());
    assert_eq!(report.get("lost"), Some(0.0), "{}", report.line());
    assert_eq!(report.get("settled_twice"), Some(0.0), "{}", report.line());
    assert_eq!(report.get("books_balanced"), Some(1.0), "{}", report.line());
    assert!(report.get("calls_billed").unwrap() >= 2.0, "{}", report.line());
    a.assert_books_balance().await;
}
