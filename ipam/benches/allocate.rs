//! Cost of the default IPAM driver's hot paths, through the `IpamDriver` messages: an address
//! request and release in pools that already hold many addresses, and a pool request.

// A measuring (or testing) harness: a setup that fails may panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use ipam::{DefaultIpam, IpamConfig};
use libnet::protocol::{
    ReleaseAddressRequest, ReleasePoolRequest, RequestAddressRequest, RequestPoolRequest, LOCAL_DEFAULT_SPACE,
};
use libnet::IpamDriver;

fn driver() -> DefaultIpam {
    DefaultIpam::new(IpamConfig::default(), Box::new(|_| Vec::new()))
}

fn pool(d: &DefaultIpam, subnet: &str) -> String {
    let req = RequestPoolRequest {
        address_space: LOCAL_DEFAULT_SPACE.into(),
        pool: subnet.into(),
        v6: subnet.contains(':'),
        ..Default::default()
    };
    d.request_pool(req).expect("bench pool").pool_id
}

fn request(d: &DefaultIpam, pool_id: &str, address: &str) -> String {
    let req = RequestAddressRequest { pool_id: pool_id.into(), address: address.into(), options: BTreeMap::new() };
    d.request_address(req).expect("bench address").address
}

fn release(d: &DefaultIpam, pool_id: &str, address: &str) {
    let req = ReleaseAddressRequest { pool_id: pool_id.into(), address: address.into() };
    d.release_address(req).expect("bench release");
}

/// A pool of `subnet` already holding `prefill` addresses, then one automatic request and its
/// release per iteration: the cursor keeps moving, so this includes the wrap-around scans.
fn allocate_release(c: &mut Criterion) {
    for (name, subnet, prefill) in [
        ("allocate_release /16", "10.1.0.0/16", 30_000),
        ("allocate_release /8", "10.0.0.0/8", 1_000_000),
        ("allocate_release /64", "fd00:1::/64", 1_000_000),
    ] {
        let d = driver();
        let id = pool(&d, subnet);
        for _ in 0..prefill {
            request(&d, &id, "");
        }
        c.bench_function(name, |b| {
            b.iter(|| {
                let a = request(&d, &id, "");
                release(&d, &id, black_box(&a));
            })
        });
    }
    // A specific address (aux address, `--ip`), in a /16 holding 30000.
    let d = driver();
    let id = pool(&d, "10.1.0.0/16");
    for _ in 0..30_000 {
        request(&d, &id, "");
    }
    c.bench_function("specific_release /16", |b| {
        b.iter(|| {
            request(&d, &id, black_box("10.1.200.7"));
            release(&d, &id, "10.1.200.7");
        })
    });
}

/// A pool request and its release: explicit, automatic on a fresh driver, and automatic when
/// 999 pools of a 10.0.0.0/8 size-24 default pool are already taken (the 1000th network).
fn request_pool(c: &mut Criterion) {
    let auto_req = || RequestPoolRequest { address_space: LOCAL_DEFAULT_SPACE.into(), ..Default::default() };

    let d = driver();
    c.bench_function("request_pool explicit /8", |b| {
        b.iter(|| {
            let id = pool(&d, black_box("10.0.0.0/8"));
            d.release_pool(ReleasePoolRequest { pool_id: id }).expect("bench release pool");
        })
    });

    let d = driver();
    c.bench_function("request_pool automatic first", |b| {
        b.iter(|| {
            let r = d.request_pool(auto_req()).expect("bench auto pool");
            d.release_pool(ReleasePoolRequest { pool_id: r.pool_id }).expect("bench release pool");
        })
    });

    let config = IpamConfig {
        local_pools: vec!["base=10.0.0.0/8,size=24".parse().expect("bench spec")],
        ..IpamConfig::default()
    };
    let d = DefaultIpam::new(config, Box::new(|_| Vec::new()));
    for _ in 0..999 {
        d.request_pool(auto_req()).expect("bench prefill pool");
    }
    c.bench_function("request_pool automatic 1000th", |b| {
        b.iter(|| {
            let r = d.request_pool(auto_req()).expect("bench auto pool");
            d.release_pool(ReleasePoolRequest { pool_id: r.pool_id }).expect("bench release pool");
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = allocate_release, request_pool
}
criterion_main!(benches);
