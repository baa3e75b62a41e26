//! Published ports end to end: `-p`, `-P`, `--expose` and `weft port` as a user types them, the
//! API fields, and real TCP and UDP traffic through the published ports from the host itself,
//! from its loopback, and from a second namespace that plays a client machine on the host's
//! outside link; hairpin, isolation between networks, `enable_icc=false`, `--internal`; the
//! refusals (bad specs, a host port taken by a container or a host process), each leaving
//! nothing behind.

mod ports_common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ports_common::*;
use serde_json::{json, Value};
use weft_tests::{wait_for, Host};

#[test]
fn bad_specs_are_refused_before_anything_is_made() {
    let h = Host::new();
    let before = h.snapshot();
    for (spec, message) in [
        ("70000:80", "invalid hostPort: 70000"),
        ("abc", "invalid containerPort: abc"),
        ("1-5:1-3", "invalid ranges specified for container and host Ports: 1-3 and 1-5"),
        ("80/xyz", "invalid proto: xyz"),
        ("10.0.0.0.1:80:80", "invalid IP address: 10.0.0.0.1"),
    ] {
        let run = h.weft(&["run", "-d", "--name", "bad", "-p", spec, "hostfs", "sleep", "100"]);
        run.fails_with(125, &format!("weft: {message}\n\nRun 'weft run --help' for more information"));
        h.weft(&["create", "--name", "bad", "-p", spec, "hostfs", "true"])
            .fails_with(125, &format!("weft: {message}\n\nRun 'weft create --help' for more information"));
    }
    h.weft(&["run", "--expose", "x", "hostfs", "true"]).fails_with(125, "invalid range format for --expose: x");
    // The API refuses the same, with dockerd's words.
    for (body, message) in [
        (json!({"ExposedPorts": {"abc": {}}}), "invalid port specification: \\\"abc\\\""),
        (json!({"HostConfig": {"PortBindings": {"80/xyz": []}}}), "invalid port specification: \\\"80/xyz\\\""),
        (json!({"HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": "70000"}]}}}), "\\\"70000\\\""),
        (
            json!({"HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "1.2.3.4.5"}]}}}),
            "invalid IP address: 1.2.3.4.5",
        ),
    ] {
        let mut body = body;
        body["Image"] = json!("hostfs");
        body["Cmd"] = json!(["true"]);
        let (status, answer) = h.api("POST", "/containers/create?name=bad", Some(&body.to_string()));
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer.to_string().contains(message), "{answer} lacks {message}");
    }
    // Ports with a network mode that cannot publish them.
    h.weft(&["run", "-d", "--name", "owner", "hostfs", "sleep", "1000"]).ok();
    h.weft(&["run", "--network", "container:owner", "-p", "80:80", "hostfs", "true"])
        .fails_with(125, "conflicting options: port publishing and the container type network mode");
    h.weft(&["run", "--network", "container:owner", "--expose", "80", "hostfs", "true"])
        .fails_with(125, "conflicting options: port exposing and the container type network mode");
    h.weft(&["rm", "-f", "owner"]).ok();
    assert_eq!(h.weft(&["ps", "-a", "-q"]).ok(), "", "no container was made");
    // The kernel takes the removed container's host-side veth away in the background.
    assert!(wait_for(Duration::from_secs(5), || h.snapshot() == before), "{:?} != {before:?}", h.snapshot());
    h.assert_no_networking_left();
}

