//! Docker uses a weft driver: `weft plugin serve bridge` on a socket in Docker's plugin directory,
//! and Debian's dockerd (20.10) in the same network namespace of the test's own. As a user would,
//! the test creates a dual-stack network with `docker network create -d <plugin>`, runs two
//! containers on it, checks their addresses and that they reach each other (IPv4, IPv6, by name)
//! and a published port, and removes it all; weft's bridge exists exactly while the network does.
//!
//! dockerd runs in the test's namespace (`nsenter --net`) and in a mount namespace of its own
//! (`unshare --mount`), so its mounts vanish with it; its data root, exec root, API socket,
//! pidfile and cgroup parent are the test's. If dockerd is not installed or cannot start here,
//! the test is skipped, visibly ([`weft_tests::skip`]), and counted as a skip.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ipnet::IpNet;
use libnet::{marks, NetworkId};
use serde_json::Value;
use weft_tests::docker::{alive, import_image, signal, tools, Dockerd};
use weft_tests::{bin, run_bounded, skip, wait_for, Host};

/// Where Docker looks for plugin sockets.
const PLUGIN_DIR: &str = "/run/docker/plugins";
/// The image the test makes from busybox.
const IMAGE: &str = "weft-busybox:e2e";
/// The IPv6 subnet of the network (dockerd's IPAM picks the IPv4 one).
const SUBNET6: &str = "fd00:77::/64";
/// The port the first container serves and publishes.
const PORT: &str = "8080";

/// `weft plugin serve bridge` in the test's namespace, on `/run/docker/plugins/<name>.sock`.
struct Plugin {
    child: Option<Child>,
    socket: PathBuf,
    log: PathBuf,
}

impl Plugin {
    fn start(host: &Host, name: &str) -> Plugin {
        let socket = Path::new(PLUGIN_DIR).join(format!("{name}.sock"));
        let log = host.dir.path().join("plugin.log");
        let out = std::fs::File::create(&log).expect("plugin log");
        let child = Command::new("nsenter")
            .arg(format!("--net={}", host.netns_path().display()))
            .arg(bin("weft"))
            .args(["plugin", "serve", "bridge", "--socket"])
            .arg(&socket)
            .env("RUST_LOG", "info,driver_remote=debug")
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("plugin log"))
            .stderr(out)
            .spawn()
            .expect("start weft plugin serve");
        let mut plugin = Plugin { child: Some(child), socket, log };
        let up = wait_for(Duration::from_secs(20), || {
            std::os::unix::net::UnixStream::connect(&plugin.socket).is_ok() || plugin.exited()
        });
        assert!(up && !plugin.exited(), "weft plugin serve did not come up: {}", plugin.log());
        plugin
    }

    fn exited(&mut self) -> bool {
        self.child.as_mut().is_none_or(|c| matches!(c.try_wait(), Ok(Some(_))))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, as a user's Ctrl-C; true if it ended by itself within 15 s.
    fn stop(&mut self) -> bool {
        let Some(mut c) = self.child.take() else { return true };
        signal(c.id(), nix::sys::signal::Signal::SIGTERM);
        let ended = wait_for(Duration::from_secs(15), || matches!(c.try_wait(), Ok(Some(_))));
        if !ended {
            let _ = c.kill();
        }
        let _ = c.wait();
        ended
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        self.stop();
        if std::fs::symlink_metadata(&self.socket).is_ok_and(|m| m.file_type().is_socket()) {
            let _ = std::fs::remove_file(&self.socket);
        }
    }
}

/// The JSON of a `docker ... inspect`, first element.
#[track_caller]
fn inspect(d: &Dockerd, args: &[&str]) -> Value {
    let out = d.docker(args);
    let v: Value = serde_json::from_str(out.ok()).expect("inspect JSON");
    v.get(0).cloned().expect("one object")
}

