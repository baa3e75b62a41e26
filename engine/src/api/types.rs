//! The Docker Engine API's JSON shapes for networks, built from libnet's objects.

use std::collections::BTreeMap;

use libnet::{Controller, Network};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One entry of `IPAM.Config`.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct IpamConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subnet: String,
    #[serde(rename = "IPRange", default, skip_serializing_if = "String::is_empty")]
    pub ip_range: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub auxiliary_addresses: BTreeMap<String, String>,
}

/// `IPAM` of a network.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Ipam {
    #[serde(default)]
    pub driver: String,
    #[serde(default)]
    pub options: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub config: Option<Vec<IpamConfig>>,
}

/// One container of `Containers`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointResource {
    pub name: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub mac_address: String,
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

/// A network as `GET /networks/{id}` shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkResource {
    pub name: String,
    pub id: String,
    pub created: String,
    pub scope: String,
    pub driver: String,
    #[serde(rename = "EnableIPv4")]
    pub enable_ipv4: bool,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub config_from: BTreeMap<String, String>,
    pub config_only: bool,
    pub containers: BTreeMap<String, EndpointResource>,
    pub options: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// The body of `POST /networks/create`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkCreateBody {
    pub name: String,
    #[serde(default)]
    pub check_duplicate: Option<bool>,
    #[serde(default)]
    pub driver: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub attachable: bool,
    #[serde(default)]
    pub ingress: bool,
    #[serde(default)]
    pub config_only: bool,
    #[serde(default)]
    pub config_from: Option<Value>,
    #[serde(rename = "EnableIPv4", default)]
    pub enable_ipv4: Option<bool>,
    #[serde(rename = "EnableIPv6", default)]
    pub enable_ipv6: Option<bool>,
    #[serde(rename = "IPAM", default)]
    pub ipam: Option<Ipam>,
    #[serde(default)]
    pub options: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
}

impl NetworkResource {
    /// Docker's view of a network, with the containers joined to it.
    pub fn from_network(n: &Network, controller: &Controller) -> Self {
        let config: Vec<IpamConfig> = n
            .ipv4
            .iter()
            .chain(n.ipv6.iter())
            .map(|p| IpamConfig {
                subnet: p.subnet.to_string(),
                ip_range: p.ip_range.map(|r| r.to_string()).unwrap_or_default(),
                gateway: p.gateway.map(|g| g.addr().to_string()).unwrap_or_default(),
                auxiliary_addresses: p.aux_addresses.iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
            })
            .collect();
        let mut containers = BTreeMap::new();
        for e in controller.endpoints_of(&n.id) {
            let Some(join) = &e.join else { continue };
            let Ok(sandbox) = controller.sandbox(&join.sandbox) else { continue };
            containers.insert(
                sandbox.container_id.clone(),
                EndpointResource {
                    name: e.name.clone(),
                    endpoint_id: e.id.to_string(),
                    mac_address: e.mac.clone().unwrap_or_default(),
                    ipv4_address: e.ipv4.map(|a| a.to_string()).unwrap_or_default(),
                    ipv6_address: e.ipv6.map(|a| a.to_string()).unwrap_or_default(),
                },
            );
        }
        NetworkResource {
            name: n.name.clone(),
            id: n.id.to_string(),
            created: n.created.clone(),
            scope: n.scope.clone(),
            driver: n.driver.clone(),
            enable_ipv4: n.flags.enable_ipv4,
            enable_ipv6: n.flags.enable_ipv6,
            ipam: Ipam { driver: n.ipam_driver.clone(), options: Some(n.ipam_options.clone()), config: Some(config) },
            internal: n.flags.internal,
            attachable: n.flags.attachable,
            ingress: n.flags.ingress,
            config_from: BTreeMap::from([("Network".to_string(), String::new())]),
            config_only: false,
            containers,
            options: n.options.clone(),
            labels: n.labels.clone(),
        }
    }
}
