//! Tests of [`DefaultIpam`] through the `IpamDriver` messages, as the controller sends them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use libnet::{DriverError, ErrorKind};

use super::*;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn ipam() -> DefaultIpam {
    DefaultIpam::new(IpamConfig::default(), Box::new(|_| Vec::new()))
}

fn with_routes(routes: &[&str]) -> DefaultIpam {
    let routes: Vec<IpNet> = routes.iter().map(|r| net(r)).collect();
    DefaultIpam::new(IpamConfig::default(), Box::new(move |_| routes.clone()))
}

fn pool_req(space: &str, pool: &str, sub_pool: &str, v6: bool) -> RequestPoolRequest {
    RequestPoolRequest {
        address_space: space.into(),
        pool: pool.into(),
        sub_pool: sub_pool.into(),
        options: BTreeMap::new(),
        v6,
    }
}

/// An automatic IPv4 pool of LocalDefault: (pool id, subnet).
fn auto(d: &DefaultIpam) -> DriverResult<(String, String)> {
    d.request_pool(pool_req(LOCAL_DEFAULT_SPACE, "", "", false)).map(|r| (r.pool_id, r.pool))
}

fn explicit(d: &DefaultIpam, pool: &str, sub_pool: &str) -> DriverResult<String> {
    let v6 = pool.contains(':');
    d.request_pool(pool_req(LOCAL_DEFAULT_SPACE, pool, sub_pool, v6)).map(|r| r.pool_id)
}

fn addr(d: &DefaultIpam, pool_id: &str, address: &str) -> DriverResult<String> {
    d.request_address(RequestAddressRequest {
        pool_id: pool_id.into(),
        address: address.into(),
        options: BTreeMap::new(),
    })
    .map(|r| r.address)
}

fn gateway(d: &DefaultIpam, pool_id: &str) -> DriverResult<String> {
    let options = BTreeMap::from([(REQUEST_ADDRESS_TYPE.to_string(), GATEWAY_ADDRESS_TYPE.to_string())]);
    d.request_address(RequestAddressRequest { pool_id: pool_id.into(), address: String::new(), options })
        .map(|r| r.address)
}

fn release(d: &DefaultIpam, pool_id: &str, address: &str) -> DriverResult<()> {
    d.release_address(ReleaseAddressRequest { pool_id: pool_id.into(), address: address.into() })
}

fn release_pool(d: &DefaultIpam, pool_id: &str) -> DriverResult<()> {
    d.release_pool(ReleasePoolRequest { pool_id: pool_id.into() })
}

fn err(kind: ErrorKind, message: &str) -> DriverError {
    DriverError::new(kind, message)
}

fn invalid<T>(message: &str) -> DriverResult<T> {
    Err(err(ErrorKind::InvalidParameter, message))
}

const EXHAUSTED_DEFAULT: &str = "no available address pool: every default pool (base=172.17.0.0/16,size=16, \
    base=172.18.0.0/16,size=16, base=172.19.0.0/16,size=16, base=172.20.0.0/16,size=16, base=172.21.0.0/16,size=16, \
    base=172.22.0.0/16,size=16, base=172.23.0.0/16,size=16, base=172.24.0.0/16,size=16, base=172.25.0.0/16,size=16, \
    base=172.26.0.0/16,size=16, base=172.27.0.0/16,size=16, base=172.28.0.0/16,size=16, base=172.29.0.0/16,size=16, \
    base=172.30.0.0/16,size=16, base=172.31.0.0/16,size=16, base=192.168.0.0/16,size=20) is in use or overlaps a host \
    route; add one with --default-address-pool base=<cidr>,size=<bits>";

#[test]
fn identity_capabilities_and_spaces() {
    let d = ipam();
    assert_eq!(d.name(), "default");
    assert_eq!(
        d.get_capabilities(),
        Ok(IpamCapabilities { requires_mac_address: false, requires_request_replay: false })
    );
    let spaces = d.get_default_address_spaces().unwrap();
    assert_eq!(spaces.local_default_address_space, "LocalDefault");
    assert_eq!(spaces.global_default_address_space, "GlobalDefault");
    let shared: Arc<dyn IpamDriver> = Arc::new(d);
    assert_eq!(shared.name(), "default");
}

