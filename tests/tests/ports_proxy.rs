//! Published ports with `weftd --userland-proxy`: the host's loopback (IPv4 and `[::1]`) and
//! containers reaching a published port through a host address are served by weftd's in-process
//! proxy, while a client machine on the outside link keeps the DNAT path; the port is refused
//! and free again once the container is removed.

mod ports_common;

use std::process::Command;

use ports_common::*;
use weft_tests::Host;

/// [`SERVER`] saying where each connection came from: through the proxy it is the bridge's
/// address (the proxy connects from the host); through DNAT, the client's own.
fn serve_who(h: &Host, name: &str, flags: &[&str], ports: &[&str]) {
    serve(h, name, &[flags, &["-e", "SAY_FROM=1"]].concat(), ports).ok();
}

fn proxied_host() -> Host {
    Host::with_args(&["--userland-proxy"])
}

/// The processes listening on TCP `port` in the host's namespace, as `ss -p` names them.
fn tcp_listeners(h: &Host, port: u16) -> String {
    let filter = format!("sport = :{port}");
    let out = Command::new("ip").args(["netns", "exec", &h.netns, "ss", "-Hltnp", &filter]).output().expect("run ss");
    assert!(out.status.success(), "ss: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The gateway address of network `name`.
fn gateway(h: &Host, name: &str) -> String {
    let out = h.weft(&["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}", name]);
    out.ok().split_whitespace().find(|g| !g.contains(':')).unwrap_or_default().to_string()
}

#[test]
fn loopback_and_containers_go_through_the_proxy_and_other_machines_through_dnat() {
    let h = proxied_host();
    let client = Client::on_outside_link(&h);
    // The ruleset leaves the loopback and the bridges to the proxy.
    let output = in_ns(&host_ns(&h), &["nft", "list", "chain", "inet", "weft", "output"]);
    assert!(output.ok().contains("ip daddr 127.0.0.0/8 return"), "{}", output.ok());
    serve_who(&h, "web", &["-p", "8080:80", "-p", "5353:53/udp"], &["80", "53/udp"]);
    let gw = gateway(&h, "bridge");
    assert!(!gw.is_empty(), "the default bridge has a gateway");
    let host = host_ns(&h);

    // The published TCP port listens, in weftd.
    assert!(tcp_listeners(&h, 8080).contains("weftd"), "{}", tcp_listeners(&h, 8080));
    // From the host's loopback: the proxy, which connects from the bridge's address.
    assert_eq!(tcp(&host, "127.0.0.1", 8080, PATIENT), format!("web:80 from {gw}"));
    assert_eq!(udp(&host, "127.0.0.1", 5353, PATIENT), format!("web:53/udp from {gw}"));
    // Twice from one client socket and from another: flows per client address.
    assert_eq!(udp(&host, "127.0.0.1", 5353, PATIENT), format!("web:53/udp from {gw}"));
    // From the client machine: DNAT, which keeps the client's address.
    assert_eq!(tcp(&client.path(), HOST_IP, 8080, PATIENT), format!("web:80 from {CLIENT_IP}"));
    assert_eq!(udp(&client.path(), HOST_IP, 5353, PATIENT), format!("web:53/udp from {CLIENT_IP}"));
    // Hairpin: a neighbour, and the container itself, through the host's address.
    assert_eq!(tcp_from_container(&h, "bridge", HOST_IP, 8080, PATIENT), format!("web:80 from {gw}"));
    let own = h.weft(&["exec", "web", "python3", "-c", TCP_CLIENT, HOST_IP, "8080", &PATIENT.to_string()]);
    assert_eq!(own.ok().trim(), format!("web:80 from {gw}"));
    // From a container of a user network too (through its own gateway, to the host).
    h.weft(&["network", "create", "--subnet", "10.95.0.0/24", "other"]).ok();
    assert_eq!(tcp_from_container(&h, "other", HOST_IP, 8080, PATIENT), format!("web:80 from {gw}"));

    // Removed: refused at once, and nothing listens any more.
    h.weft(&["rm", "-f", "web"]).ok();
    assert!(tcp(&host, "127.0.0.1", 8080, ONCE).starts_with("failed"));
    assert!(udp(&host, "127.0.0.1", 5353, ONCE).starts_with("failed"));
    assert!(tcp(&client.path(), HOST_IP, 8080, ONCE).starts_with("failed"));
    assert_eq!(tcp_listeners(&h, 8080), "");
    // The port is free again at once, though the proxy's connections on it have just closed.
    serve_who(&h, "next", &["-p", "8080:80"], &["80"]);
    assert_eq!(tcp(&host, "127.0.0.1", 8080, PATIENT), format!("next:80 from {gw}"));
    h.weft(&["rm", "-f", "next"]).ok();
    h.weft(&["network", "rm", "other"]).ok();
    h.assert_no_networking_left();
}

#[test]
fn ipv6_loopback_reaches_a_dual_stack_container_through_the_proxy() {
    let h = proxied_host();
    h.weft(&["network", "create", "--ipv6", "--subnet", "10.96.0.0/24", "--subnet", "fd00:96::/64", "dual"]).ok();
    let run = ["run", "-d", "--name", "web6", "--network", "dual", "-p", "8080:80", "hostfs", "python3", "-c"];
    let mut args = run.to_vec();
    args.extend_from_slice(&[SERVER6, "web6"]);
    h.weft(&args).ok();
    let shown = h.weft(&["port", "web6", "80"]);
    assert_eq!(shown.ok().lines().collect::<Vec<_>>(), ["0.0.0.0:8080", "[::]:8080"]);
    let host = host_ns(&h);
    // [::1] never leaves lo: only the proxy can serve it.
    assert_eq!(tcp(&host, "::1", 8080, PATIENT), "web6:80");
    assert_eq!(tcp(&host, "127.0.0.1", 8080, PATIENT), "web6:80");
    h.weft(&["rm", "-f", "web6"]).ok();
    assert!(tcp(&host, "::1", 8080, ONCE).starts_with("failed"));
    h.weft(&["network", "rm", "dual"]).ok();
    h.assert_no_networking_left();
}

#[test]
fn the_default_mode_has_no_proxy() {
    let h = Host::new();
    serve_who(&h, "web", &["-p", "8080:80"], &["80"]);
    let host = host_ns(&h);
    // Loopback works through DNAT (and the bridge's masquerade), with no socket listening.
    let gw = gateway(&h, "bridge");
    assert_eq!(tcp(&host, "127.0.0.1", 8080, PATIENT), format!("web:80 from {gw}"));
    assert_eq!(tcp_listeners(&h, 8080), "");
    h.weft(&["rm", "-f", "web"]).ok();
    h.assert_no_networking_left();
}
