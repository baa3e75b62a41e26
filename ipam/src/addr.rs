//! Addresses as `u128` numbers, so one piece of arithmetic serves IPv4 and IPv6 without overflow.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// The address as a number; an IPv4 address fills the low 32 bits.
pub(crate) fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The address a number stands for. For IPv4 the caller keeps `n` below 2^32 (every number here
/// comes from an IPv4 subnet's bounds); higher bits would be dropped, never a panic.
pub(crate) fn from_u128(n: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(n))
    } else {
        IpAddr::V4(Ipv4Addr::from(n as u32))
    }
}

/// The longest prefix of the family: 32 or 128.
pub(crate) fn max_prefix(v6: bool) -> u8 {
    if v6 {
        128
    } else {
        32
    }
}

/// The first and last address of a subnet, as numbers (the prefix's host bits are ignored).
pub(crate) fn bounds(net: &IpNet) -> (u128, u128) {
    (to_u128(net.network()), to_u128(net.broadcast()))
}

/// Whether two inclusive ranges of numbers share at least one number.
pub(crate) fn ranges_overlap(a: (u128, u128), b: (u128, u128)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_for_both_families() {
        let v4: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(to_u128(v4), 0x0a01_0203);
        assert_eq!(from_u128(0x0a01_0203, false), v4);
        let v6: IpAddr = "fd00::1".parse().unwrap();
        assert_eq!(from_u128(to_u128(v6), true), v6);
    }

    #[test]
    fn bounds_cover_the_whole_subnet_even_at_the_extremes() {
        assert_eq!(bounds(&"10.0.0.0/8".parse().unwrap()), (0x0a00_0000, 0x0aff_ffff));
        assert_eq!(bounds(&"::/0".parse().unwrap()), (0, u128::MAX));
        assert_eq!(bounds(&"0.0.0.0/0".parse().unwrap()), (0, u128::from(u32::MAX)));
        assert_eq!(bounds(&"10.1.0.5/32".parse().unwrap()), (0x0a01_0005, 0x0a01_0005));
    }

    #[test]
    fn overlap_is_inclusive() {
        assert!(ranges_overlap((0, 10), (10, 20)));
        assert!(!ranges_overlap((0, 9), (10, 20)));
        assert!(ranges_overlap((5, 6), (0, u128::MAX)));
    }
}
