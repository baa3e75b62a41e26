//! UDP datagrams in batches: one recvmmsg takes every query waiting on the socket (up to
//! [`BATCH`]), one sendmmsg sends their answers, instead of two system calls per query.

use std::io::{IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::RawFd;

use nix::sys::socket::{recvmmsg, sendmmsg, ControlMessage, MsgFlags, MultiHeaders, SockaddrIn, SockaddrStorage};

/// Datagrams taken or sent in one call at most.
pub const BATCH: usize = 32;

/// Buffers for one socket's batches, allocated once: the datagrams taken and an answer buffer
/// for each. (The message headers hold raw pointers, which cannot cross the runtime's threads
/// between batches: they are made per call.)
pub struct UdpBatch {
    bufs: Vec<Vec<u8>>,
    lens: Vec<(usize, Option<SocketAddr>)>,
    answers: Vec<Vec<u8>>,
    /// The slots whose answer buffer is to be sent, and to whom.
    to_send: Vec<(usize, SocketAddr)>,
}

thread_local! {
    /// One batch per thread that serves resolvers (a tokio worker), shared by all of them.
    static THREAD_BATCH: std::cell::RefCell<Option<UdpBatch>> = const { std::cell::RefCell::new(None) };
}

/// Run `f` with this thread's batch (made on first use, sized for `answer::MAX_UDP_PAYLOAD`).
/// `f` must not wait: the batch is lent only for the synchronous receive-answer-send round.
pub fn with_batch<R>(f: impl FnOnce(&mut UdpBatch) -> R) -> R {
    THREAD_BATCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        let batch = slot.get_or_insert_with(|| UdpBatch::new(usize::from(crate::answer::MAX_UDP_PAYLOAD)));
        f(batch)
    })
}

impl UdpBatch {
    pub fn new(max_payload: usize) -> UdpBatch {
        UdpBatch {
            bufs: (0..BATCH).map(|_| vec![0u8; max_payload]).collect(),
            lens: Vec::with_capacity(BATCH),
            answers: (0..BATCH).map(|_| Vec::with_capacity(512)).collect(),
            to_send: Vec::with_capacity(BATCH),
        }
    }

    /// Take the datagrams waiting on `fd` (non-blocking); how many. `Err(WouldBlock)` when none.
    /// Forgets the answers of the last batch.
    pub fn receive(&mut self, fd: RawFd) -> std::io::Result<usize> {
        self.lens.clear();
        self.to_send.clear();
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> = self.bufs.iter_mut().map(|b| [IoSliceMut::new(b)]).collect();
        let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(BATCH, None);
        let got =
            recvmmsg(fd, &mut headers, iovs.iter_mut(), MsgFlags::MSG_DONTWAIT, None).map_err(std::io::Error::from)?;
        for r in got {
            let peer = r.address.and_then(|a| a.as_sockaddr_in().map(|v4| SocketAddr::V4((*v4).into())));
            self.lens.push((r.bytes, peer));
        }
        Ok(self.lens.len())
    }

    /// The `i`-th datagram of the last [`UdpBatch::receive`], who sent it, and the buffer for
    /// its answer.
    pub fn slot(&mut self, i: usize) -> (&[u8], Option<SocketAddr>, &mut Vec<u8>) {
        let (len, peer) = self.lens[i];
        (&self.bufs[i][..len], peer, &mut self.answers[i])
    }

    /// Send the `i`-th answer buffer to `peer` with the next [`UdpBatch::send`].
    pub fn reply(&mut self, i: usize, peer: SocketAddr) {
        self.to_send.push((i, peer));
    }

    /// Send the answers of this batch (IPv4 peers: the resolver listens on 127.0.0.11) in one
    /// call; what the socket cannot take now is dropped, as a full network would drop it.
    pub fn send(&mut self, fd: RawFd) {
        if self.to_send.is_empty() {
            return;
        }
        let mut headers = MultiHeaders::<SockaddrIn>::preallocate(self.to_send.len(), None);
        let slices: Vec<[IoSlice<'_>; 1]> =
            self.to_send.iter().map(|&(i, _)| [IoSlice::new(&self.answers[i])]).collect();
        let addrs: Vec<Option<SockaddrIn>> = self
            .to_send
            .iter()
            .map(|(_, peer)| match peer {
                SocketAddr::V4(v4) => Some(SockaddrIn::from(*v4)),
                SocketAddr::V6(_) => None,
            })
            .collect();
        let none: [ControlMessage<'_>; 0] = [];
        let _ = sendmmsg(fd, &mut headers, slices.iter(), addrs, none, MsgFlags::MSG_DONTWAIT);
    }
}
