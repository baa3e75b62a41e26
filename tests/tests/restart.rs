//! `kill -9` of weftd and a restart: committed networks and allocations stay, missing bridges
//! come back, and weft-made objects the store does not know are removed.

use weft_tests::Host;

#[test]
fn restart_after_kill_keeps_networks_and_removes_strays() {
    let mut h = Host::new();
    let a = h.weft(&["network", "create", "a"]).ok().trim().to_string();
    h.weft(&[
        "network",
        "create",
        "--subnet",
        "10.20.0.0/24",
        "--ip-range",
        "10.20.0.128/25",
        "--gateway",
        "10.20.0.254",
        "--aux-address",
        "r=10.20.0.5",
        "-o",
        "com.docker.network.driver.mtu=1400",
        "b",
    ])
    .ok();
    let before_a = h.inspect("a");
    let before_b = h.inspect("b");
    h.kill9();

    // While it is down: one bridge disappears, strays with weft's marks appear.
    let bridge_a = format!("wbr-{}", &a[..11]);
    h.ip(&["link", "del", &bridge_a]).ok();
    h.ip(&["link", "add", "wbr-0123456789a", "type", "bridge"]).ok();
    h.ip(&["link", "add", "wv0123456789a", "type", "veth", "peer", "name", "wvp0123456789ab"]).ok();
    h.ip(&["link", "add", "keepme0", "type", "bridge"]).ok();
    // A bridge with weft's alias for a network the store does not know, under a user's name.
    h.ip(&["link", "add", "strayname0", "type", "bridge"]).ok();
    h.ip(&[
        "link",
        "set",
        "strayname0",
        "alias",
        "weft:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ])
    .ok();
    h.ip(&["link", "add", "wbr-lan", "type", "bridge"]).ok();
    h.ip(&["link", "add", "wvlan0", "type", "bridge"]).ok();

    h.start();
    assert_eq!(h.inspect("a"), before_a);
    assert_eq!(h.inspect("b"), before_b);
    assert!(h.link(&bridge_a).is_some(), "bridge of a not re-created");
    assert!(h
        .addresses(&bridge_a)
        .contains(&format!("{}/16", before_a["IPAM"]["Config"][0]["Gateway"].as_str().unwrap())));
    let b_bridge = format!("wbr-{}", &before_b["Id"].as_str().unwrap()[..11]);
    assert_eq!(h.link(&b_bridge).unwrap()["mtu"], 1400);
    assert_eq!(h.addresses(&b_bridge), vec!["10.20.0.254/24".to_string()]);
    let links = h.link_names();
    for stray in ["wbr-0123456789a", "wv0123456789a", "wvp0123456789ab", "strayname0"] {
        assert!(!links.contains(&stray.to_string()), "{stray} survived the restart: {links:?}");
    }
    for mine in ["keepme0", "wbr-lan", "wvlan0"] {
        assert!(links.contains(&mine.to_string()), "{mine}, which weft did not make, was removed");
    }
    assert!(h.log().contains("wbr-0123456789a"), "the removal is not logged");

    // The allocations survived: a new network does not get a's or b's subnet, and b's
    // aux address and gateway are still taken.
    h.weft(&["network", "create", "c"]).ok();
    let c = h.inspect("c");
    assert_ne!(c["IPAM"]["Config"][0]["Subnet"], before_a["IPAM"]["Config"][0]["Subnet"]);
    h.weft(&["network", "create", "--subnet", "10.20.0.0/25", "d"]).fails_with(1, "overlaps network \"b\"");

    // A clean stop and start keeps everything too.
    h.stop();
    h.start();
    assert_eq!(h.inspect("b"), before_b);
    for n in ["a", "b", "c"] {
        h.weft(&["network", "rm", n]).ok();
    }
    assert!(h.link(&bridge_a).is_none());
}

#[test]
fn a_second_daemon_on_the_same_data_root_is_refused() {
    let h = Host::new();
    let out = h.daemon_command().output().expect("run second weftd");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another weftd is running with data root"), "{err}");
    // The first one still answers.
    h.weft(&["network", "ls"]).ok();
}
