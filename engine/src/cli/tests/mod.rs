//! End-to-end tests of the command line against a fake weftd on a unix socket in a temp dir:
//! the commands run in-process on captured streams, and the built `weft` binary is run too.

mod fake_daemon;

use serde_json::{json, Value};

use self::fake_daemon::{FakeDaemon, Request, TempDir};
use super::console::Console;
use super::format::jsontext;

const WEB_ID: &str = "4f1c0a8b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f90";

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

fn web() -> Value {
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
        // Cargo builds binaries for a package's integration tests only; say so rather than pass.
        eprintln!("SKIPPED the_binary_against_a_fake_daemon: target/<profile>/weft is not built (cargo build -p engine --bin weft)");
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
