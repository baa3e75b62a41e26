//! The bridge driver's firewall policy: published ports (DNAT), masquerade, isolation between
//! networks, icc=false and internal networks, in weft's nftables table `inet weft`.
//!
//! The shape of the ruleset is fixed ([`ruleset`]) and loaded once; a network and a published
//! port are elements of its sets and maps ([`elements`]), added and removed in one netlink batch
//! each through libnet's firewall mechanism ([`libnet::osl::firewall::Firewall`]): no process is
//! started per network or port, and the 1000th published port costs what the 1st did.
//! `docs/nftables-ruleset.txt` is the listing of the ruleset for a reference setup.

mod elements;
pub mod ruleset;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use libnet::osl::firewall::{is_element_clash, Firewall};
use libnet::osl::nft::{Family, Table};
use libnet::osl::{get_sysctl, kmod, set_sysctl, OslError, Result};
use libnet::portmap::Proto;
pub use ruleset::LoadOptions;

/// `ENODEV` (asm-generic/errno-base.h, the same on every Linux architecture): what the kernel
/// says of a missing interface, and what a network without its bridge is refused with.
const ENODEV: i32 = 19;

/// A network's part of the ruleset: elements keyed on its bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkRules {
    /// The bridge's name: what the network is in the sets of bridges.
    pub bridge: String,
    /// Its subnets (IPv4 and IPv6): the source addresses masqueraded on the way out.
    pub subnets: Vec<ipnet::IpNet>,
    /// `--internal`: no traffic in or out of the bridge.
    pub internal: bool,
    /// false: com.docker.network.bridge.enable_icc=false (no traffic between its containers).
    pub icc: bool,
    /// com.docker.network.bridge.enable_ip_masquerade (ignored for internal networks).
    pub masquerade: bool,
}

/// One published port: DNAT of (proto, host address, host port) to (container address, port).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PortRule {
    /// TCP, UDP or SCTP.
    pub proto: Proto,
    /// None: every local address of the host of `container_ip`'s family. An unspecified address
    /// (`0.0.0.0`, `::`) means the same.
    pub host_ip: Option<IpAddr>,
    /// The published port on the host.
    pub host_port: u16,
    /// Where it leads.
    pub container_ip: IpAddr,
    /// The container's port.
    pub container_port: u16,
}

/// The bridge driver's table in the network namespace it was opened in.
///
/// ```no_run
/// use driver_bridge::firewall::{BridgeFirewall, NetworkRules, PortRule};
/// use libnet::portmap::Proto;
/// # fn main() -> libnet::osl::Result<()> {
/// let mut firewall = BridgeFirewall::new()?;
/// firewall.load()?;
/// let network = NetworkRules {
///     bridge: "wbr-0a1b2c3d4e".into(),
///     subnets: vec!["172.30.0.0/16".parse().unwrap()],
///     internal: false,
///     icc: true,
///     masquerade: true,
/// };
/// firewall.add_network(&network)?;
/// let web = PortRule {
///     proto: Proto::Tcp,
///     host_ip: None,
///     host_port: 8080,
///     container_ip: "172.30.0.2".parse().unwrap(),
///     container_port: 80,
/// };
/// firewall.add_ports(&[web.clone()])?;
/// firewall.remove_ports(&[web])?;
/// firewall.remove_network(&network)?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BridgeFirewall {
    fw: Firewall,
}

impl BridgeFirewall {
    /// Open a netlink socket in the calling thread's namespace (loads nothing).
    pub fn new() -> Result<BridgeFirewall> {
        Ok(BridgeFirewall { fw: Firewall::new(Table::new(Family::Inet, ruleset::TABLE))? })
    }

    /// (Re)load the fixed ruleset with one `nft -j -f -` run: weft's tables are replaced
    /// atomically (no element from before survives). Called once at driver/daemon start.
    pub fn load(&mut self) -> Result<()> {
        self.load_with(&LoadOptions::default())
    }

    /// [`BridgeFirewall::load`] with the daemon's options: with `userland_proxy`, the host's
    /// loopback and containers reach published ports through the proxy (see [`ruleset`]).
    pub fn load_with(&mut self, options: &LoadOptions) -> Result<()> {
        self.fw.load(&ruleset::ruleset_with(options))
    }

    /// One netlink batch: the bridge in the sets it belongs to, its subnets to masquerade.
    /// Also sets net.ipv4.conf.<bridge>.route_localnet=1 (published ports from 127.0.0.1), and
    /// for icc=false turns br_netfilter's `bridge-nf-call-iptables` on (see [`ruleset`]).
    ///
    /// The bridge must exist. Adding what is already there is not an error.
    pub fn add_network(&mut self, n: &NetworkRules) -> Result<()> {
        let elements = elements::network_elements(n)?;
        self.fw.netns().run(|| network_sysctls(n))??;
        self.fw.add(&elements)
    }

    /// One batch; elements already missing are not an error. Every element the bridge and
    /// subnets could have anywhere goes, whatever the flags of `n`.
    pub fn remove_network(&mut self, n: &NetworkRules) -> Result<()> {
        let elements = elements::all_network_elements(n)?;
        self.fw.remove(&elements)
    }

    /// One batch, all or nothing. Publishing a host port that is already published to the same
    /// place is not an error; to another place it is, and then none of `rules` is installed.
    pub fn add_ports(&mut self, rules: &[PortRule]) -> Result<()> {
        let elements = elements::port_elements(rules)?;
        self.fw.add(&elements).map_err(|e| {
            if is_element_clash(&e) {
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
        self.fw.remove(&keys)
    }
}

/// The sysctls a network needs, in the calling thread's namespace.
fn network_sysctls(n: &NetworkRules) -> Result<()> {
    let key = format!("net/ipv4/conf/{}/route_localnet", n.bridge);
    match get_sysctl(&key) {
        Ok(_) => {}
        // The bridge's sysctls come and go with it.
        Err(e) if e.is_not_found() => {
            return Err(OslError::new(
                format!("add network bridge {} to the firewall", n.bridge),
                Some(ENODEV),
                format!("there is no interface {} (create the bridge first)", n.bridge),
            ))
        }
        Err(e) => return Err(e),
    }
    set_sysctl(&key, "1")?;
    if !n.icc {
        // Built into some kernels, a module in distributions' (Debian's 6.1 among them).
        if get_sysctl("net/bridge/bridge-nf-call-iptables").is_err() {
            if let Err(e) = kmod::load_module("br_netfilter") {
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
