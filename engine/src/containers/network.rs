//! A container's networking through the libnet controller: attach (sandbox, endpoint, join) when
//! it starts, detach (leave, delete endpoints, delete sandbox) when it stops.

use std::net::IpAddr;

use libnet::{Controller, EndpointCreate, EndpointId, NetworkId, SandboxCreate, SandboxId};
use serde::{Deserialize, Serialize};

/// The network a container's `NetworkMode` names, resolved against the controller's networks:
/// `bridge`, `default` and empty mean the predefined `bridge`; `none` and `host` are the
/// predefined networks of the null and host drivers, so Docker's `Networks` shape comes for free.
pub fn network_of_mode(mode: &str) -> &str {
    match mode {
        "" | "default" => "bridge",
        m => m,
    }
}

/// One endpoint of a running container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttachedEndpoint {
    pub network_id: NetworkId,
    pub network_name: String,
    pub endpoint_id: EndpointId,
    pub aliases: Vec<String>,
}

/// Everything [`attach`] made, which [`detach`] undoes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    pub sandbox: SandboxId,
    /// The namespace to run the container in; `None` in host mode.
    pub netns: Option<std::path::PathBuf>,
    pub endpoints: Vec<AttachedEndpoint>,
}

/// What to attach a container to.
pub struct AttachRequest<'a> {
    pub container_id: &'a str,
    pub container_name: &'a str,
    pub network: &'a str,
    pub ipv4: Option<IpAddr>,
    pub aliases: Vec<String>,
}

/// Make the container's sandbox, an endpoint on its network, and join them. A failure undoes
/// the steps before it.
pub fn attach(c: &mut Controller, req: AttachRequest<'_>) -> libnet::Result<Attachment> {
    let network = c.network(req.network)?.clone();
    let host_mode = network.driver == "host";
    let sandbox = c.create_sandbox(SandboxCreate { container_id: req.container_id.to_string(), host_mode })?;
    let undo_sandbox = |c: &mut Controller| {
        if let Err(e) = c.delete_sandbox(&sandbox.id) {
            tracing::warn!("undo: delete sandbox {}: {e}", sandbox.id.short());
        }
    };
    let endpoint = match c.create_endpoint(
        network.id.as_str(),
        EndpointCreate { name: req.container_name.to_string(), ipv4: req.ipv4, ..Default::default() },
    ) {
        Ok(e) => e,
        Err(e) => {
            undo_sandbox(c);
            return Err(e);
        }
    };
    if let Err(e) = c.join(&endpoint.id, &sandbox.id) {
        if let Err(u) = c.delete_endpoint(&endpoint.id) {
            tracing::warn!("undo: delete endpoint {}: {u}", endpoint.id.short());
        }
        undo_sandbox(c);
        return Err(e);
    }
    Ok(Attachment {
        sandbox: sandbox.id.clone(),
        netns: sandbox.key.clone(),
        endpoints: vec![AttachedEndpoint {
            network_id: network.id.clone(),
            network_name: network.name.clone(),
            endpoint_id: endpoint.id,
            aliases: req.aliases,
        }],
    })
}

/// Release a container's networking: leave and delete its endpoints, delete its sandbox. Goes on
/// past failures (what is already gone is fine) and returns the first one.
pub fn detach(c: &mut Controller, att: &Attachment) -> libnet::Result<()> {
    let mut first = None;
    if c.sandbox(&att.sandbox).is_ok() {
        if let Err(e) = c.delete_sandbox(&att.sandbox) {
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
    let orphans: Vec<(SandboxId, Vec<EndpointId>, String)> = c
        .sandboxes()
        .filter(|s| !s.container_id.is_empty() && !is_running(&s.container_id))
        .map(|s| (s.id.clone(), s.endpoints.clone(), s.container_id.clone()))
        .collect();
    let mut released = Vec::new();
    for (sandbox, endpoints, container) in orphans {
        let att = Attachment {
            sandbox,
            netns: None,
            endpoints: endpoints
                .into_iter()
                .map(|endpoint_id| AttachedEndpoint {
                    network_id: NetworkId::from_string(""),
                    network_name: String::new(),
                    endpoint_id,
                    aliases: Vec::new(),
                })
                .collect(),
        };
        match detach(c, &att) {
            Ok(()) => released.push(container),
            Err(e) => tracing::error!("release networking of container {container}: {e}"),
        }
    }
    released
}
