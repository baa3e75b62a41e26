//! End-to-end tests of the command line against a fake weftd on a unix socket in a temp dir:
//! the commands run in-process on captured streams, and the built `weft` binary is run too.

mod fake_daemon;

use serde_json::{json, Value};

use self::fake_daemon::{FakeDaemon, Request, TempDir};
use super::console::Console;
use super::format::jsontext;

const WEB_ID: &str = "4f1c0a8b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90";

/// A network as weftd's `GET /networks/{id}` answers it.
fn network(name: &str, id: &str, driver: &str) -> Value {
    json!({
        "Name": name,
        "Id": id,
        "Created": "2024-05-06T07:08:09.123456789Z",
        "Scope": "local",
        "Driver": driver,
        "EnableIPv4": true,
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": null, "Config": []},
        "Internal": false,
        "Attachable": false,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": {},
        "Options": {},
        "Labels": {}
    })
}

/// The network `web`, with an IPAM configuration, a driver option and a label.
pub(crate) fn web() -> Value {
    let mut n = network("web", WEB_ID, "bridge");
    n["IPAM"]["Config"] = json!([{
        "Subnet": "192.168.100.0/24",
        "IPRange": "192.168.100.128/25",
        "Gateway": "192.168.100.1",
        "AuxiliaryAddresses": {"router": "192.168.100.5"}
    }]);
    n["Options"] = json!({"com.docker.network.bridge.name": "wbr-4f1c0a8b2d3e"});
    n["Labels"] = json!({"team": "web"});
    n
}

fn all_networks() -> Vec<Value> {
    vec![
        web(),
        network("bridge", "3c8e1b2a9f003c8e1b2a9f003c8e1b2a9f003c8e1b2a9f003c8e1b2a9f003c8e", "bridge"),
        network("none", "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2", "null"),
        network("host", "7d2f9a0c11ee7d2f9a0c11ee7d2f9a0c11ee7d2f9a0c11ee7d2f9a0c11ee7d2f", "host"),
    ]
}

fn not_found(name: &str) -> (u16, String) {
    (404, json!({"message": format!("network {name} not found")}).to_string())
}

/// A weftd with the networks above, following the Docker Engine API.
fn answer(r: &Request) -> (u16, String) {
    if let Some(a) = container_answer(r) {
        return a;
    }
    let path = r.target.split('?').next().unwrap_or_default();
    match (r.method.as_str(), path) {
        ("GET", "/_ping") => (200, "OK".into()),
        ("GET", "/version") => (
            200,
            json!({"Version": "0.1.0", "ApiVersion": "1.45", "MinAPIVersion": "1.24", "Os": "linux", "Arch": "amd64"})
                .to_string(),
        ),
        ("GET", "/networks") => (200, Value::Array(all_networks()).to_string()),
        ("POST", "/networks/create") => {
            let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
            match body["Name"].as_str() {
                Some("web") => (409, json!({"message": "network with name web already exists"}).to_string()),
                _ => (201, json!({"Id": WEB_ID, "Warning": ""}).to_string()),
            }
        }
        ("POST", "/networks/prune") => (200, json!({"NetworksDeleted": ["web"]}).to_string()),
        ("GET", p) => {
            let name = p.trim_start_matches("/networks/");
            match all_networks().into_iter().find(|n| n["Name"] == name) {
                Some(n) => (200, n.to_string()),
                None => not_found(name),
            }
        }
        ("DELETE", "/networks/web") => (204, String::new()),
        ("DELETE", p) => not_found(p.trim_start_matches("/networks/")),
        _ => (404, json!({"message": "page not found"}).to_string()),
    }
}

const CONTAINER_ID: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// One frame of Docker's multiplexed log stream.
fn frame(stream: u8, payload: &str) -> String {
    let mut f = String::from_utf8(vec![stream, 0, 0, 0]).unwrap_or_default();
    f.push_str(std::str::from_utf8(&(payload.len() as u32).to_be_bytes()).unwrap_or_default());
    f.push_str(payload);
    f
}

