//! Elements of a table's named sets and maps, grouped by set, and the netlink batches that add,
//! delete or destroy them all at once.

use crate::osl::nft::{Batch, Element, Table};

/// Elements of named sets and maps, by set, in the order the sets were first named: what a
/// network, a port or any other object of a driver's policy stands for in its table.
///
/// ```
/// use std::net::Ipv4Addr;
/// use libnet::osl::firewall::SetElements;
/// use libnet::osl::nft::{Datum, Element};
///
/// let mut elements = SetElements::new();
/// elements.push("bridges", Element::new(&[Datum::Ifname("wbr-0a1b2c3d4e".into())]));
/// elements.push("subnets4", Element::new(&[Datum::Ipv4(Ipv4Addr::new(10, 1, 0, 0))]));
/// elements.push("subnets4", Element::new(&[Datum::Ipv4(Ipv4Addr::new(10, 2, 0, 0))]).interval_end());
/// assert_eq!(elements.sets(), vec![("bridges", 1), ("subnets4", 2)]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetElements(Vec<(String, Vec<Element>)>);

impl SetElements {
    /// No elements.
    pub fn new() -> SetElements {
        SetElements::default()
    }

    /// Add `element` to those of set (or map) `set`.
    pub fn push(&mut self, set: &str, element: Element) {
        match self.0.iter_mut().find(|(name, _)| name == set) {
            Some((_, elements)) => elements.push(element),
            None => self.0.push((set.to_string(), vec![element])),
        }
    }

    /// Whether there is no element at all.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|(_, elements)| elements.is_empty())
    }

    /// The elements of set `set`, in the order they were pushed (none if it was never named).
    pub fn of(&self, set: &str) -> &[Element] {
        self.0.iter().find(|(name, _)| name == set).map(|(_, elements)| elements.as_slice()).unwrap_or_default()
    }

    /// Each set named, in order, with how many elements it has.
    pub fn sets(&self) -> Vec<(&str, usize)> {
        self.0.iter().map(|(set, elements)| (set.as_str(), elements.len())).collect()
    }

    /// One batch with `op` applied to the elements of each set of `table`.
    fn batch(&self, table: &Table, op: for<'b> fn(&'b mut Batch, &Table, &str, &[Element]) -> &'b mut Batch) -> Batch {
        let mut batch = Batch::new();
        for (set, elements) in &self.0 {
            op(&mut batch, table, set, elements);
        }
        batch
    }

    /// One batch adding them all to `table`.
    pub(super) fn add_batch(&self, table: &Table) -> Batch {
        self.batch(table, Batch::add_elements)
    }

    /// One batch deleting them all, those already missing being an error (ENOENT, and then
    /// none is deleted): for kernels without `destroy`.
    pub(super) fn delete_batch(&self, table: &Table) -> Batch {
        self.batch(table, Batch::delete_elements)
    }

    /// One batch deleting them all, those already missing being no error.
    pub(super) fn destroy_batch(&self, table: &Table) -> Batch {
        self.batch(table, Batch::destroy_elements)
    }

    /// Each element on its own.
    pub(super) fn each(&self) -> impl Iterator<Item = SetElements> + '_ {
        self.0
            .iter()
            .flat_map(|(set, elements)| elements.iter().map(move |e| SetElements(vec![(set.clone(), vec![e.clone()])])))
    }
}
