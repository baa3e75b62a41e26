//! Inside a sandbox, 127.0.0.11:53 (UDP and TCP) redirected to the resolver's real ports, and the
//! source port of its answers rewritten back to 53, so that a container may run its own server on
//! port 53 and still reach ours at the usual address.

use libnet::osl::Netns;

use crate::DnsError;

/// Install the redirect in `ns` to `udp_port` and `tcp_port` (nftables over netlink, one batch:
/// see [`libnet::osl::nft::install_dns_redirect`]).
pub fn install(ns: &Netns, udp_port: u16, tcp_port: u16) -> Result<(), DnsError> {
    libnet::osl::nft::install_dns_redirect(ns, udp_port, tcp_port).map_err(|e| DnsError::Redirect(e.to_string()))
}
