//! One sandbox's resolver: a UDP socket and a TCP listener bound to 127.0.0.11 inside the
//! sandbox's namespace, served by one task on the daemon's tokio runtime.
//!
//! UDP is served by our own loop over hickory-proto's message types rather than hickory-server's
//! `ServerFuture`: that one spawns a task, allocates a request and a response handle and goes
//! through the `RequestHandler` machinery for every packet (the hickory-dns server spends about
//! twice the CPU per query of a trivial responder, by the figures), while this loop reads
//! every ready datagram in turn, answers local names in place, and only spawns work for queries
//! it forwards. Forwarded queries and TCP connections are tasks in `JoinSet`s the loop owns.
//!
//! Stopping: [`Listener::stop`] aborts the loop and waits until every task of it has dropped, so
//! that no socket of ours keeps the namespace (and its interfaces) alive after it returns.

use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use libnet::osl::Netns;
use libnet::SandboxId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::JoinSet;

use crate::answer::{self, Action, Transport};
use crate::forward::{ForwardFailure, Forwarder, Upstreams};
use crate::records::Records;
use crate::udp_batch;
use crate::DnsError;

/// The resolver's address in every sandbox.
pub const RESOLVER_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);
/// Datagrams answered in one go before the loop lets other tasks run.
const UDP_BATCH: usize = 64;
/// Forwarded UDP queries of one sandbox in flight; more get SERVFAIL (one sandbox's flood cannot
/// take every permit of the shared forwarder).
const MAX_FORWARDS_PER_SANDBOX: usize = 64;
/// TCP connections of one sandbox; more are closed at once.
const MAX_TCP_CONNECTIONS: usize = 32;
/// An idle TCP connection is closed after this long.
const TCP_IDLE: Duration = Duration::from_secs(10);
/// How long [`Listener::stop`] waits for the tasks to drop their sockets.
const STOP_WAIT: Duration = Duration::from_secs(2);

/// The ports the resolver listens on in its sandbox (on 127.0.0.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub udp: u16,
    pub tcp: u16,
}

/// What every task of one sandbox's resolver shares.
struct Context {
    sandbox: SandboxId,
    records: Arc<Records>,
    forwarder: Arc<Forwarder>,
    upstreams: Upstreams,
}

/// A running resolver. Dropping it aborts its tasks without waiting; [`Listener::stop`] waits.
pub struct Listener {
    ports: Ports,
    task: tokio::task::AbortHandle,
    /// Disconnected once every task has dropped (each holds a sender).
    gone: mpsc::Receiver<()>,
}

