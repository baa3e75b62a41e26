//! Publishing one port when 10 and when 1000 are published already: the firewall's part (one
//! netlink batch adding the DNAT elements, one removing them) and the allocator's (a host port
//! held by a bound socket). The issue's goal: the 1000th port costs at most 1.5x the 10th. Needs
//! root; works in a namespace of its own.
//!
//! The elements are the bridge driver's for a port published on every IPv4 address (its
//! `ports4_any_*` maps, keyed on `inet_proto . inet_service`), in a table with just those two
//! maps: what the batches cost is the mechanism's, whatever the rules that look the maps up.

// A measuring (or testing) harness: a setup that fails may panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::IpAddr;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use libnet::osl::firewall::{Firewall, SetElements};
use libnet::osl::nft::{Datum, Element, Family, Table};
use libnet::portmap::{PortAllocator, Proto};

/// The table: the two maps of ports published on every IPv4 address.
const RULESET: &str = r#"{"nftables": [
    {"add": {"table": {"family": "inet", "name": "weft"}}},
    {"add": {"map": {"family": "inet", "table": "weft", "name": "ports4_any_addr",
                     "type": ["inet_proto", "inet_service"], "map": "ipv4_addr"}}},
    {"add": {"map": {"family": "inet", "table": "weft", "name": "ports4_any_port",
                     "type": ["inet_proto", "inet_service"], "map": "inet_service"}}}
]}"#;

/// TCP `port` to port 80 of a container address of its own, as the bridge driver publishes it.
fn rule(port: u16) -> SetElements {
    let key = [Datum::Proto(Proto::Tcp.into()), Datum::Port(port)];
    let container = Datum::Ipv4([10, 250, (port >> 8) as u8, port as u8].into());
    let mut elements = SetElements::new();
    elements.push("ports4_any_addr", Element::new(&key).to(&[container]));
    elements.push("ports4_any_port", Element::new(&key).to(&[Datum::Port(80)]));
    elements
}

/// What removes `rule(port)`: its keys.
fn key(port: u16) -> SetElements {
    let key = [Datum::Proto(Proto::Tcp.into()), Datum::Port(port)];
    let mut elements = SetElements::new();
    elements.push("ports4_any_addr", Element::new(&key));
    elements.push("ports4_any_port", Element::new(&key));
    elements
}

fn bench(c: &mut Criterion) {
    common::in_own_netns("ports", |_ns, path| {
        // criterion's state cannot cross to the thread `Netns::run` makes: this (dedicated) process's
        // main thread enters the namespace itself, for the rest of the run.
        let entered = std::fs::File::open(path)
            .map_err(|e| e.to_string())
            .and_then(|f| nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| e.to_string()));
        let ran = entered.map(|()| {
            let mut fw = Firewall::new(Table::new(Family::Inet, "weft")).expect("firewall");
            fw.load_json(RULESET).expect("load the ruleset");
            let mut alloc = PortAllocator::new();
            let any: [IpAddr; 1] = [IpAddr::from([0, 0, 0, 0])];
            let mut group = c.benchmark_group("publish one more port");
            let mut published = 0u16;
            let mut held = Vec::new();
            for n in [10u16, 1000] {
                // n - 1 ports published already, each held and in the map.
                while published < n - 1 {
                    let port = 20000 + published;
                    fw.add(&rule(port)).expect("add");
                    held.push(alloc.allocate("others", Proto::Tcp, &any, port, 0).expect("hold"));
                    published += 1;
                }
                let port = 30000 + n;
                group.bench_with_input(BenchmarkId::new("firewall add + remove", n), &port, |b, &port| {
                    b.iter(|| {
                        fw.add(&rule(port)).expect("add");
                        fw.remove(&key(port)).expect("remove");
                    })
                });
                group.bench_with_input(BenchmarkId::new("allocator hold + release", n), &port, |b, &port| {
                    b.iter(|| {
                        let h = alloc.allocate("me", Proto::Tcp, &any, port, 0).expect("hold");
                        alloc.release("me", vec![h]);
                    })
                });
            }
            group.finish();
            alloc.release("others", held);
        });
        if let Err(e) = ran {
            eprintln!("ports benchmark: {e}");
        }
    });
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = bench
}
criterion_main!(benches);
