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
    #[serde(rename = "RequiresMACAddress", default)]
    pub requires_mac_address: bool,
    #[serde(rename = "RequiresRequestReplay", default)]
    pub requires_request_replay: bool,
}

/// `GetDefaultAddressSpaces` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct AddressSpacesResponse {
    #[serde(rename = "LocalDefaultAddressSpace")]
    pub local_default_address_space: String,
    #[serde(rename = "GlobalDefaultAddressSpace")]
    pub global_default_address_space: String,
}

/// `RequestPool` request. An empty `Pool` asks the driver to pick a free subnet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequestPoolRequest {
    #[serde(rename = "AddressSpace")]
    pub address_space: String,
    #[serde(rename = "Pool", default)]
    pub pool: String,
    /// The `--ip-range` from which container addresses are handed out.
    #[serde(rename = "SubPool", default)]
    pub sub_pool: String,
    #[serde(rename = "Options", default)]
    pub options: BTreeMap<String, String>,
    #[serde(rename = "V6", default)]
    pub v6: bool,
}

/// `RequestPool` response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequestPoolResponse {
    #[serde(rename = "PoolID")]
    pub pool_id: String,
    /// The subnet in CIDR form.
    #[serde(rename = "Pool")]
    pub pool: String,
    #[serde(rename = "Data", default)]
    pub data: BTreeMap<String, String>,
}

/// `ReleasePool` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReleasePoolRequest {
    #[serde(rename = "PoolID")]
    pub pool_id: String,
}

/// `RequestAddress` request. An empty `Address` asks for any free address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequestAddressRequest {
    #[serde(rename = "PoolID")]
    pub pool_id: String,
    #[serde(rename = "Address", default)]
    pub address: String,
    #[serde(rename = "Options", default)]
    pub options: BTreeMap<String, String>,
}

/// `RequestAddress` response: the address in CIDR form (`10.0.0.2/24`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RequestAddressResponse {
    #[serde(rename = "Address")]
    pub address: String,
    #[serde(rename = "Data", default)]
    pub data: BTreeMap<String, String>,
}

/// `ReleaseAddress` request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReleaseAddressRequest {
    #[serde(rename = "PoolID")]
    pub pool_id: String,
    #[serde(rename = "Address")]
    pub address: String,
}