impl Listener {
    /// Bind the sockets in `ns` and serve them on `runtime`.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        ns: &Netns,
        sandbox: SandboxId,
        records: Arc<Records>,
        forwarder: Arc<Forwarder>,
        upstreams: Upstreams,
    ) -> Result<Listener, DnsError> {
        let (udp, tcp) = ns.run(bind_in_namespace)??;
        let ports = Ports { udp: local_port(&udp)?, tcp: tcp.local_addr().map_err(DnsError::bind)?.port() };
        let (alive, gone) = mpsc::channel();
        let ctx = Arc::new(Context { sandbox, records, forwarder, upstreams });
        // Registering with the reactor needs the runtime's context.
        let _enter = runtime.enter();
        let udp = UdpSocket::from_std(udp).map_err(DnsError::bind)?;
        let tcp = TcpListener::from_std(tcp).map_err(DnsError::bind)?;
        let task = runtime.spawn(serve(ctx, udp, tcp, alive)).abort_handle();
        Ok(Listener { ports, task, gone })
    }

    pub fn ports(&self) -> Ports {
        self.ports
    }

    /// Stop serving and wait (bounded) until every socket of this resolver is closed. Blocking:
    /// call it from a blocking thread, never from an async task.
    /// Whether its sockets are closed: `false` if its tasks did not end in time (they may still
    /// hold the namespace).
    pub fn stop(self) -> bool {
        self.task.abort();
        match self.gone.recv_timeout(STOP_WAIT) {
            Err(mpsc::RecvTimeoutError::Disconnected) => true,
            _ => {
                tracing::warn!("the DNS resolver's tasks did not end within {STOP_WAIT:?}");
                false
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn local_port(udp: &std::net::UdpSocket) -> Result<u16, DnsError> {
    Ok(udp.local_addr().map_err(DnsError::bind)?.port())
}

/// Runs inside the sandbox's namespace: UDP on a random port, TCP on the same port if it is free
/// (one port to redirect and to look for), else on another.
fn bind_in_namespace() -> Result<(std::net::UdpSocket, std::net::TcpListener), DnsError> {
    let udp = std::net::UdpSocket::bind((RESOLVER_ADDR, 0)).map_err(DnsError::bind)?;
    let port = local_port(&udp)?;
    let tcp = std::net::TcpListener::bind((RESOLVER_ADDR, port))
        .or_else(|_| std::net::TcpListener::bind((RESOLVER_ADDR, 0)))
        .map_err(DnsError::bind)?;
    udp.set_nonblocking(true).map_err(DnsError::bind)?;
    tcp.set_nonblocking(true).map_err(DnsError::bind)?;
    Ok((udp, tcp))
}

async fn serve(ctx: Arc<Context>, udp: UdpSocket, tcp: TcpListener, alive: mpsc::Sender<()>) {
    let mut forwards: JoinSet<Option<(SocketAddr, Vec<u8>)>> = JoinSet::new();
    let mut conns: JoinSet<()> = JoinSet::new();
    let mut rotation = 0usize;
    loop {
        tokio::select! {
            ready = udp.readable() => {
                if ready.is_err() {
                    break;
                }
                // The batch's buffers are the worker thread's, not the sandbox's: a resolver
                // per container would otherwise hold ~150 KB of them, which weftd's every
                // fork of a container init then has to map (see udp_batch::with_batch).
                udp_batch::with_batch(|batch| {
                    for _ in 0..UDP_BATCH / udp_batch::BATCH {
                        // Through try_io, so a drained socket (WouldBlock) clears the runtime's
                        // readiness and the loop waits for more.
                        let fd = udp.as_raw_fd();
                        let got = match udp.try_io(tokio::io::Interest::READABLE, || batch.receive(fd)) {
                            Ok(n) => n,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                            // An ICMP error of an earlier send, reported on this socket: go on.
                            Err(_) => continue,
                        };
                        let snapshot = ctx.records.snapshot();
                        let view = snapshot.view(&ctx.sandbox);
                        for i in 0..got {
                            let (query, peer, out) = batch.slot(i);
                            let Some(peer) = peer else { continue };
                            rotation = rotation.wrapping_add(1);
                            match answer::respond_into(query, &snapshot, &view, &ctx.sandbox, Transport::Udp, rotation, out) {
                                Action::Replied => batch.reply(i, peer),
                                Action::Drop => {}
                                Action::Forward(fq) if forwards.len() >= MAX_FORWARDS_PER_SANDBOX => {
                                    *out = answer::servfail(&fq.request);
                                    batch.reply(i, peer);
                                }
                                Action::Forward(fq) => {
                                    let (ctx, query, alive) = (ctx.clone(), query.to_vec(), alive.clone());
                                    forwards.spawn(async move {
                                        let _alive = alive;
                                        Some((peer, forwarded(&ctx, &fq, &query).await))
                                    });
                                }
                            }
                        }
                        batch.send(fd);
                    }
                });
            }
            Some(done) = forwards.join_next(), if !forwards.is_empty() => {
                if let Ok(Some((peer, bytes))) = done {
                    send(&udp, &bytes, peer);
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = tcp.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                if conns.len() >= MAX_TCP_CONNECTIONS {
                    continue;
                }
                let (ctx, alive) = (ctx.clone(), alive.clone());
                conns.spawn(async move {
                    let _alive = alive;
                    serve_tcp(&ctx, stream).await;
                });
            }
        }
    }
}

/// A UDP answer; one the socket cannot take now is dropped, as a full network would drop it.
fn send(udp: &UdpSocket, bytes: &[u8], peer: SocketAddr) {
    let _ = udp.try_send_to(bytes, peer);
}

/// The answer to a forwarded query, sized for the client.
async fn forwarded(ctx: &Context, fq: &answer::ForwardQuery, query: &[u8]) -> Vec<u8> {
    if !fq.host_allowed && matches!(ctx.upstreams.origin, crate::forward::Origin::Host) {
        return answer::refused(&fq.request);
    }
    match ctx.forwarder.forward(&ctx.upstreams, query, fq.transport == Transport::Tcp).await {
        Ok(a) => answer::fit_upstream_answer(&a, fq.max_size).unwrap_or(a),
        Err(ForwardFailure::Busy) | Err(ForwardFailure::NoAnswer) => answer::servfail(&fq.request),
    }
}

/// One TCP connection: length-prefixed queries answered in turn until the client closes or idles.
async fn serve_tcp(ctx: &Context, mut stream: TcpStream) {
    let mut rotation = 0usize;
    // Buffers reused from query to query: the query, its answer, and the answer after its length.
    let (mut query, mut out, mut framed) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let len = match tokio::time::timeout(TCP_IDLE, stream.read_u16()).await {
            Ok(Ok(len)) => usize::from(len),
            _ => return,
        };
        query.resize(len, 0);
        if !matches!(tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut query)).await, Ok(Ok(_))) {
            return;
        }
        rotation = rotation.wrapping_add(1);
        let action = {
            let snapshot = ctx.records.snapshot();
            let view = snapshot.view(&ctx.sandbox);
            answer::respond_into(&query, &snapshot, &view, &ctx.sandbox, Transport::Tcp, rotation, &mut out)
        };
        match action {
            Action::Replied => {}
            Action::Drop => return,
            Action::Forward(fq) => out = forwarded(ctx, &fq, &query).await,
        }
        let Ok(len) = u16::try_from(out.len()) else { return };
        framed.clear();
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(&out);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}
