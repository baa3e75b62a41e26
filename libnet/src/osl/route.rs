//! Routes: add, delete and list routes of the main table.

use std::net::IpAddr;

use ipnet::IpNet;

use super::{Netlink, Result};

/// A route of the main table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub destination: IpNet,
    pub gateway: Option<IpAddr>,
    pub oif: Option<u32>,
}

impl Netlink {
    /// Add a route to `destination` through `gateway` and/or out of link `oif`.
    pub fn add_route(&mut self, destination: IpNet, gateway: Option<IpAddr>, oif: Option<u32>) -> Result<()> {
        todo!("osl helper {destination} {gateway:?} {oif:?}")
    }
    pub fn delete_route(&mut self, destination: IpNet, gateway: Option<IpAddr>, oif: Option<u32>) -> Result<()> {
        todo!("osl helper {destination} {gateway:?} {oif:?}")
    }
    /// Routes of the main table, IPv4 and IPv6 (a default route has destination 0.0.0.0/0 or ::/0).
    pub fn routes(&mut self) -> Result<Vec<RouteInfo>> {
        todo!("osl helper")
    }
}
