//! External connectivity: the published ports of a sandbox go with its gateway endpoint (the one
//! holding the default route), as in libnetwork. When an endpoint becomes the gateway endpoint its
//! driver is asked to program them (`ProgramExternalConnectivity`) and reports what it bound
//! (`EndpointOperInfo`); when it stops being one, they are revoked.

use std::net::IpAddr;

use super::Controller;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::ids::EndpointId;
use crate::portmap::{PortBinding, EXPOSED_PORTS_OPTION, PORTMAP_OPTION};
use crate::protocol::*;
use crate::undo::Undo;

/// The port bindings an endpoint asks for (its `com.docker.network.portmap` option).
pub(super) fn requested_ports(endpoint: &Endpoint) -> Result<Vec<PortBinding>> {
    match endpoint.options.get(PORTMAP_OPTION) {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text).map_err(|e| {
            Error::InvalidParameter(format!("invalid {PORTMAP_OPTION} of endpoint {}: {e}", endpoint.name))
        }),
    }
}

/// Whether two host addresses can hold the same port at once: an unspecified address (or none)
/// takes the port on every address of its family.
fn addresses_overlap(a: Option<IpAddr>, b: Option<IpAddr>) -> bool {
    match (a, b) {
        (None, _) | (_, None) => true,
        (Some(a), Some(b)) if a.is_ipv4() != b.is_ipv4() => false,
        (Some(a), Some(b)) => a.is_unspecified() || b.is_unspecified() || a == b,
    }
}

impl Controller {
    /// Refuse a fixed host port that another sandbox's endpoint has published, naming the
    /// container that holds it. (Ports from ranges and free ports are the driver's to choose.)
    fn check_port_conflicts(&self, endpoint: &Endpoint, requested: &[PortBinding]) -> Result<()> {
        for want in requested {
            let fixed = want.host_port != 0 && (want.host_port_end == 0 || want.host_port_end == want.host_port);
            if !fixed {
                continue;
            }
            for other in self.endpoints.values().filter(|e| e.id != endpoint.id) {
                let clash = other.ports.iter().any(|p| {
                    p.proto == want.proto && p.host_port == want.host_port && addresses_overlap(p.host_ip, want.host_ip)
                });
                if clash {
                    let container = other
                        .join
                        .as_ref()
                        .and_then(|j| self.sandboxes.get(&j.sandbox))
                        .map(|s| s.container_id.clone())
                        .filter(|c| !c.is_empty());
                    return Err(Error::PortAllocated { port: want.host_port, proto: want.proto, container });
                }
            }
        }
        Ok(())
    }

    /// Have the endpoint's driver publish its ports, and record what it bound.
    pub(super) fn program_external(&mut self, id: &EndpointId) -> Result<()> {
        let endpoint = self.endpoint(id)?.clone();
        let requested = requested_ports(&endpoint)?;
        self.program_external_with(&endpoint, requested)
    }

    /// Publish again, after a restart, the ports the store says a gateway endpoint had: the same
    /// host ports, so a client that knew them still finds them.
    pub(super) fn republish(&mut self, id: &EndpointId) -> Result<()> {
        let endpoint = self.endpoint(id)?.clone();
        let requested = match endpoint.ports.is_empty() {
            true => requested_ports(&endpoint)?,
            false => endpoint.ports.iter().map(|p| PortBinding { ip: None, host_port_end: 0, ..p.clone() }).collect(),
        };
        self.program_external_with(&endpoint, requested)
    }

    fn program_external_with(&mut self, endpoint: &Endpoint, requested: Vec<PortBinding>) -> Result<()> {
        let id = &endpoint.id;
        self.check_port_conflicts(endpoint, &requested)?;
        let network = self.network_of(endpoint)?;
        let driver = self.driver(&network.driver)?;
        let mut options = Options::new();
        if !requested.is_empty() {
            options.insert(PORTMAP_OPTION.into(), serde_json::json!(requested));
        }
        if let Some(exposed) = endpoint.options.get(EXPOSED_PORTS_OPTION) {
            let value = serde_json::from_str(exposed).map_err(|e| {
                Error::InvalidParameter(format!("invalid {EXPOSED_PORTS_OPTION} of endpoint {}: {e}", endpoint.name))
            })?;
            options.insert(EXPOSED_PORTS_OPTION.into(), value);
        }
        let (nid, eid) = (network.id.to_string(), endpoint.id.to_string());
        let mut undo = Undo::new();
        driver.program_external_connectivity(ProgramExternalConnectivityRequest {
            network_id: nid.clone(),
            endpoint_id: eid.clone(),
            options,
        })?;
        let (d, request) =
            (driver.clone(), RevokeExternalConnectivityRequest { network_id: nid.clone(), endpoint_id: eid.clone() });
        undo.push(format!("the published ports of endpoint {}", endpoint.name), move || {
            d.revoke_external_connectivity(request)
        });
        let bound = self.bound_ports(&*driver, &nid, &eid)?;
        undo.commit();
        if let Some(e) = self.endpoints.get_mut(id) {
            e.ports = bound;
        }
        Ok(())
    }

    /// The ports the driver reports as bound for an endpoint.
    fn bound_ports(&self, driver: &dyn crate::NetworkDriver, nid: &str, eid: &str) -> Result<Vec<PortBinding>> {
        let info =
            driver.endpoint_oper_info(EndpointInfoRequest { network_id: nid.into(), endpoint_id: eid.into() })?;
        match info.value.get(PORTMAP_OPTION) {
            None | Some(serde_json::Value::Null) => Ok(Vec::new()),
            Some(v) => serde_json::from_value(v.clone()).map_err(|e| {
                Error::Driver(crate::DriverError::internal(format!(
                    "driver reported invalid port bindings for endpoint {eid}: {e}"
                )))
            }),
        }
    }

    /// Have the endpoint's driver take its published ports down.
    pub(super) fn revoke_external(&mut self, id: &EndpointId) -> Result<()> {
        let endpoint = self.endpoint(id)?.clone();
        let network = self.network_of(&endpoint)?;
        let driver = self.driver(&network.driver)?;
        driver.revoke_external_connectivity(RevokeExternalConnectivityRequest {
            network_id: network.id.to_string(),
            endpoint_id: endpoint.id.to_string(),
        })?;
        if let Some(e) = self.endpoints.get_mut(id) {
            e.ports.clear();
        }
        Ok(())
    }

    /// The network of `endpoint` (a copy).
    pub(super) fn network_of(&self, endpoint: &Endpoint) -> Result<crate::network::Network> {
        self.networks
            .get(&endpoint.network)
            .cloned()
            .ok_or_else(|| Error::NetworkNotFound(endpoint.network.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_overlap_their_family_only() {
        let v4: IpAddr = "127.0.0.1".parse().unwrap();
        let any4: IpAddr = "0.0.0.0".parse().unwrap();
        let v6: IpAddr = "::1".parse().unwrap();
        assert!(addresses_overlap(None, Some(v4)));
        assert!(addresses_overlap(Some(any4), Some(v4)));
        assert!(!addresses_overlap(Some(any4), Some(v6)));
        assert!(!addresses_overlap(Some(v4), Some("127.0.0.2".parse().unwrap())));
        assert!(addresses_overlap(Some(v6), Some(v6)));
    }
}