fn container_json() -> Value {
    json!({
        "Id": CONTAINER_ID,
        "Created": "2024-05-06T07:08:09.123456789Z",
        "Path": "sh",
        "Args": ["-c", "echo hello; sleep 1000"],
        "State": {"Status": "running", "Running": true, "Pid": 4242, "ExitCode": 0},
        "Name": "/web",
        "Config": {"Hostname": "web1", "Image": "hostfs", "Cmd": ["sh", "-c", "echo hello; sleep 1000"]},
        "NetworkSettings": {"Networks": {"localnet": {"IPAddress": "192.168.100.10", "IPPrefixLen": 24}}}
    })
}

fn no_such_container(name: &str) -> (u16, String) {
    (404, json!({"message": format!("No such container: {name}")}).to_string())
}

/// The container routes: one container, `web` (also known by its id), whose command prints to
/// both streams and exits with 3.
fn container_answer(r: &Request) -> Option<(u16, String)> {
    let (path, query) = r.target.split_once('?').unwrap_or((r.target.as_str(), ""));
    let rest = path.strip_prefix("/containers/")?;
    let (name, action) = rest.split_once('/').unwrap_or((rest, ""));
    let known = name == "web" || name == CONTAINER_ID;
    Some(match (r.method.as_str(), name, action) {
        ("POST", "create", "") if query == "name=web" => (
            409,
            json!({"message": format!("Conflict. The container name \"/web\" is already in use by container \"{CONTAINER_ID}\". You have to remove (or rename) that container to be able to reuse that name.")})
                .to_string(),
        ),
        ("POST", "create", "") => (201, json!({"Id": CONTAINER_ID, "Warnings": []}).to_string()),
        ("GET", "json", "") => {
            let created = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
                - 5 * 3600;
            let list = json!([
                {"Id": CONTAINER_ID, "Names": ["/web"], "Image": "hostfs", "Command": "sh -c 'echo hello; sleep 1000'",
                 "Created": created, "State": "running", "Status": "Up 5 hours",
                 "NetworkSettings": {"Networks": {"localnet": {}}}},
                {"Id": "0123456789abcdef0123456789abcdef", "Names": ["/done"], "Image": "hostfs", "Command": "true",
                 "Created": created, "State": "exited", "Status": "Exited (0) 5 hours ago"}
            ]);
            let list = if query.contains("all=1") { list } else { json!([list[0]]) };
            (200, list.to_string())
        }
        (_, _, _) if !known => no_such_container(name),
        ("GET", _, "json") => (200, container_json().to_string()),
        ("GET", _, "logs") => (200, format!("{}{}{}", frame(1, "hello\n"), frame(2, "oops\n"), frame(1, "bye\n"))),
        ("POST", _, "wait") => (200, json!({"StatusCode": 3, "Error": null}).to_string()),
        ("POST", _, "start" | "stop" | "kill") | ("DELETE", _, "") => (204, String::new()),
        _ => (404, json!({"message": "page not found"}).to_string()),
    })
}

/// The result of one `weft` run: exit code, stdout, stderr.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    code: i32,
    out: String,
    err: String,
}

fn weft_with_input(daemon: &FakeDaemon, line: &[&str], input: &str) -> Run {
    let mut args = vec!["weft".to_string(), "-H".to_string(), daemon.host()];
    args.extend(line.iter().map(|s| s.to_string()));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input = input.as_bytes();
    let code = super::run(&args, &mut Console::new(&mut out, &mut err, &mut input));
    Run { code, out: String::from_utf8_lossy(&out).into_owned(), err: String::from_utf8_lossy(&err).into_owned() }
}

fn weft(daemon: &FakeDaemon, line: &[&str]) -> Run {
    weft_with_input(daemon, line, "")
}

fn ok(out: &str) -> Run {
    Run { code: 0, out: out.to_string(), err: String::new() }
}

#[test]
fn ls_prints_dockers_table_sorted_by_name() {
    let daemon = FakeDaemon::start(answer);
    assert_eq!(
        weft(&daemon, &["network", "ls"]),
        ok("NETWORK ID     NAME      DRIVER    SCOPE\n\
            3c8e1b2a9f00   bridge    bridge    local\n\
            7d2f9a0c11ee   host      host      local\n\
            a1b2c3d4e5f6   none      null      local\n\
            4f1c0a8b2d3e   web       bridge    local\n")
    );
    assert_eq!(daemon.requests()[0].target, "/networks");
}

