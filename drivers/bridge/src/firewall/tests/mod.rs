//! Tests of the bridge's firewall against the real kernel (root, and `nft` to read back what was
//! made): each works in network namespaces of its own, removed by guards even when the test fails,
//! and sends traffic only between those namespaces.

mod listing;
mod traffic;

use libnet::osl::testing::TestNetns;
use serde_json::{json, Value};

use super::*;

/// A firewall in `ns`, loaded.
pub(super) fn loaded_firewall(ns: &TestNetns) -> BridgeFirewall {
    let mut firewall = ns.run(BridgeFirewall::new).unwrap_or_else(|e| panic!("{e}"));
    firewall.load().unwrap_or_else(|e| panic!("{e}"));
    firewall
}

/// A bridge in `ns`, up, with `addresses`: its index.
pub(super) fn add_bridge(ns: &TestNetns, name: &str, addresses: &[&str]) -> u32 {
    let mut nl = ns.netlink();
    let index = nl.create_bridge(name, None).unwrap_or_else(|e| panic!("{e}"));
    for address in addresses {
        nl.add_address(index, address.parse().expect("an address in the test")).unwrap_or_else(|e| panic!("{e}"));
    }
    nl.set_up(index).unwrap_or_else(|e| panic!("{e}"));
    index
}

/// The elements of every set and map of table inet weft that has some, each list sorted.
fn elements(ns: &TestNetns) -> Vec<(String, Value)> {
    ns.elements("inet", "weft")
}

pub(super) fn network(bridge: &str, subnets: &[&str], internal: bool, icc: bool) -> NetworkRules {
    NetworkRules {
        bridge: bridge.into(),
        subnets: subnets.iter().map(|s| s.parse().expect("a subnet in the test")).collect(),
        internal,
        icc,
        masquerade: true,
    }
}

pub(super) fn port(proto: Proto, host: Option<&str>, host_port: u16, to: &str, to_port: u16) -> PortRule {
    PortRule {
        proto,
        host_ip: host.map(|ip| ip.parse().expect("an address in the test")),
        host_port,
        container_ip: to.parse().expect("an address in the test"),
        container_port: to_port,
    }
}

fn named(pairs: &[(&str, Value)]) -> Vec<(String, Value)> {
    pairs.iter().map(|(name, value)| (name.to_string(), value.clone())).collect()
}

/// The two elements (address map, port map) of a published port whose key is `key`.
fn published(maps: &str, key: Value, addr: &str, port: u16) -> [(String, Value); 2] {
    [(format!("{maps}_addr"), json!([[key.clone(), addr]])), (format!("{maps}_port"), json!([[key, port]]))]
}

fn sorted(mut pairs: Vec<(String, Value)>) -> Vec<(String, Value)> {
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
}

fn ok<T>(result: Result<T>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn load_makes_the_table_with_its_sets_and_maps_empty() {
    let ns = TestNetns::new("load");
    let _firewall = loaded_firewall(&ns);
    let mut names: Vec<String> = ns.sets("inet", "weft").into_iter().map(|(name, _)| name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "bridges",
            "icc",
            "internal",
            "masq4",
            "masq6",
            "ports4_addr",
            "ports4_any_addr",
            "ports4_any_port",
            "ports4_port",
            "ports6_addr",
            "ports6_any_addr",
            "ports6_any_port",
            "ports6_port",
            "subnets4",
            "subnets6"
        ]
    );
    assert_eq!(elements(&ns), vec![], "nothing per network or port yet");
    let text = ns.nft(&["list", "table", "inet", "weft"]);
    for chain in ["published", "prerouting", "output", "postrouting", "forward"] {
        assert!(text.contains(&format!("chain {chain} {{")), "chain {chain} in:\n{text}");
    }
}

#[test]
fn a_network_adds_and_removes_exactly_its_elements() {
    let ns = TestNetns::new("network");
    add_bridge(&ns, "wbr-n1", &[]);
    add_bridge(&ns, "wbr-n2", &[]);
    let mut firewall = loaded_firewall(&ns);
    let plain = network("wbr-n1", &["10.41.0.0/16", "fd41::/64"], false, true);
    let internal = network("wbr-n2", &["10.42.0.0/16"], true, false);
    ok(firewall.add_network(&plain));
    ok(firewall.add_network(&plain)); // again: no error, no duplicate
    ok(firewall.add_network(&internal));
    assert_eq!(
        elements(&ns),
        named(&[
            ("bridges", json!(["wbr-n1", "wbr-n2"])),
            ("internal", json!(["wbr-n2"])),
            ("icc", json!([{"concat": ["wbr-n1", "wbr-n1"]}])),
            (
                "subnets4",
                json!([{"prefix": {"addr": "10.41.0.0", "len": 16}}, {"prefix": {"addr": "10.42.0.0", "len": 16}}])
            ),
            ("subnets6", json!([{"prefix": {"addr": "fd41::", "len": 64}}])),
            ("masq4", json!([{"prefix": {"addr": "10.41.0.0", "len": 16}}])),
            ("masq6", json!([{"prefix": {"addr": "fd41::", "len": 64}}])),
        ])
    );
    assert_eq!(ns.sysctl("net/ipv4/conf/wbr-n1/route_localnet"), "1");
    assert_eq!(ns.sysctl("net/bridge/bridge-nf-call-iptables"), "1", "icc=false needs br_netfilter on");

    ok(firewall.remove_network(&plain));
    let left = [
        ("bridges", json!(["wbr-n2"])),
        ("internal", json!(["wbr-n2"])),
        ("subnets4", json!([{"prefix": {"addr": "10.42.0.0", "len": 16}}])),
    ];
    assert_eq!(elements(&ns), named(&left));
    ok(firewall.remove_network(&plain)); // already gone: fine
    ok(firewall.remove_network(&internal));
    assert_eq!(elements(&ns), vec![]);
}

