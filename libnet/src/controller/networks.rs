//! Network create and delete: validation, IPAM pools, the driver call, the store record.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde_json::{json, Value};

use super::Controller;
use crate::driver::IpamDriver;
use crate::error::{Error, Result};
use crate::ids::{EndpointId, NetworkId};
use crate::network::{IpamConfigRequest, Network, NetworkCreate, PoolAllocation};
use crate::protocol::*;
use crate::undo::Undo;

/// Drivers whose networks take no addresses (Docker's "special" drivers).
const DRIVERS_WITHOUT_IPAM: [&str; 2] = ["host", "null"];
/// The names of the networks the daemon makes itself.
pub const PREDEFINED_NETWORKS: [&str; 3] = ["bridge", "host", "none"];

/// One `--subnet` group after parsing (no subnet: IPAM picks one).
#[derive(Default)]
pub(super) struct ParsedConfig {
    pub(super) subnet: Option<IpNet>,
    pub(super) ip_range: Option<IpNet>,
    pub(super) gateway: Option<IpAddr>,
    pub(super) aux: BTreeMap<String, IpAddr>,
}

fn parse_cidr(what: &str, s: &str) -> Result<IpNet> {
    s.parse::<IpNet>().map_err(|_| {
        Error::InvalidParameter(format!(
            "invalid {what} \"{s}\": not an address with a prefix length (like 10.1.0.0/24)"
        ))
    })
}

fn parse_ip(what: &str, s: &str) -> Result<IpAddr> {
    s.parse::<IpAddr>().map_err(|_| Error::InvalidParameter(format!("invalid {what} \"{s}\": not an IP address")))
}

fn parse_config(c: &IpamConfigRequest) -> Result<ParsedConfig> {
    let subnet = c.subnet.as_deref().filter(|s| !s.is_empty()).map(|s| parse_cidr("subnet", s)).transpose()?;
    let ip_range = c.ip_range.as_deref().filter(|s| !s.is_empty()).map(|s| parse_cidr("ip-range", s)).transpose()?;
    let gateway = c.gateway.as_deref().filter(|s| !s.is_empty()).map(|s| parse_ip("gateway", s)).transpose()?;
    let mut aux = BTreeMap::new();
    for (name, ip) in &c.aux_addresses {
        aux.insert(name.clone(), parse_ip(&format!("aux-address {name}"), ip)?);
    }
    let Some(subnet) = subnet else {
        if ip_range.is_some() || gateway.is_some() || !aux.is_empty() {
            return Err(Error::InvalidParameter(
                "an ip-range, gateway or aux-address needs a subnet: add --subnet".into(),
            ));
        }
        return Ok(ParsedConfig { subnet, ip_range, gateway, aux });
    };
    if subnet != subnet.trunc() {
        return Err(Error::InvalidParameter(format!(
            "invalid subnet {subnet}: it has host bits set; did you mean {}?",
            subnet.trunc()
        )));
    }
    if let Some(r) = ip_range {
        if !subnet.contains(&r) {
            return Err(Error::InvalidParameter(format!("ip-range {r} is not inside subnet {subnet}")));
        }
    }
    if let Some(g) = gateway {
        if !subnet.contains(&g) {
            return Err(Error::InvalidParameter(format!("gateway {g} is not in subnet {subnet}")));
        }
    }
    for (name, ip) in &aux {
        if !subnet.contains(ip) {
            return Err(Error::InvalidParameter(format!("aux-address {name}={ip} is not in subnet {subnet}")));
        }
    }
    Ok(ParsedConfig { subnet: Some(subnet), ip_range, gateway, aux })
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}

