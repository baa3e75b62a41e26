//! The userland proxy (`weftd --userland-proxy`): one published (protocol, host address, host
//! port) served from the socket that holds the port, forwarded to (container address, port), in
//! this process on a small tokio runtime of libnet's own: no process per port.
//!
//! It exists for what DNAT cannot reach: with the proxy on, weft's ruleset leaves loopback and
//! same-host container traffic to it (as Docker does), and `[::1]` works, which the kernel never
//! routes off the loopback. Traffic from other machines keeps the DNAT path.
//!
//! - TCP: the reservation socket listens (see [`super::PortAllocator::for_userland_proxy`]); each
//!   accepted connection gets a connection to the container, and bytes are copied both ways,
//!   half-closes passed on. At most [`MAX_CONNECTIONS`] at a time; more are accepted and closed.
//! - UDP: datagrams are read on the reservation socket; each client address gets a connected
//!   socket towards the container (a flow), whose answers go back from the reservation socket.
//!   A flow idle for [`FLOW_IDLE`] ends; at most [`MAX_FLOWS`], datagrams of more clients are
//!   dropped.
//!
//! I/O errors end the connection or flow they belong to and are logged at debug level; nothing
//! here panics on them. Dropping the [`Proxy`] stops it and waits until its sockets are closed,
//! so the port can be bound again as soon as the reservation socket is dropped too.
//!
//! The runtime's threads are made by the first thread that starts a proxy and stay in its network
//! namespace; a proxy asked for from another namespace is refused (its connections towards the
//! container would leave from the wrong one).
//!
//! ```no_run
//! use libnet::portmap::{proxy::Proxy, PortAllocator, Proto};
//! let mut ports = PortAllocator::for_userland_proxy();
//! let lo = "127.0.0.1".parse().unwrap();
//! let held = ports.allocate("endpoint", Proto::Tcp, &[lo], 8080, 0).unwrap();
//! let socket = held.socket(lo).unwrap();
//! let proxy = Proxy::start(Proto::Tcp, socket, "172.17.0.2:80".parse().unwrap()).unwrap();
//! drop(proxy); // stopped, its sockets closed
//! ports.release("endpoint", vec![held]); // the port is free
//! ```

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use super::Proto;
use crate::osl::Netns;
use crate::DriverError;

/// TCP connections served at a time by one proxy.
pub const MAX_CONNECTIONS: usize = 1024;
/// UDP flows (client addresses) of one proxy.
pub const MAX_FLOWS: usize = 1024;
/// A UDP flow with no datagram either way for this long ends (Docker's figure).
pub const FLOW_IDLE: Duration = Duration::from_secs(90);

/// The bounds of one proxy: [`MAX_CONNECTIONS`], [`MAX_FLOWS`] and [`FLOW_IDLE`] by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// TCP connections served at once; one more is accepted and closed at once.
    pub max_connections: usize,
    /// UDP flows (client address and port) tracked at once; a datagram of a new flow beyond
    /// them is dropped.
    pub max_flows: usize,
    /// How long a UDP flow lives with no datagram either way.
    pub flow_idle: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_connections: MAX_CONNECTIONS, max_flows: MAX_FLOWS, flow_idle: FLOW_IDLE }
    }
}
/// How long a connection to the container may take before the client is let go.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The buffer of each direction of a TCP connection: with tokio's default (8 KiB) the proxy
/// carried half as much (bench/ports: 0.32 of direct instead of 0.68 on a 2-core machine).
const COPY_BUFFER: usize = 32 * 1024;
/// The largest UDP payload.
const DATAGRAM: usize = 65535;
/// A pause after an accept or receive error that is not the peer's (out of descriptors, say),
/// so that a lasting one does not spin a thread.
const ERROR_PAUSE: Duration = Duration::from_millis(50);
/// How long dropping a proxy waits for its task to close its sockets.
const STOP_WAIT: Duration = Duration::from_secs(5);
/// Worker threads of the proxy runtime.
const WORKERS: usize = 2;

/// The runtime of every proxy, and the network namespace its threads are in.
struct ProxyRuntime {
    runtime: tokio::runtime::Runtime,
    netns: Netns,
}

static RUNTIME: Mutex<Option<&'static ProxyRuntime>> = Mutex::new(None);

fn internal(what: &str, e: impl std::fmt::Display) -> DriverError {
    DriverError::internal(format!("userland proxy: {what}: {e}"))
}

/// The calling thread's network namespace.
fn current_netns() -> Result<Netns, DriverError> {
    Netns::current().map_err(|e| internal("read the network namespace", e))
}

