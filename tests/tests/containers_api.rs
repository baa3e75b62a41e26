//! The container routes of weftd's API, end to end: each test starts its own weftd in a network
//! namespace of its own and runs `hostfs` containers through the Docker Engine API shapes. Traffic
//! goes only between containers of the test's own networks.

use std::time::Duration;

use serde_json::{json, Value};
use weft_tests::{demux, wait_for, Host};

/// Create a container; panics unless 201. Returns its id.
#[track_caller]
fn create(h: &Host, name: &str, body: Value) -> String {
    let (status, v) = h.api("POST", &format!("/containers/create?name={name}"), Some(&body.to_string()));
    assert_eq!(status, 201, "create {name}: {v}");
    assert_eq!(v["Warnings"], json!([]));
    v["Id"].as_str().expect("Id").to_string()
}

fn spec(cmd: &[&str], network_mode: &str) -> Value {
    json!({ "Image": "hostfs", "Cmd": cmd, "HostConfig": { "NetworkMode": network_mode } })
}

/// Create and start; returns the id.
#[track_caller]
fn run(h: &Host, name: &str, body: Value) -> String {
    let id = create(h, name, body);
    let (status, v) = h.api("POST", &format!("/containers/{id}/start"), None);
    assert_eq!(status, 204, "start {name}: {v}");
    id
}

/// The exit code, once the container has exited (the harness bounds the request to 30 s).
#[track_caller]
fn wait(h: &Host, id: &str) -> i64 {
    let (status, v) = h.api("POST", &format!("/containers/{id}/wait"), None);
    assert_eq!(status, 200, "wait: {v}");
    assert_eq!(v["Error"], Value::Null);
    v["StatusCode"].as_i64().expect("StatusCode")
}

fn logs(h: &Host, id: &str) -> (String, String) {
    let (status, raw) = h.api_raw("GET", &format!("/containers/{id}/logs?stdout=1&stderr=1"), None);
    assert_eq!(status, 200, "logs: {}", String::from_utf8_lossy(&raw));
    demux(&raw)
}

fn inspect(h: &Host, id: &str) -> Value {
    let (status, v) = h.api("GET", &format!("/containers/{id}/json"), None);
    assert_eq!(status, 200, "inspect: {v}");
    v
}

fn user_network(h: &Host, name: &str, subnet: &str) -> String {
    let body = json!({ "Name": name, "IPAM": { "Config": [{ "Subnet": subnet }] } });
    let (status, v) = h.api("POST", "/networks/create", Some(&body.to_string()));
    assert_eq!(status, 201, "network create: {v}");
    v["Id"].as_str().expect("Id").to_string()
}

#[test]
fn exit_code_logs_list_inspect_and_auto_remove() {
    let h = Host::new();
    let id = run(&h, "echo", spec(&["sh", "-c", "echo hi; echo oops >&2; exit 3"], ""));
    assert_eq!(wait(&h, &id), 3);
    let (out, err) = logs(&h, &id);
    assert_eq!(out, "hi\n");
    assert_eq!(err, "oops\n");
    let v = inspect(&h, "echo");
    assert_eq!(v["Id"], json!(id));
    assert_eq!(v["Name"], "/echo");
    assert_eq!(v["State"]["Status"], "exited");
    assert_eq!(v["State"]["ExitCode"], 3);
    assert_eq!(v["Config"]["Hostname"], json!(&id[..12]));
    assert_eq!(v["HostConfig"]["NetworkMode"], "bridge");
    assert!(v["NetworkSettings"]["Networks"]["bridge"].is_object(), "{v}");
    // Lookup by unique id prefix; listing without all=1 hides exited containers.
    assert_eq!(inspect(&h, &id[..8])["Id"], json!(id));
    let (_, running) = h.api("GET", "/containers/json", None);
    assert_eq!(running, json!([]));
    let (_, all) = h.api("GET", "/containers/json?all=1", None);
    assert_eq!(all[0]["Names"], json!(["/echo"]));
    assert_eq!(all[0]["State"], "exited");
    assert!(all[0]["Status"].as_str().unwrap_or("").starts_with("Exited (3) "), "{all}");
    // Followed logs stream until the container ends.
    let id2 = run(&h, "talker", spec(&["sh", "-c", "echo a; sleep 0.3; echo b"], ""));
    let (status, raw) = h.api_raw("GET", &format!("/containers/{id2}/logs?stdout=1&stderr=1&follow=1"), None);
    assert_eq!(status, 200);
    assert_eq!(demux(&raw).0, "a\nb\n");
    assert_eq!(wait(&h, &id2), 0);
    // AutoRemove: the record goes once the container has exited.
    let mut body = spec(&["true"], "");
    body["HostConfig"]["AutoRemove"] = json!(true);
    let id3 = run(&h, "gone", body);
    assert!(wait_for(Duration::from_secs(10), || h.api("GET", &format!("/containers/{id3}/json"), None).0 == 404));
    for c in [&id, &id2] {
        assert_eq!(h.api("DELETE", &format!("/containers/{c}"), None).0, 204);
    }
    let (status, v) = h.api("DELETE", &format!("/containers/{id}"), None);
    assert_eq!(status, 404);
    assert_eq!(v["message"], json!(format!("No such container: {id}")));
    h.assert_no_networking_left();
}

