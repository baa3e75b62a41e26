//! Sandboxes and endpoints through the libnet API, in a namespace the test made: two sandboxes on
//! one bridge exchange real TCP traffic; a sandbox on two networks gets eth0 and eth1 with the
//! default route through the right gateway; everything is gone after leave and delete.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use libnet::osl::{Netlink, Netns};
use libnet::{Controller, ControllerConfig, EndpointCreate, ErrorKind, NetworkCreate, SandboxCreate};
use weft_tests::Host;

fn controller(h: &Host) -> Controller {
    let mut c = Controller::new(ControllerConfig::new(h.data_root(), h.exec_root())).expect("controller");
    c.register_driver(Arc::new(driver_bridge::BridgeDriver::new().expect("bridge driver")));
    c.register_ipam(Arc::new(ipam::DefaultIpam::new(ipam::IpamConfig::default(), Box::new(|_| Vec::new()))));
    c.restore().expect("restore");
    c
}

/// Run `test` with a fresh namespace as the controller's host; afterwards nothing but `lo` may be
/// left in it (the namespace itself goes when the `Host` is dropped).
fn in_host(test: impl FnOnce(&Host) + Send) {
    let h = Host::bare();
    let host_ns = Netns::open(&h.netns_path()).expect("host ns");
    host_ns.run(|| test(&h)).expect("run in the host namespace");
    let left: Vec<String> = h.link_names().into_iter().filter(|l| l != "lo").collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let mounts = std::fs::read_dir(h.exec_root().join("netns")).map(|d| d.count()).unwrap_or(0);
    assert_eq!(mounts, 0, "sandbox namespaces left under the exec root");
}

/// (name, addresses) of every link in a sandbox, and its default routes' gateways.
fn sandbox_view(key: &std::path::Path) -> (Vec<(String, Vec<String>)>, Vec<String>) {
    let ns = Netns::open(key).expect("open sandbox");
    let mut nl = Netlink::in_netns(&ns).expect("netlink");
    let mut links = Vec::new();
    for l in nl.links().expect("links") {
        let addrs = nl.addresses(Some(l.index)).expect("addresses").into_iter().map(|(_, a)| a.to_string()).collect();
        links.push((l.name, addrs));
    }
    let gws = nl
        .routes()
        .expect("routes")
        .into_iter()
        .filter(|r| r.destination.prefix_len() == 0)
        .filter_map(|r| r.gateway.map(|g| g.to_string()))
        .collect();
    (links, gws)
}

