//! Sockets and the budgets that protect the service from floods: per-network limits
//! (`RATE_LIMIT_*_PER_IP`), handshakes per account, sockets per account, each socket's queue and
//! heartbeat, and the presence and session ticks.

use std::time::Duration;

use talktime_services::rate_limit::{Budget, NetworkLimits};
use talktime_transport::WsConnectBudgets;
use talktime_transport::ws::Heartbeat;

use super::vars::Vars;

#[derive(Debug, Clone, Copy)]
pub struct RealtimeSettings {
    /// Handshakes refused per network (`RATE_LIMIT_WS_CONNECT_PER_IP`) and accepted per account
    /// (`RATE_LIMIT_WS_CONNECT_PER_ACCOUNT`, default 60 a minute: one a second, far above any
    /// app's reconnects, far below a storm).
    pub connects: WsConnectBudgets,
    /// `WS_MAX_CONNECTIONS_PER_ACCOUNT` (default 5, per node).
    pub max_connections_per_account: usize,
    /// Outgoing frames a WebSocket connection may have queued before it is closed as too slow.
    pub queue_capacity: usize,
    /// How often the server pings a socket, and how long a silent one lives.
    pub heartbeat: Heartbeat,
    /// How often each node sends watchers their coalesced `presence:update`.
    pub presence_flush: Duration,
    /// How often each node checks its sockets' sessions against Postgres.
    pub session_check_interval: Duration,
}

/// `RATE_LIMIT_*_PER_IP`: budgets per IPv4 address or IPv6 /64.
pub(super) fn network_limits(v: &mut Vars) -> NetworkLimits {
    let defaults = NetworkLimits::default();
    let mut limit = |name: &str, default: Budget| Budget {
        limit: v.parsed(name, default.limit, "a number of requests").max(1),
        ..default
    };
    NetworkLimits {
        login: limit("RATE_LIMIT_LOGIN_PER_IP", defaults.login),
        admin_sign_in: limit("RATE_LIMIT_ADMIN_SIGN_IN_PER_IP", defaults.admin_sign_in),
        ws_connect: limit("RATE_LIMIT_WS_CONNECT_PER_IP", defaults.ws_connect),
    }
}

pub(super) fn read(v: &mut Vars, network: &NetworkLimits) -> RealtimeSettings {
    let per_account = v.parsed("RATE_LIMIT_WS_CONNECT_PER_ACCOUNT", 60u32, "a number of handshakes").max(1);
    RealtimeSettings {
        connects: WsConnectBudgets {
            refused_per_network: network.ws_connect,
            per_account: Budget { limit: per_account, window: Duration::from_secs(60) },
        },
        max_connections_per_account: v.parsed("WS_MAX_CONNECTIONS_PER_ACCOUNT", 5usize, "a positive number").max(1),
        queue_capacity: v.parsed("WS_QUEUE_CAPACITY", 256usize, "a positive number").max(1),
        heartbeat: Heartbeat {
            ping: v.millis("WS_PING_INTERVAL_MS", 20_000),
            timeout: v.millis("WS_CLIENT_TIMEOUT_MS", 60_000),
        },
        presence_flush: v.millis("PRESENCE_FLUSH_MS", 1_000),
        session_check_interval: v.millis("SESSION_CHECK_INTERVAL_MS", 30_000),
    }
}
