//! [`DefaultIpam`]: the built-in IPAM driver, speaking the remote-IPAM messages of `libnet`.

use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use ipnet::IpNet;
use libnet::protocol::{
    AddressSpacesResponse, IpamCapabilities, ReleaseAddressRequest, ReleasePoolRequest, RequestAddressRequest,
    RequestAddressResponse, RequestPoolRequest, RequestPoolResponse, DEFAULT_IPAM, GATEWAY_ADDRESS_TYPE,
    GLOBAL_DEFAULT_SPACE, LOCAL_DEFAULT_SPACE, REQUEST_ADDRESS_TYPE,
};
use libnet::{DriverResult, IpamDriver};

use crate::config::{IpamConfig, PoolSpec};
use crate::error::IpamError;
use crate::pool::Pool;
use crate::pool_id::PoolId;
use crate::space::AddressSpace;

/// Host routes to avoid when picking a subnet. Called at each automatic pick with the family
/// being picked (`true` for IPv6), so a daemon can ask the kernel for that family only; it
/// returns route destinations as they are, and the driver itself skips default routes (/0).
pub type HostRoutes = Box<dyn Fn(bool) -> Vec<IpNet> + Send + Sync>;

/// The default IPAM driver: pools per address space, addresses per pool, all in memory.
///
/// ```
/// use ipam::{DefaultIpam, IpamConfig};
/// use libnet::IpamDriver;
/// use libnet::protocol::{RequestAddressRequest, RequestPoolRequest};
///
/// let ipam = DefaultIpam::new(IpamConfig::default(), Box::new(|_| Vec::new()));
/// let pool = ipam
///     .request_pool(RequestPoolRequest { address_space: "LocalDefault".into(), ..Default::default() })
///     .unwrap();
/// assert_eq!(pool.pool, "172.17.0.0/16");
/// let addr = ipam
///     .request_address(RequestAddressRequest { pool_id: pool.pool_id, ..Default::default() })
///     .unwrap();
/// assert_eq!(addr.address, "172.17.0.1/16");
/// ```
pub struct DefaultIpam {
    config: IpamConfig,
    host_routes: HostRoutes,
    spaces: Mutex<Spaces>,
}

struct Spaces {
    local: AddressSpace,
    global: AddressSpace,
}

impl Spaces {
    fn get_mut(&mut self, name: &str) -> Option<&mut AddressSpace> {
        match name {
            LOCAL_DEFAULT_SPACE => Some(&mut self.local),
            GLOBAL_DEFAULT_SPACE => Some(&mut self.global),
            _ => None,
        }
    }

    /// The pool a pool id names, or why there is none.
    fn pool_mut(&mut self, id: &str) -> Result<&mut Pool, IpamError> {
        let parsed = PoolId::parse(id)?;
        self.get_mut(&parsed.space)
            .and_then(|space| space.get_mut(&parsed.subnet, parsed.range))
            .ok_or_else(|| IpamError::UnknownPool(id.to_string()))
    }
}