#[test]
fn two_sandboxes_on_one_bridge_exchange_tcp() {
    in_host(|h| {
        let mut c = controller(h);
        let net = c.create_network(NetworkCreate::new("n1")).expect("network");
        let subnet = net.ipv4[0].subnet;
        let gateway = net.ipv4[0].gateway.expect("gateway").addr();
        let s1 = c.create_sandbox(SandboxCreate { container_id: "c1".into(), host_mode: false }).expect("sandbox 1");
        let s2 = c.create_sandbox(SandboxCreate { container_id: "c2".into(), host_mode: false }).expect("sandbox 2");
        let e1 =
            c.create_endpoint("n1", EndpointCreate { name: "a".into(), ..Default::default() }).expect("endpoint a");
        let e2 =
            c.create_endpoint("n1", EndpointCreate { name: "b".into(), ..Default::default() }).expect("endpoint b");
        c.join(&e1.id, &s1.id).expect("join a");
        c.join(&e2.id, &s2.id).expect("join b");

        let ip1 = e1.ipv4.expect("address a");
        assert!(subnet.contains(&ip1.addr()));
        let (links, gws) = sandbox_view(s1.key.as_ref().unwrap());
        let eth0 = links.iter().find(|(n, _)| n == "eth0").expect("eth0 in sandbox 1");
        // Its address, and the kernel's IPv6 link-local one.
        assert_eq!(eth0.1.iter().filter(|a| !a.starts_with("fe80:")).collect::<Vec<_>>(), vec![&ip1.to_string()]);
        assert_eq!(gws, vec![gateway.to_string()]);

        // A network with endpoints cannot be removed, and the error names them.
        let err = c.delete_network("n1").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(err.to_string().contains("has active endpoints (a, b)"), "{err}");

        // Real traffic from sandbox 2 to sandbox 1 across the bridge.
        let s1ns = Netns::open(s1.key.as_ref().unwrap()).unwrap();
        let s2ns = Netns::open(s2.key.as_ref().unwrap()).unwrap();
        let listener = s1ns.run(|| TcpListener::bind((ip1.addr(), 0))).unwrap().expect("listen in sandbox 1");
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, peer) = listener.accept().expect("accept");
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).expect("read ping");
            s.write_all(b"pong").expect("write pong");
            (buf, peer)
        });
        let mut client = s2ns
            .run(|| TcpStream::connect_timeout(&SocketAddr::new(ip1.addr(), port), Duration::from_secs(5)))
            .unwrap()
            .expect("connect from sandbox 2");
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        client.write_all(b"ping").unwrap();
        let mut reply = [0u8; 4];
        client.read_exact(&mut reply).expect("read pong");
        let (got, peer) = server.join().unwrap();
        assert_eq!((&got, &reply), (b"ping", b"pong"));
        assert_eq!(peer.ip(), e2.ipv4.unwrap().addr());

        // Tear down: nothing of weft's is left in the host namespace or the exec root.
        c.leave(&e1.id).unwrap();
        c.leave(&e2.id).unwrap();
        c.delete_endpoint(&e1.id).unwrap();
        c.delete_endpoint(&e2.id).unwrap();
        c.delete_sandbox(&s1.id).unwrap();
        c.delete_sandbox(&s2.id).unwrap();
        c.delete_network("n1").unwrap();
    });
}

#[test]
fn a_sandbox_on_two_networks_routes_through_the_first_by_name() {
    in_host(|h| {
        let mut c = controller(h);
        let mut internal = NetworkCreate::new("aaa-internal");
        internal.flags.internal = true;
        let na = c.create_network(internal).unwrap();
        let nb = c.create_network(NetworkCreate::new("bbb")).unwrap();
        let nc = c.create_network(NetworkCreate::new("ccc")).unwrap();
        let s = c.create_sandbox(SandboxCreate { container_id: "c".into(), host_mode: false }).unwrap();
        let key = s.key.clone().unwrap();
        let ec = c.create_endpoint("ccc", EndpointCreate::default()).unwrap();
        let eb = c
            .create_endpoint("bbb", EndpointCreate { ipv4: Some("172.18.0.77".parse().unwrap()), ..Default::default() })
            .unwrap();
        let ea = c.create_endpoint("aaa-internal", EndpointCreate::default()).unwrap();
        assert_eq!(nb.ipv4[0].subnet.to_string(), "172.18.0.0/16");
        assert_eq!(eb.ipv4.unwrap().to_string(), "172.18.0.77/16");

        c.join(&ec.id, &s.id).unwrap();
        let (_, gws) = sandbox_view(&key);
        assert_eq!(gws, vec![nc.ipv4[0].gateway.unwrap().addr().to_string()]);
        c.join(&eb.id, &s.id).unwrap();
        c.join(&ea.id, &s.id).unwrap();
        let (links, gws) = sandbox_view(&key);
        let names: Vec<&str> = links.iter().map(|(n, _)| n.as_str()).collect();
        for n in ["lo", "eth0", "eth1", "eth2"] {
            assert!(names.contains(&n), "{names:?}");
        }
        // bbb sorts before ccc; the internal network never provides the gateway.
        assert_eq!(gws, vec![nb.ipv4[0].gateway.unwrap().addr().to_string()]);
        c.leave(&eb.id).unwrap();
        let (links, gws) = sandbox_view(&key);
        assert_eq!(gws, vec![nc.ipv4[0].gateway.unwrap().addr().to_string()]);
        assert_eq!(links.len(), 3);
        // The left interface is back on the host, named for the driver, and deleted with its endpoint.
        c.delete_endpoint(&eb.id).unwrap();
        c.delete_sandbox(&s.id).unwrap();
        for e in [&ea.id, &ec.id] {
            c.delete_endpoint(e).unwrap();
        }
        for n in [&na, &nb, &nc] {
            c.delete_network(n.id.as_str()).unwrap();
        }
    });
}

