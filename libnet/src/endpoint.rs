//! The Endpoint object: one interface that joins one sandbox to one network.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::ids::{EndpointId, NetworkId, SandboxId};

/// What a caller asks for when creating an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EndpointCreate {
    /// The endpoint's name, unique in its network (the engine uses the container's name); empty
    /// names it by its short id.
    pub name: String,
    /// A fixed IPv4 address (`--ip`), else one from the network's pool.
    pub ipv4: Option<std::net::IpAddr>,
    /// A fixed IPv6 address (`--ip6`).
    pub ipv6: Option<std::net::IpAddr>,
    /// A fixed MAC address (`--mac-address`).
    pub mac: Option<String>,
    /// Extra driver options.
    pub options: BTreeMap<String, String>,
}

/// What a join established inside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinInfo {
    /// The sandbox the endpoint is joined to.
    pub sandbox: SandboxId,
    /// The interface's name inside the sandbox (`eth0`), if the driver made one.
    pub interface: Option<String>,
    /// The interface's name in the host namespace before it was moved (to move it back on leave).
    pub src_name: Option<String>,
    /// The interface's index inside the sandbox, which a rename there does not change: leave
    /// finds it by this first.
    #[serde(default)]
    pub index: Option<u32>,
    /// The IPv4 gateway the driver answered the join with (`Gateway`, without a prefix length);
    /// the sandbox's default route goes through it while this is its gateway endpoint.
    pub gateway: Option<std::net::IpAddr>,
    /// The IPv6 gateway the driver answered the join with (`GatewayIPv6`), used as `gateway` is.
    pub gateway_v6: Option<std::net::IpAddr>,
    /// Routes the driver asked for, as given.
    pub static_routes: Vec<crate::protocol::StaticRoute>,
}

/// An endpoint's options as the driver protocol carries them (JSON strings).
pub(crate) fn protocol_options(options: &BTreeMap<String, String>) -> crate::protocol::Options {
    options.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect()
}

/// An endpoint, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The endpoint's id, 64 hex digits (Docker's `EndpointID`).
    pub id: EndpointId,
    /// The endpoint's name, unique in its network: the one asked for, else its short id.
    pub name: String,
    /// The network the endpoint is on.
    pub network: NetworkId,
    /// The IPv4 address with its subnet's prefix length, as `172.18.0.2/16`; `None` on a network
    /// without IPv4 subnets.
    pub ipv4: Option<IpNet>,
    /// The IPv6 address with its subnet's prefix length, as `fd00::2/64`; `None` on a network
    /// without IPv6 subnets.
    pub ipv6: Option<IpNet>,
    /// The interface's MAC address, as `02:42:ac:12:00:02`: the one asked for, else the one the
    /// driver chose, if it said.
    pub mac: Option<String>,
    /// The options it was created with, passed on to its driver; the engine puts the ports to
    /// publish here (`com.docker.network.portmap`, `com.docker.network.endpoint.exposedports`,
    /// each as JSON text).
    pub options: BTreeMap<String, String>,
    /// Set while the endpoint is joined to a sandbox.
    pub join: Option<JoinInfo>,
    /// The ports published on the host for this endpoint, as its driver bound them (host port
    /// chosen, host address filled in); empty unless the endpoint gives its sandbox the way out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<crate::portmap::PortBinding>,
}

impl Endpoint {
    /// The endpoint's addresses, IPv4 first.
    pub fn addresses(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.ipv4.iter().chain(self.ipv6.iter()).copied()
    }
}

/// An endpoint weft has dropped whose driver did not take it back (its `DeleteEndpoint` failed:
/// a plugin that died, say). weft releases what it holds itself (the addresses) at once, as Docker
/// does, and owes the driver the call: it is asked again before the driver's next call, and at
/// the next start, until it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwedDelete {
    /// The endpoint the driver still has to delete.
    pub endpoint: EndpointId,
    /// The network it was on.
    pub network: NetworkId,
    /// The network's driver, by name.
    pub driver: String,
}
