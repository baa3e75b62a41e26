//! weft's bridge driver: one Linux bridge per network, endpoints as veth pairs on it.
//!
//! The bridge is `weft0` for the default network, `wbr-<first 12 hex of the id>` otherwise, or
//! the name given with `com.docker.network.bridge.name`. The gateway address sits on the bridge.

pub mod firewall;
mod options;
mod publish;

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use ipnet::IpNet;
use libnet::marks;
use libnet::osl::{set_sysctl, Netlink, Netns, OslError};
use libnet::portmap::PortAllocator;
use libnet::protocol::*;
use libnet::undo::Undo;
use libnet::{DriverError, DriverResult, EndpointId, NetworkDriver, NetworkId};

use firewall::{BridgeFirewall, LoadOptions, NetworkRules};

pub use options::BridgeConfig;

/// The driver's name.
pub const NAME: &str = "bridge";

struct BridgeNetwork {
    bridge: String,
    /// weft made the bridge (it carries weft's alias): it is deleted with the network. A bridge
    /// the user made and named with `com.docker.network.bridge.name` is only used.
    owned: bool,
    /// The gateway addresses weft put on the bridge (taken off again when the bridge is a user's).
    gateways: Vec<IpNet>,
    config: BridgeConfig,
    gateway_v4: Option<IpAddr>,
    gateway_v6: Option<IpAddr>,
    /// Its elements in weft's nftables sets.
    rules: NetworkRules,
}

struct BridgeEndpoint {
    network: String,
    host_veth: String,
    peer_veth: String,
    /// The container side's MAC and the pair's MTU, for when join makes the pair.
    mac: [u8; 6],
    mtu: Option<u32>,
    addresses: publish::Addresses,
    /// Its published ports, while it gives its sandbox the way out.
    published: Option<publish::Published>,
}

/// The driver's settings, from the daemon's options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DriverConfig {
    /// `weftd --userland-proxy`: published TCP and UDP ports are also served by libnet's
    /// in-process proxy, which takes the host's loopback (`[::1]` too) and containers reaching
    /// them through a host address; the firewall leaves that traffic to it.
    pub userland_proxy: bool,
}

struct State {
    nl: Netlink,
    fw: BridgeFirewall,
    config: DriverConfig,
    ports: PortAllocator,
    networks: HashMap<String, BridgeNetwork>,
    endpoints: HashMap<String, BridgeEndpoint>,
}

/// The index of the bridge `bridge`, which must exist.
fn bridge_index(nl: &mut Netlink, bridge: &str) -> DriverResult<u32> {
    Ok(nl
        .link_by_name(bridge)
        .map_err(os_err)?
        .ok_or_else(|| DriverError::internal(format!("bridge {bridge} is missing")))?
        .index)
}

/// Put a host-side veth on the bridge and bring it up. The caller deletes the pair if this fails.
fn enslave(nl: &mut Netlink, index: u32, bridge_index: u32) -> DriverResult<()> {
    nl.set_master(index, bridge_index).map_err(os_err)?;
    nl.set_hairpin(index, true).map_err(os_err)?;
    nl.set_up(index).map_err(os_err)
}

/// Make the veth pair `host` <-> `peer`, `peer` straight inside `sandbox` (the host's namespace
/// without one), and put `host` on the bridge; all or nothing.
fn plug_veth(
    nl: &mut Netlink,
    (host, peer): (&str, &str),
    mtu: Option<u32>,
    mac: [u8; 6],
    sandbox: Option<&Netns>,
    bridge_index: u32,
) -> DriverResult<()> {
    // The undo deletes the pair while the next steps go on using the same socket.
    let nl = &RefCell::new(nl);
    let mut undo = Undo::new();
    nl.borrow_mut().create_veth_into(host, peer, mtu, Some(mac), sandbox).map_err(os_err)?;
    undo.push(format!("veth pair {host} <-> {peer}"), move || match nl.borrow_mut().delete_link(host) {
        // Both ends are gone already: what the undo is for holds.
        Err(e) if e.is_not_found() => Ok(()),
        done => done,
    });
    // A bridge port needs no address of its own: no IPv6 link-local address, router
    // solicitation or multicast report flooded to the other ports (none on a kernel without
    // IPv6, so a failure is no reason to stop).
    if let Err(e) = set_sysctl(&format!("net/ipv6/conf/{host}/disable_ipv6"), "1") {
        tracing::debug!("{e}");
    }
    let found = nl.borrow_mut().link_by_name(host).map_err(os_err)?;
    let Some(link) = found else {
        return Err(DriverError::internal(format!("veth {host} vanished after creation")));
    };
    enslave(&mut nl.borrow_mut(), link.index, bridge_index)?;
    undo.commit();
    Ok(())
}

