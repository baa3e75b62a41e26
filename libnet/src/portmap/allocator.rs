//! Host ports for published container ports: which are taken, and by whom, and a socket bound on
//! each so that no host process takes one while it is published (what Docker does since 25), and
//! so that a port a host process holds already is refused with a clear error instead of being
//! shadowed by the DNAT rule.
//!
//! A port is free when no binding of this allocator overlaps it (same protocol, same port, an
//! address of the same family that is equal or unspecified) and the kernel lets a socket bind it
//! on every host address asked for.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{bind, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrStorage};

use super::Proto;
use crate::DriverError;

/// The kernel's ephemeral port range when /proc does not say (Linux's default).
const DEFAULT_EPHEMERAL: (u16, u16) = (32768, 60999);

/// One host port held: the reservation sockets go when it is dropped.
#[derive(Debug)]
pub struct HeldPort {
    /// The port's protocol.
    pub proto: Proto,
    /// The host addresses it is held on (an unspecified one means all of that family).
    pub addresses: Vec<IpAddr>,
    /// The host port held, the same on every address.
    pub port: u16,
    /// The reservation socket on each address (none for SCTP on a kernel without it).
    sockets: Vec<(IpAddr, OwnedFd)>,
}

impl HeldPort {
    /// The socket that holds the port on `addr`: bound, not listening. The userland proxy
    /// ([`super::proxy`]) serves the port on it, so that no second socket has to bind the port.
    pub fn socket(&self, addr: IpAddr) -> Option<BorrowedFd<'_>> {
        self.sockets.iter().find(|(a, _)| *a == addr).map(|(_, fd)| fd.as_fd())
    }
}

/// The host ports published through one driver, by owner (an endpoint id).
#[derive(Debug, Default)]
pub struct PortAllocator {
    /// (proto, port) -> the owners and the addresses they hold it on.
    taken: BTreeMap<(Proto, u16), Vec<(String, IpAddr)>>,
    /// Where the next search for a free ephemeral port starts (Docker hands them out in turn).
    cursor: Option<u16>,
    /// The ephemeral range, read once (it is per namespace: the caller's).
    ephemeral: Option<(u16, u16)>,
    /// TCP ports are served by the userland proxy: see [`PortAllocator::for_userland_proxy`].
    listen: bool,
}

fn overlaps(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4() && (a.is_unspecified() || b.is_unspecified() || a == b)
}

fn show(addr: IpAddr, port: u16) -> String {
    SocketAddr::new(addr, port).to_string()
}

