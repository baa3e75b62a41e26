//! Forwarding to upstream servers: at most 3, tried in order, each with a timeout; the next one on
//! SERVFAIL, REFUSED, a timeout or an error; over TCP when the client asked over TCP or the UDP
//! answer came back truncated. The query goes out as the client sent it, from a fresh socket
//! (a random source port per query), and the first packet from that server with the query's id
//! and question comes back as it is; nothing is re-encoded.
//!
//! Sockets for the host's servers are made in the daemon's namespace, so a resolver on the host's
//! loopback works. Sockets for a container's `--dns` servers are made in its namespace: the thread
//! that calls `socket()` decides the namespace, so they are made on a short-lived thread inside it
//! (see [`libnet::osl::Netns::run`]); after that they are used like any other.
//!
//! A semaphore shared by every sandbox bounds the forwarded queries in flight; over it, a query
//! gets SERVFAIL at once rather than a queue that a flood could grow without end.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use libnet::osl::Netns;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};
use tokio::sync::Semaphore;

use crate::wire;

/// At most this many upstream servers are used, as resolv.conf's MAXNS.
pub const MAX_UPSTREAMS: usize = 3;
/// The largest answer read from an upstream.
const MAX_ANSWER: usize = 65535;
/// Bound on stray packets read while waiting for the answer on one socket.
const MAX_STRAY_PACKETS: usize = 16;

/// SERVFAIL and REFUSED: try the next server.
const RCODE_SERVFAIL: u8 = 2;
const RCODE_REFUSED: u8 = 5;

/// Where a sandbox's queries go.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub servers: Vec<SocketAddr>,
    pub origin: Origin,
}

/// The namespace the sockets to the servers are made in.
#[derive(Debug, Clone)]
pub enum Origin {
    /// The daemon's own (the host's servers).
    Host,
    /// The container's (its `--dns` servers).
    Sandbox(Arc<Netns>),
}

impl Upstreams {
    pub fn host(servers: Vec<SocketAddr>) -> Upstreams {
        Upstreams { servers: servers.into_iter().take(MAX_UPSTREAMS).collect(), origin: Origin::Host }
    }
}

/// Why no upstream answer came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardFailure {
    /// Too many queries in flight.
    Busy,
    /// No server answered, or none is configured.
    NoAnswer,
}

/// The forwarder shared by every sandbox's resolver.
#[derive(Debug)]
pub struct Forwarder {
    in_flight: Arc<Semaphore>,
    timeout: Duration,
}

impl Forwarder {
    /// `max_concurrent`: forwarded queries in flight over all sandboxes; `timeout`: per server.
    pub fn new(max_concurrent: usize, timeout: Duration) -> Forwarder {
        Forwarder { in_flight: Arc::new(Semaphore::new(max_concurrent.max(1))), timeout }
    }

    /// Forward `query` (the client's bytes) and return the answer to pass back: the first good
    /// one, else the last SERVFAIL/REFUSED one.
    pub async fn forward(&self, upstreams: &Upstreams, query: &[u8], tcp: bool) -> Result<Vec<u8>, ForwardFailure> {
        let _permit = self.in_flight.clone().try_acquire_owned().map_err(|_| ForwardFailure::Busy)?;
        let mut last = None;
        for &server in upstreams.servers.iter().take(MAX_UPSTREAMS) {
            let answer = match tcp {
                true => self.over_tcp(&upstreams.origin, server, query).await,
                false => match self.over_udp(&upstreams.origin, server, query).await {
                    Ok(a) if wire::truncated(&a) => self.over_tcp(&upstreams.origin, server, query).await.or(Ok(a)),
                    other => other,
                },
            };
            match answer {
                Ok(a) if matches!(wire::rcode(&a), Some(RCODE_SERVFAIL | RCODE_REFUSED)) => last = Some(a),
                Ok(a) => return Ok(a),
                Err(e) => tracing::debug!(%server, "forward: {e}"),
            }
        }
        last.ok_or(ForwardFailure::NoAnswer)
    }

    async fn over_udp(&self, origin: &Origin, server: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
        let sock = udp_socket(origin, server).await?;
        sock.connect(server).await?;
        sock.send(query).await?;
        let mut buf = vec![0u8; MAX_ANSWER];
        let exchange = async {
            // A connected socket only gets the server's packets; skip any that are not the answer.
            for _ in 0..MAX_STRAY_PACKETS {
                let n = sock.recv(&mut buf).await?;
                if wire::answers(query, &buf[..n]) {
                    buf.truncate(n);
                    return Ok(buf);
                }
            }
            Err(std::io::Error::other(format!("no answer among {MAX_STRAY_PACKETS} packets from {server}")))
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| timed_out(server))?
    }

    async fn over_tcp(&self, origin: &Origin, server: SocketAddr, query: &[u8]) -> std::io::Result<Vec<u8>> {
        let exchange = async {
            let mut stream = tcp_stream(origin, server).await?;
            let len = u16::try_from(query.len()).map_err(|_| std::io::Error::other("query over 65535 bytes"))?;
            let mut framed = Vec::with_capacity(query.len() + 2);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(query);
            stream.write_all(&framed).await?;
            let len = usize::from(stream.read_u16().await?);
            let mut answer = vec![0u8; len];
            stream.read_exact(&mut answer).await?;
            if !wire::answers(query, &answer) {
                return Err(std::io::Error::other(format!("{server} answered another question over TCP")));
            }
            Ok(answer)
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| timed_out(server))?
    }
}

fn timed_out(server: SocketAddr) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, format!("no answer from {server} in time"))
}

fn unspecified(server: SocketAddr) -> SocketAddr {
    match server.ip() {
        IpAddr::V4(_) => SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0),
        IpAddr::V6(_) => SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0),
    }
}

/// Run `make` in the sandbox's namespace on a blocking thread.
async fn in_namespace<T: Send + 'static>(
    ns: &Arc<Netns>,
    make: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    let ns = ns.clone();
    tokio::task::spawn_blocking(move || ns.run(make).map_err(std::io::Error::other)?)
        .await
        .map_err(std::io::Error::other)?
}

async fn udp_socket(origin: &Origin, server: SocketAddr) -> std::io::Result<UdpSocket> {
    let local = unspecified(server);
    match origin {
        Origin::Host => UdpSocket::bind(local).await,
        Origin::Sandbox(ns) => {
            let std_sock = in_namespace(ns, move || std::net::UdpSocket::bind(local)).await?;
            std_sock.set_nonblocking(true)?;
            UdpSocket::from_std(std_sock)
        }
    }
}

async fn tcp_stream(origin: &Origin, server: SocketAddr) -> std::io::Result<TcpStream> {
    match origin {
        Origin::Host => TcpStream::connect(server).await,
        Origin::Sandbox(ns) => {
            let domain = socket2::Domain::for_address(server);
            let sock = in_namespace(ns, move || {
                socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))
            })
            .await?;
            sock.set_nonblocking(true)?;
            TcpSocket::from_std_stream(sock.into()).connect(server).await
        }
    }
}

/// The first [`MAX_UPSTREAMS`] nameservers of a resolv.conf, on port 53; loopback ones kept (they
/// are used from the host's namespace). Scoped IPv6 addresses (`fe80::1%eth0`) are skipped.
pub fn resolv_conf_servers(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|l| {
            let mut fields = l.split_whitespace();
            (fields.next() == Some("nameserver")).then(|| fields.next()).flatten()
        })
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .take(MAX_UPSTREAMS)
        .collect()
}

#[cfg(test)]
#[path = "forward_tests.rs"]
mod tests;
