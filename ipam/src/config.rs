//! The default pools subnets are picked from (`--default-address-pool`), and the driver's config.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::addr::max_prefix;
use crate::error::IpamError;

/// One default pool: subnets of `size` bits carved out of `base` (Docker's
/// `--default-address-pool base=...,size=...`).
///
/// Built with [`PoolSpec::new`] or parsed, a spec has a base without host bits and
/// `base.prefix_len() <= size <= 32 (or 128)`. A spec built field by field that breaks this is
/// still used sensibly: its base is truncated and its size clamped into that range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawPoolSpec")]
pub struct PoolSpec {
    pub base: IpNet,
    pub size: u8,
}

/// The shape of a spec in a JSON config file (`{"base": "10.10.0.0/16", "size": 24}`), checked
/// by [`PoolSpec::new`] on the way in.
#[derive(Deserialize)]
struct RawPoolSpec {
    base: IpNet,
    size: u8,
}

impl TryFrom<RawPoolSpec> for PoolSpec {
    type Error = IpamError;
    fn try_from(raw: RawPoolSpec) -> Result<Self, IpamError> {
        PoolSpec::new(raw.base, raw.size)
    }
}

impl PoolSpec {
    /// A checked spec: `base` without host bits, `size` between its prefix length and the family's.
    pub fn new(base: IpNet, size: u8) -> Result<Self, IpamError> {
        let spec = PoolSpec { base, size };
        let fail = |reason: String| IpamError::InvalidPoolSpec { spec: spec.to_string(), reason };
        if base != base.trunc() {
            return Err(fail(format!("base {base} has host bits set; did you mean {}?", base.trunc())));
        }
        let max = max_prefix(matches!(base, IpNet::V6(_)));
        if size < base.prefix_len() || size > max {
            return Err(fail(format!(
                "size {size} must be between the base's prefix length {} and {max}",
                base.prefix_len()
            )));
        }
        Ok(spec)
    }

    /// Whether the base is an IPv6 subnet.
    pub fn is_v6(&self) -> bool {
        matches!(self.base, IpNet::V6(_))
    }

    /// The spec as the picker uses it: base truncated, size clamped into the valid range.
    pub(crate) fn normalized(&self) -> (IpNet, u8) {
        let base = self.base.trunc();
        (base, self.size.clamp(base.prefix_len(), max_prefix(self.is_v6())))
    }
}

impl fmt::Display for PoolSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "base={},size={}", self.base, self.size)
    }
}

impl FromStr for PoolSpec {
    type Err = IpamError;

    /// Parses `base=10.10.0.0/16,size=24` (keys in any order, spaces around them allowed).
    fn from_str(s: &str) -> Result<Self, IpamError> {
        let fail = |reason: String| IpamError::InvalidPoolSpec { spec: s.to_string(), reason };
        let (mut base, mut size) = (None, None);
        for field in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let Some((key, value)) = field.split_once('=') else {
                return Err(fail(format!("\"{field}\" is not key=value")));
            };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "base" if base.is_none() => {
                    let net: IpNet =
                        value.parse().map_err(|_| fail(format!("base \"{value}\" is not a subnet in CIDR form")))?;
                    base = Some(net);
                }
                "size" if size.is_none() => {
                    let bits: u8 =
                        value.parse().map_err(|_| fail(format!("size \"{value}\" is not a prefix length in bits")))?;
                    size = Some(bits);
                }
                "base" | "size" => return Err(fail(format!("{key} is given twice"))),
                _ => return Err(fail(format!("unknown key \"{key}\" (the keys are base and size)"))),
            }
        }
        let base = base.ok_or_else(|| fail("base=<cidr> is missing".into()))?;
        let size = size.ok_or_else(|| fail("size=<bits> is missing".into()))?;
        PoolSpec::new(base, size).map_err(|e| match e {
            IpamError::InvalidPoolSpec { reason, .. } => fail(reason),
            other => other,
        })
    }
}

/// A built-in spec; `new_assert` only rejects a prefix longer than the family's, and every caller
/// passes a literal.
fn builtin(base: IpAddr, prefix_len: u8, size: u8) -> PoolSpec {
    PoolSpec { base: IpNet::new_assert(base, prefix_len), size }
}

/// Docker's defaults: 172.17.0.0/16 ... 172.31.0.0/16 each as one /16, then 192.168.0.0/16 as /20s.
pub fn default_local_pools() -> Vec<PoolSpec> {
    let mut pools: Vec<PoolSpec> = (17..=31).map(|b| builtin(Ipv4Addr::new(172, b, 0, 0).into(), 16, 16)).collect();
    pools.push(builtin(Ipv4Addr::new(192, 168, 0, 0).into(), 16, 20));
    pools
}

/// The IPv6 pool used when a network enables IPv6 without a subnet: a unique-local /48 cut into /64s.
pub fn default_v6_pools() -> Vec<PoolSpec> {
    vec![builtin(Ipv6Addr::new(0xfd5e, 0x7765, 0x6674, 0, 0, 0, 0, 0).into(), 48, 64)]
}

