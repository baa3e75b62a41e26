//! A container's networks while it exists: `network connect` and `disconnect`, and the release of
//! what its end could not release.

use super::*;

/// Docker's refusals of `network connect`: a container that shares another's namespace, one in
/// `none` or `host` mode, and the `host` network itself.
pub(super) fn check_connect(
    rec: &ContainerRecord,
    net: &libnet::Network,
    c: &Controller,
) -> Result<(), ContainerError> {
    let refuse = |m: &str| Err(ContainerError::InvalidParameter(m.to_string()));
    if network::shared_container(&rec.config.network_mode).is_some() {
        return refuse("container sharing network namespace with another container or host cannot be connected to any other network");
    }
    let on = |driver: &str| rec.config.endpoints.keys().any(|n| c.network(n).is_ok_and(|n| n.driver == driver));
    if net.driver == "host" || on("host") {
        return refuse("container cannot be disconnected from host network or connected to host network");
    }
    if (net.driver == "null" && !rec.config.endpoints.is_empty()) || on("null") {
        return refuse(
            "container cannot be connected to multiple networks with one of the networks in private (none) mode",
        );
    }
    Ok(())
}

/// A start writes the record it read before it began: a change of its networks meanwhile would
/// be lost, so none is taken.
pub(super) fn refuse_while_starting(t: &Table, rec: &ContainerRecord) -> Result<(), ContainerError> {
    if t.starting.contains(&rec.id) {
        return Err(ContainerError::Conflict(format!(
            "container {} is starting: connect or disconnect it once it runs",
            rec.name
        )));
    }
    Ok(())
}

pub(super) fn already_connected(rec: &ContainerRecord, net: &libnet::Network) -> ContainerError {
    ContainerError::Conflict(format!("endpoint with name {} already exists in network {}", rec.name, net.name))
}

/// The live networking of a running container (see `Table::live`).
type Live = Arc<Mutex<Option<Attachment>>>;

impl Manager {
    /// A container's record and, while it runs, its live networking; refused while it starts.
    fn record_and_live(&self, key: &str) -> Result<(ContainerRecord, Option<Live>), ContainerError> {
        let t = self.table()?;
        let rec = t.find(key)?.clone();
        refuse_while_starting(&t, &rec)?;
        let live = t.live.get(&rec.id).cloned();
        Ok((rec, live))
    }

    /// Connect a container to one more network (`weft network connect`): live when it runs, else
    /// recorded for its next start. Blocking.
    pub fn connect(&self, key: &str, network: &str, ep: EndpointConfig) -> Result<(), ContainerError> {
        let (rec, live) = self.record_and_live(key)?;
        let net = {
            let c = self.controller()?;
            let net = c.network(network).map_err(|_| ContainerError::NetworkNotFound(network.to_string()))?.clone();
            check_connect(&rec, &net, &c)?;
            network::validate_endpoint(&net, &ep).map_err(ContainerError::InvalidParameter)?;
            net
        };
        if let Some(live) = live {
            let mut slot = lock(&live)?;
            if let Some(att) = slot.as_mut() {
                if att.endpoint_on(&net.id).is_some() {
                    return Err(already_connected(&rec, &net));
                }
                let options = rec.config.ports.endpoint_options();
                let connected = network::connect(&mut *self.controller()?, att, &rec.name, &net.name, &ep, &options);
                connected.map_err(|e| self.name_port_holder(e))?;
                // The connect is done; a resolver that cannot follow is logged, not undone.
                if let Err(e) = self.dns_sync(&rec, att) {
                    tracing::error!("DNS of container {} after connect: {e}", rec.name);
                }
                let att = att.clone();
                self.update_networks(&rec.id, move |r| {
                    r.config.endpoints.insert(net.name.clone(), ep);
                    r.attachment = Some(att);
                })?;
                return self.refresh_hosts(&rec.id);
            }
        }
        if rec.config.endpoints.contains_key(&net.name) {
            return Err(already_connected(&rec, &net));
        }
        self.update_networks(&rec.id, move |r| {
            r.config.endpoints.insert(net.name.clone(), ep);
        })
    }

