//! The request path's cost per query: a local A answer, a local AAAA answer of an alias with
//! three containers, a PTR, a query to forward, and a malformed packet, through hickory's path
//! alone (`respond`) and through the listener's (`respond_into`: the fast path first, into a
//! reused buffer); next to a trivial responder that copies the query's id into a fixed answer,
//! measured in the same run.

// A measuring (or testing) harness: a setup that fails may panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::str::FromStr;

use criterion::{criterion_group, criterion_main, Criterion};
use dns::answer::{respond, respond_into, Transport};
use dns::Records;
use hickory_proto::op::{Message, MessageType, Query};
use hickory_proto::rr::{Name, RecordType};
use libnet::SandboxId;

/// 200 containers c0 to c199 on `app`; c0, c1 and c2 with the alias `pool`.
fn table() -> Records {
    dns::fixtures::app_table((0..200).map(|i| format!("c{i}")))
}

fn query(name: &str, t: RecordType) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(1).set_message_type(MessageType::Query).set_recursion_desired(true);
    m.add_query(Query::query(Name::from_str(name).unwrap(), t));
    m.to_vec().unwrap()
}

fn bench(c: &mut Criterion) {
    let r = table();
    let sb = SandboxId::from_string("s7");
    let cases = [
        ("local A", query("c42.", RecordType::A)),
        ("local AAAA alias x3", query("pool.", RecordType::AAAA)),
        ("local PTR", query("44.0.0.10.in-addr.arpa.", RecordType::PTR)),
        ("to forward", query("example.test.", RecordType::A)),
        ("malformed", vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, b'a']),
    ];
    let mut g = c.benchmark_group("request");
    for (name, q) in &cases {
        let mut n = 0usize;
        g.bench_function(*name, |b| {
            b.iter(|| {
                n = n.wrapping_add(1);
                let s = r.snapshot();
                black_box(respond(black_box(q), &s, &sb, Transport::Udp, n))
            })
        });
    }
    for (name, q) in &cases {
        let mut n = 0usize;
        let mut out = Vec::with_capacity(512);
        g.bench_function(format!("{name} (listener path)"), |b| {
            b.iter(|| {
                n = n.wrapping_add(1);
                let s = r.snapshot();
                let view = s.view(&sb);
                black_box(respond_into(black_box(q), &s, &view, &sb, Transport::Udp, n, &mut out));
            })
        });
    }
    let fixed = {
        let mut m = Message::from_vec(&cases[0].1).unwrap();
        m.set_message_type(MessageType::Response);
        m.to_vec().unwrap()
    };
    g.bench_function("trivial fixed answer", |b| {
        b.iter(|| {
            let q = black_box(&cases[0].1);
            let mut out = fixed.clone();
            out[0..2].copy_from_slice(&q[0..2]);
            black_box(out)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
