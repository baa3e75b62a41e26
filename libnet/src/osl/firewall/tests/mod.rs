//! Tests of the firewall mechanism against the real kernel (root, and `nft` to read back what was
//! made), with a small ruleset of their own: each works in a network namespace of its own,
//! removed by a guard even when the test fails. (The bridge driver's tests cover its ruleset and
//! the traffic through it.)

use std::net::Ipv4Addr;

use serde_json::{json, Value};

use super::*;
use crate::osl::nft::{Datum, Element, Family};
use crate::osl::testing::TestNetns;

/// The test table's name (family `inet`).
const TABLE: &str = "weft-test";

/// A table like a driver's: replaced as a whole, an ifname set, an interval set and a pair of
/// maps keyed on `inet_proto . inet_service`.
fn ruleset() -> nftables::schema::Nftables<'static> {
    let table = json!({"table": {"family": "inet", "name": TABLE}});
    let set = |name: &str, kind: &str| json!({"add": {"set": {"family": "inet", "table": TABLE, "name": name, "type": kind}}});
    let map = |name: &str, to: &str| {
        let key = json!(["inet_proto", "inet_service"]);
        json!({"add": {"map": {"family": "inet", "table": TABLE, "name": name, "type": key, "map": to}}})
    };
    let mut subnets = set("subnets4", "ipv4_addr");
    subnets["add"]["set"]["flags"] = json!(["interval"]);
    let items = json!([
        {"add": table},
        {"delete": table},
        {"add": table},
        set("bridges", "ifname"),
        subnets,
        map("ports4_any_addr", "ipv4_addr"),
        map("ports4_any_port", "inet_service"),
    ]);
    serde_json::from_value(json!({ "nftables": items })).expect("a ruleset nftables can read")
}

/// A firewall for the test table in `ns`, its ruleset loaded.
fn loaded_firewall(ns: &TestNetns) -> Firewall {
    let table = Table::new(Family::Inet, TABLE);
    let mut firewall = ns.run(|| Firewall::new(table)).unwrap_or_else(|e| panic!("{e}"));
    ok(firewall.load(&ruleset()));
    firewall
}

/// The elements of every set and map of the test table that has some, each list sorted.
fn elements(ns: &TestNetns) -> Vec<(String, Value)> {
    ns.elements("inet", TABLE)
}

