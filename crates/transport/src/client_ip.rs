//! The client's address: the peer, or `X-Forwarded-For` when the peer is a trusted proxy.

use std::net::IpAddr;

use ipnet::IpNet;

/// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Walks `X-Forwarded-For` from the right (the hop nearest to us) past trusted proxies; the
    /// first untrusted address is the client. Anything unparsable stops the walk, so a client
    /// cannot smuggle an address through a garbage entry.
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let Some(header) = forwarded_for else {
            return peer;
        };
        let mut client = peer;
        for hop in header.rsplit(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
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

        let proxies = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), Some("1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), Some("6.6.6.6, 1.2.3.4, 10.0.0.9")), ip("1.2.3.4"));
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), Some("garbage, 1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), Some("1.2.3.4, garbage")), ip("10.0.0.1"));
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), None), ip("10.0.0.1"));
        assert_eq!(proxies.client_ip(ip("8.8.8.8"), Some("1.2.3.4")), ip("8.8.8.8"));
    }
}
