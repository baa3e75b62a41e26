//! Bad input to `weft network create|rm`: each gets a clear error, and nothing changes.

use weft_tests::Host;

/// Run `weft args`, expect exit 1 with `needle` in stderr, and the host unchanged.
#[track_caller]
fn refused(h: &Host, args: &[&str], needle: &str) {
    let before = h.snapshot();
    h.weft(args).fails_with(1, needle);
    assert_eq!(h.snapshot(), before, "`weft {}` changed the host", args.join(" "));
}

#[test]
fn invalid_subnets_gateways_ranges_and_aux_addresses() {
    let h = Host::new();
    refused(&h, &["network", "create", "--subnet", "10.0.0.0/33", "x"], "invalid subnet \"10.0.0.0/33\"");
    refused(&h, &["network", "create", "--subnet", "banana", "x"], "banana");
    // The daemon checks too, whatever a client sends.
    let before = h.snapshot();
    let bad = [
        (
            r#"{"Name":"x","IPAM":{"Config":[{"Subnet":"10.5.0.0/24","Gateway":"10.6.0.1"}]}}"#,
            "gateway 10.6.0.1 is not in subnet 10.5.0.0/24",
        ),
        (
            r#"{"Name":"x","IPAM":{"Config":[{"Subnet":"10.5.0.0/24","IPRange":"10.6.0.0/25"}]}}"#,
            "ip-range 10.6.0.0/25 is not inside subnet 10.5.0.0/24",
        ),
        (
            r#"{"Name":"x","IPAM":{"Config":[{"Subnet":"10.5.0.0/24","AuxiliaryAddresses":{"r":"10.6.0.5"}}]}}"#,
            "aux-address r=10.6.0.5 is not in subnet 10.5.0.0/24",
        ),
        (r#"{"Name":"x","IPAM":{"Config":[{"Subnet":"10.5.0.0/33"}]}}"#, "invalid subnet \"10.5.0.0/33\""),
        (r#"{"Name":"x y"}"#, "invalid network name \"x y\""),
        (
            r#"{"Name":"x","IPAM":{"Config":[{"Subnet":"10.5.0.0/24","Gateway":"10.5.0.1","AuxiliaryAddresses":{"r":"10.5.0.1"}}]}}"#,
            "aux-address r=10.5.0.1 is the gateway of subnet 10.5.0.0/24",
        ),
        (
            r#"{"Name":"x","IPAM":{"Config":[{"Subnet":"10.5.0.0/24","AuxiliaryAddresses":{"a":"10.5.0.9","b":"10.5.0.9"}}]}}"#,
            "aux-addresses a and b are both 10.5.0.9",
        ),
        (r#"{"Name":"x""#, "invalid JSON"),
    ];
    for (body, needle) in bad {
        let (status, v) = h.api("POST", "/networks/create", Some(body));
        assert_eq!(status, 400, "{body}: {v}");
        assert!(v["message"].as_str().unwrap_or("").contains(needle), "{body}: {v}");
    }
    assert_eq!(h.snapshot(), before);
    // And through the CLI, which matches them to the subnet first, as Docker's does.
    refused(&h, &["network", "create", "--subnet", "10.5.0.0/24", "--gateway", "10.6.0.1", "x"], "10.6.0.1");
    refused(&h, &["network", "create", "--subnet", "10.5.0.0/24", "--ip-range", "10.6.0.0/25", "x"], "10.6.0.0/25");
    refused(&h, &["network", "create", "--subnet", "10.5.0.0/24", "--aux-address", "r=10.6.0.5", "x"], "10.6.0.5");
}

#[test]
fn overlapping_subnet_names_the_other_network() {
    let h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.1.0.0/16", "front"]).ok();
    refused(&h, &["network", "create", "--subnet", "10.1.2.0/24", "back"], "overlaps network \"front\" (10.1.0.0/16)");
    refused(&h, &["network", "create", "--subnet", "10.0.0.0/8", "back"], "overlaps network \"front\"");
    refused(&h, &["network", "create", "--subnet", "172.17.5.0/24", "back"], "overlaps network \"bridge\"");
}

#[test]
fn duplicate_names_and_unknown_drivers() {
    let h = Host::new();
    h.weft(&["network", "create", "dup"]).ok();
    refused(&h, &["network", "create", "dup"], "network with name dup already exists");
    refused(&h, &["network", "create", "-d", "nosuchdriver", "x"], "plugin \"nosuchdriver\" not found");
    refused(&h, &["network", "create", "--ipam-driver", "nosuchipam", "x"], "plugin \"nosuchipam\" not found");
}

#[test]
fn invalid_driver_options() {
    let h = Host::new();
    refused(&h, &["network", "create", "-o", "com.docker.network.driver.mtu=abc", "x"], "invalid MTU \"abc\"");
    refused(&h, &["network", "create", "-o", "com.docker.network.driver.mtu=100000", "x"], "from 68 to 65535");
    refused(
        &h,
        &["network", "create", "-o", "com.docker.network.bridge.bogus=1", "x"],
        "unknown bridge driver option com.docker.network.bridge.bogus",
    );
    refused(
        &h,
        &["network", "create", "-o", "com.docker.network.bridge.name=averyveryverylongname", "x"],
        "bridge name \"averyveryverylongname\" is longer than 15 characters",
    );
    // Every refusal above came after IPAM had granted a subnet: none of them kept it.
    h.weft(&["network", "create", "ok"]).ok();
    assert_eq!(h.inspect("ok")["IPAM"]["Config"][0]["Subnet"], "172.18.0.0/16");
}

#[test]
fn predefined_networks_cannot_be_removed_or_recreated() {
    let h = Host::new();
    for name in ["bridge", "host", "none"] {
        refused(&h, &["network", "rm", name], &format!("{name} is a pre-defined network and cannot be removed"));
        refused(&h, &["network", "create", name], &format!("{name} is a pre-defined network and cannot be re-created"));
    }
    let (status, _) = h.api("DELETE", "/networks/bridge", None);
    assert_eq!(status, 403);
    refused(&h, &["network", "rm", "nosuchnet"], "network nosuchnet not found");
    let (status, _) = h.api("DELETE", "/networks/nosuchnet", None);
    assert_eq!(status, 404);
}

#[test]
fn exhausted_default_pools_name_the_pools_and_the_flag() {
    let h = Host::with_args(&["--default-address-pool", "base=10.10.0.0/23,size=24"]);
    // The default bridge took 10.10.0.0/24; one /24 is left.
    assert_eq!(h.inspect("bridge")["IPAM"]["Config"][0]["Subnet"], "10.10.0.0/24");
    h.weft(&["network", "create", "one"]).ok();
    assert_eq!(h.inspect("one")["IPAM"]["Config"][0]["Subnet"], "10.10.1.0/24");
    refused(&h, &["network", "create", "two"], "base=10.10.0.0/23,size=24");
    refused(&h, &["network", "create", "two"], "--default-address-pool");
}

#[test]
fn api_answers_docker_paths_and_versions() {
    let h = Host::new();
    let (s, v) = h.api("GET", "/v1.43/networks/bridge", None);
    assert_eq!((s, v["Name"].as_str()), (200, Some("bridge")));
    let (s, v) = h.api("GET", "/v1.99/networks", None);
    assert_eq!(s, 400);
    assert!(v["message"].as_str().unwrap().contains("too new"));
    let (s, v) = h.api("GET", "/_ping", None);
    assert_eq!((s, v), (200, serde_json::Value::String("OK".into())));
    let (s, v) = h.api("GET", "/networks?filters=%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D", None);
    assert_eq!(s, 400, "{v}");
    let (s, v) = h.api("POST", "/networks/create", Some(r#"{"Name":"api1","Labels":{"a":"b"}}"#));
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["Id"].as_str().map(str::len), Some(64));
    let (s, v) = h.api("GET", "/networks?filters=%7B%22label%22%3A%7B%22a%3Db%22%3Atrue%7D%7D", None);
    assert_eq!(s, 200);
    assert_eq!(v.as_array().map(|a| a.len()), Some(1), "{v}");
    let (s, _) = h.api("DELETE", "/networks/api1", None);
    assert_eq!(s, 204);
}
