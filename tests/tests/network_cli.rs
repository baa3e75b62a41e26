//! `weft network ...` end to end: each test starts weftd in a namespace of its own, drives the
//! real CLI, and checks the kernel with `ip`.

use weft_tests::Host;

#[test]
fn predefined_networks_exist_with_the_default_bridge() {
    let h = Host::new();
    let ls = h.weft(&["network", "ls"]);
    let out = ls.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("NETWORK ID"), "{out}");
    for (name, driver) in [("bridge", "bridge"), ("host", "host"), ("none", "null")] {
        assert!(
            lines
                .iter()
                .any(|l| l.split_whitespace().nth(1) == Some(name) && l.split_whitespace().nth(2) == Some(driver)),
            "{name}/{driver} missing from {out}"
        );
    }
    let br = h.link("weft0").expect("weft0 exists");
    assert_eq!(br["linkinfo"]["info_kind"], "bridge");
    assert_eq!(br["mtu"], 1500);
    assert!(h.addresses("weft0").contains(&"172.17.0.1/16".to_string()), "{:?}", h.addresses("weft0"));
    let bridge = h.inspect("bridge");
    assert_eq!(bridge["IPAM"]["Config"][0]["Subnet"], "172.17.0.0/16");
    assert_eq!(bridge["IPAM"]["Config"][0]["Gateway"], "172.17.0.1");
    assert_eq!(bridge["Options"]["com.docker.network.bridge.name"], "weft0");
}

#[test]
fn create_inspect_and_remove_a_custom_bridge() {
    let h = Host::new();
    let id = h
        .weft(&[
            "network",
            "create",
            "-d",
            "bridge",
            "--subnet",
            "192.168.100.0/24",
            "--gateway",
            "192.168.100.1",
            "--ip-range",
            "192.168.100.128/25",
            "--aux-address",
            "router=192.168.100.5",
            "-o",
            "com.docker.network.bridge.mtu=9000",
            "--label",
            "team=web",
            "my-custom-net",
        ])
        .ok()
        .trim()
        .to_string();
    assert_eq!(id.len(), 64, "{id}");
    let n = h.inspect("my-custom-net");
    assert_eq!(n["Id"], id.as_str());
    assert_eq!(n["Name"], "my-custom-net");
    assert_eq!(n["Driver"], "bridge");
    assert_eq!(n["Scope"], "local");
    assert_eq!(n["EnableIPv4"], true);
    assert_eq!(n["EnableIPv6"], false);
    assert_eq!(n["Internal"], false);
    assert_eq!(n["IPAM"]["Driver"], "default");
    let cfg = &n["IPAM"]["Config"][0];
    assert_eq!(cfg["Subnet"], "192.168.100.0/24");
    assert_eq!(cfg["IPRange"], "192.168.100.128/25");
    assert_eq!(cfg["Gateway"], "192.168.100.1");
    assert_eq!(cfg["AuxiliaryAddresses"]["router"], "192.168.100.5");
    assert_eq!(n["Labels"]["team"], "web");
    assert_eq!(n["Options"]["com.docker.network.bridge.mtu"], "9000");
    assert!(n["Created"].as_str().unwrap_or("").contains('T'));
    for key in ["Attachable", "Ingress", "ConfigFrom", "ConfigOnly", "Containers"] {
        assert!(n.get(key).is_some(), "inspect lacks {key}: {n}");
    }

    let bridge = format!("wbr-{}", &id[..11]);
    let link = h.link(&bridge).expect("bridge made");
    assert_eq!(link["mtu"], 9000);
    assert!(link["flags"].as_array().unwrap().iter().any(|f| f == "UP"), "{link}");
    assert_eq!(h.addresses(&bridge), vec!["192.168.100.1/24".to_string()]);

    let f = h.weft(&["network", "inspect", "-f", "{{.IPAM.Config}}", "my-custom-net"]);
    assert_eq!(f.ok().trim(), "[{192.168.100.0/24 192.168.100.128/25 192.168.100.1 map[router:192.168.100.5]}]");

    let rm = h.weft(&["network", "rm", "my-custom-net"]);
    assert_eq!(rm.ok().trim(), "my-custom-net");
    assert!(h.link(&bridge).is_none(), "bridge {bridge} left after rm");
    h.weft(&["network", "inspect", "my-custom-net"]).fails_with(1, "No such network: my-custom-net");
}

