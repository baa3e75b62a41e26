//! Sandboxes: create a namespace, join endpoints (move, rename, address, route), leave, delete.

use std::net::IpAddr;

use ipnet::IpNet;

use super::Controller;
use crate::endpoint::JoinInfo;
use crate::error::{Error, Result};
use crate::ids::{EndpointId, SandboxId};
use crate::osl::{set_sysctl, Netlink, Netns};
use crate::protocol::*;
use crate::sandbox::{Sandbox, SandboxCreate};
use crate::undo::{Undo, UndoWith};

fn parse_gateway(s: &str) -> Result<Option<IpAddr>> {
    if s.is_empty() {
        return Ok(None);
    }
    let ip = s.split('/').next().unwrap_or(s);
    ip.parse()
        .map(Some)
        .map_err(|_| Error::Driver(crate::DriverError::internal(format!("driver returned an invalid gateway \"{s}\""))))
}

/// The first free `<prefix><n>` name among the sandbox's links.
fn next_interface_name(nl: &mut Netlink, prefix: &str) -> Result<String> {
    let taken: Vec<String> = nl.links()?.into_iter().map(|l| l.name).collect();
    let name =
        (0..).map(|i| format!("{prefix}{i}")).find(|n| !taken.contains(n)).unwrap_or_else(|| format!("{prefix}0"));
    Ok(name)
}

fn default_route(ip: &IpAddr) -> IpNet {
    match ip {
        IpAddr::V4(_) => "0.0.0.0/0".parse().unwrap_or_else(|_| IpNet::default()),
        IpAddr::V6(_) => "::/0".parse().unwrap_or_else(|_| IpNet::default()),
    }
}

impl Controller {
    /// Make a sandbox: a fresh namespace bind-mounted under `<exec-root>/netns/`, loopback up.
    /// In host mode there is no namespace: the sandbox is the host's own stack.
    pub fn create_sandbox(&mut self, req: SandboxCreate) -> Result<Sandbox> {
        let id = SandboxId::random();
        let key = if req.host_mode { None } else { Some(self.netns_path(&id)) };
        let mut rb = Undo::new();
        if let Some(path) = &key {
            let ns = Netns::create(path)?;
            let p2 = path.clone();
            rb.push(format!("namespace {}", path.display()), move || Netns::delete(&p2).map_err(|e| e.to_string()));
            let mut nl = Netlink::in_netns(&ns)?;
            if let Some(lo) = nl.link_by_name("lo")? {
                nl.set_up(lo.index)?;
            }
        }
        let sandbox = Sandbox {
            id: id.clone(),
            container_id: req.container_id,
            key,
            endpoints: Vec::new(),
            gateway_endpoint: None,
        };
        self.store.write(|tx| tx.put_sandbox(&sandbox))?;
        rb.commit();
        self.sandboxes.insert(id, sandbox.clone());
        Ok(sandbox)
    }

