//! A container's networking through the libnet controller: attach (sandbox, then an endpoint per
//! network, joined) when it starts, connect and disconnect one network while it runs, detach
//! (leave, delete endpoints, delete sandbox) when it stops.

use std::collections::BTreeMap;
use std::net::IpAddr;

use libnet::undo::UndoWith;
use libnet::{Controller, EndpointCreate, EndpointId, Network, NetworkId, SandboxCreate, SandboxId};
use serde::{Deserialize, Serialize};

use super::EndpointConfig;

/// The network a container's `NetworkMode` names, resolved against the controller's networks:
/// `bridge`, `default` and empty mean the predefined `bridge`; `none` and `host` are the
/// predefined networks of the null and host drivers, so Docker's `Networks` shape comes for free.
pub fn network_of_mode(mode: &str) -> &str {
    match mode {
        "" | "default" => "bridge",
        m => m,
    }
}

/// The container a `container:<name|id>` network mode shares the namespace of.
pub fn shared_container(mode: &str) -> Option<&str> {
    mode.strip_prefix("container:")
}

/// Whether a network is one of the predefined ones a container cannot share with others: `host`
/// (the host's own stack) and `none` (loopback only).
pub fn is_exclusive(network: &Network) -> bool {
    network.driver == "host" || network.driver == "null"
}

/// One endpoint of a running container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttachedEndpoint {
    pub network_id: NetworkId,
    pub network_name: String,
    pub endpoint_id: EndpointId,
    pub aliases: Vec<String>,
}

/// Everything [`attach`] and [`connect`] made, which [`detach`] undoes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    pub sandbox: SandboxId,
    /// The namespace to run the container in; `None` in host mode.
    pub netns: Option<std::path::PathBuf>,
    pub endpoints: Vec<AttachedEndpoint>,
}

impl Attachment {
    pub fn endpoint_on(&self, network: &NetworkId) -> Option<&AttachedEndpoint> {
        self.endpoints.iter().find(|e| &e.network_id == network)
    }
}

/// Check what a container asks of one network before anything is made, with Docker's messages:
/// a fixed address only on a user-defined network whose subnet the user gave.
pub fn validate_endpoint(network: &Network, ep: &EndpointConfig) -> Result<(), String> {
    let fixed = [ep.ipv4, ep.ipv6];
    for ip in fixed.iter().flatten() {
        if network.name == "bridge" || is_exclusive(network) {
            return Err("user specified IP address is supported on user defined networks only".into());
        }
        let pools = if ip.is_ipv4() { &network.ipv4 } else { &network.ipv6 };
        if !pools.iter().any(|p| p.user_subnet) {
            return Err(
                "user specified IP address is supported only when connecting to networks with user configured subnets"
                    .into(),
            );
        }
    }
    if !ep.aliases.is_empty() && (network.name == "bridge" || is_exclusive(network)) {
        return Err("network-scoped alias is supported only for containers in user defined networks".into());
    }
    if let Some(mac) = &ep.mac {
        if !valid_mac(mac) {
            return Err(format!("invalid MAC address: {mac}"));
        }
    }
    Ok(())
}

/// `aa:bb:cc:dd:ee:ff`, unicast.
fn valid_mac(mac: &str) -> bool {
    let parts: Vec<&str> = mac.split(':').collect();
    parts.len() == 6
        && parts.iter().all(|p| p.len() == 2 && u8::from_str_radix(p, 16).is_ok())
        && u8::from_str_radix(parts[0], 16).is_ok_and(|b| b & 1 == 0)
}

