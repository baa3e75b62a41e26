//! The host firewall of weft's networks: published ports (DNAT), masquerade, isolation between
//! networks, icc=false and internal networks, in weft's own nftables table.
//!
//! The shape of the ruleset is fixed ([`ruleset`]): loaded once with one `nft -j -f -` run, from
//! the `nftables` crate's schema types. Everything that changes with networks and ports is an
//! element of its sets and maps, added and removed through nf_tables netlink messages, one atomic
//! batch per call ([`crate::osl::nft`]): no process is started per network or port, and the
//! 1000th published port costs what the 1st did. `docs/nftables-ruleset.txt` is the listing of
//! the ruleset for a reference setup.
//!
//! ```no_run
//! use libnet::osl::firewall::{Firewall, NetworkRules, PortRule};
//! use libnet::portmap::Proto;
//! # fn main() -> libnet::osl::Result<()> {
//! let mut firewall = Firewall::new()?;
//! firewall.load()?;
//! let network = NetworkRules {
//!     bridge: "wbr-0a1b2c3d4e".into(),
//!     subnets: vec!["172.30.0.0/16".parse().unwrap()],
//!     internal: false,
//!     icc: true,
//!     masquerade: true,
//! };
//! firewall.add_network(&network)?;
//! let web = PortRule {
//!     proto: Proto::Tcp,
//!     host_ip: None,
//!     host_port: 8080,
//!     container_ip: "172.30.0.2".parse().unwrap(),
//!     container_port: 80,
//! };
//! firewall.add_ports(&[web.clone()])?;
//! firewall.remove_ports(&[web])?;
//! firewall.remove_network(&network)?;
//! # Ok(()) }
//! ```

mod elements;
pub mod ruleset;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use nix::libc;

use super::nft::Nftables;
use super::{get_sysctl, set_sysctl, Netns, OslError, Result};
pub use ruleset::LoadOptions;

/// A network's part of the ruleset: elements keyed on its bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRules {
    pub bridge: String,
    /// Its subnets (IPv4 and IPv6): the source addresses masqueraded on the way out.
    pub subnets: Vec<ipnet::IpNet>,
    pub internal: bool,
    /// false: com.docker.network.bridge.enable_icc=false (no traffic between its containers).
    pub icc: bool,
    /// com.docker.network.bridge.enable_ip_masquerade (ignored for internal networks).
    pub masquerade: bool,
}

/// One published port: DNAT of (proto, host address, host port) to (container address, port).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortRule {
    pub proto: crate::portmap::Proto,
    /// None: every local address of the host of `container_ip`'s family. An unspecified address
    /// (`0.0.0.0`, `::`) means the same.
    pub host_ip: Option<IpAddr>,
    pub host_port: u16,
    pub container_ip: IpAddr,
    pub container_port: u16,
}

/// weft's tables in the network namespace the firewall was opened in.
///
/// Every call works in that namespace whatever thread makes it: the netlink socket belongs to
/// it, and `nft` and the sysctls are run from a thread that entered it.
pub struct Firewall {
    nft: Nftables,
    netns: Netns,
    /// Whether the kernel has NFT_MSG_DESTROYSETELEM (Linux 6.3): `None` until the first removal
    /// finds out.
    destroy: Option<bool>,
}

impl std::fmt::Debug for Firewall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Firewall").field("netns", &self.netns).finish_non_exhaustive()
    }
}

impl Firewall {
    /// Open a netlink socket in the calling thread's namespace (loads nothing).
    pub fn new() -> Result<Firewall> {
        Ok(Firewall { netns: Netns::current()?, nft: Nftables::new()?, destroy: None })
    }

    /// (Re)load the fixed ruleset with one `nft -j -f -` run: weft's tables are replaced
    /// atomically (no element from before survives). Called once at driver/daemon start.
    pub fn load(&mut self) -> Result<()> {
        self.load_with(&LoadOptions::default())
    }