#[test]
fn what_is_asked_is_stored_and_shown() {
    let h = Host::new();
    h.weft(&[
        "create",
        "--name",
        "c",
        "-p",
        "127.0.0.1:8080:80",
        "-p",
        "8000-9000:81",
        "-p",
        "[::1]::53/udp",
        "-P",
        "--expose",
        "22",
        "--expose",
        "20-21",
        "hostfs",
        "true",
    ])
    .ok();
    let c = inspect(&h, "c");
    assert_eq!(
        c["Config"]["ExposedPorts"],
        json!({"20/tcp": {}, "21/tcp": {}, "22/tcp": {}, "53/udp": {}, "80/tcp": {}, "81/tcp": {}})
    );
    assert_eq!(
        c["HostConfig"]["PortBindings"],
        json!({
            "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
            "81/tcp": [{"HostIp": "", "HostPort": "8000-9000"}],
            "53/udp": [{"HostIp": "::1", "HostPort": ""}],
        })
    );
    assert_eq!(c["HostConfig"]["PublishAllPorts"], json!(true));
    assert_eq!(c["NetworkSettings"]["Ports"], json!({}), "not running: nothing bound");
    assert_eq!(h.weft(&["port", "c"]).ok(), "");
    h.weft(&["port", "c", "80"]).fails_with(1, "Error: No public port '80' published for c");
    h.weft(&["port", "c", "x"]).fails_with(1, "Error: invalid port (x)");
    h.weft(&["port"]).fails_with(1, "'weft port' requires at least 1 and at most 2 arguments");
    h.weft(&["port", "nosuch"]).fails_with(1, "No such container: nosuch");

    // The API, as Docker's clients send it (Go reads `HostIP` as `HostIp`).
    let body = json!({
        "Image": "hostfs", "Cmd": ["true"], "ExposedPorts": {"443/tcp": {}},
        "HostConfig": {"PortBindings": {"443/tcp": [{"HostIP": "", "HostPort": "8443"}]}, "PublishAllPorts": false},
    });
    let (status, answer) = h.api("POST", "/containers/create?name=api", Some(&body.to_string()));
    assert_eq!(status, 201, "{answer}");
    let (_, api) = h.api("GET", "/containers/api/json", None);
    assert_eq!(api["Config"]["ExposedPorts"], json!({"443/tcp": {}}));
    assert_eq!(api["HostConfig"]["PortBindings"], json!({"443/tcp": [{"HostIp": "", "HostPort": "8443"}]}));
    assert_eq!(api["HostConfig"]["PublishAllPorts"], json!(false));
    // Nothing asked: no ExposedPorts, empty bindings, as Docker shows them.
    h.weft(&["create", "--name", "plain", "hostfs", "true"]).ok();
    let plain = inspect(&h, "plain");
    assert!(plain["Config"].get("ExposedPorts").is_none(), "{}", plain["Config"]);
    assert_eq!(plain["HostConfig"]["PortBindings"], json!({}));

    // Exposed and not published: a running container shows it unbound, and `ps` lists it.
    h.weft(&["run", "-d", "--name", "exposed", "--expose", "22", "hostfs", "sleep", "1000"]).ok();
    assert_eq!(inspect(&h, "exposed")["NetworkSettings"]["Ports"], json!({"22/tcp": null}));
    let ps = h.weft(&["ps", "--format", "{{.Names}} {{.Ports}}"]);
    assert_eq!(ps.ok(), "exposed 22/tcp\n");
    h.weft(&["port", "exposed", "22"]).fails_with(1, "Error: No public port '22' published for exposed");
    // Connected to one more network while it runs: its ports go with the new endpoint.
    h.weft(&["network", "create", "more"]).ok();
    h.weft(&["network", "connect", "more", "exposed"]).ok();
    assert_eq!(inspect(&h, "exposed")["NetworkSettings"]["Ports"], json!({"22/tcp": null}));
    // Networks that publish nothing take the options and start.
    h.weft(&["run", "-d", "--name", "none", "--network", "none", "-p", "80", "hostfs", "sleep", "1000"]).ok();
    h.weft(&[
        "run",
        "-d",
        "--name",
        "hostmode",
        "--network",
        "host",
        "-P",
        "--expose",
        "22",
        "hostfs",
        "sleep",
        "1000",
    ])
    .ok();
    // The host network: accepted, with Docker's warning.
    let hostnet = h.weft(&["create", "--network", "host", "-p", "80:80", "hostfs", "true"]);
    assert!(
        hostnet.stderr.contains("WARNING: Published ports are discarded when using host network mode"),
        "{hostnet:?}"
    );
    h.weft(&["rm", "-f", "c", "api", "plain", "exposed", "none", "hostmode", hostnet.ok().trim()]).ok();
    h.weft(&["network", "rm", "more"]).ok();
    h.assert_no_networking_left();
}

