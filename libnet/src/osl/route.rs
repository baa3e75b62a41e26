//! Routes: add, delete and list routes of the main table.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use netlink_packet_core::{NlasIterator, ParseableParametrized, NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteLwEnCapType, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::addr::family_of;
use super::netlink::Nack;
use super::{Netlink, Result};

/// Kernel ABI numbers the reply parser picks attributes by (linux/rtnetlink.h).
const RTM_NEWROUTE: u16 = 24;
const ROUTE_HEADER_LEN: usize = 12;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_TABLE: u16 = 15;

/// A route of the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// Where the route leads, with its prefix length: `0.0.0.0/0` or `::/0` for a default route.
    pub destination: IpNet,
    /// The next hop (RTA_GATEWAY); `None` for a route to a directly connected subnet.
    pub gateway: Option<IpAddr>,
    /// The index of the link the route goes out of (RTA_OIF), if it names one.
    pub oif: Option<u32>,
}

impl Netlink {
    /// Add a route to `destination` through `gateway` and/or out of link `oif`.
    ///
    /// The route goes in the main table with protocol `boot` (as `ip route add` does), scope
    /// universe through a gateway, scope link without one. Host bits of `destination` are ignored.
    pub fn add_route(&mut self, destination: IpNet, gateway: Option<IpAddr>, oif: Option<u32>) -> Result<()> {
        let op = || describe("add route", destination, gateway, oif);
        let mut msg = route_message(destination, gateway, oif).map_err(|nack| nack.at(op()))?;
        msg.header.protocol = RouteProtocol::Boot;
        msg.header.scope = if gateway.is_some() { RouteScope::Universe } else { RouteScope::Link };
        msg.header.kind = RouteType::Unicast;
        self.request(RouteNetlinkMessage::NewRoute(msg), NLM_F_CREATE | NLM_F_EXCL, |_, _| {})
            .map_err(|nack| nack.at(op()))
    }

    /// Delete the main-table route to `destination` (through `gateway` and out of `oif`, when given).
    pub fn delete_route(&mut self, destination: IpNet, gateway: Option<IpAddr>, oif: Option<u32>) -> Result<()> {
        let op = || describe("delete route", destination, gateway, oif);
        let mut msg = route_message(destination, gateway, oif).map_err(|nack| nack.at(op()))?;
        // Match whatever scope, protocol and type the route was added with.
        msg.header.scope = RouteScope::NoWhere;
        msg.header.protocol = RouteProtocol::Unspec;
        msg.header.kind = RouteType::Unspec;
        self.request(RouteNetlinkMessage::DelRoute(msg), 0, |_, _| {}).map_err(|nack| nack.at(op()))
    }

    /// Routes of the main table, IPv4 and IPv6 (a default route has destination 0.0.0.0/0 or ::/0).
    ///
    /// Only unicast-like routes are listed: the kernel's local, broadcast, anycast and multicast
    /// entries are not weft's business.
    pub fn routes(&mut self) -> Result<Vec<RouteInfo>> {
        self.dump_routes(AddressFamily::Unspec).map_err(|nack| nack.at("list routes"))
    }

    /// Routes of the main table of one family (`v6`: IPv6, else IPv4): with strict checking on,
    /// the kernel sends only those.
    pub fn routes_of(&mut self, v6: bool) -> Result<Vec<RouteInfo>> {
        let family = if v6 { AddressFamily::Inet6 } else { AddressFamily::Inet };
        let routes = self
            .dump_routes(family)
            .map_err(|nack| nack.at(if v6 { "list IPv6 routes" } else { "list IPv4 routes" }))?;
        Ok(routes.into_iter().filter(|r| r.destination.addr().is_ipv6() == v6).collect())
    }

    fn dump_routes(&mut self, family: AddressFamily) -> std::result::Result<Vec<RouteInfo>, Nack> {
        let mut request = RouteMessage::default();
        request.header.address_family = family;
        // With strict checking on, the kernel sends the main table only (not the local table,
        // which holds several entries per address); `parse_route` checks the table regardless.
        request.header.table = RouteHeader::RT_TABLE_MAIN;
        self.dump(RouteNetlinkMessage::GetRoute(request), parse_route)
    }
}

fn describe(what: &str, destination: IpNet, gateway: Option<IpAddr>, oif: Option<u32>) -> String {
    let mut text = format!("{what} {destination}");
    if let Some(gateway) = gateway {
        text.push_str(&format!(" via {gateway}"));
    }
    if let Some(oif) = oif {
        text.push_str(&format!(" dev #{oif}"));
    }
    text
}

fn route_message(
    destination: IpNet,
    gateway: Option<IpAddr>,
    oif: Option<u32>,
) -> std::result::Result<RouteMessage, Nack> {
    if let Some(gateway) = gateway {
        if gateway.is_ipv4() != destination.addr().is_ipv4() {
            return Err(Nack::invalid(format!("gateway {gateway} is not of the family of {destination}")));
        }
    }
    let destination = destination.trunc();
    let mut msg = RouteMessage::default();
    msg.header.address_family = family_of(destination.addr());
    msg.header.destination_prefix_length = destination.prefix_len();
    msg.header.table = RouteHeader::RT_TABLE_MAIN;
    if destination.prefix_len() > 0 {
        msg.attributes.push(RouteAttribute::Destination(RouteAddress::from(destination.addr())));
    }
    if let Some(gateway) = gateway {
        msg.attributes.push(RouteAttribute::Gateway(RouteAddress::from(gateway)));
    }
    if let Some(oif) = oif {
        msg.attributes.push(RouteAttribute::Oif(oif));
    }
    Ok(msg)
}

/// A main-table unicast route of an RTM_NEWROUTE reply.
fn parse_route(kind: u16, payload: &[u8]) -> Option<RouteInfo> {
    if kind != RTM_NEWROUTE {
        return None;
    }
    let header = RouteHeader::parse(payload).ok()?;
    let unspecified = match header.address_family {
        AddressFamily::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        AddressFamily::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        _ => return None,
    };
    if matches!(header.kind, RouteType::Local | RouteType::Broadcast | RouteType::Anycast | RouteType::Multicast) {
        return None;
    }
    let mut table = u32::from(header.table);
    let mut destination = unspecified;
    let mut gateway = None;
    let mut oif = None;
    let param = (header.address_family, header.kind, RouteLwEnCapType::None);
    for nla in NlasIterator::new(payload.get(ROUTE_HEADER_LEN..)?) {
        let Ok(nla) = nla else { break };
        if !matches!(nla.kind(), RTA_DST | RTA_OIF | RTA_GATEWAY | RTA_TABLE) {
            continue;
        }
        match RouteAttribute::parse_with_param(&nla, param) {
            Ok(RouteAttribute::Destination(address)) => destination = ip_of(address)?,
            Ok(RouteAttribute::Gateway(address)) => gateway = ip_of(address),
            Ok(RouteAttribute::Oif(index)) => oif = Some(index),
            // Tables above 255 are only in RTA_TABLE (the header then says RT_TABLE_COMPAT).
            Ok(RouteAttribute::Table(id)) => table = id,
            _ => {}
        }
    }
    if table != u32::from(RouteHeader::RT_TABLE_MAIN) {
        return None;
    }
    let destination = IpNet::new(destination, header.destination_prefix_length).ok()?;
    Some(RouteInfo { destination, gateway, oif })
}

fn ip_of(address: RouteAddress) -> Option<IpAddr> {
    match address {
        RouteAddress::Inet(ip) => Some(IpAddr::V4(ip)),
        RouteAddress::Inet6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    }
}
