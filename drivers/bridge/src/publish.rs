//! Published ports of the bridge driver: host ports held through libnet's allocator, and one
//! DNAT element per (protocol, host address, host port) in weft's nftables map, added and
//! removed in one netlink batch per endpoint. With the userland proxy on, each (host address,
//! port) is also served by a proxy on the socket that holds it.

use std::cell::RefCell;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use libnet::portmap::proxy::Proxy;
use libnet::portmap::{unspecified, HeldPort, PortAllocator, PortBinding, Proto, PORTMAP_OPTION};
use libnet::protocol::Options;
use libnet::undo::Undo;
use libnet::{DriverError, DriverResult};

use crate::firewall::{BridgeFirewall, PortRule};

/// What one endpoint publishes: the bindings as reported, the firewall elements, the userland
/// proxies, the held ports.
#[derive(Debug, Default)]
pub struct Published {
    pub bindings: Vec<PortBinding>,
    pub rules: Vec<PortRule>,
    /// Before `held`: a proxy serves on a held port's socket and goes first.
    pub proxies: Vec<Proxy>,
    pub held: Vec<HeldPort>,
}

impl Published {
    /// Stop the proxies, then give the host ports back.
    fn release(&mut self, alloc: &mut PortAllocator, owner: &str) {
        self.proxies.clear();
        alloc.release(owner, std::mem::take(&mut self.held));
    }
}

/// The bindings a `ProgramExternalConnectivity` asks for.
pub fn requested(options: &Options) -> DriverResult<Vec<PortBinding>> {
    match options.get(PORTMAP_OPTION) {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| DriverError::invalid(format!("invalid {PORTMAP_OPTION} option: {e}"))),
    }
}

/// The container's addresses, by family.
#[derive(Debug, Clone, Copy, Default)]
pub struct Addresses {
    pub v4: Option<IpAddr>,
    pub v6: Option<IpAddr>,
}

impl Addresses {
    fn of(&self, host: IpAddr) -> Option<IpAddr> {
        if host.is_ipv4() {
            self.v4
        } else {
            self.v6
        }
    }
}

/// The host addresses one binding is held on: the one asked for; else the network's default
/// (`com.docker.network.bridge.host_binding_ipv4`); else every address of each family the
/// container has.
fn host_addresses(want: &PortBinding, default: Option<IpAddr>, c: Addresses) -> DriverResult<Vec<IpAddr>> {
    let explicit = want.host_ip.or(default);
    match explicit {
        Some(ip) if c.of(ip).is_none() => Err(DriverError::invalid(format!(
            "cannot publish port {}/{} on {ip}: the container has no {} address on this network",
            want.port,
            want.proto,
            if ip.is_ipv4() { "IPv4" } else { "IPv6" }
        ))),
        Some(ip) => Ok(vec![ip]),
        None => Ok([(c.v4, false), (c.v6, true)]
            .into_iter()
            .filter(|(a, _)| a.is_some())
            .map(|(_, v6)| unspecified(v6))
            .collect()),
    }
}

