//! The messages of the Docker remote IPAM protocol, with its JSON field names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Option key of `RequestAddress`: the address asked for is the network's gateway.
pub const REQUEST_ADDRESS_TYPE: &str = "RequestAddressType";
/// Value of [`REQUEST_ADDRESS_TYPE`] for a gateway request.
pub const GATEWAY_ADDRESS_TYPE: &str = "com.docker.network.gateway";
/// The name of the built-in IPAM driver.
pub const DEFAULT_IPAM: &str = "default";
/// The default local address space.
pub const LOCAL_DEFAULT_SPACE: &str = "LocalDefault";
/// The default global address space.
pub const GLOBAL_DEFAULT_SPACE: &str = "GlobalDefault";

/// `IpamDriver.GetCapabilities` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IpamCapabilities {
    /// `RequiresMACAddress`: whether the driver needs the endpoint's MAC address with
    /// `RequestAddress` (Docker passes it in the options as
    /// `com.docker.network.endpoint.macaddress`; weft's controller does not).
    #[serde(rename = "RequiresMACAddress", default)]
    pub requires_mac_address: bool,
    /// `RequiresRequestReplay`: whether the driver keeps no state and wants its pool and address
    /// requests made again when the daemon starts; weft's controller replays them for every IPAM
    /// driver.
    #[serde(rename = "RequiresRequestReplay", default)]
    pub requires_request_replay: bool,
}

/// `GetDefaultAddressSpaces` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddressSpacesResponse {
    /// `LocalDefaultAddressSpace`: the address space of local-scope networks, as
    /// [`LOCAL_DEFAULT_SPACE`]; empty means [`LOCAL_DEFAULT_SPACE`].
    #[serde(rename = "LocalDefaultAddressSpace")]
    pub local_default_address_space: String,
    /// `GlobalDefaultAddressSpace`: the address space of global-scope (swarm) networks, as
    /// [`GLOBAL_DEFAULT_SPACE`]; weft runs no swarm and does not use it.
    #[serde(rename = "GlobalDefaultAddressSpace")]
    pub global_default_address_space: String,
}

/// `RequestPool` request. An empty `Pool` asks the driver to pick a free subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequestPoolRequest {
    /// `AddressSpace`: the address space to take the pool from, as `LocalDefault`; pools of
    /// different spaces may overlap.
    #[serde(rename = "AddressSpace")]
    pub address_space: String,
    /// `Pool`: the subnet asked for (`--subnet`) with its prefix length, as `10.1.0.0/24`; empty
    /// lets the driver pick one.
    #[serde(rename = "Pool", default)]
    pub pool: String,
    /// The `--ip-range` from which container addresses are handed out.
    #[serde(rename = "SubPool", default)]
    pub sub_pool: String,
    /// `Options`: the network's IPAM options (`--ipam-opt key=value`).
    #[serde(rename = "Options", default)]
    pub options: BTreeMap<String, String>,
    /// `V6`: whether the pool is IPv6; it tells the driver which family to pick when `Pool` is
    /// empty.
    #[serde(rename = "V6", default)]
    pub v6: bool,
}

/// `RequestPool` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequestPoolResponse {
    /// `PoolID`: the driver's name for the pool, which the other calls take; asking for the same
    /// pool again gives the same id.
    #[serde(rename = "PoolID")]
    pub pool_id: String,
    /// The subnet in CIDR form.
    #[serde(rename = "Pool")]
    pub pool: String,
    /// `Data`: the driver's own facts about the pool, by key; weft ignores them.
    #[serde(rename = "Data", default)]
    pub data: BTreeMap<String, String>,
}

/// `ReleasePool` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReleasePoolRequest {
    /// `PoolID`: the pool to release, as `RequestPool` named it.
    #[serde(rename = "PoolID")]
    pub pool_id: String,
}

/// `RequestAddress` request. An empty `Address` asks for any free address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequestAddressRequest {
    /// `PoolID`: the pool to take the address from, as `RequestPool` named it.
    #[serde(rename = "PoolID")]
    pub pool_id: String,
    /// `Address`: the address asked for, without a prefix length, as `10.1.0.7`; empty asks for any
    /// free one.
    #[serde(rename = "Address", default)]
    pub address: String,
    /// `Options`: options of the request; [`REQUEST_ADDRESS_TYPE`] set to [`GATEWAY_ADDRESS_TYPE`]
    /// asks for the network's gateway.
    #[serde(rename = "Options", default)]
    pub options: BTreeMap<String, String>,
}

/// `RequestAddress` response: the address in CIDR form (`10.0.0.2/24`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequestAddressResponse {
    /// `Address`: the address granted, with its pool's prefix length, as `10.0.0.2/24`.
    #[serde(rename = "Address")]
    pub address: String,
    /// `Data`: the driver's own facts about the address, by key; weft ignores them.
    #[serde(rename = "Data", default)]
    pub data: BTreeMap<String, String>,
}

/// `ReleaseAddress` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReleaseAddressRequest {
    /// `PoolID`: the pool the address was taken from, as `RequestPool` named it.
    #[serde(rename = "PoolID")]
    pub pool_id: String,
    /// `Address`: the address to release, without a prefix length, as `10.1.0.7`.
    #[serde(rename = "Address")]
    pub address: String,
}
