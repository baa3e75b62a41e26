//! Addresses: add, delete and list IPv4/IPv6 addresses of links.

use ipnet::IpNet;

use super::{Netlink, Result};

impl Netlink {
    /// Add `addr` (address with prefix length) to the link; IPv4 gets its broadcast address.
    pub fn add_address(&mut self, index: u32, addr: IpNet) -> Result<()> {
        todo!("osl helper {index} {addr}")
    }
    pub fn delete_address(&mut self, index: u32, addr: IpNet) -> Result<()> {
        todo!("osl helper {index} {addr}")
    }
    /// Addresses of one link, or of all links, as (link index, address/prefix).
    pub fn addresses(&mut self, index: Option<u32>) -> Result<Vec<(u32, IpNet)>> {
        todo!("osl helper {index:?}")
    }
}
