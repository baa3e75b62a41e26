//! The manager's side of the generated `/etc` files and legacy links: the checks at create, the
//! files written at each start from the record, its networks and its linked containers, and
//! [`Manager::refresh_hosts`] for a running container whose networks change.

use std::net::IpAddr;

use super::etcfiles::{self, DnsOverrides, HostAddr, HostRecord, HostsInput};
use super::links::{self, Link};
use super::network::{network_of_mode, Attachment};
use super::{ContainerConfig, ContainerError, ContainerRecord, Manager, Table};
use crate::runtime::FileBind;

/// The host's files the container's are made from.
const HOST_HOSTS: &str = "/etc/hosts";
const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";

/// What a start passes on to the process: the binds of the written files and the link variables.
pub(super) struct EtcSetup {
    pub binds: Vec<FileBind>,
    pub link_env: Vec<String>,
}

/// A linked container as the files need it, read under the table lock.
struct Linked {
    link: Link,
    hostname: String,
    name: String,
    env: Vec<String>,
    endpoint: Option<libnet::EndpointId>,
}

/// What the files are made of, gathered from the table and the controller.
struct Gathered {
    own: Vec<IpAddr>,
    ipv6: bool,
    extra: Vec<HostRecord>,
    links: Vec<HostRecord>,
    link_env: Vec<String>,
}

fn invalid(message: String) -> ContainerError {
    ContainerError::InvalidParameter(message)
}

/// The refusals Docker gives at create for these settings (400s). `t` is the table, to find
/// linked containers.
pub(super) fn check_config(t: &Table, config: &ContainerConfig) -> Result<(), ContainerError> {
    for h in &config.extra_hosts {
        etcfiles::parse_extra_host(h).map_err(|e| invalid(format!("invalid ExtraHosts entry: {e}")))?;
    }
    for d in &config.dns {
        etcfiles::parse_dns_server(d).map_err(|e| invalid(format!("invalid Dns entry: {e}")))?;
    }
    for s in &config.dns_search {
        etcfiles::validate_dns_search(s).map_err(|e| invalid(format!("invalid DnsSearch entry: {e}")))?;
    }
    let mode = config.network_mode.as_str();
    if mode.starts_with("container:") {
        if !config.dns.is_empty() || !config.dns_search.is_empty() || !config.dns_options.is_empty() {
            return Err(invalid("conflicting options: dns and the network mode".into()));
        }
        if !config.extra_hosts.is_empty() {
            return Err(invalid("conflicting options: custom host-to-IP mapping and the network mode".into()));
        }
    }
    let parsed: Vec<Link> =
        config.links.iter().map(|l| links::parse_link(l).map_err(invalid)).collect::<Result<_, _>>()?;
    if parsed.is_empty() {
        return Ok(());
    }
    if mode == "host" {
        return Err(invalid(
            "conflicting options: host type networking can't be used with links. This would result in undefined behavior"
                .into(),
        ));
    }
    if !links::registers_links(mode) {
        return Ok(());
    }
    for link in &parsed {
        let child = t.find(&link.container).map_err(|e| match e {
            ContainerError::NotFound(_) => {
                invalid(format!("could not get container for {0}: No such container: {0}", link.container))
            }
            e => e,
        })?;
        if child.config.network_mode == "host" {
            return Err(invalid(
                "conflicting options: host type networking can't be used with links. This would result in undefined behavior"
                    .into(),
            ));
        }
    }
    Ok(())
}

impl Manager {
    /// Write the container's `/etc` files for this start into its data directory, and return
    /// their binds and the link variables. Fails, as Docker, on a link to a container that is
    /// gone or not running.
    ///
    /// A container in `container:<x>` mode (no attachment of its own) shares x's files, as in
    /// Docker: they name x's addresses and hostname.
    pub(super) fn write_etc_files(
        &self,
        rec: &ContainerRecord,
        att: Option<&Attachment>,
    ) -> Result<EtcSetup, ContainerError> {
        let Some(att) = att else {
            let other = match super::network::shared_container(&rec.config.network_mode) {
                Some(other) => self.get(other)?.id,
                None => rec.id.clone(),
            };
            return Ok(EtcSetup { binds: etcfiles::binds(&self.log_dir(&other)), link_env: Vec::new() });
        };
        let g = self.gather(rec, att)?;
        let dir = self.log_dir(&rec.id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| ContainerError::Internal(format!("create directory {}: {e}", dir.display())))?;
        let hosts = hosts_text(rec, g.extra, g.links, g.own);
        let resolv = self.resolv_text(rec, att, g.ipv6);
        for (name, content) in [
            (etcfiles::HOSTS, hosts),
            (etcfiles::HOSTNAME, etcfiles::hostname(&rec.hostname())),
            (etcfiles::RESOLV_CONF, resolv),
        ] {
            let path = dir.join(name);
            etcfiles::write_in_place(&path, &content)
                .map_err(|e| ContainerError::Internal(format!("write {}: {e}", path.display())))?;
        }
        Ok(EtcSetup { binds: etcfiles::binds(&dir), link_env: g.link_env })
    }