    /// Disconnect a container from a network (`weft network disconnect`). Blocking.
    pub fn disconnect(&self, key: &str, network: &str) -> Result<(), ContainerError> {
        let (rec, live) = self.record_and_live(key)?;
        let net = self
            .controller()?
            .network(network)
            .map_err(|_| ContainerError::NetworkNotFound(network.to_string()))?
            .clone();
        if net.driver == "host" {
            return Err(ContainerError::InvalidParameter(
                "container cannot be disconnected from host network or connected to host network".into(),
            ));
        }
        let not_connected = || {
            ContainerError::InvalidParameter(format!("container {} is not connected to network {}", rec.id, net.name))
        };
        if let Some(live) = live {
            let mut slot = lock(&live)?;
            if let Some(att) = slot.as_mut() {
                if att.endpoint_on(&net.id).is_none() {
                    return Err(not_connected());
                }
                network::disconnect(&mut *self.controller()?, att, &net.id)?;
                if let Err(e) = self.dns_sync(&rec, att) {
                    tracing::error!("DNS of container {} after disconnect: {e}", rec.name);
                }
                let att = att.clone();
                self.update_networks(&rec.id, move |r| {
                    r.config.endpoints.remove(&net.name);
                    r.attachment = Some(att);
                })?;
                return self.refresh_hosts(&rec.id);
            }
        }
        if !rec.config.endpoints.contains_key(&net.name) {
            return Err(not_connected());
        }
        self.update_networks(&rec.id, move |r| {
            r.config.endpoints.remove(&net.name);
        })
    }

    /// Change a record's networks and store it.
    pub(super) fn update_networks(&self, id: &str, f: impl FnOnce(&mut ContainerRecord)) -> Result<(), ContainerError> {
        let mut t = self.table()?;
        let mut rec = t.records.get(id).cloned().ok_or_else(|| ContainerError::NotFound(id.to_string()))?;
        f(&mut rec);
        t.put(rec)
    }

    /// Release a container's networking (see [`network::detach`]).
    pub(super) fn detach(&self, att: &Attachment, unused: bool) -> Result<(), ContainerError> {
        let mut c = self.controller()?;
        network::detach(&mut c, att, unused)
            .map_err(|e| ContainerError::Internal(format!("could not release its networking: {e}")))
    }

    /// Release what a stopped container still holds because its waiter could not release it
    /// (a published port the kernel refused to remove): `rm` and `start` come here first, and
    /// fail while it fails.
    pub(super) fn release_leftover(&self, id: &str) -> Result<(), ContainerError> {
        let (att, shared) = {
            let t = self.table()?;
            match t.records.get(id) {
                Some(r) if !r.running() => match &r.attachment {
                    Some(att) => (att.clone(), t.netns_shared(id)),
                    None => return Ok(()),
                },
                _ => return Ok(()),
            }
        };
        self.detach(&att, !shared)?;
        let mut t = self.table()?;
        if let Some(mut rec) = t.records.get(id).filter(|r| !r.running()).cloned() {
            rec.attachment = None;
            t.put(rec)?;
        }
        tracing::info!(container = %id, "networking left from the container's end released");
        Ok(())
    }

    /// A host port taken by another container is reported with that container's name, not the
    /// id libnet knows it by.
    pub(super) fn name_port_holder(&self, e: libnet::Error) -> ContainerError {
        if let libnet::Error::PortAllocated { port, proto, container: Some(id) } = &e {
            let name = self.table().ok().and_then(|t| t.records.get(id).map(|r| r.name.clone()));
            if let Some(name) = name {
                return ContainerError::Network(libnet::Error::PortAllocated {
                    port: *port,
                    proto: *proto,
                    container: Some(name),
                });
            }
        }
        ContainerError::Network(e)
    }
}
