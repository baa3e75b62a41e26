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
    /// `AddressSpace`: the IPAM address space the pool was taken from, as `LocalDefault`.
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
    /// `NetworkID`: the new network's id, 64 hex digits, by which later calls name it.
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
    /// `Options`: the network's options: the user's `-o` options as a map under
    /// [`GENERIC_OPTIONS`], and [`INTERNAL_OPTION`] and [`ENABLE_IPV6_OPTION`] as booleans.
    #[serde(rename = "Options", default)]
    pub options: Options,
    /// `IPv4Data`: the network's IPv4 pools, one per subnet; empty when the network has no IPv4.
    #[serde(rename = "IPv4Data", default)]
    pub ipv4_data: Vec<IpamData>,
    /// `IPv6Data`: the network's IPv6 pools, one per subnet; empty when IPv6 is not enabled.
    #[serde(rename = "IPv6Data", default)]
    pub ipv6_data: Vec<IpamData>,
}

/// `DeleteNetwork` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeleteNetworkRequest {
    /// `NetworkID`: the id of the network to delete, 64 hex digits.
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
}

/// The interface of an endpoint: addresses in CIDR form (`10.0.0.2/24`) and a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EndpointInterface {
    /// `Address`: the IPv4 address with its prefix length, as `10.0.0.2/24`; empty when there is
    /// none.
    #[serde(rename = "Address", default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// `AddressIPv6`: the IPv6 address with its prefix length, as `fd00::2/64`; empty when there is
    /// none.
    #[serde(rename = "AddressIPv6", default, skip_serializing_if = "String::is_empty")]
    pub address_ipv6: String,
    /// `MacAddress`: the MAC address, as `02:42:0a:00:00:02`; empty in a request lets the driver
    /// choose one.
    #[serde(rename = "MacAddress", default, skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
}

/// `CreateEndpoint` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CreateEndpointRequest {
    /// `NetworkID`: the id of the endpoint's network, 64 hex digits.
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
    /// `EndpointID`: the new endpoint's id, 64 hex digits, by which later calls name it.
    #[serde(rename = "EndpointID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub endpoint_id: String,
    /// `Interface`: the addresses IPAM gave the endpoint and the MAC address the user asked for;
    /// `None` when the JSON has none (weft's controller always sends one).
    #[serde(rename = "Interface", default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<EndpointInterface>,
    /// `Options`: the endpoint's options; weft's controller sends each value as a JSON string, the
    /// ports to publish among them ([`PORTMAP_OPTION`](crate::portmap::PORTMAP_OPTION),
    /// [`EXPOSED_PORTS_OPTION`](crate::portmap::EXPOSED_PORTS_OPTION), each as JSON text).
    #[serde(rename = "Options", default)]
    pub options: Options,
}

/// `CreateEndpoint` response: the driver may fill in what the request left empty (a MAC address,
/// an address), but must not change what was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CreateEndpointResponse {
    /// `Interface`: what the driver filled in, as a MAC address it generated; `None`, or empty
    /// fields, when it adds nothing.
    #[serde(rename = "Interface", default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<EndpointInterface>,
}

/// `DeleteEndpoint` request; also the shape of `EndpointOperInfo` requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DeleteEndpointRequest {
    /// `NetworkID`: the id of the endpoint's network, 64 hex digits.
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
    /// `EndpointID`: the endpoint's id, 64 hex digits.
    #[serde(rename = "EndpointID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub endpoint_id: String,
}

/// `EndpointOperInfo` request.
pub type EndpointInfoRequest = DeleteEndpointRequest;

/// `EndpointOperInfo` response: free-form operational data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EndpointInfoResponse {
    /// `Value`: the driver's facts about the endpoint by key, as any JSON; the controller reads the
    /// ports the driver bound under [`PORTMAP_OPTION`](crate::portmap::PORTMAP_OPTION), absent when
    /// none are.
    #[serde(rename = "Value", default)]
    pub value: BTreeMap<String, Value>,
}

/// `Join` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct JoinRequest {
    /// `NetworkID`: the id of the endpoint's network, 64 hex digits.
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
    /// `EndpointID`: the id of the endpoint that joins, 64 hex digits.
    #[serde(rename = "EndpointID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub endpoint_id: String,
    /// Path of the sandbox's network namespace.
    #[serde(rename = "SandboxKey")]
    pub sandbox_key: String,
    /// `Options`: options of the join; weft's controller sends none.
    #[serde(rename = "Options", default)]
    pub options: Options,
}