/// Docker's default for the global (swarm) address space: 10.0.0.0/8 cut into /24s.
pub fn default_global_pools() -> Vec<PoolSpec> {
    vec![builtin(Ipv4Addr::new(10, 0, 0, 0).into(), 8, 24)]
}

/// What [`crate::DefaultIpam`] picks subnets from when a request names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpamConfig {
    /// Pools of the `LocalDefault` space. IPv6 entries here are used for IPv6 requests, before
    /// `v6_pools`.
    pub local_pools: Vec<PoolSpec>,
    /// Pools of the `GlobalDefault` space (IPv6 entries as for `local_pools`).
    pub global_pools: Vec<PoolSpec>,
    /// IPv6 pools of either space, after the space's own IPv6 entries.
    pub v6_pools: Vec<PoolSpec>,
}

impl Default for IpamConfig {
    fn default() -> Self {
        Self { local_pools: default_local_pools(), global_pools: default_global_pools(), v6_pools: default_v6_pools() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let p: PoolSpec = "base=10.10.0.0/16,size=24".parse().unwrap();
        assert_eq!(p, PoolSpec { base: "10.10.0.0/16".parse().unwrap(), size: 24 });
        assert_eq!(p.to_string(), "base=10.10.0.0/16,size=24");
        let q: PoolSpec = " size = 64 , base=fd00:1::/48 ".parse().unwrap();
        assert_eq!(q.to_string(), "base=fd00:1::/48,size=64");
        assert!(q.is_v6());
    }

    #[test]
    fn parse_errors_name_the_problem() {
        let err = |s: &str| s.parse::<PoolSpec>().unwrap_err().to_string();
        assert_eq!(
            err("base=10.10.0.0/16"),
            "invalid default address pool \"base=10.10.0.0/16\": size=<bits> is missing; \
             expected base=<cidr>,size=<bits>, like base=10.10.0.0/16,size=24"
        );
        assert!(err("size=24").contains("base=<cidr> is missing"));
        assert!(err("").contains("base=<cidr> is missing"));
        assert!(err("base=10.10.0.0,size=24").contains("base \"10.10.0.0\" is not a subnet in CIDR form"));
        assert!(err("base=10.10.0.0/16,size=big").contains("size \"big\" is not a prefix length in bits"));
        assert!(err("base=10.10.0.0/16,size=300").contains("size \"300\" is not a prefix length"));
        assert!(err("base=10.10.0.0/16,size=8").contains("size 8 must be between the base's prefix length 16 and 32"));
        assert!(err("base=10.10.0.0/16,size=33").contains("between the base's prefix length 16 and 32"));
        assert!(err("base=10.10.1.0/16,size=24")
            .contains("base 10.10.1.0/16 has host bits set; did you mean 10.10.0.0/16?"));
        assert!(err("base=10.10.0.0/16,size=24,colour=red").contains("unknown key \"colour\""));
        assert!(err("base=10.10.0.0/16,size=24,size=20").contains("size is given twice"));
        assert!(err("base=10.10.0.0/16,24").contains("\"24\" is not key=value"));
        // The parse error is an IpamError that maps to a 400.
        let e = "x".parse::<PoolSpec>().unwrap_err();
        assert_eq!(e.kind(), libnet::ErrorKind::InvalidParameter);
    }

    #[test]
    fn docker_defaults() {
        let local = default_local_pools();
        assert_eq!(local.len(), 16);
        assert_eq!(local[0].to_string(), "base=172.17.0.0/16,size=16");
        assert_eq!(local[14].to_string(), "base=172.31.0.0/16,size=16");
        assert_eq!(local[15].to_string(), "base=192.168.0.0/16,size=20");
        for p in local.iter().chain(default_v6_pools().iter()).chain(default_global_pools().iter()) {
            assert_eq!(PoolSpec::new(p.base, p.size).as_ref(), Ok(p), "{p} is a valid spec");
        }
        let c = IpamConfig::default();
        assert_eq!(c.global_pools[0].to_string(), "base=10.0.0.0/8,size=24");
        assert_eq!(c.v6_pools[0].to_string(), "base=fd5e:7765:6674::/48,size=64");
    }

    #[test]
    fn json_form_is_checked_too() {
        let p: PoolSpec = serde_json::from_str(r#"{"base":"10.20.0.0/16","size":24}"#).unwrap();
        assert_eq!(p.size, 24);
        let e = serde_json::from_str::<PoolSpec>(r#"{"base":"10.20.0.0/16","size":8}"#).unwrap_err();
        assert!(e.to_string().contains("size 8 must be between"), "{e}");
    }

    #[test]
    fn normalized_repairs_a_hand_built_spec() {
        let p = PoolSpec { base: "10.1.2.3/16".parse().unwrap(), size: 8 };
        assert_eq!(p.normalized(), ("10.1.0.0/16".parse().unwrap(), 16));
        let p = PoolSpec { base: "10.1.0.0/16".parse().unwrap(), size: 99 };
        assert_eq!(p.normalized().1, 32);
    }
}