/// Ask the IPAM driver for the pools of one family, with gateways and aux addresses; every grant
/// is pushed on `rb` so a later failure gives it back.
pub(super) fn allocate_pools(
    ipam: &Arc<dyn IpamDriver>,
    space: &str,
    v6: bool,
    configs: &[ParsedConfig],
    options: &BTreeMap<String, String>,
    rb: &mut Undo,
) -> Result<Vec<PoolAllocation>> {
    let mut out = Vec::new();
    for ParsedConfig { subnet, ip_range, gateway, aux } in configs {
        let pool = ipam.request_pool(RequestPoolRequest {
            address_space: space.to_string(),
            pool: subnet.map(|s| s.to_string()).unwrap_or_default(),
            sub_pool: ip_range.map(|s| s.to_string()).unwrap_or_default(),
            options: options.clone(),
            v6,
        })?;
        let pool_id = pool.pool_id.clone();
        let (ipam2, id2) = (ipam.clone(), pool_id.clone());
        rb.push(format!("pool {}", pool.pool), move || {
            ipam2.release_pool(ReleasePoolRequest { pool_id: id2 }).map_err(|e| e.to_string())
        });
        let granted: IpNet = pool.pool.parse().map_err(|_| {
            Error::Driver(crate::DriverError::internal(format!(
                "IPAM driver returned an invalid pool \"{}\"",
                pool.pool
            )))
        })?;
        let mut request = |address: Option<IpAddr>, gateway: bool| -> Result<IpNet> {
            let mut options = BTreeMap::new();
            if gateway {
                options.insert(REQUEST_ADDRESS_TYPE.to_string(), GATEWAY_ADDRESS_TYPE.to_string());
            }
            let r = ipam.request_address(RequestAddressRequest {
                pool_id: pool_id.clone(),
                address: address.map(|a| a.to_string()).unwrap_or_default(),
                options,
            })?;
            let addr = super::ipam_address(&r.address)?;
            let (ipam3, id3) = (ipam.clone(), pool_id.clone());
            rb.push(format!("address {addr}"), move || {
                ipam3
                    .release_address(ReleaseAddressRequest { pool_id: id3, address: addr.addr().to_string() })
                    .map_err(|e| e.to_string())
            });
            Ok(addr)
        };
        let gw = request(*gateway, true)?;
        let mut aux_out: BTreeMap<String, IpAddr> = BTreeMap::new();
        for (name, ip) in aux {
            if *ip == gw.addr() {
                return Err(Error::InvalidParameter(format!(
                    "aux-address {name}={ip} is the gateway of subnet {granted}"
                )));
            }
            if let Some((other, _)) = aux_out.iter().find(|(_, a)| *a == ip) {
                return Err(Error::InvalidParameter(format!("aux-addresses {other} and {name} are both {ip}")));
            }
            request(Some(*ip), false)?;
            aux_out.insert(name.clone(), *ip);
        }
        out.push(PoolAllocation {
            pool_id: pool.pool_id,
            subnet: granted,
            ip_range: *ip_range,
            gateway: Some(gw),
            aux_addresses: aux_out,
            user_subnet: subnet.is_some(),
        });
    }
    Ok(out)
}

/// The `IPv4Data`/`IPv6Data` a driver receives for a network's pools.
pub(super) fn ipam_data(space: &str, pools: &[PoolAllocation]) -> Vec<IpamData> {
    pools
        .iter()
        .map(|p| IpamData {
            address_space: space.to_string(),
            pool: p.subnet.to_string(),
            gateway: p.gateway.map(|g| g.to_string()).unwrap_or_default(),
            aux_addresses: p
                .aux_addresses
                .iter()
                .map(|(k, ip)| (k.clone(), format!("{ip}/{}", p.subnet.prefix_len())))
                .collect(),
        })
        .collect()
}

/// The driver options of a network, as Docker passes them to `CreateNetwork`.
pub(super) fn driver_options(n: &Network) -> Options {
    let generic: serde_json::Map<String, Value> = n.options.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let mut o = Options::new();
    o.insert(GENERIC_OPTIONS.to_string(), Value::Object(generic));
    o.insert(ENABLE_IPV6_OPTION.to_string(), json!(n.flags.enable_ipv6));
    o.insert(INTERNAL_OPTION.to_string(), json!(n.flags.internal));
    o
}

/// The IPAM driver's local default address space (`GetDefaultAddressSpaces`).
fn ipam_space(ipam: &dyn crate::IpamDriver) -> Result<String> {
    let spaces = ipam.get_default_address_spaces()?;
    Ok(match spaces.local_default_address_space.as_str() {
        "" => LOCAL_DEFAULT_SPACE.to_string(),
        s => s.to_string(),
    })
}

pub(super) fn create_request(n: &Network) -> CreateNetworkRequest {
    CreateNetworkRequest {
        network_id: n.id.to_string(),
        options: driver_options(n),
        ipv4_data: ipam_data(&n.address_space, &n.ipv4),
        ipv6_data: ipam_data(&n.address_space, &n.ipv6),
    }
}

impl Controller {
    /// Create a network: check the request, take its subnets from IPAM, have the driver make it,
    /// and store it. On any failure, nothing is left allocated or made.
    pub fn create_network(&mut self, req: NetworkCreate) -> Result<Network> {
        self.create_network_with(req, false)
    }