/// The proxy runtime, made on first use by the calling thread (its threads inherit its namespace).
fn runtime() -> Result<&'static ProxyRuntime, DriverError> {
    let mut slot = RUNTIME.lock().map_err(|_| internal("runtime", "poisoned by an earlier panic"))?;
    if let Some(rt) = *slot {
        return Ok(rt);
    }
    let netns = current_netns()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name("weft-proxy")
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| internal("start its runtime", e))?;
    // Kept for the life of the process: proxies come and go with containers.
    let rt: &'static ProxyRuntime = Box::leak(Box::new(ProxyRuntime { runtime, netns }));
    *slot = Some(rt);
    Ok(rt)
}

/// A running proxy for one published port. Dropping it stops it.
#[derive(Debug)]
pub struct Proxy {
    /// The protocol it forwards.
    pub proto: Proto,
    /// The host address and port it listens on (the published port).
    pub frontend: SocketAddr,
    /// The container's address and port it forwards to.
    pub backend: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    done: Option<std_mpsc::Receiver<()>>,
}

impl Proxy {
    /// Serve the port held by `socket` (a bound reservation socket of [`super::PortAllocator`];
    /// the proxy uses a duplicate of it), forwarding to `backend`. TCP and UDP only.
    pub fn start(proto: Proto, socket: BorrowedFd<'_>, backend: SocketAddr) -> Result<Proxy, DriverError> {
        Proxy::start_with(proto, socket, backend, Limits::default())
    }

    /// [`Proxy::start`] with other bounds.
    pub fn start_with(
        proto: Proto,
        socket: BorrowedFd<'_>,
        backend: SocketAddr,
        limits: Limits,
    ) -> Result<Proxy, DriverError> {
        if proto == Proto::Sctp {
            return Err(DriverError::invalid("the userland proxy does not serve SCTP ports"));
        }
        let rt = runtime()?;
        let same = current_netns()?.is_same_as(&rt.netns).map_err(|e| internal("read the network namespace", e))?;
        if !same {
            return Err(internal(
                "start",
                "it serves the network namespace it was first started in, and this is another one",
            ));
        }
        let fd = socket.try_clone_to_owned().map_err(|e| internal("duplicate the port's socket", e))?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let (done_tx, done_rx) = std_mpsc::sync_channel(1);
        // Sockets are registered with the runtime's reactor: inside its context.
        let _context = rt.runtime.enter();
        let frontend = match proto {
            Proto::Tcp => {
                // The allocator made it listen (PortAllocator::for_userland_proxy).
                match nix::sys::socket::getsockopt(&fd, nix::sys::socket::sockopt::AcceptConn) {
                    Ok(true) => {}
                    Ok(false) => {
                        return Err(internal(
                            "start",
                            "the port's socket is not listening (see PortAllocator::for_userland_proxy)",
                        ))
                    }
                    Err(e) => return Err(internal("read the port's socket", e)),
                }
                let std = std::net::TcpListener::from(fd);
                std.set_nonblocking(true).map_err(|e| internal("set the port's socket non-blocking", e))?;
                let listener = TcpListener::from_std(std).map_err(|e| internal("register the port's socket", e))?;
                let frontend = listener.local_addr().map_err(|e| internal("read the port's address", e))?;
                rt.runtime.spawn(async move {
                    serve_tcp(listener, backend, limits.max_connections, stop_rx).await;
                    let _ = done_tx.send(());
                });
                frontend
            }
            _ => {
                let std = std::net::UdpSocket::from(fd);
                std.set_nonblocking(true).map_err(|e| internal("set the port's socket non-blocking", e))?;
                let listener = UdpSocket::from_std(std).map_err(|e| internal("register the port's socket", e))?;
                let frontend = listener.local_addr().map_err(|e| internal("read the port's address", e))?;
                rt.runtime.spawn(async move {
                    serve_udp(Arc::new(listener), backend, limits, stop_rx).await;
                    let _ = done_tx.send(());
                });
                frontend
            }
        };
        tracing::debug!("userland proxy {frontend}/{proto} -> {backend} started");
        Ok(Proxy { proto, frontend, backend, stop: Some(stop_tx), done: Some(done_rx) })
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        drop(self.stop.take());
        // The task ends on the runtime's threads: wait for it, so that its sockets (the
        // listener's duplicate and every accepted connection, which all hold the host port) are
        // closed when this returns. A closed channel means the task is gone as well.
        if let Some(done) = self.done.take() {
            if let Err(std_mpsc::RecvTimeoutError::Timeout) = done.recv_timeout(STOP_WAIT) {
                tracing::warn!(
                    "userland proxy {}/{} did not stop within {STOP_WAIT:?}; its port may stay held for a while",
                    self.frontend,
                    self.proto
                );
            }
        }
        tracing::debug!("userland proxy {}/{} -> {} stopped", self.frontend, self.proto, self.backend);
    }
}