fn family_name(v6: bool) -> &'static str {
    if v6 {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// A CIDR without host bits, for the subnet or the ip-range of a pool request.
fn parse_network(
    value: &str,
    invalid: impl Fn(String) -> IpamError,
    host_bits: impl Fn(IpNet, IpNet) -> IpamError,
) -> Result<IpNet, IpamError> {
    let net: IpNet =
        value.trim().parse().map_err(|_| invalid("not an address with a prefix length, like 10.1.0.0/24".into()))?;
    if net != net.trunc() {
        return Err(host_bits(net, net.trunc()));
    }
    Ok(net)
}

/// An address as `10.1.0.5` or `10.1.0.5/24` (the prefix length is ignored: the pool's counts).
fn parse_address(value: &str) -> Result<IpAddr, IpamError> {
    let value = value.trim();
    value.parse::<IpAddr>().or_else(|_| value.parse::<IpNet>().map(|n| n.addr())).map_err(|_| {
        IpamError::InvalidAddress {
            value: value.to_string(),
            reason: "not an IP address, like 10.1.0.5 or 10.1.0.5/24".into(),
        }
    })
}

impl DefaultIpam {
    /// A driver that picks automatic subnets from `config`, avoiding what `host_routes` returns.
    pub fn new(config: IpamConfig, host_routes: HostRoutes) -> Self {
        Self {
            config,
            host_routes,
            spaces: Mutex::new(Spaces {
                local: AddressSpace::new(LOCAL_DEFAULT_SPACE),
                global: AddressSpace::new(GLOBAL_DEFAULT_SPACE),
            }),
        }
    }

    /// The configuration the driver was made with.
    pub fn config(&self) -> &IpamConfig {
        &self.config
    }

    fn spaces(&self) -> MutexGuard<'_, Spaces> {
        // A panic while the lock was held cannot leave a pool half-updated in a way that matters
        // more than refusing every later request would, so a poisoned lock is used as it is.
        self.spaces.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The default pools automatic picks walk for a space and family: the space's own pools of
    /// that family, then, for IPv6, the IPv6 pools.
    fn auto_specs(&self, space: &str, v6: bool) -> Vec<&PoolSpec> {
        let own = if space == GLOBAL_DEFAULT_SPACE { &self.config.global_pools } else { &self.config.local_pools };
        let extra = if v6 { self.config.v6_pools.as_slice() } else { &[] };
        own.iter().chain(extra).filter(|p| p.is_v6() == v6).collect()
    }

    fn no_pool_left(specs: &[&PoolSpec], v6: bool) -> IpamError {
        let family = if v6 { "IPv6 " } else { "" };
        let detail = if specs.is_empty() {
            format!("no default {family}pool is configured")
        } else {
            let list: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
            format!("every default {family}pool ({}) is in use or overlaps a host route", list.join(", "))
        };
        IpamError::NoAvailablePool { family, detail }
    }

    fn pool(&self, req: &RequestPoolRequest) -> Result<RequestPoolResponse, IpamError> {
        let space_name = req.address_space.as_str();
        if !matches!(space_name, LOCAL_DEFAULT_SPACE | GLOBAL_DEFAULT_SPACE) {
            return Err(IpamError::UnknownAddressSpace(req.address_space.clone()));
        }
        let (subnet, range) = if req.pool.trim().is_empty() {
            if !req.sub_pool.trim().is_empty() {
                return Err(IpamError::IpRangeWithoutSubnet(req.sub_pool.clone()));
            }
            (None, None)
        } else {
            let subnet = parse_network(
                &req.pool,
                |reason| IpamError::InvalidSubnet { value: req.pool.clone(), reason },
                |given, network| IpamError::SubnetHostBits { given, network },
            )?;
            let is_v6 = matches!(subnet, IpNet::V6(_));
            if is_v6 != req.v6 {
                return Err(IpamError::SubnetFamily {
                    subnet,
                    family: family_name(is_v6),
                    requested: family_name(req.v6),
                });
            }
            let range = if req.sub_pool.trim().is_empty() {
                None
            } else {
                let range = parse_network(
                    &req.sub_pool,
                    |reason| IpamError::InvalidIpRange { value: req.sub_pool.clone(), reason },
                    |given, network| IpamError::IpRangeHostBits { given, network },
                )?;
                if !subnet.contains(&range) {
                    return Err(IpamError::IpRangeOutsideSubnet { range, subnet });
                }
                Some(range)
            };
            (Some(subnet), range)
        };
        // Routes are read before the lock is taken: reading them may be slow (a netlink dump).
        let routes = if subnet.is_none() { (self.host_routes)(req.v6) } else { Vec::new() };
        let mut spaces = self.spaces();
        let space = spaces.get_mut(space_name).ok_or_else(|| IpamError::UnknownAddressSpace(space_name.into()))?;
        let subnet = match subnet {
            Some(subnet) => subnet,
            None => {
                let specs = self.auto_specs(space_name, req.v6);
                space.pick(specs.iter().copied(), &routes).ok_or_else(|| Self::no_pool_left(&specs, req.v6))?
            }
        };
        let space_name = space.name();
        let pool = space.add(subnet, range)?;
        let id = PoolId { space: space_name.to_string(), subnet: pool.subnet(), range: pool.range() };
        Ok(RequestPoolResponse { pool_id: id.to_string(), pool: subnet.to_string(), data: Default::default() })
    }

    fn address(&self, req: &RequestAddressRequest) -> Result<RequestAddressResponse, IpamError> {
        let wanted = if req.address.trim().is_empty() { None } else { Some(parse_address(&req.address)?) };
        let gateway = req.options.get(REQUEST_ADDRESS_TYPE).map(String::as_str) == Some(GATEWAY_ADDRESS_TYPE);
        let mut spaces = self.spaces();
        let pool = spaces.pool_mut(&req.pool_id)?;
        let ip = match wanted {
            Some(ip) => pool.allocate_specific(ip)?,
            None if gateway => pool.allocate_gateway()?,
            None => pool.allocate_next()?,
        };
        Ok(RequestAddressResponse { address: format!("{ip}/{}", pool.subnet().prefix_len()), data: Default::default() })
    }
}

impl IpamDriver for DefaultIpam {
    fn name(&self) -> &str {
        DEFAULT_IPAM
    }

    fn get_capabilities(&self) -> DriverResult<IpamCapabilities> {
        Ok(IpamCapabilities { requires_mac_address: false, requires_request_replay: false })
    }

    fn get_default_address_spaces(&self) -> DriverResult<AddressSpacesResponse> {
        Ok(AddressSpacesResponse {
            local_default_address_space: LOCAL_DEFAULT_SPACE.into(),
            global_default_address_space: GLOBAL_DEFAULT_SPACE.into(),
        })
    }

    fn request_pool(&self, req: RequestPoolRequest) -> DriverResult<RequestPoolResponse> {
        Ok(self.pool(&req)?)
    }

    /// Drops the pool and every address in it.
    fn release_pool(&self, req: ReleasePoolRequest) -> DriverResult<()> {
        let parsed = PoolId::parse(&req.pool_id)?;
        let mut spaces = self.spaces();
        spaces
            .get_mut(&parsed.space)
            .and_then(|space| space.remove(&parsed.subnet, parsed.range))
            .ok_or_else(|| IpamError::UnknownPool(req.pool_id.clone()))?;
        Ok(())
    }

    fn request_address(&self, req: RequestAddressRequest) -> DriverResult<RequestAddressResponse> {
        Ok(self.address(&req)?)
    }

    /// Releasing a free address of the pool succeeds and does nothing (see `Pool::release`).
    fn release_address(&self, req: ReleaseAddressRequest) -> DriverResult<()> {
        let ip = parse_address(&req.address)?;
        let mut spaces = self.spaces();
        spaces.pool_mut(&req.pool_id)?.release(ip)?;
        Ok(())
    }
}

#[cfg(test)]
#[path = "driver_tests.rs"]
mod tests;
