//! What Sightline keeps of a client's IP address (`SIGHTLINE_IP_ANONYMIZE`): all of it,
//! its network only (IPv4 to /24, IPv6 to /48), or nothing. Detection, rate limits and
//! geography read the full address in memory; only the stored value changes, and the
//! store applies the policy to every row it writes (requests, sessions, threats, auth
//! events), whichever way the event came in.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How a client's IP address is stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum IpAnonymize {
    /// The address as given.
    #[default]
    None,
    /// The network only: an IPv4 address's last octet and an IPv6 address's last 80
    /// bits are zeroed (`203.0.113.9` → `203.0.113.0`, `2001:db8:1:2::5` → `2001:db8:1::`).
    Truncate,
    /// No address at all.
    Drop,
}

impl IpAnonymize {
    /// The stored form of `ip`: `None` when nothing may be kept. Applying it to a
    /// value it already produced changes nothing. Something that is not an address
    /// (the ingest API drops those; this is the last line) is not kept when truncating.
    pub fn apply(self, ip: &str) -> Option<Cow<'_, str>> {
        match self {
            IpAnonymize::None => Some(Cow::Borrowed(ip)),
            IpAnonymize::Drop => None,
            IpAnonymize::Truncate => {
                let network = truncate(ip.trim().parse().ok()?).to_string();
                Some(if network == ip {
                    Cow::Borrowed(ip)
                } else {
                    Cow::Owned(network)
                })
            }
        }
    }

    /// [`IpAnonymize::apply`] on an optional address, owned.
    pub fn stored(self, ip: Option<&str>) -> Option<String> {
        ip.and_then(|ip| self.apply(ip)).map(Cow::into_owned)
    }

    /// Whether stored addresses differ from the given ones.
    pub fn changes(self) -> bool {
        self != IpAnonymize::None
    }
}

/// The /24 of an IPv4 address, the /48 of an IPv6 one; an IPv4-mapped IPv6 address
/// (`::ffff:203.0.113.9`) keeps its form with its IPv4 /24.
fn truncate(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(truncate_v4(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V6(truncate_v4(v4).to_ipv6_mapped()),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
            }
        },
    }
}

fn truncate_v4(ip: Ipv4Addr) -> Ipv4Addr {
    let [a, b, c, _] = ip.octets();
    Ipv4Addr::new(a, b, c, 0)
}

#[cfg(test)]
mod tests {
    use super::IpAnonymize::{self, *};

    fn stored(policy: IpAnonymize, ip: &str) -> Option<String> {
        policy.stored(Some(ip))
    }

    #[test]
    fn none_keeps_the_address() {
        assert_eq!(stored(None, "203.0.113.9").as_deref(), Some("203.0.113.9"));
        assert_eq!(stored(None, "2001:db8::1").as_deref(), Some("2001:db8::1"));
    }

    #[test]
    fn truncate_keeps_the_network() {
        let cases = [
            ("203.0.113.9", "203.0.113.0"),
            ("203.0.113.0", "203.0.113.0"),
            ("10.1.2.255", "10.1.2.0"),
            ("2001:db8:1:2:3:4:5:6", "2001:db8:1::"),
            ("2001:db8:abcd:12::5", "2001:db8:abcd::"),
            ("::1", "::"),
            ("::ffff:198.51.100.77", "::ffff:198.51.100.0"),
            (" 192.0.2.1 ", "192.0.2.0"),
        ];
        for (given, kept) in cases {
            assert_eq!(stored(Truncate, given).as_deref(), Some(kept), "{given}");
            // Idempotent: what was stored is stored unchanged again (rebuilds).
            assert_eq!(stored(Truncate, kept).as_deref(), Some(kept), "{kept}");
        }
        assert_eq!(stored(Truncate, "not an address"), Option::None);
    }

    #[test]
    fn drop_keeps_nothing() {
        assert_eq!(stored(Drop, "203.0.113.9"), Option::None);
        assert_eq!(Drop.stored(Option::None), Option::None);
        assert!(Drop.changes() && Truncate.changes() && !None.changes());
    }
}
