//! Docker remote plugins: a network driver and an IPAM driver served by small python servers of
//! this repo (tests/plugins/) over unix sockets, found in weft's own plugin directory and through
//! a spec file in a `--plugin-dir`; containers on their network exchange traffic; every failure
//! of a plugin (refusal, garbage, death, silence) is a clear error that leaves nothing behind.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use weft_tests::{wait_for, Host};

/// A plugin server process, run in the test host's namespace (where weftd runs, so the
/// interfaces it makes are where weftd looks for them); killed on drop.
struct Plugin {
    child: Child,
    socket: PathBuf,
    log: PathBuf,
}

impl Plugin {
    /// Start `script` (netplugin.py or ipamplugin.py) listening on `socket`, with extra flags.
    fn start(h: &Host, script: &str, socket: &Path, flags: &[&str]) -> Plugin {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins").join(script);
        let log = socket.with_extension("log");
        let child = Command::new("nsenter")
            .arg(format!("--net={}", h.netns_path().display()))
            .arg("python3")
            .arg(&script)
            .arg("--socket")
            .arg(socket)
            .arg("--log")
            .arg(&log)
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("start a plugin server");
        let p = Plugin { child, socket: socket.to_path_buf(), log };
        assert!(
            wait_for(Duration::from_secs(10), || UnixStream::connect(&p.socket).is_ok()),
            "plugin {} did not listen on {}",
            script.display(),
            socket.display()
        );
        p
    }

    /// The calls it received, in order (`NetworkDriver.Join`, ...).
    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["call"].as_str().map(String::from))
            .collect()
    }

    /// Kill it as a crash would; its socket file stays.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A host whose weftd searches `docker_dir` (as its `--plugin-dir`) and its own
/// `<exec-root>/plugins`, with a short plugin timeout.
fn host(docker_dir: &Path) -> Host {
    Host::with_args(&["--plugin-dir", docker_dir.to_str().unwrap_or_default(), "--plugin-timeout", "2s"])
}

/// The IPAM plugin, found through a spec file `tipam.spec` in `docker_dir`; it writes its
/// allocations to the returned state file.
fn start_ipam(h: &Host, docker_dir: &Path) -> (Plugin, PathBuf) {
    let socket = h.dir.path().join("elsewhere").join("tipam.sock");
    let state = h.dir.path().join("tipam-state.json");
    let p = Plugin::start(h, "ipamplugin.py", &socket, &["--state", state.to_str().unwrap_or_default()]);
    std::fs::write(docker_dir.join("tipam.spec"), format!("unix://{}\n", socket.display())).expect("write spec");
    (p, state)
}

/// A network plugin `name` in weft's own plugin directory.
fn start_net(h: &Host, name: &str, flags: &[&str]) -> Plugin {
    Plugin::start(h, "netplugin.py", &h.exec_root().join("plugins").join(format!("{name}.sock")), flags)
}

/// The IPAM plugin's allocations: pool subnet -> addresses.
fn ipam_state(state: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(state).unwrap_or_else(|_| "{}".into());
    serde_json::from_str(&text).unwrap_or_default()
}

