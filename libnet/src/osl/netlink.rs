//! A synchronous rtnetlink socket bound in one network namespace, with request/ack plumbing.
//!
//! Each operation is one round trip: one request out, then replies read until the kernel's
//! acknowledgement (or `NLMSG_DONE` for a dump). Replies are matched on the sequence number, so a
//! reply left over from an earlier, abandoned exchange can never be taken for the current one.

use std::io;

use netlink_packet_core::{
    ErrorBuffer, NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator, NLMSG_DONE, NLMSG_ERROR,
    NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};
use nix::libc;

use super::{Netns, OslError, Result};

/// The receive buffer. A dump datagram is at most 32 KiB (the kernel caps its dump skbs there) and a
/// single reply of ours is a few KiB (statistics are not asked for), so this is never outgrown in
/// practice; if it is, the buffer grows and the operation reports EMSGSIZE.
const RECV_BUF_LEN: usize = 64 * 1024;

/// How often a dump is started again when the kernel flags it as interrupted by a concurrent change
/// (`NLM_F_DUMP_INTR`); after that the last, possibly inconsistent, answer is used.
const DUMP_ATTEMPTS: usize = 4;

/// `NLMSGERR_ATTR_MSG`: the extended ack's human-readable message.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// Size of `struct nlmsghdr`.
const NLMSG_HDRLEN: usize = 16;

/// A route-netlink socket. It stays in the namespace it was opened in, whatever thread uses it.
pub struct Netlink {
    socket: Socket,
    seq: u32,
    send_buf: Vec<u8>,
    recv_buf: Vec<u8>,
}

impl std::fmt::Debug for Netlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Netlink").field("seq", &self.seq).finish_non_exhaustive()
    }
}

/// The refusal of one request (the kernel's errno, or a socket error), not yet tied to the
/// operation's name: the caller names it with [`Nack::at`], only on the error path.
#[derive(Debug)]
pub(super) struct Nack {
    pub(super) errno: Option<i32>,
    pub(super) detail: String,
}

impl Nack {
    pub(super) fn at(self, op: impl Into<String>) -> OslError {
        OslError::new(op, self.errno, self.detail)
    }

    fn io(what: &str, e: io::Error) -> Nack {
        Nack { errno: e.raw_os_error(), detail: format!("{what}: {e}") }
    }

    /// A refusal made on this side, before asking the kernel (a name too long, mixed families).
    pub(super) fn invalid(detail: impl Into<String>) -> Nack {
        Nack { errno: Some(libc::EINVAL), detail: detail.into() }
    }

    fn kernel(errno: i32, message: Option<String>) -> Nack {
        let text = io::Error::from_raw_os_error(errno).to_string();
        let detail = match message {
            Some(m) => format!("{text}: {m}"),
            None => text,
        };
        Nack { errno: Some(errno), detail }
    }
}

impl Netlink {
    /// A socket in the calling thread's namespace.
    pub fn new() -> Result<Netlink> {
        let op = "open a route netlink socket";
        let mut socket = Socket::new(NETLINK_ROUTE).map_err(|e| OslError::io(op, e))?;
        socket.bind_auto().map_err(|e| OslError::io(op, e))?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(|e| OslError::io(op, e))?;
        // Both are optional comforts: the kernel's own words in error replies, and acks that do not
        // echo the whole request back. Kernels without them work the same, just terser.
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        // Strict checking lets the kernel filter dumps (addresses of one link, routes of one
        // table) instead of sending everything: with 1000 networks that is the difference
        // between a few entries and thousands per call. Callers still filter, for kernels
        // without it.
        let _ = socket.set_netlink_get_strict_chk(true);
        Ok(Netlink { socket, seq: 0, send_buf: Vec::with_capacity(1024), recv_buf: vec![0; RECV_BUF_LEN] })
    }

    /// A socket in the namespace `ns`.
    pub fn in_netns(ns: &Netns) -> Result<Netlink> {
        // A netlink socket belongs to the namespace of the thread that created it, for good; so it
        // is opened on a thread that entered `ns`, and used from anywhere afterwards.
        ns.run(Netlink::new)?
    }

