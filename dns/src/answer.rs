//! The request path: one packet from a container in, an answer, a decision to forward, or nothing
//! out. Pure over a [`Snapshot`], so it is unit-tested and fuzzed without sockets.
//!
//! Local names (class IN) get A, AAAA or PTR answers with TTL 600, as Docker gives; a local name
//! asked for another type, or for a family it has no address of, gets an empty NOERROR and is
//! never forwarded (the name exists; forwarding would leak it and could get a wrong answer). Every
//! other well-formed query is forwarded. Bad input: FORMERR for what does not parse or asks not
//! exactly one question, NOTIMP for opcodes other than QUERY, BADVERS for EDNS versions above 0;
//! responses and packets too short to carry a header are dropped, since answering them could
//! start a loop or an amplification.

use std::net::IpAddr;

use hickory_proto::op::{Edns, Header, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, PTR};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use libnet::SandboxId;

use crate::records::{NameLookup, Snapshot, View};

/// The TTL of local answers, Docker's.
pub const LOCAL_TTL: u32 = 600;
/// The largest UDP answer we send, and the payload size we advertise in EDNS.
pub const MAX_UDP_PAYLOAD: u16 = 4096;
/// A DNS header's length; shorter packets are dropped.
const HEADER_LEN: usize = 12;

/// How the query came in; decides the size limit of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// A query to forward upstream, with what the reply to the client needs.
#[derive(Debug, Clone)]
pub struct ForwardQuery {
    /// The parsed query, to make an error answer when every upstream fails.
    pub request: Message,
    /// The largest answer the client takes over its transport.
    pub max_size: usize,
    pub transport: Transport,
    /// Whether the sandbox may reach the host's servers (not only on internal networks).
    pub host_allowed: bool,
}

/// What to do with one packet.
#[derive(Debug)]
pub enum Outcome {
    Reply(Vec<u8>),
    Forward(Box<ForwardQuery>),
    Drop,
}

/// What [`respond_into`] did with a packet.
#[derive(Debug)]
pub enum Action {
    /// The answer is in the caller's buffer.
    Replied,
    Forward(Box<ForwardQuery>),
    Drop,
}

/// [`respond`], with the answer written into `out`, a buffer the caller reuses from query to
/// query: the common local query is answered straight from its bytes ([`crate::fast`]), at a
/// fraction of the cost of building messages; everything else goes through [`respond`]. `view`
/// is `snapshot`'s view of `sandbox`.
pub fn respond_into(
    packet: &[u8],
    snapshot: &Snapshot,
    view: &View<'_>,
    sandbox: &SandboxId,
    transport: Transport,
    rotation: usize,
    out: &mut Vec<u8>,
) -> Action {
    if crate::fast::answer(packet, view, transport, rotation, out) {
        return Action::Replied;
    }
    match respond(packet, snapshot, sandbox, transport, rotation) {
        Outcome::Reply(bytes) => {
            *out = bytes;
            Action::Replied
        }
        Outcome::Forward(fq) => Action::Forward(fq),
        Outcome::Drop => Action::Drop,
    }
}

/// Answer one packet as `sandbox` sees the names, through hickory's messages (the general path). `rotation` picks the first of several addresses
/// (round robin: the caller passes a counter that moves on with each query).
pub fn respond(
    packet: &[u8],
    snapshot: &Snapshot,
    sandbox: &SandboxId,
    transport: Transport,
    rotation: usize,
) -> Outcome {
    if packet.len() < HEADER_LEN || packet[2] & 0x80 != 0 {
        return Outcome::Drop;
    }
    let request = match Message::from_vec(packet) {
        Ok(m) => m,
        Err(_) => return Outcome::Reply(header_only(packet, ResponseCode::FormErr)),
    };
    let max_size = match transport {
        Transport::Udp => usize::from(request.max_payload().min(MAX_UDP_PAYLOAD)),
        Transport::Tcp => usize::from(u16::MAX),
    };
    if request.op_code() != OpCode::Query {
        return reply(&request, ResponseCode::NotImp, Vec::new(), max_size);
    }
    let [query] = request.queries() else {
        return reply(&request, ResponseCode::FormErr, Vec::new(), max_size);
    };
    if request.extensions().as_ref().is_some_and(|e| e.version() > 0) {
        return reply(&request, ResponseCode::BADVERS, Vec::new(), max_size);
    }
    let local =
        if query.query_class() == DNSClass::IN { local_answer(query, snapshot, sandbox, rotation) } else { None };
    match local {
        Some(answers) => reply(&request, ResponseCode::NoError, answers, max_size),
        None => Outcome::Forward(Box::new(ForwardQuery {
            max_size,
            transport,
            host_allowed: !snapshot.internal_only(sandbox),
            request,
        })),
    }
}

