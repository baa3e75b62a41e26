//! Tests of nftables over netlink against the real kernel (they need root and the `nft` binary,
//! which reads back what was made): each works in a network namespace of its own, removed by a
//! guard even when the test fails, and sends traffic only over that namespace's loopback.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use serde_json::{json, Value};

use super::*;
use crate::osl::testing::TestNetns;

/// Bound on every socket wait in these tests.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The objects of kind `kind` ("table", "chain", "rule", "set", ...) in `ns`'s ruleset.
fn ruleset(ns: &TestNetns, kind: &str) -> Vec<Value> {
    let all = ns.nft_json(&["list", "ruleset"]);
    let items = all["nftables"].as_array().cloned().unwrap_or_default();
    items.into_iter().filter_map(|item| item.get(kind).cloned()).collect()
}

/// The tables in `ns`, as `family name`.
fn tables(ns: &TestNetns) -> Vec<String> {
    ruleset(ns, "table").iter().map(|t| format!("{} {}", t["family"], t["name"]).replace('"', "")).collect()
}

/// The expressions of the rules of chain `chain` in table ip weft-dns, as `nft -j` shows them.
fn rules_of(ns: &TestNetns, chain: &str) -> Vec<Value> {
    ruleset(ns, "rule")
        .into_iter()
        .filter(|rule| rule["table"] == DNS_TABLE && rule["chain"] == chain)
        .map(|rule| rule["expr"].clone())
        .collect()
}

fn matches(protocol: &str, field: &str, right: Value) -> Value {
    json!({"match": {"op": "==", "left": {"payload": {"protocol": protocol, "field": field}}, "right": right}})
}

/// The redirect's rules as `nft` would print them had it made them from the ruleset in dns.rs.
fn expected_rules(udp: u16, tcp: u16) -> (Vec<Value>, Vec<Value>) {
    let output = [("udp", udp), ("tcp", tcp)]
        .map(|(proto, port)| {
            json!([
                matches("ip", "daddr", json!("127.0.0.11")),
                matches(proto, "dport", json!(53)),
                {"dnat": {"addr": "127.0.0.11", "port": port}}
            ])
        })
        .to_vec();
    let postrouting = [("udp", udp), ("tcp", tcp)]
        .map(|(proto, port)| {
            json!([
                matches("ip", "saddr", json!("127.0.0.11")),
                matches(proto, "sport", json!(port)),
                {"snat": {"port": 53}}
            ])
        })
        .to_vec();
    (output, postrouting)
}

fn assert_redirect(ns: &TestNetns, udp: u16, tcp: u16) {
    assert_eq!(tables(ns), vec![format!("ip {DNS_TABLE}")], "one table, the redirect's");
    let chains = ruleset(ns, "chain");
    let chain = |name: &str| chains.iter().find(|c| c["name"] == name).cloned().unwrap_or(Value::Null);
    for (name, hook, prio) in [("output", "output", -100), ("postrouting", "postrouting", 100)] {
        let c = chain(name);
        assert_eq!(
            (&c["type"], &c["hook"], &c["prio"], &c["policy"]),
            (&json!("nat"), &json!(hook), &json!(prio), &json!("accept")),
            "chain {name}: {c}"
        );
    }
    assert_eq!(chains.len(), 2, "{chains:?}");
    let (output, postrouting) = expected_rules(udp, tcp);
    assert_eq!(rules_of(ns, "output"), output);
    assert_eq!(rules_of(ns, "postrouting"), postrouting);
}

/// A UDP server at `addr` inside `ns` that answers one datagram with `reply` + what it got.
fn udp_server(ns: &TestNetns, addr: SocketAddr, reply: &'static str) -> std::thread::JoinHandle<()> {
    let socket = ns.run(|| UdpSocket::bind(addr)).expect("bind the UDP server");
    socket.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        if let Ok((n, peer)) = socket.recv_from(&mut buf) {
            let mut answer = reply.as_bytes().to_vec();
            answer.extend_from_slice(&buf[..n]);
            let _ = socket.send_to(&answer, peer);
        }
    })
}

/// Send `query` from inside `ns` to `to`; the answer and where it came from.
fn udp_ask(ns: &TestNetns, to: SocketAddr, query: &str) -> (String, SocketAddr) {
    let socket = ns.run(|| UdpSocket::bind("127.0.0.1:0")).expect("bind the client");
    socket.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    socket.send_to(query.as_bytes(), to).expect("send");
    let mut buf = [0u8; 512];
    let (n, from) = socket.recv_from(&mut buf).expect("an answer within the timeout");
    (String::from_utf8_lossy(&buf[..n]).into_owned(), from)
}