/// The name of the interface a driver made for a join: `SrcName` in the host namespace, moved
/// into the sandbox and renamed `DstPrefix` + an index (`eth` → `eth0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InterfaceName {
    /// `SrcName`: the interface's name as the driver made it, as `wv0a1b`.
    #[serde(rename = "SrcName")]
    pub src_name: String,
    /// `DstPrefix`: the start of its name in the sandbox, as `eth`; the controller appends the
    /// first free index.
    #[serde(rename = "DstPrefix")]
    pub dst_prefix: String,
}

/// A route the driver wants in the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StaticRoute {
    /// `Destination`: the destination with its prefix length, as `10.8.0.0/16`.
    #[serde(rename = "Destination")]
    pub destination: String,
    /// 0: through `NextHop`; 1: directly connected.
    #[serde(rename = "RouteType")]
    pub route_type: u8,
    /// `NextHop`: the gateway address, as `10.0.0.1`, for `RouteType` 0; empty for 1.
    #[serde(rename = "NextHop", default, skip_serializing_if = "String::is_empty")]
    pub next_hop: String,
}

/// `Join` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct JoinResponse {
    /// `InterfaceName`: the interface to move into the sandbox; `None` when the driver made none
    /// (as the host driver), and nothing is moved.
    #[serde(rename = "InterfaceName", default, skip_serializing_if = "Option::is_none")]
    pub interface_name: Option<InterfaceName>,
    /// `Gateway`: the IPv4 gateway of the sandbox's default route, as `10.0.0.1`; empty when this
    /// endpoint gives no IPv4 default route (as on an `--internal` network).
    #[serde(rename = "Gateway", default, skip_serializing_if = "String::is_empty")]
    pub gateway: String,
    /// `GatewayIPv6`: the IPv6 gateway of the sandbox's default route, as `fd00::1`; empty when
    /// this endpoint gives no IPv6 default route.
    #[serde(rename = "GatewayIPv6", default, skip_serializing_if = "String::is_empty")]
    pub gateway_ipv6: String,
    /// `StaticRoutes`: routes to add through the moved interface, in any order; empty for none.
    #[serde(rename = "StaticRoutes", default, skip_serializing_if = "Vec::is_empty")]
    pub static_routes: Vec<StaticRoute>,
    /// `DisableGatewayService`: true asks Docker not to connect the sandbox to its gateway bridge
    /// (`docker_gwbridge`) for a way out; weft has no such bridge and ignores it.
    #[serde(rename = "DisableGatewayService", default)]
    pub disable_gateway_service: bool,
}

/// `Leave` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LeaveRequest {
    /// `NetworkID`: the id of the endpoint's network, 64 hex digits.
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
    /// `EndpointID`: the id of the endpoint that leaves its sandbox, 64 hex digits.
    #[serde(rename = "EndpointID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub endpoint_id: String,
}

/// `ProgramExternalConnectivity` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProgramExternalConnectivityRequest {
    /// `NetworkID`: the id of the endpoint's network, 64 hex digits.
    #[serde(rename = "NetworkID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub network_id: String,
    /// `EndpointID`: the id of the endpoint whose ports to publish, 64 hex digits.
    #[serde(rename = "EndpointID", deserialize_with = "crate::ids::deserialize_hex_id")]
    pub endpoint_id: String,
    /// `Options`: the ports to publish, as JSON: the bindings under
    /// [`PORTMAP_OPTION`](crate::portmap::PORTMAP_OPTION) and the exposed ports under
    /// [`EXPOSED_PORTS_OPTION`](crate::portmap::EXPOSED_PORTS_OPTION); a key is absent when there
    /// are none.
    #[serde(rename = "Options", default)]
    pub options: Options,
}

/// `RevokeExternalConnectivity` request.
pub type RevokeExternalConnectivityRequest = LeaveRequest;

/// `DiscoverNew` / `DiscoverDelete` notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DiscoveryNotification {
    /// `DiscoveryType`: what was discovered, as a number; 1 is a node.
    #[serde(rename = "DiscoveryType")]
    pub discovery_type: i32,
    /// `DiscoveryData`: what is known of it, its shape set by `DiscoveryType` (for a node, its
    /// `Address` and `self`, whether it is this one).
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
