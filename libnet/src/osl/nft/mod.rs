//! nftables through nf_tables netlink messages: tables, chains, rules, sets and their elements, sent
//! as one atomic batch on a netfilter socket, with no `nft` process on the way.
//!
//! A [`Batch`] collects operations; [`Nftables::commit`] sends them between `NFNL_MSG_BATCH_BEGIN`
//! and `NFNL_MSG_BATCH_END`, so the kernel applies all of them or none. Every operation asks for an
//! acknowledgement, and a refusal is reported with the operation it belongs to (`add chain ip
//! weft-dns output: No such file or directory`), never as a bare errno for the whole batch.
//!
//! The message types come from `netlink-packet-netfilter` (table, chain, rule, set, element and the
//! meta/payload/cmp/immediate/lookup expressions); the expressions it lacks (nat, redir, masq,
//! counter) are encoded here from `linux/netfilter/nf_tables.h` (see [`expr`]).
//!
//! ```no_run
//! use std::net::Ipv4Addr;
//! use libnet::osl::nft::{BaseChain, Batch, ChainType, Family, Hook, Nftables, Rule, Table};
//! # fn main() -> libnet::osl::Result<()> {
//! let table = Table::new(Family::Ip, "example");
//! let mut batch = Batch::new();
//! batch.add_table(&table);
//! batch.add_chain(&table, "output", Some(&BaseChain::new(ChainType::Nat, Hook::Output, -100)));
//! let rule = Rule::new("dns to 5353").ip_daddr(Ipv4Addr::new(127, 0, 0, 11)).udp_dport(53).dnat(
//!     Some(Ipv4Addr::new(127, 0, 0, 11)),
//!     Some(5353),
//! );
//! batch.add_rule(&table, "output", &rule);
//! Nftables::new()?.commit(&batch)?;
//! # Ok(()) }
//! ```

#[cfg(test)]
mod abi_tests;
mod batch;
mod dns;
pub mod expr;
mod rule;
mod set;
mod socket;
#[cfg(test)]
mod tests;

pub use batch::Batch;
pub use dns::{dns_redirect_batch, install_dns_redirect, remove_dns_redirect, DNS_ADDRESS, DNS_TABLE};
pub use expr::{Expr, Verdict};
pub use rule::{Rule, IPPROTO_TCP, IPPROTO_UDP};
pub use set::{DataType, Datum, Element, Set};
pub use socket::Nftables;

use netlink_packet_netfilter::NetfilterProtoFamily;

/// The family of a table (`nfgenmsg.nfgen_family`, the `NFPROTO_*` numbers of linux/netfilter.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `ip`: IPv4 only.
    Ip,
    /// `ip6`: IPv6 only.
    Ip6,
    /// `inet`: both.
    Inet,
}

impl Family {
    /// The name `nft` gives the family.
    pub fn name(self) -> &'static str {
        match self {
            Family::Ip => "ip",
            Family::Ip6 => "ip6",
            Family::Inet => "inet",
        }
    }

    pub(super) fn proto(self) -> NetfilterProtoFamily {
        match self {
            Family::Ip => NetfilterProtoFamily::IPv4,
            Family::Ip6 => NetfilterProtoFamily::IPv6,
            Family::Inet => NetfilterProtoFamily::Inet,
        }
    }

    /// The `NFPROTO_*` number (the nat expression carries it too).
    pub(super) fn number(self) -> u32 {
        u8::from(self.proto()).into()
    }
}

/// A table, named by its family and name (as `nft` names it: `ip weft-dns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The family, which decides what packets its chains see.
    pub family: Family,
    /// The table's name, as `weft-dns`; unique within its family.
    pub name: String,
}

impl Table {
    /// The table `name` of `family`; nothing is sent to the kernel until a [`Batch`] adds it.
    pub fn new(family: Family, name: impl Into<String>) -> Table {
        Table { family, name: name.into() }
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.family.name(), self.name)
    }
}

/// The netfilter hook a base chain is attached to (`NF_INET_*` of linux/netfilter.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// `prerouting`: every packet that arrives, before the routing decision.
    Prerouting,
    /// `input`: packets for the host itself, after routing.
    Input,
    /// `forward`: packets the host routes on to another interface.
    Forward,
    /// `output`: packets the host's own processes send.
    Output,
    /// `postrouting`: every packet that leaves, after routing.
    Postrouting,
}

impl Hook {
    pub(super) fn number(self) -> u32 {
        match self {
            Hook::Prerouting => 0,
            Hook::Input => 1,
            Hook::Forward => 2,
            Hook::Output => 3,
            Hook::Postrouting => 4,
        }
    }
}

/// The type of a base chain: what its rules may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainType {
    /// `filter`: accept or drop.
    Filter,
    /// `nat`: rewrite addresses and ports; sees only the first packet of each connection.
    Nat,
    /// `route`: on the `output` hook, routes a packet again if its rules changed its addresses
    /// or mark.
    Route,
}

impl ChainType {
    pub(super) fn name(self) -> &'static str {
        match self {
            ChainType::Filter => "filter",
            ChainType::Nat => "nat",
            ChainType::Route => "route",
        }
    }
}

/// What a base chain does with a packet no rule decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Let the packet through.
    Accept,
    /// Drop the packet.
    Drop,
}

/// The hook, priority, type and policy that make a chain a base chain (one packets enter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseChain {
    /// The chain's type (`type filter`, `type nat`...).
    pub kind: ChainType,
    /// The hook the chain is attached to.
    pub hook: Hook,
    /// Lower runs first; nat's usual ones are -100 (`dstnat`) and 100 (`srcnat`).
    pub priority: i32,
    /// What happens to a packet that no rule of the chain decided on.
    pub policy: Policy,
}

impl BaseChain {
    /// A base chain with policy accept.
    pub fn new(kind: ChainType, hook: Hook, priority: i32) -> BaseChain {
        BaseChain { kind, hook, priority, policy: Policy::Accept }
    }

    /// The same chain with `policy` (`policy drop`, say) instead.
    pub fn policy(mut self, policy: Policy) -> BaseChain {
        self.policy = policy;
        self
    }
}