#[test]
fn automatic_pools_follow_dockers_order_then_run_out() {
    let d = ipam();
    let mut expected: Vec<String> = (17..=31).map(|b| format!("172.{b}.0.0/16")).collect();
    expected.extend((0..16).map(|i| format!("192.168.{}.0/20", i * 16)));
    for want in &expected {
        let (id, pool) = auto(&d).unwrap();
        assert_eq!(&pool, want);
        assert_eq!(id, format!("LocalDefault/{want}"));
    }
    assert_eq!(auto(&d), Err(err(ErrorKind::Forbidden, EXHAUSTED_DEFAULT)));
    // A released pool is the next one picked.
    release_pool(&d, "LocalDefault/172.20.0.0/16").unwrap();
    assert_eq!(auto(&d).unwrap().1, "172.20.0.0/16");
}

#[test]
fn the_sixteenth_pool_is_the_first_slice_of_192_168() {
    let d = ipam();
    let picks: Vec<String> = (0..17).map(|_| auto(&d).unwrap().1).collect();
    assert_eq!(picks[14], "172.31.0.0/16");
    assert_eq!(picks[15], "192.168.0.0/20");
    assert_eq!(picks[16], "192.168.16.0/20");
}

#[test]
fn host_routes_are_avoided_but_default_routes_are_not_obstacles() {
    let d = with_routes(&["0.0.0.0/0", "::/0", "172.18.0.0/16"]);
    let picks: Vec<String> = (0..3).map(|_| auto(&d).unwrap().1).collect();
    assert_eq!(picks, ["172.17.0.0/16", "172.19.0.0/16", "172.20.0.0/16"]);

    let d = with_routes(&["172.16.0.0/12", "192.168.1.0/24"]);
    assert_eq!(auto(&d).unwrap().1, "192.168.16.0/20");

    // An explicit subnet is the user's choice: routes are not consulted.
    let d = with_routes(&["10.1.0.0/16"]);
    assert!(explicit(&d, "10.1.0.0/24", "").is_ok());
}

#[test]
fn host_routes_are_read_at_each_automatic_pick() {
    let routes = Arc::new(Mutex::new(Vec::<IpNet>::new()));
    let calls = Arc::new(Mutex::new(0));
    let (r, c) = (routes.clone(), calls.clone());
    let d = DefaultIpam::new(
        IpamConfig::default(),
        Box::new(move |_v6| {
            *c.lock().unwrap() += 1;
            r.lock().unwrap().clone()
        }),
    );
    assert_eq!(auto(&d).unwrap().1, "172.17.0.0/16");
    routes.lock().unwrap().push(net("172.18.0.0/16"));
    assert_eq!(auto(&d).unwrap().1, "172.19.0.0/16");
    explicit(&d, "10.5.0.0/16", "").unwrap();
    assert_eq!(*calls.lock().unwrap(), 2, "explicit subnets do not read routes");
}

#[test]
fn automatic_picks_skip_explicit_pools_and_explicit_requests_conflict_with_automatic_ones() {
    let d = ipam();
    explicit(&d, "172.17.5.0/24", "").unwrap();
    assert_eq!(auto(&d).unwrap().1, "172.18.0.0/16");
    assert_eq!(
        explicit(&d, "172.18.3.0/24", ""),
        Err(err(
            ErrorKind::Forbidden,
            "subnet 172.18.3.0/24 overlaps 172.18.0.0/16, already allocated in address space LocalDefault"
        ))
    );
    assert_eq!(
        explicit(&d, "10.1.0.0/16", "").and_then(|_| explicit(&d, "10.1.0.0/24", "")),
        Err(err(
            ErrorKind::Forbidden,
            "subnet 10.1.0.0/24 overlaps 10.1.0.0/16, already allocated in address space LocalDefault"
        ))
    );
}

#[test]
fn custom_pools_and_the_global_space() {
    let config = IpamConfig {
        local_pools: vec!["base=10.10.0.0/16,size=24".parse().unwrap()],
        global_pools: vec!["base=10.20.0.0/30,size=31".parse().unwrap()],
        v6_pools: vec![],
    };
    let d = DefaultIpam::new(config, Box::new(|_| Vec::new()));
    assert_eq!(auto(&d).unwrap().1, "10.10.0.0/24");
    assert_eq!(auto(&d).unwrap().1, "10.10.1.0/24");
    let global = || d.request_pool(pool_req(GLOBAL_DEFAULT_SPACE, "", "", false));
    let g = global().unwrap();
    assert_eq!((g.pool_id.as_str(), g.pool.as_str()), ("GlobalDefault/10.20.0.0/31", "10.20.0.0/31"));
    assert_eq!(global().unwrap().pool, "10.20.0.2/31");
    assert_eq!(
        global().unwrap_err(),
        err(
            ErrorKind::Forbidden,
            "no available address pool: every default pool (base=10.20.0.0/30,size=31) is in use or overlaps a \
             host route; add one with --default-address-pool base=<cidr>,size=<bits>"
        )
    );
    // Spaces are separate: the same subnet may be allocated in each.
    let local_same = d.request_pool(pool_req(LOCAL_DEFAULT_SPACE, "10.20.0.0/31", "", false)).unwrap();
    assert_eq!(local_same.pool_id, "LocalDefault/10.20.0.0/31");
    // And an address of one space's pool id is not found in the other.
    assert_eq!(addr(&d, "GlobalDefault/10.10.0.0/24", "").unwrap_err().kind, ErrorKind::NotFound);
}