#[test]
fn network_none_has_only_loopback() {
    let h = Host::new();
    let id = run(&h, "lonely", spec(&["cat", "/proc/net/dev"], "none"));
    assert_eq!(wait(&h, &id), 0);
    let (out, _) = logs(&h, &id);
    let ifaces: Vec<&str> = out.lines().skip(2).filter_map(|l| l.split(':').next()).map(str::trim).collect();
    assert_eq!(ifaces, ["lo"], "{out}");
    assert_eq!(h.api("DELETE", &format!("/containers/{id}"), None).0, 204);
    h.assert_no_networking_left();
}

#[test]
fn network_host_shares_the_hosts_interfaces() {
    let h = Host::new();
    let id = run(&h, "hosty", spec(&["cat", "/proc/net/dev"], "host"));
    assert_eq!(wait(&h, &id), 0);
    let (out, _) = logs(&h, &id);
    assert!(out.contains("weft0:"), "the host's default bridge is not in {out}");
    assert_eq!(inspect(&h, &id)["HostConfig"]["NetworkMode"], "host");
    assert_eq!(h.api("DELETE", &format!("/containers/{id}"), None).0, 204);
    h.assert_no_networking_left();
}

#[test]
fn two_containers_talk_on_a_user_network() {
    let h = Host::new();
    user_network(&h, "talk", "10.231.5.0/24");
    let server_py = "import socket\n\
        s = socket.socket()\n\
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
        s.bind(('0.0.0.0', 8080))\n\
        s.listen(1)\n\
        print('listening', flush=True)\n\
        c, _ = s.accept()\n\
        c.sendall(b'pong')\n\
        c.close()\n";
    let server = run(&h, "server", spec(&["python3", "-c", server_py], "talk"));
    assert!(wait_for(Duration::from_secs(15), || logs(&h, &server).0.contains("listening")), "server never listened");
    let v = inspect(&h, "server");
    let net = &v["NetworkSettings"]["Networks"]["talk"];
    let ip = net["IPAddress"].as_str().expect("IPAddress").to_string();
    assert!(ip.starts_with("10.231.5."), "{v}");
    assert_eq!(net["IPPrefixLen"], 24);
    assert_eq!(net["Gateway"], "10.231.5.1");
    assert!(!net["EndpointID"].as_str().unwrap_or("").is_empty());
    // The network shows its container.
    let (_, n) = h.api("GET", "/networks/talk", None);
    assert!(n["Containers"][&server].is_object(), "{n}");
    let client_py =
        format!("import socket\ns = socket.create_connection(('{ip}', 8080), timeout=5)\nprint(s.recv(16).decode())\n");
    let mut body = spec(&["python3", "-c", &client_py], "talk");
    body["NetworkingConfig"] =
        json!({ "EndpointsConfig": { "talk": { "IPAMConfig": { "IPv4Address": "10.231.5.77" } } } });
    let client = run(&h, "client", body);
    assert_eq!(wait(&h, &client), 0, "client logs: {:?}", logs(&h, &client));
    assert_eq!(logs(&h, &client).0, "pong\n");
    assert_eq!(wait(&h, &server), 0);
    // While it ran, the client had the address it asked for; stopped, the address is released.
    for c in [&server, &client] {
        assert_eq!(h.api("DELETE", &format!("/containers/{c}"), None).0, 204);
    }
    h.assert_no_networking_left();
    assert_eq!(h.api("DELETE", "/networks/talk", None).0, 204);
}

#[test]
fn bad_input_is_refused_with_dockers_errors() {
    let h = Host::new();
    let id = create(&h, "web", spec(&["true"], ""));
    let (status, v) = h.api("POST", "/containers/create?name=web", Some(&spec(&["true"], "").to_string()));
    assert_eq!(status, 409);
    assert_eq!(
        v["message"],
        json!(format!("Conflict. The container name \"/web\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."))
    );
    let mut body = spec(&["true"], "");
    body["Image"] = json!("nope");
    let (status, v) = h.api("POST", "/containers/create", Some(&body.to_string()));
    assert_eq!((status, v["message"].clone()), (404, json!("No such image: nope:latest")));
    let (status, v) = h.api("POST", "/containers/create", Some(&spec(&["true"], "nonet").to_string()));
    assert_eq!((status, v["message"].clone()), (404, json!("network nonet not found")));
    let (status, _) = h.api("POST", "/containers/create", Some(&spec(&[], "").to_string()));
    assert_eq!(status, 400);
    let (status, v) = h.api("POST", "/containers/nosuch/start", None);
    assert_eq!((status, v["message"].clone()), (404, json!("No such container: nosuch")));
    // A generated name when none is given.
    let (status, v) = h.api("POST", "/containers/create", Some(&spec(&["true"], "").to_string()));
    assert_eq!(status, 201);
    let generated = inspect(&h, v["Id"].as_str().unwrap_or(""));
    assert!(generated["Name"].as_str().is_some_and(|n| n.len() > 2), "{generated}");
    let (_, all) = h.api("GET", "/containers/json?all=1", None);
    assert_eq!(all.as_array().map(|a| a.len()), Some(2));
    assert!(all.as_array().unwrap().iter().all(|c| c["State"] == "created" && c["Status"] == "Created"), "{all}");
    // Nothing was started, so nothing was made in the kernel.
    h.assert_no_networking_left();
}

