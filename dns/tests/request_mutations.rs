//! The fuzz target's checks on stable Rust, in every `cargo test`: a few thousand deterministic
//! pseudo-random mutations of real queries through the request path the listener runs
//! ([`answer::respond_into`]: the fast path, then hickory's). No packet may panic it; every answer
//! must be a well-formed response to the packet (its id, a parseable message, NOERROR with the
//! question asked and answers for it, or FORMERR, NOTIMP or BADVERS), within the client's size
//! limit, and the same bytes the general path alone gives..

// A measuring (or testing) harness: a setup that fails may panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;

use dns::answer::{respond, respond_into, Action, Outcome, Transport};
use dns::Records;
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{DNSClass, Name, RecordType};
use libnet::SandboxId;

/// The fuzz target's table: db, web and cache on `app`, all three with the alias `pool`.
fn table() -> Records {
    dns::fixtures::app_table(["db", "web", "cache"].map(String::from))
}

fn query(name: &str, rtype: RecordType, class: DNSClass, edns: Option<(u16, Option<EdnsOption>)>) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(0x5eed).set_message_type(MessageType::Query).set_op_code(OpCode::Query).set_recursion_desired(true);
    let mut q = Query::query(Name::from_str(name).unwrap(), rtype);
    q.set_query_class(class);
    m.add_query(q);
    if let Some((payload, option)) = edns {
        let mut e = Edns::new();
        e.set_max_payload(payload);
        if let Some(o) = option {
            e.options_mut().insert(o);
        }
        m.set_edns(e);
    }
    m.to_vec().unwrap()
}

/// Real queries: what dig and libc resolvers send for local names, addresses and other names.
fn seeds() -> Vec<Vec<u8>> {
    let cookie = Some((1232, Some(EdnsOption::Unknown(10, vec![0x5a; 8]))));
    vec![
        query("db.", RecordType::A, DNSClass::IN, None),
        query("pool.", RecordType::AAAA, DNSClass::IN, None),
        query("DB.app.", RecordType::A, DNSClass::IN, Some((1232, None))),
        query("pool.", RecordType::A, DNSClass::IN, cookie.clone()),
        query("2.0.0.10.in-addr.arpa.", RecordType::PTR, DNSClass::IN, None),
        query("example.test.", RecordType::A, DNSClass::IN, cookie),
        query("db.", RecordType::MX, DNSClass::IN, Some((4096, None))),
        query("version.bind.", RecordType::TXT, DNSClass::CH, None),
    ]
}

/// xorshift64: a fixed sequence, so that a failure is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One to four edits of the kinds a fuzzer makes: bytes overwritten, flipped, inserted, removed,
/// a count field set, the packet cut or extended, a piece of it repeated.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut p = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(p.len());
        match rng.below(8) {
            0 if !p.is_empty() => p[at] = rng.next() as u8,
            1 if !p.is_empty() => p[at] ^= 1 << rng.below(8),
            2 => p.insert(at, rng.next() as u8),
            3 if !p.is_empty() => {
                p.remove(at);
            }
            4 if p.len() >= 12 => {
                let field = 4 + 2 * rng.below(4);
                let value = [0u16, 1, 2, 0xffff][rng.below(4)];
                p[field..field + 2].copy_from_slice(&value.to_be_bytes());
            }
            5 => p.truncate(at),
            6 => p.extend((0..rng.below(16)).map(|_| rng.next() as u8)),
            _ => {
                let end = (at + rng.below(16)).min(p.len());
                let piece = p[at..end].to_vec();
                let to = rng.below(p.len());
                p.splice(to..to, piece);
            }
        }
    }
    p
}

/// Run one packet through the listener's path and check what comes out; its action.
fn check(r: &Records, packet: &[u8], transport: Transport, rotation: usize) -> &'static str {
    let sandbox = SandboxId::from_string("s0");
    let snapshot = r.snapshot();
    let view = snapshot.view(&sandbox);
    let mut out = Vec::new();
    let action = respond_into(packet, &snapshot, &view, &sandbox, transport, rotation, &mut out);
    let general = respond(packet, &snapshot, &sandbox, transport, rotation);
    match (action, general) {
        (Action::Drop, Outcome::Drop) => {
            assert!(
                packet.len() < 12 || packet[2] & 0x80 != 0,
                "only short packets and responses are dropped: {packet:02x?}"
            );
            "dropped"
        }
        (Action::Forward(_), Outcome::Forward(_)) => "forwarded",
        (Action::Replied, Outcome::Reply(bytes)) => {
            assert_eq!(out, bytes, "the fast and the general path differ on {packet:02x?}");
            check_reply(packet, &out, transport);
            "answered"
        }
        (a, g) => panic!("the two paths disagree on {packet:02x?}: {a:?} / {g:?}"),
    }
}

fn check_reply(packet: &[u8], out: &[u8], transport: Transport) {
    let reply = Message::from_vec(out).unwrap_or_else(|e| panic!("an answer that does not parse ({e}): {out:02x?}"));
    assert_eq!(reply.message_type(), MessageType::Response);
    assert_eq!(reply.id(), u16::from_be_bytes([packet[0], packet[1]]), "the query's id");
    let request = Message::from_vec(packet).ok();
    let limit = match (transport, &request) {
        (Transport::Tcp, _) => 65535,
        (Transport::Udp, Some(req)) => usize::from(req.max_payload().min(4096)),
        (Transport::Udp, None) => 12,
    };
    assert!(out.len() <= limit, "{} bytes over the client's {limit}: {packet:02x?}", out.len());
    let rcode = reply.response_code();
    match rcode {
        ResponseCode::NoError => {
            let request = request.expect("NOERROR only for a packet that parses");
            assert_eq!(reply.queries(), request.queries(), "the question asked");
            let q = &request.queries()[0];
            for a in reply.answers() {
                assert_eq!((a.name(), a.record_type(), a.dns_class()), (q.name(), q.query_type(), DNSClass::IN));
            }
        }
        ResponseCode::FormErr | ResponseCode::NotImp => {
            assert!(reply.answers().is_empty());
        }
        // BADVERS (16), which hickory reads back as BADSIG, the same number.
        other if u16::from(other) == u16::from(ResponseCode::BADVERS) => {}
        other => panic!("an answer with {other:?} to {packet:02x?}"),
    }
}

#[test]
fn mutated_queries_never_panic_and_get_well_formed_answers() {
    let r = table();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut seen = std::collections::BTreeMap::new();
    for seed in seeds() {
        assert_eq!(
            check(&r, &seed, Transport::Udp, 0),
            if seed == seeds()[5] || seed == seeds()[7] { "forwarded" } else { "answered" }
        );
        for _ in 0..1500 {
            let p = mutate(&seed, &mut rng);
            let transport = if rng.below(4) == 0 { Transport::Tcp } else { Transport::Udp };
            *seen.entry(check(&r, &p, transport, rng.next() as usize)).or_insert(0) += 1;
        }
    }
    // The mutations reach every outcome, so the checks above ran on each.
    assert!(seen.len() == 3 && seen.values().all(|&n| n > 100), "{seen:?}");
}