    /// Join an endpoint to a sandbox: the driver names the interface it made, which is moved into
    /// the sandbox, renamed `eth<n>`, given its addresses and brought up; the default route goes
    /// through the gateway of the sandbox's preferred endpoint.
    pub fn join(&mut self, endpoint_id: &EndpointId, sandbox_id: &SandboxId) -> Result<()> {
        let endpoint = self.endpoint(endpoint_id)?.clone();
        let sandbox = self.sandbox(sandbox_id)?.clone();
        if let Some(j) = &endpoint.join {
            return Err(Error::AlreadyJoined { endpoint: endpoint.name, sandbox: j.sandbox.short().to_string() });
        }
        let network = self.network_of(&endpoint)?;
        let driver = self.driver(&network.driver)?;
        let resp = driver.join(JoinRequest {
            network_id: network.id.to_string(),
            endpoint_id: endpoint.id.to_string(),
            sandbox_key: sandbox.key.as_ref().map(|k| k.display().to_string()).unwrap_or_default(),
            options: Options::new(),
        })?;
        let mut rb = Undo::new();
        let (d2, nid, eid) = (driver.clone(), network.id.to_string(), endpoint.id.to_string());
        rb.push("driver join", move || {
            d2.leave(LeaveRequest { network_id: nid, endpoint_id: eid }).map_err(|e| e.to_string())
        });
        if let (Some(key), Some(ifname)) = (&sandbox.key, &resp.interface_name) {
            // A driver may have made the interface inside the sandbox already: if the join fails
            // before it is plumbed, it goes (a veth takes its host end with it). This undo runs
            // after the plumbing's own, so an interface they handed back to the host is not here.
            let (key, src) = (key.clone(), ifname.src_name.clone());
            rb.push(format!("interface {src} made in the sandbox"), move || {
                let ns = Netns::open(&key).map_err(|e| e.to_string())?;
                let mut nl = Netlink::in_netns(&ns).map_err(|e| e.to_string())?;
                match nl.link_by_name(&src).map_err(|e| e.to_string())? {
                    Some(link) => nl.delete_index(link.index).map_err(|e| e.to_string()),
                    None => Ok(()),
                }
            });
        }
        let mut info = JoinInfo {
            sandbox: sandbox.id.clone(),
            interface: None,
            src_name: None,
            index: None,
            gateway: parse_gateway(&resp.gateway)?,
            gateway_v6: parse_gateway(&resp.gateway_ipv6)?,
            static_routes: resp.static_routes.clone(),
        };
        if let (Some(key), Some(ifname)) = (&sandbox.key, &resp.interface_name) {
            let ns = Netns::open(key)?;
            let (dst, index) = self.plumb_interface(
                &ns,
                &ifname.src_name,
                &ifname.dst_prefix,
                &endpoint,
                &resp.static_routes,
                &mut rb,
            )?;
            info.interface = Some(dst);
            info.index = Some(index);
            info.src_name = Some(ifname.src_name.clone());
        }
        let mut endpoint = endpoint;
        endpoint.join = Some(info);
        let mut sandbox = sandbox;
        sandbox.endpoints.push(endpoint.id.clone());
        // The steps below change the controller itself: their undo is given it when it runs.
        let mut tail = UndoWith::<Controller>::new();
        // On failure the old default route is put back: which endpoint had it is forgotten, so
        // it is added again. (Pushed first, it runs last.)
        let before = self.sandbox(&sandbox.id)?.clone();
        tail.push(format!("the default route of sandbox {}", before.id.short()), move |c: &mut Controller| {
            let mut old = before;
            old.gateway_endpoint = None;
            c.update_default_route(&mut old)
        });
        self.endpoints.insert(endpoint.id.clone(), endpoint.clone());
        let mut unjoined = endpoint.clone();
        unjoined.join = None;
        tail.push(format!("the join of endpoint {}", endpoint.name), move |c: &mut Controller| {
            c.endpoints.insert(unjoined.id.clone(), unjoined);
            Ok::<_, Error>(())
        });
        let done = self.route_and_store_join(&mut sandbox, &endpoint, &mut tail);
        if let Err(e) = done {
            tail.run(self);
            return Err(e);
        }
        tail.commit();
        rb.commit();
        self.sandboxes.insert(sandbox.id.clone(), sandbox);
        Ok(())
    }

    /// The last steps of a join, with their undo in `tail`: the sandbox's default route (and with
    /// it, when the joined endpoint becomes the gateway endpoint, its published ports), then the
    /// store.
    fn route_and_store_join(
        &mut self,
        sandbox: &mut Sandbox,
        endpoint: &crate::endpoint::Endpoint,
        tail: &mut UndoWith<'_, Controller>,
    ) -> Result<()> {
        self.update_default_route(sandbox)?;
        if sandbox.gateway_endpoint.as_ref() == Some(&endpoint.id) {
            let id = endpoint.id.clone();
            tail.push(format!("the published ports of endpoint {}", endpoint.name), move |c: &mut Controller| {
                c.revoke_external(&id)
            });
        }
        self.store_sandbox_endpoints(sandbox, None)
    }

