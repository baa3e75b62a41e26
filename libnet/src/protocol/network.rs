//! The messages of the Docker remote network-driver protocol, with its JSON field names.
//!
//! Every transport (in-process, dynamic library, remote plugin) passes exactly these values, so a
//! driver cannot tell which one carried a call.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Generic driver options: Docker passes `com.docker.network.generic` and friends as arbitrary JSON.
pub type Options = BTreeMap<String, Value>;

/// The option key under which network-create options given with `-o` reach a driver.
pub const GENERIC_OPTIONS: &str = "com.docker.network.generic";
/// Option key: the network is `--internal`.
pub const INTERNAL_OPTION: &str = "com.docker.network.internal";
/// Option key: the network has IPv6 enabled.
pub const ENABLE_IPV6_OPTION: &str = "com.docker.network.enable_ipv6";

/// `GetCapabilities` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CapabilitiesResponse {
    /// `local` or `global`.
    #[serde(rename = "Scope")]
    pub scope: String,
    /// `local` or `global`; empty means the same as `Scope`.
    #[serde(rename = "ConnectivityScope", default, skip_serializing_if = "String::is_empty")]
    pub connectivity_scope: String,
}

/// One IPAM pool of a network, as the driver sees it (`IPv4Data`/`IPv6Data` entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IpamData {
    #[serde(rename = "AddressSpace", default)]
    pub address_space: String,
    /// The subnet, e.g. `192.168.100.0/24`.
    #[serde(rename = "Pool")]
    pub pool: String,
    /// The gateway with the subnet's prefix length, e.g. `192.168.100.1/24`.
    #[serde(rename = "Gateway", default, skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    /// Auxiliary addresses by name, each with the prefix length.
    #[serde(rename = "AuxAddresses", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aux_addresses: BTreeMap<String, String>,
}

/// `CreateNetwork` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CreateNetworkRequest {
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
    #[serde(rename = "Options", default)]
    pub options: Options,
    #[serde(rename = "IPv4Data", default)]
    pub ipv4_data: Vec<IpamData>,
    #[serde(rename = "IPv6Data", default)]
    pub ipv6_data: Vec<IpamData>,
}

/// `DeleteNetwork` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeleteNetworkRequest {
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
}

/// The interface of an endpoint: addresses in CIDR form (`10.0.0.2/24`) and a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EndpointInterface {
    #[serde(rename = "Address", default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    #[serde(rename = "AddressIPv6", default, skip_serializing_if = "String::is_empty")]
    pub address_ipv6: String,
    #[serde(rename = "MacAddress", default, skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
}

/// `CreateEndpoint` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CreateEndpointRequest {
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
    #[serde(rename = "EndpointID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub endpoint_id: String,
    #[serde(rename = "Interface", default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<EndpointInterface>,
    #[serde(rename = "Options", default)]
    pub options: Options,
}

/// `CreateEndpoint` response: the driver may fill in what the request left empty (a MAC address,
/// an address), but must not change what was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CreateEndpointResponse {
    #[serde(rename = "Interface", default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<EndpointInterface>,
}

/// `DeleteEndpoint` request; also the shape of `EndpointOperInfo` requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeleteEndpointRequest {
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
    #[serde(rename = "EndpointID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub endpoint_id: String,
}

/// `EndpointOperInfo` request.
pub type EndpointInfoRequest = DeleteEndpointRequest;

/// `EndpointOperInfo` response: free-form operational data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EndpointInfoResponse {
    #[serde(rename = "Value", default)]
    pub value: BTreeMap<String, Value>,
}

/// `Join` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct JoinRequest {
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
    #[serde(rename = "EndpointID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub endpoint_id: String,
    /// Path of the sandbox's network namespace.
    #[serde(rename = "SandboxKey")]
    pub sandbox_key: String,
    #[serde(rename = "Options", default)]
    pub options: Options,
}

/// The name of the interface a driver made for a join: `SrcName` in the host namespace, moved
/// into the sandbox and renamed `DstPrefix` + an index (`eth` → `eth0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InterfaceName {
    #[serde(rename = "SrcName")]
    pub src_name: String,
    #[serde(rename = "DstPrefix")]
    pub dst_prefix: String,
}

/// A route the driver wants in the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StaticRoute {
    #[serde(rename = "Destination")]
    pub destination: String,
    /// 0: through `NextHop`; 1: directly connected.
    #[serde(rename = "RouteType")]
    pub route_type: u8,
    #[serde(rename = "NextHop", default, skip_serializing_if = "String::is_empty")]
    pub next_hop: String,
}

/// `Join` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct JoinResponse {
    #[serde(rename = "InterfaceName", default, skip_serializing_if = "Option::is_none")]
    pub interface_name: Option<InterfaceName>,
    #[serde(rename = "Gateway", default, skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    #[serde(rename = "GatewayIPv6", default, skip_serializing_if = "String::is_empty")]
    pub gateway_ipv6: String,
    #[serde(rename = "StaticRoutes", default, skip_serializing_if = "Vec::is_empty")]
    pub static_routes: Vec<StaticRoute>,
    #[serde(rename = "DisableGatewayService", default)]
    pub disable_gateway_service: bool,
}

/// `Leave` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LeaveRequest {
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
    #[serde(rename = "EndpointID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub endpoint_id: String,
}

/// `ProgramExternalConnectivity` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProgramExternalConnectivityRequest {
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
    #[serde(rename = "EndpointID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub endpoint_id: String,
    #[serde(rename = "Options", default)]
    pub options: Options,
}

/// `RevokeExternalConnectivity` request.
pub type RevokeExternalConnectivityRequest = LeaveRequest;

/// `DiscoverNew` / `DiscoverDelete` notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DiscoveryNotification {
    #[serde(rename = "DiscoveryType")]
    pub discovery_type: i32,
    #[serde(rename = "DiscoveryData", default)]
    pub discovery_data: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_response_uses_protocol_field_names() {
        let r = JoinResponse {
            interface_name: Some(InterfaceName { src_name: "wv0a1b".into(), dst_prefix: "eth".into() }),
            gateway: "10.0.0.1".into(),
            ..Default::default()
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["InterfaceName"]["SrcName"], "wv0a1b");
        assert_eq!(v["InterfaceName"]["DstPrefix"], "eth");
        assert_eq!(v["Gateway"], "10.0.0.1");
        assert_eq!(v["DisableGatewayService"], false);
    }

    #[test]
    fn create_network_request_reads_docker_json() {
        let id = "abc".repeat(21) + "d";
        let j = r#"{"NetworkID":"THE_ID","Options":{"com.docker.network.generic":{"com.docker.network.bridge.name":"br9"}},
                   "IPv4Data":[{"AddressSpace":"LocalDefault","Pool":"10.1.0.0/24","Gateway":"10.1.0.1/24","AuxAddresses":{}}],
                   "IPv6Data":[]}"#
            .replace("THE_ID", &id);
        let r: CreateNetworkRequest = serde_json::from_str(&j).unwrap();
        assert_eq!(r.network_id, id);
        let short = serde_json::from_str::<CreateNetworkRequest>(r#"{"NetworkID":"abc"}"#).unwrap_err();
        assert!(short.to_string().contains(r#""abc" is not an id (64 lowercase hex digits)"#), "{short}");
        assert_eq!(r.ipv4_data[0].gateway, "10.1.0.1/24");
        assert_eq!(r.options[GENERIC_OPTIONS]["com.docker.network.bridge.name"], "br9");
    }
}
