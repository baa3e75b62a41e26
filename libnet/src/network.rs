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
    /// The subnet with its prefix length, as `10.1.0.0/24` (Docker's `Subnet`); `None` or empty
    /// lets the IPAM driver pick one.
    pub subnet: Option<String>,
    /// The part of the subnet container addresses are taken from, as `10.1.0.128/25` (Docker's
    /// `IPRange`); needs `subnet`.
    pub ip_range: Option<String>,
    /// The gateway address without a prefix length, as `10.1.0.254` (Docker's `Gateway`); `None`
    /// lets the IPAM driver choose it (the default driver takes the first free host address).
    pub gateway: Option<String>,
    /// Addresses of the subnet kept from containers, by a name the user chose (Docker's
    /// `AuxiliaryAddresses`), as `router` → `10.1.0.5`.
    pub aux_addresses: BTreeMap<String, String>,
}

/// What a user asks for when creating a network (the body of `weft network create`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkCreate {
    /// The network's name: a letter or digit, then letters, digits, `_`, `.` and `-`; unique
    /// among the controller's networks.
    pub name: String,
    /// The name of the network driver that makes it (`--driver`), as `bridge`.
    pub driver: String,
    /// The name of the IPAM driver its subnets come from (`--ipam-driver`), as `default`.
    pub ipam_driver: String,
    /// Options passed to the IPAM driver with each pool request (`--ipam-opt key=value`).
    pub ipam_options: BTreeMap<String, String>,
    /// One entry per `--subnet` the user gave, of either family; empty lets IPAM pick one subnet
    /// per enabled family.
    pub ipam_config: Vec<IpamConfigRequest>,
    /// Whether the network gets IPv4 subnets (Docker's `EnableIPv4`, true unless turned off).
    pub enable_ipv4: bool,
    /// Whether the network gets IPv6 subnets (`--ipv6`, Docker's `EnableIPv6`).
    pub enable_ipv6: bool,
    /// Whether the network is cut off from outside the host (`--internal`); the driver gets it as
    /// the `com.docker.network.internal` option.
    pub internal: bool,
    /// Whether standalone containers may be attached (`--attachable`); stored and shown only.
    pub attachable: bool,
    /// Whether this is a swarm routing-mesh network (`--ingress`); stored and shown only, as weft
    /// runs no swarm (the daemon refuses it).
    pub ingress: bool,
    /// Driver options (`-o key=value`).
    pub options: BTreeMap<String, String>,
    /// The user's labels (`--label key=value`), kept and shown, never interpreted.
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
    /// The IPAM driver's id of the pool (`PoolID`), which releases it and requests addresses in it.
    pub pool_id: String,
    /// The subnet granted, as `172.18.0.0/16`.
    pub subnet: IpNet,
    /// The `--ip-range` container addresses are taken from, if the user gave one.
    pub ip_range: Option<IpNet>,
    /// The gateway with the subnet's prefix length.
    pub gateway: Option<IpNet>,
    /// The `--aux-address`es reserved in the subnet, by the user's name for each.
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
    /// The network's id, 64 hex digits (Docker's `Id`).
    pub id: NetworkId,
    /// The network's name, unique among the controller's networks.
    pub name: String,
    /// The name of the network driver that made it, as `bridge`.
    pub driver: String,
    /// `local` or `global`, from the driver's capabilities.
    pub scope: String,
    /// RFC 3339 with nanoseconds.
    pub created: String,
    /// The name of the IPAM driver its subnets came from, as `default`.
    pub ipam_driver: String,
    /// The options given to the IPAM driver (`--ipam-opt`), Docker's `IPAM.Options`.
    pub ipam_options: BTreeMap<String, String>,
    /// The IPAM address space its pools are in: the IPAM driver's local default.
    #[serde(default = "default_address_space")]
    pub address_space: String,
    /// The IPv4 subnets, in the order they were asked for; empty with IPv4 disabled or a driver
    /// that takes no addresses (`host`, `null`).
    pub ipv4: Vec<PoolAllocation>,
    /// The IPv6 subnets, in the order they were asked for; empty unless IPv6 is enabled.
    pub ipv6: Vec<PoolAllocation>,
    /// Whether the network has IPv4 (Docker's `EnableIPv4`).
    pub enable_ipv4: bool,
    /// Whether the network has IPv6 (Docker's `EnableIPv6`).
    pub enable_ipv6: bool,
    /// Whether the network is cut off from outside the host (`--internal`, Docker's `Internal`).
    pub internal: bool,
    /// Whether standalone containers may be attached (Docker's `Attachable`); shown only.
    pub attachable: bool,
    /// Whether it is a swarm routing-mesh network (Docker's `Ingress`); shown only.
    pub ingress: bool,
    /// The driver options (`-o key=value`, Docker's `Options`), as the user gave them.
    pub options: BTreeMap<String, String>,
    /// The user's labels (Docker's `Labels`).
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