    /// Store a sandbox with every endpoint joined to it (a change of the gateway endpoint
    /// changes the published ports of two of them), and `left`, one that just left it.
    fn store_sandbox_endpoints(&mut self, sandbox: &Sandbox, left: Option<&EndpointId>) -> Result<()> {
        let endpoints = &self.endpoints;
        self.store.write(|tx| {
            for id in sandbox.endpoints.iter().chain(left) {
                if let Some(e) = endpoints.get(id) {
                    tx.put_endpoint(e)?;
                }
            }
            tx.put_sandbox(sandbox)
        })
    }

    /// Move `src` into the sandbox, rename it, address it, bring it up, add its routes. Undo
    /// steps go on `rb`.
    fn plumb_interface(
        &mut self,
        ns: &Netns,
        src: &str,
        prefix: &str,
        endpoint: &crate::endpoint::Endpoint,
        routes: &[StaticRoute],
        rb: &mut Undo,
    ) -> Result<(String, u32)> {
        let mut nl = Netlink::in_netns(ns)?;
        let index = match self.host.link_by_name(src)? {
            Some(link) => {
                self.host.move_to_netns(link.index, ns)?;
                let index = nl
                    .link_by_name(src)?
                    .ok_or_else(|| {
                        Error::Driver(crate::DriverError::internal(format!(
                            "interface {src} vanished on its way into the sandbox"
                        )))
                    })?
                    .index;
                // On failure, hand the interface back to the host under its own name, so the
                // driver finds it again to delete it.
                let host_ns_path = self.host_ns_path();
                let (src2, ns_path) = (src.to_string(), ns.path().map(|p| p.to_path_buf()));
                rb.push(format!("move of {src} into the sandbox"), move || {
                    let ns_path = ns_path.ok_or("sandbox namespace has no path")?;
                    let ns = Netns::open(&ns_path).map_err(|e| e.to_string())?;
                    let host_ns = Netns::open(&host_ns_path).map_err(|e| e.to_string())?;
                    let mut nl = Netlink::in_netns(&ns).map_err(|e| e.to_string())?;
                    nl.set_down(index).map_err(|e| e.to_string())?;
                    nl.set_name(index, &src2).map_err(|e| e.to_string())?;
                    nl.move_to_netns(index, &host_ns).map_err(|e| e.to_string())
                });
                index
            }
            // A driver may make the interface inside the sandbox itself (the bridge driver makes
            // its veth pairs there): nothing to move. On failure it is deleted, which for a veth
            // takes its host end too.
            None => {
                let index = nl
                    .link_by_name(src)?
                    .ok_or_else(|| {
                        Error::Driver(crate::DriverError::internal(format!(
                            "the driver's interface {src} is neither in the host namespace nor in the sandbox"
                        )))
                    })?
                    .index;
                let ns_path = ns.path().map(|p| p.to_path_buf());
                rb.push(format!("interface {src} in the sandbox"), move || {
                    let ns_path = ns_path.ok_or("sandbox namespace has no path")?;
                    let ns = Netns::open(&ns_path).map_err(|e| e.to_string())?;
                    let mut nl = Netlink::in_netns(&ns).map_err(|e| e.to_string())?;
                    nl.delete_index(index).map_err(|e| e.to_string())
                });
                index
            }
        };
        let name = next_interface_name(&mut nl, prefix)?;
        nl.set_name(index, &name)?;
        if endpoint.ipv6.is_none() {
            // No IPv6 on this network: no link-local address, and no router solicitation or
            // multicast report flooded to every port of the network at each join, which makes
            // the n-th join cost O(n) (Docker turns it off too). A kernel without IPv6 has no
            // such key: nothing to turn off.
            let key = format!("net/ipv6/conf/{name}/disable_ipv6");
            if let Err(e) = ns.run(|| set_sysctl(&key, "1"))? {
                tracing::debug!("{e}");
            }
        }
        for addr in endpoint.ipv4.iter().chain(endpoint.ipv6.iter()) {
            nl.add_address(index, *addr)?;
        }
        nl.set_up(index)?;
        for r in routes {
            let dst: IpNet = r.destination.parse().map_err(|_| {
                Error::Driver(crate::DriverError::internal(format!(
                    "driver returned an invalid route destination \"{}\"",
                    r.destination
                )))
            })?;
            let hop = if r.route_type == 0 { parse_gateway(&r.next_hop)? } else { None };
            nl.add_route(dst, hop, Some(index))?;
        }
        Ok((name, index))
    }