#[test]
fn a_failed_join_leaves_nothing_half_made() {
    in_host(|h| {
        let mut c = controller(h);
        c.create_network(NetworkCreate::new("n")).unwrap();
        c.create_network(NetworkCreate::new("m")).unwrap();
        let s = c.create_sandbox(SandboxCreate::default()).unwrap();
        let key = s.key.clone().unwrap();
        let first = c.create_endpoint("n", EndpointCreate::default()).unwrap();
        c.join(&first.id, &s.id).unwrap();
        let (_, gws_before) = sandbox_view(&key);
        assert_eq!(gws_before.len(), 1);

        // A join that fails late: the interface is already in the sandbox, renamed and
        // addressed, when the default route cannot be set (a route to the same place, put
        // there behind the controller's back, is in the way). "m" sorts after "n", so make
        // it win the gateway by leaving "n" first.
        let e = c.create_endpoint("m", EndpointCreate::default()).unwrap();
        c.leave(&first.id).unwrap();
        let ns = Netns::open(&key).unwrap();
        let mut nl = Netlink::in_netns(&ns).unwrap();
        let lo = nl.link_by_name("lo").unwrap().unwrap().index;
        nl.add_route("0.0.0.0/0".parse().unwrap(), None, Some(lo)).unwrap();
        assert!(c.join(&e.id, &s.id).is_err(), "the join should have failed");
        assert!(c.endpoint(&e.id).unwrap().join.is_none());
        assert!(c.sandbox(&s.id).unwrap().endpoints.is_empty());
        let (links, _) = sandbox_view(&key);
        assert_eq!(
            links.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            vec!["lo"],
            "interface left in the sandbox"
        );
        // The bridge driver made the pair inside the sandbox; the undo deleted it, both ends.
        let (host_end, peer_end) = (libnet::marks::host_veth_name(&e.id), libnet::marks::peer_veth_name(&e.id));
        assert!(!h.link_names().iter().any(|l| *l == host_end || *l == peer_end), "{:?}", h.link_names());

        // The way cleared, the same endpoint joins, and a taken address is refused by name.
        nl.delete_route("0.0.0.0/0".parse().unwrap(), None, Some(lo)).unwrap();
        c.join(&e.id, &s.id).unwrap();
        let ip = e.ipv4.unwrap().addr();
        let err = c.create_endpoint("m", EndpointCreate { ipv4: Some(ip), ..Default::default() }).unwrap_err();
        assert!(err.to_string().contains(&ip.to_string()), "{err}");
        c.delete_sandbox(&s.id).unwrap();
        c.delete_endpoint(&e.id).unwrap();
        c.delete_endpoint(&first.id).unwrap();
        c.delete_network("n").unwrap();
        c.delete_network("m").unwrap();
    });
}