#[test]
fn ls_sends_filters_and_formats() {
    let daemon = FakeDaemon::start(answer);
    let run = weft(&daemon, &["network", "list", "-q", "--filter", "driver=bridge", "-f", "label=team=web"]);
    assert_eq!(run, ok("3c8e1b2a9f00\n7d2f9a0c11ee\na1b2c3d4e5f6\n4f1c0a8b2d3e\n"));
    let target = &daemon.requests()[0].target;
    assert_eq!(
        target,
        "/networks?filters=%7B%22driver%22%3A%7B%22bridge%22%3Atrue%7D%2C%22label%22%3A%7B%22team%3Dweb%22%3Atrue%7D%7D"
    );

    assert_eq!(
        weft(&daemon, &["network", "ls", "--format", "table {{.Name}}\t{{.Label \"team\"}}"]),
        ok("NAME      team\nbridge    \nhost      \nnone      \nweb       web\n")
    );
    let run = weft(&daemon, &["network", "ls", "--no-trunc", "--format", "json", "--filter", "name=web"]);
    let last = run.out.lines().last().unwrap_or_default().to_string();
    assert_eq!(
        last,
        format!(
            "{{\"CreatedAt\":\"2024-05-06 07:08:09.123456789 +0000 UTC\",\"Driver\":\"bridge\",\"ID\":\"{WEB_ID}\",\
             \"IPv4\":\"true\",\"IPv6\":\"false\",\"Internal\":\"false\",\"Labels\":\"team=web\",\"Name\":\"web\",\"Scope\":\"local\"}}"
        )
    );
}

#[test]
fn inspect_prints_the_daemons_json_indented() {
    let daemon = FakeDaemon::start(answer);
    let run = weft(&daemon, &["network", "inspect", "web"]);
    assert_eq!(run, ok(&format!("{}\n", jsontext::indent(&format!("[{}]", web()), "    "))));
    // The keys stay in the order the daemon sent them (here serde_json's, sorted).
    assert!(
        run.out.starts_with("[\n    {\n        \"Attachable\": false,\n        \"ConfigFrom\": {\n"),
        "{}",
        run.out
    );
    assert!(run.out.contains("\n        \"Containers\": {},\n"), "{}", run.out);
}

#[test]
fn inspect_templates() {
    let daemon = FakeDaemon::start(answer);
    assert_eq!(
        weft(&daemon, &["network", "inspect", "-f", "{{.IPAM.Config}}", "web"]),
        ok("[{192.168.100.0/24 192.168.100.128/25 192.168.100.1 map[router:192.168.100.5]}]\n")
    );
    assert_eq!(
        weft(&daemon, &["network", "inspect", "--format", "{{.Name}} {{.Driver}} {{json .Options}}", "web", "bridge"]),
        ok("web bridge {\"com.docker.network.bridge.name\":\"wbr-4f1c0a8b2d3e\"}\nbridge bridge {}\n")
    );
    assert_eq!(
        weft(&daemon, &["network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}} {{.Id}}", "web"]),
        ok(&format!("192.168.100.1 {WEB_ID}\n"))
    );
}

#[test]
fn inspect_reports_missing_networks_after_the_others() {
    let daemon = FakeDaemon::start(answer);
    let run = weft(&daemon, &["network", "inspect", "-f", "{{.Name}}", "nope", "web", "gone"]);
    assert_eq!(
        run,
        Run {
            code: 1,
            out: "web\n".into(),
            err: "Error: No such network: nope\nError: No such network: gone\n".into()
        }
    );
    let run = weft(&daemon, &["network", "inspect", "nope"]);
    assert_eq!(run, Run { code: 1, out: "[]\n".into(), err: "Error: No such network: nope\n".into() });
    let run = weft(&daemon, &["network", "inspect", "-f", "{{", "web"]);
    assert_eq!(run.code, 64);
    assert!(run.err.starts_with("template parsing error: "), "{}", run.err);
}

