//! Where this node listens and who may reach it: the address, browsers' origins, proxies,
//! `/metrics`, HTTP workers and the console.

use ipnet::IpNet;
use talktime_domain::secret::Secret;

use super::vars::Vars;

#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// `BIND_ADDR`: `0.0.0.0:8000` in production, `127.0.0.1:8000` in development.
    pub bind_addr: String,
    /// `ALLOW_EXPOSED_DEVELOPMENT`: a development server may listen on an address other machines
    /// can reach (see [`super::Settings::refuse_exposed_development`]).
    pub allow_exposed_development: bool,
    pub cors_allowed_origins: Vec<String>,
    pub trusted_proxies: Vec<IpNet>,
    /// `METRICS_TOKEN`: `/metrics` needs `Authorization: Bearer` with it (required in production
    /// unless `METRICS_BIND_ADDR` serves the metrics on an address of their own).
    pub metrics_token: Option<Secret<String>>,
    pub metrics_bind_addr: Option<String>,
    /// HTTP worker threads (`HTTP_WORKERS`); one per core when unset.
    pub http_workers: Option<usize>,
    /// Serve the web console at `/console` (`CONSOLE_ENABLED`; on by default in development).
    pub console_enabled: bool,
}

pub(super) fn read(v: &mut Vars, prod: bool) -> ServerSettings {
    let cors_allowed_origins = v.list("CORS_ALLOWED_ORIGINS");
    if cors_allowed_origins.iter().any(|o| o == "*") {
        v.refuse_in_production(prod, "CORS_ALLOWED_ORIGINS must not contain `*` in production");
    }
    let mut trusted_proxies = Vec::new();
    for raw in v.list("TRUSTED_PROXIES") {
        match raw.parse::<IpNet>().or_else(|_| raw.parse::<std::net::IpAddr>().map(IpNet::from)) {
            Ok(net) => trusted_proxies.push(net),
            Err(_) => v.problems.push(format!("TRUSTED_PROXIES entry `{raw}` is not an IP address or CIDR range")),
        }
    }
    let metrics_token = v.get("METRICS_TOKEN").map(Secret::new);
    let metrics_bind_addr = v.get("METRICS_BIND_ADDR");
    if metrics_token.is_none() && metrics_bind_addr.is_none() {
        v.refuse_in_production(
            prod,
            "METRICS_TOKEN is missing (or METRICS_BIND_ADDR: /metrics on an address of its own)",
        );
    }
    ServerSettings {
        bind_addr: v.or("BIND_ADDR", if prod { "0.0.0.0:8000" } else { "127.0.0.1:8000" }),
        allow_exposed_development: v.flag("ALLOW_EXPOSED_DEVELOPMENT", false),
        cors_allowed_origins,
        trusted_proxies,
        metrics_token,
        metrics_bind_addr,
        http_workers: v.get("HTTP_WORKERS").and_then(|raw| raw.parse().ok()).filter(|n: &usize| *n > 0),
        console_enabled: v.flag("CONSOLE_ENABLED", !prod),
    }
}

/// Whether `BIND_ADDR` only accepts connections from this machine.
pub(super) fn is_loopback(bind: &str) -> bool {
    let host = bind.rsplit_once(':').map_or(bind, |(host, _)| host).trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}
