//! Links: list, bridges, veth pairs, delete, up/down, MTU, master, name, MAC, move to a namespace.

use super::{Netlink, Netns, Result};

/// What weft needs to know of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub index: u32,
    pub name: String,
    /// `bridge`, `veth`, ... (IFLA_INFO_KIND), if the link has one.
    pub kind: Option<String>,
    pub mtu: u32,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// Index of the master (bridge) the link is enslaved to.
    pub master: Option<u32>,
    pub mac: Option<[u8; 6]>,
}

impl Netlink {
    pub fn links(&mut self) -> Result<Vec<LinkInfo>> {
        todo!("osl helper")
    }
    pub fn link_by_name(&mut self, name: &str) -> Result<Option<LinkInfo>> {
        todo!("osl helper {name}")
    }
    /// Create a bridge, down, with the given MTU; returns its index.
    pub fn create_bridge(&mut self, name: &str, mtu: Option<u32>) -> Result<u32> {
        todo!("osl helper {name} {mtu:?}")
    }
    /// Create a veth pair `host` <-> `peer`, both down, with the MTU and the peer's MAC if given.
    pub fn create_veth(&mut self, host: &str, peer: &str, mtu: Option<u32>, peer_mac: Option<[u8; 6]>) -> Result<()> {
        todo!("osl helper {host} {peer} {mtu:?} {peer_mac:?}")
    }
    /// Delete a link by name (for a veth, both ends go).
    pub fn delete_link(&mut self, name: &str) -> Result<()> {
        todo!("osl helper {name}")
    }
    pub fn set_up(&mut self, index: u32) -> Result<()> {
        todo!("osl helper {index}")
    }
    pub fn set_down(&mut self, index: u32) -> Result<()> {
        todo!("osl helper {index}")
    }
    pub fn set_mtu(&mut self, index: u32, mtu: u32) -> Result<()> {
        todo!("osl helper {index} {mtu}")
    }
    pub fn set_master(&mut self, index: u32, master: u32) -> Result<()> {
        todo!("osl helper {index} {master}")
    }
    pub fn set_name(&mut self, index: u32, name: &str) -> Result<()> {
        todo!("osl helper {index} {name}")
    }
    pub fn set_mac(&mut self, index: u32, mac: [u8; 6]) -> Result<()> {
        todo!("osl helper {index} {mac:?}")
    }
    /// Move a link into another namespace (IFLA_NET_NS_FD).
    pub fn move_to_netns(&mut self, index: u32, ns: &Netns) -> Result<()> {
        todo!("osl helper {index} {ns:?}")
    }
}