    /// The container's resolv.conf: the embedded resolver on a user network, else the host's
    /// servers (or weftd's `--dns` ones, as dockerd's), with the container's own flags.
    fn resolv_text(&self, rec: &ContainerRecord, att: &Attachment, ipv6: bool) -> String {
        let mut servers: Vec<IpAddr> =
            rec.config.dns.iter().filter_map(|d| etcfiles::parse_dns_server(d).ok()).collect();
        if servers.is_empty() {
            servers = self.daemon_dns_servers();
        }
        let overrides =
            DnsOverrides { servers: &servers, search: &rec.config.dns_search, options: &rec.config.dns_options };
        let resolver = self.resolver_for(rec, att);
        etcfiles::resolv_conf(&read_host_file(HOST_RESOLV_CONF), overrides, resolver, ipv6)
    }

    /// Rewrite a running container's `/etc/hosts` and `/etc/resolv.conf` in place from its
    /// current networks (every endpoint of its attachment), for connect and disconnect: a
    /// container joining its first user network now names the embedded resolver, as in Docker.
    /// Nothing to do for a container that is not running.
    pub fn refresh_hosts(&self, id: &str) -> Result<(), ContainerError> {
        let rec = self.get(id)?;
        let Some(att) = rec.attachment.clone().filter(|_| rec.running()) else { return Ok(()) };
        let g = self.gather(&rec, &att)?;
        let resolv = self.resolv_text(&rec, &att, g.ipv6);
        let hosts = hosts_text(&rec, g.extra, g.links, g.own);
        for (name, content) in [(etcfiles::HOSTS, hosts), (etcfiles::RESOLV_CONF, resolv)] {
            let path = self.log_dir(&rec.id).join(name);
            etcfiles::write_in_place(&path, &content)
                .map_err(|e| ContainerError::Internal(format!("write {}: {e}", path.display())))?;
        }
        Ok(())
    }

    fn gather(&self, rec: &ContainerRecord, att: &Attachment) -> Result<Gathered, ContainerError> {
        let linked = if links::registers_links(&rec.config.network_mode) {
            let t = self.table()?;
            rec.config.links.iter().filter_map(|l| links::parse_link(l).ok()).map(|l| linked(&t, rec, l)).collect()
        } else {
            Ok(Vec::new())
        }?;
        let c = self.controller()?;
        let mut own = Vec::new();
        for ep in &att.endpoints {
            if let Ok(e) = c.endpoint(&ep.endpoint_id) {
                own.extend(e.addresses().map(|a| a.addr()));
            }
        }
        let ipv6 = own.iter().any(IpAddr::is_ipv6);
        let mut extra = Vec::new();
        for h in rec.config.extra_hosts.iter().filter_map(|h| etcfiles::parse_extra_host(h).ok()) {
            let addr = match h.addr {
                HostAddr::Ip(ip) => ip,
                HostAddr::HostGateway => c
                    .network("bridge")
                    .ok()
                    .and_then(|n| n.ipv4.iter().find_map(|p| p.gateway))
                    .map(|g| g.addr())
                    .ok_or_else(|| ContainerError::Internal("unable to derive the IP value for host-gateway".into()))?,
            };
            extra.push(HostRecord { addr, names: h.name });
        }
        let mut hosts = Vec::new();
        let mut link_env = Vec::new();
        for l in linked {
            let ip = l.endpoint.as_ref().and_then(|id| c.endpoint(id).ok()).and_then(|e| e.ipv4).map(|a| a.addr());
            if let Some(addr) = ip {
                hosts.push(HostRecord { addr, names: links::host_names(&l.link, &l.hostname, &l.name) });
            }
            link_env.extend(links::env(&l.link, &rec.name, &l.env));
        }
        Ok(Gathered { own, ipv6, extra, links: hosts, link_env })
    }
}

/// A linked container, which must exist, run, and be on the default bridge.
fn linked(t: &Table, rec: &ContainerRecord, link: Link) -> Result<Linked, ContainerError> {
    let child = t
        .find(&link.container)
        .map_err(|_| invalid(format!("could not get container for {0}: No such container: {0}", link.container)))?;
    if !child.running() {
        return Err(ContainerError::Conflict(format!(
            "Cannot link to a non running container: /{} AS /{}/{}",
            child.name, rec.name, link.alias
        )));
    }
    let endpoint = child.attachment.as_ref().and_then(|a| a.endpoints.iter().find(|e| e.network_name == "bridge"));
    let Some(endpoint) = endpoint else {
        return Err(invalid(format!("Cannot link to /{}, as it does not belong to the default network", child.name)));
    };
    Ok(Linked {
        hostname: child.hostname(),
        name: child.name.clone(),
        env: child.config.env.clone(),
        endpoint: Some(endpoint.endpoint_id.clone()),
        link,
    })
}

/// The text of the container's `/etc/hosts` (see [`etcfiles::hosts`]).
fn hosts_text(rec: &ContainerRecord, extra: Vec<HostRecord>, links: Vec<HostRecord>, own: Vec<IpAddr>) -> String {
    let host_network = network_of_mode(&rec.config.network_mode) == "host";
    let host_hosts = read_host_file(HOST_HOSTS);
    etcfiles::hosts(&HostsInput {
        host_network: host_network.then_some(host_hosts.as_str()),
        extra,
        links,
        own,
        hostname: &rec.hostname(),
    })
}

/// A host file's text; a missing one is empty, as Docker takes it.
fn read_host_file(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
