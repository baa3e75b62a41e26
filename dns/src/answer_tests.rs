//! Tests of the request path: answers, isolation, round robin, sizes, and bad input.

use std::net::IpAddr;
use std::str::FromStr;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RData, RecordType};
use libnet::SandboxId;

use super::*;
use crate::records::Records;
use crate::test_support::ep;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// db (v4 and v6) and web on `app`, other on `back`; sandbox s-web asks.
fn table() -> Records {
    let r = Records::new();
    r.upsert(ep("e-db", "s-db", "app", "db", &["database", "pool"], &["10.0.0.2", "fd00::2"]));
    r.upsert(ep("e-web", "s-web", "app", "web", &["pool"], &["10.0.0.3"]));
    r.upsert(ep("e-db2", "s-db2", "app", "db2", &["pool"], &["10.0.0.4"]));
    r.upsert(ep("e-other", "s-other", "back", "other", &[], &["10.9.0.2"]));
    r
}

fn query_msg(name: &str, rtype: RecordType) -> Message {
    let mut m = Message::new();
    m.set_id(4242).set_message_type(MessageType::Query).set_op_code(OpCode::Query).set_recursion_desired(true);
    m.add_query(Query::query(Name::from_str(name).unwrap(), rtype));
    m
}

fn ask(r: &Records, bytes: &[u8], transport: Transport, rotation: usize) -> Outcome {
    respond(bytes, &r.snapshot(), &SandboxId::from_string("s-web"), transport, rotation)
}

fn reply_of(o: Outcome) -> Message {
    match o {
        Outcome::Reply(b) => Message::from_vec(&b).unwrap(),
        other => panic!("expected a reply, got {other:?}"),
    }
}

fn addrs(m: &Message) -> Vec<IpAddr> {
    m.answers()
        .iter()
        .filter_map(|r| match r.data() {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            RData::AAAA(a) => Some(IpAddr::V6(a.0)),
            _ => None,
        })
        .collect()
}

fn a(r: &Records, name: &str, rtype: RecordType) -> Message {
    reply_of(ask(r, &query_msg(name, rtype).to_vec().unwrap(), Transport::Udp, 0))
}

#[test]
fn local_names_get_a_and_aaaa_with_dockers_ttl() {
    let r = table();
    let m = a(&r, "db.", RecordType::A);
    assert_eq!((m.id(), m.response_code(), m.message_type()), (4242, ResponseCode::NoError, MessageType::Response));
    assert_eq!(addrs(&m), vec![ip("10.0.0.2")]);
    assert_eq!(m.answers()[0].ttl(), LOCAL_TTL);
    assert!(m.recursion_desired() && m.recursion_available());
    assert_eq!(addrs(&a(&r, "db", RecordType::AAAA)), vec![ip("fd00::2")]);
    assert_eq!(addrs(&a(&r, "database.", RecordType::A)), vec![ip("10.0.0.2")]);
    assert_eq!(addrs(&a(&r, "db.app.", RecordType::A)), vec![ip("10.0.0.2")]);
    assert_eq!(addrs(&a(&r, "DaTaBaSe.APP.", RecordType::A)), vec![ip("10.0.0.2")], "names are case-insensitive");
    let short = format!("{:a>12}.", "e-db");
    assert_eq!(addrs(&a(&r, &short, RecordType::A)), vec![ip("10.0.0.2")], "short id");
}

#[test]
fn a_name_without_the_family_or_type_gets_an_empty_noerror() {
    let r = table();
    for (name, t) in [("web.", RecordType::AAAA), ("db.", RecordType::MX), ("db.", RecordType::TXT)] {
        let m = a(&r, name, t);
        assert_eq!(m.response_code(), ResponseCode::NoError, "{name} {t}");
        assert!(m.answers().is_empty(), "{name} {t}: {m:?}");
    }
}

#[test]
fn other_names_and_other_networks_are_forwarded() {
    let r = table();
    for name in ["example.test.", "other.", "other.back.", "db.back.", "."] {
        let o = ask(&r, &query_msg(name, RecordType::A).to_vec().unwrap(), Transport::Udp, 0);
        let Outcome::Forward(fq) = o else { panic!("{name}: expected a forward, got {o:?}") };
        assert!(fq.host_allowed);
        assert_eq!(fq.max_size, 512, "no EDNS: 512 bytes");
    }
}