#[test]
fn sandboxes_on_two_networks_cannot_reach_each_other() {
    in_host(|h| {
        let mut c = controller(h);
        c.create_network(NetworkCreate::new("left")).unwrap();
        c.create_network(NetworkCreate::new("right")).unwrap();
        let s1 = c.create_sandbox(SandboxCreate::default()).unwrap();
        let s2 = c.create_sandbox(SandboxCreate::default()).unwrap();
        let e1 = c.create_endpoint("left", EndpointCreate::default()).unwrap();
        let e2 = c.create_endpoint("right", EndpointCreate::default()).unwrap();
        c.join(&e1.id, &s1.id).unwrap();
        c.join(&e2.id, &s2.id).unwrap();
        // Each host-side veth is a port of its own network's bridge, and of no other.
        let mut nl = Netlink::new().unwrap();
        for (e, net) in [(&e1, "left"), (&e2, "right")] {
            let bridge = libnet::marks::bridge_name(&c.network(net).unwrap().id);
            let bridge_index = nl.link_by_name(&bridge).unwrap().unwrap().index;
            let veth = nl.link_by_name(&libnet::marks::host_veth_name(&e.id)).unwrap().unwrap();
            assert_eq!(veth.master, Some(bridge_index), "{net}");
        }
        let ip1 = e1.ipv4.unwrap().addr();
        let s1ns = Netns::open(s1.key.as_ref().unwrap()).unwrap();
        let s2ns = Netns::open(s2.key.as_ref().unwrap()).unwrap();
        let listener = s1ns.run(|| TcpListener::bind((ip1, 0))).unwrap().unwrap();
        let port = listener.local_addr().unwrap().port();
        // Same listener, reached from its own network's side: the path works...
        let own = s1ns.run(|| TcpStream::connect_timeout(&SocketAddr::new(ip1, port), Duration::from_secs(2))).unwrap();
        assert!(own.is_ok());
        // ...but not from the other network: different bridges, and the host does not forward.
        let other =
            s2ns.run(|| TcpStream::connect_timeout(&SocketAddr::new(ip1, port), Duration::from_secs(1))).unwrap();
        assert!(other.is_err(), "a sandbox on another network reached {ip1}:{port}");
        c.delete_sandbox(&s1.id).unwrap();
        c.delete_sandbox(&s2.id).unwrap();
        for e in [&e1.id, &e2.id] {
            c.delete_endpoint(e).unwrap();
        }
        c.delete_network("left").unwrap();
        c.delete_network("right").unwrap();
    });
}

#[test]
fn restore_keeps_joined_endpoints_and_rejoins_lost_ones() {
    in_host(|h| {
        let (s1, s2, e1, e2) = {
            let mut c = controller(h);
            c.create_network(NetworkCreate::new("n")).unwrap();
            let s1 = c.create_sandbox(SandboxCreate::default()).unwrap();
            let s2 = c.create_sandbox(SandboxCreate::default()).unwrap();
            let e1 = c.create_endpoint("n", EndpointCreate::default()).unwrap();
            let e2 = c.create_endpoint("n", EndpointCreate::default()).unwrap();
            c.join(&e1.id, &s1.id).unwrap();
            c.join(&e2.id, &s2.id).unwrap();
            (s1, s2, e1, e2)
            // The controller is dropped here without any teardown, as a killed daemon would be.
        };
        // While no controller runs, sandbox 2's namespace is lost (as after a reboot of /run).
        Netns::delete(s2.key.as_ref().unwrap()).unwrap();
        // And sandbox 1 lost its default route (a join killed before its commit does that).
        let s1ns = Netns::open(s1.key.as_ref().unwrap()).unwrap();
        let mut nl = Netlink::in_netns(&s1ns).unwrap();
        let default = nl.routes().unwrap().into_iter().find(|r| r.destination.prefix_len() == 0).unwrap();
        nl.delete_route(default.destination, default.gateway, default.oif).unwrap();

        let mut c = Controller::new(ControllerConfig::new(h.data_root(), h.exec_root())).unwrap();
        c.register_driver(Arc::new(driver_bridge::BridgeDriver::new().unwrap()));
        c.register_ipam(Arc::new(ipam::DefaultIpam::new(ipam::IpamConfig::default(), Box::new(|_| Vec::new()))));
        let report = c.restore().unwrap();
        assert!(report.failed.is_empty(), "{report:?}");
        assert!(report.removed.is_empty(), "restore removed live objects: {report:?}");
        assert_eq!((report.networks, report.endpoints, report.sandboxes), (1, 2, 2));
        for (s, e) in [(&s1, &e1), (&s2, &e2)] {
            let (links, gws) = sandbox_view(s.key.as_ref().unwrap());
            let eth0 = links.iter().find(|(n, _)| n == "eth0").expect("eth0 after restore");
            assert!(eth0.1.contains(&e.ipv4.unwrap().to_string()), "{links:?}");
            assert_eq!(gws.len(), 1);
            assert!(c.endpoint(&e.id).unwrap().join.is_some());
        }
        // The subnet is still taken after the restore (these host routes are empty, so only
        // the replayed IPAM grant keeps a new network off it).
        let n = c.network("n").unwrap().ipv4[0].subnet;
        let m = c.create_network(NetworkCreate::new("m")).unwrap();
        assert_ne!(m.ipv4[0].subnet, n);
        c.delete_network("m").unwrap();
        // The addresses are still taken after the restore.
        let err = c.create_endpoint("n", EndpointCreate { ipv4: Some(e1.ipv4.unwrap().addr()), ..Default::default() });
        assert!(err.is_err());
        for (s, e) in [(&s1, &e1), (&s2, &e2)] {
            c.delete_sandbox(&s.id).unwrap();
            c.delete_endpoint(&e.id).unwrap();
        }
        c.delete_network("n").unwrap();
    });
}

