//! Address ranges (`10.0.0.0/8`, `::1/128`) for `--fleet-from`: who may read the fleet view.

use std::net::IpAddr;
use std::str::FromStr;

/// An address range: an address and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

/// Who reads the fleet view when `--fleet-from` is not given: this host only.
pub const LOOPBACK: &str = "127.0.0.0/8,::1/128";

impl Network {
    /// Whether `ip` is in the range (an IPv4 address mapped into IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Network {
    type Err = String;

    /// `ADDRESS/PREFIX`, or an address alone (the one address).
    fn from_str(text: &str) -> Result<Network, String> {
        let (addr, prefix) = text.split_once('/').unwrap_or((text, ""));
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{text}: not an address range such as 10.0.0.0/8"))?;
        let most = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            "" => most,
            p => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= most)
                .ok_or_else(|| format!("{text}: the prefix length is 0 to {most}"))?,
        };
        Ok(Network { addr, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_list(text: &str) -> Result<Vec<Network>, String> {
        text.split(',').map(|s| s.trim().parse()).collect()
    }

    #[test]
    fn ranges_contain_their_addresses() {
        let list = parse_list("10.0.0.0/8, ::1, 2001:db8::/32").unwrap();
        let has = |ip: &str| list.iter().any(|n| n.contains(ip.parse().unwrap()));
        assert!(has("10.1.2.3"));
        assert!(has("::ffff:10.9.9.9"));
        assert!(has("::1"));
        assert!(has("2001:db8:1::5"));
        assert!(!has("11.0.0.1"));
        assert!(!has("127.0.0.1"));
        assert!(!has("2001:db9::1"));
        let any = parse_list("0.0.0.0/0,::/0").unwrap();
        assert!(any.iter().any(|n| n.contains("192.0.2.1".parse().unwrap())));
        assert!(parse_list("10.0.0.0/33").is_err());
        assert!(parse_list("ten/8").is_err());
    }
}
