//! weft's marks on kernel objects: the names that say "weft made this", so restart can adopt what
//! the store knows and remove what it does not, and leak checks can find leftovers.

use crate::ids::{EndpointId, NetworkId};

/// The bridge of the default network.
pub const DEFAULT_BRIDGE: &str = "weft0";
/// Prefix of the bridges of user-defined bridge networks.
pub const BRIDGE_PREFIX: &str = "wbr-";
/// Prefix of host-side veths; followed by hex digits only.
pub const HOST_VETH_PREFIX: &str = "wv";
/// Prefix of the container side of a veth while it is still in the host namespace.
pub const PEER_VETH_PREFIX: &str = "wvp";
/// Directory under the exec root where sandbox namespaces are bind-mounted.
pub const NETNS_DIR: &str = "netns";

/// `wbr-` and the first 11 hex digits of the network id: 15 characters, the kernel's limit
/// (IFNAMSIZ less the NUL), so 12 digits would not fit after the 4-character prefix.
pub fn bridge_name(network: &NetworkId) -> String {
    format!("{BRIDGE_PREFIX}{}", &network.as_str()[..11.min(network.as_str().len())])
}

/// `wv` and the first 11 hex digits of the endpoint id (13 characters, under IFNAMSIZ).
pub fn host_veth_name(endpoint: &EndpointId) -> String {
    format!("{HOST_VETH_PREFIX}{}", crate::ids::prefix(endpoint.as_str(), 11))
}

/// `wvp` and the first 12 hex digits of the endpoint id (15 characters).
pub fn peer_veth_name(endpoint: &EndpointId) -> String {
    format!("{PEER_VETH_PREFIX}{}", crate::ids::prefix(endpoint.as_str(), 12))
}

/// The alias (IFLA_IFALIAS) weft puts on a bridge it made for a network, so that after a restart
/// it can tell its own bridges from a user's bridge of the same name (which it never deletes).
pub fn owner_alias(network: &NetworkId) -> String {
    format!("{OWNER_ALIAS_PREFIX}{network}")
}

/// The start of [`owner_alias`].
pub const OWNER_ALIAS_PREFIX: &str = "weft:";

/// Whether a link name is exactly one of weft's marks: `weft0`, `wbr-` + 11 hex, `wv` + 11 hex
/// or `wvp` + 12 hex. Only such links may be removed when the store does not know them; a
/// user's `wvlan0` or `wbr-lan` merely shares a prefix and is left alone.
pub fn is_weft_link(name: &str) -> bool {
    let hex =
        |rest: &str, len: usize| rest.len() == len && rest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    name == DEFAULT_BRIDGE
        || name.strip_prefix(BRIDGE_PREFIX).is_some_and(|r| hex(r, 11))
        || name.strip_prefix(PEER_VETH_PREFIX).is_some_and(|r| hex(r, 12))
        || name.strip_prefix(HOST_VETH_PREFIX).is_some_and(|r| hex(r, 11))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_ifnamsiz_and_do_not_collide() {
        let e = EndpointId::random();
        let n = NetworkId::random();
        assert_eq!(bridge_name(&n).len(), 15);
        assert_eq!(host_veth_name(&e).len(), 13);
        assert_eq!(peer_veth_name(&e).len(), 15);
        assert!(!host_veth_name(&e).starts_with(PEER_VETH_PREFIX));
        assert!(is_weft_link(&bridge_name(&n)) && is_weft_link(&peer_veth_name(&e)));
        assert!(is_weft_link(&host_veth_name(&e)));
        for other in ["eth0", "docker0", "wvlan0", "wbr-lan", "wv0123", "wbr-0123456789ab", "wvp01234567"] {
            assert!(!is_weft_link(other), "{other}");
        }
    }
}
