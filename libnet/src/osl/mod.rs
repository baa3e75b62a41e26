//! The OS layer: network namespaces, links, addresses, routes and sysctls, through netlink.
//!
//! Everything weft does to the kernel goes through here; nothing runs `ip`. The one place in weft
//! allowed `unsafe` code (setns, mounts), each block with a `// SAFETY:` line; at present there is
//! none, as `nix` wraps setns, unshare and mount safely.
//!
//! Links, addresses and routes go through [`Netlink`], a synchronous route-netlink socket: one
//! request and its acknowledgement per operation, which is what container start needs. nftables
//! goes through [`nft`], in atomic batches on a netfilter socket.
//!
//! ```no_run
//! use libnet::osl::{Netlink, Netns};
//! # fn main() -> libnet::osl::Result<()> {
//! let ns = Netns::create("/run/weft/netns/abcd".as_ref())?;
//! let mut nl = Netlink::in_netns(&ns)?;
//! let lo = nl.link_by_name("lo")?.expect("every namespace has a loopback");
//! nl.set_up(lo.index)?;
//! # Ok(()) }
//! ```

mod addr;
mod error;
pub mod features;
pub mod firewall;
pub mod kmod;
mod link;
mod netlink;
mod netns;
pub mod nft;
mod route;
mod sysctl;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;

pub use error::{OslError, Result};
pub use link::LinkInfo;
pub use netlink::Netlink;
pub use netns::Netns;
pub use route::RouteInfo;
pub use sysctl::{get_sysctl, set_sysctl};