/// The kernel's ephemeral port range of the calling thread's namespace.
pub fn ephemeral_range() -> (u16, u16) {
    let text = crate::osl::get_sysctl("net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut parts = text.split_whitespace().filter_map(|p| p.parse::<u16>().ok());
    match (parts.next(), parts.next()) {
        (Some(lo), Some(hi)) if lo > 0 && lo <= hi => (lo, hi),
        _ => DEFAULT_EPHEMERAL,
    }
}

/// The listen backlog of a TCP port the userland proxy serves.
const PROXY_BACKLOG: i32 = 1024;

/// Bind a socket of `proto` on `addr:port`, not listening unless `listen` (a TCP port the
/// userland proxy serves): otherwise it only holds the port. SCTP gets no socket when the kernel
/// has no SCTP (nothing else can take the port then either).
fn reserve(proto: Proto, addr: IpAddr, port: u16, listen: bool) -> Result<Option<OwnedFd>, Errno> {
    let family = if addr.is_ipv4() { AddressFamily::Inet } else { AddressFamily::Inet6 };
    let (kind, protocol) = match proto {
        Proto::Tcp => (SockType::Stream, None),
        Proto::Udp => (SockType::Datagram, None),
        Proto::Sctp => (SockType::Stream, Some(nix::sys::socket::SockProtocol::Sctp)),
    };
    let fd = match socket(family, kind, SockFlag::SOCK_CLOEXEC, protocol) {
        Ok(fd) => fd,
        Err(Errno::EPROTONOSUPPORT | Errno::ESOCKTNOSUPPORT) if proto == Proto::Sctp => return Ok(None),
        Err(e) => return Err(e),
    };
    if addr.is_ipv6() {
        // [::] must not take the IPv4 port too: 0.0.0.0 is held by a socket of its own.
        setsockopt(&fd, sockopt::Ipv6V6Only, &true)?;
    }
    let listen = listen && proto == Proto::Tcp;
    if listen {
        // The proxy's connections on the port (its accepted sockets inherit this) may linger in
        // TIME_WAIT after it stops; they must not keep the port from being published again.
        // No other socket can bind the port meanwhile: it is listening.
        setsockopt(&fd, sockopt::ReuseAddr, &true)?;
    }
    bind(std::os::fd::AsRawFd::as_raw_fd(&fd), &SockaddrStorage::from(SocketAddr::new(addr, port)))?;
    if listen {
        nix::sys::socket::listen(
            &fd,
            nix::sys::socket::Backlog::new(PROXY_BACKLOG).unwrap_or(nix::sys::socket::Backlog::MAXCONN),
        )?;
    }
    Ok(Some(fd))
}

impl PortAllocator {
    /// An allocator holding no port, whose reservation sockets only hold their ports.
    pub fn new() -> PortAllocator {
        PortAllocator::default()
    }

    /// An allocator whose TCP reservation sockets also listen, for the userland proxy to accept
    /// on ([`super::proxy::Proxy`]); UDP ones are the same either way.
    pub fn for_userland_proxy() -> PortAllocator {
        PortAllocator { listen: true, ..PortAllocator::default() }
    }

    fn ours(&self, proto: Proto, port: u16, addresses: &[IpAddr]) -> bool {
        self.taken
            .get(&(proto, port))
            .is_some_and(|held| held.iter().any(|(_, a)| addresses.iter().any(|b| overlaps(*a, *b))))
    }

    /// Hold one host port for `owner` on every address of `addresses` (all must get the same
    /// port): `port` itself when `end` is 0 or equal to it, else the first free one of
    /// `port..=end`; any free ephemeral port when `port` is 0.
    pub fn allocate(
        &mut self,
        owner: &str,
        proto: Proto,
        addresses: &[IpAddr],
        port: u16,
        end: u16,
    ) -> Result<HeldPort, DriverError> {
        let wanted = match (port, end) {
            (0, _) => None,
            (p, e) if e == 0 || e == p => Some((p, p)),
            (p, e) if p < e => Some((p, e)),
            (p, e) => return Err(DriverError::invalid(format!("invalid host port range {p}-{e}"))),
        };
        let (lo, hi) = match wanted {
            Some(r) => r,
            None => *self.ephemeral.get_or_insert_with(ephemeral_range),
        };
        let size = u32::from(hi - lo) + 1;
        let start = match (wanted, self.cursor) {
            (None, Some(c)) if (lo..=hi).contains(&c) => c,
            _ => lo,
        };
        let first = addresses.first().copied().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let fixed = lo == hi;
        for i in 0..size {
            let candidate = (u32::from(start - lo) + i) % size + u32::from(lo);
            let candidate = candidate as u16;
            if self.ours(proto, candidate, addresses) {
                if fixed {
                    return Err(DriverError::conflict(format!(
                        "Bind for {} failed: port is already allocated",
                        show(first, candidate)
                    )));
                }
                continue;
            }
            match self.hold(proto, addresses, candidate) {
                Ok(sockets) => {
                    if wanted.is_none() {
                        self.cursor = Some(if candidate == hi { lo } else { candidate + 1 });
                    }
                    for a in addresses {
                        self.taken.entry((proto, candidate)).or_default().push((owner.to_string(), *a));
                    }
                    return Ok(HeldPort { proto, addresses: addresses.to_vec(), port: candidate, sockets });
                }
                Err((addr, Errno::EADDRINUSE)) if fixed => {
                    return Err(DriverError::conflict(format!(
                    "cannot publish {}/{proto}: the port is in use by a process on the host (address already in use)",
                    show(addr, candidate)
                )))
                }
                Err((_, Errno::EADDRINUSE)) => continue,
                Err((addr, Errno::EADDRNOTAVAIL)) => {
                    return Err(DriverError::invalid(format!("cannot publish on {addr}: the host has no such address")))
                }
                Err((addr, e)) => {
                    return Err(DriverError::internal(format!(
                        "cannot bind host port {}/{proto}: {}",
                        show(addr, candidate),
                        e.desc()
                    )))
                }
            }
        }
        let range = if wanted.is_some() { format!("{lo}-{hi}") } else { format!("{lo}-{hi} (the ephemeral range)") };
        Err(DriverError::conflict(format!(
            "no free host port in {range} for {proto} on {}",
            addresses.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
        )))
    }

    /// Bind the port on every address; all or none.
    fn hold(&self, proto: Proto, addresses: &[IpAddr], port: u16) -> Result<Vec<(IpAddr, OwnedFd)>, (IpAddr, Errno)> {
        let mut sockets = Vec::new();
        for a in addresses {
            match reserve(proto, *a, port, self.listen) {
                Ok(Some(fd)) => sockets.push((*a, fd)),
                Ok(None) => {}
                Err(e) => return Err((*a, e)),
            }
        }
        Ok(sockets)
    }

    /// Give back the ports `owner` holds on `held` (its sockets close as they are dropped).
    pub fn release(&mut self, owner: &str, held: Vec<HeldPort>) {
        for h in held {
            if let Some(list) = self.taken.get_mut(&(h.proto, h.port)) {
                list.retain(|(o, _)| o != owner);
                if list.is_empty() {
                    self.taken.remove(&(h.proto, h.port));
                }
            }
        }
    }

    /// How many (protocol, port) pairs are held.
    pub fn len(&self) -> usize {
        self.taken.len()
    }

    /// Whether it holds no port.
    pub fn is_empty(&self) -> bool {
        self.taken.is_empty()
    }
}

/// The unspecified address of a family.
pub fn unspecified(v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn a_fixed_port_is_held_and_refused_twice() {
        let mut a = PortAllocator::new();
        let first = a.allocate("e1", Proto::Tcp, &[LOOPBACK], 0, 0).expect("an ephemeral port");
        let port = first.port;
        let (lo, hi) = ephemeral_range();
        assert!((lo..=hi).contains(&port), "{port} outside {lo}-{hi}");
        // Held by a socket: nobody else can bind it.
        assert!(std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err());
        let again = a.allocate("e2", Proto::Tcp, &[LOOPBACK], port, 0).unwrap_err();
        assert_eq!(again.message, format!("Bind for 127.0.0.1:{port} failed: port is already allocated"));
        // Another protocol is another port.
        let udp = a.allocate("e2", Proto::Udp, &[LOOPBACK], port, 0);
        if let Ok(udp) = udp {
            a.release("e2", vec![udp]);
        }
        a.release("e1", vec![first]);
        assert!(a.is_empty());
        let back = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port));
        assert!(back.is_ok(), "port {port} still held after release");
    }

    #[test]
    fn a_host_process_port_is_refused_and_a_range_skips_it() {
        let mut a = PortAllocator::new();
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("listen");
        let busy = listener.local_addr().expect("address").port();
        let err = a.allocate("e1", Proto::Tcp, &[LOOPBACK], busy, 0).unwrap_err();
        assert!(err.message.contains("in use by a process on the host"), "{}", err.message);
        if busy < u16::MAX {
            match a.allocate("e1", Proto::Tcp, &[LOOPBACK], busy, busy + 1) {
                Ok(h) => {
                    assert_eq!(h.port, busy + 1);
                    a.release("e1", vec![h]);
                }
                // The next port may be taken by someone else on this machine: then none is free.
                Err(e) => assert!(e.message.contains("no free host port"), "{}", e.message),
            }
        }
    }

    #[test]
    fn an_address_the_host_lacks_is_named() {
        let mut a = PortAllocator::new();
        // TEST-NET-3: never configured on a test machine's loopback.
        let err = a.allocate("e1", Proto::Tcp, &["203.0.113.9".parse().unwrap()], 8080, 0).unwrap_err();
        assert_eq!(err.message, "cannot publish on 203.0.113.9: the host has no such address");
    }

    #[test]
    fn overlap_is_per_family() {
        assert!(overlaps(unspecified(false), LOOPBACK));
        assert!(!overlaps(unspecified(true), LOOPBACK));
        assert!(!overlaps(LOOPBACK, "127.0.0.2".parse().unwrap()));
    }
}
