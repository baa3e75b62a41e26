//! Tests of the OS layer against the real kernel (they need root).
//!
//! Every test works only inside network namespaces it creates itself under a temp directory, and
//! guards remove them (and everything in them) even when the test fails; the machine's own
//! namespace is only ever read.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ipnet::IpNet;

use super::*;

/// A directory of the test's own under the temp dir, removed at the end.
struct TestDir(PathBuf);

impl TestDir {
    fn new(test: &str) -> TestDir {
        let name = format!("weft-osl-test-{}-{test}-{:08x}", std::process::id(), rand::random::<u32>());
        TestDir(std::env::temp_dir().join(name))
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A namespace of the test's own with a netlink socket in it; deleted on drop (the kernel then
/// destroys it, with its links, once the socket and the handle are closed too).
struct TestNs {
    path: PathBuf,
    ns: Netns,
    nl: Option<Netlink>,
}

impl TestNs {
    fn new(dir: &TestDir, name: &str) -> TestNs {
        let path = dir.0.join(name);
        let ns = Netns::create(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut test_ns = TestNs { path, ns, nl: None };
        test_ns.nl = Some(Netlink::in_netns(&test_ns.ns).unwrap_or_else(|e| panic!("{e}")));
        test_ns
    }

    fn nl(&mut self) -> &mut Netlink {
        self.nl.as_mut().expect("opened in new")
    }

    fn link(&mut self, name: &str) -> LinkInfo {
        match self.nl().link_by_name(name) {
            Ok(Some(link)) => link,
            Ok(None) => panic!("no link {name} in {}", self.path.display()),
            Err(e) => panic!("{e}"),
        }
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        self.nl = None;
        if let Err(e) = Netns::delete(&self.path) {
            eprintln!("cleanup: {e}");
        }
    }
}

fn net(s: &str) -> IpNet {
    s.parse().expect("a valid network in the test")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("a valid address in the test")
}

/// Wait for `condition` with a deadline, polling (the kernel gives no event to wait on here).
fn wait_for(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn thread_netns_inode() -> u64 {
    std::fs::metadata("/proc/thread-self/ns/net").expect("stat own netns").ino()
}

#[test]
fn netns_create_run_delete() {
    let dir = TestDir::new("netns");
    let path = dir.0.join("a");
    {
        let mut test_ns = TestNs::new(&dir, "a");
        let inode = std::fs::metadata(&path).expect("namespace file").ino();
        assert_ne!(inode, thread_netns_inode(), "a new namespace, not ours");
        assert_eq!(test_ns.ns.run(thread_netns_inode).expect("run"), inode, "run enters the namespace");
        assert_eq!(test_ns.ns.path(), Some(path.as_path()));

        let opened = Netns::open(&path).expect("open");
        assert_eq!(opened.run(thread_netns_inode).expect("run"), inode);

        // A fresh namespace has only its loopback, down.
        let links = test_ns.nl().links().expect("links");
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(links[0].name, "lo");
        assert!(!links[0].up);

        // The path is taken: creating again must not clobber the live namespace.
        let err = Netns::create(&path).expect_err("second create at the same path");
        assert!(err.is_exists(), "{err:?}");
        assert_eq!(std::fs::metadata(&path).expect("still there").ino(), inode);
    }
    assert!(!path.exists(), "the guard deleted the namespace file");
    Netns::delete(&path).expect("deleting a missing namespace is not an error");
    Netns::delete(&dir.0.join("never-made")).expect("deleting a never-made namespace is not an error");

    let current = Netns::current().expect("current");
    assert_eq!(current.path(), None);
    assert_eq!(current.run(thread_netns_inode).expect("run"), thread_netns_inode());
}

#[test]
fn bridge_addresses_and_routes() {
    let dir = TestDir::new("bridge");
    let mut ns = TestNs::new(&dir, "a");
    let nl = ns.nl();

    let index = nl.create_bridge("wbr-test0", Some(1400)).expect("create bridge");
    let bridge = nl.link_by_name("wbr-test0").expect("look up").expect("bridge exists");
    assert_eq!(bridge.index, index);
    assert_eq!(bridge.kind.as_deref(), Some("bridge"));
    assert_eq!(bridge.mtu, 1400);
    assert!(!bridge.up);
    assert!(bridge.mac.is_some());
    assert_eq!(nl.link_by_index(index).expect("by index"), Some(bridge.clone()));
    assert!(nl.links().expect("links").contains(&bridge));
    assert_eq!(bridge.alias, None);
    nl.set_alias(index, "weft:abc").expect("alias");
    assert_eq!(nl.link_by_index(index).expect("by index").expect("exists").alias.as_deref(), Some("weft:abc"));

    nl.set_up(index).expect("up");
    assert!(nl.link_by_index(index).expect("by index").expect("exists").up);
    nl.set_mtu(index, 1300).expect("mtu");
    assert_eq!(nl.link_by_index(index).expect("by index").expect("exists").mtu, 1300);

    let v4 = net("10.1.2.1/24");
    let v6 = net("fd00:1::1/64");
    nl.add_address(index, v4).expect("add v4");
    nl.add_address(index, v6).expect("add v6");
    let mine = nl.addresses(Some(index)).expect("addresses of the bridge");
    assert!(mine.contains(&(index, v4)) && mine.contains(&(index, v6)), "{mine:?}");
    assert!(mine.iter().all(|(link, _)| *link == index), "{mine:?}");
    let all = nl.addresses(None).expect("all addresses");
    assert!(all.contains(&(index, v4)) && all.contains(&(index, v6)), "{all:?}");

    // The kernel's own route for the subnet.
    let routes = nl.routes().expect("routes");
    let subnet = RouteInfo { destination: net("10.1.2.0/24"), gateway: None, oif: Some(index) };
    assert!(routes.contains(&subnet), "{routes:?}");

    let wanted = [
        RouteInfo { destination: net("10.9.0.0/16"), gateway: None, oif: Some(index) },
        RouteInfo { destination: net("0.0.0.0/0"), gateway: Some(ip("10.1.2.254")), oif: Some(index) },
        RouteInfo { destination: net("::/0"), gateway: Some(ip("fd00:1::fe")), oif: Some(index) },
        RouteInfo { destination: net("fd00:9::/48"), gateway: Some(ip("fd00:1::fe")), oif: Some(index) },
    ];
    nl.add_route(wanted[0].destination, None, Some(index)).expect("link route");
    nl.add_route(wanted[1].destination, wanted[1].gateway, None).expect("default v4 via gateway");
    nl.add_route(wanted[2].destination, wanted[2].gateway, Some(index)).expect("default v6 via gateway");
    nl.add_route(wanted[3].destination, wanted[3].gateway, Some(index)).expect("v6 via gateway");
    let routes = nl.routes().expect("routes");
    for route in &wanted {
        assert!(routes.contains(route), "{route:?} missing from {routes:?}");
    }
    // Local and multicast entries are not listed.
    assert!(!routes.iter().any(|r| r.destination == net("10.1.2.1/32")), "{routes:?}");
    assert!(!routes.iter().any(|r| r.destination == net("ff00::/8")), "{routes:?}");

    let err = nl.add_route(wanted[0].destination, None, Some(index)).expect_err("same route twice");
    assert!(err.is_exists(), "{err:?}");
    let err = nl.add_route(net("10.8.0.0/16"), Some(ip("fd00:1::fe")), None).expect_err("mixed families");
    assert_eq!(err.errno, Some(nix::libc::EINVAL), "{err:?}");

    for route in &wanted {
        nl.delete_route(route.destination, route.gateway, route.oif).expect("delete route");
    }
    let routes = nl.routes().expect("routes");
    for route in &wanted {
        assert!(!routes.contains(route), "{route:?} still in {routes:?}");
    }
    let err = nl.delete_route(wanted[0].destination, None, Some(index)).expect_err("delete a missing route");
    assert!(err.is_not_found(), "{err:?}");

    nl.delete_address(index, v4).expect("delete v4");
    nl.delete_address(index, v6).expect("delete v6");
    assert!(nl.addresses(Some(index)).expect("addresses").iter().all(|(_, a)| *a != v4 && *a != v6));
    let err = nl.delete_address(index, v4).expect_err("delete a missing address");
    assert!(err.is_not_found(), "{err:?}");

    nl.set_down(index).expect("down");
    assert!(!nl.link_by_index(index).expect("by index").expect("exists").up);
    nl.delete_link("wbr-test0").expect("delete bridge");
    assert_eq!(nl.link_by_name("wbr-test0").expect("look up"), None);
}

#[test]
fn veth_master_and_move_to_namespace() {
    let dir = TestDir::new("veth");
    let mut host = TestNs::new(&dir, "host");
    let mut container = TestNs::new(&dir, "container");

    let bridge = host.nl().create_bridge("wbr-test1", None).expect("bridge");
    let peer_mac = [0x02, 0x42, 0xac, 0x11, 0x00, 0x02];
    host.nl().create_veth("wvtest1", "wvtest1p", Some(1450), Some(peer_mac)).expect("veth");
    let end = host.link("wvtest1");
    let peer = host.link("wvtest1p");
    assert_eq!(end.kind.as_deref(), Some("veth"));
    assert_eq!(peer.kind.as_deref(), Some("veth"));
    assert_eq!((end.mtu, peer.mtu), (1450, 1450));
    assert_eq!(peer.mac, Some(peer_mac));
    assert!(!end.up && !peer.up);

    host.nl().set_master(end.index, bridge).expect("attach to the bridge");
    assert_eq!(host.link("wvtest1").master, Some(bridge));

    host.nl().move_to_netns(peer.index, &container.ns).expect("move");
    assert_eq!(host.nl().link_by_name("wvtest1p").expect("look up"), None);
    let moved = container.link("wvtest1p");
    let nl = container.nl();
    nl.set_name(moved.index, "eth0").expect("rename");
    let new_mac = [0x02, 0x42, 0xac, 0x11, 0x00, 0x03];
    nl.set_mac(moved.index, new_mac).expect("mac");
    nl.set_mtu(moved.index, 1400).expect("mtu");
    nl.set_up(moved.index).expect("up");
    let eth0 = container.link("eth0");
    assert_eq!(eth0.index, moved.index);
    assert_eq!(eth0.mac, Some(new_mac));
    assert_eq!(eth0.mtu, 1400);
    assert!(eth0.up);
    assert_eq!(eth0.kind.as_deref(), Some("veth"));
    assert_eq!(container.nl().link_by_name("wvtest1p").expect("look up"), None);

    host.nl().set_master(end.index, 0).expect("release from the bridge");
    assert_eq!(host.link("wvtest1").master, None);
}

#[test]
fn delete_veth_removes_both_ends() {
    let dir = TestDir::new("delveth");
    let mut ns = TestNs::new(&dir, "a");
    let nl = ns.nl();
    nl.create_veth("wvtest2", "wvtest2p", None, None).expect("veth");
    assert!(nl.link_by_name("wvtest2p").expect("look up").is_some());
    nl.delete_link("wvtest2").expect("delete");
    assert_eq!(nl.link_by_name("wvtest2").expect("look up"), None);
    assert_eq!(nl.link_by_name("wvtest2p").expect("look up"), None);
}

#[test]
fn errors_carry_errno_and_name_the_operation() {
    let dir = TestDir::new("errors");
    let mut ns = TestNs::new(&dir, "a");
    let nl = ns.nl();

    nl.create_bridge("wbr-test3", None).expect("bridge");
    let err = nl.create_bridge("wbr-test3", None).expect_err("the same bridge twice");
    assert!(err.is_exists(), "{err:?}");
    assert_eq!(err.op, "create bridge wbr-test3");
    assert!(err.to_string().starts_with("create bridge wbr-test3: "), "{err}");

    let err = nl.create_veth("wbr-test3", "wvtest3p", None, None).expect_err("veth over an existing name");
    assert!(err.is_exists(), "{err:?}");

    let err = nl.delete_link("wvmissing").expect_err("delete a missing link");
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.op, "delete link wvmissing");

    let err = nl.set_up(99_999).expect_err("a missing index");
    assert!(err.is_not_found(), "{err:?}");
    assert!(err.op.contains("#99999"), "{err:?}");

    let err = nl.create_bridge("wbr-0123456789abcdef", None).expect_err("name too long");
    assert_eq!(err.errno, Some(nix::libc::EINVAL), "{err:?}");
    assert_eq!(nl.link_by_name("wbr-0123456789abcdef").expect("look up"), None);

    let bridge = nl.link_by_name("wbr-test3").expect("look up").expect("exists");
    nl.add_address(bridge.index, net("10.3.0.1/24")).expect("address");
    let err = nl.add_address(bridge.index, net("10.3.0.1/24")).expect_err("the same address twice");
    assert!(err.is_exists(), "{err:?}");
    assert!(err.op.contains("wbr-test3"), "names the link: {err:?}");

    let err = nl.set_master(bridge.index, 99_999).expect_err("a missing master");
    assert!(err.errno.is_some(), "{err:?}");
    assert!(err.op.contains("wbr-test3") && err.op.contains("#99999"), "{err:?}");
}

#[test]
fn sysctl_inside_a_namespace() {
    let dir = TestDir::new("sysctl");
    let ns = TestNs::new(&dir, "a");
    let key = "net/ipv4/conf/all/forwarding";
    let root_before = get_sysctl(key).expect("read ours");

    let inside = ns
        .ns
        .run(|| -> Result<(String, String)> {
            set_sysctl(key, "1")?;
            let on = get_sysctl(key)?;
            set_sysctl(key, "0")?;
            Ok((on, get_sysctl(key)?))
        })
        .expect("run")
        .expect("sysctl in the namespace");
    assert_eq!(inside, ("1".to_string(), "0".to_string()));
    assert_eq!(get_sysctl(key).expect("read ours"), root_before, "our own namespace is untouched");

    let err = ns.ns.run(|| get_sysctl("net/ipv4/conf/nosuchlink/forwarding")).expect("run").expect_err("missing");
    assert!(err.is_not_found(), "{err:?}");
    let err = set_sysctl("net/../../etc/passwd", "x").expect_err("a path out of /proc/sys");
    assert_eq!(err.errno, Some(nix::libc::EINVAL), "{err:?}");
}

#[test]
fn tcp_between_two_namespaces_over_a_veth() {
    let dir = TestDir::new("traffic");
    let mut left = TestNs::new(&dir, "left");
    let mut right = TestNs::new(&dir, "right");

    left.nl().create_veth("wvtest4", "wvtest4p", None, None).expect("veth");
    let peer = left.link("wvtest4p");
    left.nl().move_to_netns(peer.index, &right.ns).expect("move");
    let left_end = left.link("wvtest4");
    let right_end = right.link("wvtest4p");
    left.nl().add_address(left_end.index, net("10.4.0.1/24")).expect("left address");
    right.nl().add_address(right_end.index, net("10.4.0.2/24")).expect("right address");
    left.nl().set_up(left_end.index).expect("left up");
    right.nl().set_up(right_end.index).expect("right up");

    // Sockets belong to the namespace they are made in, whichever thread uses them afterwards.
    let listener = left.ns.run(|| TcpListener::bind("10.4.0.1:0")).expect("run").expect("bind");
    let server: SocketAddr = listener.local_addr().expect("local addr");
    let mut client = right
        .ns
        .run(|| TcpStream::connect_timeout(&server, Duration::from_secs(5)))
        .expect("run")
        .expect("connect from the other namespace");

    listener.set_nonblocking(true).expect("nonblocking");
    let mut accepted = None;
    wait_for("the connection to be accepted", Duration::from_secs(5), || match listener.accept() {
        Ok((stream, from)) => {
            accepted = Some((stream, from));
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(e) => panic!("accept: {e}"),
    });
    let (mut stream, from) = accepted.expect("accepted");
    assert_eq!(from.ip(), ip("10.4.0.2"));
    stream.set_nonblocking(false).expect("blocking");

    for s in [&stream, &client] {
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        s.set_write_timeout(Some(Duration::from_secs(5))).expect("timeout");
    }
    client.write_all(b"ping").expect("client writes");
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).expect("server reads");
    assert_eq!(&buf, b"ping");
    stream.write_all(b"pong").expect("server writes");
    client.read_exact(&mut buf).expect("client reads");
    assert_eq!(&buf, b"pong");
}

#[test]
fn handles_cross_threads() {
    fn send<T: Send>() {}
    send::<Netlink>();
    send::<Netns>();
    send::<OslError>();
}