#[test]
fn adjacent_subnets_come_and_go_independently() {
    let ns = TestNetns::new("adjacent");
    add_bridge(&ns, "wbr-a1", &[]);
    add_bridge(&ns, "wbr-a2", &[]);
    let mut firewall = loaded_firewall(&ns);
    let first = network("wbr-a1", &["10.43.0.0/24"], false, true);
    let second = network("wbr-a2", &["10.43.1.0/24"], false, true);
    ok(firewall.add_network(&first));
    ok(firewall.add_network(&second));
    ok(firewall.remove_network(&first));
    let masq4 = elements(&ns).into_iter().find(|(name, _)| name == "masq4").map(|(_, e)| e);
    assert_eq!(masq4, Some(json!([{"prefix": {"addr": "10.43.1.0", "len": 24}}])));
}

#[test]
fn a_network_needs_its_bridge() {
    let ns = TestNetns::new("nobridge");
    let mut firewall = loaded_firewall(&ns);
    let err = firewall.add_network(&network("wbr-missing", &["10.44.0.0/16"], false, true)).expect_err("no bridge");
    assert!(err.to_string().contains("there is no interface wbr-missing"), "{err}");
    assert_eq!(elements(&ns), vec![]);
}

#[test]
fn ports_add_and_remove_exactly_their_elements() {
    let ns = TestNetns::new("ports");
    let mut firewall = loaded_firewall(&ns);
    let web = port(Proto::Tcp, None, 8080, "10.45.0.2", 80);
    let dns = port(Proto::Udp, Some("127.0.0.1"), 5353, "10.45.0.2", 53);
    let web6 = port(Proto::Tcp, None, 8080, "fd45::2", 80);
    let sctp6 = port(Proto::Sctp, Some("fd00::1"), 9000, "fd45::2", 9);
    ok(firewall.add_ports(&[web.clone(), dns.clone(), web6.clone(), sctp6.clone()]));
    ok(firewall.add_ports(std::slice::from_ref(&web))); // the same again: fine
    let dns_elements = published("ports4", json!({"concat": ["udp", "127.0.0.1", 5353]}), "10.45.0.2", 53);
    let web6_elements = published("ports6_any", json!({"concat": ["tcp", 8080]}), "fd45::2", 80);
    let mut all = vec![];
    all.extend(dns_elements.clone());
    all.extend(published("ports4_any", json!({"concat": ["tcp", 8080]}), "10.45.0.2", 80));
    all.extend(published("ports6", json!({"concat": ["sctp", "fd00::1", 9000]}), "fd45::2", 9));
    all.extend(web6_elements.clone());
    assert_eq!(sorted(elements(&ns)), sorted(all));
    ok(firewall.remove_ports(&[web.clone(), sctp6.clone()]));
    let mut left = vec![];
    left.extend(dns_elements);
    left.extend(web6_elements);
    assert_eq!(sorted(elements(&ns)), sorted(left));
    ok(firewall.remove_ports(&[web, dns, web6, sctp6])); // some already gone: fine
    assert_eq!(elements(&ns), vec![]);
}

#[test]
fn load_again_drops_every_element() {
    let ns = TestNetns::new("reload");
    add_bridge(&ns, "wbr-r1", &[]);
    let mut firewall = loaded_firewall(&ns);
    ok(firewall.add_network(&network("wbr-r1", &["10.46.0.0/16"], false, true)));
    ok(firewall.add_ports(&[port(Proto::Tcp, None, 8080, "10.46.0.2", 80)]));
    assert_eq!(elements(&ns).len(), 6, "bridges, icc, subnets4, masq4 and the two port maps");
    ok(firewall.load());
    assert_eq!(elements(&ns), vec![]);
    // The socket opened before the reload works on the new table.
    ok(firewall.add_ports(&[port(Proto::Tcp, None, 8081, "10.46.0.2", 80)]));
    assert_eq!(elements(&ns).len(), 2);
}

#[test]
fn a_bad_batch_of_ports_installs_nothing() {
    let ns = TestNetns::new("badports");
    let mut firewall = loaded_firewall(&ns);
    let good = port(Proto::Tcp, None, 8080, "10.47.0.2", 80);

    // Refused before anything is sent.
    let err = firewall.add_ports(&[good.clone(), port(Proto::Tcp, None, 0, "10.47.0.2", 80)]).expect_err("port 0");
    assert!(err.to_string().contains("port 0"), "{err}");
    let mixed = port(Proto::Tcp, Some("127.0.0.1"), 8081, "fd47::2", 80);
    let err = firewall.add_ports(&[good.clone(), mixed]).expect_err("mixed families");
    assert!(err.to_string().contains("different IP families"), "{err}");
    assert_eq!(elements(&ns), vec![]);

    // Refused by the kernel: a host port already published elsewhere; the batch's other port
    // is not installed either.
    ok(firewall.add_ports(std::slice::from_ref(&good)));
    let other = port(Proto::Udp, None, 53, "10.47.0.3", 53);
    let clash = port(Proto::Tcp, None, 8080, "10.47.0.3", 80);
    let err = firewall.add_ports(&[other, clash]).expect_err("a published port to another place");
    assert!(err.to_string().contains("already published elsewhere"), "{err}");
    assert_eq!(elements(&ns), published("ports4_any", json!({"concat": ["tcp", 8080]}), "10.47.0.2", 80).to_vec());
}
