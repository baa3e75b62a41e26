//! The firewall mechanism any driver builds its policy on: one nftables table of its own in a
//! network namespace, whose fixed ruleset is loaded once and whose sets and maps then change by
//! their elements only.
//!
//! A driver declares its table's chains, rules, sets and maps with the `nftables` crate's schema
//! types (re-exported here as [`nftables`], so that the ruleset and the loader agree on one
//! version) and loads them with one `nft -j -f -` run ([`Firewall::load`]). Everything that
//! changes with its networks and ports is a [`SetElements`], added and removed through nf_tables
//! netlink messages, one atomic batch per call ([`crate::osl::nft`]): no process is started per
//! network or port, and the 1000th element costs what the 1st did. What a network or a port is
//! in which set is the driver's policy, not this module's (the bridge driver's is in its
//! `firewall` module).
//!
//! ```no_run
//! use std::net::Ipv4Addr;
//! use libnet::osl::firewall::{Firewall, SetElements};
//! use libnet::osl::nft::{Datum, Element, Family, Table};
//! # fn main() -> libnet::osl::Result<()> {
//! let mut firewall = Firewall::new(Table::new(Family::Inet, "example"))?;
//! firewall.load_json(
//!     r#"{"nftables": [
//!         {"add": {"table": {"family": "inet", "name": "example"}}},
//!         {"add": {"set": {"family": "inet", "table": "example", "name": "blocked", "type": "ipv4_addr"}}}
//!     ]}"#,
//! )?;
//! let mut elements = SetElements::new();
//! elements.push("blocked", Element::new(&[Datum::Ipv4(Ipv4Addr::new(192, 0, 2, 1))]));
//! firewall.add(&elements)?;
//! firewall.remove(&elements)?;
//! firewall.remove(&elements)?; // already gone: no error
//! # Ok(()) }
//! ```

mod elements;
mod load;
#[cfg(test)]
mod tests;

use nix::libc;

use super::nft::{Nftables, Table};
use super::{get_sysctl, set_sysctl, Netns, OslError, Result};
pub use elements::SetElements;
/// The `nftables` crate, whose schema types a ruleset for [`Firewall::load`] is written in.
pub use nftables;

/// One nftables table in the network namespace the firewall was opened in: its ruleset loaded
/// with `nft`, its elements added and removed over netlink.
///
/// Every call works in that namespace whatever thread makes it: the netlink socket belongs to
/// it, and `nft` is run from a thread that entered it.
pub struct Firewall {
    nft: Nftables,
    netns: Netns,
    table: Table,
    /// Whether the kernel has NFT_MSG_DESTROYSETELEM (Linux 6.3): `None` until the first removal
    /// finds out.
    destroy: Option<bool>,
}

impl std::fmt::Debug for Firewall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Firewall").field("netns", &self.netns).field("table", &self.table).finish_non_exhaustive()
    }
}

impl Firewall {
    /// A firewall for `table` in the calling thread's namespace: opens a netlink socket there,
    /// loads nothing.
    pub fn new(table: Table) -> Result<Firewall> {
        Ok(Firewall { netns: Netns::current()?, nft: Nftables::new()?, table, destroy: None })
    }

    /// The table whose sets and maps it changes.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The namespace it works in: for what a policy sets beside its elements (sysctls of its
    /// interfaces), with [`Netns::run`].
    pub fn netns(&self) -> &Netns {
        &self.netns
    }

    /// Load `ruleset` with one `nft -j -f -` run, atomically: all of it or nothing. A ruleset
    /// that replaces its table (add, delete, add it first) leaves no element from before.
    pub fn load(&mut self, ruleset: &nftables::schema::Nftables<'_>) -> Result<()> {
        let json = load::to_json(ruleset)?;
        self.load_json(&json)
    }

    /// [`Firewall::load`] of a ruleset already in `nft -j`'s JSON.
    pub fn load_json(&mut self, json: &str) -> Result<()> {
        self.netns.run(|| load::load_json(json))?
    }

    /// Add `elements` in one batch, all or nothing. An element already there with the same data
    /// is not an error; a map element whose key is there with other data is, for the whole
    /// batch ([`is_element_clash`] tells it apart).
    pub fn add(&mut self, elements: &SetElements) -> Result<()> {
        self.nft.commit(&elements.add_batch(&self.table))
    }

    /// Delete `elements`, those already missing being no error (a map's element is named by its
    /// key alone, an [`Element`](crate::osl::nft::Element) with no data: it goes whatever it
    /// maps to): one `destroy` batch where the kernel has it (Linux 6.3), else one
    /// deletion batch. A batch is all or nothing, so when the kernel refuses one with ENOENT (an
    /// element already gone, for a deletion; a set or table gone, someone having flushed the
    /// ruleset, for either), each element is removed alone and those it says are missing are
    /// passed over.
    pub fn remove(&mut self, elements: &SetElements) -> Result<()> {
        let destroy = self.destroy != Some(false);
        let table = &self.table;
        let batch = |e: &SetElements| if destroy { e.destroy_batch(table) } else { e.delete_batch(table) };
        match self.nft.commit(&batch(elements)) {
            Ok(()) => {
                self.destroy.get_or_insert(destroy);
                Ok(())
            }
            Err(e) if e.errno == Some(libc::ENOENT) => {
                self.destroy.get_or_insert(destroy);
                for one in elements.each() {
                    match self.nft.commit(&batch(&one)) {
                        Ok(()) => {}
                        Err(e) if e.errno == Some(libc::ENOENT) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            }
            // A kernel before 6.3 does not know `destroy`: deletion is tried, and if it works, is
            // what this firewall uses from then on. If it fails too, the batch itself was refused,
            // and nothing is learnt about the kernel.
            Err(e) if self.destroy.is_none() && matches!(e.errno, Some(libc::EINVAL) | Some(libc::EOPNOTSUPP)) => {
                self.destroy = Some(false);
                match self.remove(elements) {
                    Ok(()) => {
                        tracing::info!(
                            "this kernel has no nftables element destroy (Linux 6.3): deleting elements instead"
                        );
                        Ok(())
                    }
                    Err(e) => {
                        self.destroy = None;
                        Err(e)
                    }
                }
            }
            Err(e) => Err(e),
        }
    }
}

/// Whether [`Firewall::add`] failed because a map element of its batch has its key there already
/// with other data (the kernel says EBUSY or EEXIST).
pub fn is_element_clash(e: &OslError) -> bool {
    e.errno == Some(libc::EBUSY) || e.is_exists()
}

/// Docker's --ip-forward: set net.ipv4.ip_forward (and net.ipv6.conf.all.forwarding when
/// `ipv6`) to 1 in the calling thread's namespace; returns what changed, e.g.
/// ["net.ipv4.ip_forward 0 -> 1"], for the daemon to log.
pub fn enable_ip_forward(ipv6: bool) -> Result<Vec<String>> {
    let mut keys = vec!["net/ipv4/ip_forward"];
    if ipv6 {
        keys.push("net/ipv6/conf/all/forwarding");
    }
    let mut changed = Vec::new();
    for key in keys {
        let before = get_sysctl(key)?;
        if before != "1" {
            set_sysctl(key, "1")?;
            changed.push(format!("{} {before} -> 1", key.replace('/', ".")));
        }
    }
    Ok(changed)
}
