//! The manager's side of the embedded DNS: which of a container's endpoints the resolver names,
//! when its sandbox gets a resolver and loses it, and where its queries are forwarded.
//!
//! A sandbox with at least one endpoint on a user-defined network (not the default `bridge`, not
//! `host` or `none`) gets a resolver at start or at the connect that gives it one, and loses it at
//! the disconnect that takes its last one, or when the container ends (before its namespace goes,
//! so that no socket of the resolver keeps it alive). Every change of its endpoints replaces its
//! names in the table at once.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use dns::{DnsService, EndpointRecord, Upstreams};
use libnet::Controller;

use super::etcfiles::Resolver;
use super::network::{self, Attachment};
use super::{ContainerError, ContainerRecord, Manager};

/// What the manager needs of the DNS service: the service, and the daemon's `--dns` servers,
/// which replace the host's resolv.conf ones as the default upstreams.
pub struct DnsWiring {
    pub service: Arc<DnsService>,
    pub default_servers: Vec<IpAddr>,
}

/// The host's file the default upstreams come from.
const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";

/// Whether the resolver names endpoints of this network.
fn is_user_network(net: &libnet::Network) -> bool {
    net.name != "bridge" && !network::is_exclusive(net)
}

/// The records of the attachment's endpoints on user-defined networks.
fn user_endpoints(c: &Controller, rec: &ContainerRecord, att: &Attachment) -> Vec<EndpointRecord> {
    att.endpoints
        .iter()
        .filter_map(|ep| {
            let net = c.network(ep.network_id.as_str()).ok().filter(|n| is_user_network(n))?;
            let endpoint = c.endpoint(&ep.endpoint_id).ok()?;
            Some(EndpointRecord {
                endpoint: ep.endpoint_id.clone(),
                sandbox: att.sandbox.clone(),
                network: net.id.clone(),
                network_name: net.name.clone(),
                internal: net.flags.internal,
                container_name: rec.name.clone(),
                short_id: rec.id.chars().take(12).collect(),
                aliases: ep.aliases.clone(),
                addrs: endpoint.addresses().map(|a| a.addr()).collect(),
            })
        })
        .collect()
}

impl Manager {
    /// Connect the DNS service; until then containers get no resolver.
    pub fn set_dns(&self, wiring: DnsWiring) {
        if self.inner.dns.set(wiring).is_err() {
            tracing::warn!("the DNS service was set twice; keeping the first");
        }
    }

    /// weftd's `--dns` servers, which dockerd also writes into the resolv.conf of containers
    /// that give none of their own.
    pub(super) fn daemon_dns_servers(&self) -> Vec<IpAddr> {
        self.inner.dns.get().map(|w| w.default_servers.clone()).unwrap_or_default()
    }

    /// The resolver a container's resolv.conf names: the embedded one when its sandbox has a
    /// user-defined network and the service runs, else what its network mode gives.
    pub(super) fn resolver_for(&self, rec: &ContainerRecord, att: &Attachment) -> Resolver {
        // A sandbox keeps its resolver once it has one (see `dns_sync`), so its resolv.conf does too.
        let embedded = self.inner.dns.get().is_some_and(|w| {
            w.service.ports(&att.sandbox).is_some()
                || self.controller().is_ok_and(|c| {
                    att.endpoints.iter().any(|ep| c.network(ep.network_id.as_str()).is_ok_and(is_user_network))
                })
        });
        if embedded {
            Resolver::Embedded(IpAddr::V4(dns::RESOLVER_ADDR))
        } else {
            super::etcfiles::resolver_for_mode(&rec.config.network_mode)
        }
    }

    /// Bring the sandbox's names and resolver in line with its endpoints: after attach, connect
    /// and disconnect. Blocking.
    pub(super) fn dns_sync(&self, rec: &ContainerRecord, att: &Attachment) -> Result<(), ContainerError> {
        let Some(wiring) = self.inner.dns.get() else { return Ok(()) };
        let records = user_endpoints(&*self.controller()?, rec, att);
        if records.is_empty() {
            // Off its last user network: no names of its own any more, but the resolver stays
            // until the sandbox goes, as in Docker: its resolv.conf still names 127.0.0.11, and
            // other names are still forwarded.
            wiring.service.records().set_sandbox(&att.sandbox, records);
            return Ok(());
        }
        let Some(netns) = att.netns.as_deref() else { return Ok(()) };
        if wiring.service.ports(&att.sandbox).is_none() {
            let upstreams = self.upstreams(rec, netns, &wiring.default_servers)?;
            wiring
                .service
                .start_sandbox(&att.sandbox, netns, upstreams)
                .map_err(|e| ContainerError::Internal(e.to_string()))?;
        }
        wiring.service.records().set_sandbox(&att.sandbox, records);
        Ok(())
    }

    /// Take the sandbox's names out and stop its resolver: before its networking is released.
    /// Whether its sockets are closed (if not, they may still hold the namespace). Blocking.
    pub(super) fn dns_release(&self, att: &Attachment) -> bool {
        match self.inner.dns.get() {
            Some(wiring) => wiring.service.stop_sandbox(&att.sandbox),
            None => true,
        }
    }

    /// The container's `--dns` servers, used from its namespace; else the daemon's `--dns` or the
    /// host's resolv.conf servers, used from the daemon's.
    fn upstreams(
        &self,
        rec: &ContainerRecord,
        netns: &std::path::Path,
        default_servers: &[IpAddr],
    ) -> Result<Upstreams, ContainerError> {
        let own: Vec<SocketAddr> = rec
            .config
            .dns
            .iter()
            .filter_map(|d| super::etcfiles::parse_dns_server(d).ok())
            .map(|ip| SocketAddr::new(ip, 53))
            .take(dns::forward::MAX_UPSTREAMS)
            .collect();
        if !own.is_empty() {
            let ns = libnet::osl::Netns::open(netns).map_err(|e| ContainerError::Internal(e.to_string()))?;
            return Ok(Upstreams { servers: own, origin: dns::Origin::Sandbox(Arc::new(ns)) });
        }
        if !default_servers.is_empty() {
            return Ok(Upstreams::host(default_servers.iter().map(|ip| SocketAddr::new(*ip, 53)).collect()));
        }
        let text = std::fs::read_to_string(HOST_RESOLV_CONF).unwrap_or_default();
        Ok(Upstreams::host(dns::resolv_conf_servers(&text)))
    }
}
