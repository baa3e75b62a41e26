//! Real traffic through the ruleset: a "host" namespace with the firewall and weft-like bridges,
//! "containers" in namespaces of their own on those bridges, and a "client" namespace that plays
//! a machine on the host's outside link. Every packet stays between these namespaces.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Command;
use std::time::{Duration, Instant};

use libnet::osl::firewall::enable_ip_forward;

use super::*;

/// Bound on every wait for a packet that should arrive.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a connection that should be dropped is given to (wrongly) succeed.
const DROP_WAIT: Duration = Duration::from_millis(1500);

fn net(s: &str) -> ipnet::IpNet {
    s.parse().expect("a network in the test")
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("a socket address in the test")
}

/// The host's outside link: `host_if` in `host` with `.1`, `eth0` in `client` with `.2` of
/// 192.168.231.0/24.
fn outside_link(host: &TestNetns, client: &TestNetns) {
    let mut nl = host.netlink();
    ok(nl.create_veth_into("wv-out0", "eth0", None, None, Some(client.netns())));
    let index = ok(nl.link_by_name("wv-out0")).expect("veth made").index;
    ok(nl.add_address(index, net("192.168.231.1/24")));
    ok(nl.set_up(index));
    let mut nl = client.netlink();
    let index = ok(nl.link_by_name("eth0")).expect("veth peer made").index;
    ok(nl.add_address(index, net("192.168.231.2/24")));
    ok(nl.set_up(index));
}

/// A container on `bridge` of `host`: its `eth0` with `address` (a /24), default route through
/// `gateway`; the host end is `veth`.
fn container(host: &TestNetns, bridge: u32, veth: &str, ctr: &TestNetns, address: &str, gateway: &str) {
    let mut nl = host.netlink();
    ok(nl.create_veth_into(veth, "eth0", None, None, Some(ctr.netns())));
    let index = ok(nl.link_by_name(veth)).expect("veth made").index;
    ok(nl.set_master(index, bridge));
    ok(nl.set_up(index));
    let mut nl = ctr.netlink();
    let index = ok(nl.link_by_name("eth0")).expect("veth peer made").index;
    ok(nl.add_address(index, net(&format!("{address}/24"))));
    ok(nl.set_up(index));
    ok(nl.add_route(net("0.0.0.0/0"), Some(gateway.parse().expect("a gateway")), None));
}

fn listen(ns: &TestNetns, at: &str) -> TcpListener {
    let at = addr(at);
    let listener = ns.run(move || TcpListener::bind(at)).expect("bind the listener");
    listener.set_nonblocking(true).expect("non-blocking");
    listener
}

/// Connect from inside `ns` to `to`; the connection, or why not.
fn connect(ns: &TestNetns, to: &str, timeout: Duration) -> io::Result<TcpStream> {
    let to = addr(to);
    ns.run(move || TcpStream::connect_timeout(&to, timeout))
}

/// The next connection `listener` accepts (the handshake may still be finishing), its peer
/// address, after a byte went each way.
fn accept_and_echo(listener: &TcpListener, client: &mut TcpStream) -> SocketAddr {
    let deadline = Instant::now() + IO_TIMEOUT;
    let (mut server, peer) = loop {
        match listener.accept() {
            Ok(accepted) => break accepted,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("no connection reached {:?}: {e}", listener.local_addr()),
        }
    };
    server.set_nonblocking(false).expect("blocking");
    server.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    client.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    client.write_all(b"?").expect("send");
    let mut byte = [0u8; 1];
    server.read_exact(&mut byte).expect("the server gets the byte");
    server.write_all(b"!").expect("answer");
    client.read_exact(&mut byte).expect("the client gets the answer");
    assert_eq!(&byte, b"!");
    peer
}

/// Connect from `ns` to `to` and see the connection arrive at `listener`: the peer address the
/// server saw.
fn reaches(ns: &TestNetns, to: &str, listener: &TcpListener) -> IpAddr {
    let from = ns.path().display();
    let mut client = connect(ns, to, IO_TIMEOUT).unwrap_or_else(|e| panic!("connect from {from} to {to}: {e}"));
    accept_and_echo(listener, &mut client).ip()
}