/// Accept connections until told to stop; then close the listener and every connection.
async fn serve_tcp(listener: TcpListener, backend: SocketAddr, max: usize, mut stop: oneshot::Receiver<()>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) if connections.len() >= max => {
                    tracing::debug!("userland proxy to {backend}: {max} connections already, {peer} closed");
                    drop(client);
                }
                Ok((client, peer)) => {
                    connections.spawn(forward_tcp(client, peer, backend));
                }
                Err(e) => {
                    tracing::debug!("userland proxy to {backend}: accept: {e}");
                    if !is_peers(&e) {
                        tokio::time::sleep(ERROR_PAUSE).await;
                    }
                }
            }
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// An accept error that is about one connection only.
fn is_peers(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset)
}

/// One client connection: connect to the container and copy both ways until both sides closed.
async fn forward_tcp(mut client: TcpStream, peer: SocketAddr, backend: SocketAddr) {
    let mut server = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(backend)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!("userland proxy {peer} -> {backend}: connect: {e}");
            return;
        }
        Err(_) => {
            tracing::debug!("userland proxy {peer} -> {backend}: connect: no answer in {CONNECT_TIMEOUT:?}");
            return;
        }
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    match tokio::io::copy_bidirectional_with_sizes(&mut client, &mut server, COPY_BUFFER, COPY_BUFFER).await {
        Ok((up, down)) => tracing::debug!("userland proxy {peer} -> {backend}: closed ({up} bytes up, {down} down)"),
        Err(e) => tracing::debug!("userland proxy {peer} -> {backend}: {e}"),
    }
}

/// One client address of a UDP port.
struct Flow {
    socket: Arc<UdpSocket>,
    /// When it last carried a datagram, in milliseconds since the proxy's start.
    last: Arc<AtomicU64>,
    id: u64,
}

fn millis_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Forward datagrams until told to stop; then end every flow and close the sockets.
async fn serve_udp(listener: Arc<UdpSocket>, backend: SocketAddr, limits: Limits, mut stop: oneshot::Receiver<()>) {
    let epoch = Instant::now();
    let mut flows: HashMap<SocketAddr, Flow> = HashMap::new();
    let mut tasks = JoinSet::new();
    // Flows that ended (idle or failed) say so here, with their id: a newer flow of the same
    // client stays.
    let (ended_tx, mut ended_rx) = mpsc::unbounded_channel::<(SocketAddr, u64)>();
    let mut buf = vec![0u8; DATAGRAM];
    let mut next_id = 0u64;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            Some((client, id)) = ended_rx.recv() => {
                if flows.get(&client).is_some_and(|f| f.id == id) {
                    flows.remove(&client);
                }
            }
            received = listener.recv_from(&mut buf) => {
                let (n, client) = match received {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::debug!("userland proxy to {backend}/udp: receive: {e}");
                        tokio::time::sleep(ERROR_PAUSE).await;
                        continue;
                    }
                };
                if !flows.contains_key(&client) {
                    if flows.len() >= limits.max_flows {
                        let max = limits.max_flows;
                        tracing::debug!("userland proxy to {backend}/udp: {max} flows already, datagram of {client} dropped");
                        continue;
                    }
                    let socket = match open_flow(backend).await {
                        Ok(s) => Arc::new(s),
                        Err(e) => {
                            tracing::debug!("userland proxy {client} -> {backend}/udp: {e}");
                            continue;
                        }
                    };
                    next_id += 1;
                    let flow = Flow { socket, last: Arc::new(AtomicU64::new(millis_since(epoch))), id: next_id };
                    let replies = Replies {
                        socket: flow.socket.clone(),
                        listener: listener.clone(),
                        client,
                        last: flow.last.clone(),
                        epoch,
                        idle: limits.flow_idle,
                    };
                    let ended = ended_tx.clone();
                    let id = flow.id;
                    tasks.spawn(async move {
                        replies.run().await;
                        let _ = ended.send((client, id));
                    });
                    flows.insert(client, flow);
                }
                if let Some(flow) = flows.get(&client) {
                    flow.last.store(millis_since(epoch), Ordering::Relaxed);
                    // A UDP send waits only for room in the socket's buffer (tokio's try_send
                    // would refuse a socket the reactor has not yet seen writable).
                    if let Err(e) = flow.socket.send(&buf[..n]).await {
                        tracing::debug!("userland proxy {client} -> {backend}/udp: send: {e}");
                    }
                }
            }
        }
    }
    drop(flows);
    tasks.shutdown().await;
}

