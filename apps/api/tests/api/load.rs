//! `talktime-load` in its smoke size against the real server: every scenario runs, nothing
//! fails, and the books balance after the billed calls.

use std::time::Duration;

use talktime_load::Target;
use talktime_load::scenarios::{self, Plan, Scenario};

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
