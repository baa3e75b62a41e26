//! An address space: its allocated pools, kept apart (no two overlap) and found by subnet.

use std::collections::BTreeMap;

use ipnet::IpNet;

use crate::addr::bounds;
use crate::config::PoolSpec;
use crate::error::IpamError;
use crate::picker::{first_free_subnet, RouteIndex};
use crate::pool::Pool;

/// The pools of one address space (`LocalDefault` or `GlobalDefault`).
#[derive(Debug)]
pub(crate) struct AddressSpace {
    name: &'static str,
    /// Keyed by (is IPv6, first address): since pools never overlap, the pool that starts last at
    /// or before an address is the only one that can contain it.
    pools: BTreeMap<(bool, u128), Pool>,
}

fn key(subnet: &IpNet) -> (bool, u128) {
    (matches!(subnet, IpNet::V6(_)), bounds(subnet).0)
}

impl AddressSpace {
    pub(crate) fn new(name: &'static str) -> Self {
        Self { name, pools: BTreeMap::new() }
    }

    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The allocated pool overlapping `first..=last` that reaches furthest, in O(log pools).
    fn overlapping(&self, v6: bool, first: u128, last: u128) -> Option<&Pool> {
        let (&(pool_v6, _), pool) = self.pools.range(..=(v6, last)).next_back()?;
        (pool_v6 == v6 && bounds(&pool.subnet()).1 >= first).then_some(pool)
    }

    /// Allocates `subnet` (checked: no host bits, `range` inside it) unless it overlaps a pool.
    pub(crate) fn add(&mut self, subnet: IpNet, range: Option<IpNet>) -> Result<&Pool, IpamError> {
        let (first, last) = bounds(&subnet);
        let k = key(&subnet);
        if let Some(existing) = self.overlapping(k.0, first, last) {
            return Err(IpamError::PoolOverlap { subnet, existing: existing.subnet(), space: self.name.to_string() });
        }
        Ok(self.pools.entry(k).or_insert_with(|| Pool::new(subnet, range)))
    }

    /// The first subnet of `specs` that overlaps no pool of this space and no host route.
    pub(crate) fn pick<'a>(&self, specs: impl IntoIterator<Item = &'a PoolSpec>, routes: &[IpNet]) -> Option<IpNet> {
        let routes = RouteIndex::new(routes);
        first_free_subnet(specs, |v6, first, last| {
            let pool_end = self.overlapping(v6, first, last).map(|p| bounds(&p.subnet()).1);
            pool_end.max(routes.blocker(v6, first, last))
        })
    }

    /// The pool allocated as exactly `subnet` with exactly `range`.
    pub(crate) fn get_mut(&mut self, subnet: &IpNet, range: Option<IpNet>) -> Option<&mut Pool> {
        self.pools.get_mut(&key(subnet)).filter(|p| p.subnet() == *subnet && p.range() == range)
    }

    /// Drops the pool allocated as exactly `subnet` with exactly `range`, with its addresses.
    pub(crate) fn remove(&mut self, subnet: &IpNet, range: Option<IpNet>) -> Option<Pool> {
        self.get_mut(subnet, range)?;
        self.pools.remove(&key(subnet))
    }

    /// How many pools are allocated.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.pools.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn overlaps_are_refused_in_both_directions() {
        let mut s = AddressSpace::new("LocalDefault");
        s.add(net("10.1.0.0/16"), None).unwrap();
        assert_eq!(
            s.add(net("10.1.0.0/24"), None).unwrap_err().to_string(),
            "subnet 10.1.0.0/24 overlaps 10.1.0.0/16, already allocated in address space LocalDefault"
        );
        assert_eq!(
            s.add(net("10.0.0.0/8"), None).unwrap_err().to_string(),
            "subnet 10.0.0.0/8 overlaps 10.1.0.0/16, already allocated in address space LocalDefault"
        );
        assert!(s.add(net("10.1.200.0/24"), None).is_err());
        s.add(net("10.2.0.0/16"), None).unwrap();
        s.add(net("10.0.255.0/24"), None).unwrap();
        // The same numbers in the other family do not collide.
        s.add(net("::a01:0/112"), None).unwrap();
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn lookup_needs_the_exact_subnet_and_range() {
        let mut s = AddressSpace::new("LocalDefault");
        s.add(net("10.1.0.0/16"), Some(net("10.1.5.0/24"))).unwrap();
        assert!(s.get_mut(&net("10.1.0.0/16"), None).is_none());
        assert!(s.get_mut(&net("10.1.0.0/24"), Some(net("10.1.5.0/24"))).is_none());
        assert!(s.get_mut(&net("10.1.0.0/16"), Some(net("10.1.5.0/24"))).is_some());
        assert!(s.remove(&net("10.1.0.0/16"), None).is_none());
        assert!(s.remove(&net("10.1.0.0/16"), Some(net("10.1.5.0/24"))).is_some());
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn pick_skips_pools_and_routes() {
        let mut s = AddressSpace::new("LocalDefault");
        let specs: Vec<PoolSpec> = vec!["base=10.1.0.0/16,size=24".parse().unwrap()];
        s.add(net("10.1.0.0/24"), None).unwrap();
        let routes = [net("10.1.1.0/24"), net("0.0.0.0/0")];
        assert_eq!(s.pick(&specs, &routes), Some(net("10.1.2.0/24")));
    }
}