#[test]
fn published_ports_masquerade_and_isolation_carry_real_traffic() {
    let host = TestNetns::new("tr-host");
    let ctr = TestNetns::new("tr-ctr");
    let client = TestNetns::new("tr-client");
    outside_link(&host, &client);
    let bridge = add_bridge(&host, "wbr-tr", &["10.231.0.1/24"]);
    container(&host, bridge, "wv-tr0", &ctr, "10.231.0.2", "10.231.0.1");
    let changed = host.run(|| enable_ip_forward(false)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(changed, ["net.ipv4.ip_forward 0 -> 1"]);

    let mut firewall = loaded_firewall(&host);
    ok(firewall.add_network(&network("wbr-tr", &["10.231.0.0/24"], false, true)));
    let web = port(Proto::Tcp, None, 8080, "10.231.0.2", 80);
    let dns = port(Proto::Udp, None, 5353, "10.231.0.2", 53);
    let local_only = port(Proto::Tcp, Some("127.0.0.1"), 8081, "10.231.0.2", 80);
    ok(firewall.add_ports(&[web.clone(), dns.clone(), local_only.clone()]));
    let server = listen(&ctr, "10.231.0.2:80");
    // From the outside machine, to the host's address: DNATed, the client's own address kept.
    assert_eq!(reaches(&client, "192.168.231.1:8080", &server), "192.168.231.2".parse::<IpAddr>().unwrap());
    // From the host's loopback (output hook, route_localnet, masquerade to the bridge's address).
    assert_eq!(reaches(&host, "127.0.0.1:8080", &server), "10.231.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(reaches(&host, "127.0.0.1:8081", &server), "10.231.0.1".parse::<IpAddr>().unwrap());
    // Hairpin: the container to its own published port through the host's address. With
    // br_netfilter (on by default) the DNATed packet is bridged straight back out of the port it
    // came in by, which the bridge does only with hairpin mode on that port (Docker sets it too).
    let host_net = format!("--net={}", host.path().display());
    let mut hairpin = Command::new("nsenter");
    hairpin.arg(host_net).args(["ip", "link", "set", "wv-tr0", "type", "bridge_slave", "hairpin", "on"]);
    let status = hairpin.status().expect("run ip");
    assert!(status.success(), "hairpin mode on wv-tr0");
    assert_eq!(reaches(&ctr, "192.168.231.1:8080", &server), "10.231.0.1".parse::<IpAddr>().unwrap());
    // A port published on 127.0.0.1 only is not published on the outside address.
    let err = connect(&client, "192.168.231.1:8081", IO_TIMEOUT).expect_err("8081 is published on 127.0.0.1 only");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");

    // UDP: the answer comes back from the published address and port.
    let udp_server = udp_socket(&ctr, "10.231.0.2:53");
    let udp_client = udp_socket(&client, "192.168.231.2:0");
    udp_client.send_to(b"q", addr("192.168.231.1:5353")).expect("send");
    let mut buf = [0u8; 16];
    let (_, peer) = udp_server.recv_from(&mut buf).expect("the query reaches the container");
    assert_eq!(peer.ip(), "192.168.231.2".parse::<IpAddr>().unwrap());
    udp_server.send_to(b"a", peer).expect("answer");
    let (n, from) = udp_client.recv_from(&mut buf).expect("the answer reaches the client");
    assert_eq!((&buf[..n], from), (&b"a"[..], addr("192.168.231.1:5353")));

    // Egress: the container's connections out leave with the host's address.
    let outside = listen(&client, "192.168.231.2:9000");
    assert_eq!(reaches(&ctr, "192.168.231.2:9000", &outside), "192.168.231.1".parse::<IpAddr>().unwrap());

    // No routed access from outside to the container's address, even with a route to it.
    ok(client.netlink().add_route(net("10.231.0.0/24"), Some("192.168.231.1".parse().unwrap()), None));
    let err = connect(&client, "10.231.0.2:80", DROP_WAIT).expect_err("direct access is dropped");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");

    // Unpublished: the host has nothing on 8080 any more and refuses.
    ok(firewall.remove_ports(&[web, dns, local_only]));
    let err = connect(&client, "192.168.231.1:8080", IO_TIMEOUT).expect_err("unpublished");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
}

#[test]
fn networks_are_isolated_and_icc_false_and_internal_hold() {
    let host = TestNetns::new("iso-host");
    let a1 = TestNetns::new("iso-a1");
    let a2 = TestNetns::new("iso-a2");
    let b1 = TestNetns::new("iso-b1");
    let c1 = TestNetns::new("iso-c1");
    let c2 = TestNetns::new("iso-c2");
    let client = TestNetns::new("iso-client");
    outside_link(&host, &client);
    host.run(|| enable_ip_forward(false)).unwrap_or_else(|e| panic!("{e}"));
    // a: icc on; b: another network; c: icc off.
    let a = add_bridge(&host, "wbr-isoa", &["10.232.1.1/24"]);
    let b = add_bridge(&host, "wbr-isob", &["10.232.2.1/24"]);
    let c = add_bridge(&host, "wbr-isoc", &["10.232.3.1/24"]);
    container(&host, a, "wv-a1", &a1, "10.232.1.2", "10.232.1.1");
    container(&host, a, "wv-a2", &a2, "10.232.1.3", "10.232.1.1");
    container(&host, b, "wv-b1", &b1, "10.232.2.2", "10.232.2.1");
    container(&host, c, "wv-c1", &c1, "10.232.3.2", "10.232.3.1");
    container(&host, c, "wv-c2", &c2, "10.232.3.3", "10.232.3.1");
    let mut firewall = loaded_firewall(&host);
    ok(firewall.add_network(&network("wbr-isoa", &["10.232.1.0/24"], false, true)));
    ok(firewall.add_network(&network("wbr-isob", &["10.232.2.0/24"], false, true)));
    ok(firewall.add_network(&network("wbr-isoc", &["10.232.3.0/24"], false, false)));

    let a2_server = listen(&a2, "10.232.1.3:80");
    let b1_server = listen(&b1, "10.232.2.2:80");
    let c2_server = listen(&c2, "10.232.3.3:80");
    // icc on: neighbours talk, directly over the bridge.
    assert_eq!(reaches(&a1, "10.232.1.3:80", &a2_server), "10.232.1.2".parse::<IpAddr>().unwrap());
    // Another network: dropped.
    let err = connect(&a1, "10.232.2.2:80", DROP_WAIT).expect_err("another network");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    // icc off: neighbours on one bridge cannot talk.
    let err = connect(&c1, "10.232.3.3:80", DROP_WAIT).expect_err("icc=false");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    // Both still reach the outside.
    let outside = listen(&client, "192.168.231.2:9000");
    assert_eq!(reaches(&c1, "192.168.231.2:9000", &outside), "192.168.231.1".parse::<IpAddr>().unwrap());

    // Made internal: no way out, and nothing from other networks; the bridge's neighbours
    // still talk (icc on).
    ok(firewall.remove_network(&network("wbr-isoa", &["10.232.1.0/24"], false, true)));
    ok(firewall.add_network(&network("wbr-isoa", &["10.232.1.0/24"], true, true)));
    let err = connect(&a1, "192.168.231.2:9000", DROP_WAIT).expect_err("internal: no way out");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    let a1_server = listen(&a1, "10.232.1.2:80");
    let err = connect(&b1, "10.232.1.2:80", DROP_WAIT).expect_err("internal: no way in");
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
    assert_eq!(reaches(&a2, "10.232.1.2:80", &a1_server), "10.232.1.3".parse::<IpAddr>().unwrap());
    // And b's containers still take connections from the host itself.
    assert_eq!(reaches(&host, "10.232.2.2:80", &b1_server), "10.232.2.1".parse::<IpAddr>().unwrap());
    drop(c2_server);
}

fn udp_socket(ns: &TestNetns, at: &str) -> UdpSocket {
    let at = addr(at);
    let socket = ns.run(move || UdpSocket::bind(at)).expect("bind UDP");
    socket.set_read_timeout(Some(IO_TIMEOUT)).expect("timeout");
    socket
}
