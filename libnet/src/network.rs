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

/// A network's families and how it may be used: chosen at create and kept as given. In the JSON
/// of a request and of a stored network these fields stand beside the others (`serde(flatten)`),
/// so the stored form is the same as when each struct had them itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkFlags {
    /// Whether the network has IPv4 subnets (Docker's `EnableIPv4`, true unless turned off).
    pub enable_ipv4: bool,
    /// Whether the network has IPv6 subnets (`--ipv6`, Docker's `EnableIPv6`).
    pub enable_ipv6: bool,
    /// Whether the network is cut off from outside the host (`--internal`, Docker's `Internal`);
    /// the driver gets it as the `com.docker.network.internal` option.
    pub internal: bool,
    /// Whether standalone containers may be attached (`--attachable`, Docker's `Attachable`);
    /// stored and shown only.
    pub attachable: bool,
    /// Whether it is a swarm routing-mesh network (`--ingress`, Docker's `Ingress`); stored and
    /// shown only, as weft runs no swarm (the daemon refuses to create one).
    pub ingress: bool,
}

impl Default for NetworkFlags {
    /// Docker's defaults: IPv4 only, not internal, attachable or ingress.
    fn default() -> Self {
        Self { enable_ipv4: true, enable_ipv6: false, internal: false, attachable: false, ingress: false }
    }
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
    /// Its families and how it may be used, kept as given in the [`Network`].
    #[serde(flatten)]
    pub flags: NetworkFlags,
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
            flags: NetworkFlags::default(),
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
    /// Its families and how it may be used, as the request gave them.
    #[serde(flatten)]
    pub flags: NetworkFlags,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The store keeps networks as this JSON, and data roots written by earlier weftds hold it:
    /// its keys stay flat and in this order.
    #[test]
    fn a_network_is_stored_as_flat_json() {
        let network = Network {
            id: NetworkId::from_string("ab".repeat(32)),
            name: "front".into(),
            driver: "bridge".into(),
            scope: "local".into(),
            created: "2026-01-01T00:00:00.000000000Z".into(),
            ipam_driver: "default".into(),
            ipam_options: map(&[("o", "1")]),
            address_space: "LocalDefault".into(),
            ipv4: vec![PoolAllocation {
                pool_id: "LocalDefault/10.1.0.0/24".into(),
                subnet: "10.1.0.0/24".parse().unwrap(),
                ip_range: None,
                gateway: Some("10.1.0.1/24".parse().unwrap()),
                aux_addresses: BTreeMap::new(),
                user_subnet: true,
            }],
            ipv6: vec![],
            flags: NetworkFlags { enable_ipv6: true, internal: true, attachable: true, ..NetworkFlags::default() },
            options: map(&[("com.docker.network.bridge.name", "br-front")]),
            labels: map(&[("team", "web")]),
            predefined: false,
        };
        let stored = concat!(
            r#"{"id":"abababababababababababababababababababababababababababababababab","name":"front","#,
            r#""driver":"bridge","scope":"local","created":"2026-01-01T00:00:00.000000000Z","#,
            r#""ipam_driver":"default","ipam_options":{"o":"1"},"address_space":"LocalDefault","#,
            r#""ipv4":[{"pool_id":"LocalDefault/10.1.0.0/24","subnet":"10.1.0.0/24","ip_range":null,"#,
            r#""gateway":"10.1.0.1/24","aux_addresses":{},"user_subnet":true}],"ipv6":[],"#,
            r#""enable_ipv4":true,"enable_ipv6":true,"internal":true,"attachable":true,"ingress":false,"#,
            r#""options":{"com.docker.network.bridge.name":"br-front"},"labels":{"team":"web"},"#,
            r#""predefined":false}"#
        );
        assert_eq!(serde_json::to_string(&network).unwrap(), stored);
        assert_eq!(serde_json::from_str::<Network>(stored).unwrap(), network);
        // A record from before the address space was kept asked the default one.
        let old = stored.replace(r#""address_space":"LocalDefault","#, "");
        assert_eq!(serde_json::from_str::<Network>(&old).unwrap(), network);
    }

    #[test]
    fn a_create_request_keeps_its_json_form() {
        let mut req = NetworkCreate::new("back");
        req.flags.internal = true;
        req.labels = map(&[("a", "b")]);
        let json = concat!(
            r#"{"name":"back","driver":"bridge","ipam_driver":"default","ipam_options":{},"ipam_config":[],"#,
            r#""enable_ipv4":true,"enable_ipv6":false,"internal":true,"attachable":false,"ingress":false,"#,
            r#""options":{},"labels":{"a":"b"}}"#
        );
        assert_eq!(serde_json::to_string(&req).unwrap(), json);
        assert_eq!(serde_json::from_str::<NetworkCreate>(json).unwrap(), req);
    }
}
