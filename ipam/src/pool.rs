//! One allocated subnet: which of its addresses are taken, and where the next free one is looked for.
//!
//! Addresses are handled as offsets from the subnet's network address (`u128`, so an IPv6 /0 fits).
//! The network address (except in IPv4 /31 and /32 and IPv6 /127 and /128, which have no address
//! to spare) and the IPv4 broadcast address (IPv4 /30 and shorter) are reserved: never handed out,
//! never accepted. They are not stored in the bitmap, so a new pool allocates nothing, whatever
//! its size.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::addr::{bounds, from_u128, to_u128};
use crate::bitmap::SparseBitmap;
use crate::error::IpamError;

/// An allocated subnet with its optional `--ip-range` and its taken addresses.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    subnet: IpNet,
    range: Option<IpNet>,
    v6: bool,
    /// The network address as a number; offsets are relative to it.
    base: u128,
    /// Offset of the last address of the subnet.
    last: u128,
    reserve_network: bool,
    reserve_broadcast: bool,
    /// Offsets automatic allocation draws from: the ip-range, or the whole subnet.
    lo: u128,
    hi: u128,
    /// How many offsets in `lo..=hi` can be handed out (reserved ones excluded), saturating at
    /// `u128::MAX` for an IPv6 /0 without a range.
    capacity: u128,
    /// How many offsets in `lo..=hi` are taken, however they were taken.
    taken_in_range: u128,
    /// Where the next automatic allocation starts looking; moves forward and wraps, so a released
    /// address is not handed out again at once.
    cursor: u128,
    used: SparseBitmap,
}

impl Pool {
    /// A pool for `subnet` (network address, no host bits), drawing container addresses from
    /// `range`, which the caller has checked is inside `subnet`.
    pub(crate) fn new(subnet: IpNet, range: Option<IpNet>) -> Pool {
        let v6 = matches!(subnet, IpNet::V6(_));
        let (base, end) = bounds(&subnet);
        let last = end - base;
        let prefix = subnet.prefix_len();
        let reserve_network = if v6 { prefix <= 126 } else { prefix <= 30 };
        let reserve_broadcast = !v6 && prefix <= 30;
        let (lo, hi) = match range {
            Some(r) => {
                let (s, e) = bounds(&r);
                (s.saturating_sub(base), e.saturating_sub(base).min(last))
            }
            None => (0, last),
        };
        let mut pool = Pool {
            subnet,
            range,
            v6,
            base,
            last,
            reserve_network,
            reserve_broadcast,
            lo,
            hi,
            capacity: 0,
            taken_in_range: 0,
            cursor: lo,
            used: SparseBitmap::new(),
        };
        let reserved_in_range = [0, last].iter().filter(|&&o| pool.is_reserved(o) && o >= lo && o <= hi).count();
        let span = hi - lo; // one less than the number of offsets, so it fits in u128
        pool.capacity = match reserved_in_range {
            0 => span.saturating_add(1),
            n => span - (n as u128 - 1),
        };
        pool
    }

    pub(crate) fn subnet(&self) -> IpNet {
        self.subnet
    }

    pub(crate) fn range(&self) -> Option<IpNet> {
        self.range
    }

    /// How many addresses are taken in the whole subnet.
    #[cfg(test)]
    pub(crate) fn allocated(&self) -> u128 {
        self.used.len()
    }

    fn is_reserved(&self, offset: u128) -> bool {
        (self.reserve_network && offset == 0) || (self.reserve_broadcast && offset == self.last)
    }

    fn address(&self, offset: u128) -> IpAddr {
        from_u128(self.base + offset, self.v6)
    }

    /// The offset of `ip`, if it is in this subnet.
    fn offset_of(&self, ip: IpAddr) -> Result<u128, IpamError> {
        if !self.subnet.contains(&ip) {
            return Err(IpamError::AddressNotInSubnet { address: ip, subnet: self.subnet });
        }
        Ok(to_u128(ip) - self.base)
    }

    /// The lowest free, unreserved offset in `from..=to`. At most three bitmap searches: the two
    /// reserved offsets are the only clear bits it steps over.
    fn next_free(&self, mut from: u128, to: u128) -> Option<u128> {
        loop {
            let found = self.used.first_clear_in(from, to)?;
            if !self.is_reserved(found) {
                return Some(found);
            }
            from = found.checked_add(1)?;
        }
    }

    fn take(&mut self, offset: u128) -> IpAddr {
        if self.used.insert(offset) && (self.lo..=self.hi).contains(&offset) {
            self.taken_in_range += 1;
        }
        self.address(offset)
    }

    fn exhausted(&self) -> IpamError {
        match self.range {
            Some(range) => IpamError::IpRangeExhausted { range, subnet: self.subnet },
            None => IpamError::PoolExhausted { subnet: self.subnet },
        }
    }