#[test]
fn automatic_subnets_ipv6_and_internal() {
    let h = Host::new();
    h.weft(&["network", "create", "localnet"]).ok();
    let n = h.inspect("localnet");
    // 172.17 is the default bridge's: the next default pool is taken.
    assert_eq!(n["IPAM"]["Config"][0]["Subnet"], "172.18.0.0/16");
    assert_eq!(n["IPAM"]["Config"][0]["Gateway"], "172.18.0.1");

    h.weft(&["network", "create", "--ipv6", "--subnet", "fd00:10::/64", "v6net"]).ok();
    let v6 = h.inspect("v6net");
    assert_eq!(v6["EnableIPv6"], true);
    let subnets: Vec<&str> =
        v6["IPAM"]["Config"].as_array().unwrap().iter().filter_map(|c| c["Subnet"].as_str()).collect();
    assert!(subnets.contains(&"fd00:10::/64") && subnets.contains(&"172.19.0.0/16"), "{subnets:?}");
    let br = format!("wbr-{}", &v6["Id"].as_str().unwrap()[..11]);
    assert!(h.addresses(&br).contains(&"fd00:10::1/64".to_string()), "{:?}", h.addresses(&br));

    // IPv6 with no subnet: a /64 of weft's ULA pool.
    h.weft(&["network", "create", "--ipv6", "auto6"]).ok();
    let auto6 = h.inspect("auto6");
    let v6_subnet = auto6["IPAM"]["Config"][1]["Subnet"].as_str().unwrap_or_default().to_string();
    assert!(v6_subnet.starts_with("fd5e:7765:6674:") && v6_subnet.ends_with("/64"), "{auto6}");
    h.weft(&["network", "rm", "auto6"]).ok();

    let internal = h.weft(&["network", "create", "--internal", "backend"]);
    internal.ok();
    // The firewall enforces what was asked: nothing to warn about.
    assert!(!internal.stderr.contains("WARNING"), "{}", internal.stderr);
    let icc = h.weft(&["network", "create", "-o", "com.docker.network.bridge.enable_icc=false", "noicc"]);
    icc.ok();
    assert!(!icc.stderr.contains("WARNING"), "{}", icc.stderr);
    h.weft(&["network", "rm", "noicc"]).ok();
    assert_eq!(h.inspect("backend")["Internal"], true);

    let q = h.weft(&["network", "ls", "-q"]);
    assert_eq!(q.ok().lines().count(), 6);
    assert!(q.ok().lines().all(|l| l.len() == 12));
    let f = h.weft(&["network", "ls", "-f", "driver=bridge", "--format", "{{.Name}}"]);
    let mut names: Vec<&str> = f.ok().lines().collect();
    names.sort();
    assert_eq!(names, vec!["backend", "bridge", "localnet", "v6net"]);
    let nt = h.weft(&["network", "ls", "--no-trunc", "--format", "{{.Name}} {{.Driver}}"]);
    assert!(nt.ok().lines().any(|l| l == "none null"), "{}", nt.stdout);
    let ids = h.weft(&["network", "ls", "--no-trunc", "-q"]);
    assert!(ids.ok().lines().all(|l| l.len() == 64));

    let rm = h.weft(&["network", "rm", "localnet", "backend"]);
    assert_eq!(rm.ok(), "localnet\nbackend\n");
    let pr = h.weft(&["network", "prune", "-f"]);
    assert!(pr.ok().contains("Deleted Networks:\nv6net"), "{}", pr.stdout);
    assert_eq!(h.weft(&["network", "ls", "-q"]).ok().lines().count(), 3);
}

#[test]
fn automatic_subnets_avoid_the_hosts_routes() {
    let h = Host::new();
    // A bridge holds the route (this kernel has no dummy links).
    h.ip(&["link", "add", "d0", "type", "bridge"]).ok();
    h.ip(&["link", "set", "d0", "up"]).ok();
    h.ip(&["route", "add", "172.18.0.0/16", "dev", "d0"]).ok();
    h.weft(&["network", "create", "x"]).ok();
    assert_eq!(h.inspect("x")["IPAM"]["Config"][0]["Subnet"], "172.19.0.0/16");
    h.weft(&["network", "rm", "x"]).ok();
}

