//! The table inside a sandbox that sends the embedded DNS resolver's traffic at 127.0.0.11:53 to
//! the ports it really listens on, and makes its answers come from port 53 (Docker's shape).
//!
//! ```text
//! table ip weft-dns {
//!     chain output { type nat hook output priority -100; policy accept;
//!         ip daddr 127.0.0.11 udp dport 53 dnat to 127.0.0.11:UDP_PORT
//!         ip daddr 127.0.0.11 tcp dport 53 dnat to 127.0.0.11:TCP_PORT
//!     }
//!     chain postrouting { type nat hook postrouting priority 100; policy accept;
//!         ip saddr 127.0.0.11 udp sport UDP_PORT snat to :53
//!         ip saddr 127.0.0.11 tcp sport TCP_PORT snat to :53
//!     }
//! }
//! ```
//!
//! Only 127.0.0.11 is redirected, so a container may run its own DNS server on port 53 of its other
//! addresses.

use std::net::Ipv4Addr;

use nix::libc;

use super::{BaseChain, Batch, ChainType, Family, Hook, Nftables, Rule, Table};
use crate::osl::{Netns, OslError, Result};

/// The name of the table (family `ip`).
pub const DNS_TABLE: &str = "weft-dns";
/// The address containers send DNS queries to.
pub const DNS_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);
const DNS_PORT: u16 = 53;
/// nat priorities `dstnat` and `srcnat`.
const DSTNAT: i32 = -100;
const SRCNAT: i32 = 100;

fn table() -> Table {
    Table::new(Family::Ip, DNS_TABLE)
}

/// The batch that (re)places the redirect table: add, delete and add the table again (so whatever
/// was there goes, and a table that was not there is no error), then its chains and rules.
pub fn dns_redirect_batch(udp_port: u16, tcp_port: u16) -> Batch {
    redirect_batch(udp_port, tcp_port, true)
}

/// The batch that makes the redirect table in a namespace that has none: refused (EEXIST) where
/// one exists.
fn dns_create_batch(udp_port: u16, tcp_port: u16) -> Batch {
    redirect_batch(udp_port, tcp_port, false)
}

fn redirect_batch(udp_port: u16, tcp_port: u16, replace: bool) -> Batch {
    let table = table();
    let mut batch = Batch::new();
    if replace {
        batch.recreate_table(&table);
    } else {
        batch.create_table(&table);
    }
    batch.add_chain(&table, "output", Some(&BaseChain::new(ChainType::Nat, Hook::Output, DSTNAT)));
    batch.add_chain(&table, "postrouting", Some(&BaseChain::new(ChainType::Nat, Hook::Postrouting, SRCNAT)));
    let dnat = |label: &str, rule: fn(Rule, u16) -> Rule, port: u16| {
        rule(Rule::new(label).ip_daddr(DNS_ADDRESS), DNS_PORT).dnat(Some(DNS_ADDRESS), Some(port))
    };
    batch.add_rule(&table, "output", &dnat("dns udp to the resolver", Rule::udp_dport, udp_port));
    batch.add_rule(&table, "output", &dnat("dns tcp to the resolver", Rule::tcp_dport, tcp_port));
    let snat = |label: &str, rule: fn(Rule, u16) -> Rule, port: u16| {
        rule(Rule::new(label).ip_saddr(DNS_ADDRESS), port).snat(None, Some(DNS_PORT))
    };
    batch.add_rule(&table, "postrouting", &snat("dns udp answers from port 53", Rule::udp_sport, udp_port));
    batch.add_rule(&table, "postrouting", &snat("dns tcp answers from port 53", Rule::tcp_sport, tcp_port));
    batch
}

/// Make 127.0.0.11:53 inside the namespace `ns` reach the resolver at 127.0.0.11:`udp_port`
/// (UDP) and 127.0.0.11:`tcp_port` (TCP), with answers coming back from port 53.
///
/// It replaces, in one atomic step, whatever redirect the namespace had (after a daemon restart the
/// resolver's ports change): at no moment does the namespace have none or two.
///
/// It opens a netfilter socket in `ns` and closes it. Closing one right after a commit that replaced
/// chains waits ~10-17 ms in the kernel (bench/README.md), while the commit itself takes ~0.1 ms;
/// making the table where there was none (a new sandbox) does not wait.
///
/// ```no_run
/// # fn main() -> libnet::osl::Result<()> {
/// let ns = libnet::osl::Netns::open("/run/weft/netns/abcd".as_ref())?;
/// libnet::osl::nft::install_dns_redirect(&ns, 40001, 40002)?;
/// # Ok(()) }
/// ```
pub fn install_dns_redirect(ns: &Netns, udp_port: u16, tcp_port: u16) -> Result<()> {
    for (proto, port) in [("udp", udp_port), ("tcp", tcp_port)] {
        if port == 0 {
            return Err(OslError::new(
                format!("install the DNS redirect in {}", ns.label()),
                Some(libc::EINVAL),
                format!("the resolver's {proto} port is 0: it must be the port it listens on"),
            ));
        }
    }
    // A fresh sandbox has no table: making one costs ~0.6 ms where replacing (which deletes
    // one, even an empty one) costs ~10 ms at the socket's close. Replace only when one exists.
    let mut nft = Nftables::in_netns(ns)?;
    match nft.commit(&dns_create_batch(udp_port, tcp_port)) {
        Err(e) if e.is_exists() => nft.commit(&dns_redirect_batch(udp_port, tcp_port)),
        other => other,
    }
}

/// Remove the DNS redirect from the namespace `ns`; one that is not there is not an error.
pub fn remove_dns_redirect(ns: &Netns) -> Result<()> {
    let table = table();
    let mut batch = Batch::new();
    batch.add_table(&table).delete_table(&table);
    Nftables::in_netns(ns)?.commit(&batch)
}