#[test]
fn tcp_and_udp_from_the_host_its_loopback_and_a_client_machine() {
    let h = Host::new();
    let client = Client::on_outside_link(&h);
    serve(&h, "web", &["-p", "8080:80", "-p", "5353:53/udp"], &["80", "53/udp"]).ok();
    assert_eq!(h.weft(&["port", "web"]).ok(), "53/udp -> 0.0.0.0:5353\n80/tcp -> 0.0.0.0:8080\n");
    assert_eq!(h.weft(&["port", "web", "80/tcp"]).ok(), "0.0.0.0:8080\n");
    let ports = &inspect(&h, "web")["NetworkSettings"]["Ports"];
    assert_eq!(ports["80/tcp"], json!([{"HostIp": "0.0.0.0", "HostPort": "8080"}]));
    let ps = h.weft(&["ps", "--format", "{{.Ports}}"]);
    assert_eq!(ps.ok(), "0.0.0.0:5353->53/udp, 0.0.0.0:8080->80/tcp\n");

    let host = host_ns(&h);
    assert_eq!(tcp(&host, HOST_IP, 8080, PATIENT), "web:80", "from the host to its own address");
    assert_eq!(tcp(&host, "127.0.0.1", 8080, PATIENT), "web:80", "from the host's loopback");
    assert_eq!(tcp(&client.path(), HOST_IP, 8080, PATIENT), "web:80", "from the client machine");
    assert_eq!(udp(&host, HOST_IP, 5353, PATIENT), "web:53/udp");
    assert_eq!(udp(&client.path(), HOST_IP, 5353, PATIENT), "web:53/udp");
    // Only what was published: the same ports of the other protocol are not.
    assert!(tcp(&client.path(), HOST_IP, 5353, ONCE).starts_with("failed"));

    h.weft(&["rm", "-f", "web"]).ok();
    h.assert_no_networking_left();
}

#[test]
fn a_free_port_from_the_ephemeral_range_and_publish_all() {
    let h = Host::new();
    let client = Client::on_outside_link(&h);
    let range = in_ns(&host_ns(&h), &["cat", "/proc/sys/net/ipv4/ip_local_port_range"]);
    let bounds: Vec<u16> = range.ok().split_whitespace().filter_map(|p| p.parse().ok()).collect();
    assert_eq!(bounds.len(), 2, "{range:?}");
    serve(&h, "any", &["-p", "80"], &["80"]).ok();
    let port = host_port(&h, "any", "80");
    assert!((bounds[0]..=bounds[1]).contains(&port), "{port} outside {bounds:?}");
    assert_eq!(tcp(&client.path(), HOST_IP, port, PATIENT), "any:80");

    serve(&h, "all", &["-P", "--expose", "22", "--expose", "20"], &["20", "22"]).ok();
    let (p20, p22) = (host_port(&h, "all", "20"), host_port(&h, "all", "22"));
    assert_ne!(p20, p22);
    for p in [p20, p22] {
        assert!((bounds[0]..=bounds[1]).contains(&p), "{p} outside {bounds:?}");
    }
    assert_eq!(tcp(&client.path(), HOST_IP, p20, PATIENT), "all:20");
    assert_eq!(tcp(&client.path(), HOST_IP, p22, PATIENT), "all:22");
    let listed = h.weft(&["port", "all"]);
    assert_eq!(listed.ok(), format!("20/tcp -> 0.0.0.0:{p20}\n22/tcp -> 0.0.0.0:{p22}\n"));

    h.weft(&["rm", "-f", "any", "all"]).ok();
    h.assert_no_networking_left();
}