/// Hold the host ports and install the DNAT elements for `requested`, and with `proxy` start a
/// userland proxy on each (SCTP has none: DNAT only); all or nothing.
pub fn publish(
    alloc: &mut PortAllocator,
    fw: &mut BridgeFirewall,
    owner: &str,
    requested: &[PortBinding],
    default_host_ip: Option<IpAddr>,
    container: Addresses,
    proxy: bool,
) -> DriverResult<Published> {
    // The undos take back what the steps put in `out` and `alloc`, which later steps go on filling.
    let out = &RefCell::new(Published::default());
    let alloc = &RefCell::new(alloc);
    let mut undo = Undo::new();
    for want in requested {
        let addresses = host_addresses(want, default_host_ip, container)?;
        if addresses.is_empty() {
            return Err(DriverError::invalid(format!(
                "cannot publish port {}/{}: the container has no address on this network",
                want.port, want.proto
            )));
        }
        let held = alloc.borrow_mut().allocate(owner, want.proto, &addresses, want.host_port, want.host_port_end)?;
        let (proto, port, hosts) = (held.proto, held.port, held.addresses.clone());
        out.borrow_mut().held.push(held);
        undo.push(format!("host port {port}/{proto} of endpoint {owner}"), move || {
            let mut out = out.borrow_mut();
            if let Some(i) = out.held.iter().rposition(|h| h.proto == proto && h.port == port) {
                let held = out.held.remove(i);
                alloc.borrow_mut().release(owner, vec![held]);
            }
            Ok::<(), Infallible>(())
        });
        for host in hosts {
            let Some(container_ip) = container.of(host) else { continue };
            let mut published = out.borrow_mut();
            published.bindings.push(PortBinding {
                proto,
                ip: Some(container_ip),
                port: want.port,
                host_ip: Some(host),
                host_port: port,
                host_port_end: 0,
            });
            published.rules.push(PortRule {
                proto,
                host_ip: Some(host).filter(|h| !h.is_unspecified()),
                host_port: port,
                container_ip,
                container_port: want.port,
            });
            drop(published);
            if proxy && proto != Proto::Sctp {
                // Its own statement: `out` is no longer borrowed when an error returns and the
                // undos run.
                let started = serve(out.borrow().held.last(), host, SocketAddr::new(container_ip, want.port));
                let started = started?;
                let frontend = started.frontend;
                out.borrow_mut().proxies.push(started);
                undo.push(format!("userland proxy {frontend}/{proto}"), move || {
                    // Dropped, the proxy stops.
                    out.borrow_mut().proxies.retain(|p| p.proto != proto || p.frontend != frontend);
                    Ok::<(), Infallible>(())
                });
            }
        }
    }
    let installed = match &out.borrow().rules {
        rules if rules.is_empty() => Ok(()),
        rules => fw.add_ports(rules),
    };
    installed.map_err(|e| DriverError::internal(e.to_string()))?;
    undo.commit();
    Ok(out.take())
}

/// Start the userland proxy of `host` on the socket of `held`, the port just held for it.
fn serve(held: Option<&HeldPort>, host: IpAddr, backend: SocketAddr) -> DriverResult<Proxy> {
    let held = held.ok_or_else(|| DriverError::internal(format!("no port is held on {host} for {backend}")))?;
    let socket = held.socket(host).ok_or_else(|| {
        DriverError::internal(format!("no socket holds {}/{}", SocketAddr::new(host, held.port), held.proto))
    })?;
    Proxy::start(held.proto, socket, backend)
}

/// Remove the DNAT elements, then stop the proxies and give the host ports back. If the kernel
/// refuses the removal, nothing changes: the endpoint keeps what it published (its host ports
/// held, as they still forward), and a retry tries again.
pub fn unpublish(
    alloc: &mut PortAllocator,
    fw: &mut BridgeFirewall,
    owner: &str,
    published: &mut Option<Published>,
) -> DriverResult<()> {
    let Some(p) = published.as_ref() else { return Ok(()) };
    if !p.rules.is_empty() {
        fw.remove_ports(&p.rules).map_err(|e| DriverError::internal(e.to_string()))?;
    }
    if let Some(mut p) = published.take() {
        p.release(alloc, owner);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(host_ip: Option<&str>) -> PortBinding {
        PortBinding {
            proto: Proto::Tcp,
            port: 80,
            host_ip: host_ip.map(|h| h.parse().unwrap()),
            host_port: 8080,
            ..Default::default()
        }
    }

    #[test]
    fn host_addresses_follow_the_containers_families() {
        let v4only = Addresses { v4: Some("172.18.0.2".parse().unwrap()), v6: None };
        let dual = Addresses { v6: Some("fd00::2".parse().unwrap()), ..v4only };
        assert_eq!(host_addresses(&binding(None), None, v4only).unwrap(), vec![unspecified(false)]);
        assert_eq!(host_addresses(&binding(None), None, dual).unwrap(), vec![unspecified(false), unspecified(true)]);
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(host_addresses(&binding(None), Some(lo), dual).unwrap(), vec![lo]);
        let err = host_addresses(&binding(Some("::1")), None, v4only).unwrap_err();
        assert!(err.message.contains("the container has no IPv6 address"), "{}", err.message);
    }
}