#[test]
fn restore_remakes_an_endpoint_caught_half_way_into_a_sandbox() {
    in_host(|h| {
        let (s, e) = {
            let mut c = controller(h);
            c.create_network(NetworkCreate::new("n")).unwrap();
            let s = c.create_sandbox(SandboxCreate::default()).unwrap();
            let e = c.create_endpoint("n", EndpointCreate::default()).unwrap();
            (s, e)
        };
        // What a daemon killed in the middle of a join leaves: the pair made, its peer in the
        // sandbox, the store still saying "not joined".
        let sandbox_ns = Netns::open(s.key.as_ref().unwrap()).unwrap();
        let mut nl = Netlink::new().unwrap();
        let (host_end, peer_end) = (libnet::marks::host_veth_name(&e.id), libnet::marks::peer_veth_name(&e.id));
        nl.create_veth_into(&host_end, &peer_end, None, None, Some(&sandbox_ns)).unwrap();

        let mut c = controller(h);
        assert!(c.endpoint(&e.id).unwrap().join.is_none());
        c.join(&e.id, &s.id).expect("join after restore");
        let (links, _) = sandbox_view(s.key.as_ref().unwrap());
        let names: Vec<&str> = links.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names.len(), 2, "the stale peer is still in the sandbox: {names:?}");
        c.delete_sandbox(&s.id).unwrap();
        c.delete_endpoint(&e.id).unwrap();
        c.delete_network("n").unwrap();
    });
}

/// A TCP round trip to `addr` from the calling thread's namespace: Ok(the server's reply).
fn tcp_ping(addr: SocketAddr) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"ping")?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply)?;
    Ok(reply)
}

