//! What one driver call costs by transport: the same `Join` of the null driver (a ~200-byte
//! request, the answer's JSON back) called in-process, through its library without the guard's
//! thread (what crossing the boundary costs: JSON both ways and the FFI call), and through its
//! library as weftd calls it (plus the hand-off to a guarded call thread and back), and through a
//! remote plugin's unix socket (weft's remote client against `weft plugin serve`'s server, in this
//! process: one connection per call, an HTTP/1.1 POST each way).
//!
//! Needs the release build of the library: `cargo build --release -p weft-driver-null`, then
//! `cargo bench -p plugins --bench calls`.

// A measuring (or testing) harness: a setup that fails may panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use libnet::protocol::dispatch::{CallTransport, NetworkCaller};
use libnet::protocol::JoinRequest;
use libnet::{DriverResult, NetworkDriver};
use plugins::LoadedDriver;

/// The library next to the bench's profile directory (target/release/deps/calls-* → target/release).
fn library() -> PathBuf {
    let exe = std::env::current_exe().expect("bench path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("profile dir");
    let lib = dir.join("libweft_driver_null.so");
    assert!(lib.exists(), "{} is missing: cargo build --release -p weft-driver-null", lib.display());
    lib
}

fn request() -> JoinRequest {
    let mut req = JoinRequest {
        network_id: "3e80821cb95e4c8d8d6f3b4b2e0f9a1c7d5e6f708192a3b4c5d6e7f8091a2b3c".into(),
        endpoint_id: "6275b0da044732b2d87477a8232713b2dada35c6565081151a353908a3a9b33a".into(),
        sandbox_key: "/run/weft/netns/6275b0da0447".into(),
        ..Default::default()
    };
    req.options.insert("com.docker.network.portmap".into(), serde_json::json!([]));
    req
}

/// The library's transport without the guard: the call runs on the caller's thread.
struct Unguarded<'a>(&'a LoadedDriver);

impl CallTransport for Unguarded<'_> {
    fn call(&self, method: &str, body: Vec<u8>) -> DriverResult<Vec<u8>> {
        let body = String::from_utf8(body).expect("JSON is UTF-8");
        self.0.call_unguarded(method, &body).map(String::into_bytes)
    }
}

/// The null driver served over Docker's plugin protocol on a socket in `dir`, on a runtime of its
/// own; and a remote driver calling it.
fn remote(dir: &std::path::Path) -> (tokio::runtime::Runtime, driver_remote::RemoteNetworkDriver) {
    let socket = dir.join("null.sock");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let listener = runtime.block_on(async { tokio::net::UnixListener::bind(&socket) }).expect("bind");
    let server = driver_remote::PluginServer::new(Arc::new(driver_null::null_driver()));
    runtime.spawn(server.serve(listener, std::future::pending()));
    let spec = driver_remote::PluginSpec {
        name: "null".into(),
        address: driver_remote::Address::Unix(socket.clone()),
        tls: None,
        source: socket,
    };
    let options = driver_remote::CallOptions { timeout: Duration::from_secs(10), retry_for: Duration::from_secs(10) };
    let client = Arc::new(driver_remote::PluginClient::new(spec, options).expect("client"));
    let driver = driver_remote::RemoteNetworkDriver::new(client).expect("activate");
    (runtime, driver)
}

fn calls(c: &mut Criterion) {
    let in_process = driver_null::null_driver();
    let loaded =
        plugins::load(&library(), &serde_json::json!({}), Duration::from_secs(10)).expect("load the null driver");
    let unguarded = NetworkCaller::new("null", Unguarded(&loaded));
    let guarded = plugins::load(&library(), &serde_json::json!({}), Duration::from_secs(10))
        .expect("load the null driver")
        .into_network_driver()
        .expect("a network driver");
    let dir = std::env::temp_dir().join(format!("weft-bench-calls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (_runtime, over_socket) = remote(&dir);
    let mut g = c.benchmark_group("join");
    g.bench_function("in-process", |b| b.iter(|| in_process.join(request()).expect("join")));
    g.bench_function("dylib, on the caller's thread", |b| b.iter(|| unguarded.join(request()).expect("join")));
    g.bench_function("dylib, guarded (as weftd calls)", |b| b.iter(|| guarded.join(request()).expect("join")));
    g.bench_function("remote plugin, unix socket", |b| b.iter(|| over_socket.join(request()).expect("join")));
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, calls);
criterion_main!(benches);
