//! `talktime-load`: see the library's documentation, and `docs/benchmarks.md`.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use clap::Parser;
use talktime_load::report::Report;
use talktime_load::scenarios::{self, Node, Plan, Scenario};
use talktime_load::{Error, Target};
use talktime_repository::Db;

#[derive(Parser)]
#[command(name = "talktime-load", about = "Drives a running Talktime server and reports what it measured")]
struct Cli {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:8000")]
    server: String,
    /// The server's database (accounts are prepared there).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// The server's `JWT_SECRET` (tokens are minted with it).
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    jwt_secret: String,
    /// The server's process id, for its memory (default: the one process named `talktime`).
    #[arg(long)]
    server_pid: Option<u32>,
    /// The server's `PRESENCE_FLUSH_MS`.
    #[arg(long, default_value_t = 1000)]
    flush_ms: u64,
    /// Run a few hundred sockets for a few seconds instead of the full figures.
    #[arg(long)]
    smoke: bool,
    /// Only these scenarios (default: all).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Scenario>,
    #[arg(long)]
    watchers: Option<usize>,
    #[arg(long)]
    idle: Option<usize>,
    #[arg(long)]
    setup_rate: Option<f64>,
    #[arg(long)]
    call_telecallers: Option<usize>,
    #[arg(long)]
    list_connections: Option<usize>,
    /// Concurrent chat sessions (`chats`).
    #[arg(long)]
    chat_sessions: Option<usize>,
    /// Messages per second in each chat session (at most 2: each party sends 60 a minute).
    #[arg(long)]
    chat_messages_per_s: Option<f64>,
    /// `soak`: how long the traffic runs, in seconds.
    #[arg(long)]
    soak_seconds: Option<f64>,
    /// `soak`: memory and descriptors are sampled every this many seconds.
    #[arg(long)]
    soak_window_secs: Option<u64>,
    /// `soak`: calls started per second.
    #[arg(long)]
    soak_calls_per_s: Option<f64>,
    /// `soak`: after the traffic, seconds the nodes get to end what the faults left open.
    #[arg(long)]
    soak_drain_secs: Option<u64>,
    /// `soak`: the second node's address.
    #[arg(long)]
    also_server: Option<String>,
    /// `soak`: a file holding the second node's process id (rewritten when it is restarted).
    #[arg(long)]
    also_server_pid_file: Option<std::path::PathBuf>,
    /// Keep the idle sockets open this many seconds after measuring them (to profile the server).
    #[arg(long, default_value_t = 0)]
    hold_idle_secs: u64,
    /// pgbench `-S` TPS measured on this machine: the list is reported as a ratio to it.
    #[arg(long)]
    select_tps: Option<f64>,
    /// pgbench TPC-B TPS measured on this machine: billed calls are reported as a ratio to it.
    #[arg(long)]
    tpcb_tps: Option<f64>,
    /// Write the reports as JSON to this file too.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(error) => {
            eprintln!("talktime-load: {error}");
            std::process::exit(2);
        }
    }
}