#[test]
fn create_sends_dockers_body_and_prints_the_id() {
    let daemon = FakeDaemon::start(answer);
    let run = weft(
        &daemon,
        &[
            "network",
            "create",
            "--subnet",
            "192.168.100.0/24",
            "--ip-range",
            "192.168.100.128/25",
            "--gateway",
            "192.168.100.1",
            "--aux-address",
            "router=192.168.100.5",
            "-o",
            "mtu=1400",
            "--label",
            "team=web",
            "--attachable",
            "front",
        ],
    );
    assert_eq!(run, ok(&format!("{WEB_ID}\n")));
    let requests = daemon.requests();
    assert_eq!((requests[0].method.as_str(), requests[0].target.as_str()), ("POST", "/networks/create"));
    let body: Value = serde_json::from_str(&requests[0].body).unwrap_or_default();
    assert_eq!(
        body,
        json!({
            "Name": "front", "CheckDuplicate": true, "Driver": "bridge", "Scope": "",
            "IPAM": {"Driver": "default", "Options": {}, "Config": [{
                "Subnet": "192.168.100.0/24", "IPRange": "192.168.100.128/25", "Gateway": "192.168.100.1",
                "AuxiliaryAddresses": {"router": "192.168.100.5"}}]},
            "Internal": false, "Attachable": true, "Ingress": false, "ConfigOnly": false,
            "Options": {"mtu": "1400"}, "Labels": {"team": "web"}
        })
    );
}

#[test]
fn create_errors() {
    let daemon = FakeDaemon::start(answer);
    let run = weft(&daemon, &["network", "create", "web"]);
    assert_eq!(
        run,
        Run {
            code: 1,
            out: String::new(),
            err: "Error response from daemon: network with name web already exists\n".into()
        }
    );
    // Refused before anything is sent.
    let run = weft(&daemon, &["network", "create", "--subnet", "10.0.0.0/24", "--gateway", "10.0.1.1", "x"]);
    assert_eq!(run, Run { code: 1, out: String::new(), err: "no matching subnet for gateway 10.0.1.1\n".into() });
    let run = weft(&daemon, &["network", "create"]);
    assert_eq!(
        run,
        Run {
            code: 1,
            out: String::new(),
            err: "weft: 'weft network create' requires 1 argument\n\nUsage:  weft network create [OPTIONS] NETWORK\n\n\
                  Run 'weft network create --help' for more information\n"
                .into()
        }
    );
    assert_eq!(daemon.requests().len(), 1);
}

#[test]
fn rm_reports_each_failure() {
    let daemon = FakeDaemon::start(answer);
    let run = weft(&daemon, &["network", "rm", "nope", "web"]);
    assert_eq!(
        run,
        Run {
            code: 1,
            out: "web\n".into(),
            err: "Error response from daemon: network nope not found\nexit status 1\n".into()
        }
    );
    assert_eq!(weft(&daemon, &["network", "remove", "-f", "nope", "web"]), ok("web\n"));
    let deletes: Vec<String> =
        daemon.requests().into_iter().filter(|r| r.method == "DELETE").map(|r| r.target).collect();
    assert_eq!(deletes, ["/networks/nope", "/networks/web", "/networks/nope", "/networks/web"]);
}

#[test]
fn prune_asks_first() {
    const PROMPT: &str = "WARNING! This will remove all custom networks not used by at least one container.\n\
                          Are you sure you want to continue? [y/N] ";
    let daemon = FakeDaemon::start(answer);
    assert_eq!(weft_with_input(&daemon, &["network", "prune"], "n\n"), ok(PROMPT));
    assert!(daemon.requests().is_empty());
    assert_eq!(
        weft_with_input(&daemon, &["network", "prune", "--filter", "label=tmp"], "y\n"),
        ok(&format!("{PROMPT}Deleted Networks:\nweb\n\n"))
    );
    assert_eq!(weft(&daemon, &["network", "prune", "-f"]), ok("Deleted Networks:\nweb\n\n"));
    let targets: Vec<String> = daemon.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/networks/prune?filters=%7B%22label%22%3A%7B%22tmp%22%3Atrue%7D%7D", "/networks/prune"]);
}

#[test]
fn version_shows_client_and_server() {
    let daemon = FakeDaemon::start(answer);
    let run = weft(&daemon, &["version"]);
    assert_eq!(run.code, 0);
    assert!(run.out.starts_with("Client:\n Version:           "), "{}", run.out);
    assert!(
        run.out.ends_with(
            "\n\nServer:\n Engine:\n  Version:          0.1.0\n  API version:      1.45 (minimum version 1.24)\n  OS/Arch:          linux/amd64\n"
        ),
        "{}",
        run.out
    );
}

