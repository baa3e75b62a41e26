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
    format!("{HOST_VETH_PREFIX}{}", &endpoint.as_str()[..11.min(endpoint.as_str().len())])
}

/// `wvp` and the first 12 hex digits of the endpoint id (15 characters).
pub fn peer_veth_name(endpoint: &EndpointId) -> String {
    format!("{PEER_VETH_PREFIX}{}", &endpoint.as_str()[..12.min(endpoint.as_str().len())])
}

/// Whether a link name carries one of weft's marks (and so may be removed when the store does
/// not know it).
pub fn is_weft_link(name: &str) -> bool {
    name == DEFAULT_BRIDGE || name.starts_with(BRIDGE_PREFIX) || name.starts_with(HOST_VETH_PREFIX)
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
        assert!(!is_weft_link("eth0") && !is_weft_link("docker0"));
    }
}