/// The bridge driver. It works in the namespace of the thread that made it (the host's).
pub struct BridgeDriver {
    state: Mutex<State>,
}

fn os_err(e: OslError) -> DriverError {
    DriverError::internal(e.to_string())
}

fn gateway_of(data: &[IpamData]) -> DriverResult<Vec<IpNet>> {
    data.iter()
        .filter(|d| !d.gateway.is_empty())
        .map(|d| {
            d.gateway.parse::<IpNet>().map_err(|_| DriverError::invalid(format!("invalid gateway \"{}\"", d.gateway)))
        })
        .collect()
}

/// A locally administered MAC: Docker's 02:42 followed by the IPv4 address, else random.
fn generate_mac(ipv4: Option<IpAddr>) -> [u8; 6] {
    match ipv4 {
        Some(IpAddr::V4(a)) => {
            let o = a.octets();
            [0x02, 0x42, o[0], o[1], o[2], o[3]]
        }
        _ => {
            let mut m: [u8; 6] = rand::random();
            m[0] = (m[0] & 0xfe) | 0x02;
            m
        }
    }
}

fn format_mac(m: [u8; 6]) -> String {
    m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

fn parse_mac(s: &str) -> DriverResult<[u8; 6]> {
    let parts: Vec<&str> = s.split(':').collect();
    let bad = || DriverError::invalid(format!("invalid MAC address \"{s}\""));
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut m = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        m[i] = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    Ok(m)
}

impl BridgeDriver {
    /// A driver working in the calling thread's network namespace, with the default settings.
    pub fn new() -> DriverResult<BridgeDriver> {
        Self::with_config(DriverConfig::default())
    }

    /// The driver as weftd makes it from its library: `options` is the daemon's settings as JSON
    /// (`userland-proxy`: bool).
    pub fn from_options(options: &serde_json::Value) -> Result<BridgeDriver, String> {
        let userland_proxy = match options.get("userland-proxy") {
            None => false,
            Some(serde_json::Value::Bool(b)) => *b,
            Some(v) => return Err(format!("invalid value {v} for userland-proxy: must be true or false")),
        };
        Self::with_config(DriverConfig { userland_proxy }).map_err(|e| e.message)
    }

    /// A driver working in the calling thread's network namespace.
    pub fn with_config(config: DriverConfig) -> DriverResult<BridgeDriver> {
        let nl = Netlink::new().map_err(os_err)?;
        // weft's tables start empty: networks put their elements back as they are restored.
        let mut fw = BridgeFirewall::new().map_err(os_err)?;
        fw.load_with(&LoadOptions { userland_proxy: config.userland_proxy }).map_err(os_err)?;
        let ports = match config.userland_proxy {
            true => PortAllocator::for_userland_proxy(),
            false => PortAllocator::new(),
        };
        let state = State { nl, fw, config, ports, networks: HashMap::new(), endpoints: HashMap::new() };
        Ok(BridgeDriver { state: Mutex::new(state) })
    }

    fn lock(&self) -> DriverResult<std::sync::MutexGuard<'_, State>> {
        self.state.lock().map_err(|_| DriverError::internal("bridge driver state is poisoned by an earlier panic"))
    }
}