/// A TCP server at `addr` inside `ns` that answers one connection's first read with `reply` + it.
fn tcp_server(ns: &TestNetns, addr: SocketAddr, reply: &'static str) -> std::thread::JoinHandle<()> {
    let listener = ns.run(|| TcpListener::bind(addr)).expect("bind the TCP server");
    listener.set_nonblocking(false).expect("blocking");
    std::thread::spawn(move || {
        // The accept is bounded by the client, which connects right after or fails the test (and
        // then the listener closes with the namespace's last reference... so bound it here too).
        let _ = listener.set_nonblocking(true);
        let deadline = std::time::Instant::now() + IO_TIMEOUT;
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => return,
            }
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
        let mut buf = [0u8; 512];
        if let Ok(n) = stream.read(&mut buf) {
            let mut answer = reply.as_bytes().to_vec();
            answer.extend_from_slice(&buf[..n]);
            let _ = stream.write_all(&answer);
        }
    })
}

fn tcp_ask(ns: &TestNetns, to: SocketAddr, query: &str) -> (String, SocketAddr) {
    let mut stream = ns.run(|| TcpStream::connect_timeout(&to, IO_TIMEOUT)).expect("connect");
    stream.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    stream.write_all(query.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer within the timeout");
    (answer, stream.peer_addr().expect("peer"))
}

fn resolver_at(port: u16) -> SocketAddr {
    SocketAddr::from((DNS_ADDRESS, port))
}

#[test]
fn dns_redirect_is_the_table_nft_shows() {
    let ns = TestNetns::new("shape");
    install_dns_redirect(ns.netns(), 5353, 5354).unwrap_or_else(|e| panic!("{e}"));
    assert_redirect(&ns, 5353, 5354);
}

#[test]
fn dns_redirect_carries_udp_and_tcp_and_leaves_other_addresses_alone() {
    let ns = TestNetns::new("traffic");
    install_dns_redirect(ns.netns(), 40053, 40054).unwrap_or_else(|e| panic!("{e}"));

    let server = udp_server(&ns, resolver_at(40053), "resolver:");
    let (answer, from) = udp_ask(&ns, resolver_at(53), "udp?");
    assert_eq!(answer, "resolver:udp?");
    assert_eq!(from, resolver_at(53), "the answer comes from port 53");
    server.join().expect("udp server");

    let server = tcp_server(&ns, resolver_at(40054), "resolver:");
    let (answer, peer) = tcp_ask(&ns, resolver_at(53), "tcp?");
    assert_eq!(answer, "resolver:tcp?");
    assert_eq!(peer, resolver_at(53));
    server.join().expect("tcp server");

    // A DNS server of the container's own on port 53 of another address is not redirected.
    let own = SocketAddr::from((Ipv4Addr::new(127, 0, 0, 1), 53));
    let server = udp_server(&ns, own, "own:");
    assert_eq!(udp_ask(&ns, own, "q"), ("own:q".to_string(), own));
    server.join().expect("own server");
}

#[test]
fn dns_redirect_is_replaced_then_removed() {
    let ns = TestNetns::new("replace");
    install_dns_redirect(ns.netns(), 41000, 41001).unwrap_or_else(|e| panic!("{e}"));
    install_dns_redirect(ns.netns(), 42000, 42001).unwrap_or_else(|e| panic!("{e}"));
    assert_redirect(&ns, 42000, 42001);

    let server = udp_server(&ns, resolver_at(42000), "new:");
    let (answer, from) = udp_ask(&ns, resolver_at(53), "q");
    assert_eq!((answer.as_str(), from), ("new:q", resolver_at(53)), "the new port gets the traffic");
    server.join().expect("udp server");

    remove_dns_redirect(ns.netns()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tables(&ns), Vec::<String>::new());
    remove_dns_redirect(ns.netns()).expect("removing a redirect that is not there is not an error");
    assert_eq!(tables(&ns), Vec::<String>::new());

    let err = install_dns_redirect(ns.netns(), 0, 53).expect_err("port 0");
    assert!(err.to_string().contains("udp port is 0"), "{err}");
}

#[test]
fn a_refused_operation_is_named_and_nothing_is_left() {
    let ns = TestNetns::new("refused");
    let good = Table::new(Family::Ip, "weft-test-good");
    let missing = Table::new(Family::Ip, "weft-test-missing");
    let mut batch = Batch::new();
    batch.add_table(&good);
    batch.add_chain(&good, "input", Some(&BaseChain::new(ChainType::Filter, Hook::Input, 0)));
    batch.add_chain(&missing, "orphan", None);
    batch.add_rule(&good, "input", &Rule::new("count").counter());

    let mut nft = Nftables::in_netns(ns.netns()).unwrap_or_else(|e| panic!("{e}"));
    let err = nft.commit(&batch).expect_err("a chain in a table that does not exist");
    assert_eq!(err.op, "nftables: add chain ip weft-test-missing orphan", "{err}");
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(tables(&ns), Vec::<String>::new(), "the batch is atomic: the good table is not there either");

    // The socket is still usable, with nothing of the failed batch left to read.
    let mut fine = Batch::new();
    fine.add_table(&good).delete_table(&good);
    nft.commit(&fine).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn sets_and_maps_hold_elements() {
    let ns = TestNetns::new("sets");
    let table = Table::new(Family::Inet, "weft-test-sets");
    let bridges = Set::new("bridges", &[DataType::Ifname]);
    let ports = Set::new("ports", &[DataType::InetProto, DataType::Ipv4Addr, DataType::InetService])
        .map_to(&[DataType::Ipv4Addr, DataType::InetService]);
    let port = |host_port, container_port| {
        Element::new(&[Datum::Proto(IPPROTO_TCP), Datum::Ipv4(Ipv4Addr::UNSPECIFIED), Datum::Port(host_port)])
            .to(&[Datum::Ipv4(Ipv4Addr::new(10, 1, 0, 2)), Datum::Port(container_port)])
    };
    let mut batch = Batch::new();
    batch.add_table(&table).add_set(&table, &bridges).add_set(&table, &ports);
    batch.add_elements(&table, "bridges", &[Element::new(&[Datum::Ifname("wbr-a".into())])]);
    batch.add_elements(&table, "ports", &[port(8080, 80), port(8443, 443)]);
    let mut nft = Nftables::in_netns(ns.netns()).unwrap_or_else(|e| panic!("{e}"));
    nft.commit(&batch).unwrap_or_else(|e| panic!("{e}"));

    let listed = |kind: &str, name: &str| {
        let listed = ns.nft_json(&["list", kind, "inet", "weft-test-sets", name]);
        listed["nftables"].as_array().and_then(|items| items.iter().find_map(|i| i.get(kind).cloned()))
    };
    let set = |name: &str| listed(if name == "ports" { "map" } else { "set" }, name);
    let listed_bridges = set("bridges").expect("set bridges");
    assert_eq!(listed_bridges["type"], "ifname");
    assert_eq!(listed_bridges["elem"], json!(["wbr-a"]));
    let listed_ports = set("ports").expect("map ports");
    assert_eq!(listed_ports["type"], json!(["inet_proto", "ipv4_addr", "inet_service"]));
    // nft 1.0.6 prints a concatenated map type as one string, newer ones as a list.
    let map_type = match &listed_ports["map"] {
        Value::String(text) => json!(text.split(" . ").collect::<Vec<_>>()),
        other => other.clone(),
    };
    assert_eq!(map_type, json!(["ipv4_addr", "inet_service"]));
    let elem = |host: u16, to: u16| json!([{"concat": ["tcp", "0.0.0.0", host]}, {"concat": ["10.1.0.2", to]}]);
    let mut elems = listed_ports["elem"].as_array().cloned().unwrap_or_default();
    elems.sort_by_key(|e| e.to_string());
    assert_eq!(elems, vec![elem(8080, 80), elem(8443, 443)]);

    let mut remove = Batch::new();
    remove.delete_elements(&table, "ports", &[port(8080, 80)]);
    nft.commit(&remove).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set("ports").expect("map ports")["elem"], json!([elem(8443, 443)]));

    // An element that is not there: refused, named, and the batch's other deletion undone.
    let mut bad = Batch::new();
    bad.delete_elements(&table, "ports", &[port(8443, 443)]);
    bad.delete_elements(&table, "ports", &[port(9999, 1)]);
    let err = nft.commit(&bad).expect_err("deleting an element that is not there");
    assert_eq!(err.op, "nftables: delete 1 element(s) from set inet weft-test-sets ports", "{err}");
    assert_eq!(set("ports").expect("map ports")["elem"], json!([elem(8443, 443)]));

    let mut cleanup = Batch::new();
    cleanup.delete_table(&table);
    nft.commit(&cleanup).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tables(&ns), Vec::<String>::new());
}
