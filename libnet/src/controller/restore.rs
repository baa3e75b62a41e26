//! Restart: load the store, replay IPAM grants, have the drivers re-make what is missing, put
//! joined interfaces back, and remove weft-made kernel objects the store does not know.

use std::collections::{BTreeMap, BTreeSet};

use super::networks::create_request;
use super::{is_netns_mount, Controller};
use crate::error::Result;
use crate::marks;
use crate::network::PoolAllocation;
use crate::osl::{Netlink, Netns};
use crate::protocol::*;
use crate::undo::Undo;

/// What a restore did, for the daemon's log.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// How many networks were loaded from the store, those in `failed` included.
    pub networks: usize,
    /// How many endpoints were loaded from the store, those in `failed` included.
    pub endpoints: usize,
    /// How many sandboxes were loaded from the store, those in `failed` included.
    pub sandboxes: usize,
    /// Kernel objects removed because the store does not know them.
    pub removed: Vec<String>,
    /// Objects that could not be restored, with the reason; their records are kept.
    pub failed: Vec<String>,
}

impl Controller {
    /// Load the store and bring the kernel in line with it. Committed networks and allocations
    /// are never dropped: what cannot be restored is reported and kept.
    pub fn restore(&mut self) -> Result<RestoreReport> {
        let mut report = RestoreReport::default();
        for mut n in self.store.networks()? {
            if let Err(e) = self.restore_network(&mut n) {
                report.failed.push(format!("network {}: {e}", n.name));
            }
            self.networks.insert(n.id.clone(), n);
            report.networks += 1;
        }
        for s in self.store.sandboxes()? {
            if let Some(key) = &s.key {
                if !is_netns_mount(key) {
                    let _ = Netns::delete(key);
                    match Netns::create(key).and_then(|ns| {
                        let mut nl = Netlink::in_netns(&ns)?;
                        if let Some(lo) = nl.link_by_name("lo")? {
                            nl.set_up(lo.index)?;
                        }
                        Ok(())
                    }) {
                        Ok(()) => {}
                        Err(e) => report.failed.push(format!("sandbox {}: {e}", s.id.short())),
                    }
                }
            }
            self.sandboxes.insert(s.id.clone(), s);
            report.sandboxes += 1;
        }
        for mut ep in self.store.endpoints()? {
            if let Err(e) = self.restore_endpoint(&mut ep) {
                report.failed.push(format!("endpoint {}: {e}", ep.name));
            }
            self.endpoints.insert(ep.id.clone(), ep);
            report.endpoints += 1;
        }
        for o in self.store.owed_deletes()? {
            self.owed.insert(o.endpoint.clone(), o);
        }
        let drivers: std::collections::BTreeSet<String> = self.owed.values().map(|o| o.driver.clone()).collect();
        for driver in drivers {
            self.settle_owed(&driver);
        }
        self.repair_default_routes(&mut report);
        self.republish_ports(&mut report);
        self.collect_garbage(&mut report);
        Ok(report)
    }

    fn restore_network(&mut self, n: &mut crate::network::Network) -> Result<()> {
        let ipam = self.ipam(&n.ipam_driver)?;
        let mut rb = Undo::new();
        let options = n.ipam_options.clone();
        let space = n.address_space.clone();
        let replay = (|| -> Result<()> {
            for (v6, pools) in [(false, &mut n.ipv4), (true, &mut n.ipv6)] {
                let mut replayed = Vec::new();
                for p in pools.iter() {
                    let configs = [super::networks::ParsedConfig {
                        subnet: Some(p.subnet.trunc()),
                        ip_range: p.ip_range,
                        gateway: p.gateway.map(|g| g.addr()),
                        aux: p.aux_addresses.clone(),
                    }];
                    let mut got = super::networks::allocate_pools(&ipam, &space, v6, &configs, &options, &mut rb)?;
                    let mut granted: PoolAllocation = got.remove(0);
                    granted.user_subnet = p.user_subnet;
                    replayed.push(granted);
                }
                *pools = replayed;
            }
            Ok(())
        })();
        // The record is kept whatever happens next, so whatever was granted again stays granted:
        // a subnet of a stored network must never be handed to another one.
        rb.commit();
        replay?;
        let driver = self.driver(&n.driver)?;
        driver.create_network(create_request(n))?;
        Ok(())
    }