    /// The next free address of the range (or subnet), from the cursor on, wrapping once.
    ///
    /// O(1) while the range has room near the cursor. A full range is reported from the counter
    /// without a search; a nearly full one costs one lookup per 64 taken addresses passed over.
    pub(crate) fn allocate_next(&mut self) -> Result<IpAddr, IpamError> {
        if self.taken_in_range >= self.capacity {
            return Err(self.exhausted());
        }
        let start = self.cursor;
        let wrapped = || if start > self.lo { self.next_free(self.lo, start - 1) } else { None };
        let Some(offset) = self.next_free(start, self.hi).or_else(wrapped) else {
            return Err(self.exhausted());
        };
        self.cursor = if offset >= self.hi { self.lo } else { offset + 1 };
        Ok(self.take(offset))
    }

    /// The gateway: the first free host address of the whole subnet (not of the range), which is
    /// its first host address unless someone took that already. The cursor does not move.
    pub(crate) fn allocate_gateway(&mut self) -> Result<IpAddr, IpamError> {
        match self.next_free(0, self.last) {
            Some(offset) => Ok(self.take(offset)),
            None => Err(IpamError::PoolExhausted { subnet: self.subnet }),
        }
    }

    /// A given address (gateway, aux address, `--ip`): anywhere in the subnet, in the range or not.
    pub(crate) fn allocate_specific(&mut self, ip: IpAddr) -> Result<IpAddr, IpamError> {
        let offset = self.offset_of(ip)?;
        if self.reserve_network && offset == 0 {
            return Err(IpamError::NetworkAddress { address: ip, subnet: self.subnet });
        }
        if self.reserve_broadcast && offset == self.last {
            return Err(IpamError::BroadcastAddress { address: ip, subnet: self.subnet });
        }
        if self.used.contains(offset) {
            return Err(IpamError::AddressInUse(ip));
        }
        Ok(self.take(offset))
    }