/// A socket connected to the container, on an ephemeral port of its family.
async fn open_flow(backend: SocketAddr) -> io::Result<UdpSocket> {
    let any: SocketAddr = if backend.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
    let socket = UdpSocket::bind(any).await?;
    socket.connect(backend).await?;
    Ok(socket)
}

/// The container's answers of one flow, sent back to its client from the port's socket.
struct Replies {
    socket: Arc<UdpSocket>,
    listener: Arc<UdpSocket>,
    client: SocketAddr,
    last: Arc<AtomicU64>,
    epoch: Instant,
    idle: Duration,
}

impl Replies {
    /// Until the flow is idle for [`FLOW_IDLE`] or its socket fails (an ICMP error for a port
    /// the container does not serve ends it: the client's next datagram opens a new flow).
    async fn run(self) {
        let mut buf = vec![0u8; DATAGRAM];
        loop {
            let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
            let deadline = self.epoch + last + self.idle;
            tokio::select! {
                _ = tokio::time::sleep_until(deadline.into()) => {
                    // The client may have sent since the deadline was taken.
                    if Duration::from_millis(millis_since(self.epoch)).saturating_sub(
                        Duration::from_millis(self.last.load(Ordering::Relaxed))) >= self.idle {
                        tracing::debug!("userland proxy {}/udp: flow idle, ended", self.client);
                        return;
                    }
                }
                received = self.socket.recv(&mut buf) => match received {
                    Ok(n) => {
                        self.last.store(millis_since(self.epoch), Ordering::Relaxed);
                        if let Err(e) = self.listener.send_to(&buf[..n], self.client).await {
                            tracing::debug!("userland proxy {}/udp: answer: {e}", self.client);
                        }
                    }
                    Err(e) => {
                        tracing::debug!("userland proxy {}/udp: from the container: {e}", self.client);
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{IpAddr, Ipv4Addr, Shutdown};

    use super::*;
    use crate::portmap::{HeldPort, PortAllocator};

    const LO: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const WAIT: Duration = Duration::from_secs(5);

    /// A host port on 127.0.0.1 held as the bridge driver holds one.
    fn hold(proto: Proto) -> (PortAllocator, HeldPort) {
        let mut ports = PortAllocator::for_userland_proxy();
        let held = ports.allocate("test", proto, &[LO], 0, 0).expect("a free port on 127.0.0.1");
        (ports, held)
    }

    fn start(proto: Proto, held: &HeldPort, backend: SocketAddr) -> Proxy {
        let socket = held.socket(LO).expect("the reservation socket");
        Proxy::start(proto, socket, backend).expect("proxy")
    }

    /// A connection to `listener` within [`WAIT`], or none: a test's server never hangs (Linux's
    /// accept honours the receive timeout).
    fn accept_within(listener: &std::net::TcpListener) -> Option<std::net::TcpStream> {
        use nix::sys::socket::{setsockopt, sockopt::ReceiveTimeout};
        use nix::sys::time::{TimeVal, TimeValLike};
        setsockopt(listener, ReceiveTimeout, &TimeVal::seconds(WAIT.as_secs() as i64)).ok()?;
        listener.accept().ok().map(|(c, _)| c)
    }

    /// A TCP server on 127.0.0.1 that serves `n` connections: says `hi`, reads to the end,
    /// answers what it read in upper case, and closes.
    fn upper_server(n: usize) -> (SocketAddr, std::thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind((LO, 0)).expect("listen");
        let addr = listener.local_addr().expect("address");
        let thread = std::thread::spawn(move || {
            for _ in 0..n {
                let Some(mut c) = accept_within(&listener) else { return };
                let _ = c.set_read_timeout(Some(WAIT));
                let _ = c.write_all(b"hi");
                let mut got = Vec::new();
                if c.read_to_end(&mut got).is_ok() {
                    let _ = c.write_all(&got.to_ascii_uppercase());
                }
            }
        });
        (addr, thread)
    }

    /// Send `text`, close the sending half, and read the answer to its end.
    fn ask(port: u16, text: &str) -> io::Result<String> {
        let mut c = std::net::TcpStream::connect((LO, port))?;
        c.set_read_timeout(Some(WAIT))?;
        c.write_all(text.as_bytes())?;
        c.shutdown(Shutdown::Write)?;
        let mut answer = String::new();
        c.read_to_string(&mut answer)?;
        Ok(answer)
    }

    #[test]
    fn tcp_through_the_proxy_with_half_close() {
        let (server, thread) = upper_server(2);
        let (mut ports, held) = hold(Proto::Tcp);
        let proxy = start(Proto::Tcp, &held, server);
        assert_eq!(proxy.frontend, SocketAddr::new(LO, held.port));
        // The server answers only after the client's half-close came through.
        assert_eq!(ask(held.port, "hello").expect("through the proxy"), "hiHELLO");
        let big = "x".repeat(1 << 20);
        assert_eq!(ask(held.port, &big).expect("a megabyte").len(), big.len() + 2);
        thread.join().expect("server");
        drop(proxy);
        ports.release("test", vec![held]);
    }

    #[test]
    fn udp_round_trip_answers_from_the_published_port() {
        let server = std::net::UdpSocket::bind((LO, 0)).expect("bind");
        server.set_read_timeout(Some(WAIT)).expect("timeout");
        let backend = server.local_addr().expect("address");
        let (mut ports, held) = hold(Proto::Udp);
        let proxy = start(Proto::Udp, &held, backend);
        let client = std::net::UdpSocket::bind((LO, 0)).expect("bind");
        client.set_read_timeout(Some(WAIT)).expect("timeout");
        let mut buf = [0u8; 64];
        for round in 0..3u8 {
            client.send_to(&[b'a' + round], (LO, held.port)).expect("send");
            let (n, via) = server.recv_from(&mut buf).expect("the datagram reached the container");
            assert_eq!(&buf[..n], &[b'a' + round]);
            server.send_to(b"pong", via).expect("answer");
            let (n, from) = client.recv_from(&mut buf).expect("the answer came back");
            assert_eq!((&buf[..n], from), (&b"pong"[..], SocketAddr::new(LO, held.port)));
        }
        drop(proxy);
        ports.release("test", vec![held]);
    }

    #[test]
    fn tcp_connections_beyond_the_bound_are_closed() {
        let (server, thread) = upper_server(2);
        let (mut ports, held) = hold(Proto::Tcp);
        let limits = Limits { max_connections: 1, ..Limits::default() };
        let socket = held.socket(LO).expect("the reservation socket");
        let proxy = Proxy::start_with(Proto::Tcp, socket, server, limits).expect("proxy");
        // The one connection allowed, kept open (the server waits for its end).
        let mut first = std::net::TcpStream::connect((LO, held.port)).expect("connect");
        first.set_read_timeout(Some(WAIT)).expect("timeout");
        let mut hi = [0u8; 2];
        first.read_exact(&mut hi).expect("the server's greeting through the proxy");
        // A second one is accepted and closed at once: an end of file, or a reset when the
        // proxy closed it with the client's bytes unread (seen at the write, the half-close or
        // the read, by how soon it came). Not a timeout: it was not served.
        match ask(held.port, "two") {
            Ok(answer) => assert_eq!(answer, ""),
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe | io::ErrorKind::NotConnected
                ),
                "the second connection: {e}"
            ),
        }
        first.write_all(b"one").expect("write");
        first.shutdown(Shutdown::Write).expect("half-close");
        let mut rest = String::new();
        first.read_to_string(&mut rest).expect("answer");
        assert_eq!(rest, "ONE");
        // Once the first is over, the next one gets through (the proxy learns it in a moment).
        let deadline = Instant::now() + WAIT;
        let mut answer = String::new();
        while answer.is_empty() && Instant::now() < deadline {
            answer = ask(held.port, "three").unwrap_or_default();
            if answer.is_empty() {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        assert_eq!(answer, "hiTHREE");
        thread.join().expect("server");
        drop(proxy);
        ports.release("test", vec![held]);
    }

    #[test]
    fn udp_flows_are_bounded_and_end_when_idle() {
        let server = std::net::UdpSocket::bind((LO, 0)).expect("bind");
        let backend = server.local_addr().expect("address");
        let (mut ports, held) = hold(Proto::Udp);
        let limits = Limits { max_flows: 1, flow_idle: Duration::from_millis(800), ..Limits::default() };
        let socket = held.socket(LO).expect("the reservation socket");
        let proxy = Proxy::start_with(Proto::Udp, socket, backend, limits).expect("proxy");
        let (a, b) = (std::net::UdpSocket::bind((LO, 0)).expect("a"), std::net::UdpSocket::bind((LO, 0)).expect("b"));
        let mut buf = [0u8; 16];
        server.set_read_timeout(Some(WAIT)).expect("timeout");
        a.send_to(b"a", (LO, held.port)).expect("send");
        let (n, _) = server.recv_from(&mut buf).expect("a's datagram opens the one flow");
        assert_eq!(&buf[..n], b"a");
        // While a's flow lives, b's datagram has no flow to go through.
        server.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
        b.send_to(b"b", (LO, held.port)).expect("send");
        assert!(server.recv_from(&mut buf).is_err(), "b's datagram went through a full proxy");
        // Once a's flow has been idle long enough it ends, and b gets a flow.
        let deadline = Instant::now() + WAIT;
        let mut through = false;
        while !through && Instant::now() < deadline {
            b.send_to(b"b", (LO, held.port)).expect("send");
            through = server.recv_from(&mut buf).is_ok_and(|(n, _)| &buf[..n] == b"b");
        }
        assert!(through, "b never got a flow after a's went idle");
        drop(proxy);
        ports.release("test", vec![held]);
    }

    #[test]
    fn the_port_is_free_when_the_proxy_is_dropped() {
        let (server, thread) = upper_server(1);
        let (mut ports, held) = hold(Proto::Tcp);
        let port = held.port;
        let proxy = start(Proto::Tcp, &held, server);
        // A connection still open holds the port as well (accepted sockets share it).
        let mut open = std::net::TcpStream::connect((LO, port)).expect("connect");
        open.set_read_timeout(Some(WAIT)).expect("timeout");
        let mut hi = [0u8; 2];
        open.read_exact(&mut hi).expect("the server's greeting through the proxy");
        drop(proxy);
        ports.release("test", vec![held]);
        // The proxy closed the client's connection...
        let mut rest = Vec::new();
        assert!(matches!(open.read_to_end(&mut rest), Ok(0) | Err(_)));
        drop(open);
        // ...and the port is free at once (its closed connections may be in TIME_WAIT): for a
        // host process, and for weft to publish it again.
        drop(std::net::TcpListener::bind((LO, port)).expect("the TCP port is free at once"));
        let again = ports.allocate("test", Proto::Tcp, &[LO], port, 0).expect("the port can be published again");
        ports.release("test", vec![again]);
        thread.join().expect("server");

        let (mut ports, held) = hold(Proto::Udp);
        let port = held.port;
        let proxy = start(Proto::Udp, &held, server);
        drop(proxy);
        ports.release("test", vec![held]);
        std::net::UdpSocket::bind((LO, port)).expect("the UDP port is free at once");
    }

    #[test]
    fn a_dead_backend_closes_the_client_and_the_proxy_goes_on() {
        // A port nobody listens on: the listener is closed before the proxy uses it.
        let dead = std::net::TcpListener::bind((LO, 0)).and_then(|l| l.local_addr()).expect("a port");
        let (mut ports, held) = hold(Proto::Tcp);
        let proxy = start(Proto::Tcp, &held, dead);
        for _ in 0..3 {
            match ask(held.port, "anyone?") {
                Ok(answer) => assert_eq!(answer, "", "nothing comes from a dead backend"),
                // Closed, not left hanging (a read timeout would be WouldBlock or TimedOut).
                Err(e) => assert!(
                    matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::NotConnected | io::ErrorKind::BrokenPipe
                    ),
                    "{e}"
                ),
            }
        }
        drop(proxy);
        ports.release("test", vec![held]);
    }

    #[test]
    fn a_socket_that_does_not_listen_is_refused() {
        let mut ports = PortAllocator::new();
        let held = ports.allocate("test", Proto::Tcp, &[LO], 0, 0).expect("a free port");
        let err = Proxy::start(Proto::Tcp, held.socket(LO).expect("socket"), "127.0.0.1:80".parse().unwrap());
        assert!(err.unwrap_err().message.contains("not listening"));
        ports.release("test", vec![held]);
    }

    #[test]
    fn sctp_is_not_proxied() {
        let fd = std::net::UdpSocket::bind((LO, 0)).expect("bind");
        let err = Proxy::start(Proto::Sctp, std::os::fd::AsFd::as_fd(&fd), "127.0.0.1:80".parse().unwrap());
        assert!(err.unwrap_err().message.contains("SCTP"));
    }
}