#[test]
fn the_gateway_endpoint_publishes_its_ports_and_a_second_claim_names_the_holder() {
    in_host(|h| {
        let mut c = controller(h);
        c.create_network(NetworkCreate::new("pub")).unwrap();
        let s1 = c.create_sandbox(SandboxCreate { container_id: "c1".into(), host_mode: false }).unwrap();
        let mut options = std::collections::BTreeMap::new();
        options.insert(
            libnet::portmap::PORTMAP_OPTION.to_string(),
            r#"[{"Proto":6,"Port":80,"HostPort":0},{"Proto":6,"Port":81,"HostIP":"127.0.0.1","HostPort":0}]"#
                .to_string(),
        );
        let e1 = c.create_endpoint("pub", EndpointCreate { options: options.clone(), ..Default::default() }).unwrap();
        c.join(&e1.id, &s1.id).unwrap();
        let ip1 = e1.ipv4.unwrap().addr();
        let ports = c.endpoint(&e1.id).unwrap().ports.clone();
        assert_eq!(ports.len(), 2, "{ports:?}");
        let (lo, hi) = libnet::portmap::ephemeral_range();
        assert!(ports.iter().all(|p| (lo..=hi).contains(&p.host_port) && p.ip == Some(ip1)), "{ports:?}");
        assert_eq!(ports[0].host_ip, Some("0.0.0.0".parse().unwrap()));
        assert_eq!(ports[1].host_ip, Some("127.0.0.1".parse().unwrap()));
        let (any_port, lo_port) = (ports[0].host_port, ports[1].host_port);

        // A server on port 80 in the sandbox answers through the published port, from the
        // host's loopback and from the host's address on the bridge.
        let ns1 = Netns::open(s1.key.as_ref().unwrap()).unwrap();
        let listener = ns1.run(|| TcpListener::bind((ip1, 80))).unwrap().expect("listen on 80 in the sandbox");
        let server = std::thread::spawn(move || {
            let mut peers = Vec::new();
            for _ in 0..2 {
                let (mut s, peer) = listener.accept().expect("accept");
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut buf = [0u8; 4];
                s.read_exact(&mut buf).expect("read");
                s.write_all(b"pong").expect("write");
                peers.push(peer.ip());
            }
            peers
        });
        let gateway = c.network("pub").unwrap().ipv4[0].gateway.unwrap().addr();
        assert_eq!(tcp_ping(SocketAddr::new("127.0.0.1".parse().unwrap(), any_port)).expect("via 127.0.0.1"), b"pong");
        assert_eq!(tcp_ping(SocketAddr::new(gateway, any_port)).expect("via the bridge's address"), b"pong");
        // Both arrive from the host's address on the bridge (loopback is masqueraded).
        assert_eq!(server.join().unwrap(), vec![gateway, gateway]);
        // The port on 127.0.0.1 only is not published on the bridge's address.
        assert!(tcp_ping(SocketAddr::new(gateway, lo_port)).is_err());

        // A second sandbox asking for the same host port is refused with the holder's name,
        // and is left as it was.
        let s2 = c.create_sandbox(SandboxCreate { container_id: "c2".into(), host_mode: false }).unwrap();
        options.insert(
            libnet::portmap::PORTMAP_OPTION.to_string(),
            format!(r#"[{{"Proto":6,"Port":80,"HostPort":{any_port}}}]"#),
        );
        let e2 = c.create_endpoint("pub", EndpointCreate { options, ..Default::default() }).unwrap();
        let err = c.join(&e2.id, &s2.id).unwrap_err();
        assert_eq!(err.to_string(), format!("port {any_port}/tcp is already allocated by container c1"));
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert!(c.endpoint(&e2.id).unwrap().join.is_none());
        let (links, _) = sandbox_view(s2.key.as_ref().unwrap());
        assert_eq!(links.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(), vec!["lo"]);

        // When the first leaves, its ports go with it, and the second gets the port.
        c.leave(&e1.id).unwrap();
        assert!(c.endpoint(&e1.id).unwrap().ports.is_empty());
        assert!(tcp_ping(SocketAddr::new("127.0.0.1".parse().unwrap(), any_port)).is_err());
        c.join(&e2.id, &s2.id).unwrap();
        assert_eq!(c.endpoint(&e2.id).unwrap().ports[0].host_port, any_port);
        c.delete_sandbox(&s2.id).unwrap();
        c.delete_sandbox(&s1.id).unwrap();
        c.delete_endpoint(&e1.id).unwrap();
        c.delete_endpoint(&e2.id).unwrap();
        c.delete_network("pub").unwrap();
    });
}
