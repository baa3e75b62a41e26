//! What the unit tests of the request path share: endpoint records written in one line.

use std::net::IpAddr;

use libnet::{EndpointId, NetworkId, SandboxId};

use crate::records::EndpointRecord;

/// Endpoint `id` of container `name` in sandbox `sb`, on the network `net` (id `id-{net}`), with
/// the short id `id` padded to 12 with `a`s.
pub(crate) fn ep(id: &str, sb: &str, net: &str, name: &str, aliases: &[&str], addrs: &[&str]) -> EndpointRecord {
    EndpointRecord {
        endpoint: EndpointId::from_string(id),
        sandbox: SandboxId::from_string(sb),
        network: NetworkId::from_string(format!("id-{net}")),
        network_name: net.to_string(),
        internal: false,
        container_name: name.to_string(),
        short_id: format!("{id:a>12}"),
        aliases: aliases.iter().map(|s| s.to_string()).collect(),
        addrs: addrs.iter().map(|a| a.parse::<IpAddr>().unwrap()).collect(),
    }
}