#[test]
fn ptr_for_container_addresses() {
    let r = table();
    let m = a(&r, "2.0.0.10.in-addr.arpa.", RecordType::PTR);
    let names: Vec<String> = m.answers().iter().filter_map(|r| r.data().as_ptr().map(|p| p.0.to_string())).collect();
    assert_eq!(names, vec!["db.app.".to_string()]);
    let v6 = Name::from(ip("fd00::2")).to_string();
    let m = a(&r, &v6, RecordType::PTR);
    assert_eq!(m.answers().len(), 1, "{m:?}");
    // another network's address, and one no container has: upstream's business.
    for name in ["2.0.9.10.in-addr.arpa.", "9.9.0.10.in-addr.arpa.", "0.10.in-addr.arpa."] {
        assert!(
            matches!(
                ask(&r, &query_msg(name, RecordType::PTR).to_vec().unwrap(), Transport::Udp, 0),
                Outcome::Forward(_)
            ),
            "{name}"
        );
    }
}

#[test]
fn several_containers_of_one_alias_rotate() {
    let r = table();
    let q = query_msg("pool.", RecordType::A).to_vec().unwrap();
    let firsts: Vec<IpAddr> = (0..3).map(|rot| addrs(&reply_of(ask(&r, &q, Transport::Udp, rot)))[0]).collect();
    let mut all = addrs(&reply_of(ask(&r, &q, Transport::Udp, 0)));
    assert_eq!(all.len(), 3);
    all.sort();
    let mut seen = firsts.clone();
    seen.sort();
    assert_eq!(seen, all, "each address comes first in turn: {firsts:?}");
}

