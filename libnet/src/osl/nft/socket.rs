//! A netfilter netlink socket bound in one network namespace, and the commit of a batch on it:
//! one datagram out, then every acknowledgement read and matched to its operation.

use std::io;

use netlink_packet_core::{NetlinkBuffer, NLMSG_ERROR};
use netlink_sys::{protocols::NETLINK_NETFILTER, Socket, SocketAddr};
use nix::libc;

use super::batch::seq_of;
use super::Batch;
use crate::osl::netlink::error_of;
use crate::osl::{Netns, OslError, Result};

/// The receive buffer: one ack is 36 bytes with capped acks, an error with the kernel's message a
/// few hundred; a datagram holds as many as fit.
const RECV_BUF_LEN: usize = 64 * 1024;

/// A netfilter socket for nf_tables batches. It stays in the namespace it was opened in, whatever
/// thread uses it.
pub struct Nftables {
    socket: Socket,
    seq: u32,
    send_buf: Vec<u8>,
    recv_buf: Vec<u8>,
}

impl std::fmt::Debug for Nftables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nftables").field("seq", &self.seq).finish_non_exhaustive()
    }
}

impl Nftables {
    /// A socket in the calling thread's namespace.
    pub fn new() -> Result<Nftables> {
        let op = "open a netfilter netlink socket";
        let mut socket = Socket::new(NETLINK_NETFILTER).map_err(|e| OslError::io(op, e))?;
        socket.bind_auto().map_err(|e| OslError::io(op, e))?;
        socket.connect(&SocketAddr::new(0, 0)).map_err(|e| OslError::io(op, e))?;
        // The kernel's own words in errors, and acks that do not echo the request back: optional.
        let _ = socket.set_ext_ack(true);
        let _ = socket.set_cap_ack(true);
        Ok(Nftables { socket, seq: 0, send_buf: Vec::with_capacity(4096), recv_buf: vec![0; RECV_BUF_LEN] })
    }

    /// A socket in the namespace `ns`.
    pub fn in_netns(ns: &Netns) -> Result<Nftables> {
        // A netlink socket belongs for good to the namespace of the thread that made it.
        ns.run(Nftables::new)?
    }

    /// Apply `batch`: all its operations, or none of them.
    ///
    /// The error names the first operation the kernel refused (`add chain ip t c: No such file or
    /// directory`), with the kernel's explanation when it gives one.
    pub fn commit(&mut self, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        // 0 is the sequence number of unsolicited messages: never use it.
        let first_seq = self.seq.wrapping_add(1).max(1);
        self.seq = seq_of(first_seq, batch.len());
        batch.encode(first_seq, &mut self.send_buf);
        self.send()?;
        self.collect_acks(batch, first_seq)
    }

    fn send(&mut self) -> Result<()> {
        let op = "send an nftables batch";
        let len = self.send_buf.len();
        loop {
            match self.socket.send(&self.send_buf, 0) {
                Ok(sent) if sent == len => return Ok(()),
                Ok(sent) => return Err(OslError::new(op, None, format!("{sent} of {len} bytes sent"))),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(OslError::io(op, e)),
            }
        }
    }

    /// Read every reply to the batch. The kernel processes a netlink message inside `sendmsg`, so
    /// all of them are queued by now: read until the queue is empty, without waiting.
    fn collect_acks(&mut self, batch: &Batch, first_seq: u32) -> Result<()> {
        let mut acked = vec![false; batch.len()];
        // (operation index, or None for the batch as a whole; the refusal)
        let mut failures = Vec::new();
        loop {
            let size = match self.socket.recv(&mut &mut self.recv_buf[..], libc::MSG_DONTWAIT | libc::MSG_TRUNC) {
                Ok(size) => size,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    // ENOBUFS: replies were dropped, so what the kernel did cannot be told.
                    let what = "read the acknowledgements of an nftables batch (its outcome is unknown)";
                    return Err(OslError::io(what, e));
                }
            };
            let filled = size.min(self.recv_buf.len());
            let mut offset = 0;
            while offset < filled {
                let Ok(message) = NetlinkBuffer::new_checked(&self.recv_buf[offset..filled]) else { break };
                offset += (message.length() as usize).next_multiple_of(4);
                if message.message_type() != NLMSG_ERROR {
                    continue;
                }
                let index = (0..batch.len()).find(|&i| seq_of(first_seq, i) == message.sequence_number());
                if let Some(i) = index {
                    acked[i] = true;
                }
                if let Some(nack) = error_of(message.flags(), message.payload()) {
                    failures.push((index, nack));
                }
            }
        }
        // The kernel checks every operation even after one failed, so later ones may fail only
        // because of it (a chain of a table that was refused): the first refusal is the cause.
        failures.sort_by_key(|(index, _)| index.unwrap_or(usize::MAX));
        if let Some((index, nack)) = failures.into_iter().next() {
            let what = match index.and_then(|i| batch.describe(i)) {
                Some(what) => format!("nftables: {what}"),
                None => format!("nftables: commit a batch of {} operation(s)", batch.len()),
            };
            return Err(nack.at(what));
        }
        if let Some(i) = acked.iter().position(|acked| !acked) {
            let what = batch.describe(i).unwrap_or("an operation");
            return Err(OslError::new(
                format!("nftables: {what}"),
                None,
                "the kernel sent no acknowledgement; the batch's outcome is unknown",
            ));
        }
        Ok(())
    }
}
