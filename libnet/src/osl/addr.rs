//! Addresses: add, delete and list IPv4/IPv6 addresses of links.

use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::{NlasIterator, Parseable, NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeader, AddressHeaderFlags, AddressMessage,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::{Netlink, Result};

/// Kernel ABI numbers the reply parser picks attributes by (linux/rtnetlink.h, if_addr.h).
const RTM_NEWADDR: u16 = 20;
const ADDRESS_HEADER_LEN: usize = 8;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;

impl Netlink {
    /// Add `addr` (address with prefix length) to the link; IPv4 gets its broadcast address.
    ///
    /// IPv6 addresses skip duplicate address detection (IFA_F_NODAD): they are usable at once,
    /// and weft's IPAM already guarantees they are unique on the network.
    pub fn add_address(&mut self, index: u32, addr: IpNet) -> Result<()> {
        let mut msg = address_message(index, addr);
        match addr {
            IpNet::V4(net) => {
                msg.attributes.push(AddressAttribute::Local(addr.addr()));
                msg.attributes.push(AddressAttribute::Address(addr.addr()));
                // /31 and /32 have no broadcast address (RFC 3021).
                if net.prefix_len() < 31 {
                    msg.attributes.push(AddressAttribute::Broadcast(net.broadcast()));
                }
            }
            IpNet::V6(_) => {
                msg.header.flags = AddressHeaderFlags::Nodad;
                msg.attributes.push(AddressAttribute::Address(addr.addr()));
                msg.attributes.push(AddressAttribute::Flags(AddressFlags::Nodad));
            }
        }
        self.request(RouteNetlinkMessage::NewAddress(msg), NLM_F_CREATE | NLM_F_EXCL, |_, _| {}).map_err(|nack| {
            let link = self.label(index);
            nack.at(format!("add address {addr} to link {link}"))
        })
    }

    /// Remove `addr` (same prefix length as added) from the link.
    pub fn delete_address(&mut self, index: u32, addr: IpNet) -> Result<()> {
        let mut msg = address_message(index, addr);
        if addr.addr().is_ipv4() {
            msg.attributes.push(AddressAttribute::Local(addr.addr()));
        }
        msg.attributes.push(AddressAttribute::Address(addr.addr()));
        self.request(RouteNetlinkMessage::DelAddress(msg), 0, |_, _| {}).map_err(|nack| {
            let link = self.label(index);
            nack.at(format!("delete address {addr} from link {link}"))
        })
    }

    /// Addresses of one link, or of all links, as (link index, address/prefix).
    pub fn addresses(&mut self, index: Option<u32>) -> Result<Vec<(u32, IpNet)>> {
        let mut request = AddressMessage::default();
        // With strict checking on (see `Netlink::new`) the kernel sends only this link's
        // addresses; the filter below keeps the answer right where it does not.
        request.header.index = index.unwrap_or(0);
        let msg = RouteNetlinkMessage::GetAddress(request);
        self.dump(msg, |kind, payload| {
            parse_address(kind, payload).filter(|(link, _)| index.is_none_or(|i| i == *link))
        })
        .map_err(|nack| match index {
            Some(i) => nack.at(format!("list addresses of link #{i}")),
            None => nack.at("list addresses"),
        })
    }
}

fn address_message(index: u32, addr: IpNet) -> AddressMessage {
    let mut msg = AddressMessage::default();
    msg.header.family = family_of(addr.addr());
    msg.header.prefix_len = addr.prefix_len();
    msg.header.index = index;
    msg
}

pub(super) fn family_of(ip: IpAddr) -> AddressFamily {
    match ip {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// An address of an RTM_NEWADDR reply. For IPv4, IFA_LOCAL is the interface's own address
/// (IFA_ADDRESS is the peer's on point-to-point links); IPv6 has only IFA_ADDRESS.
fn parse_address(kind: u16, payload: &[u8]) -> Option<(u32, IpNet)> {
    if kind != RTM_NEWADDR {
        return None;
    }
    let header = AddressHeader::parse(payload).ok()?;
    let mut local = None;
    let mut address = None;
    for nla in NlasIterator::new(payload.get(ADDRESS_HEADER_LEN..)?) {
        let Ok(nla) = nla else { break };
        if !matches!(nla.kind(), IFA_ADDRESS | IFA_LOCAL) {
            continue;
        }
        match AddressAttribute::parse(&nla) {
            Ok(AddressAttribute::Local(ip)) => local = Some(ip),
            Ok(AddressAttribute::Address(ip)) => address = Some(ip),
            _ => {}
        }
    }
    let ip = local.or(address)?;
    IpNet::new(ip, header.prefix_len).ok().map(|net| (header.index, net))
}
