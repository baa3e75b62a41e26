//! Installing the DNS redirect table in a sandbox namespace: by nf_tables netlink messages (with a
//! socket opened per call, as `install_dns_redirect` does, and on a socket kept open) against one
//! `nft -f` run of the same ruleset. Needs root; works in a namespace of its own.

// A measuring (or testing) harness: a setup that fails may panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion};
use libnet::osl::nft::{dns_redirect_batch, install_dns_redirect, Nftables};

/// The same table as `dns_redirect_batch(5353, 5354)`, replaced the same way (add, delete, add).
const RULESET: &str = "add table ip weft-dns
delete table ip weft-dns
table ip weft-dns {
  chain output { type nat hook output priority -100; policy accept;
    ip daddr 127.0.0.11 udp dport 53 dnat to 127.0.0.11:5353
    ip daddr 127.0.0.11 tcp dport 53 dnat to 127.0.0.11:5354
  }
  chain postrouting { type nat hook postrouting priority 100; policy accept;
    ip saddr 127.0.0.11 udp sport 5353 snat to :53
    ip saddr 127.0.0.11 tcp sport 5354 snat to :53
  }
}
";

fn bench(c: &mut Criterion) {
    common::in_own_netns("nft", |ns, path| {
        let file = path.with_file_name("dns.nft");
        let mut group = c.benchmark_group("dns redirect");
        if std::fs::write(&file, RULESET).is_ok() {
            group.bench_function("install_dns_redirect (netlink, new socket)", |b| {
                b.iter(|| install_dns_redirect(ns, 5353, 5354).expect("install"))
            });
            group.bench_function("open a socket in the namespace (no commit)", |b| {
                b.iter(|| Nftables::in_netns(ns).expect("socket"))
            });
            let mut nft = Nftables::in_netns(ns).expect("socket");
            let batch = dns_redirect_batch(5353, 5354);
            group.bench_function("commit on an open socket (netlink)", |b| {
                b.iter(|| nft.commit(&batch).expect("commit"))
            });
            group.bench_function("nft -f (one process)", |b| {
                b.iter(|| {
                    let status = ns.run(|| Command::new("nft").arg("-f").arg(&file).status()).expect("enter");
                    assert!(status.expect("run nft").success());
                })
            });
        }
        group.finish();
    });
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = bench
}
criterion_main!(benches);
