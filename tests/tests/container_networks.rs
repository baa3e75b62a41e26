//! Containers on several networks: `--network` given more than once, `weft network connect` and
//! `disconnect` of running and stopped containers, `container:<name>` mode and `--mac-address`,
//! with real traffic and Docker's refusals.

use std::process::Command;
use std::time::Duration;

use weft_tests::{wait_for, Host, Run, OK_SERVER};

/// Connect to `ip`:80 from a fresh container on `network`: what it read, or the error. Retried for
/// up to 5 s while the server starts; one try when `once`.
fn reach(h: &Host, network: &str, ip: &str, once: bool) -> String {
    h.reach(network, ip, if once { 1 } else { 50 })
}

/// Run a command in the network namespace of a running container, from the test.
fn in_netns(h: &Host, container: &str, args: &[&str]) -> Run {
    let key = h.weft(&["inspect", "-f", "{{.NetworkSettings.SandboxKey}}", container]);
    let key = key.ok().trim().to_string();
    assert!(!key.is_empty(), "{container} has no sandbox");
    let out = Command::new("nsenter").arg(format!("--net={key}")).args(args).output().expect("run nsenter");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn field(h: &Host, container: &str, template: &str) -> String {
    h.weft(&["inspect", "-f", template, container]).ok().trim().to_string()
}

/// The container's networks, sorted (gtmpl ranges over maps unsorted, unlike Go).
fn networks(h: &Host, container: &str) -> Vec<String> {
    let listed = field(h, container, "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}");
    let mut v: Vec<String> = listed.split_whitespace().map(str::to_string).collect();
    v.sort();
    v
}

fn network_names(h: &Host, container: &str) -> Vec<String> {
    networks(h, container).iter().map(|n| n.split('=').next().unwrap_or_default().to_string()).collect()
}

fn no_weft_links(h: &Host) -> bool {
    h.veths_left().is_empty()
}

#[test]
fn connect_and_disconnect_a_running_container() {
    let h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.81.0.0/24", "front"]).ok();
    h.weft(&["network", "create", "--subnet", "10.82.0.0/24", "back"]).ok();
    h.weft(&["network", "create", "--subnet", "10.83.0.0/24", "other"]).ok();
    h.run_ok_server("web", "front", Some("10.81.0.10"), &[]);
    assert_eq!(reach(&h, "front", "10.81.0.10", false), "ok");

    h.weft(&["network", "connect", "--alias", "cache", "--ip", "10.82.0.20", "back", "web"]).ok();
    assert_eq!(field(&h, "web", "{{.NetworkSettings.Networks.back.IPAddress}}"), "10.82.0.20");
    assert_eq!(field(&h, "web", "{{.NetworkSettings.Networks.back.Aliases}}"), "[cache]");
    assert_eq!(field(&h, "web", "{{.NetworkSettings.Networks.back.Gateway}}"), "10.82.0.1");
    assert_eq!(field(&h, "web", "{{.NetworkSettings.Networks.back.IPPrefixLen}}"), "24");
    let ep = field(&h, "web", "{{.NetworkSettings.Networks.back.EndpointID}}");
    assert_eq!(ep.len(), 64, "{ep}");
    let net_id = h.network_id("back");
    assert_eq!(field(&h, "web", "{{.NetworkSettings.Networks.back.NetworkID}}"), net_id);
    // `network inspect` lists the container on both networks.
    let listed =
        h.weft(&["network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", "back"]);
    assert_eq!(listed.ok().trim(), "web 10.82.0.20/24");
    // eth1 inside, with its address; the server answers on it, live.
    let addrs = in_netns(&h, "web", &["ip", "-o", "-4", "addr", "show", "eth1"]);
    assert!(addrs.ok().contains("10.82.0.20/24"), "{}", addrs.stdout);
    assert_eq!(reach(&h, "back", "10.82.0.20", false), "ok");
    // /etc/hosts follows: the new address names the container.
    let hosts_path = field(&h, "web", "{{.HostsPath}}");
    let hosts = || std::fs::read_to_string(&hosts_path).unwrap_or_default();
    let hostname = field(&h, "web", "{{.Config.Hostname}}");
    assert!(hosts().contains(&format!("10.82.0.20\t{hostname}")), "{}", hosts());
    assert!(hosts().contains(&format!("10.81.0.10\t{hostname}")), "{}", hosts());
    // Not from a network it is not on: the host does not route between networks.
    assert!(reach(&h, "other", "10.81.0.10", true).starts_with("failed"));

    // Docker's refusals, each leaving things as they were.
    h.weft(&["network", "connect", "back", "web"])
        .fails_with(1, "endpoint with name web already exists in network back");
    h.weft(&["network", "connect", "nosuchnet", "web"]).fails_with(1, "network nosuchnet not found");
    h.weft(&["network", "connect", "back", "nosuch"]).fails_with(1, "No such container: nosuch");
    h.weft(&["network", "disconnect", "other", "web"]).fails_with(1, "is not connected to network other");
    h.weft(&["network", "connect", "--ip", "172.17.0.99", "bridge", "web"])
        .fails_with(1, "user specified IP address is supported on user defined networks only");
    h.weft(&["network", "connect", "--ip", "10.83.1.5", "other", "web"]).fails_with(1, "is not in any subnet");
    h.weft(&["network", "connect", "host", "web"]).fails_with(1, "connected to host network");
    h.weft(&["run", "-d", "--name", "private", "--network", "none", "hostfs", "sleep", "1000"]).ok();
    h.weft(&["network", "connect", "back", "private"]).fails_with(
        1,
        "container cannot be connected to multiple networks with one of the networks in private (none) mode",
    );
    h.weft(&["run", "-d", "--name", "hostnet", "--network", "host", "hostfs", "sleep", "1000"]).ok();
    h.weft(&["network", "connect", "back", "hostnet"]).fails_with(1, "connected to host network");
    h.weft(&["network", "disconnect", "host", "hostnet"]).fails_with(1, "disconnected from host network");
    h.weft(&["rm", "-f", "private", "hostnet"]).ok();
    h.weft(&["network", "connect", "back"]).fails_with(1, "requires 2 arguments");
    assert_eq!(in_netns(&h, "web", &["ip", "-o", "link"]).ok().lines().count(), 3, "lo, eth0, eth1");

    h.weft(&["network", "disconnect", "back", "web"]).ok();
    assert_eq!(network_names(&h, "web"), ["front"]);
    assert!(in_netns(&h, "web", &["ip", "link", "show", "eth1"]).code != 0, "eth1 is gone");
    assert!(!hosts().contains("10.82.0.20"), "{}", hosts());
    assert!(reach(&h, "back", "10.82.0.20", true).starts_with("failed"));
    // The address went back to the pool, the network can go, and front still works.
    h.weft(&["network", "rm", "back"]).ok();
    assert_eq!(reach(&h, "front", "10.81.0.10", false), "ok");

    h.weft(&["rm", "-f", "web"]).ok();
    h.weft(&["network", "rm", "front", "other"]).ok();
    assert!(no_weft_links(&h), "{:?}", h.link_names());
}

#[test]
fn several_networks_at_run_and_the_default_route() {
    let h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.84.0.0/24", "zeta"]).ok();
    h.weft(&["network", "create", "--subnet", "10.85.0.0/24", "alpha"]).ok();
    h.weft(&["network", "create", "--internal", "--subnet", "10.86.0.0/24", "aaa-internal"]).ok();
    let args = ["run", "-d", "--name", "multi", "--network", "zeta", "--network", "alpha", "--network", "aaa-internal"];
    h.weft(&[&args[..], &["hostfs", "python3", "-c", OK_SERVER]].concat()).ok();
    let nets = networks(&h, "multi");
    assert!(
        nets.len() == 3
            && nets[0].starts_with("aaa-internal=10.86.0.")
            && nets[1].starts_with("alpha=10.85.0.")
            && nets[2].starts_with("zeta=10.84.0."),
        "{nets:?}"
    );
    // eth0 is the first --network; the default route goes through the first non-internal
    // network by name, as in Docker.
    let eth0 = in_netns(&h, "multi", &["ip", "-o", "-4", "addr", "show", "eth0"]);
    assert!(eth0.ok().contains("10.84.0."), "{}", eth0.stdout);
    let route = in_netns(&h, "multi", &["ip", "route", "show", "default"]);
    assert!(route.ok().starts_with("default via 10.85.0.1"), "{}", route.stdout);
    // Reachable on each.
    for pair in &nets {
        let (net, ip) = pair.split_once('=').unwrap_or_default();
        assert_eq!(reach(&h, net, ip, false), "ok", "on {net}");
    }
    // Disconnecting the gateway network moves the default route to the next one.
    h.weft(&["network", "disconnect", "alpha", "multi"]).ok();
    let route = in_netns(&h, "multi", &["ip", "route", "show", "default"]);
    assert!(route.ok().starts_with("default via 10.84.0.1"), "{}", route.stdout);

    // none and host cannot be mixed with others.
    h.weft(&["run", "--rm", "--network", "none", "--network", "zeta", "hostfs", "true"])
        .fails_with(125, "conflicting options: cannot attach both user-defined and non-user-defined network-modes");
    h.weft(&["rm", "-f", "multi"]).ok();
    h.weft(&["network", "rm", "zeta", "alpha", "aaa-internal"]).ok();
    assert!(no_weft_links(&h), "{:?}", h.link_names());
}

#[test]
fn connect_a_stopped_container_applies_at_start() {
    let h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.87.0.0/24", "later"]).ok();
    h.weft(&["run", "-d", "--name", "s", "hostfs", "sleep", "1000"]).ok();
    h.weft(&["stop", "-t", "0", "s"]).ok();
    h.weft(&["network", "connect", "--ip", "10.87.0.7", "later", "s"]).ok();
    // Configured but not live: no address until it starts.
    assert_eq!(field(&h, "s", "{{.NetworkSettings.Networks.later.IPAddress}}"), "");
    h.weft(&["start", "s"]).ok();
    assert_eq!(field(&h, "s", "{{.NetworkSettings.Networks.later.IPAddress}}"), "10.87.0.7");
    assert!(field(&h, "s", "{{.NetworkSettings.Networks.bridge.IPAddress}}").starts_with("172.17."));
    h.weft(&["stop", "-t", "0", "s"]).ok();
    h.weft(&["network", "disconnect", "bridge", "s"]).ok();
    h.weft(&["start", "s"]).ok();
    assert_eq!(network_names(&h, "s"), ["later"]);
    h.weft(&["rm", "-f", "s"]).ok();
    h.weft(&["network", "rm", "later"]).ok();
    assert!(no_weft_links(&h), "{:?}", h.link_names());
}

#[test]
fn container_mode_shares_the_namespace() {
    let h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.88.0.0/24", "shared"]).ok();
    h.run_ok_server("a", "shared", Some("10.88.0.5"), &[]);
    let seen = h.weft(&["run", "--rm", "--network", "container:a", "hostfs", "cat", "/proc/net/fib_trie"]);
    assert!(seen.ok().contains("10.88.0.5"), "{}", seen.stdout);
    // a's /etc files too: its address and hostname.
    let hosts = h.weft(&["run", "--rm", "--network", "container:a", "hostfs", "cat", "/etc/hosts", "/etc/hostname"]);
    let a_host = field(&h, "a", "{{.Config.Hostname}}");
    assert!(hosts.ok().contains(&format!("10.88.0.5\t{a_host}")), "{}", hosts.stdout);
    assert!(hosts.stdout.ends_with(&format!("{a_host}\n")), "{}", hosts.stdout);
    h.weft(&["run", "--rm", "--network", "container:a", "--dns", "10.0.0.53", "hostfs", "true"])
        .fails_with(125, "conflicting options: dns and the network mode");
    // a's server on a's loopback, from the container sharing its namespace.
    let client = "import socket, time\nfor i in range(50):\n    try:\n        print(socket.create_connection(('127.0.0.1', 80), timeout=1).recv(16).decode()); break\n    except OSError:\n        time.sleep(0.1)\n";
    let got = h.weft(&["run", "--rm", "--network", "container:a", "hostfs", "python3", "-c", client]);
    assert_eq!(got.ok().trim(), "ok");
    // By id too; inspect shows the mode with the full id and no networks of its own.
    let id = field(&h, "a", "{{.Id}}");
    h.weft(&["run", "-d", "--name", "b", "--network", &format!("container:{}", &id[..12]), "hostfs", "sleep", "1000"])
        .ok();
    assert_eq!(field(&h, "b", "{{.HostConfig.NetworkMode}}"), format!("container:{id}"));
    assert_eq!(field(&h, "b", "{{len .NetworkSettings.Networks}}"), "0");
    h.weft(&["network", "connect", "shared", "b"])
        .fails_with(1, "container sharing network namespace with another container or host cannot be connected");
    // Refusals: no such container, not running, conflicting options.
    h.weft(&["run", "--rm", "--network", "container:nosuch", "hostfs", "true"])
        .fails_with(125, "No such container: nosuch");
    h.weft(&["run", "-d", "--name", "idle", "--network", "none", "hostfs", "true"]).ok();
    assert!(wait_for(Duration::from_secs(10), || field(&h, "idle", "{{.State.Status}}") == "exited"));
    h.weft(&["run", "--rm", "--network", "container:idle", "hostfs", "true"])
        .fails_with(125, "cannot join network namespace of a non running container: idle");
    h.weft(&["run", "--rm", "--network", "container:a", "-h", "x", "hostfs", "true"])
        .fails_with(125, "conflicting options: hostname and the network mode");
    h.weft(&["run", "--rm", "--network", "container:a", "--ip", "10.88.0.9", "hostfs", "true"])
        .fails_with(125, "conflicting options");
    assert_eq!(h.weft(&["ps", "-a", "--format", "{{.Names}}"]).ok().lines().count(), 3, "a, b, idle only");
    h.weft(&["rm", "-f", "a", "b", "idle"]).ok();
    h.weft(&["network", "rm", "shared"]).ok();
    assert!(no_weft_links(&h), "{:?}", h.link_names());
}

#[test]
fn mac_address_ipv6_and_address_rules() {
    let h = Host::new();
    h.weft(&["network", "create", "--ipv6", "--subnet", "10.89.0.0/24", "--subnet", "fd00:89::/64", "dual"]).ok();
    h.weft(&["network", "create", "auto"]).ok();
    let run = [
        "run",
        "-d",
        "--name",
        "db",
        "--network",
        "dual",
        "--ip",
        "10.89.0.10",
        "--ip6",
        "fd00:89::10",
        "--mac-address",
        "02:42:c0:a8:64:0a",
        "--network-alias",
        "database",
        "--hostname",
        "db1",
    ];
    h.weft(&[&run[..], &["hostfs", "sleep", "1000"]].concat()).ok();
    assert_eq!(field(&h, "db", "{{.NetworkSettings.Networks.dual.MacAddress}}"), "02:42:c0:a8:64:0a");
    assert_eq!(field(&h, "db", "{{.NetworkSettings.Networks.dual.GlobalIPv6Address}}"), "fd00:89::10");
    assert_eq!(field(&h, "db", "{{.NetworkSettings.Networks.dual.Aliases}}"), "[database]");
    let link = in_netns(&h, "db", &["ip", "-o", "link", "show", "eth0"]);
    assert!(link.ok().contains("link/ether 02:42:c0:a8:64:0a"), "{}", link.stdout);
    let v6 = in_netns(&h, "db", &["ip", "-o", "-6", "addr", "show", "eth0"]);
    assert!(v6.ok().contains("fd00:89::10/64"), "{}", v6.stdout);
    // Docker's rules for fixed addresses, and bad values.
    h.weft(&["run", "--rm", "--network", "auto", "--ip", "172.18.0.50", "hostfs", "true"]).fails_with(
        125,
        "user specified IP address is supported only when connecting to networks with user configured subnets",
    );
    h.weft(&["run", "--rm", "--ip", "172.17.0.50", "hostfs", "true"])
        .fails_with(125, "user specified IP address is supported on user defined networks only");
    h.weft(&["run", "--rm", "--network", "dual", "--ip", "10.89.0.10", "hostfs", "true"]).fails_with(125, "10.89.0.10");
    h.weft(&["run", "--rm", "--network", "dual", "--mac-address", "zz", "hostfs", "true"])
        .fails_with(125, "invalid MAC address: zz");
    h.weft(&["run", "--rm", "--network", "dual", "--ip6", "10.89.0.11", "hostfs", "true"])
        .fails_with(125, "invalid IPv6 address: 10.89.0.11");
    assert_eq!(h.weft(&["ps", "-aq"]).ok().lines().count(), 1);
    h.weft(&["rm", "-f", "db"]).ok();
    h.weft(&["network", "rm", "dual", "auto"]).ok();
    assert!(no_weft_links(&h), "{:?}", h.link_names());
}

#[test]
fn kill9_with_connected_containers_leaves_nothing() {
    let mut h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.90.0.0/24", "n1"]).ok();
    h.weft(&["network", "create", "--subnet", "10.91.0.0/24", "n2"]).ok();
    h.weft(&["run", "-d", "--name", "c", "--network", "n1", "hostfs", "sleep", "1000"]).ok();
    h.weft(&["network", "connect", "n2", "c"]).ok();
    h.kill9();
    h.start();
    // Stopped and cleaned up on restart, as the README says; both networks can go.
    assert_eq!(field(&h, "c", "{{.State.Status}}"), "exited");
    assert_eq!(network_names(&h, "c"), ["n1", "n2"]);
    h.weft(&["rm", "c"]).ok();
    h.weft(&["network", "rm", "n1", "n2"]).ok();
    assert!(no_weft_links(&h), "{:?}", h.link_names());
}

#[test]
fn restart_keeps_the_networks() {
    let h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.92.0.0/24", "r1"]).ok();
    h.weft(&["run", "-d", "--name", "r", "--network", "r1", "--ip", "10.92.0.3", "hostfs", "sleep", "1000"]).ok();
    h.weft(&["network", "connect", "bridge", "r"]).ok();
    let pid = field(&h, "r", "{{.State.Pid}}");
    assert_eq!(h.weft(&["restart", "-t", "0", "r"]).ok(), "r\n");
    assert_eq!(field(&h, "r", "{{.State.Status}}"), "running");
    assert_ne!(field(&h, "r", "{{.State.Pid}}"), pid);
    assert_eq!(networks(&h, "r").len(), 2, "{:?}", networks(&h, "r"));
    assert_eq!(field(&h, "r", "{{.NetworkSettings.Networks.r1.IPAddress}}"), "10.92.0.3");
    // A stopped container is started; an unknown one is an error.
    h.weft(&["stop", "-t", "0", "r"]).ok();
    h.weft(&["restart", "r"]).ok();
    assert_eq!(field(&h, "r", "{{.State.Status}}"), "running");
    h.weft(&["restart", "nosuch"]).fails_with(1, "No such container: nosuch");
    // With the signal asked for; a bad one is refused before anything stops.
    let pid = field(&h, "r", "{{.State.Pid}}");
    h.weft(&["restart", "-s", "NOPE", "r"]).fails_with(1, "Invalid signal: NOPE");
    assert_eq!(field(&h, "r", "{{.State.Pid}}"), pid);
    h.weft(&["restart", "-s", "KILL", "r"]).ok();
    assert_eq!(field(&h, "r", "{{.State.Status}}"), "running");
    assert_ne!(field(&h, "r", "{{.State.Pid}}"), pid);
    h.weft(&["rm", "-f", "r"]).ok();
    h.weft(&["network", "rm", "r1"]).ok();
    assert!(no_weft_links(&h), "{:?}", h.link_names());
}

/// Whether process `pid` has ended (gone, or a zombie nobody reaped yet).
fn ended(pid: &str) -> bool {
    !pid.parse().is_ok_and(weft_tests::alive)
}

#[test]
fn kill9_before_the_pid_is_recorded_leaves_no_process() {
    let mut h = Host::new();
    h.weft(&["run", "-d", "--name", "c", "--network", "none", "hostfs", "sleep", "1000"]).ok();
    let pid = field(&h, "c", "{{.State.Pid}}");
    assert!(!ended(&pid));
    h.kill9();
    // As if weftd had died between starting the process and recording its pid.
    let db = h.data_root().join("containers.db");
    let forget = "import json, sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\nfor id, rec in db.execute('SELECT id, record FROM containers').fetchall():\n    r = json.loads(rec)\n    r['state']['pid'] = 0\n    r['state']['pid_start_time'] = 0\n    db.execute('UPDATE containers SET record = ? WHERE id = ?', (json.dumps(r), id))\ndb.commit()\n";
    let out = Command::new("python3").args(["-c", forget]).arg(&db).output().expect("run python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    h.start();
    assert!(wait_for(Duration::from_secs(10), || ended(&pid)), "the container's init {pid} still runs");
    assert_eq!(field(&h, "c", "{{.State.Status}}"), "exited");
    h.weft(&["rm", "c"]).ok();
}

#[test]
fn create_then_connect_then_start() {
    let h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.93.0.0/24", "c1"]).ok();
    h.weft(&["network", "create", "--subnet", "10.94.0.0/24", "c2"]).ok();
    let id =
        h.weft(&["create", "--name", "later", "--network", "c1", "hostfs", "sleep", "1000"]).ok().trim().to_string();
    assert_eq!(id.len(), 64, "{id}");
    assert_eq!(field(&h, "later", "{{.State.Status}}"), "created");
    h.weft(&["network", "connect", "--ip", "10.94.0.9", "c2", "later"]).ok();
    h.weft(&["start", "later"]).ok();
    assert_eq!(field(&h, "later", "{{.NetworkSettings.Networks.c2.IPAddress}}"), "10.94.0.9");
    assert_eq!(network_names(&h, "later"), ["c1", "c2"]);
    // `create --rm`: gone once it has run and exited.
    h.weft(&["container", "create", "--rm", "--name", "once", "--network", "none", "hostfs", "true"]).ok();
    h.weft(&["start", "once"]).ok();
    assert!(wait_for(Duration::from_secs(10), || h.weft(&["inspect", "once"]).code != 0));
    h.weft(&["create", "--network", "nosuch", "hostfs", "true"]).fails_with(125, "network nosuch not found");
    h.weft(&["rm", "-f", "later"]).ok();
    h.weft(&["network", "rm", "c1", "c2"]).ok();
    assert!(no_weft_links(&h), "{:?}", h.link_names());
}

#[test]
fn disconnect_finds_an_interface_the_container_renamed() {
    let h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.95.0.0/24", "r1"]).ok();
    h.weft(&["network", "create", "--subnet", "10.96.0.0/24", "r2"]).ok();
    h.weft(&["run", "-d", "--name", "x", "--network", "r1", "hostfs", "sleep", "1000"]).ok();
    h.weft(&["network", "connect", "r2", "x"]).ok();
    for step in [
        &["ip", "link", "set", "eth1", "down"][..],
        &["ip", "link", "set", "eth1", "name", "mine"],
        &["ip", "link", "set", "mine", "up"],
    ] {
        in_netns(&h, "x", step).ok();
    }
    h.weft(&["network", "disconnect", "r2", "x"]).ok();
    let links = in_netns(&h, "x", &["ip", "-o", "link"]);
    assert!(!links.ok().contains("mine"), "{}", links.stdout);
    // One container end left, so one host end.
    let veths: Vec<String> = h.link_names().into_iter().filter(|l| l.starts_with("wv")).collect();
    assert_eq!(veths.len(), 1, "{veths:?}");
    h.weft(&["rm", "-f", "x"]).ok();
    h.weft(&["network", "rm", "r1", "r2"]).ok();
    assert!(no_weft_links(&h), "{:?}", h.link_names());
}
