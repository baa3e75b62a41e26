//! The OS layer: network namespaces, links, addresses, routes and sysctls, through netlink.
//!
//! Everything weft does to the kernel goes through here; nothing runs `ip`. The one place with
//! `unsafe` code in weft (setns, mounts), each block with a `// SAFETY:` line.

mod error;
mod netlink;
mod netns;
mod link;
mod addr;
mod route;
mod sysctl;

pub use error::{OslError, Result};
pub use link::LinkInfo;
pub use netlink::Netlink;
pub use netns::Netns;
pub use route::RouteInfo;
pub use sysctl::{get_sysctl, set_sysctl};