    /// Gives `ip` back. Releasing an address of the subnet that is not taken is a no-op that
    /// returns `Ok(false)`, as Docker's allocator does: deleting a network releases its gateway and
    /// aux addresses, and a retried delete must not fail on ones already given back. An address
    /// outside the subnet is an error: it names the wrong pool.
    pub(crate) fn release(&mut self, ip: IpAddr) -> Result<bool, IpamError> {
        let offset = self.offset_of(ip)?;
        let was_taken = self.used.remove(offset);
        if was_taken && (self.lo..=self.hi).contains(&offset) {
            self.taken_in_range -= 1;
        }
        Ok(was_taken)
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
    fn pool(subnet: &str, range: Option<&str>) -> Pool {
        Pool::new(net(subnet), range.map(net))
    }
    fn next(p: &mut Pool) -> String {
        p.allocate_next().unwrap().to_string()
    }

    #[test]
    fn hands_out_host_addresses_in_order_and_stops_at_broadcast() {
        let mut p = pool("10.1.0.0/29", None);
        let got: Vec<String> = (0..6).map(|_| next(&mut p)).collect();
        assert_eq!(got, ["10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.6"]);
        assert_eq!(p.allocate_next(), Err(IpamError::PoolExhausted { subnet: net("10.1.0.0/29") }));
        assert_eq!(p.allocated(), 6);
    }

    #[test]
    fn cursor_moves_on_after_a_release_and_wraps_around() {
        let mut p = pool("10.1.0.0/29", None);
        for _ in 0..3 {
            next(&mut p);
        }
        assert_eq!(p.release(ip("10.1.0.2")), Ok(true));
        assert_eq!(next(&mut p), "10.1.0.4", "a released address is not handed out again at once");
        assert_eq!(next(&mut p), "10.1.0.5");
        assert_eq!(next(&mut p), "10.1.0.6");
        assert_eq!(next(&mut p), "10.1.0.2", "after the end the cursor wraps to the freed address");
        assert!(p.allocate_next().is_err());
        p.release(ip("10.1.0.5")).unwrap();
        assert_eq!(next(&mut p), "10.1.0.5");
    }

    #[test]
    fn gateway_is_the_first_host_of_the_subnet_even_with_a_range() {
        let mut p = pool("10.1.0.0/16", Some("10.1.5.0/24"));
        assert_eq!(p.allocate_gateway().unwrap(), ip("10.1.0.1"));
        assert_eq!(next(&mut p), "10.1.5.0", "the range's own .0 is not the subnet's network address");
        assert_eq!(next(&mut p), "10.1.5.1");
        // A gateway asked for again (say .1 was given as an aux address) takes the next free host.
        assert_eq!(p.allocate_gateway().unwrap(), ip("10.1.0.2"));
    }

    #[test]
    fn range_exhaustion_counts_only_addresses_inside_it() {
        let mut p = pool("10.1.0.0/24", Some("10.1.0.8/30"));
        p.allocate_specific(ip("10.1.0.100")).unwrap();
        let got: Vec<String> = (0..4).map(|_| next(&mut p)).collect();
        assert_eq!(got, ["10.1.0.8", "10.1.0.9", "10.1.0.10", "10.1.0.11"]);
        assert_eq!(
            p.allocate_next().unwrap_err().to_string(),
            "no available addresses in ip-range 10.1.0.8/30 of pool 10.1.0.0/24"
        );
        p.allocate_specific(ip("10.1.0.1")).unwrap();
        p.release(ip("10.1.0.9")).unwrap();
        assert_eq!(next(&mut p), "10.1.0.9");
    }

    #[test]
    fn a_range_at_the_subnet_edges_skips_reserved_addresses() {
        let mut p = pool("10.1.0.0/24", Some("10.1.0.0/30"));
        let got: Vec<String> = (0..3).map(|_| next(&mut p)).collect();
        assert_eq!(got, ["10.1.0.1", "10.1.0.2", "10.1.0.3"]);
        assert!(p.allocate_next().is_err());
        let mut p = pool("10.1.0.0/24", Some("10.1.0.252/30"));
        let got: Vec<String> = (0..3).map(|_| next(&mut p)).collect();
        assert_eq!(got, ["10.1.0.252", "10.1.0.253", "10.1.0.254"]);
        assert!(p.allocate_next().is_err());
    }

    #[test]
    fn specific_addresses_obey_the_rules() {
        let mut p = pool("10.1.0.0/24", Some("10.1.0.128/25"));
        assert_eq!(p.allocate_specific(ip("10.1.0.5")), Ok(ip("10.1.0.5")), "outside the range is fine");
        assert_eq!(p.allocate_specific(ip("10.1.0.5")).unwrap_err().to_string(), "address 10.1.0.5 is already in use");
        assert_eq!(
            p.allocate_specific(ip("10.9.0.5")).unwrap_err().to_string(),
            "address 10.9.0.5 is not in subnet 10.1.0.0/24"
        );
        assert_eq!(
            p.allocate_specific(ip("10.1.0.0")).unwrap_err().to_string(),
            "address 10.1.0.0 is the network address of subnet 10.1.0.0/24 and cannot be assigned"
        );
        assert_eq!(
            p.allocate_specific(ip("10.1.0.255")).unwrap_err().to_string(),
            "address 10.1.0.255 is the broadcast address of subnet 10.1.0.0/24 and cannot be assigned"
        );
        assert!(matches!(p.allocate_specific(ip("fd00::1")), Err(IpamError::AddressNotInSubnet { .. })));
        assert_eq!(p.release(ip("10.1.0.6")), Ok(false), "releasing a free address is a no-op");
        assert!(p.release(ip("192.168.0.1")).is_err());
        assert_eq!(p.release(ip("10.1.0.5")), Ok(true));
        assert_eq!(p.allocated(), 0);
    }

    #[test]
    fn tiny_ipv4_pools_have_no_reserved_addresses() {
        let mut p = pool("10.1.0.4/31", None);
        assert_eq!(next(&mut p), "10.1.0.4");
        assert_eq!(next(&mut p), "10.1.0.5");
        assert!(p.allocate_next().is_err());
        let mut p = pool("10.1.0.7/32", None);
        assert_eq!(p.allocate_gateway().unwrap(), ip("10.1.0.7"));
        assert!(p.allocate_next().is_err());
        assert!(p.allocate_gateway().is_err());
        let mut p = pool("10.1.0.0/30", None);
        assert_eq!((next(&mut p), next(&mut p)), ("10.1.0.1".into(), "10.1.0.2".into()));
        assert!(p.allocate_next().is_err());
    }

    #[test]
    fn ipv6_reserves_only_the_network_address() {
        let mut p = pool("fd00::/126", None);
        let got: Vec<String> = (0..3).map(|_| next(&mut p)).collect();
        assert_eq!(got, ["fd00::1", "fd00::2", "fd00::3"]);
        assert!(p.allocate_next().is_err());
        let mut p = pool("fd00::2/127", None);
        assert_eq!((next(&mut p), next(&mut p)), ("fd00::2".into(), "fd00::3".into()));
        let mut p = pool("fd00::9/128", None);
        assert_eq!(next(&mut p), "fd00::9");
        assert!(p.allocate_next().is_err());
    }

    #[test]
    fn huge_pools_cost_nothing_up_front_and_do_not_overflow() {
        let mut p = pool("::/0", None);
        assert_eq!(p.capacity, u128::MAX);
        assert_eq!(next(&mut p), "::1");
        assert_eq!(
            p.allocate_specific(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")).unwrap().to_string(),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
        );
        let mut p = pool("::/0", Some("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"));
        assert_eq!(next(&mut p), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
        assert_eq!(next(&mut p), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        assert!(p.allocate_next().is_err());
        let mut p = pool("0.0.0.0/0", None);
        assert_eq!(next(&mut p), "0.0.0.1");
        assert!(p.allocate_specific(ip("255.255.255.255")).is_err());
        assert_eq!(p.allocate_specific(ip("255.255.255.254")), Ok(ip("255.255.255.254")));
    }
}