/// The answers for a local name or address; `None` when it is not one.
fn local_answer(query: &Query, snapshot: &Snapshot, sandbox: &SandboxId, rotation: usize) -> Option<Vec<Record>> {
    let qname = query.name();
    if query.query_type() == RecordType::PTR {
        let net = qname.parse_arpa_name().ok()?;
        if net.prefix_len() != net.max_prefix_len() {
            return None;
        }
        let target = snapshot.reverse(sandbox, net.addr())?;
        let target = Name::from_ascii(target).ok()?;
        return Some(vec![Record::from_rdata(qname.clone(), LOCAL_TTL, RData::PTR(PTR(target)))]);
    }
    let key = lookup_key(qname)?;
    let NameLookup::Found(sets) = snapshot.lookup(sandbox, &key) else { return None };
    let want_v4 = match query.query_type() {
        RecordType::A => true,
        RecordType::AAAA => false,
        _ => return Some(Vec::new()),
    };
    let addrs: Vec<IpAddr> = sets.into_iter().flatten().filter(|a| a.is_ipv4() == want_v4).copied().collect();
    let n = addrs.len();
    let rotated = (0..n).map(|i| addrs[(i + rotation) % n]);
    Some(
        rotated
            .map(|a| {
                let rdata = match a {
                    IpAddr::V4(v4) => RData::A(A(v4)),
                    IpAddr::V6(v6) => RData::AAAA(AAAA(v6)),
                };
                Record::from_rdata(qname.clone(), LOCAL_TTL, rdata)
            })
            .collect(),
    )
}

/// A query name as the table keys it: lowercase labels joined by dots, no root. `None` for the
/// root itself and for labels that are not plain text (no table name has them).
fn lookup_key(name: &Name) -> Option<String> {
    let mut key = String::with_capacity(name.len());
    for label in name.iter() {
        let label = std::str::from_utf8(label).ok()?;
        if !key.is_empty() {
            key.push('.');
        }
        key.extend(label.chars().map(|c| c.to_ascii_lowercase()));
    }
    (!key.is_empty()).then_some(key)
}

/// An answer to `request` with `answers`, sized for the client: over its limit, the answers are
/// left out and TC is set so that it asks again over TCP.
fn reply(request: &Message, rcode: ResponseCode, answers: Vec<Record>, max_size: usize) -> Outcome {
    let mut header = Header::response_from_request(request.header());
    header.set_recursion_available(true).set_authoritative(rcode == ResponseCode::NoError);
    let mut msg = Message::new();
    msg.set_header(header).set_response_code(rcode);
    msg.add_queries(request.queries().iter().cloned());
    if request.extensions().as_ref().is_some() {
        let mut edns = Edns::new();
        edns.set_max_payload(MAX_UDP_PAYLOAD).set_version(0);
        msg.set_edns(edns);
    }
    msg.insert_answers(answers);
    match msg.to_vec() {
        Ok(bytes) if bytes.len() <= max_size => Outcome::Reply(bytes),
        Ok(_) => match msg.truncate().to_vec() {
            Ok(bytes) if bytes.len() <= max_size => Outcome::Reply(bytes),
            _ => Outcome::Reply(truncated_header(request.id(), request.op_code())),
        },
        Err(_) => Outcome::Reply(header_only_ids(request.id(), request.op_code(), ResponseCode::ServFail)),
    }
}

/// The SERVFAIL answer when forwarding found no upstream that answered.
pub fn servfail(request: &Message) -> Vec<u8> {
    match reply(request, ResponseCode::ServFail, Vec::new(), usize::from(u16::MAX)) {
        Outcome::Reply(bytes) => bytes,
        _ => header_only_ids(request.id(), request.op_code(), ResponseCode::ServFail),
    }
}

/// The REFUSED answer: forwarding is not allowed for this sandbox (internal networks only).
pub fn refused(request: &Message) -> Vec<u8> {
    match reply(request, ResponseCode::Refused, Vec::new(), usize::from(u16::MAX)) {
        Outcome::Reply(bytes) => bytes,
        _ => header_only_ids(request.id(), request.op_code(), ResponseCode::Refused),
    }
}

/// An upstream's answer cut to the client's limit: header and question only, TC set. `None`
/// when the answer already fits.
pub fn fit_upstream_answer(answer: &[u8], max_size: usize) -> Option<Vec<u8>> {
    if answer.len() <= max_size {
        return None;
    }
    let mut out = match crate::wire::question_end(answer) {
        Some(end) if end <= max_size => answer[..end].to_vec(),
        _ => answer[..HEADER_LEN].to_vec(),
    };
    let questions: u16 = if out.len() > HEADER_LEN { 1 } else { 0 };
    out[2] |= 0x02;
    out[4..6].copy_from_slice(&questions.to_be_bytes());
    out[6..12].fill(0);
    Some(out)
}

/// A bare answer header for a packet that did not parse: its id and opcode, RD copied.
fn header_only(packet: &[u8], rcode: ResponseCode) -> Vec<u8> {
    let mut out = vec![0u8; HEADER_LEN];
    out[0..2].copy_from_slice(&packet[0..2]);
    // QR, the opcode and RD of the request; RA.
    out[2] = 0x80 | (packet[2] & 0x79);
    out[3] = 0x80 | (u16::from(rcode) as u8 & 0x0f);
    out
}

fn header_only_ids(id: u16, op: OpCode, rcode: ResponseCode) -> Vec<u8> {
    let mut head = [0u8; HEADER_LEN];
    head[0..2].copy_from_slice(&id.to_be_bytes());
    head[2] = (u8::from(op) & 0x0f) << 3;
    header_only(&head, rcode)
}

fn truncated_header(id: u16, op: OpCode) -> Vec<u8> {
    let mut out = header_only_ids(id, op, ResponseCode::NoError);
    out[2] |= 0x02;
    out
}

/// Whether a message is a response (for tests and the fuzz target).
pub fn is_response(bytes: &[u8]) -> bool {
    Message::from_vec(bytes).is_ok_and(|m| m.message_type() == MessageType::Response)
}

#[cfg(test)]
#[path = "answer_tests.rs"]
mod tests;