    /// Create one of the daemon's own networks (`bridge`, `host`, `none`), which users cannot
    /// remove.
    pub fn create_predefined_network(&mut self, req: NetworkCreate) -> Result<Network> {
        self.create_network_with(req, true)
    }

    fn create_network_with(&mut self, req: NetworkCreate, predefined: bool) -> Result<Network> {
        if req.name.is_empty() {
            return Err(Error::InvalidParameter("a network needs a name".into()));
        }
        if !valid_name(&req.name) {
            return Err(Error::InvalidParameter(format!(
                "invalid network name \"{}\": it must start with a letter or digit and hold only letters, digits, '_', '.' and '-'",
                req.name
            )));
        }
        if let Some(existing) = self.networks.values().find(|n| n.name == req.name) {
            if existing.predefined {
                return Err(Error::Predefined(req.name.clone(), "re-created"));
            }
            return Err(Error::NetworkExists(req.name.clone()));
        }
        if !predefined && PREDEFINED_NETWORKS.contains(&req.name.as_str()) {
            return Err(Error::Predefined(req.name.clone(), "created by a user"));
        }
        let driver = self.driver(&req.driver)?;
        self.settle_owed(&req.driver);
        let ipam = self.ipam(&req.ipam_driver)?;
        let scope = driver.get_capabilities()?.scope;

        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for c in &req.ipam_config {
            let p = parse_config(c)?;
            match p.subnet {
                Some(IpNet::V6(s)) => {
                    if !req.flags.enable_ipv6 {
                        return Err(Error::InvalidParameter(format!(
                            "subnet {s} is IPv6 but IPv6 is not enabled on this network: add --ipv6"
                        )));
                    }
                    v6.push(p)
                }
                _ => v4.push(p),
            }
        }
        for s in v4.iter().chain(v6.iter()).filter_map(|c| c.subnet.as_ref()) {
            self.check_overlap(s, &req.ipam_driver)?;
        }
        if !req.flags.enable_ipv4 {
            if let Some(s) = v4.iter().find_map(|c| c.subnet) {
                return Err(Error::InvalidParameter(format!(
                    "subnet {s} is IPv4 but IPv4 is disabled on this network"
                )));
            }
        }
        let uses_ipam = !DRIVERS_WITHOUT_IPAM.contains(&req.driver.as_str());
        if !uses_ipam && (!v4.is_empty() || !v6.is_empty()) {
            return Err(Error::InvalidParameter(format!("the {} driver takes no subnets", req.driver)));
        }
        if uses_ipam && req.flags.enable_ipv4 && v4.is_empty() {
            v4.push(ParsedConfig::default());
        }
        if uses_ipam && req.flags.enable_ipv6 && v6.is_empty() {
            v6.push(ParsedConfig::default());
        }

        let mut rb = Undo::new();
        // The pools are asked in the IPAM driver's own default space, as libnetwork does.
        let space = if uses_ipam { ipam_space(&*ipam)? } else { LOCAL_DEFAULT_SPACE.to_string() };
        let ipv4 = if uses_ipam && req.flags.enable_ipv4 {
            allocate_pools(&ipam, &space, false, &v4, &req.ipam_options, &mut rb)?
        } else {
            Vec::new()
        };
        let ipv6 = if uses_ipam && req.flags.enable_ipv6 {
            allocate_pools(&ipam, &space, true, &v6, &req.ipam_options, &mut rb)?
        } else {
            Vec::new()
        };
        let network = Network {
            id: NetworkId::random(),
            name: req.name,
            driver: req.driver,
            scope,
            created: now_rfc3339(),
            ipam_driver: req.ipam_driver,
            ipam_options: req.ipam_options,
            address_space: space,
            ipv4,
            ipv6,
            flags: req.flags,
            options: req.options,
            labels: req.labels,
            predefined,
        };
        driver.create_network(create_request(&network))?;
        let (d2, id2) = (driver.clone(), network.id.to_string());
        rb.push(format!("network {}", network.name), move || {
            d2.delete_network(DeleteNetworkRequest { network_id: id2 }).map_err(|e| e.to_string())
        });
        self.store.write(|tx| tx.put_network(&network))?;
        rb.commit();
        self.networks.insert(network.id.clone(), network.clone());
        tracing::info!(network = %network.name, id = %network.id.short(), "network created");
        Ok(network)
    }