#[test]
fn the_default_global_pool_is_10_slash_8_in_24s() {
    let d = ipam();
    let r = d.request_pool(pool_req(GLOBAL_DEFAULT_SPACE, "", "", false)).unwrap();
    assert_eq!(r.pool, "10.0.0.0/24");
    let r = d.request_pool(pool_req(GLOBAL_DEFAULT_SPACE, "", "", false)).unwrap();
    assert_eq!(r.pool, "10.0.1.0/24");
}

#[test]
fn ipv6_automatic_pools_are_ula_64s() {
    let d = ipam();
    let v6 = || d.request_pool(pool_req(LOCAL_DEFAULT_SPACE, "", "", true));
    let p = v6().unwrap();
    assert_eq!((p.pool_id.as_str(), p.pool.as_str()), ("LocalDefault/fd5e:7765:6674::/64", "fd5e:7765:6674::/64"));
    assert_eq!(v6().unwrap().pool, "fd5e:7765:6674:1::/64");
    assert_eq!(gateway(&d, &p.pool_id).unwrap(), "fd5e:7765:6674::1/64");
    assert_eq!(addr(&d, &p.pool_id, "").unwrap(), "fd5e:7765:6674::2/64");
    // IPv4 picks are not disturbed by IPv6 pools.
    assert_eq!(auto(&d).unwrap().1, "172.17.0.0/16");
}

#[test]
fn ipv6_pools_of_the_space_come_before_the_built_in_one_and_their_absence_is_explained() {
    let mut config = IpamConfig::default();
    config.local_pools.push("base=fd00:aa::/56,size=64".parse().unwrap());
    let d = DefaultIpam::new(config, Box::new(|_| Vec::new()));
    assert_eq!(d.request_pool(pool_req(LOCAL_DEFAULT_SPACE, "", "", true)).unwrap().pool, "fd00:aa::/64");
    assert_eq!(auto(&d).unwrap().1, "172.17.0.0/16", "IPv6 entries are not used for IPv4");

    let config = IpamConfig { v6_pools: vec![], ..IpamConfig::default() };
    let d = DefaultIpam::new(config, Box::new(|_| Vec::new()));
    assert_eq!(
        d.request_pool(pool_req(LOCAL_DEFAULT_SPACE, "", "", true)),
        Err(err(
            ErrorKind::Forbidden,
            "no available IPv6 address pool: no default IPv6 pool is configured; add one with \
             --default-address-pool base=<cidr>,size=<bits>"
        ))
    );
}

#[test]
fn pool_request_input_errors() {
    let d = ipam();
    assert_eq!(
        d.request_pool(pool_req("Elsewhere", "", "", false)),
        invalid("unknown address space \"Elsewhere\": the default IPAM driver has LocalDefault and GlobalDefault")
    );
    assert_eq!(
        d.request_pool(pool_req(LOCAL_DEFAULT_SPACE, "10.1.0.0/24", "", true)).map(|r| r.pool),
        invalid("subnet 10.1.0.0/24 is IPv4, but an IPv6 pool was requested")
    );
    assert_eq!(
        d.request_pool(pool_req(LOCAL_DEFAULT_SPACE, "fd00::/64", "", false)).map(|r| r.pool),
        invalid("subnet fd00::/64 is IPv6, but an IPv4 pool was requested")
    );
    // (subnet, ip-range, the error) of LocalDefault, of the subnet's family.
    let requests = [
        ("10.1.0.0", "", "invalid subnet \"10.1.0.0\": not an address with a prefix length, like 10.1.0.0/24"),
        ("10.1.0.5/24", "", "invalid subnet 10.1.0.5/24: it should be 10.1.0.0/24"),
        ("10.1.0.0/16", "10.2.0.0/24", "ip-range 10.2.0.0/24 is not inside subnet 10.1.0.0/16"),
        ("10.1.0.0/24", "10.1.0.0/16", "ip-range 10.1.0.0/16 is not inside subnet 10.1.0.0/24"),
        ("10.1.0.0/16", "10.1.0.9/24", "invalid ip-range 10.1.0.9/24: it should be 10.1.0.0/24"),
        ("10.1.0.0/16", "banana", "invalid ip-range \"banana\": not an address with a prefix length, like 10.1.0.0/24"),
        ("fd00::/64", "10.1.0.0/24", "ip-range 10.1.0.0/24 is not inside subnet fd00::/64"),
        ("", "10.1.0.0/24", "ip-range 10.1.0.0/24 needs a subnet: an ip-range cannot be given without one"),
    ];
    for (pool, sub_pool, message) in requests {
        assert_eq!(explicit(&d, pool, sub_pool), invalid(message), "subnet {pool:?}, ip-range {sub_pool:?}");
    }
    // Nothing of the failed requests was allocated.
    assert_eq!(explicit(&d, "10.1.0.0/16", "").unwrap(), "LocalDefault/10.1.0.0/16");
}

