//! The fast path against the general one: the same bytes for every query it takes, and it
//! leaves alone what it must.

use std::str::FromStr;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use libnet::SandboxId;

use super::answer;
use crate::answer::{respond, Outcome, Transport};
use crate::records::Records;
use crate::test_support::ep;

/// db (v4 and v6, on two networks), web, a `pool` alias of three, `many` with 40 addresses.
fn table() -> Records {
    let r = Records::new();
    r.upsert(ep("e-db", "s-db", "app", "db", &["database", "pool"], &["10.0.0.2", "fd00::2"]));
    r.upsert(ep("e-db-b", "s-db", "back", "db", &[], &["10.9.0.2"]));
    r.upsert(ep("e-web", "s-web", "app", "web", &["pool"], &["10.0.0.3"]));
    r.upsert(ep("e-web-b", "s-web", "back", "web", &[], &["10.9.0.3"]));
    r.upsert(ep("e-db2", "s-db2", "app", "db2", &["pool"], &["10.0.0.4", "fd00::4"]));
    for i in 0..40 {
        r.upsert(ep(
            &format!("e-m{i}"),
            &format!("s-m{i}"),
            "app",
            &format!("m{i}"),
            &["many"],
            &[&format!("10.0.1.{i}")],
        ));
    }
    r
}

fn query(name: &str, rtype: RecordType, edns: Option<u16>, flags: impl Fn(&mut Message)) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(0xbeef).set_message_type(MessageType::Query).set_op_code(OpCode::Query).set_recursion_desired(true);
    m.add_query(Query::query(Name::from_str(name).unwrap(), rtype));
    if let Some(payload) = edns {
        let mut e = Edns::new();
        e.set_max_payload(payload);
        m.set_edns(e);
    }
    flags(&mut m);
    m.to_vec().unwrap()
}

/// The fast answer, if it took the packet, after checking it is the general path's, byte for byte.
fn both(r: &Records, packet: &[u8], transport: Transport, rotation: usize) -> Option<Vec<u8>> {
    let sb = SandboxId::from_string("s-web");
    let snapshot = r.snapshot();
    let view = snapshot.view(&sb);
    let mut out = Vec::new();
    if !answer(packet, &view, transport, rotation, &mut out) {
        return None;
    }
    match respond(packet, &snapshot, &sb, transport, rotation) {
        Outcome::Reply(general) => assert_eq!(out, general, "packet {packet:02x?}"),
        other => panic!("the fast path answered what the general path does not: {other:?}"),
    }
    Some(out)
}

#[test]
fn the_fast_answer_is_the_general_answer_byte_for_byte() {
    let r = table();
    let mut taken = 0;
    for name in ["db.", "DB.", "dAtAbAsE.", "db.app.", "db.back.", "pool.", "web.", "aaaaaaae-web.", "db2.app."] {
        for rtype in [RecordType::A, RecordType::AAAA] {
            for edns in [None, Some(0), Some(511), Some(512), Some(1232), Some(4096), Some(65535)] {
                for cd in [false, true] {
                    let packet = query(name, rtype, edns, |m| {
                        m.set_checking_disabled(cd);
                    });
                    for rotation in 0..4 {
                        for transport in [Transport::Udp, Transport::Tcp] {
                            taken += usize::from(both(&r, &packet, transport, rotation).is_some());
                        }
                    }
                }
            }
        }
    }
    // Every one of those is a local name of class IN, A or AAAA.
    assert_eq!(taken, 9 * 2 * 7 * 2 * 4 * 2);
    // RD off.
    let packet = query("db.", RecordType::A, None, |m| {
        m.set_recursion_desired(false);
    });
    assert!(both(&r, &packet, Transport::Udp, 0).is_some());
}

#[test]
fn what_the_fast_path_leaves_to_the_general_one() {
    let r = table();
    let left = |packet: Vec<u8>, why: &str| assert!(both(&r, &packet, Transport::Udp, 0).is_none(), "{why}");
    left(query("example.test.", RecordType::A, None, |_| {}), "not a local name");
    left(query("db.", RecordType::PTR, None, |_| {}), "PTR");
    left(query("db.", RecordType::MX, None, |_| {}), "another type");
    left(query("2.0.0.10.in-addr.arpa.", RecordType::PTR, None, |_| {}), "PTR");
    left(
        query("db.", RecordType::A, None, |m| {
            m.queries_mut()[0].set_query_class(DNSClass::CH);
        }),
        "CHAOS",
    );
    left(query("many.", RecordType::A, None, |_| {}), "40 answers are over 512 bytes");
    left(
        query("db.", RecordType::A, None, |m| {
            m.set_op_code(OpCode::Notify);
        }),
        "another opcode",
    );
    left(
        query("db.", RecordType::A, None, |m| {
            m.add_query(Query::query(Name::from_str("web.").unwrap(), RecordType::A));
        }),
        "two questions",
    );
    left(
        query("db.", RecordType::A, Some(4096), |m| {
            m.extensions_mut().as_mut().unwrap().set_version(1);
        }),
        "EDNS version 1",
    );
    left(
        query("db.", RecordType::A, Some(4096), |m| {
            m.extensions_mut()
                .as_mut()
                .unwrap()
                .options_mut()
                .insert(hickory_proto::rr::rdata::opt::EdnsOption::Unknown(10, vec![1; 8]));
        }),
        "an EDNS option",
    );
    let mut response = query("db.", RecordType::A, None, |_| {});
    response[2] |= 0x80;
    left(response, "a response");
    // The same name through a pointer to the header (not a name): the general path's FORMERR.
    let mut pointer = query("db.", RecordType::A, None, |_| {});
    pointer.truncate(12);
    pointer.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
    left(pointer, "a pointer");
    // Cut anywhere.
    let good = query("database.", RecordType::AAAA, Some(1232), |_| {});
    for cut in 0..good.len() {
        left(good[..cut].to_vec(), "cut short");
    }
    // 40 answers fit over TCP and with a large EDNS size.
    assert!(both(&r, &query("many.", RecordType::A, None, |_| {}), Transport::Tcp, 3).is_some());
    assert!(both(&r, &query("many.", RecordType::A, Some(1232), |_| {}), Transport::Udp, 3).is_some());
}

#[test]
fn trailing_bytes_and_odd_labels_match_the_general_path() {
    let r = table();
    let mut trailing = query("db.", RecordType::A, None, |_| {});
    trailing.extend_from_slice(&[1, 2, 3]);
    assert!(both(&r, &trailing, Transport::Udp, 1).is_some(), "hickory ignores trailing bytes, and so do we");
    // A label with a dot in it, and one with bytes that are not UTF-8.
    for label in [&b"db.app"[..], &[0xff, 0xfe][..]] {
        let mut p = query("db.", RecordType::A, None, |_| {});
        p.truncate(12);
        p.push(label.len() as u8);
        p.extend_from_slice(label);
        p.extend_from_slice(&[0, 0, 1, 0, 1]);
        let _ = both(&r, &p, Transport::Udp, 0);
    }
}