#[test]
fn unreachable_daemon_is_named() {
    let dir = TempDir::new();
    let socket = dir.path().join("missing.sock");
    let args: Vec<String> = ["weft", "-H", &format!("unix://{}", socket.display()), "network", "inspect", "a", "b"]
        .map(String::from)
        .to_vec();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input = "".as_bytes();
    let code = super::run(&args, &mut Console::new(&mut out, &mut err, &mut input));
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&err),
        format!("cannot connect to weftd at {}: is it running? start it with 'weftd'\n", socket.display())
    );
}

/// The `weft` binary next to this test's directory (`target/<profile>/weft`), if it was built.
fn weft_binary() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("weft");
    bin.is_file().then_some(bin)
}

#[test]
fn the_binary_against_a_fake_daemon() {
    let Some(bin) = weft_binary() else {
        // Cargo builds binaries for a package's integration tests only; say so rather than pass,
        // in the line scripts/test counts as a skip (weft_tests::skip, which this crate cannot use).
        use std::io::Write;
        let line = "weft-test: skipped the_binary_against_a_fake_daemon: target/<profile>/weft is not built (cargo build -p weft-cli --bin weft)\n";
        let _ = std::io::stderr().write_all(line.as_bytes());
        return;
    };
    let daemon = FakeDaemon::start(answer);
    let output = std::process::Command::new(&bin)
        .args(["-H", &daemon.host(), "network", "ls", "--format", "{{.Name}}"])
        .env_remove("WEFT_HOST")
        .output();
    let Ok(output) = output else { panic!("cannot run {}", bin.display()) };
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "bridge\nhost\nnone\nweb\n");

    // WEFT_HOST names the daemon when -H does not.
    let output =
        std::process::Command::new(&bin).args(["network", "rm", "web"]).env("WEFT_HOST", daemon.host()).output();
    let Ok(output) = output else { panic!("cannot run {}", bin.display()) };
    assert_eq!(
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned()),
        (Some(0), "web\n".to_string())
    );

    let missing = daemon.dir().join("no.sock");
    let output = std::process::Command::new(&bin)
        .args(["-H", &format!("unix://{}", missing.display()), "network", "ls"])
        .output();
    let Ok(output) = output else { panic!("cannot run {}", bin.display()) };
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!("cannot connect to weftd at {}: is it running? start it with 'weftd'\n", missing.display())
    );

    let output = std::process::Command::new(&bin).args(["network", "ls", "--bogus"]).output();
    let Ok(output) = output else { panic!("cannot run {}", bin.display()) };
    assert_eq!(output.status.code(), Some(125));
}

fn targets(daemon: &FakeDaemon) -> Vec<String> {
    daemon.requests().into_iter().map(|r| format!("{} {}", r.method, r.target)).collect()
}

#[test]
fn run_in_the_foreground_streams_the_output_and_exits_with_the_code() {
    let daemon = FakeDaemon::start(answer);
    let run = weft(
        &daemon,
        &["run", "--rm", "--name", "job", "--network", "localnet", "-e", "A=1", "hostfs", "sh", "-c", "echo hello"],
    );
    assert_eq!(run, Run { code: 3, out: "hello\nbye\n".into(), err: "oops\n".into() });
    assert_eq!(
        targets(&daemon),
        [
            "POST /containers/create?name=job".to_string(),
            format!("POST /containers/{CONTAINER_ID}/start"),
            format!("GET /containers/{CONTAINER_ID}/logs?stdout=1&stderr=1&follow=1"),
            format!("POST /containers/{CONTAINER_ID}/wait"),
            format!("DELETE /containers/{CONTAINER_ID}?force=1"),
        ]
    );
    let body: Value = serde_json::from_str(&daemon.requests()[0].body).unwrap_or_default();
    assert_eq!(
        body,
        json!({"Image": "hostfs", "Cmd": ["sh", "-c", "echo hello"], "Env": ["A=1"], "Hostname": "", "WorkingDir": "",
               "Tty": false, "OpenStdin": false, "StdinOnce": false,
               "AttachStdin": false, "AttachStdout": true, "AttachStderr": true,
               "HostConfig": {"NetworkMode": "localnet", "AutoRemove": false},
               "NetworkingConfig": {"EndpointsConfig": {"localnet": {}}}})
    );
    // `weft container run` is the same command.
    let before = daemon.requests().len();
    let run = weft(&daemon, &["container", "run", "hostfs", "true"]);
    assert_eq!(run.code, 3);
    assert_eq!(
        targets(&daemon)[before..],
        [
            "POST /containers/create".to_string(),
            format!("POST /containers/{CONTAINER_ID}/start"),
            format!("GET /containers/{CONTAINER_ID}/logs?stdout=1&stderr=1&follow=1"),
            format!("POST /containers/{CONTAINER_ID}/wait"),
        ]
    );
}

