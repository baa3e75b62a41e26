//! Inside a sandbox, 127.0.0.11:53 (UDP and TCP) redirected to the resolver's real ports, and the
//! source port of its answers rewritten back to 53, so that a container may run its own server on
//! port 53 and still reach ours at the usual address.

use libnet::osl::Netns;

use crate::DnsError;

/// Install the redirect in `ns` to `udp_port` and `tcp_port`.
///
/// TODO(merge nft): the rules come from `libnet::osl::install_dns_redirect(ns, udp_port,
/// tcp_port)` (nftables over netlink), which is being written on another branch. Until it is
/// merged this installs nothing and succeeds: the resolver answers on its own ports only
/// (`dig -p <port> @127.0.0.11`), not on port 53.
pub fn install(ns: &Netns, udp_port: u16, tcp_port: u16) -> Result<(), DnsError> {
    let _ = (ns, udp_port, tcp_port);
    Ok(())
}
