//! The common query answered straight from its bytes, without building hickory messages: one
//! question of class IN, type A or AAAA, for a name of the asking sandbox's networks, with at most
//! an EDNS(0) record without options. The answer is written into the caller's reused buffer, byte
//! for byte what the general path ([`crate::answer::respond`]) writes for the same packet (the
//! tests and the fuzz target compare the two). Anything else (other types, names that are not
//! local, bad packets, answers over the client's limit) is left to the general path.

use std::net::IpAddr;

use crate::answer::{Transport, LOCAL_TTL, MAX_UDP_PAYLOAD};
use crate::records::View;

/// A DNS header's length.
const HEADER_LEN: usize = 12;
/// The longest a name may be on the wire, with its length bytes and the root (RFC 1035 3.1).
const MAX_NAME_LEN: usize = 255;
const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const TYPE_OPT: u16 = 41;
const CLASS_IN: u16 = 1;
/// Networks of one sandbox that a name is looked up on at most here; more take the general path.
const MAX_SETS: usize = 8;

/// Answer `packet` into `out` if it is the common case; whether it was. `out` is cleared first;
/// when this returns `false` its contents mean nothing.
pub fn answer(packet: &[u8], view: &View<'_>, transport: Transport, rotation: usize, out: &mut Vec<u8>) -> bool {
    out.clear();
    let Some(q) = parse(packet) else { return false };
    // The key as the table holds it: lowercase labels joined by dots, no root.
    let mut key = [0u8; MAX_NAME_LEN];
    let mut key_len = 0;
    let mut at = HEADER_LEN;
    while packet[at] != 0 {
        let len = usize::from(packet[at]);
        if key_len > 0 {
            key[key_len] = b'.';
            key_len += 1;
        }
        for (k, b) in key[key_len..key_len + len].iter_mut().zip(&packet[at + 1..at + 1 + len]) {
            *k = b.to_ascii_lowercase();
        }
        key_len += len;
        at += 1 + len;
    }
    let Ok(key) = std::str::from_utf8(&key[..key_len]) else { return false };
    let mut sets: [&[IpAddr]; MAX_SETS] = [&[]; MAX_SETS];
    let mut found = 0;
    for set in view.lookup_sets(key) {
        if found == MAX_SETS {
            return false;
        }
        sets[found] = set;
        found += 1;
    }
    if found == 0 {
        return false;
    }
    let want_v4 = q.qtype == TYPE_A;
    let family = |a: &&IpAddr| a.is_ipv4() == want_v4;
    let addrs = || sets[..found].iter().flat_map(|s| s.iter()).filter(family);
    let n = addrs().count();
    let (rdlen, record_len) = if want_v4 { (4u16, 16) } else { (16u16, 28) };
    let size = q.question_end + n * record_len + if q.edns { 11 } else { 0 };
    let max_size = match transport {
        Transport::Udp => usize::from(q.payload.clamp(512, MAX_UDP_PAYLOAD)),
        Transport::Tcp => usize::from(u16::MAX),
    };
    // Over the limit (or the 16-bit answer count): the general path truncates.
    let Ok(count) = u16::try_from(n) else { return false };
    if size > max_size {
        return false;
    }
    out.reserve(size);
    out.extend_from_slice(&packet[0..2]);
    // QR, AA, RD of the request; RA, CD of the request, NOERROR.
    out.push(0x84 | (packet[2] & 0x01));
    out.push(0x80 | (packet[3] & 0x10));
    out.extend_from_slice(&[0, 1]);
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, u8::from(q.edns)]);
    out.extend_from_slice(&packet[HEADER_LEN..q.question_end]);
    let start = if n == 0 { 0 } else { rotation % n };
    for a in addrs().skip(start).chain(addrs().take(start)) {
        // The question's name by a pointer to it, the type, IN, the TTL, the address.
        out.extend_from_slice(&[0xc0, HEADER_LEN as u8]);
        out.extend_from_slice(&q.qtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&LOCAL_TTL.to_be_bytes());
        out.extend_from_slice(&rdlen.to_be_bytes());
        match a {
            IpAddr::V4(v4) => out.extend_from_slice(&v4.octets()),
            IpAddr::V6(v6) => out.extend_from_slice(&v6.octets()),
        }
    }
    if q.edns {
        // Our OPT record: the root, OPT, our payload size, version 0 and no flags, no options.
        out.push(0);
        out.extend_from_slice(&TYPE_OPT.to_be_bytes());
        out.extend_from_slice(&MAX_UDP_PAYLOAD.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    true
}

/// What the fast path needs of a query it takes.
struct Parsed {
    /// The offset just past the question.
    question_end: usize,
    qtype: u16,
    edns: bool,
    /// The client's EDNS payload size (0 without EDNS).
    payload: u16,
}

/// The query, if it is one the fast path takes: a QUERY with one question and no answer or
/// authority records, the question's name written plainly (no pointer, labels of at most 63
/// bytes, at most 255 bytes in all, not the root), class IN, type A or AAAA, and as its only
/// additional record an EDNS version 0 record without options, or none.
fn parse(packet: &[u8]) -> Option<Parsed> {
    if packet.len() < HEADER_LEN || packet[2] & 0xf8 != 0 {
        return None;
    }
    let count = |at: usize| u16::from_be_bytes([packet[at], packet[at + 1]]);
    let additional = count(10);
    if count(4) != 1 || count(6) != 0 || count(8) != 0 || additional > 1 {
        return None;
    }
    let at = crate::wire::name_end(packet, HEADER_LEN)?;
    if at == HEADER_LEN + 1 {
        return None;
    }
    let field = |at: usize| Some(u16::from_be_bytes([*packet.get(at)?, *packet.get(at + 1)?]));
    let (qtype, qclass) = (field(at)?, field(at + 2)?);
    if qclass != CLASS_IN || (qtype != TYPE_A && qtype != TYPE_AAAA) {
        return None;
    }
    let question_end = at + 4;
    let mut parsed = Parsed { question_end, qtype, edns: false, payload: 0 };
    if additional == 1 {
        // Root name, OPT, payload size, extended rcode, version, flags, no data.
        let opt = packet.get(question_end..question_end + 11)?;
        if opt[0] != 0 || field(question_end + 1)? != TYPE_OPT || opt[6] != 0 || opt[9..11] != [0, 0] {
            return None;
        }
        parsed.edns = true;
        parsed.payload = field(question_end + 3)?;
    }
    Some(parsed)
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