async fn run(cli: Cli) -> Result<bool, Error> {
    let addr: SocketAddr = cli.server.to_socket_addrs()?.next().ok_or("the server address does not resolve")?;
    let target = Target { addr, pid: cli.server_pid.or_else(find_server) };
    let flush = Duration::from_millis(cli.flush_ms);
    let mut plan = if cli.smoke { Plan::smoke(flush) } else { Plan { flush, ..Plan::full() } };
    plan.watchers = cli.watchers.unwrap_or(plan.watchers);
    plan.idle = cli.idle.unwrap_or(plan.idle);
    plan.idle_during_calls = plan.idle_during_calls.min(plan.idle);
    plan.setup_rate = cli.setup_rate.unwrap_or(plan.setup_rate);
    plan.call_telecallers = cli.call_telecallers.unwrap_or(plan.call_telecallers);
    plan.list_connections = cli.list_connections.unwrap_or(plan.list_connections);
    plan.hold_idle = Duration::from_secs(cli.hold_idle_secs);
    plan.chats.sessions = cli.chat_sessions.unwrap_or(plan.chats.sessions);
    plan.chats.messages_per_s = cli.chat_messages_per_s.unwrap_or(plan.chats.messages_per_s);
    plan.soak.seconds = cli.soak_seconds.unwrap_or(plan.soak.seconds);
    plan.soak.window = cli.soak_window_secs.map(Duration::from_secs).unwrap_or(plan.soak.window);
    plan.soak.calls_per_s = cli.soak_calls_per_s.unwrap_or(plan.soak.calls_per_s);
    plan.soak.drain = cli.soak_drain_secs.map(Duration::from_secs).unwrap_or(plan.soak.drain);
    if let Some(also) = &cli.also_server {
        let addr = also.to_socket_addrs()?.next().ok_or("the second server's address does not resolve")?;
        let target = Target { addr, pid: None };
        plan.soak.also = Some(Node { target, pid_file: cli.also_server_pid_file.clone() });
    }
    let which = if cli.only.is_empty() {
        vec![Scenario::Fanout, Scenario::Idle, Scenario::Setup, Scenario::Calls, Scenario::List, Scenario::Chats]
    } else {
        cli.only.clone()
    };
    let db = Db::connect(&cli.database_url, 4).await?;
    let reports = scenarios::run(&target, &db, &cli.jwt_secret, &plan, &which).await?;
    println!("{}", "-".repeat(100));
    for report in &reports {
        println!("{}", report.line());
    }
    print_ratios(&reports, cli.select_tps, cli.tpcb_tps);
    let json = serde_json::Value::Array(reports.iter().map(Report::json).collect());
    println!("{json}");
    if let Some(path) = &cli.json {
        std::fs::write(path, json.to_string())?;
    }
    Ok(reports.iter().all(|r| r.ok))
}

/// Each figure against its goal (`docs/benchmarks.md`).
fn print_ratios(reports: &[Report], select_tps: Option<f64>, tpcb_tps: Option<f64>) {
    let figure = |scenario: &str, name: &str| reports.iter().find(|r| r.scenario == scenario)?.get(name);
    println!("{}", "-".repeat(100));
    if let (Some(list), Some(limit)) = (figure("list", "per_s"), select_tps) {
        println!(
            "list      {list:>10.0} req/s   = {:>5.1}% of pgbench -S ({limit:.0} TPS)   goal ≥ 40%",
            100.0 * list / limit
        );
    }
    if let (Some(calls), Some(limit)) = (figure("calls", "per_s"), tpcb_tps) {
        println!(
            "calls     {calls:>10.1} /s      = {:>5.1}% of pgbench TPC-B ({limit:.0} TPS)   goal ≥ 25%",
            100.0 * calls / limit
        );
    }
    if let (Some(p99), Some(settled)) = (figure("chats", "p99_ms"), figure("chats", "settled_per_s")) {
        println!("chats     {p99:>10.2} ms p99 message delivery, {settled:.0} settlements/s");
    }
    if let Some(kib) = figure("idle", "rss_per_socket_kib") {
        println!("idle      {kib:>10.2} KiB/socket                                   goal ≤ 8 KiB");
    }
    if let Some(p99) = figure("setup", "p99_ms") {
        println!("setup     {p99:>10.2} ms p99                                        goal ≤ 5 ms");
    }
    if let (Some(billed), Some(lost)) = (figure("soak", "calls_billed"), figure("soak", "lost")) {
        let twice = figure("soak", "settled_twice").unwrap_or(0.0);
        println!(
            "soak      {billed:>10.0} calls billed, {lost:.0} lost, {twice:.0} settled twice    goal: 0 lost, 0 twice"
        );
    }
    if let Some(p99) = figure("fanout", "p99_after_tick_ms") {
        println!("fanout    {p99:>10.2} ms p99 after the flush tick                   goal ≤ 100 ms");
    }
}

/// The one process named `talktime`, if there is exactly one.
fn find_server() -> Option<u32> {
    let found: Vec<u32> = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            (comm.trim() == "talktime").then_some(pid)
        })
        .collect();
    (found.len() == 1).then(|| found[0])
}
