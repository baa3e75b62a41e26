//! Endpoint create and delete: addresses from IPAM, the driver's interface, the store record.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::Controller;
use crate::endpoint::{Endpoint, EndpointCreate, OwedDelete};
use crate::error::{Error, Result};
use crate::ids::EndpointId;
use crate::network::PoolAllocation;
use crate::protocol::*;
use crate::undo::Undo;

/// The pool of `pools` an address belongs to, or the first pool when no address is asked for.
fn pool_for<'a>(
    pools: &'a [PoolAllocation],
    want: Option<IpAddr>,
    network: &str,
) -> Result<Option<&'a PoolAllocation>> {
    match want {
        None => Ok(pools.first()),
        Some(ip) => match pools.iter().find(|p| p.subnet.contains(&ip)) {
            Some(p) => Ok(Some(p)),
            None if pools.is_empty() => {
                Err(Error::InvalidParameter(format!("network {network} has no subnet of the family of {ip}")))
            }
            None => Err(Error::InvalidParameter(format!(
                "address {ip} is not in any subnet of network {network} ({})",
                pools.iter().map(|p| p.subnet.to_string()).collect::<Vec<_>>().join(", ")
            ))),
        },
    }
}

impl Controller {
    /// Create an endpoint on a network: its addresses from IPAM, its interface from the driver.
    pub fn create_endpoint(&mut self, network: &str, req: EndpointCreate) -> Result<Endpoint> {
        let network = self.network(network)?.clone();
        if !req.name.is_empty() && self.endpoints_of(&network.id).iter().any(|e| e.name == req.name) {
            return Err(Error::EndpointExists { name: req.name, network: network.name });
        }
        let driver = self.driver(&network.driver)?;
        self.settle_owed(&network.driver);
        let ipam = self.ipam(&network.ipam_driver)?;
        let id = EndpointId::random();
        let mut rb = Undo::new();
        let mut request = |pools: &[PoolAllocation], want: Option<IpAddr>| -> Result<Option<IpNet>> {
            let Some(pool) = pool_for(pools, want, &network.name)? else { return Ok(None) };
            let r = ipam.request_address(RequestAddressRequest {
                pool_id: pool.pool_id.clone(),
                address: want.map(|a| a.to_string()).unwrap_or_default(),
                options: BTreeMap::new(),
            })?;
            let addr = super::ipam_address(&r.address)?;
            let (ipam2, pool_id) = (ipam.clone(), pool.pool_id.clone());
            rb.push(format!("address {addr}"), move || {
                ipam2
                    .release_address(ReleaseAddressRequest { pool_id, address: addr.addr().to_string() })
                    .map_err(|e| e.to_string())
            });
            Ok(Some(addr))
        };
        let ipv4 = request(&network.ipv4, req.ipv4)?;
        let ipv6 = request(&network.ipv6, req.ipv6)?;
        let iface = EndpointInterface {
            address: ipv4.map(|a| a.to_string()).unwrap_or_default(),
            address_ipv6: ipv6.map(|a| a.to_string()).unwrap_or_default(),
            mac_address: req.mac.clone().unwrap_or_default(),
        };
        let options = crate::endpoint::protocol_options(&req.options);
        let resp = driver.create_endpoint(CreateEndpointRequest {
            network_id: network.id.to_string(),
            endpoint_id: id.to_string(),
            interface: Some(iface),
            options,
        })?;
        let (d2, nid, eid) = (driver.clone(), network.id.to_string(), id.to_string());
        rb.push(format!("endpoint {id}"), move || {
            d2.delete_endpoint(DeleteEndpointRequest { network_id: nid, endpoint_id: eid }).map_err(|e| e.to_string())
        });
        let mac = req.mac.or_else(|| resp.interface.map(|i| i.mac_address).filter(|m| !m.is_empty()));
        let endpoint = Endpoint {
            id: id.clone(),
            name: if req.name.is_empty() { id.short().to_string() } else { req.name },
            network: network.id.clone(),
            ipv4,
            ipv6,
            mac,
            options: req.options,
            join: None,
            ports: Vec::new(),
        };
        self.store.write(|tx| tx.put_endpoint(&endpoint))?;
        rb.commit();
        self.endpoints.insert(id, endpoint.clone());
        Ok(endpoint)
    }

    /// Delete an endpoint that is not joined to a sandbox.
    pub fn delete_endpoint(&mut self, id: &EndpointId) -> Result<()> {
        let endpoint = self.endpoint(id)?.clone();
        if let Some(j) = &endpoint.join {
            return Err(Error::Forbidden(format!(
                "endpoint {} is joined to sandbox {}: leave it first",
                endpoint.name,
                j.sandbox.short()
            )));
        }
        let network = self.network_of(&endpoint)?;
        let driver = self.driver(&network.driver)?;
        self.settle_owed(&network.driver);
        // A driver that cannot take the endpoint back now is owed the call: the endpoint and its
        // addresses, which are weft's, go at once all the same.
        let request = DeleteEndpointRequest { network_id: network.id.to_string(), endpoint_id: id.to_string() };
        let owed = match driver.delete_endpoint(request) {
            Ok(()) => None,
            Err(e) if e.kind == crate::driver::ErrorKind::NotFound => None,
            Err(e) => {
                tracing::warn!(
                    "driver {} did not delete endpoint {} ({e}): the endpoint and its addresses are released, and the driver will be asked again",
                    network.driver,
                    endpoint.name
                );
                Some(OwedDelete { endpoint: id.clone(), network: network.id.clone(), driver: network.driver.clone() })
            }
        };
        self.store.write(|tx| {
            tx.delete_endpoint(id.as_str())?;
            owed.as_ref().map_or(Ok(()), |o| tx.put_owed_delete(o))
        })?;
        self.endpoints.remove(id);
        if let Some(o) = owed {
            self.owed.insert(o.endpoint.clone(), o);
        }
        if let Ok(ipam) = self.ipam(&network.ipam_driver) {
            for addr in endpoint.addresses() {
                let Some(p) = network.pool_of(addr.addr()) else { continue };
                let r = ipam.release_address(ReleaseAddressRequest {
                    pool_id: p.pool_id.clone(),
                    address: addr.addr().to_string(),
                });
                if let Err(e) = r {
                    tracing::warn!("release of {addr}: {e}");
                }
            }
        }
        Ok(())
    }

    /// Ask `driver` again for the endpoint deletions it owes; those it takes (or no longer
    /// knows) are settled. Called before each of its calls that changes its state, and at start.
    pub(super) fn settle_owed(&mut self, driver: &str) {
        let owed: Vec<OwedDelete> = self.owed.values().filter(|o| o.driver == driver).cloned().collect();
        if owed.is_empty() {
            return;
        }
        let Ok(d) = self.driver(driver) else { return };
        for o in owed {
            let request =
                DeleteEndpointRequest { network_id: o.network.to_string(), endpoint_id: o.endpoint.to_string() };
            match d.delete_endpoint(request) {
                Ok(()) => {}
                Err(e) if e.kind == crate::driver::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::debug!("driver {driver} still does not delete endpoint {}: {e}", o.endpoint.short());
                    continue;
                }
            }
            match self.store.write(|tx| tx.delete_owed_delete(o.endpoint.as_str())) {
                Ok(()) => {
                    tracing::info!("driver {driver} deleted endpoint {} at last", o.endpoint.short());
                    self.owed.remove(&o.endpoint);
                }
                Err(e) => tracing::warn!("forget the owed deletion of endpoint {}: {e}", o.endpoint.short()),
            }
        }
    }
}