/// Make the container's sandbox and join it to each network in order (the first gets `eth0`).
/// A failure undoes the steps before it. `host_mode` makes a sandbox without a namespace.
pub fn attach(
    c: &mut Controller,
    container_id: &str,
    container_name: &str,
    networks: &[(String, EndpointConfig)],
    options: &BTreeMap<String, String>,
) -> libnet::Result<Attachment> {
    let host_mode = networks.iter().any(|(n, _)| c.network(n).is_ok_and(|n| n.driver == "host"));
    let sandbox = c.create_sandbox(SandboxCreate { container_id: container_id.to_string(), host_mode })?;
    // Its step acts on the controller, which the joins go on changing: given it when it runs.
    let mut undo = UndoWith::<Controller>::new();
    let id = sandbox.id.clone();
    // One step for the sandbox and every endpoint joined to it by then (a failed join leaves
    // none, see `connect`), released as `detach` does: no process is in the namespace yet, so
    // their interfaces go with it, and each endpoint is deleted even if it could not leave.
    undo.push(format!("sandbox {} of container {container_name}", id.short()), move |c: &mut Controller| {
        let joined = attachment_of(c.sandbox(&id)?);
        detach(c, &joined, true)
    });
    let mut att = Attachment { sandbox: sandbox.id.clone(), netns: sandbox.key.clone(), endpoints: Vec::new() };
    for (network, ep) in networks {
        if let Err(e) = connect(c, &mut att, container_name, network, ep, options) {
            undo.run(c);
            return Err(e);
        }
    }
    undo.commit();
    Ok(att)
}

/// Join a container's sandbox to one more network: an endpoint named after the container, with
/// `options` (its published ports, see [`super::ports`]), joined. On failure nothing is left of it.
pub fn connect(
    c: &mut Controller,
    att: &mut Attachment,
    container_name: &str,
    network: &str,
    ep: &EndpointConfig,
    options: &BTreeMap<String, String>,
) -> libnet::Result<()> {
    let network = c.network(network)?.clone();
    let endpoint = c.create_endpoint(
        network.id.as_str(),
        EndpointCreate {
            name: container_name.to_string(),
            ipv4: ep.ipv4,
            ipv6: ep.ipv6,
            mac: ep.mac.clone(),
            options: options.clone(),
        },
    )?;
    let mut undo = UndoWith::<Controller>::new();
    let id = endpoint.id.clone();
    undo.push(
        format!("endpoint {} of container {container_name} on network {}", id.short(), network.name),
        move |c: &mut Controller| c.delete_endpoint(&id),
    );
    if let Err(e) = c.join(&endpoint.id, &att.sandbox) {
        undo.run(c);
        return Err(e);
    }
    undo.commit();
    att.endpoints.push(AttachedEndpoint {
        network_id: network.id.clone(),
        network_name: network.name.clone(),
        endpoint_id: endpoint.id,
        aliases: ep.aliases.clone(),
    });
    Ok(())
}

/// Take a container's sandbox off one network: leave, then delete the endpoint.
pub fn disconnect(c: &mut Controller, att: &mut Attachment, network: &NetworkId) -> libnet::Result<()> {
    let Some(pos) = att.endpoints.iter().position(|e| &e.network_id == network) else { return Ok(()) };
    let id = att.endpoints[pos].endpoint_id.clone();
    if c.endpoint(&id).is_ok_and(|e| e.join.is_some()) {
        c.leave(&id)?;
    }
    if c.endpoint(&id).is_ok() {
        c.delete_endpoint(&id)?;
    }
    att.endpoints.remove(pos);
    Ok(())
}

