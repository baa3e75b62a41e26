//! weft's default IPAM driver: address spaces, pools picked from the default pools, and addresses
//! handed out from sparse bitmaps, behind [`libnet::IpamDriver`].
//!
//! The rules are Docker's: automatic subnets come from `--default-address-pool`s in order and
//! avoid allocated pools and host routes; the network (and IPv4 broadcast) address is never given;
//! container addresses come from the `--ip-range` when there is one, in a rotating order, while
//! gateways and aux addresses may be anywhere in the subnet.

mod addr;
mod bitmap;
mod config;
mod driver;
mod error;
mod picker;
mod pool;
mod pool_id;
mod space;

pub use config::{default_global_pools, default_local_pools, default_v6_pools, IpamConfig, PoolSpec};
pub use driver::{DefaultIpam, HostRoutes};
pub use error::IpamError;
