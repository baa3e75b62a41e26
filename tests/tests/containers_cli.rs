//! `weft run` and the container verbs end to end, as a user types them.

use std::time::Duration;

use weft_tests::{wait_for, Host};

#[test]
fn run_with_each_network_mode() {
    let h = Host::new();
    // none: only the loopback.
    let none = h.weft(&["run", "--rm", "--network", "none", "hostfs", "cat", "/proc/net/dev"]);
    let ifaces: Vec<&str> = none.ok().lines().skip(2).filter_map(|l| l.split(':').next()).map(str::trim).collect();
    assert_eq!(ifaces, vec!["lo"]);
    // host: the host's own interfaces, weft0 among them.
    let host = h.weft(&["run", "--rm", "--network", "host", "hostfs", "cat", "/proc/net/dev"]);
    assert!(host.ok().contains("weft0:"), "{}", host.stdout);
    // default bridge: eth0 with an address of 172.17.0.0/16.
    let bridge = h.weft(&["run", "--rm", "hostfs", "cat", "/proc/net/fib_trie"]);
    assert!(bridge.ok().contains("172.17.0."), "{}", bridge.stdout);
    // The container's exit code is weft's, and stderr stays stderr.
    let code = h.weft(&["run", "--rm", "hostfs", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!((code.code, code.stdout.as_str(), code.stderr.as_str()), (3, "out\n", "err\n"));
    let missing = h.weft(&["run", "--rm", "hostfs", "nosuchcmd"]);
    assert_eq!(missing.code, 127, "{missing:?}");
    // Nothing stays behind: no containers, no endpoints.
    assert_eq!(h.weft(&["ps", "-aq"]).ok(), "");
    assert_eq!(h.veths_left(), Vec::<String>::new());
}

#[test]
fn two_containers_on_a_user_network_talk_over_http() {
    let h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.77.0.0/24", "localnet"]).ok();
    h.run_ok_server("web", "localnet", Some("10.77.0.10"), &["http"]);
    let ps = h.weft(&["ps"]);
    assert!(ps.ok().lines().any(|l| l.ends_with(" web")), "{}", ps.stdout);
    let ip = h.weft(&["inspect", "-f", "{{.NetworkSettings.Networks.localnet.IPAddress}}", "web"]);
    assert_eq!(ip.ok().trim(), "10.77.0.10");
    // The server needs a moment to listen: retry the client, bounded.
    let client = "import urllib.request as u, time\nfor i in range(50):\n    try:\n        print(u.urlopen('http://10.77.0.10/', timeout=2).status); break\n    except OSError as e:\n        err = e; time.sleep(0.1)\nelse:\n    print(err)\n";
    let got = h.weft(&["run", "--rm", "--network", "localnet", "hostfs", "python3", "-c", client]);
    assert_eq!(got.ok().trim(), "200", "client: {got:?}; server: {:?}", h.weft(&["logs", "web"]));
    // A network in use cannot go; after rm -f it can.
    h.weft(&["network", "rm", "localnet"]).fails_with(1, "has active endpoints");
    // rm -f returns once the container's networking is released.
    h.weft(&["rm", "-f", "web"]).ok();
    h.weft(&["network", "rm", "localnet"]).ok();
    assert_eq!(h.veths_left(), Vec::<String>::new());
    assert!(h.link_names().iter().all(|l| !l.starts_with("wbr-")), "{:?}", h.link_names());
}

#[test]
fn stop_start_kill_and_bad_input() {
    let h = Host::new();
    h.weft(&["run", "-d", "--name", "a", "--network", "none", "hostfs", "sleep", "1000"]).ok();
    h.weft(&["run", "-d", "--name", "a", "hostfs", "true"]).fails_with(125, "is already in use");
    h.weft(&["run", "--rm", "--network", "nosuchnet", "hostfs", "true"]).fails_with(125, "network nosuchnet not found");
    h.weft(&["run", "--rm", "nosuchimage", "true"]).fails_with(125, "No such image: nosuchimage");
    h.weft(&["rm", "a"]).fails_with(1, "container is running");
    h.weft(&["stop", "-t", "1", "a"]).ok();
    let code = h.weft(&["inspect", "-f", "{{.State.ExitCode}}", "a"]);
    // sleep dies of the SIGTERM the init forwards to it.
    assert_eq!(code.ok().trim(), "143");
    h.weft(&["start", "a"]).ok();
    h.weft(&["kill", "-s", "KILL", "a"]).ok();
    assert_eq!(h.weft(&["wait", "a"]).ok().trim(), "137");
    h.weft(&["rm", "a"]).ok();
    // A command that ignores SIGTERM gets SIGKILL once the timeout passes.
    let deaf = "trap '' TERM; echo ready; while true; do sleep 0.1; done";
    h.weft(&["run", "-d", "--name", "deaf", "--network", "none", "hostfs", "sh", "-c", deaf]).ok();
    assert!(wait_for(Duration::from_secs(10), || h.weft(&["logs", "deaf"]).stdout.contains("ready")));
    h.weft(&["stop", "-t", "1", "deaf"]).ok();
    let code = h.weft(&["inspect", "-f", "{{.State.ExitCode}}", "deaf"]);
    assert_eq!(code.ok().trim(), "137");
    h.weft(&["rm", "deaf"]).ok();
    assert_eq!(h.weft(&["ps", "-aq"]).ok(), "");
}