    /// Point the sandbox's default routes at the gateway of its preferred endpoint: endpoints of
    /// non-internal networks with a gateway first, then by network name (Docker's rule).
    pub(super) fn update_default_route(&mut self, sandbox: &mut Sandbox) -> Result<()> {
        let Some(key) = sandbox.key.clone() else { return Ok(()) };
        let mut candidates: Vec<(bool, String, EndpointId)> = sandbox
            .endpoints
            .iter()
            .filter_map(|id| self.endpoints.get(id))
            .filter(|e| {
                e.join
                    .as_ref()
                    .is_some_and(|j| j.interface.is_some() && (j.gateway.is_some() || j.gateway_v6.is_some()))
            })
            .filter_map(|e| self.networks.get(&e.network).map(|n| (n.flags.internal, n.name.clone(), e.id.clone())))
            .collect();
        candidates.sort();
        let want = candidates.first().map(|c| c.2.clone());
        if want == sandbox.gateway_endpoint {
            return Ok(());
        }
        // The published ports go with the default route (libnetwork's gateway endpoint).
        if let Some(old) = sandbox.gateway_endpoint.clone().filter(|id| self.endpoints.contains_key(id)) {
            self.revoke_external(&old)?;
        }
        let ns = Netns::open(&key)?;
        let mut nl = Netlink::in_netns(&ns)?;
        for r in nl.routes()? {
            if r.destination.prefix_len() == 0 && r.gateway.is_some() {
                if let Err(e) = nl.delete_route(r.destination, r.gateway, r.oif) {
                    if !e.is_not_found() {
                        return Err(e.into());
                    }
                }
            }
        }
        if let Some(id) = &want {
            if let Some(j) = self.endpoints.get(id).and_then(|e| e.join.clone()) {
                let oif = match &j.interface {
                    Some(name) => nl.link_by_name(name)?.map(|l| l.index),
                    None => None,
                };
                for gw in j.gateway.iter().chain(j.gateway_v6.iter()) {
                    nl.add_route(default_route(gw), Some(*gw), oif)?;
                }
            }
        }
        sandbox.gateway_endpoint = want.clone();
        match want {
            Some(id) => self.program_external(&id),
            None => Ok(()),
        }
    }

    /// Take an endpoint out of its sandbox: a veth is deleted there (its host end goes with it);
    /// any other interface goes back to the host under its driver's name, for the driver to
    /// delete. The default route moves if it went through it.
    pub fn leave(&mut self, endpoint_id: &EndpointId) -> Result<()> {
        let endpoint = self.endpoint(endpoint_id)?.clone();
        let Some(join) = endpoint.join.clone() else {
            return Err(Error::InvalidParameter(format!("endpoint {} is not joined to a sandbox", endpoint.name)));
        };
        let mut sandbox = self.sandbox(&join.sandbox)?.clone();
        let network = self.network_of(&endpoint)?;
        if sandbox.gateway_endpoint.as_ref() == Some(&endpoint.id) {
            // Its published ports stop before its interface goes.
            self.revoke_external(&endpoint.id)?;
        }
        let endpoint = self.endpoint(endpoint_id)?.clone();
        if let (Some(key), Some(name), Some(src)) = (&sandbox.key, &join.interface, &join.src_name) {
            if let Ok(ns) = Netns::open(key) {
                let mut nl = Netlink::in_netns(&ns)?;
                // By index first: a container with the capability may have renamed it.
                let by_index = match join.index {
                    Some(index) => nl.link_by_index(index)?,
                    None => None,
                };
                let found = match by_index {
                    Some(link) => Some(link),
                    None => nl.link_by_name(name)?,
                };
                if let Some(link) = found {
                    if link.kind.as_deref() == Some("veth") {
                        // Deleting one end deletes the pair: one unregister in the kernel, where
                        // moving it back to the host first would cost a second one.
                        nl.delete_index(link.index)?;
                    } else {
                        nl.set_down(link.index)?;
                        nl.set_name(link.index, src)?;
                        nl.move_to_netns(link.index, &self.host_ns)?;
                    }
                }
            }
        }
        let driver = self.driver(&network.driver)?;
        driver.leave(LeaveRequest { network_id: network.id.to_string(), endpoint_id: endpoint.id.to_string() })?;
        let mut endpoint = endpoint;
        endpoint.join = None;
        sandbox.endpoints.retain(|e| e != &endpoint.id);
        if sandbox.gateway_endpoint.as_ref() == Some(&endpoint.id) {
            // Its routes left with the interface.
            sandbox.gateway_endpoint = None;
        }
        // The route choice looks at the endpoints' joins: decide it with this one already out,
        // but keep the controller's view unchanged until the record is committed.
        let before = self.endpoints.insert(endpoint.id.clone(), endpoint.clone());
        let committed = self
            .update_default_route(&mut sandbox)
            .and_then(|_| self.store_sandbox_endpoints(&sandbox, Some(&endpoint.id)));
        if let Err(e) = committed {
            if let Some(b) = before {
                self.endpoints.insert(b.id.clone(), b);
            }
            return Err(e);
        }
        self.sandboxes.insert(sandbox.id.clone(), sandbox);
        Ok(())
    }