/// Make (or adopt) the bridge with its MTU and gateway addresses, and bring it up. Returns
/// whether weft owns it: it made it now, or made it before a restart (its alias says so).
/// On failure a bridge made now is deleted, and the addresses put on an adopted one come off.
fn ensure_bridge(
    nl: &mut Netlink,
    id: &NetworkId,
    name: &str,
    config: &BridgeConfig,
    gateways: &[IpNet],
) -> DriverResult<bool> {
    let alias = marks::owner_alias(id);
    // The undos use the socket that the next steps go on using.
    let nl = &RefCell::new(nl);
    let mut undo = Undo::new();
    let existing = nl.borrow_mut().link_by_name(name).map_err(os_err)?;
    let (index, created, owned) = match existing {
        Some(l) if l.kind.as_deref() == Some("bridge") => {
            // Weft's own name for this network also says "ours": a bridge made before the
            // alias was set (a crash in between) is still weft's, and gets its alias now.
            // The alias stays if a later step fails: it says what is true either way.
            let weft_name = name == marks::bridge_name(id) || (config.default_bridge && name == marks::DEFAULT_BRIDGE);
            let ours = l.alias.as_deref() == Some(alias.as_str()) || (l.alias.is_none() && weft_name);
            if ours && l.alias.is_none() {
                nl.borrow_mut().set_alias(l.index, &alias).map_err(os_err)?;
            }
            (l.index, false, ours)
        }
        Some(_) => return Err(DriverError::conflict(format!("interface {name} exists and is not a bridge"))),
        None => {
            let index = nl.borrow_mut().create_bridge(name, config.mtu).map_err(os_err)?;
            undo.push(format!("bridge {name}"), move || nl.borrow_mut().delete_link(name));
            nl.borrow_mut().set_alias(index, &alias).map_err(os_err)?;
            (index, true, true)
        }
    };
    if let (Some(mtu), false) = (config.mtu, created) {
        nl.borrow_mut().set_mtu(index, mtu).map_err(os_err)?;
    }
    if gateways.iter().any(|g| g.addr().is_ipv6()) {
        set_sysctl(&format!("net/ipv6/conf/{name}/disable_ipv6"), "0").map_err(os_err)?;
    }
    // A bridge made just now has no addresses; an adopted one (restart) may have them.
    let have: Vec<IpNet> = if created {
        Vec::new()
    } else {
        nl.borrow_mut().addresses(Some(index)).map_err(os_err)?.into_iter().map(|(_, a)| a).collect()
    };
    for g in gateways.iter().filter(|g| !have.contains(g)) {
        nl.borrow_mut().add_address(index, *g).map_err(os_err)?;
        // A bridge made now takes its addresses with it; only an adopted one needs them off.
        if !created {
            undo.push(format!("address {g} on bridge {name}"), move || nl.borrow_mut().delete_address(index, *g));
        }
    }
    nl.borrow_mut().set_up(index).map_err(os_err)?;
    undo.commit();
    Ok(owned)
}

/// Delete the bridge that carries `id`'s alias, if there is one (a missing one is fine).
fn delete_owned_bridge(nl: &mut Netlink, id: &NetworkId, name: Option<&str>) -> DriverResult<()> {
    let alias = marks::owner_alias(id);
    let link = match name {
        Some(name) => nl.link_by_name(name).map_err(os_err)?,
        // A network this driver does not know (its restore failed): find its bridge by mark.
        None => nl.links().map_err(os_err)?.into_iter().find(|l| l.alias.as_deref() == Some(alias.as_str())),
    };
    let Some(link) = link.filter(|l| l.alias.as_deref() == Some(alias.as_str())) else { return Ok(()) };
    match nl.delete_link(&link.name) {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(os_err(e)),
    }
}

/// Take weft's gateway addresses off a user's bridge that a network used.
fn release_user_bridge(nl: &mut Netlink, name: &str, gateways: &[IpNet]) -> DriverResult<()> {
    let Some(link) = nl.link_by_name(name).map_err(os_err)? else { return Ok(()) };
    for g in gateways {
        match nl.delete_address(link.index, *g) {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(os_err(e)),
        }
    }
    Ok(())
}