/// The addresses the IPAM plugin holds, over all pools, sorted.
fn held(state: &Path) -> Vec<String> {
    let mut v: Vec<String> = ipam_state(state)
        .as_object()
        .map(|pools| {
            pools
                .values()
                .flat_map(|p| p["addresses"].as_array().cloned().unwrap_or_default())
                .filter_map(|a| a.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn containers_talk_over_a_remote_network_with_remote_ipam() {
    let docker_dir = tempfile::tempdir().expect("temp dir");
    let h = host(docker_dir.path());
    let (ipam, state) = start_ipam(&h, docker_dir.path());
    let net = start_net(&h, "tnet", &[]);

    h.weft(&["network", "create", "-d", "tnet", "--ipam-driver", "tipam", "--ipam-opt", "base=10.77", "rn"]).ok();
    let n = h.inspect("rn");
    assert_eq!(n["Driver"], "tnet");
    assert_eq!(n["IPAM"]["Driver"], "tipam");
    assert_eq!(n["IPAM"]["Options"]["base"], "10.77");
    assert_eq!(n["IPAM"]["Config"][0]["Subnet"], "10.77.0.0/24", "{n}");
    assert_eq!(n["IPAM"]["Config"][0]["Gateway"], "10.77.0.1");
    // The plugin made its bridge, with the gateway IPAM gave, in the daemon's namespace.
    let id = h.network_id("rn");
    let bridge = format!("tpb{}", &id[..8]);
    assert_eq!(h.addresses(&bridge), ["10.77.0.1/24"]);
    assert_eq!(held(&state), ["10.77.0.1"]);

    h.run_ok_server("srv", "rn", None, &[]);
    let ip =
        h.weft(&["inspect", "--format", "{{.NetworkSettings.Networks.rn.IPAddress}}", "srv"]).ok().trim().to_string();
    assert_eq!(ip, "10.77.0.2");
    let eth0 = h.weft(&["exec", "srv", "ip", "-o", "-4", "addr", "show", "eth0"]);
    assert!(eth0.ok().contains("10.77.0.2/24"), "{}", eth0.stdout);
    let route = h.weft(&["exec", "srv", "ip", "route", "show", "default"]);
    assert!(route.ok().starts_with("default via 10.77.0.1"), "{}", route.stdout);
    assert_eq!(h.reach("rn", &ip, 50), "ok");
    // Docker's calls, in Docker's order, with Docker's media type.
    let calls = net.calls();
    for c in ["Plugin.Activate", "NetworkDriver.GetCapabilities", "NetworkDriver.CreateNetwork"] {
        assert!(calls.contains(&c.to_string()), "{c} missing from {calls:?}");
    }
    let join = calls.iter().position(|c| c == "NetworkDriver.Join");
    assert!(join > calls.iter().position(|c| c == "NetworkDriver.CreateEndpoint"), "{calls:?}");
    let log = std::fs::read_to_string(&net.log).unwrap_or_default();
    assert!(log.contains("application/vnd.docker.plugins.v1.2+json"), "{log}");
    assert!(ipam.calls().contains(&"IpamDriver.RequestPool".to_string()));

    // weft plugin ls: the drivers from libraries, the default IPAM, and both plugins with their
    // sockets.
    let ls = h.weft(&["plugin", "ls"]);
    let rows: Vec<Vec<String>> = ls.ok().lines().map(|l| l.split_whitespace().map(String::from).collect()).collect();
    assert_eq!(rows[0], ["NAME", "KIND", "IMPLEMENTS", "VERSION", "ADDRESS"], "{}", ls.stdout);
    let row = |name: &str| rows.iter().find(|r| r[0] == name).cloned().unwrap_or_default();
    assert_eq!(row("bridge")[..4], ["bridge", "dylib", "NetworkDriver", plugins::INTERFACE_VERSION]);
    assert!(row("bridge")[4].ends_with("/libweft_driver_bridge.so"), "{:?}", row("bridge"));
    assert_eq!(row("default"), ["default", "built-in", "IpamDriver", "-", "-"]);
    let tnet_sock = format!("unix://{}", net.socket.display());
    assert_eq!(row("tnet"), ["tnet", "remote", "NetworkDriver", "-", tnet_sock.as_str()]);
    let tipam_sock = format!("unix://{}", ipam.socket.display());
    assert_eq!(row("tipam"), ["tipam", "remote", "IpamDriver", "-", tipam_sock.as_str()]);

    // Removal gives everything back: the container's veth, its address, the bridge, the pool.
    h.weft(&["rm", "-f", "srv"]).ok();
    assert!(wait_for(Duration::from_secs(10), || held(&state) == ["10.77.0.1"]), "{:?}", held(&state));
    assert!(!h.link_names().iter().any(|l| l.starts_with("tpv")), "{:?}", h.link_names());
    h.weft(&["network", "rm", "rn"]).ok();
    assert!(h.link(&bridge).is_none(), "bridge {bridge} left");
    assert_eq!(ipam_state(&state), serde_json::json!({}));
    h.assert_no_networking_left();
}

#[test]
fn plugin_refusals_and_garbage_are_clear_errors_that_leave_nothing() {
    let docker_dir = tempfile::tempdir().expect("temp dir");
    let h = host(docker_dir.path());
    let (_ipam, state) = start_ipam(&h, docker_dir.path());
    let _failnet = start_net(&h, "tfailnet", &["--fail", "NetworkDriver.CreateNetwork"]);
    let failep = start_net(&h, "tfailep", &["--fail", "NetworkDriver.CreateEndpoint"]);
    let failjoin = start_net(&h, "tfailjoin", &["--fail", "NetworkDriver.Join"]);
    let _garbage = start_net(&h, "tgarbage", &["--garbage", "NetworkDriver.CreateNetwork"]);
    let create = |name: &str, driver: &str, ipam: &str| {
        h.weft(&["network", "create", "-d", driver, "--ipam-driver", ipam, name])
    };

    let before = h.snapshot();
    create("a", "nosuch", "default").fails_with(1, "plugin \"nosuch\" not found");
    create("a", "bridge", "nosuch").fails_with(1, "plugin \"nosuch\" not found");
    create("a", "tipam", "default").fails_with(1, "plugin \"tipam\" is not a NetworkDriver: it implements IpamDriver");
    create("a", "tfailnet", "tipam").fails_with(
        1,
        "plugin \"tfailnet\": NetworkDriver.CreateNetwork: test plugin refuses NetworkDriver.CreateNetwork",
    );
    create("a", "tgarbage", "tipam")
        .fails_with(1, "plugin \"tgarbage\": NetworkDriver.CreateNetwork: invalid answer: not JSON");
    assert_eq!(h.snapshot(), before);
    assert_eq!(ipam_state(&state), serde_json::json!({}), "a pool is still held");

    // CreateEndpoint refused after IPAM gave the address: the address goes back.
    create("ep", "tfailep", "tipam").ok();
    let before = h.snapshot();
    let held_before = held(&state);
    h.weft(&["run", "--rm", "--network", "ep", "hostfs", "true"]).fails_with(
        125,
        "plugin \"tfailep\": NetworkDriver.CreateEndpoint: test plugin refuses NetworkDriver.CreateEndpoint",
    );
    assert_eq!(h.snapshot(), before);
    assert_eq!(held(&state), held_before);
    assert!(failep.calls().contains(&"NetworkDriver.CreateEndpoint".to_string()));

    // Join refused after the endpoint was made: the endpoint (the plugin's veth) goes too.
    create("jn", "tfailjoin", "tipam").ok();
    let before = h.snapshot();
    let held_before = held(&state);
    h.weft(&["run", "--rm", "--network", "jn", "hostfs", "true"])
        .fails_with(125, "plugin \"tfailjoin\": NetworkDriver.Join: test plugin refuses NetworkDriver.Join");
    assert_eq!(h.snapshot(), before);
    assert_eq!(held(&state), held_before);
    let calls = failjoin.calls();
    assert!(
        calls.contains(&"NetworkDriver.DeleteEndpoint".to_string()),
        "no DeleteEndpoint after the refused Join: {calls:?}"
    );

    h.weft(&["network", "rm", "ep", "jn"]).ok();
    assert_eq!(ipam_state(&state), serde_json::json!({}));
    h.assert_no_networking_left();
}

#[test]
fn dead_and_silent_plugins_are_clear_errors_that_leave_nothing() {
    let docker_dir = tempfile::tempdir().expect("temp dir");
    let h = host(docker_dir.path());
    let (_ipam, state) = start_ipam(&h, docker_dir.path());
    let _mute = start_net(&h, "tmute", &["--hang", "NetworkDriver.CreateNetwork"]);
    let mut dying = start_net(&h, "tdying", &[]);

    // Never answers: the call times out (--plugin-timeout 2s), the pool goes back.
    let before = h.snapshot();
    h.weft(&["network", "create", "-d", "tmute", "--ipam-driver", "tipam", "m"])
        .fails_with(1, "plugin \"tmute\": NetworkDriver.CreateNetwork: no answer within 2000ms");
    assert_eq!(h.snapshot(), before);
    assert_eq!(ipam_state(&state), serde_json::json!({}));

    // Dies after the network is made: the next call is retried, then fails, and nothing is left.
    h.weft(&["network", "create", "-d", "tdying", "--ipam-driver", "tipam", "d"]).ok();
    let before = h.snapshot();
    let held_before = held(&state);
    dying.kill();
    let r = h.weft(&["run", "--rm", "--network", "d", "hostfs", "true"]);
    r.fails_with(125, "plugin \"tdying\": NetworkDriver.CreateEndpoint: cannot connect to unix://");
    assert!(r.stderr.contains("tdying.sock"), "{}", r.stderr);
    assert_eq!(h.snapshot(), before);
    assert_eq!(held(&state), held_before);

    // Back on the same socket, it takes the calls again: the network can be removed.
    let _back = start_net(&h, "tdying", &[]);
    h.weft(&["network", "rm", "d"]).ok();
    assert_eq!(ipam_state(&state), serde_json::json!({}));
    assert!(!h.link_names().iter().any(|l| l.starts_with("tpb")), "{:?}", h.link_names());
    h.assert_no_networking_left();
}

/// A plugin that cannot take an endpoint back (its DeleteEndpoint fails, as a plugin that died in
/// the middle of a join would) does not leave a record that nothing owns: weft releases the
/// address at once (as Docker does) and drops the endpoint, and asks the plugin again when it
/// answers: at its next call, or at weftd's next start.
#[test]
fn an_endpoint_a_plugin_cannot_delete_is_released_and_asked_again() {
    let docker_dir = tempfile::tempdir().expect("temp dir");
    let mut h = host(docker_dir.path());
    let (_ipam, state) = start_ipam(&h, docker_dir.path());
    let mut broken = start_net(&h, "tpd", &["--fail", "NetworkDriver.Join", "--fail", "NetworkDriver.DeleteEndpoint"]);
    h.weft(&["network", "create", "-d", "tpd", "--ipam-driver", "tipam", "--subnet", "10.94.0.0/24", "pd"]).ok();
    let held_before = held(&state);
    let run = h.weft(&["run", "--rm", "--network", "pd", "hostfs", "true"]);
    assert_ne!(run.code, 0, "the join fails: {run:?}");
    let calls = broken.calls();
    assert!(calls.iter().any(|c| c == "NetworkDriver.DeleteEndpoint"), "{calls:?}");
    // The address is back in the pool, and the network has no endpoint left.
    assert_eq!(held(&state), held_before);
    let containers = h.weft(&["network", "inspect", "-f", "{{len .Containers}}", "pd"]);
    assert_eq!(containers.ok().trim(), "0");
    // The plugin answers again (a new process on its socket): its next call is preceded by the
    // DeleteEndpoint weft still owes it.
    // (The plugin's log is one file across its processes.)
    let seen = broken.calls().len();
    broken.kill();
    let back = start_net(&h, "tpd", &[]);
    h.weft(&["network", "create", "-d", "tpd", "--ipam-driver", "tipam", "--subnet", "10.94.1.0/24", "pd2"]).ok();
    let calls = back.calls().split_off(seen);
    let at = |call: &str| calls.iter().position(|c| c == call);
    assert!(at("NetworkDriver.DeleteEndpoint") < at("NetworkDriver.CreateNetwork"), "{calls:?}");
    assert!(at("NetworkDriver.DeleteEndpoint").is_some(), "{calls:?}");
    h.weft(&["network", "rm", "pd2"]).ok();

    // Owed at a restart, it is asked at the next start.
    drop(back);
    let broken = start_net(&h, "tpd", &["--fail", "NetworkDriver.Join", "--fail", "NetworkDriver.DeleteEndpoint"]);
    assert_ne!(h.weft(&["run", "--rm", "--network", "pd", "hostfs", "true"]).code, 0);
    assert_eq!(held(&state), held_before);
    let seen = broken.calls().len();
    drop(broken);
    let back = start_net(&h, "tpd", &[]);
    h.stop();
    h.start();
    let asked = || back.calls().split_off(seen).iter().any(|c| c == "NetworkDriver.DeleteEndpoint");
    assert!(wait_for(Duration::from_secs(10), asked), "{:?}", back.calls());
    h.weft(&["network", "rm", "pd"]).ok();
    assert_eq!(ipam_state(&state), serde_json::json!({}));
    h.assert_no_networking_left();
}

#[test]
fn plugin_ls_names_plugins_it_cannot_use() {
    let docker_dir = tempfile::tempdir().expect("temp dir");
    let h = host(docker_dir.path());
    std::fs::write(docker_dir.path().join("tls.json"), r#"{"Name":"tls","Addr":"https://127.0.0.1:1"}"#)
        .expect("write spec");
    std::fs::write(docker_dir.path().join("bad.spec"), "ftp://nowhere:1").expect("write spec");
    h.weft(&["network", "create", "-d", "tls", "t"]).fails_with(1, "TLS (https), which weft does not support yet");
    h.weft(&["network", "create", "-d", "bad", "t"]).fails_with(1, "unsupported protocol \"ftp\"");
    let ls = h.weft(&["plugin", "ls"]);
    let out = ls.ok();
    let line = |name: &str| out.lines().find(|l| l.starts_with(name)).unwrap_or_default().to_string();
    assert!(out.lines().next().unwrap_or_default().contains("ERROR"), "{out}");
    assert!(line("tls ").contains("remote") && line("tls ").contains("not support yet"), "{out}");
    assert!(line("bad ").contains("unsupported protocol"), "{out}");
}
