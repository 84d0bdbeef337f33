//! Client addresses: who is on the other end, as far as per-address limits
//! are concerned. `X-Forwarded-For` is believed only from trusted proxies.

use std::net::{IpAddr, Ipv6Addr};

pub use crate::cidr::{canonical, Cidr};

/// The key per-address limits count under: the address itself for IPv4, its
/// /64 network for IPv6 (one subscriber usually holds a whole /64).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// The client of a request: the peer, unless the peer is a trusted proxy, in
/// which case `X-Forwarded-For` is read from the right, skipping trusted hops.
/// An entry that does not parse ends the walk at the last trusted hop.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[Cidr],
) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.iter().any(|c| c.contains(peer)) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else { break };
        client = canonical(ip);
        if !trusted.iter().any(|c| c.contains(client)) {
            break;
        }
    }
    client
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:5678`.
fn parse_hop(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_ranges() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.200.1.1")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.1.2.3")));
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("fd00::/8")
            .unwrap()
            .contains(ip("fd12:3456::1")));
        assert!(!Cidr::parse("fd00::/8").unwrap().contains(ip("10.0.0.1")));
        for bad in ["10.0.0.0/33", "nonsense", "::1/129", "1.2.3.4/x"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let trusted = Cidr::parse_all(&["127.0.0.1".into(), "10.0.0.0/8".into()]).unwrap();
        let xff = |v: &'static str| std::iter::once(v);
        // an untrusted peer's header is ignored
        assert_eq!(
            client_address(ip("203.0.113.9"), xff("1.1.1.1"), &trusted),
            ip("203.0.113.9")
        );
        // the right-most untrusted hop is the client
        assert_eq!(
            client_address(ip("127.0.0.1"), xff("6.6.6.6, 1.2.3.4, 10.1.1.1"), &trusted),
            ip("1.2.3.4")
        );
        // several header lines read as one list
        let lines = ["6.6.6.6", "1.2.3.4:999"];
        assert_eq!(
            client_address(ip("10.0.0.2"), lines.iter().copied(), &trusted),
            ip("1.2.3.4")
        );
        // junk stops the walk at the last trusted hop
        assert_eq!(
            client_address(ip("127.0.0.1"), xff("1.2.3.4, junk"), &trusted),
            ip("127.0.0.1")
        );
        // no header: the proxy itself
        assert_eq!(
            client_address(ip("127.0.0.1"), std::iter::empty(), &trusted),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_clients_count_per_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("::ffff:1.2.3.4")), ip("1.2.3.4"));
    }
}