impl State {
    /// Take down what an endpoint publishes, if anything.
    fn unpublish(&mut self, endpoint_id: &str) -> DriverResult<()> {
        let State { ports, fw, endpoints, .. } = self;
        let Some(endpoint) = endpoints.get_mut(endpoint_id) else { return Ok(()) };
        publish::unpublish(ports, fw, endpoint_id, &mut endpoint.published)
    }
}

impl NetworkDriver for BridgeDriver {
    fn name(&self) -> &str {
        NAME
    }

    fn get_capabilities(&self) -> DriverResult<CapabilitiesResponse> {
        Ok(CapabilitiesResponse { scope: "local".into(), connectivity_scope: "local".into() })
    }

    fn create_network(&self, req: CreateNetworkRequest) -> DriverResult<()> {
        let config = BridgeConfig::from_options(&req.options)?;
        let id = NetworkId::from_string(&req.network_id);
        let bridge = match (&config.name, config.default_bridge) {
            (Some(n), _) => n.clone(),
            (None, true) => marks::DEFAULT_BRIDGE.to_string(),
            (None, false) => marks::bridge_name(&id),
        };
        let v4 = gateway_of(&req.ipv4_data)?;
        let v6 = gateway_of(&req.ipv6_data)?;
        let mut st = self.lock()?;
        if let Some((other, _)) = st.networks.iter().find(|(nid, n)| n.bridge == bridge && **nid != req.network_id) {
            return Err(DriverError::conflict(format!(
                "bridge {bridge} is already used by network {}",
                &other[..12.min(other.len())]
            )));
        }
        let gateways: Vec<IpNet> = v4.iter().chain(v6.iter()).copied().collect();
        let subnets = req
            .ipv4_data
            .iter()
            .chain(req.ipv6_data.iter())
            .map(|d| {
                d.pool.parse::<IpNet>().map_err(|_| DriverError::invalid(format!("invalid subnet \"{}\"", d.pool)))
            })
            .collect::<DriverResult<Vec<IpNet>>>()?;
        let rules = NetworkRules {
            bridge: bridge.clone(),
            subnets,
            internal: config.internal,
            icc: config.enable_icc,
            masquerade: config.enable_ip_masquerade,
        };
        let st = &mut *st;
        let owned = ensure_bridge(&mut st.nl, &id, &bridge, &config, &gateways)?;
        let mut undo = Undo::new();
        undo.push(format!("bridge {bridge}"), || match owned {
            true => delete_owned_bridge(&mut st.nl, &id, Some(&bridge)),
            false => release_user_bridge(&mut st.nl, &bridge, &gateways),
        });
        st.fw.add_network(&rules).map_err(os_err)?;
        undo.commit();
        let network = BridgeNetwork {
            rules,
            bridge,
            owned,
            gateways: gateways.clone(),
            gateway_v4: v4.first().map(|g| g.addr()),
            gateway_v6: v6.first().map(|g| g.addr()),
            config,
        };
        st.networks.insert(req.network_id, network);
        Ok(())
    }

    fn delete_network(&self, req: DeleteNetworkRequest) -> DriverResult<()> {
        let mut st = self.lock()?;
        let id = NetworkId::from_string(&req.network_id);
        if let Some(rules) = st.networks.get(&req.network_id).map(|n| n.rules.clone()) {
            st.fw.remove_network(&rules).map_err(os_err)?;
        }
        let st = &mut *st;
        match st.networks.get(&req.network_id) {
            Some(n) if n.owned => delete_owned_bridge(&mut st.nl, &id, Some(&n.bridge))?,
            Some(n) => release_user_bridge(&mut st.nl, &n.bridge, &n.gateways)?,
            None => delete_owned_bridge(&mut st.nl, &id, None)?,
        }
        st.networks.remove(&req.network_id);
        Ok(())
    }