/// The host-side ports of a bridge.
fn bridge_ports(host: &Host, bridge: &str) -> Vec<String> {
    let r = host.ip(&["-j", "link", "show", "master", bridge]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
    v.as_array().map(|a| a.iter().filter_map(|l| l["ifname"].as_str().map(String::from)).collect()).unwrap_or_default()
}

#[test]
fn dockerd_runs_containers_on_a_network_of_weft_plugin_serve() {
    let tools = match tools() {
        Ok(t) => t,
        Err(reason) => return skip(&reason),
    };
    let host = Host::bare();
    let name = format!("weft-e2e-{}", std::process::id());
    let mut plugin = Plugin::start(&host, &name);
    let mut docker = match Dockerd::start(&host, &tools) {
        Ok(d) => d,
        Err(reason) => return skip(&reason),
    };
    let d = &docker;
    import_image(d, &tools, host.dir.path(), IMAGE, &["sh", "sleep", "ping", "ip", "nc", "cat"], &[]);

    // The network: dockerd's IPAM picks the IPv4 subnet, weft's bridge driver makes the bridge.
    let id = d.docker(&["network", "create", "-d", &name, "--ipv6", "--subnet", SUBNET6, "n1"]).ok().trim().to_string();
    let bridge = marks::bridge_name(&NetworkId::from_string(&id));
    assert!(host.link(&bridge).is_some(), "no bridge {bridge} for network {id}: {}", plugin.log());
    let net = inspect(d, &["network", "inspect", "n1"]);
    assert_eq!(net["Driver"], name.as_str());
    let pools: Vec<(IpNet, String)> = net["IPAM"]["Config"]
        .as_array()
        .expect("IPAM.Config")
        .iter()
        .map(|c| {
            let subnet = c["Subnet"].as_str().expect("Subnet").parse().expect("a CIDR");
            // dockerd records no gateway for a subnet given without one (IPv6 here).
            (subnet, c["Gateway"].as_str().unwrap_or("").to_string())
        })
        .collect();
    let pool = |v6: bool| pools.iter().find(|(s, _)| matches!(s, IpNet::V6(_)) == v6).cloned().expect("a pool");
    let ((subnet, gateway), (subnet6, _)) = (pool(false), pool(true));
    assert_eq!(subnet6.to_string(), SUBNET6);
    // The gateways dockerd's IPAM chose are on weft's bridge (IPv6's is read from a container).
    let on_bridge = host.addresses(&bridge);
    assert!(on_bridge.contains(&format!("{gateway}/{}", subnet.prefix_len())), "{on_bridge:?}");

    // Two containers; the first serves a line on PORT, published on the host.
    let serve = format!("for i in 1 2 3 4 5; do echo weft-$i | nc -l -p {PORT}; done");
    let publish = format!("{PORT}:{PORT}");
    d.docker(&["run", "-d", "--name", "c1", "--network", "n1", "-p", &publish, IMAGE, "sh", "-c", &serve]).ok();
    d.docker(&["run", "-d", "--name", "c2", "--network", "n1", IMAGE, "sleep", "600"]).ok();
    let (mut ips, mut ips6, mut gateways6) = (Vec::new(), Vec::new(), Vec::new());
    for c in ["c1", "c2"] {
        let settings = &inspect(d, &["inspect", c])["NetworkSettings"]["Networks"]["n1"];
        let ip: std::net::IpAddr = settings["IPAddress"].as_str().expect("IPAddress").parse().expect("an address");
        assert!(subnet.contains(&ip), "{c} got {ip}, outside {subnet}");
        assert_eq!(settings["Gateway"], gateway.as_str());
        // The interface weft's driver made, moved in and named by dockerd, with that address.
        let eth0 = d.docker(&["exec", c, "ip", "-o", "-4", "addr", "show", "eth0"]);
        assert!(eth0.ok().contains(&format!("inet {ip}/{}", subnet.prefix_len())), "{c}: {}", eth0.stdout);
        let route = d.docker(&["exec", c, "ip", "route"]);
        assert!(route.ok().contains(&format!("default via {gateway} dev eth0")), "{c}: {}", route.stdout);
        ips.push(ip.to_string());
        let ip6: std::net::IpAddr =
            settings["GlobalIPv6Address"].as_str().expect("GlobalIPv6Address").parse().expect("an address");
        assert!(subnet6.contains(&ip6), "{c} got {ip6}, outside {subnet6}");
        gateways6.push(settings["IPv6Gateway"].as_str().expect("IPv6Gateway").to_string());
        let eth0 = d.docker(&["exec", c, "ip", "-o", "-6", "addr", "show", "eth0"]);
        assert!(eth0.ok().contains(&format!("inet6 {ip6}/64")), "{c}: {}", eth0.stdout);
        ips6.push(ip6.to_string());
    }
    assert_ne!(ips[0], ips[1]);
    assert_ne!(ips6[0], ips6[1]);
    assert_eq!(gateways6[0], gateways6[1]);
    let gateway6: std::net::IpAddr = gateways6[0].parse().expect("an IPv6 gateway");
    assert!(subnet6.contains(&gateway6));
    let mut on_bridge = host.addresses(&bridge);
    on_bridge.sort();
    assert_eq!(on_bridge, [format!("{gateway}/{}", subnet.prefix_len()), format!("{gateway6}/64")]);
    assert_eq!(bridge_ports(&host, &bridge).len(), 2, "the bridge's ports: {:?}", bridge_ports(&host, &bridge));

    // c2 reaches c1, by ICMP (IPv4 and IPv6) and by TCP.
    for ip in [&ips[0], &ips6[0]] {
        let ping = d.docker(&["exec", "c2", "ping", "-c", "1", "-W", "5", ip]);
        assert!(ping.ok().contains("1 packets received"), "{}", ping.stdout);
    }
    // By name too: dockerd's embedded DNS in c2's sandbox knows c1 (nothing is forwarded).
    let ping = d.docker(&["exec", "c2", "ping", "-c", "1", "-W", "5", "c1"]);
    let (v4, v6) = (format!("PING c1 ({})", ips[0]), format!("PING c1 ({})", ips6[0]));
    let out = ping.ok();
    assert!((out.contains(&v4) || out.contains(&v6)) && out.contains("1 packets received"), "{out}");
    let got = d.docker(&["exec", "c2", "nc", "-w", "5", &ips[0], PORT]);
    assert_eq!(got.ok().trim(), "weft-1");
    // The published port, from the host (the test's namespace) through weft's DNAT.
    let mut nc = Command::new("nsenter");
    nc.arg(format!("--net={}", host.netns_path().display()))
        .arg(&tools.busybox)
        .args(["nc", "-w", "5", &gateway, PORT]);
    assert_eq!(run_bounded(&mut nc, Duration::from_secs(30)).ok().trim(), "weft-2");

    let net = inspect(d, &["network", "inspect", "n1"]);
    let mut attached: Vec<(String, String)> = net["Containers"]
        .as_object()
        .expect("Containers")
        .values()
        .map(|c| (c["Name"].as_str().unwrap_or("").to_string(), c["IPv4Address"].as_str().unwrap_or("").to_string()))
        .collect();
    attached.sort();
    let want: Vec<(String, String)> =
        ["c1", "c2"].iter().zip(&ips).map(|(c, ip)| (c.to_string(), format!("{ip}/{}", subnet.prefix_len()))).collect();
    assert_eq!(attached, want);

    // Everything goes as a user removes it: the endpoints' veths, then the bridge.
    d.docker(&["rm", "-f", "c1", "c2"]).ok();
    assert!(wait_for(Duration::from_secs(10), || bridge_ports(&host, &bridge).is_empty()));
    assert!(host.link(&bridge).is_some(), "the bridge went before its network");
    assert_eq!(host.veths_left(), Vec::<String>::new());
    d.docker(&["network", "rm", "n1"]).ok();
    assert!(host.link(&bridge).is_none(), "bridge {bridge} is left after docker network rm");
    d.docker(&["rmi", IMAGE]).ok();
    assert!(host.link("docker0").is_none(), "dockerd made docker0 despite --bridge=none");

    let log = plugin.log();
    assert!(!log.contains("driver error"), "the driver refused a call of dockerd's: {log}");
    for call in ["CreateNetwork", "CreateEndpoint", "Join", "ProgramExternalConnectivity", "Leave", "DeleteEndpoint"] {
        assert!(log.contains(&format!("call=NetworkDriver.{call}")), "dockerd never called {call}: {log}");
    }
    assert!(log.contains("call=NetworkDriver.DeleteNetwork"), "{log}");

    // The plugin ends on SIGTERM while dockerd still holds its connections, and takes its socket
    // away; then dockerd and its containerd end on SIGTERM.
    assert!(plugin.stop(), "weft plugin serve did not stop on SIGTERM: {}", plugin.log());
    assert!(!plugin.log().contains("calls still in progress"), "{}", plugin.log());
    assert!(!plugin.socket.exists(), "the plugin left its socket {}", plugin.socket.display());
    let containerd = docker.containerd_pid().expect("containerd's pid file");
    assert!(docker.stop(), "dockerd or containerd did not stop by itself: {}", docker.log());
    assert!(!alive(containerd));
}

/// One POST to a plugin socket: the status and the body.
fn post(socket: &Path, path: &str) -> (u16, Value) {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket).expect("connect to the plugin");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let req = format!("POST {path} HTTP/1.1\r\nHost: plugin\r\nContent-Length: 5\r\nConnection: close\r\n\r\nnull\n");
    s.write_all(req.as_bytes()).expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// `weft plugin serve null` (no kernel state, so no namespace needed) on `socket`, up.
fn serve_null(socket: &Path) -> Child {
    let mut child = Command::new(bin("weft"))
        .args(["plugin", "serve", "null", "--socket"])
        .arg(socket)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start weft plugin serve");
    let up = wait_for(Duration::from_secs(20), || {
        std::os::unix::net::UnixStream::connect(socket).is_ok() || matches!(child.try_wait(), Ok(Some(_)))
    });
    assert!(up && matches!(child.try_wait(), Ok(None)), "weft plugin serve null did not come up");
    child
}

/// SIGTERM; the exit code.
fn terminate(mut child: Child) -> Option<i32> {
    signal(child.id(), nix::sys::signal::Signal::SIGTERM);
    if !wait_for(Duration::from_secs(15), || matches!(child.try_wait(), Ok(Some(_)))) {
        let _ = child.kill();
    }
    child.wait().ok().and_then(|s| s.code())
}

#[test]
fn weft_plugin_serve_checks_its_arguments_and_owns_its_socket() {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("run/plugins/wnull.sock");
    let sock = socket.to_str().expect("a UTF-8 path");
    let weft = |args: &[&str]| {
        run_bounded(Command::new(bin("weft")).args(["plugin", "serve"]).args(args), Duration::from_secs(60))
    };
    weft(&["--socket", sock]).fails_with(1, "'weft plugin serve' requires 1 argument");
    weft(&["null"]).fails_with(125, "--socket is required");
    let unknown = weft(&["overlay", "--socket", sock]);
    unknown.fails_with(1, "unknown driver \"overlay\": no libweft_driver_overlay.so in ");
    assert!(unknown.stderr.contains("; the drivers there: bridge, host, null"), "{}", unknown.stderr);
    weft(&["null", "--socket", sock, "-o", "mtu"]).fails_with(125, "invalid argument \"mtu\" for \"-o, --opt\" flag");
    weft(&["bridge", "--socket", sock, "-o", "userland-proxy=yes"]).fails_with(
        1,
        "driver bridge could not start: invalid value \"yes\" for userland-proxy: must be true or false",
    );
    assert!(!socket.parent().expect("parent").exists(), "a refused command made the socket's directory");

    // Its directory is made; Docker's activation and calls are answered.
    let server = serve_null(&socket);
    assert_eq!(post(&socket, "/Plugin.Activate"), (200, serde_json::json!({"Implements": ["NetworkDriver"]})));
    assert_eq!(post(&socket, "/NetworkDriver.GetCapabilities"), (200, serde_json::json!({"Scope": "local"})));
    // A second server on a live socket is refused, and leaves the first alone.
    weft(&["null", "--socket", sock]).fails_with(1, &format!("something is already listening on {sock}"));
    assert_eq!(post(&socket, "/Plugin.Activate").0, 200);
    assert_eq!(terminate(server), Some(0));
    assert!(!socket.exists(), "the socket is left after SIGTERM");

    // A stale socket (nobody listening) is replaced.
    drop(std::os::unix::net::UnixListener::bind(&socket).expect("a stale socket"));
    assert!(socket.exists());
    let server = serve_null(&socket);
    assert_eq!(post(&socket, "/Plugin.Activate").0, 200);
    assert_eq!(terminate(server), Some(0));
    assert!(!socket.exists());
}
