//! Client addresses as rate limits count them.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// The network a per-address limit counts against: an IPv4 address itself, or the /64 an IPv6
/// address belongs to. One IPv6 subscriber gets a whole /64 (often more) and picks addresses
/// from it at will, so counting single IPv6 addresses would give each client 2^64 budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientNetwork(IpAddr);

impl ClientNetwork {
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                // `::ffff:1.2.3.4` is an IPv4 client seen through a dual-stack socket.
                Some(v4) => Self(IpAddr::V4(v4)),
                None => {
                    let [a, b, c, d, ..] = v6.segments();
                    Self(IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0)))
                }
            },
        }
    }
}

impl fmt::Display for ClientNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// The wider network an SMS budget counts against: an IPv4 /24 or an IPv6 /48 (a site's
/// allocation), so one operator's block of addresses shares one share of the SMS budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SiteNetwork(IpAddr);

impl SiteNetwork {
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => {
                let [a, b, c, _] = v4.octets();
                Self(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, 0)))
            }
            IpAddr::V6(v6) => {
                let [a, b, c, ..] = v6.segments();
                Self(IpAddr::V6(Ipv6Addr::new(a, b, c, 0, 0, 0, 0, 0)))
            }
        }
    }
}

impl fmt::Display for SiteNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}/24"),
            IpAddr::V6(v6) => write!(f, "{v6}/48"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_are_ipv4_24s_and_ipv6_48s() {
        let site = |raw: &str| SiteNetwork::of(raw.parse().unwrap()).to_string();
        assert_eq!(site("203.0.113.7"), "203.0.113.0/24");
        assert_eq!(site("::ffff:203.0.113.9"), "203.0.113.0/24");
        assert_ne!(site("203.0.114.7"), site("203.0.113.7"));
        assert_eq!(site("2001:db8:1:2::1"), "2001:db8:1::/48");
        assert_eq!(site("2001:db8:1:ffff::1"), site("2001:db8:1:2::1"));
        assert_ne!(site("2001:db8:2::1"), site("2001:db8:1::1"));
    }

    fn network(raw: &str) -> String {
        ClientNetwork::of(raw.parse().unwrap()).to_string()
    }

    #[test]
    fn ipv6_counts_by_64() {
        assert_eq!(network("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(network("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
        assert_ne!(network("2001:db8:1:3::1"), network("2001:db8:1:2::1"));
    }

    #[test]
    fn ipv4_counts_by_address() {
        assert_eq!(network("203.0.113.7"), "203.0.113.7");
        assert_ne!(network("203.0.113.7"), network("203.0.113.8"));
        assert_eq!(network("::ffff:203.0.113.7"), "203.0.113.7");
    }
}