    /// The endpoint's addresses and MAC are recorded; its veth pair is made at join, straight
    /// into the sandbox. A pair that exists already (a joined endpoint restored after a restart)
    /// is adopted: its host end goes on the bridge again.
    fn create_endpoint(&self, req: CreateEndpointRequest) -> DriverResult<CreateEndpointResponse> {
        let mut st = self.lock()?;
        let (bridge, mtu) = match st.networks.get(&req.network_id) {
            Some(n) => (n.bridge.clone(), n.config.mtu),
            None => {
                return Err(DriverError::not_found(format!(
                    "network {} not found in the bridge driver",
                    req.network_id
                )))
            }
        };
        let id = EndpointId::from_string(&req.endpoint_id);
        let (host, peer) = (marks::host_veth_name(&id), marks::peer_veth_name(&id));
        let iface = req.interface.clone().unwrap_or_default();
        let ipv4 = iface.address.parse::<IpNet>().ok().map(|a| a.addr());
        let ipv6 = iface.address_ipv6.parse::<IpNet>().ok().map(|a| a.addr());
        let (mac, generated) = match iface.mac_address.as_str() {
            "" => (generate_mac(ipv4), true),
            m => (parse_mac(m)?, false),
        };
        let bridge_index = bridge_index(&mut st.nl, &bridge)?;
        if let Some(adopted) = st.nl.link_by_name(&host).map_err(os_err)? {
            if let Err(e) = enslave(&mut st.nl, adopted.index, bridge_index) {
                // Not an undo (the pair was there before this call): a pair that cannot go on
                // its bridge serves no one, so it goes, as one a failed join made does.
                if let Err(d) = st.nl.delete_link(&host) {
                    tracing::warn!("deleting veth pair {host}, which could not go on bridge {bridge}: {d}");
                }
                return Err(e);
            }
        }
        st.endpoints.insert(
            req.endpoint_id.clone(),
            BridgeEndpoint {
                network: req.network_id,
                host_veth: host,
                peer_veth: peer,
                mac,
                mtu,
                addresses: publish::Addresses { v4: ipv4, v6: ipv6 },
                published: None,
            },
        );
        let interface = generated.then(|| EndpointInterface { mac_address: format_mac(mac), ..Default::default() });
        Ok(CreateEndpointResponse { interface })
    }

    fn delete_endpoint(&self, req: DeleteEndpointRequest) -> DriverResult<()> {
        let mut st = self.lock()?;
        st.unpublish(&req.endpoint_id)?;
        let host = match st.endpoints.get(&req.endpoint_id) {
            Some(e) => e.host_veth.clone(),
            None => marks::host_veth_name(&EndpointId::from_string(&req.endpoint_id)),
        };
        // libnet deletes a veth inside the sandbox when the endpoint leaves, so a pair still here
        // with its peer in another namespace belongs to a sandbox that was discarded whole: the
        // kernel removes it with that namespace, in the background, and a delete here would only
        // wait for the kernel to do it.
        let kernel_removes = st.nl.link_by_name(&host).map_err(os_err)?.map(|l| l.peer_netnsid.is_some());
        match kernel_removes {
            None | Some(true) => {}
            Some(false) => match st.nl.delete_link(&host) {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(os_err(e)),
            },
        }
        st.endpoints.remove(&req.endpoint_id);
        Ok(())
    }

    fn endpoint_oper_info(&self, req: EndpointInfoRequest) -> DriverResult<EndpointInfoResponse> {
        let st = self.lock()?;
        let e = st.endpoints.get(&req.endpoint_id).ok_or_else(|| {
            DriverError::not_found(format!("endpoint {} not found in the bridge driver", req.endpoint_id))
        })?;
        let mut value = std::collections::BTreeMap::new();
        value.insert("com.weft.bridge.host_veth".to_string(), serde_json::json!(e.host_veth));
        value.insert("com.weft.bridge.network".to_string(), serde_json::json!(e.network));
        if let Some(p) = &e.published {
            value.insert(libnet::portmap::PORTMAP_OPTION.to_string(), serde_json::json!(p.bindings));
        }
        Ok(EndpointInfoResponse { value })
    }