#[test]
fn two_networks_have_two_bridges() {
    let h = Host::new();
    let a = h.weft(&["network", "create", "a"]).ok().trim().to_string();
    let b = h.weft(&["network", "create", "b"]).ok().trim().to_string();
    let (ba, bb) = (format!("wbr-{}", &a[..11]), format!("wbr-{}", &b[..11]));
    assert!(h.link(&ba).is_some() && h.link(&bb).is_some());
    assert_ne!(ba, bb);
    // Layer 2 isolation: neither bridge is a port of the other.
    for l in [&ba, &bb] {
        assert!(h.link(l).unwrap().get("master").is_none());
    }
}

#[test]
fn the_daemon_not_running_is_explained() {
    let h = Host::bare();
    let r = h.weft(&["network", "ls"]);
    r.fails_with(
        1,
        &format!("cannot connect to weftd at {}: is it running? start it with 'weftd'", h.socket().display()),
    );
}

#[test]
fn a_named_bridge_is_deleted_only_if_weft_made_it() {
    let mut h = Host::new();
    // The user's own bridge: used by the network, left in place by rm.
    h.ip(&["link", "add", "userbr0", "type", "bridge"]).ok();
    h.weft(&[
        "network",
        "create",
        "--subnet",
        "10.30.0.0/24",
        "-o",
        "com.docker.network.bridge.name=userbr0",
        "theirs",
    ])
    .ok();
    assert_eq!(h.addresses("userbr0"), vec!["10.30.0.1/24".to_string()]);
    // A named bridge weft makes: removed by rm, also after a restart.
    h.weft(&["network", "create", "-o", "com.docker.network.bridge.name=wnamed0", "ours"]).ok();
    assert!(h.link("wnamed0").is_some());
    h.kill9();
    h.start();
    h.weft(&["network", "rm", "theirs", "ours"]).ok();
    assert!(h.link("userbr0").is_some(), "the user's bridge was deleted");
    assert!(h.addresses("userbr0").is_empty(), "weft's gateway address stayed on the user's bridge");
    assert!(h.link("wnamed0").is_none(), "weft's named bridge was left behind");
    h.ip(&["link", "del", "userbr0"]).ok();
}

#[test]
fn prune_takes_docker_filters() {
    let h = Host::new();
    h.weft(&["network", "create", "--label", "keep", "kept"]).ok();
    h.weft(&["network", "create", "old"]).ok();
    let none = h.weft(&["network", "prune", "-f", "--filter", "until=1h"]);
    assert!(!none.ok().contains("old"), "{}", none.stdout);
    let pruned = h.weft(&["network", "prune", "-f", "--filter", "until=0s", "--filter", "label!=keep"]);
    assert!(pruned.ok().contains("Deleted Networks:\nold\n"), "{}", pruned.stdout);
    assert!(h.inspect("kept")["Labels"].get("keep").is_some());
    h.weft(&["network", "prune", "-f", "--filter", "until=soon"]).fails_with(1, "invalid filter 'until=soon'");
    h.weft(&["network", "rm", "kept"]).ok();
}

#[test]
fn concurrent_creates_get_distinct_subnets() {
    let h = Host::new();
    let names: Vec<String> = (0..16).map(|i| format!("par{i}")).collect();
    std::thread::scope(|s| {
        for n in &names {
            let h = &h;
            s.spawn(move || h.weft(&["network", "create", n]).ok().to_string());
        }
    });
    let mut subnets: Vec<String> = names
        .iter()
        .map(|n| h.inspect(n)["IPAM"]["Config"][0]["Subnet"].as_str().unwrap_or_default().to_string())
        .collect();
    subnets.sort();
    subnets.dedup();
    assert_eq!(subnets.len(), names.len(), "two networks share a subnet: {subnets:?}");
    let bridges = h.link_names().into_iter().filter(|l| l.starts_with("wbr-")).count();
    assert_eq!(bridges, names.len());
    std::thread::scope(|s| {
        for n in &names {
            let h = &h;
            s.spawn(move || h.weft(&["network", "rm", n]).ok().to_string());
        }
    });
    assert_eq!(h.link_names().into_iter().filter(|l| l.starts_with("wbr-")).count(), 0);
}