fn ok<T>(result: Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

fn named(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
    pairs.iter().map(|(name, value)| (name.to_string(), value.clone())).collect()
}

/// The elements of a TCP port `port` forwarded to `to:to_port` in the two maps.
fn port(port: u16, to: [u8; 4], to_port: u16) -> SetElements {
    let key = [Datum::Proto(6), Datum::Port(port)];
    let mut elements = SetElements::new();
    elements.push("ports4_any_addr", Element::new(&key).to(&[Datum::Ipv4(Ipv4Addr::from(to))]));
    elements.push("ports4_any_port", Element::new(&key).to(&[Datum::Port(to_port)]));
    elements
}

/// The keys of TCP port `port` in the two maps: what removes it, whatever it maps to.
fn port_key(port: u16) -> SetElements {
    let key = [Datum::Proto(6), Datum::Port(port)];
    let mut elements = SetElements::new();
    elements.push("ports4_any_addr", Element::new(&key));
    elements.push("ports4_any_port", Element::new(&key));
    elements
}

/// A bridge and its subnet (`a.b.0.0/16`, as an interval).
fn network(bridge: &str, a: u8, b: u8) -> SetElements {
    let mut elements = SetElements::new();
    elements.push("bridges", Element::new(&[Datum::Ifname(bridge.into())]));
    elements.push("subnets4", Element::new(&[Datum::Ipv4(Ipv4Addr::new(a, b, 0, 0))]));
    elements.push("subnets4", Element::new(&[Datum::Ipv4(Ipv4Addr::new(a, b + 1, 0, 0))]).interval_end());
    elements
}

/// The listing of `port(port, to, to_port)`.
fn listed_port(port: u16, to: &str, to_port: u16) -> [(String, Value); 2] {
    let key = json!({"concat": ["tcp", port]});
    [("ports4_any_addr".into(), json!([[key.clone(), to]])), ("ports4_any_port".into(), json!([[key, to_port]]))]
}

#[test]
fn elements_come_and_go_and_a_load_drops_them_all() {
    let ns = TestNetns::new("elements");
    let mut firewall = loaded_firewall(&ns);
    assert_eq!(elements(&ns), vec![], "the ruleset has no elements");
    let net = network("wbr-m1", 10, 51);
    ok(firewall.add(&net));
    ok(firewall.add(&port(8080, [10, 51, 0, 2], 80)));
    ok(firewall.add(&port(8080, [10, 51, 0, 2], 80))); // again, the same: fine
    let mut all =
        named(&[("bridges", json!(["wbr-m1"])), ("subnets4", json!([{"prefix": {"addr": "10.51.0.0", "len": 16}}]))]);
    all.extend(listed_port(8080, "10.51.0.2", 80));
    assert_eq!(elements(&ns), all);
    ok(firewall.remove(&net));
    assert_eq!(elements(&ns), listed_port(8080, "10.51.0.2", 80).to_vec());
    ok(firewall.remove(&net)); // already gone: fine
    ok(firewall.remove(&port_key(8080)));
    assert_eq!(elements(&ns), vec![]);

    ok(firewall.add(&port(8081, [10, 51, 0, 2], 80)));
    assert_eq!(elements(&ns).len(), 2);
    ok(firewall.load_json(&ok(load::to_json(&ruleset()))));
    assert_eq!(elements(&ns), vec![]);
    // The socket opened before the reload works on the new table.
    ok(firewall.add(&port(8082, [10, 51, 0, 2], 80)));
    assert_eq!(elements(&ns), listed_port(8082, "10.51.0.2", 80).to_vec());
}

#[test]
fn a_batch_with_a_clashing_map_element_adds_nothing() {
    let ns = TestNetns::new("clash");
    let mut firewall = loaded_firewall(&ns);
    ok(firewall.add(&port(8080, [10, 52, 0, 2], 80)));
    let mut batch = port(53, [10, 52, 0, 3], 53);
    let elsewhere = port(8080, [10, 52, 0, 3], 81);
    for set in ["ports4_any_addr", "ports4_any_port"] {
        batch.push(set, elsewhere.of(set)[0].clone());
    }
    let err = firewall.add(&batch).expect_err("a key mapped elsewhere");
    assert!(is_element_clash(&err), "{err}");
    assert_eq!(elements(&ns), listed_port(8080, "10.52.0.2", 80).to_vec());
}

#[test]
fn a_flushed_ruleset_has_nothing_to_remove_and_a_refused_removal_is_an_error() {
    let ns = TestNetns::new("flushed");
    let mut firewall = loaded_firewall(&ns);
    ok(firewall.add(&port(8080, [10, 48, 0, 2], 80)));
    let web = port_key(8080);
    ns.nft(&["flush", "ruleset"]);
    ok(firewall.remove(&web));
    // Another program's table of the same name, whose maps have other keys: the kernel refuses
    // the removal, and so does the firewall.
    ns.nft(&[&format!(
        "add table inet {TABLE}; add map inet {TABLE} ports4_any_addr {{ type ipv4_addr : ipv4_addr; }}; \
         add map inet {TABLE} ports4_any_port {{ type ipv4_addr : inet_service; }}"
    )]);
    let err = firewall.remove(&web).expect_err("keys of another type");
    assert_eq!(err.errno, Some(libc::EINVAL), "{err}");
    assert!(err.to_string().contains("ports4_any"), "{err}");
}

#[test]
fn ip_forward_is_turned_on_and_reported_once() {
    let ns = TestNetns::new("forward");
    let changed = ns.run(|| enable_ip_forward(true)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(changed, ["net.ipv4.ip_forward 0 -> 1", "net.ipv6.conf.all.forwarding 0 -> 1"]);
    assert_eq!(ns.sysctl("net/ipv4/ip_forward"), "1");
    let again = ns.run(|| enable_ip_forward(true)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, Vec::<String>::new());
}

/// Kernels before 6.3 have no element destroy: removal deletes, and when some element is
/// already gone (the kernel then refuses the whole batch), deletes one by one. Driven here on
/// this kernel directly; the VM runs the whole path on an old one.
#[test]
fn without_destroy_elements_are_deleted_and_missing_ones_tolerated() {
    let ns = TestNetns::new("nodestroy");
    let mut firewall = loaded_firewall(&ns);
    ok(firewall.add(&port(8080, [10, 47, 0, 2], 80)));
    ok(firewall.add(&port(5353, [10, 47, 0, 2], 53)));
    let net = network("wbr-nd1", 10, 47);
    ok(firewall.add(&net));
    assert!(!elements(&ns).is_empty());
    firewall.destroy = Some(false);
    let (web, mut web_and_dns) = (port_key(8080), port_key(5353));
    for set in ["ports4_any_addr", "ports4_any_port"] {
        web_and_dns.push(set, web.of(set)[0].clone());
    }
    // One deletion batch.
    ok(firewall.remove(&web));
    // `web` is gone already: the batch is refused, then each element goes on its own.
    ok(firewall.remove(&web_and_dns));
    ok(firewall.remove(&net));
    assert_eq!(elements(&ns), vec![]);
}
