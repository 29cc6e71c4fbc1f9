//! [`IpNet`]: an IP network in CIDR notation (`10.0.0.0/8`, `::1/128`, or a bare
//! address meaning just that address), as configuration values spell them.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IP network: an address and a prefix length. Written `ADDR/LEN`, or `ADDR`
/// alone for a single address. Host bits below the prefix are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why a network could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpNetError {
    /// The part before `/` is not an IP address.
    #[error("`{0}` is not an IP address")]
    Address(String),
    /// The prefix length is not a number within the address's size.
    #[error("`{0}` is not a prefix length (0-32 for IPv4, 0-128 for IPv6)")]
    Prefix(String),
}

impl IpNet {
    /// `127.0.0.0/8`, IPv4 loopback.
    pub const LOOPBACK_V4: IpNet = IpNet {
        addr: IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 0)),
        prefix: 8,
    };
    /// `::1/128`, IPv6 loopback.
    pub const LOOPBACK_V6: IpNet = IpNet {
        addr: IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        prefix: 128,
    };

    /// The network of `addr` with `prefix` leading bits, if the prefix fits.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<IpNet> {
        (prefix <= max_prefix(addr)).then_some(IpNet { addr, prefix })
    }

    /// Whether `ip` lies in this network. IPv4-mapped IPv6 addresses
    /// (`::ffff:a.b.c.d`) count as the IPv4 address they carry.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

/// Whether the first `bits` bits of `a` and `b` agree.
fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits);
    let (whole, rest) = (bits / 8, bits % 8);
    if a.get(..whole) != b.get(..whole) {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(whole), b.get(whole)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

impl FromStr for IpNet {
    type Err = IpNetError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text
            .parse()
            .map_err(|_| IpNetError::Address(addr_text.to_owned()))?;
        let prefix = match prefix_text {
            None => max_prefix(addr),
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|_| p.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| IpNetError::Prefix(p.to_owned()))?,
        };
        IpNet::new(addr, prefix).ok_or_else(|| IpNetError::Prefix(prefix.to_string()))
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Serialize for IpNet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IpNet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(net("127.0.0.0/8").to_string(), "127.0.0.0/8");
        assert_eq!(net("::1").to_string(), "::1/128");
        assert_eq!(net("10.1.2.3").to_string(), "10.1.2.3/32");
        assert_eq!(net("0.0.0.0/0").to_string(), "0.0.0.0/0");
        for bad in [
            "",
            "x/8",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/+8",
            "1/2/3",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn membership() {
        let lo = net("127.0.0.0/8");
        assert!(lo.contains(ip("127.0.0.1")));
        assert!(lo.contains(ip("127.255.0.9")));
        assert!(!lo.contains(ip("128.0.0.1")));
        assert!(lo.contains(ip("::ffff:127.0.0.2")));
        assert!(!lo.contains(ip("::1")));
        let odd = net("192.168.4.0/22");
        assert!(odd.contains(ip("192.168.7.255")));
        assert!(!odd.contains(ip("192.168.8.0")));
        assert!(net("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(net("::1/128").contains(ip("::1")));
        assert!(!net("::1/128").contains(ip("::2")));
        assert!(net("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
        assert!(!net("10.0.0.1").contains(ip("10.0.0.2")));
        assert_eq!(IpNet::LOOPBACK_V4, net("127.0.0.0/8"));
        assert_eq!(IpNet::LOOPBACK_V6, net("::1/128"));
    }

    #[test]
    fn serde_round_trip() {
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct T {
            n: Vec<IpNet>,
        }
        let t: T = toml::from_str("n = [\"10.0.0.0/8\", \"::1\"]").unwrap();
        assert_eq!(t.n, vec![net("10.0.0.0/8"), net("::1/128")]);
        let text = toml::to_string(&t).unwrap();
        assert_eq!(toml::from_str::<T>(&text).unwrap(), t);
        assert!(toml::from_str::<T>("n = [\"10.0.0.0/40\"]").is_err());
    }
}