#[test]
fn run_detached_prints_the_id() {
    let daemon = FakeDaemon::start(answer);
    assert_eq!(
        weft(&daemon, &["run", "-d", "--name", "db", "hostfs", "sleep", "1000"]),
        ok(&format!("{CONTAINER_ID}\n"))
    );
    assert_eq!(
        targets(&daemon),
        ["POST /containers/create?name=db".to_string(), format!("POST /containers/{CONTAINER_ID}/start")]
    );
}

#[test]
fn run_refused_by_the_daemon_exits_125() {
    let daemon = FakeDaemon::start(answer);
    let run = weft(&daemon, &["run", "--name", "web", "hostfs", "true"]);
    assert_eq!(
        run,
        Run {
            code: 125,
            out: String::new(),
            err: format!(
                "weft: Error response from daemon: Conflict. The container name \"/web\" is already in use by container \
                 \"{CONTAINER_ID}\". You have to remove (or rename) that container to be able to reuse that name.\n\n\
                 Run 'weft run --help' for more information\n"
            )
        }
    );
    assert_eq!(daemon.requests().len(), 1);
    let run = weft(&daemon, &["run"]);
    assert_eq!(run.code, 1);
    assert!(
        run.err.starts_with(
            "weft: 'weft run' requires at least 1 argument\n\nUsage:  weft run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
        ),
        "{}",
        run.err
    );
    assert_eq!(weft(&daemon, &["run", "--bogus", "hostfs"]).code, 125);
}

#[test]
fn ps_prints_dockers_table() {
    let daemon = FakeDaemon::start(answer);
    assert_eq!(
        weft(&daemon, &["ps"]),
        ok("CONTAINER ID   IMAGE     COMMAND                  CREATED       STATUS       PORTS     NAMES\n\
            9f86d081884c   hostfs    \"sh -c 'echo hello; …\"   5 hours ago   Up 5 hours             web\n")
    );
    assert_eq!(weft(&daemon, &["container", "ls", "-aq"]), ok("9f86d081884c\n0123456789ab\n"));
    assert_eq!(
        weft(&daemon, &["ps", "-a", "--format", "{{.Names}}: {{.Status}}"]),
        ok("web: Up 5 hours\ndone: Exited (0) 5 hours ago\n")
    );
    assert_eq!(targets(&daemon), ["GET /containers/json", "GET /containers/json?all=1", "GET /containers/json?all=1"]);
}

#[test]
fn rm_stop_kill_start_wait() {
    let daemon = FakeDaemon::start(answer);
    assert_eq!(
        weft(&daemon, &["rm", "-f", "web", "nope"]),
        Run { code: 0, out: "web\n".into(), err: "Error response from daemon: No such container: nope\n".into() }
    );
    assert_eq!(
        weft(&daemon, &["rm", "nope", "web", "gone"]),
        Run {
            code: 1,
            out: "web\n".into(),
            err: "Error response from daemon: No such container: nope\nError response from daemon: No such container: gone\n".into()
        }
    );
    assert_eq!(weft(&daemon, &["stop", "-t", "3", "web"]), ok("web\n"));
    assert_eq!(weft(&daemon, &["kill", "-s", "USR1", "web"]), ok("web\n"));
    assert_eq!(weft(&daemon, &["start", "web"]), ok("web\n"));
    assert_eq!(weft(&daemon, &["container", "wait", "web"]), ok("3\n"));
    assert_eq!(
        targets(&daemon),
        [
            "DELETE /containers/web?force=1",
            "DELETE /containers/nope?force=1",
            "DELETE /containers/nope",
            "DELETE /containers/web",
            "DELETE /containers/gone",
            "POST /containers/web/stop?t=3",
            "POST /containers/web/kill?signal=USR1",
            "POST /containers/web/start",
            "POST /containers/web/wait",
        ]
    );
}