#[test]
fn answers_over_the_udp_limit_are_truncated_and_full_over_tcp_or_edns() {
    let r = Records::new();
    let many: Vec<String> = (1..=60).map(|i| format!("fd00::{i:x}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    r.upsert(ep("e-big", "s-big", "app", "big", &[], &many));
    r.upsert(ep("e-web", "s-web", "app", "web", &[], &["10.0.0.3"]));
    let q = query_msg("big.", RecordType::AAAA);
    let m = reply_of(ask(&r, &q.to_vec().unwrap(), Transport::Udp, 0));
    assert!(m.truncated() && m.answers().is_empty(), "{m:?}");
    assert_eq!(m.queries().len(), 1);
    let m = reply_of(ask(&r, &q.to_vec().unwrap(), Transport::Tcp, 0));
    assert!(!m.truncated());
    assert_eq!(m.answers().len(), 60);
    let mut with_edns = q.clone();
    let mut edns = Edns::new();
    edns.set_max_payload(4096);
    with_edns.set_edns(edns);
    let bytes = match ask(&r, &with_edns.to_vec().unwrap(), Transport::Udp, 0) {
        Outcome::Reply(b) => b,
        o => panic!("{o:?}"),
    };
    assert!(bytes.len() > 512 && bytes.len() <= 4096);
    let m = Message::from_vec(&bytes).unwrap();
    assert_eq!((m.answers().len(), m.truncated()), (60, false));
    assert_eq!(m.max_payload(), MAX_UDP_PAYLOAD, "our EDNS is in the answer");
}

#[test]
fn bad_input_gets_formerr_notimp_badvers_or_nothing() {
    let r = table();
    let good = query_msg("db.", RecordType::A).to_vec().unwrap();
    // Too short for a header, and responses: dropped.
    assert!(matches!(ask(&r, &good[..11], Transport::Udp, 0), Outcome::Drop));
    assert!(matches!(ask(&r, &[], Transport::Udp, 0), Outcome::Drop));
    let mut resp = good.clone();
    resp[2] |= 0x80;
    assert!(matches!(ask(&r, &resp, Transport::Udp, 0), Outcome::Drop));
    // Cut inside the question, or with trailing counts that lie: FORMERR with the id.
    for cut in [13, good.len() - 1, good.len() - 3] {
        let m = reply_of(ask(&r, &good[..cut], Transport::Udp, 0));
        assert_eq!((m.id(), m.response_code()), (4242, ResponseCode::FormErr), "cut at {cut}");
    }
    let mut lying = good.clone();
    lying[7] = 5; // five answers that are not there
    assert_eq!(reply_of(ask(&r, &lying, Transport::Udp, 0)).response_code(), ResponseCode::FormErr);
    // No question, or two.
    let mut none = query_msg("db.", RecordType::A);
    none.take_queries();
    assert_eq!(reply_of(ask(&r, &none.to_vec().unwrap(), Transport::Udp, 0)).response_code(), ResponseCode::FormErr);
    let mut two = query_msg("db.", RecordType::A);
    two.add_query(Query::query(Name::from_str("web.").unwrap(), RecordType::A));
    assert_eq!(reply_of(ask(&r, &two.to_vec().unwrap(), Transport::Udp, 0)).response_code(), ResponseCode::FormErr);
    // Other opcodes.
    for op in [OpCode::Status, OpCode::Notify, OpCode::Update] {
        let mut m = query_msg("db.", RecordType::A);
        m.set_op_code(op);
        assert_eq!(reply_of(ask(&r, &m.to_vec().unwrap(), Transport::Udp, 0)).response_code(), ResponseCode::NotImp);
    }
    // EDNS version 1.
    let mut v1 = query_msg("db.", RecordType::A);
    let mut edns = Edns::new();
    edns.set_version(1);
    v1.set_edns(edns);
    // BADVERS is 16, which hickory reads back as BADSIG (the same number, for TSIG).
    let rcode = reply_of(ask(&r, &v1.to_vec().unwrap(), Transport::Udp, 0)).response_code();
    assert_eq!(u16::from(rcode), u16::from(ResponseCode::BADVERS));
    // A name over 255 bytes on the wire.
    let mut huge = good[..12].to_vec();
    for _ in 0..5 {
        huge.push(63);
        huge.extend(std::iter::repeat_n(b'a', 63));
    }
    huge.extend_from_slice(&[0, 0, 1, 0, 1]);
    assert_eq!(reply_of(ask(&r, &huge, Transport::Udp, 0)).response_code(), ResponseCode::FormErr);
    // A compression loop in the question.
    let mut looped = good[..12].to_vec();
    looped.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(reply_of(ask(&r, &looped, Transport::Udp, 0)).response_code(), ResponseCode::FormErr);
}

#[test]
fn unknown_classes_and_types_are_forwarded_not_answered() {
    let r = table();
    let mut chaos = query_msg("db.", RecordType::A);
    chaos.queries_mut()[0].set_query_class(DNSClass::CH);
    assert!(matches!(ask(&r, &chaos.to_vec().unwrap(), Transport::Udp, 0), Outcome::Forward(_)));
    let unknown = query_msg("example.test.", RecordType::Unknown(65280));
    assert!(matches!(ask(&r, &unknown.to_vec().unwrap(), Transport::Udp, 0), Outcome::Forward(_)));
    // A local name with an unknown type: the name exists, nothing of that type.
    let m = reply_of(ask(&r, &query_msg("db.", RecordType::Unknown(65280)).to_vec().unwrap(), Transport::Udp, 0));
    assert_eq!((m.response_code(), m.answers().len()), (ResponseCode::NoError, 0));
}

#[test]
fn mangled_queries_never_panic_and_never_answer_with_a_query() {
    let r = table();
    let good = query_msg("database.app.", RecordType::AAAA).to_vec().unwrap();
    // A fixed pseudo-random sequence (xorshift), so a failure is reproducible.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..20_000 {
        let mut p = good.clone();
        for _ in 0..(next() % 4 + 1) {
            let at = (next() as usize) % p.len();
            p[at] = next() as u8;
        }
        p.truncate((next() as usize) % (good.len() + 1));
        if let Outcome::Reply(bytes) = ask(&r, &p, Transport::Udp, next() as usize) {
            assert!(bytes.len() >= 12 && bytes[2] & 0x80 != 0, "answers are responses: {p:?}");
            assert!(bytes.len() <= 512, "UDP without EDNS stays within 512 bytes");
        }
    }
}

#[test]
fn upstream_answers_are_cut_to_the_client_limit() {
    let mut answer = query_msg("example.test.", RecordType::A);
    answer.set_message_type(MessageType::Response);
    for i in 0..100u8 {
        answer.add_answer(hickory_proto::rr::Record::from_rdata(
            Name::from_str("example.test.").unwrap(),
            60,
            RData::A(hickory_proto::rr::rdata::A::new(10, 0, 0, i)),
        ));
    }
    let bytes = answer.to_vec().unwrap();
    assert!(fit_upstream_answer(&bytes, 65535).is_none());
    let cut = fit_upstream_answer(&bytes, 512).unwrap();
    let m = Message::from_vec(&cut).unwrap();
    assert!(m.truncated() && m.answers().is_empty() && m.queries().len() == 1, "{m:?}");
    assert_eq!(m.id(), 4242);
}