/// Release a container's networking: leave and delete its endpoints, delete its sandbox. Goes on
/// past failures (what is already gone is fine) and returns the first one. `unused`: no process
/// is left in the namespace, so its interfaces can go with it (see
/// [`Controller::discard_sandbox`]); otherwise each is taken out first.
pub fn detach(c: &mut Controller, att: &Attachment, unused: bool) -> libnet::Result<()> {
    let mut first = None;
    if c.sandbox(&att.sandbox).is_ok() {
        let deleted = if unused { c.discard_sandbox(&att.sandbox) } else { c.delete_sandbox(&att.sandbox) };
        if let Err(e) = deleted {
            tracing::warn!("delete sandbox {}: {e}", att.sandbox.short());
            first.get_or_insert(e);
        }
    }
    for ep in &att.endpoints {
        let Ok(endpoint) = c.endpoint(&ep.endpoint_id) else { continue };
        if endpoint.join.is_some() {
            if let Err(e) = c.leave(&ep.endpoint_id) {
                tracing::warn!("leave of endpoint {}: {e}", ep.endpoint_id.short());
                first.get_or_insert(e);
                continue;
            }
        }
        if let Err(e) = c.delete_endpoint(&ep.endpoint_id) {
            tracing::warn!("delete endpoint {}: {e}", ep.endpoint_id.short());
            first.get_or_insert(e);
        }
    }
    match first {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Remove sandboxes (and their endpoints) of containers that are not running: what a daemon
/// killed mid-start or mid-stop left in the controller's store. `is_running` says which
/// container ids to keep.
pub fn release_orphans(c: &mut Controller, is_running: impl Fn(&str) -> bool) -> Vec<String> {
    let orphans: Vec<(Attachment, String)> = c
        .sandboxes()
        .filter(|s| !s.container_id.is_empty() && !is_running(&s.container_id))
        .map(|s| (attachment_of(s), s.container_id.clone()))
        .collect();
    let mut released = Vec::new();
    for (att, container) in orphans {
        match detach(c, &att, true) {
            Ok(()) => released.push(container),
            Err(e) => tracing::error!("release networking of container {container}: {e}"),
        }
    }
    released
}

/// A sandbox and the endpoints joined to it as the controller knows them, for [`detach`] (which
/// needs only their ids).
fn attachment_of(sandbox: &libnet::Sandbox) -> Attachment {
    Attachment {
        sandbox: sandbox.id.clone(),
        netns: None,
        endpoints: sandbox
            .endpoints
            .iter()
            .map(|endpoint_id| AttachedEndpoint {
                network_id: NetworkId::from_string(""),
                network_name: String::new(),
                endpoint_id: endpoint_id.clone(),
                aliases: Vec::new(),
            })
            .collect(),
    }
}

/// Delete every endpoint that is not joined to a sandbox; the names of those deleted.
pub fn delete_unjoined(c: &mut Controller) -> Vec<String> {
    let unjoined: Vec<(EndpointId, String)> = c
        .networks()
        .into_iter()
        .flat_map(|n| c.endpoints_of(&n.id))
        .filter(|e| e.join.is_none())
        .map(|e| (e.id.clone(), e.name.clone()))
        .collect();
    let mut deleted = Vec::new();
    for (id, name) in unjoined {
        match c.delete_endpoint(&id) {
            Ok(()) => deleted.push(name),
            Err(e) => tracing::error!("delete endpoint {name}: {e}"),
        }
    }
    deleted
}

/// The networks to join at start, in join order: the `NetworkMode` network first (it gets `eth0`),
/// then the others by name, as Docker connects them.
pub fn join_order(mode: &str, endpoints: &std::collections::BTreeMap<String, EndpointConfig>) -> Vec<String> {
    let first = network_of_mode(mode);
    let mut order: Vec<String> = endpoints.keys().filter(|n| n.as_str() == first).cloned().collect();
    order.extend(endpoints.keys().filter(|n| n.as_str() != first).cloned());
    order
}

/// An address parsed for a message.
pub fn parse_ip(s: &str, family_v6: bool) -> Result<Option<IpAddr>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let ip: IpAddr = s.parse().map_err(|_| format!("invalid IP address: {s}"))?;
    if ip.is_ipv6() != family_v6 {
        let which = if family_v6 { "IPv6" } else { "IPv4" };
        return Err(format!("invalid {which} address: {s}"));
    }
    Ok(Some(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_checked() {
        assert!(valid_mac("02:42:c0:a8:64:0a"));
        assert!(!valid_mac("03:42:c0:a8:64:0a"), "multicast");
        assert!(!valid_mac("02:42:c0:a8:64"));
        assert!(!valid_mac("zz:42:c0:a8:64:0a"));
    }

    #[test]
    fn the_mode_network_joins_first() {
        let eps: BTreeMap<String, EndpointConfig> =
            ["a", "front", "z"].iter().map(|n| (n.to_string(), EndpointConfig::default())).collect();
        assert_eq!(join_order("front", &eps), ["front", "a", "z"]);
        assert_eq!(join_order("other", &eps), ["a", "front", "z"]);
    }

    #[test]
    fn addresses_are_checked_by_family() {
        assert_eq!(parse_ip("", false), Ok(None));
        assert!(parse_ip("10.0.0.1", false).is_ok_and(|ip| ip.is_some()));
        assert!(parse_ip("fd00::1", false).is_err());
        assert!(parse_ip("nope", true).is_err());
    }
}