    fn restore_endpoint(&mut self, ep: &mut crate::endpoint::Endpoint) -> Result<()> {
        let network = self.network(ep.network.as_str())?.clone();
        let driver = self.driver(&network.driver)?;
        let ipam = self.ipam(&network.ipam_driver)?;
        for addr in ep.addresses() {
            if let Some(p) = network.pool_of(addr.addr()) {
                ipam.request_address(RequestAddressRequest {
                    pool_id: p.pool_id.clone(),
                    address: addr.addr().to_string(),
                    options: BTreeMap::new(),
                })?;
            }
        }
        // Is the joined interface still in its sandbox? Then the kernel is as it was.
        let intact = match (&ep.join, ep.join.as_ref().and_then(|j| self.sandboxes.get(&j.sandbox))) {
            (Some(j), Some(sb)) => match (&sb.key, &j.interface) {
                (Some(key), Some(name)) => Netns::open(key)
                    .and_then(|ns| Netlink::in_netns(&ns))
                    .and_then(|mut nl| nl.link_by_name(name))
                    .map(|l| l.is_some())
                    .unwrap_or(false),
                _ => true,
            },
            _ => false,
        };
        let iface = EndpointInterface {
            address: ep.ipv4.map(|a| a.to_string()).unwrap_or_default(),
            address_ipv6: ep.ipv6.map(|a| a.to_string()).unwrap_or_default(),
            mac_address: ep.mac.clone().unwrap_or_default(),
        };
        // An endpoint the store says is not joined must have both ends in the host namespace;
        // if weftd died between moving one into a sandbox and committing the join, the pair is
        // made again rather than adopted half-gone.
        let half_joined = ep.join.is_none()
            && self.host.link_by_name(&marks::host_veth_name(&ep.id))?.is_some()
            && self.host.link_by_name(&marks::peer_veth_name(&ep.id))?.is_none();
        if (ep.join.is_some() && !intact) || half_joined {
            // The sandbox side is gone; what remains of the old pair (its namespace may still be
            // dying in the kernel) is removed so the driver makes a whole new one.
            driver.delete_endpoint(DeleteEndpointRequest {
                network_id: network.id.to_string(),
                endpoint_id: ep.id.to_string(),
            })?;
        }
        driver.create_endpoint(CreateEndpointRequest {
            network_id: network.id.to_string(),
            endpoint_id: ep.id.to_string(),
            interface: Some(iface),
            options: crate::endpoint::protocol_options(&ep.options),
        })?;
        if let Some(j) = ep.join.clone() {
            if !intact {
                // The interface is gone (the namespace was re-made): join again.
                if let Some(sb) = self.sandboxes.get_mut(&j.sandbox) {
                    sb.endpoints.retain(|e| e != &ep.id);
                    sb.gateway_endpoint = None;
                }
                ep.join = None;
                self.endpoints.insert(ep.id.clone(), ep.clone());
                self.join(&ep.id, &j.sandbox)?;
                if let Some(e) = self.endpoints.get(&ep.id) {
                    *ep = e.clone();
                }
            }
        }
        Ok(())
    }

    /// A daemon killed in the middle of a join may have taken a sandbox's default route away
    /// before it could commit: give every sandbox that has none the route of its preferred
    /// endpoint again.
    fn repair_default_routes(&mut self, report: &mut RestoreReport) {
        let ids: Vec<_> = self.sandboxes.keys().cloned().collect();
        for id in ids {
            let Some(mut sb) = self.sandboxes.get(&id).cloned() else { continue };
            let Some(key) = sb.key.clone() else { continue };
            if sb.endpoints.is_empty() {
                continue;
            }
            let has_default = Netns::open(&key)
                .and_then(|ns| Netlink::in_netns(&ns))
                .and_then(|mut nl| nl.routes())
                .map(|routes| routes.iter().any(|r| r.destination.prefix_len() == 0))
                .unwrap_or(true);
            if has_default {
                continue;
            }
            let before = sb.gateway_endpoint.take();
            let fixed = self.update_default_route(&mut sb).and_then(|_| {
                if sb.gateway_endpoint == before {
                    return Ok(());
                }
                self.store.write(|tx| tx.put_sandbox(&sb))
            });
            match fixed {
                Ok(()) => {
                    self.sandboxes.insert(id, sb);
                }
                Err(e) => report.failed.push(format!("default route of sandbox {}: {e}", id.short())),
            }
        }
    }

    /// The drivers start with no published ports (the firewall's tables are loaded anew): the
    /// gateway endpoint of each restored sandbox publishes its ports again.
    fn republish_ports(&mut self, report: &mut RestoreReport) {
        let gateways: Vec<_> = self.sandboxes.values().filter_map(|s| s.gateway_endpoint.clone()).collect();
        for id in gateways {
            if self.endpoints.get(&id).is_none_or(|e| e.join.is_none()) {
                continue;
            }
            let done = self.republish(&id).and_then(|_| {
                let endpoints = &self.endpoints;
                self.store.write(|tx| match endpoints.get(&id) {
                    Some(e) => tx.put_endpoint(e),
                    None => Ok(()),
                })
            });
            if let Err(e) = done {
                report.failed.push(format!("published ports of endpoint {}: {e}", id.short()));
            }
        }
    }

    /// Remove links with weft's marks and namespace mounts under the exec root that no stored
    /// object accounts for.
    fn collect_garbage(&mut self, report: &mut RestoreReport) {
        let mut keep: BTreeSet<String> = BTreeSet::new();
        for n in self.networks.values() {
            keep.insert(marks::bridge_name(&n.id));
            if let Some(name) = n.options.get("com.docker.network.bridge.name") {
                keep.insert(name.clone());
            }
        }
        for e in self.endpoints.values() {
            keep.insert(marks::host_veth_name(&e.id));
            keep.insert(marks::peer_veth_name(&e.id));
        }
        match self.host.links() {
            Ok(links) => {
                // weft's names, or weft's alias on a bridge with a name of the user's choosing.
                let weft_made = |l: &crate::osl::LinkInfo| {
                    marks::is_weft_link(&l.name)
                        || l.alias.as_deref().is_some_and(|a| a.starts_with(marks::OWNER_ALIAS_PREFIX))
                };
                for l in links.into_iter().filter(|l| weft_made(l) && !keep.contains(&l.name)) {
                    match self.host.delete_link(&l.name) {
                        Ok(()) => report.removed.push(format!("link {}", l.name)),
                        Err(e) if e.is_not_found() => {}
                        Err(e) => report.failed.push(format!("remove link {}: {e}", l.name)),
                    }
                }
            }
            Err(e) => report.failed.push(format!("list links: {e}")),
        }
        let known: BTreeSet<_> = self.sandboxes.values().filter_map(|s| s.key.clone()).collect();
        if let Ok(dir) = std::fs::read_dir(self.netns_dir()) {
            for entry in dir.flatten() {
                let path = entry.path();
                if !known.contains(&path) {
                    match Netns::delete(&path) {
                        Ok(()) => report.removed.push(format!("namespace {}", path.display())),
                        Err(e) => report.failed.push(format!("remove namespace {}: {e}", path.display())),
                    }
                }
            }
        }
    }
}