    /// Make the veth pair with its container end already inside the sandbox (libnet finds it
    /// there and skips the move, which costs the kernel as much as making the pair), the host end
    /// on the bridge.
    fn join(&self, req: JoinRequest) -> DriverResult<JoinResponse> {
        let mut st = self.lock()?;
        let e = st.endpoints.get(&req.endpoint_id).ok_or_else(|| {
            DriverError::not_found(format!("endpoint {} not found in the bridge driver", req.endpoint_id))
        })?;
        let (host, peer, mac, mtu) = (e.host_veth.clone(), e.peer_veth.clone(), e.mac, e.mtu);
        let n = st
            .networks
            .get(&e.network)
            .ok_or_else(|| DriverError::not_found(format!("network {} not found in the bridge driver", e.network)))?;
        // Internal networks have no way out, so no default route through the bridge.
        let gw = |g: Option<IpAddr>| {
            if n.config.internal {
                String::new()
            } else {
                g.map(|g| g.to_string()).unwrap_or_default()
            }
        };
        let response = JoinResponse {
            interface_name: Some(InterfaceName { src_name: peer.clone(), dst_prefix: "eth".into() }),
            gateway: gw(n.gateway_v4),
            gateway_ipv6: gw(n.gateway_v6),
            static_routes: Vec::new(),
            disable_gateway_service: false,
        };
        let bridge = n.bridge.clone();
        let sandbox = match req.sandbox_key.as_str() {
            "" => None,
            key => Some(Netns::open(std::path::Path::new(key)).map_err(os_err)?),
        };
        // A pair made before a restart, its peer already in this sandbox, is used as it is; one
        // whose peer is elsewhere (a namespace the kernel is still tearing down) is replaced.
        let existing = st.nl.link_by_name(&host).map_err(os_err)?.is_some();
        let reuse = existing
            && match &sandbox {
                Some(ns) => Netlink::in_netns(ns).and_then(|mut nl| nl.link_by_name(&peer)).map_err(os_err)?.is_some(),
                None => st.nl.link_by_name(&peer).map_err(os_err)?.is_some(),
            };
        if existing && !reuse {
            match st.nl.delete_link(&host) {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(os_err(e)),
            }
        }
        if !reuse {
            let bridge_index = bridge_index(&mut st.nl, &bridge)?;
            plug_veth(&mut st.nl, (&host, &peer), mtu, mac, sandbox.as_ref(), bridge_index)?;
        }
        Ok(response)
    }

    /// Publish the endpoint's ports (a second call replaces what the first published).
    fn program_external_connectivity(&self, req: ProgramExternalConnectivityRequest) -> DriverResult<()> {
        let requested = publish::requested(&req.options)?;
        let mut st = self.lock()?;
        st.unpublish(&req.endpoint_id)?;
        let e = st.endpoints.get(&req.endpoint_id).ok_or_else(|| {
            DriverError::not_found(format!("endpoint {} not found in the bridge driver", req.endpoint_id))
        })?;
        let addresses = e.addresses;
        let default_ip = st.networks.get(&e.network).and_then(|n| n.config.host_binding_ipv4);
        let State { ports, fw, config, .. } = &mut *st;
        let proxy = config.userland_proxy;
        let published = publish::publish(ports, fw, &req.endpoint_id, &requested, default_ip, addresses, proxy)?;
        if let Some(e) = st.endpoints.get_mut(&req.endpoint_id) {
            e.published = Some(published);
        }
        Ok(())
    }

    fn revoke_external_connectivity(&self, req: RevokeExternalConnectivityRequest) -> DriverResult<()> {
        self.lock()?.unpublish(&req.endpoint_id)
    }

    fn leave(&self, req: LeaveRequest) -> DriverResult<()> {
        let st = self.lock()?;
        if !st.endpoints.contains_key(&req.endpoint_id) {
            return Err(DriverError::not_found(format!("endpoint {} not found in the bridge driver", req.endpoint_id)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_follow_docker() {
        assert_eq!(format_mac(generate_mac(Some("172.17.0.2".parse().unwrap()))), "02:42:ac:11:00:02");
        let r = generate_mac(None);
        assert_eq!(r[0] & 0x03, 0x02);
        assert_eq!(parse_mac("02:42:c0:a8:64:0a").unwrap(), [2, 0x42, 0xc0, 0xa8, 0x64, 0x0a]);
        assert!(parse_mac("zz").is_err());
    }
}