#[test]
fn rm_of_running_needs_force_and_releases_everything() {
    let h = Host::new();
    let net = user_network(&h, "rmnet", "10.231.6.0/24");
    let id = run(&h, "web", spec(&["sleep", "100"], "rmnet"));
    assert!(h.link_names().iter().any(|l| l.starts_with("wv")), "no veth while running");
    let (status, v) = h.api("DELETE", &format!("/networks/{net}"), None);
    assert_eq!(status, 409, "a network with a running container must not go: {v}");
    assert!(v["message"].as_str().unwrap_or("").contains("has active endpoints"), "{v}");
    let (status, v) = h.api("DELETE", "/containers/web", None);
    assert_eq!(status, 409);
    assert_eq!(
        v["message"],
        "cannot remove container \"/web\": container is running: stop the container before removing or force remove"
    );
    let (_, listed) = h.api("GET", "/containers/json", None);
    assert_eq!(listed[0]["State"], "running");
    assert!(listed[0]["Status"].as_str().unwrap_or("").starts_with("Up "), "{listed}");
    assert_eq!(h.api("DELETE", "/containers/web?force=1", None).0, 204);
    assert_eq!(h.api("GET", &format!("/containers/{id}/json"), None).0, 404);
    h.assert_no_networking_left();
    assert_eq!(h.api("DELETE", "/networks/rmnet", None).0, 204);
}

#[test]
fn stop_and_kill() {
    let h = Host::new();
    let id = run(&h, "sleeper", spec(&["sleep", "100"], ""));
    assert_eq!(h.api("POST", &format!("/containers/{id}/stop?t=5"), None).0, 204);
    // sleep dies of the SIGTERM the init forwards to it.
    assert_eq!(wait(&h, &id), 143);
    assert_eq!(h.api("POST", &format!("/containers/{id}/stop"), None).0, 304);
    let (status, v) = h.api("POST", &format!("/containers/{id}/kill"), None);
    assert_eq!((status, v["message"].clone()), (409, json!(format!("Container {id} is not running"))));

    let trap = "trap 'exit 7' USR1; echo ready; sleep 100 & wait";
    let id = run(&h, "trapper", spec(&["sh", "-c", trap], ""));
    assert!(wait_for(Duration::from_secs(10), || logs(&h, &id).0.contains("ready")));
    assert_eq!(h.api("POST", &format!("/containers/{id}/kill?signal=USR1"), None).0, 204);
    assert_eq!(wait(&h, &id), 7);
    let (status, _) = h.api("POST", &format!("/containers/{id}/kill?signal=NOPE"), None);
    assert_eq!(status, 400);
    for c in ["sleeper", "trapper"] {
        assert_eq!(h.api("DELETE", &format!("/containers/{c}"), None).0, 204);
    }
    h.assert_no_networking_left();
}

fn pid_alive(pid: i64) -> bool {
    u32::try_from(pid).is_ok_and(weft_tests::alive)
}

#[test]
fn daemon_restart_stops_containers_and_leaks_nothing() {
    let mut h = Host::new();
    user_network(&h, "keep", "10.231.7.0/24");
    // SIGTERM of weftd: its containers are stopped and their networking released.
    let id = run(&h, "a", spec(&["sleep", "100"], "keep"));
    let pid = inspect(&h, &id)["State"]["Pid"].as_i64().expect("Pid");
    assert!(pid_alive(pid));
    h.stop();
    assert!(wait_for(Duration::from_secs(5), || !pid_alive(pid)), "container outlived weftd's shutdown");
    h.assert_no_networking_left();
    h.start();
    let v = inspect(&h, &id);
    assert_eq!(v["State"]["Status"], "exited", "{v}");
    assert_eq!(v["State"]["Running"], false);

    // A crash of weftd: the next one kills the leftover and releases its networking.
    let id = run(&h, "b", spec(&["sleep", "100"], "keep"));
    let pid = inspect(&h, &id)["State"]["Pid"].as_i64().expect("Pid");
    h.kill9();
    assert!(pid_alive(pid), "the container should outlive a crashed daemon");
    h.start();
    assert!(wait_for(Duration::from_secs(5), || !pid_alive(pid)), "leftover container not killed");
    let v = inspect(&h, &id);
    assert_eq!(v["State"]["Status"], "exited", "{v}");
    assert_eq!(v["State"]["ExitCode"], 137);
    h.assert_no_networking_left();
    for c in ["a", "b"] {
        assert_eq!(h.api("DELETE", &format!("/containers/{c}"), None).0, 204);
    }
    assert_eq!(h.api("DELETE", "/networks/keep", None).0, 204);
}
