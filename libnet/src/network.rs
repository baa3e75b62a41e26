//! The Network object: what a user asked for, and what the controller allocated for it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::ids::NetworkId;

/// One `--subnet` with its `--ip-range`, `--gateway` and `--aux-address`es, as the user gave them.
/// Strings, because they are checked by the controller, which names the bad value in its error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IpamConfigRequest {
    pub subnet: Option<String>,
    pub ip_range: Option<String>,
    pub gateway: Option<String>,
    pub aux_addresses: BTreeMap<String, String>,
}

/// What a user asks for when creating a network (the body of `weft network create`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkCreate {
    pub name: String,
    pub driver: String,
    pub ipam_driver: String,
    pub ipam_options: BTreeMap<String, String>,
    pub ipam_config: Vec<IpamConfigRequest>,
    pub enable_ipv4: bool,
    pub enable_ipv6: bool,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    /// Driver options (`-o key=value`).
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

impl NetworkCreate {
    /// A request with Docker's defaults: the bridge driver, default IPAM, IPv4 only.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            driver: "bridge".into(),
            ipam_driver: crate::protocol::DEFAULT_IPAM.into(),
            ipam_options: BTreeMap::new(),
            ipam_config: Vec::new(),
            enable_ipv4: true,
            enable_ipv6: false,
            internal: false,
            attachable: false,
            ingress: false,
            options: BTreeMap::new(),
            labels: BTreeMap::new(),
        }
    }
}

/// One subnet the network holds, as the IPAM driver granted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolAllocation {
    pub pool_id: String,
    pub subnet: IpNet,
    pub ip_range: Option<IpNet>,
    /// The gateway with the subnet's prefix length.
    pub gateway: Option<IpNet>,
    pub aux_addresses: BTreeMap<String, IpAddr>,
    /// Whether the user gave the subnet (Docker shows only user-given config... and what it chose).
    pub user_subnet: bool,
}

/// Networks stored before the address space was recorded asked the default one.
fn default_address_space() -> String {
    crate::protocol::ipam::LOCAL_DEFAULT_SPACE.to_string()
}

/// A network, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub id: NetworkId,
    pub name: String,
    pub driver: String,
    /// `local` or `global`, from the driver's capabilities.
    pub scope: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    pub ipam_driver: String,
    pub ipam_options: BTreeMap<String, String>,
    /// The IPAM address space its pools are in: the IPAM driver's local default.
    #[serde(default = "default_address_space")]
    pub address_space: String,
    pub ipv4: Vec<PoolAllocation>,
    pub ipv6: Vec<PoolAllocation>,
    pub enable_ipv4: bool,
    pub enable_ipv6: bool,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// `bridge`, `host` and `none`: made by the daemon, never removed.
    pub predefined: bool,
}

impl Network {
    /// The pool of either family that holds `ip`.
    pub fn pool_of(&self, ip: IpAddr) -> Option<&PoolAllocation> {
        self.ipv4.iter().chain(self.ipv6.iter()).find(|p| p.subnet.contains(&ip))
    }

    /// Every subnet of the network, both families.
    pub fn subnets(&self) -> impl Iterator<Item = &IpNet> {
        self.ipv4.iter().chain(self.ipv6.iter()).map(|p| &p.subnet)
    }
}
