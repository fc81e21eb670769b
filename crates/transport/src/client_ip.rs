//! The client's address: the peer, or `X-Forwarded-For` when the peer is a trusted proxy.

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use ipnet::IpNet;

/// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    /// Production: `X-Forwarded-For` from a peer that is not trusted is noticed (logged once a
    /// minute, reported by `/health/ready`): behind a proxy that is not listed, every client
    /// shares the proxy's rate-limit budgets.
    watch: Option<Arc<UntrustedForwarding>>,
}

#[derive(Debug, Default)]
struct UntrustedForwarding {
    /// Unix seconds of the last warning (at most one a minute).
    last_warned: AtomicI64,
    /// The last peer that sent `X-Forwarded-For` without being trusted.
    peer: Mutex<Option<IpAddr>>,
}

impl TrustedProxies {
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self { nets, watch: None }
    }

    /// Notices forwarded requests from untrusted peers (production).
    pub fn watching_untrusted_forwarders(mut self) -> Self {
        self.watch = Some(Arc::default());
        self
    }

    /// A peer that sent `X-Forwarded-For` without being trusted, if one did (production).
    pub fn untrusted_forwarder(&self) -> Option<IpAddr> {
        *self.watch.as_ref()?.peer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Addresses are compared in canonical form: on a dual-stack (`[::]`) socket an IPv4 proxy
    /// arrives as `::ffff:a.b.c.d`.
    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    fn noticed_untrusted(&self, peer: IpAddr) {
        let Some(watch) = &self.watch else { return };
        let now = chrono::Utc::now().timestamp();
        let last = watch.last_warned.load(Ordering::Relaxed);
        // One warning a minute, by whichever request wins the swap; the lock is taken only then.
        if now >= last + 60
            && watch.last_warned.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            *watch.peer.lock().unwrap_or_else(PoisonError::into_inner) = Some(peer);
            tracing::warn!(
                %peer,
                "X-Forwarded-For from a peer not in TRUSTED_PROXIES: it is ignored, so every client behind that \
                 proxy shares one rate-limit budget; list the proxy in TRUSTED_PROXIES"
            );
        }
    }

    /// Walks `X-Forwarded-For` from the right (the hop nearest to us) past trusted proxies; the
    /// first untrusted address is the client. Anything unparsable stops the walk, so a client
    /// cannot smuggle an address through a garbage entry.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            if forwarded_for.is_some() {
                self.noticed_untrusted(peer);
            }
            return peer;
        }
        let Some(header) = forwarded_for else {
            return peer;
        };
        let mut client = peer;
        for hop in header.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip.to_canonical();
                    if !self.trusts(ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_trusted_peers_forward() {
        let none = TrustedProxies::default();
        assert_eq!(none.client_ip(ip("10.0.0.1"), Some("1.2.3.4")), ip("10.0.0.1"));

        let proxies = TrustedProxies::new(vec!["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), Some("1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), Some("6.6.6.6, 1.2.3.4, 10.0.0.9")), ip("1.2.3.4"));
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), Some("garbage, 1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), Some("1.2.3.4, garbage")), ip("10.0.0.1"));
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), None), ip("10.0.0.1"));
        assert_eq!(proxies.client_ip(ip("8.8.8.8"), Some("1.2.3.4")), ip("8.8.8.8"));
        // A dual-stack socket shows an IPv4 proxy as `::ffff:a.b.c.d`.
        assert_eq!(proxies.client_ip(ip("::ffff:10.0.0.1"), Some("1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(proxies.client_ip(ip("::ffff:8.8.8.8"), None), ip("8.8.8.8"));
    }

    #[test]
    fn forwarding_from_an_untrusted_peer_is_noticed_when_watched() {
        let quiet = TrustedProxies::new(Vec::new());
        quiet.client_ip(ip("10.0.0.1"), Some("1.2.3.4"));
        assert_eq!(quiet.untrusted_forwarder(), None);
        let watched = TrustedProxies::new(Vec::new()).watching_untrusted_forwarders();
        watched.client_ip(ip("10.0.0.1"), None);
        assert_eq!(watched.untrusted_forwarder(), None, "no header, nothing to notice");
        watched.client_ip(ip("::ffff:10.0.0.1"), Some("1.2.3.4"));
        assert_eq!(watched.untrusted_forwarder(), Some(ip("10.0.0.1")));
    }
}
