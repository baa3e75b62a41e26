//! Automatic subnet choice: the first subnet of the default pools that nothing in the way overlaps.
//!
//! Candidates are not tried one by one: when a candidate is blocked, the walk jumps to the first
//! aligned subnet past the end of whatever blocks it. Picking therefore costs O(blockers) steps,
//! not O(candidates): a 10.0.0.0/8 pool cut into /24s has 65536 candidates, and the 1000th
//! network is found after at most ~1000 jumps rather than a scan of every candidate against every
//! network.

use ipnet::IpNet;

use crate::addr::{bounds, from_u128, max_prefix, ranges_overlap};
use crate::config::PoolSpec;

/// The host's routes of both families as sorted, merged ranges, built once per pick so each
/// candidate is checked with a binary search instead of a scan of every route: with 1000
/// networks the host has 2000 routes, and a scan per candidate made picking quadratic.
pub(crate) struct RouteIndex {
    v4: Vec<(u128, u128)>,
    v6: Vec<(u128, u128)>,
}

impl RouteIndex {
    /// Index `routes`, leaving out default routes (/0), which would block everything.
    pub(crate) fn new(routes: &[IpNet]) -> Self {
        let merged = |v6: bool| {
            let mut r: Vec<(u128, u128)> =
                routes.iter().filter(|r| r.prefix_len() > 0 && matches!(r, IpNet::V6(_)) == v6).map(bounds).collect();
            r.sort_unstable();
            let mut out: Vec<(u128, u128)> = Vec::with_capacity(r.len());
            for (start, end) in r {
                match out.last_mut() {
                    Some(last) if start <= last.1 => last.1 = last.1.max(end),
                    _ => out.push((start, end)),
                }
            }
            out
        };
        RouteIndex { v4: merged(false), v6: merged(true) }
    }

    /// The end of a route range overlapping `first..=last`, if any.
    pub(crate) fn blocker(&self, v6: bool, first: u128, last: u128) -> Option<u128> {
        let list = if v6 { &self.v6 } else { &self.v4 };
        let i = list.partition_point(|&(_, end)| end < first);
        list.get(i).filter(|&&r| ranges_overlap(r, (first, last))).map(|&(_, end)| end)
    }
}

/// The first subnet, walking `specs` in order, for which `blocker(v6, first, last)` says nothing
/// is in the way. `blocker` returns the last address of whatever overlaps the candidate (the
/// furthest one, if several do).
pub(crate) fn first_free_subnet<'a>(
    specs: impl IntoIterator<Item = &'a PoolSpec>,
    blocker: impl Fn(bool, u128, u128) -> Option<u128>,
) -> Option<IpNet> {
    specs.into_iter().find_map(|spec| first_free_in(spec, &blocker))
}

fn first_free_in(spec: &PoolSpec, blocker: &impl Fn(bool, u128, u128) -> Option<u128>) -> Option<IpNet> {
    let v6 = spec.is_v6();
    let (base, size) = spec.normalized();
    let (base_first, base_last) = bounds(&base);
    // Subnets of `size` bits are `step` addresses apart; `None` means one subnet spans the whole
    // IPv6 space (size 0), which only happens with base ::/0.
    let step = 1u128.checked_shl(u32::from(max_prefix(v6) - size));
    let mut candidate = base_first;
    loop {
        let last = match step {
            Some(step) => candidate + (step - 1),
            None => u128::MAX,
        };
        let Some(blocked_until) = blocker(v6, candidate, last) else {
            return IpNet::new(from_u128(candidate, v6), size).ok();
        };
        // The first subnet boundary after the blocker, if still inside the base.
        let past = blocked_until.checked_add(1)?;
        let step = step?;
        let misalignment = (past - base_first) % step;
        candidate = if misalignment == 0 { past } else { past.checked_add(step - misalignment)? };
        if candidate > base_last {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }
    fn spec(s: &str) -> PoolSpec {
        s.parse().unwrap()
    }
    /// A blocker over a fixed list of taken subnets (which may overlap each other).
    fn taken(list: &[&str]) -> impl Fn(bool, u128, u128) -> Option<u128> {
        let nets: Vec<IpNet> = list.iter().map(|s| net(s)).collect();
        let index = RouteIndex::new(&nets);
        move |v6, first, last| index.blocker(v6, first, last)
    }

    #[test]
    fn picks_the_first_candidate_when_nothing_is_taken() {
        let specs = [spec("base=10.10.0.0/16,size=24")];
        assert_eq!(first_free_subnet(&specs, taken(&[])), Some(net("10.10.0.0/24")));
    }

    #[test]
    fn jumps_past_blockers_of_any_size_and_alignment() {
        let specs = [spec("base=10.10.0.0/16,size=24")];
        assert_eq!(first_free_subnet(&specs, taken(&["10.10.0.0/23"])), Some(net("10.10.2.0/24")));
        assert_eq!(first_free_subnet(&specs, taken(&["10.10.0.5/32"])), Some(net("10.10.1.0/24")));
        assert_eq!(first_free_subnet(&specs, taken(&["10.10.0.0/24", "10.10.1.128/25"])), Some(net("10.10.2.0/24")));
        assert_eq!(first_free_subnet(&specs, taken(&["10.0.0.0/8"])), None);
        // A blocker larger than the candidate, starting before the base.
        let specs = [spec("base=10.10.0.0/16,size=24"), spec("base=10.20.0.0/16,size=24")];
        assert_eq!(first_free_subnet(&specs, taken(&["10.10.0.0/16"])), Some(net("10.20.0.0/24")));
    }

    #[test]
    fn default_routes_and_other_families_are_ignored() {
        let specs = [spec("base=10.10.0.0/16,size=24")];
        assert_eq!(first_free_subnet(&specs, taken(&["0.0.0.0/0", "::/0", "::/1"])), Some(net("10.10.0.0/24")));
    }

    #[test]
    fn extremes_do_not_overflow() {
        let specs = [spec("base=::/0,size=0")];
        assert_eq!(first_free_subnet(&specs, taken(&[])), Some(net("::/0")));
        assert_eq!(first_free_subnet(&specs, taken(&["fd00::/8"])), None);
        let specs = [spec("base=ffff::/16,size=128")];
        assert_eq!(
            first_free_subnet(&specs, taken(&["ffff::/17", "ffff:8000::/17"])),
            None,
            "the last candidate ends at u128::MAX"
        );
        assert_eq!(first_free_subnet(&specs, taken(&["ffff::/17"])), Some(net("ffff:8000::/128")));
        let specs = [spec("base=255.255.255.0/24,size=32")];
        assert_eq!(first_free_subnet(&specs, taken(&["255.255.255.0/25"])), Some(net("255.255.255.128/32")));
        let specs = [spec("base=0.0.0.0/0,size=0")];
        assert_eq!(first_free_subnet(&specs, taken(&[])), Some(net("0.0.0.0/0")));
        assert_eq!(first_free_subnet(&specs, taken(&["10.0.0.0/8"])), None);
    }
}