    fn check_overlap(&self, subnet: &IpNet, ipam_driver: &str) -> Result<()> {
        for n in self.networks.values().filter(|n| n.ipam_driver == ipam_driver) {
            if let Some(other) = n.subnets().find(|o| o.contains(&subnet.network()) || subnet.contains(&o.network())) {
                return Err(Error::Forbidden(format!("subnet {subnet} overlaps network \"{}\" ({other})", n.name)));
            }
        }
        Ok(())
    }

    /// Remove a network that has no endpoints: the driver's kernel objects first, then its
    /// addresses, then the record.
    pub fn delete_network(&mut self, name_or_id: &str) -> Result<Network> {
        let network = self.network(name_or_id)?.clone();
        if network.predefined {
            return Err(Error::Predefined(network.name.clone(), "removed"));
        }
        let endpoints = self.endpoints_of(&network.id);
        if !endpoints.is_empty() {
            let mut names: Vec<&str> = endpoints.iter().map(|e| e.name.as_str()).collect();
            names.sort_unstable();
            return Err(Error::ActiveEndpoints {
                name: network.name.clone(),
                id: network.id.to_string(),
                endpoints: names.join(", "),
            });
        }
        let driver = self.driver(&network.driver)?;
        self.settle_owed(&network.driver);
        driver.delete_network(DeleteNetworkRequest { network_id: network.id.to_string() })?;
        // The network takes with it what its driver still owed on it.
        let owed: Vec<EndpointId> =
            self.owed.values().filter(|o| o.network == network.id).map(|o| o.endpoint.clone()).collect();
        self.store.write(|tx| {
            for endpoint in &owed {
                tx.delete_owed_delete(endpoint.as_str())?;
            }
            tx.delete_network(network.id.as_str())
        })?;
        for endpoint in owed {
            tracing::warn!(
                "driver {} never deleted endpoint {}; its network is gone now",
                network.driver,
                endpoint.short()
            );
            self.owed.remove(&endpoint);
        }
        self.networks.remove(&network.id);
        // Only once the record is gone: a subnet is never free while a record holds it.
        if let Ok(ipam) = self.ipam(&network.ipam_driver) {
            release_pools(&ipam, network.ipv4.iter().chain(network.ipv6.iter()));
        }
        tracing::info!(network = %network.name, id = %network.id.short(), "network removed");
        Ok(network)
    }
}

/// Give back a network's gateway, aux addresses and pools; failures are logged, since the
/// network is going away regardless.
pub(super) fn release_pools<'a>(ipam: &Arc<dyn IpamDriver>, pools: impl Iterator<Item = &'a PoolAllocation>) {
    for p in pools {
        let addrs = p.gateway.iter().map(|g| g.addr()).chain(p.aux_addresses.values().copied());
        for a in addrs {
            if let Err(e) =
                ipam.release_address(ReleaseAddressRequest { pool_id: p.pool_id.clone(), address: a.to_string() })
            {
                tracing::warn!("release of {a} in {}: {e}", p.subnet);
            }
        }
        if let Err(e) = ipam.release_pool(ReleasePoolRequest { pool_id: p.pool_id.clone() }) {
            tracing::warn!("release of pool {}: {e}", p.subnet);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_parsing_names_the_bad_value() {
        let c = |s: &str, r: &str, g: &str| IpamConfigRequest {
            subnet: Some(s.into()),
            ip_range: Some(r.into()),
            gateway: Some(g.into()),
            aux_addresses: BTreeMap::new(),
        };
        let e = |c| parse_config(&c).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e(c("10.0.0.0/33", "", "")).contains("invalid subnet \"10.0.0.0/33\""));
        assert!(
            e(c("10.0.0.0/24", "10.0.1.0/25", "")).contains("ip-range 10.0.1.0/25 is not inside subnet 10.0.0.0/24")
        );
        assert!(e(c("10.0.0.0/24", "", "10.0.1.1")).contains("gateway 10.0.1.1 is not in subnet 10.0.0.0/24"));
        assert!(e(c("10.0.0.5/24", "", "")).contains("host bits"));
        let mut aux = c("10.0.0.0/24", "", "");
        aux.aux_addresses.insert("router".into(), "10.9.0.5".into());
        assert!(e(aux).contains("aux-address router=10.9.0.5 is not in subnet 10.0.0.0/24"));
        assert!(parse_config(&c("10.0.0.0/24", "10.0.0.128/25", "10.0.0.1")).is_ok());
    }

    #[test]
    fn names_follow_docker_rules() {
        assert!(valid_name("my-custom_net.1"));
        assert!(!valid_name("-x"));
        assert!(!valid_name("a b"));
        assert!(!valid_name(""));
    }
}
