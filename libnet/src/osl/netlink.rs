//! A synchronous rtnetlink socket bound in one network namespace, with request/ack plumbing.

use super::{Netns, Result};

/// A route-netlink socket. It stays in the namespace it was opened in, whatever thread uses it.
pub struct Netlink {
    _priv: (),
}

impl Netlink {
    /// A socket in the calling thread's namespace.
    pub fn new() -> Result<Netlink> {
        todo!("osl helper")
    }
    /// A socket in the namespace `ns`.
    pub fn in_netns(ns: &Netns) -> Result<Netlink> {
        let _ = ns;
        todo!("osl helper")
    }
}