#[test]
fn pool_ids_are_checked() {
    let d = ipam();
    let id = explicit(&d, "10.1.0.0/24", "10.1.0.128/25").unwrap();
    assert_eq!(id, "LocalDefault/10.1.0.0/24/10.1.0.128/25");
    assert_eq!(
        addr(&d, "LocalDefault/10.1.0.0/24", ""),
        Err(err(
            ErrorKind::NotFound,
            "pool LocalDefault/10.1.0.0/24 is not allocated: it was never requested, or it was released"
        ))
    );
    assert_eq!(addr(&d, "Nowhere/10.1.0.0/24/10.1.0.128/25", "").unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(
        addr(&d, "10.1.0.0/24", ""),
        invalid("invalid pool id \"10.1.0.0/24\": expected <address space>/<subnet>[/<ip-range>], like LocalDefault/172.18.0.0/16")
    );
    assert_eq!(release(&d, "junk", "10.1.0.1").unwrap_err().kind, ErrorKind::InvalidParameter);
    assert_eq!(release_pool(&d, "junk").unwrap_err().kind, ErrorKind::InvalidParameter);
    assert_eq!(release_pool(&d, "LocalDefault/10.1.0.0/24").unwrap_err().kind, ErrorKind::NotFound);
    release_pool(&d, &id).unwrap();
    assert_eq!(release_pool(&d, &id).unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(addr(&d, &id, "").unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(release(&d, &id, "10.1.0.130").unwrap_err().kind, ErrorKind::NotFound);
}

#[test]
fn gateway_then_containers_then_exhaustion() {
    let d = ipam();
    let id = explicit(&d, "10.1.0.0/29", "").unwrap();
    assert_eq!(gateway(&d, &id).unwrap(), "10.1.0.1/29");
    let got: Vec<String> = (0..5).map(|_| addr(&d, &id, "").unwrap()).collect();
    assert_eq!(got, ["10.1.0.2/29", "10.1.0.3/29", "10.1.0.4/29", "10.1.0.5/29", "10.1.0.6/29"]);
    assert_eq!(addr(&d, &id, ""), Err(err(ErrorKind::Forbidden, "no available addresses in pool 10.1.0.0/29")));
    assert_eq!(gateway(&d, &id).unwrap_err().kind, ErrorKind::Forbidden);
}

#[test]
fn specific_and_aux_addresses() {
    let d = ipam();
    let id = explicit(&d, "10.1.0.0/24", "10.1.0.128/25").unwrap();
    assert_eq!(addr(&d, &id, "10.1.0.254").unwrap(), "10.1.0.254/24", "a gateway given by the user");
    assert_eq!(addr(&d, &id, "10.1.0.5/24").unwrap(), "10.1.0.5/24", "aux address outside the ip-range, with a prefix");
    assert_eq!(addr(&d, &id, "10.1.0.130").unwrap(), "10.1.0.130/24");
    let conflict = |a: &str| Err(err(ErrorKind::Conflict, &format!("address {a} is already in use")));
    assert_eq!(addr(&d, &id, "10.1.0.5"), conflict("10.1.0.5"));
    assert_eq!(addr(&d, &id, "10.1.0.130"), conflict("10.1.0.130"));
    // (address, the error): outside the subnet, its network or broadcast address, not an address.
    let refused = [
        ("10.9.0.5", "address 10.9.0.5 is not in subnet 10.1.0.0/24"),
        ("10.1.0.0", "address 10.1.0.0 is the network address of subnet 10.1.0.0/24 and cannot be assigned"),
        ("10.1.0.255", "address 10.1.0.255 is the broadcast address of subnet 10.1.0.0/24 and cannot be assigned"),
        ("10.1.0.300", "invalid address \"10.1.0.300\": not an IP address, like 10.1.0.5 or 10.1.0.5/24"),
        ("fd00::5", "address fd00::5 is not in subnet 10.1.0.0/24"),
    ];
    for (address, message) in refused {
        assert_eq!(addr(&d, &id, address), invalid(message), "address {address}");
    }
    // A gateway request with an address is that address.
    let options = BTreeMap::from([(REQUEST_ADDRESS_TYPE.to_string(), GATEWAY_ADDRESS_TYPE.to_string())]);
    let r = d.request_address(RequestAddressRequest { pool_id: id.clone(), address: "10.1.0.7".into(), options });
    assert_eq!(r.unwrap().address, "10.1.0.7/24");
    // Automatic addresses come from the range and step over the taken one.
    assert_eq!(addr(&d, &id, "").unwrap(), "10.1.0.128/24");
    assert_eq!(addr(&d, &id, "").unwrap(), "10.1.0.129/24");
    assert_eq!(addr(&d, &id, "").unwrap(), "10.1.0.131/24");
}

#[test]
fn ip_range_order_and_wrap_around_after_release() {
    let d = ipam();
    let id = explicit(&d, "10.1.0.0/16", "10.1.5.0/29").unwrap();
    assert_eq!(id, "LocalDefault/10.1.0.0/16/10.1.5.0/29");
    assert_eq!(gateway(&d, &id).unwrap(), "10.1.0.1/16", "the gateway comes from the subnet, not the range");
    let got: Vec<String> = (0..8).map(|_| addr(&d, &id, "").unwrap()).collect();
    let want: Vec<String> = (0..8).map(|i| format!("10.1.5.{i}/16")).collect();
    assert_eq!(got, want, "the whole range is usable: its ends are not the subnet's");
    assert_eq!(
        addr(&d, &id, ""),
        Err(err(ErrorKind::Forbidden, "no available addresses in ip-range 10.1.5.0/29 of pool 10.1.0.0/16"))
    );
    // Addresses outside the range are still free for specific requests.
    assert_eq!(addr(&d, &id, "10.1.9.9").unwrap(), "10.1.9.9/16");
    release(&d, &id, "10.1.5.3").unwrap();
    release(&d, &id, "10.1.5.6/16").unwrap();
    assert_eq!(addr(&d, &id, "").unwrap(), "10.1.5.3/16", "the cursor wrapped to the start");
    assert_eq!(addr(&d, &id, "").unwrap(), "10.1.5.6/16");
}

#[test]
fn released_addresses_are_not_reused_at_once() {
    let d = ipam();
    let (id, _) = auto(&d).unwrap();
    assert_eq!(gateway(&d, &id).unwrap(), "172.17.0.1/16");
    let a = addr(&d, &id, "").unwrap();
    let b = addr(&d, &id, "").unwrap();
    assert_eq!((a.as_str(), b.as_str()), ("172.17.0.2/16", "172.17.0.3/16"));
    release(&d, &id, "172.17.0.2").unwrap();
    assert_eq!(addr(&d, &id, "").unwrap(), "172.17.0.4/16");
    // A freed address may be asked for by name straight away.
    assert_eq!(addr(&d, &id, "172.17.0.2").unwrap(), "172.17.0.2/16");
}

#[test]
fn releasing_addresses_is_lenient_about_free_ones_only() {
    let d = ipam();
    let id = explicit(&d, "10.1.0.0/24", "").unwrap();
    assert_eq!(release(&d, &id, "10.1.0.9"), Ok(()), "a free address: no-op");
    assert_eq!(release(&d, &id, "10.1.0.0"), Ok(()), "the network address is never taken: no-op");
    assert_eq!(release(&d, &id, "10.2.0.9"), invalid("address 10.2.0.9 is not in subnet 10.1.0.0/24"));
    assert_eq!(release(&d, &id, ""), invalid("invalid address \"\": not an IP address, like 10.1.0.5 or 10.1.0.5/24"));
}

#[test]
fn releasing_a_pool_drops_its_addresses() {
    let d = ipam();
    let id = explicit(&d, "10.1.0.0/24", "").unwrap();
    addr(&d, &id, "10.1.0.5").unwrap();
    release_pool(&d, &id).unwrap();
    let id = explicit(&d, "10.1.0.0/24", "").unwrap();
    assert_eq!(addr(&d, &id, "10.1.0.5").unwrap(), "10.1.0.5/24");
    // And the same subnet with another range is a fresh pool with a different id.
    release_pool(&d, &id).unwrap();
    assert_eq!(explicit(&d, "10.1.0.0/24", "10.1.0.0/28").unwrap(), "LocalDefault/10.1.0.0/24/10.1.0.0/28");
}

#[test]
fn tiny_pools_through_the_driver() {
    let d = ipam();
    let p31 = explicit(&d, "10.1.0.0/31", "").unwrap();
    assert_eq!(gateway(&d, &p31).unwrap(), "10.1.0.0/31");
    assert_eq!(addr(&d, &p31, "").unwrap(), "10.1.0.1/31");
    assert_eq!(addr(&d, &p31, "").unwrap_err().kind, ErrorKind::Forbidden);
    let p32 = explicit(&d, "10.1.0.7/32", "").unwrap();
    assert_eq!(addr(&d, &p32, "10.1.0.7").unwrap(), "10.1.0.7/32");
    assert_eq!(addr(&d, &p32, "").unwrap_err().kind, ErrorKind::Forbidden);
    let p127 = explicit(&d, "fd00::/127", "").unwrap();
    assert_eq!(addr(&d, &p127, "").unwrap(), "fd00::/127");
    assert_eq!(addr(&d, &p127, "").unwrap(), "fd00::1/127");
    let p128 = explicit(&d, "fd00::9/128", "").unwrap();
    assert_eq!(gateway(&d, &p128).unwrap(), "fd00::9/128");
    let p0 = explicit(&d, "::/0", "").unwrap_err();
    assert_eq!(p0.kind, ErrorKind::Forbidden, "::/0 overlaps the pools above");
    let d = ipam();
    let all = explicit(&d, "::/0", "").unwrap();
    assert_eq!(addr(&d, &all, "").unwrap(), "::1/0");
    let all4 = explicit(&d, "0.0.0.0/0", "").unwrap();
    assert_eq!(gateway(&d, &all4).unwrap(), "0.0.0.1/0");
}

#[test]
fn a_slash_8_pool_hands_out_100k_addresses_and_takes_them_back() {
    let d = ipam();
    let id = explicit(&d, "10.0.0.0/8", "").unwrap();
    let mut got = Vec::with_capacity(100_000);
    for _ in 0..100_000 {
        got.push(addr(&d, &id, "").unwrap());
    }
    assert_eq!(got[0], "10.0.0.1/8");
    assert_eq!(got[255], "10.0.1.0/8", "only the subnet's own network address is skipped");
    assert_eq!(got[99_999], "10.1.134.160/8");
    for a in &got {
        release(&d, &id, a).unwrap();
    }
    assert_eq!(d.spaces().local.get_mut(&net("10.0.0.0/8"), None).map(|p| p.allocated()), Some(0));
    assert_eq!(addr(&d, &id, "").unwrap(), "10.1.134.161/8", "the cursor carries on");
}

#[test]
fn a_64_pool_is_made_instantly_and_allocates_sparsely() {
    let d = ipam();
    let id = explicit(&d, "fd00:1::/64", "fd00:1::ffff:0/112").unwrap();
    assert_eq!(gateway(&d, &id).unwrap(), "fd00:1::1/64");
    assert_eq!(addr(&d, &id, "").unwrap(), "fd00:1::ffff:0/64");
    assert_eq!(addr(&d, &id, "fd00:1::ffff:ffff:ffff:ffff").unwrap(), "fd00:1::ffff:ffff:ffff:ffff/64");
    assert_eq!(
        d.spaces().local.get_mut(&net("fd00:1::/64"), Some(net("fd00:1::ffff:0/112"))).map(|p| p.allocated()),
        Some(3)
    );
}

#[test]
fn concurrent_requests_never_hand_out_an_address_twice() {
    let d = Arc::new(ipam());
    let id = explicit(&d, "10.1.0.0/16", "").unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (d, id) = (d.clone(), id.clone());
            std::thread::spawn(move || (0..500).map(|_| addr(&d, &id, "").unwrap()).collect::<Vec<_>>())
        })
        .collect();
    let mut all: Vec<String> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 2000);
}