#[test]
fn ranges_of_ports() {
    let h = Host::new();
    let client = Client::on_outside_link(&h);
    serve(&h, "span", &["-p", "8000-8002:8000-8002", "-p", "9000-9100:80"], &["8000", "8001", "8002", "80"]).ok();
    for p in [8000u16, 8001, 8002] {
        assert_eq!(h.weft(&["port", "span", &p.to_string()]).ok(), format!("0.0.0.0:{p}\n"));
        assert_eq!(tcp(&client.path(), HOST_IP, p, PATIENT), format!("span:{p}"));
    }
    let one = host_port(&h, "span", "80");
    assert!((9000..=9100).contains(&one), "{one}");
    assert_eq!(tcp(&client.path(), HOST_IP, one, PATIENT), "span:80");
    let ps = h.weft(&["ps", "--format", "{{.Ports}}"]);
    assert_eq!(ps.ok(), format!("0.0.0.0:8000-8002->8000-8002/tcp, 0.0.0.0:{one}->80/tcp\n"));
    h.weft(&["rm", "-f", "span"]).ok();
    h.assert_no_networking_left();
}

#[test]
fn a_host_port_taken_fails_and_leaves_nothing() {
    let h = Host::new();
    serve(&h, "web", &["-p", "8080:80"], &["80"]).ok();
    let before = h.snapshot();
    assert_eq!(on_bridge(&h), ["web"]);
    h.weft(&["run", "-d", "--name", "web2", "-p", "8080:80", "hostfs", "sleep", "1000"])
        .fails_with(125, "port 8080/tcp is already allocated by container web");
    // Created, not started (as Docker leaves it), and no endpoint, sandbox or interface made.
    let state = h.weft(&["inspect", "-f", "{{.State.Status}} {{.NetworkSettings.SandboxID}}", "web2"]);
    assert_eq!(state.ok().trim(), "created");
    assert_eq!(on_bridge(&h), ["web"]);
    assert_eq!(h.snapshot(), before);
    h.weft(&["start", "web2"]).fails_with(1, "port 8080/tcp is already allocated by container web");
    assert_eq!(h.snapshot(), before);
    // Another protocol, or another host address, is another port.
    serve(&h, "udp", &["-p", "8080:80/udp"], &["80/udp"]).ok();
    h.weft(&["rm", "-f", "udp", "web2"]).ok();

    // A port a host process holds.
    let mut holder: Child = Command::new("nsenter")
        .arg(format!("--net={}", host_ns(&h)))
        .args(["python3", "-c", SERVER, "holder", "7070"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn a host server");
    assert!(wait_for(Duration::from_secs(5), || tcp(&host_ns(&h), "127.0.0.1", 7070, 1) == "holder:7070"));
    let before = h.snapshot();
    let taken = h.weft(&["run", "-d", "--name", "web3", "-p", "7070:80", "hostfs", "sleep", "1000"]);
    let _ = holder.kill();
    let _ = holder.wait();
    taken.fails_with(125, "cannot publish 0.0.0.0:7070/tcp: the port is in use by a process on the host");
    assert_eq!(h.snapshot(), before);
    assert_eq!(on_bridge(&h), ["web"]);
    // An address the host does not have (TEST-NET-3, on no interface of the test's namespace).
    h.weft(&["run", "-d", "--name", "web4", "-p", "203.0.113.9:8081:80", "hostfs", "sleep", "1000"])
        .fails_with(125, "cannot publish on 203.0.113.9: the host has no such address");
    assert_eq!(h.snapshot(), before);
    h.weft(&["rm", "-f", "web", "web3", "web4"]).ok();
    h.assert_no_networking_left();
}

#[test]
fn stop_and_rm_take_the_mapping_away() {
    let h = Host::new();
    let client = Client::on_outside_link(&h);
    serve(&h, "web", &["-p", "8080:80"], &["80"]).ok();
    assert_eq!(tcp(&client.path(), HOST_IP, 8080, PATIENT), "web:80");
    h.weft(&["stop", "-t", "1", "web"]).ok();
    assert!(tcp(&client.path(), HOST_IP, 8080, ONCE).starts_with("failed"));
    assert!(tcp(&host_ns(&h), "127.0.0.1", 8080, ONCE).starts_with("failed"));
    assert_eq!(inspect(&h, "web")["NetworkSettings"]["Ports"], json!({}));
    assert_eq!(h.weft(&["port", "web"]).ok(), "");
    // Started again, published again; then removed for good.
    h.weft(&["start", "web"]).ok();
    assert_eq!(tcp(&client.path(), HOST_IP, 8080, PATIENT), "web:80");
    h.weft(&["rm", "-f", "web"]).ok();
    assert!(tcp(&client.path(), HOST_IP, 8080, ONCE).starts_with("failed"));
    // The port is free for another container.
    serve(&h, "next", &["-p", "8080:80"], &["80"]).ok();
    assert_eq!(tcp(&client.path(), HOST_IP, 8080, PATIENT), "next:80");
    h.weft(&["rm", "-f", "next"]).ok();
    h.assert_no_networking_left();
}

/// A port whose removal the kernel refuses is not passed over with a warning: `weft rm -f` fails
/// and says what it could not undo, the container is still there to be removed again, and once
/// the table is weft's again (a restart loads it anew) the removal goes through.
#[test]
fn a_refused_unpublish_fails_the_removal() {
    let mut h = Host::new();
    serve(&h, "web", &["-p", "8080:80"], &["80"]).ok();
    assert_eq!(nft_elements(&h, "ports4_any_addr").len(), 1);
    // Another program replaces weft's table with one whose maps have other keys.
    let jam = "delete table inet weft; add table inet weft; \
               add map inet weft ports4_any_addr { type ipv4_addr : ipv4_addr; }; \
               add map inet weft ports4_any_port { type ipv4_addr : inet_service; }";
    in_ns(&host_ns(&h), &["nft", jam]).ok();
    let rm = h.weft(&["rm", "-f", "web"]);
    assert_ne!(rm.code, 0, "the removal fails: {rm:?}\n{}", h.log());
    assert!(rm.stderr.contains("ports4_any") && rm.stderr.contains("Invalid argument"), "{rm:?}");
    assert_eq!(h.weft(&["ps", "-a", "--format", "{{.Names}}"]).ok(), "web\n");
    h.stop();
    h.start();
    h.weft(&["rm", "-f", "web"]).ok();
    assert_eq!(h.weft(&["ps", "-a", "-q"]).ok(), "");
    assert_eq!(nft_elements(&h, "ports4_any_addr"), Vec::<String>::new());
    h.assert_no_networking_left();
}

#[test]
fn hairpin_to_its_own_and_a_neighbours_published_port() {
    let h = Host::new();
    let _client = Client::on_outside_link(&h);
    serve(&h, "web", &["-p", "8080:80"], &["80"]).ok();
    assert_eq!(tcp(&host_ns(&h), HOST_IP, 8080, PATIENT), "web:80");
    // A neighbour on the same bridge, through the host's address.
    assert_eq!(tcp_from_container(&h, "bridge", HOST_IP, 8080, PATIENT), "web:80");
    // The container itself.
    let own = h.weft(&["exec", "web", "python3", "-c", TCP_CLIENT, HOST_IP, "8080", &PATIENT.to_string()]);
    assert_eq!(own.ok().trim(), "web:80");
    // From a user network too.
    h.weft(&["network", "create", "--subnet", "10.91.0.0/24", "other"]).ok();
    assert_eq!(tcp_from_container(&h, "other", HOST_IP, 8080, PATIENT), "web:80");
    h.weft(&["rm", "-f", "web"]).ok();
    h.weft(&["network", "rm", "other"]).ok();
    h.assert_no_networking_left();
}

#[test]
fn networks_stay_apart_and_icc_false_keeps_containers_apart() {
    let h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.92.0.0/24", "one"]).ok();
    h.weft(&["network", "create", "--subnet", "10.93.0.0/24", "two"]).ok();
    h.weft(&[
        "network",
        "create",
        "--subnet",
        "10.94.0.0/24",
        "-o",
        "com.docker.network.bridge.enable_icc=false",
        "noicc",
    ])
    .ok();
    serve(&h, "a", &["--network", "one", "-p", "8080:80"], &["80"]).ok();
    serve(&h, "b", &["--network", "noicc"], &["80"]).ok();
    let (a, b) = (container_ip(&h, "a"), container_ip(&h, "b"));
    // Both serve: the host reaches them directly.
    assert_eq!(tcp(&host_ns(&h), &a, 80, PATIENT), "a:80");
    assert_eq!(tcp(&host_ns(&h), &b, 80, PATIENT), "b:80");

    assert_eq!(tcp_from_container(&h, "one", &a, 80, PATIENT), "a:80", "same network");
    assert!(tcp_from_container(&h, "two", &a, 80, ONCE).starts_with("failed"), "from another network");
    assert!(tcp_from_container(&h, "noicc", &b, 80, ONCE).starts_with("failed"), "icc=false");
    assert!(tcp_from_container(&h, "noicc", &a, 80, ONCE).starts_with("failed"), "from an icc=false network");

    h.weft(&["rm", "-f", "a", "b"]).ok();
    h.weft(&["network", "rm", "one", "two", "noicc"]).ok();
    h.assert_no_networking_left();
}

#[test]
fn an_internal_network_cannot_reach_the_outside() {
    let h = Host::new();
    let client = Client::on_outside_link(&h);
    // A server on the client machine.
    let mut outside: Child = Command::new("nsenter")
        .arg(format!("--net={}", client.path()))
        .args(["python3", "-c", SERVER, "outside", "80"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the outside server");
    let up = wait_for(Duration::from_secs(5), || tcp(&client.path(), CLIENT_IP, 80, 1) == "outside:80");
    h.weft(&["network", "create", "--subnet", "10.95.0.0/24", "open"]).ok();
    h.weft(&["network", "create", "--internal", "--subnet", "10.96.0.0/24", "closed"]).ok();
    let open = tcp_from_container(&h, "open", CLIENT_IP, 80, PATIENT);
    let closed = tcp_from_container(&h, "closed", CLIENT_IP, 80, ONCE);
    let _ = outside.kill();
    let _ = outside.wait();
    assert!(up, "the outside server did not start");
    assert_eq!(open, "outside:80", "a network with a way out reaches the client machine");
    assert!(closed.starts_with("failed"), "{closed}");
    // Nor can an internal network's container be published to.
    serve(&h, "hidden", &["--network", "closed", "-p", "8090:80"], &["80"]).ok();
    assert!(tcp(&client.path(), HOST_IP, 8090, ONCE).starts_with("failed"));
    h.weft(&["rm", "-f", "hidden"]).ok();
    h.weft(&["network", "rm", "open", "closed"]).ok();
    h.assert_no_networking_left();
}

/// The elements of one of weft's nftables sets or maps in the daemon's namespace (as JSON text).
fn nft_elements(h: &Host, set: &str) -> Vec<String> {
    let kind = if set.starts_with("ports") { "map" } else { "set" };
    let out = in_ns(&host_ns(h), &["nft", "-j", "list", kind, "inet", "weft", set]);
    let v: Value = serde_json::from_str(out.ok()).expect("nft -j JSON");
    let items = v["nftables"].as_array().cloned().unwrap_or_default();
    let elems = items.iter().find_map(|i| i[kind]["elem"].as_array().cloned()).unwrap_or_default();
    elems.iter().map(|e| e.to_string()).collect()
}

#[test]
fn a_restart_reconciles_the_tables_with_the_store() {
    let mut h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.92.0.0/24", "user"]).ok();
    serve(&h, "web", &["--network", "user", "-p", "8080:80"], &["80"]).ok();
    assert_eq!(tcp(&host_ns(&h), "127.0.0.1", 8080, PATIENT), "web:80");
    assert_eq!(nft_elements(&h, "ports4_any_addr").len(), 1);
    assert_eq!(nft_elements(&h, "bridges").len(), 2, "weft0 and the user network's bridge");
    // A crash, then a restart: the container is stopped, the tables are loaded anew and hold
    // the networks again, but no port of a container that no longer runs.
    h.kill9();
    h.start();
    assert_eq!(nft_elements(&h, "ports4_any_addr"), Vec::<String>::new());
    assert_eq!(nft_elements(&h, "ports4_any_port"), Vec::<String>::new());
    assert_eq!(nft_elements(&h, "bridges").len(), 2);
    assert_eq!(nft_elements(&h, "masq4").len(), 2);
    assert!(tcp(&host_ns(&h), "127.0.0.1", 8080, ONCE).starts_with("failed"));
    // Started again, it publishes again; removed, its port and then its network leave the tables.
    h.weft(&["start", "web"]).ok();
    assert_eq!(tcp(&host_ns(&h), "127.0.0.1", 8080, PATIENT), "web:80");
    h.weft(&["rm", "-f", "web"]).ok();
    assert_eq!(nft_elements(&h, "ports4_any_addr"), Vec::<String>::new());
    h.weft(&["network", "rm", "user"]).ok();
    assert_eq!(nft_elements(&h, "bridges").len(), 1, "weft0 only");
    assert_eq!(nft_elements(&h, "masq4").len(), 1);
    h.assert_no_networking_left();
}

#[test]
fn ipv6_ports_from_the_host_and_a_client_machine() {
    let h = Host::new();
    let client = Client::on_outside_link(&h);
    // IPv6 on the outside link too (no duplicate address detection: the test made both ends).
    let ip = |ns: &str, args: &[&str]| {
        let mut all = vec!["ip", "-n", ns];
        all.extend_from_slice(args);
        let out = Command::new(all[0]).args(&all[1..]).output().expect("run ip");
        assert!(out.status.success(), "{all:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    ip(&h.netns, &["addr", "add", "2001:db8:1::1/64", "dev", "out0", "nodad"]);
    ip(&client.netns, &["addr", "add", "2001:db8:1::2/64", "dev", "eth0", "nodad"]);
    ip(&client.netns, &["-6", "route", "add", "default", "via", "2001:db8:1::1"]);
    h.weft(&["network", "create", "--ipv6", "--subnet", "10.93.0.0/24", "--subnet", "fd00:93::/64", "dual"]).ok();
    h.weft(&[
        "run",
        "-d",
        "--name",
        "web6",
        "--network",
        "dual",
        "-p",
        "8080:80",
        "hostfs",
        "python3",
        "-c",
        SERVER6,
        "web6",
    ])
    .ok();
    // Published on both families, with one host port.
    let shown = h.weft(&["port", "web6", "80"]);
    assert_eq!(shown.ok().lines().collect::<Vec<_>>(), ["0.0.0.0:8080", "[::]:8080"]);
    assert_eq!(tcp(&client.path(), "2001:db8:1::1", 8080, PATIENT), "web6:80");
    assert_eq!(tcp(&client.path(), HOST_IP, 8080, PATIENT), "web6:80");
    assert_eq!(tcp(&host_ns(&h), "2001:db8:1::1", 8080, PATIENT), "web6:80");
    // The container's IPv6 address is not reachable directly from outside.
    let direct = h.weft(&["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.GlobalIPv6Address}}{{end}}", "web6"]);
    let direct = direct.ok().trim().to_string();
    assert!(direct.starts_with("fd00:93::"), "{direct}");
    assert!(tcp(&client.path(), &direct, 80, ONCE).starts_with("failed"));
    h.weft(&["rm", "-f", "web6"]).ok();
    assert!(tcp(&client.path(), "2001:db8:1::1", 8080, ONCE).starts_with("failed"));
    h.weft(&["network", "rm", "dual"]).ok();
    h.assert_no_networking_left();
}