    /// Send `msg` with `NLM_F_REQUEST | NLM_F_ACK | flags` and wait for the acknowledgement.
    /// Replies that come before it (an `NLM_F_ECHO`, the answer to a GET) go to `on_reply` as
    /// (message type, payload).
    pub(super) fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        mut on_reply: impl FnMut(u16, &[u8]),
    ) -> std::result::Result<(), Nack> {
        let seq = self.send(msg, NLM_F_REQUEST | NLM_F_ACK | flags)?;
        self.receive(seq, &mut on_reply).map(|_interrupted| ())
    }

    /// Dump: send `msg` with `NLM_F_DUMP` and collect what `parse` makes of each reply, until
    /// `NLMSG_DONE`. A dump the kernel flags as interrupted is started again.
    pub(super) fn dump<T>(
        &mut self,
        msg: RouteNetlinkMessage,
        mut parse: impl FnMut(u16, &[u8]) -> Option<T>,
    ) -> std::result::Result<Vec<T>, Nack> {
        let mut items = Vec::new();
        for attempt in 1..=DUMP_ATTEMPTS {
            items.clear();
            let seq = self.send(msg.clone(), NLM_F_REQUEST | NLM_F_DUMP)?;
            let interrupted = self.receive(seq, &mut |kind, payload| {
                if let Some(item) = parse(kind, payload) {
                    items.push(item);
                }
            })?;
            if !interrupted {
                break;
            }
            if attempt == DUMP_ATTEMPTS {
                tracing::warn!("netlink dump interrupted {DUMP_ATTEMPTS} times in a row; using the last answer");
            }
        }
        Ok(items)
    }

    fn send(&mut self, msg: RouteNetlinkMessage, flags: u16) -> std::result::Result<u32, Nack> {
        // 0 is the sequence number of unsolicited messages: never use it for a request.
        self.seq = self.seq.wrapping_add(1).max(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        packet.finalize();
        let len = packet.buffer_len();
        self.send_buf.clear();
        self.send_buf.resize(len, 0);
        packet.serialize(&mut self.send_buf);
        loop {
            match self.socket.send(&self.send_buf, 0) {
                Ok(sent) if sent == len => return Ok(self.seq),
                Ok(sent) => {
                    return Err(Nack { errno: None, detail: format!("netlink send: {sent} of {len} bytes sent") })
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Nack::io("netlink send", e)),
            }
        }
    }

    /// Read replies to request `seq` until its ACK, error or `NLMSG_DONE`. Returns whether the
    /// kernel flagged a dump as interrupted. Always reads up to the end of the exchange, even after
    /// a failure, so the next request starts on a clean socket.
    fn receive(&mut self, seq: u32, on_reply: &mut dyn FnMut(u16, &[u8])) -> std::result::Result<bool, Nack> {
        let mut failure: Option<Nack> = None;
        let mut interrupted = false;
        loop {
            let size = match self.socket.recv(&mut &mut self.recv_buf[..], libc::MSG_TRUNC) {
                Ok(size) => size,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Nack::io("netlink receive", e)),
            };
            let filled = size.min(self.recv_buf.len());
            if size > self.recv_buf.len() {
                failure.get_or_insert(Nack {
                    errno: Some(libc::EMSGSIZE),
                    detail: format!(
                        "a netlink reply of {size} bytes did not fit the {}-byte buffer",
                        self.recv_buf.len()
                    ),
                });
            }
            let mut done = false;
            let mut offset = 0;
            while offset < filled {
                let Ok(message) = NetlinkBuffer::new_checked(&self.recv_buf[offset..filled]) else { break };
                let length = message.length() as usize;
                if message.sequence_number() == seq {
                    if message.flags() & NLM_F_DUMP_INTR != 0 {
                        interrupted = true;
                    }
                    match message.message_type() {
                        NLMSG_NOOP => {}
                        NLMSG_ERROR => {
                            done = true;
                            if let Some(nack) = error_of(message.flags(), message.payload()) {
                                failure.get_or_insert(nack);
                            }
                        }
                        NLMSG_DONE => {
                            done = true;
                            let payload = message.payload();
                            if payload.len() >= 4 {
                                let code = i32::from_ne_bytes([payload[0], payload[1], payload[2], payload[3]]);
                                if code < 0 {
                                    failure.get_or_insert(Nack::kernel(-code, None));
                                }
                            }
                        }
                        NLMSG_OVERRUN => {
                            failure.get_or_insert(Nack { errno: None, detail: "netlink overrun".into() });
                        }
                        kind => on_reply(kind, message.payload()),
                    }
                }
                // Messages are 4-byte aligned within a datagram.
                offset += (length + 3) & !3;
            }
            if size > self.recv_buf.len() {
                self.recv_buf.resize(size.next_power_of_two(), 0);
            }
            if done {
                return match failure {
                    Some(nack) => Err(nack),
                    None => Ok(interrupted),
                };
            }
        }
    }
}

/// The failure an `NLMSG_ERROR` carries, or `None` for an ACK (error code 0).
pub(super) fn error_of(flags: u16, payload: &[u8]) -> Option<Nack> {
    let Ok(error) = ErrorBuffer::new_checked(&payload) else {
        return Some(Nack { errno: None, detail: "malformed netlink error message".into() });
    };
    let code = error.code()?.get();
    Some(Nack::kernel(code.abs(), extended_ack_message(flags, payload)))
}

/// The kernel's explanation (`NLMSGERR_ATTR_MSG`) in an error message's extended ack, if any.
fn extended_ack_message(flags: u16, payload: &[u8]) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    // After the errno: the request's header, followed by the request's payload unless capped.
    let request = payload.get(4..)?;
    let skipped = if flags & NLM_F_CAPPED != 0 {
        NLMSG_HDRLEN
    } else {
        let length = u32::from_ne_bytes(request.get(..4)?.try_into().ok()?) as usize;
        (length + 3) & !3
    };
    let tlvs = request.get(skipped..)?;
    NlasIterator::new(tlvs).filter_map(|nla| nla.ok()).find(|nla| nla.kind() == NLMSGERR_ATTR_MSG).map(|nla| {
        let text = nla.value();
        let text = text.split(|b| *b == 0).next().unwrap_or_default();
        String::from_utf8_lossy(text).trim().to_string()
    })
}