    /// [`Firewall::load`] with the daemon's options: with `userland_proxy`, the host's loopback
    /// and containers reach published ports through the proxy (see [`ruleset`]).
    pub fn load_with(&mut self, options: &LoadOptions) -> Result<()> {
        let options = *options;
        self.netns.run(move || ruleset::load_ruleset(&options))?
    }

    /// One netlink batch: the bridge in the sets it belongs to, its subnets to masquerade.
    /// Also sets net.ipv4.conf.<bridge>.route_localnet=1 (published ports from 127.0.0.1), and
    /// for icc=false turns br_netfilter's `bridge-nf-call-iptables` on (see [`ruleset`]).
    ///
    /// The bridge must exist. Adding what is already there is not an error.
    pub fn add_network(&mut self, n: &NetworkRules) -> Result<()> {
        let elements = elements::network_elements(n)?;
        self.netns.run(|| network_sysctls(n))??;
        self.nft.commit(&elements.add_batch())
    }

    /// One batch; elements already missing are not an error. Every element the bridge and
    /// subnets could have anywhere goes, whatever the flags of `n`.
    pub fn remove_network(&mut self, n: &NetworkRules) -> Result<()> {
        let elements = elements::all_network_elements(n)?;
        self.remove_elements(&elements)
    }

    /// Delete `elements`, those already missing being no error: one `destroy` batch where the
    /// kernel has it (Linux 6.3), else one deletion batch. A batch is all or nothing, so when the
    /// kernel refuses one with ENOENT (an element already gone, for a deletion; a set or table
    /// gone, someone having flushed the ruleset, for either), each element is removed alone and
    /// those it says are missing are passed over.
    fn remove_elements(&mut self, elements: &elements::SetElements) -> Result<()> {
        let destroy = self.destroy != Some(false);
        let batch = |e: &elements::SetElements| if destroy { e.destroy_batch() } else { e.delete_batch() };
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
                match self.remove_elements(elements) {
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

    /// One batch, all or nothing. Publishing a host port that is already published to the same
    /// place is not an error; to another place it is, and then none of `rules` is installed.
    pub fn add_ports(&mut self, rules: &[PortRule]) -> Result<()> {
        let elements = elements::port_elements(rules)?;
        self.nft.commit(&elements.add_batch()).map_err(|e| {
            if e.errno == Some(libc::EBUSY) || e.is_exists() {
                let detail = format!("{}: a host port of this batch is already published elsewhere", e.detail);
                OslError::new(e.op, e.errno, detail)
            } else {
                e
            }
        })
    }

    /// One batch; elements already missing are not an error. A port is removed by its protocol,
    /// host address and port, whatever container it led to.
    pub fn remove_ports(&mut self, rules: &[PortRule]) -> Result<()> {
        let keys = elements::port_keys(rules)?;
        self.remove_elements(&keys)
    }
}

/// The sysctls a network needs, in the calling thread's namespace.
fn network_sysctls(n: &NetworkRules) -> Result<()> {
    let key = format!("net/ipv4/conf/{}/route_localnet", n.bridge);
    if std::fs::metadata(format!("/proc/sys/{key}")).is_err() {
        return Err(OslError::new(
            format!("add network bridge {} to the firewall", n.bridge),
            Some(libc::ENODEV),
            format!("there is no interface {} (create the bridge first)", n.bridge),
        ));
    }
    set_sysctl(&key, "1")?;
    if !n.icc {
        // Built into some kernels, a module in distributions' (Debian's 6.1 among them).
        if get_sysctl("net/bridge/bridge-nf-call-iptables").is_err() {
            if let Err(e) = super::kmod::load_module("br_netfilter") {
                tracing::warn!("{e}");
            }
        }
        for key in ["net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables"] {
            match get_sysctl(key) {
                Ok(value) if value == "1" => {}
                Ok(_) => set_sysctl(key, "1")?,
                Err(e) => {
                    return Err(OslError::new(
                        format!("disable icc on bridge {}", n.bridge),
                        e.errno,
                        format!("{key} is not there: icc=false needs the br_netfilter module ({})", e.detail),
                    ))
                }
            }
        }
    }
    Ok(())
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