#[test]
fn logs_split_the_streams() {
    let daemon = FakeDaemon::start(answer);
    assert_eq!(
        weft(&daemon, &["logs", "-f", "web"]),
        Run { code: 0, out: "hello\nbye\n".into(), err: "oops\n".into() }
    );
    assert_eq!(targets(&daemon), ["GET /containers/web/logs?stdout=1&stderr=1&follow=1"]);
    assert_eq!(
        weft(&daemon, &["logs", "nope"]),
        Run { code: 1, out: String::new(), err: "Error response from daemon: No such container: nope\n".into() }
    );
}

#[test]
fn inspect_containers_and_other_objects() {
    let daemon = FakeDaemon::start(answer);
    let run = weft(&daemon, &["container", "inspect", "web"]);
    assert_eq!(run, ok(&format!("{}\n", jsontext::indent(&format!("[{}]", container_json()), "    "))));
    assert_eq!(
        weft(&daemon, &["inspect", "-f", "{{.State.Status}} {{.NetworkSettings.Networks.localnet.IPAddress}}", "web"]),
        ok("running 192.168.100.10\n")
    );
    // `weft inspect` finds networks too, as `docker inspect` does.
    assert_eq!(weft(&daemon, &["inspect", "-f", "{{.Name}}", "web", "bridge"]), ok("/web\nbridge\n"));
    assert_eq!(
        weft(&daemon, &["inspect", "-f", "{{.Name}}", "nope"]),
        Run { code: 1, out: "\n".into(), err: "Error: No such object: nope\n".into() }
    );
    assert_eq!(
        weft(&daemon, &["container", "inspect", "bridge"]),
        Run { code: 1, out: "[]\n".into(), err: "Error: No such container: bridge\n".into() }
    );
}

#[test]
fn container_help_pages() {
    let daemon = FakeDaemon::start(answer);
    let want = "Usage:  weft run [OPTIONS] IMAGE [COMMAND] [ARG...]

Create and run a new container from an image

Aliases:
  weft container run, weft run

Options:
      --add-host list        Add a custom host-to-IP mapping (host:ip)
      --cap-add list         Add Linux capabilities
      --cap-drop list        Drop Linux capabilities
  -d, --detach               Run container in background and print
                             container ID
      --dns list             Set custom DNS servers
      --dns-option list      Set DNS options
      --dns-search list      Set custom DNS search domains
  -e, --env list             Set environment variables
      --expose list          Expose a port or a range of ports
      --group-add list       Add additional groups to join
      --help                 Print usage
  -h, --hostname string      Container host name
  -i, --interactive          Keep STDIN open even if not attached
      --ip string            IPv4 address (e.g., 172.30.100.104)
      --ip6 string           IPv6 address (e.g., 2001:db8::33)
  -l, --label list           Set meta data on a container
      --link list            Add link to another container
      --mac-address string   Container MAC address (e.g., 92:d0:c6:0a:29:33)
      --name string          Assign a name to the container
      --network network      Connect a container to a network
      --network-alias list   Add network-scoped alias for the container
      --privileged           Give extended privileges to this container
  -p, --publish list         Publish a container's port(s) to the host
  -P, --publish-all          Publish all exposed ports to random ports
      --read-only            Mount the container's root filesystem as
                             read only
      --rm                   Automatically remove the container and its
                             associated anonymous volumes when it exits
      --security-opt list    Security Options
      --sig-proxy            Proxy received signals to the process
                             (default true)
      --sysctl map           Sysctl options (default map[])
  -t, --tty                  Allocate a pseudo-TTY
  -u, --user string          Username or UID (format:
                             <name|uid>[:<group|gid>])
  -w, --workdir string       Working directory inside the container
";
    assert_eq!(weft(&daemon, &["run", "--help"]), ok(want));
    let run = weft(&daemon, &["container", "ps", "--help"]);
    assert!(
        run.out.starts_with("Usage:  weft container ls [OPTIONS]\n\nList containers\n\nAliases:\n  weft container ls, weft container list, weft container ps, weft ps\n\nOptions:\n  -a, --all "),
        "{}",
        run.out
    );
    let run = weft(&daemon, &["stop", "--help"]);
    assert_eq!(
        run.out,
        "Usage:  weft stop [OPTIONS] CONTAINER [CONTAINER...]\n\nStop one or more running containers\n\nAliases:\n  weft container stop, weft stop\n\nOptions:\n  -s, --signal string   Signal to send to the container\n  -t, --timeout int     Seconds to wait before killing the container\n"
    );
    assert!(daemon.requests().is_empty());
}