    /// Remove a sandbox whose namespace no process uses any more (its container has ended),
    /// with everything in it. Its endpoints are left (the drivers are told) but their interfaces
    /// are not taken out one by one: they go with the namespace, which the kernel tears down in
    /// the background, so this costs an unmount instead of an unregister per interface. Use
    /// [`Controller::delete_sandbox`] while a process may still be in the namespace.
    pub fn discard_sandbox(&mut self, id: &SandboxId) -> Result<()> {
        let sandbox = self.sandbox(id)?.clone();
        // Published ports left in the firewall would forward a host port to an address the
        // next container may get: a failure to revoke them fails the whole discard, which
        // changes nothing (the sandbox, its endpoints and addresses stay, for a retry).
        if let Some(gw) = sandbox.gateway_endpoint.as_ref().filter(|gw| self.endpoints.contains_key(*gw)) {
            self.revoke_external(gw)?;
        }
        if let Some(key) = &sandbox.key {
            Netns::delete(key)?;
        }
        let mut left = Vec::new();
        for ep in &sandbox.endpoints {
            let Some(mut endpoint) = self.endpoints.get(ep).cloned() else { continue };
            if let Some(network) = self.networks.get(&endpoint.network).cloned() {
                let told = self.driver(&network.driver).and_then(|d| {
                    d.leave(LeaveRequest { network_id: network.id.to_string(), endpoint_id: endpoint.id.to_string() })
                        .map_err(Error::from)
                });
                if let Err(e) = told {
                    tracing::warn!("leave of endpoint {} from discarded sandbox {}: {e}", ep.short(), id.short());
                }
            }
            endpoint.join = None;
            endpoint.ports.clear();
            left.push(endpoint);
        }
        self.store.write(|tx| {
            for e in &left {
                tx.put_endpoint(e)?;
            }
            tx.delete_sandbox(id.as_str())
        })?;
        for e in left {
            self.endpoints.insert(e.id.clone(), e);
        }
        self.sandboxes.remove(id);
        Ok(())
    }

    /// Leave every endpoint of the sandbox and remove its namespace.
    pub fn delete_sandbox(&mut self, id: &SandboxId) -> Result<()> {
        let sandbox = self.sandbox(id)?.clone();
        let mut first_error = None;
        for ep in sandbox.endpoints.iter().rev() {
            if let Err(e) = self.leave(ep) {
                tracing::warn!("leave of endpoint {} from sandbox {}: {e}", ep.short(), id.short());
                first_error.get_or_insert(e);
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        if let Some(key) = &sandbox.key {
            Netns::delete(key)?;
        }
        self.store.write(|tx| tx.delete_sandbox(id.as_str()))?;
        self.sandboxes.remove(id);
        Ok(())
    }
}
