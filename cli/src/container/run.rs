//! `weft run`: create, start, and for a foreground run follow the logs, wait for the exit code and
//! exit with it. With `-i` or `-t` the container is attached to (over a hijacked connection)
//! before it starts, so nothing it says or reads is missed; without `-t`, the signals weft gets
//! are passed on to the container (`--sig-proxy`, on by default).

use serde_json::{json, Map, Value};

use super::lifecycle::wait_code;
use super::logs::{copy_stream, logs_path};
use crate::args::RunArgs;
use crate::client::{encode_component, Client};
use crate::console::Console;
use crate::errors::{CliError, ClientError, EXIT_FLAG_ERROR};
use crate::{hijack, terminal};
use libnet::portmap::{parse_expose, parse_publish};

/// Docker's `toStatusError`: a command that cannot be found exits with 127, one that cannot be
/// run with 126, any other refusal with 125; the message says `weft: ...` and points at the help.
fn status_error(e: &ClientError) -> CliError {
    let message = e.to_string();
    let code = if message.contains("executable file not found")
        || message.contains("no such file or directory")
        || message.contains("system cannot find the file specified")
    {
        127
    } else if message.contains("permission denied") || message.contains("is a directory") {
        126
    } else {
        125
    };
    CliError::with_code(code, format!("weft: {message}\n\nRun 'weft run --help' for more information"))
}

/// Docker's `ValidateEnv`: `K=V` as given; a bare `K` takes the value of the client's own
/// environment, and is sent bare (the daemon drops it) when it has none.
pub(super) fn env_entry(value: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    if value.contains('=') {
        return value.to_string();
    }
    match lookup(value) {
        Some(v) => format!("{value}={v}"),
        None => value.to_string(),
    }
}

/// The body of `POST /containers/create` for these flags (Docker's `container.CreateRequest`,
/// restricted to what `weft run` sets).
pub fn create_body(args: &RunArgs, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Value, CliError> {
    let (image, cmd) = args.args.split_first().ok_or_else(|| CliError::failed("no image given"))?;
    // Docker's default when no --network is given, which the daemon reads as its default bridge.
    let network_mode = args.network.first().cloned().unwrap_or_else(|| "default".to_string());
    let mut endpoints = Map::new();
    for (i, network) in args.network.iter().enumerate() {
        if endpoints.contains_key(network) {
            return Err(CliError::with_code(125, format!("network {network:?} is specified multiple times")));
        }
        // As Docker: --ip, --ip6, --mac-address and --network-alias apply to the first network.
        let endpoint = if i == 0 { first_endpoint(args) } else { Map::new() };
        endpoints.insert(network.clone(), Value::Object(endpoint));
    }
    let first = first_endpoint(args);
    if args.network.is_empty() && !first.is_empty() {
        endpoints.insert(network_mode.clone(), Value::Object(first));
    }
    let env: Vec<String> = args.process.env.iter().map(|e| env_entry(e, lookup)).collect();
    let (exposed, bindings) = ports(args).map_err(|e| {
        CliError::with_code(EXIT_FLAG_ERROR, format!("weft: {e}\n\nRun 'weft run --help' for more information"))
    })?;
    let mut host = host_config(args, network_mode);
    security_config(args, &mut host)?;
    if !bindings.is_empty() {
        host["PortBindings"] = Value::Object(bindings);
    }
    if args.publish_all {
        host["PublishAllPorts"] = Value::Bool(true);
    }
    let mut body = json!({
        "Image": image,
        "Cmd": cmd,
        "Env": env,
        "Hostname": args.hostname.clone().unwrap_or_default(),
        "WorkingDir": args.process.workdir.clone().unwrap_or_default(),
        "Tty": args.process.tty,
        "OpenStdin": args.process.interactive,
        "StdinOnce": args.process.interactive,
        "AttachStdin": args.process.interactive && !args.detach,
        "AttachStdout": !args.detach,
        "AttachStderr": !args.detach,
        "HostConfig": host,
        "NetworkingConfig": {"EndpointsConfig": endpoints},
    });
    if !exposed.is_empty() {
        body["ExposedPorts"] = Value::Object(exposed);
    }
    if let Some(user) = args.user.as_deref().filter(|u| !u.is_empty()) {
        body["User"] = json!(user);
    }
    if !args.label.is_empty() {
        // `key=value`, or a bare `key` with an empty value, as Docker's CLI reads them.
        let labels: Map<String, Value> = args
            .label
            .iter()
            .map(|l| match l.split_once('=') {
                Some((k, v)) => (k.to_string(), json!(v)),
                None => (l.clone(), json!("")),
            })
            .collect();
        body["Labels"] = Value::Object(labels);
    }
    Ok(body)
}

/// `Config.ExposedPorts` (the `--expose` ports and the container ports of `-p`) and
/// `HostConfig.PortBindings` (`-p`), as Docker's CLI builds them; its message for a bad spec.
/// `Config.ExposedPorts` and `HostConfig.PortBindings`, JSON objects keyed by port.
type PortMaps = (Map<String, Value>, Map<String, Value>);

fn ports(args: &RunArgs) -> Result<PortMaps, String> {
    let mut exposed = Map::new();
    let mut bindings = Map::new();
    for raw in &args.publish {
        for spec in parse_publish(raw)? {
            let key = spec.port_key();
            exposed.insert(key.clone(), json!({}));
            let host_ip = spec.host_ip.map(|ip| ip.to_string()).unwrap_or_default();
            let binding = json!({"HostIp": host_ip, "HostPort": spec.host_port});
            match bindings.entry(key).or_insert_with(|| json!([])) {
                Value::Array(list) => list.push(binding),
                other => *other = json!([binding]),
            }
        }
    }
    for raw in &args.expose {
        for (port, proto) in parse_expose(raw)? {
            exposed.insert(format!("{port}/{proto}"), json!({}));
        }
    }
    Ok((exposed, bindings))
}

/// The endpoint settings of the first network: the per-container flags Docker applies there.
fn first_endpoint(args: &RunArgs) -> Map<String, Value> {
    let given = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
    let mut endpoint = Map::new();
    let mut ipam = Map::new();
    if let Some(ip) = given(&args.ip) {
        ipam.insert("IPv4Address".into(), json!(ip));
    }
    if let Some(ip) = given(&args.ip6) {
        ipam.insert("IPv6Address".into(), json!(ip));
    }
    if !ipam.is_empty() {
        endpoint.insert("IPAMConfig".into(), Value::Object(ipam));
    }
    if !args.network_alias.is_empty() {
        endpoint.insert("Aliases".into(), json!(args.network_alias));
    }
    if let Some(mac) = given(&args.mac_address) {
        endpoint.insert("MacAddress".into(), json!(mac));
    }
    endpoint
}

/// `HostConfig`; the lists only when given, so a plain run sends what it always did.
fn host_config(args: &RunArgs, network_mode: String) -> Value {
    let mut host = json!({"NetworkMode": network_mode, "AutoRemove": auto_remove(args)});
    for (key, list) in [
        ("Dns", &args.dns),
        ("DnsOptions", &args.dns_option),
        ("DnsSearch", &args.dns_search),
        ("ExtraHosts", &args.add_host),
        ("Links", &args.link),
    ] {
        if !list.is_empty() {
            host[key] = json!(list);
        }
    }
    host
}

/// `HostConfig`'s security settings; a `--security-opt seccomp=FILE` is read here and sent as
/// its JSON, as Docker's CLI does (the daemon may not see the client's files).
fn security_config(args: &RunArgs, host: &mut Value) -> Result<(), CliError> {
    let mut opts = Vec::new();
    for opt in &args.security_opt {
        match opt.split_once(['=', ':']) {
            Some(("seccomp", path)) if path != "unconfined" && path != "builtin" && !path.is_empty() => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    CliError::with_code(125, format!("weft: opening seccomp profile ({path}) failed: {e}"))
                })?;
                let json: Value = serde_json::from_str(&text).map_err(|e| {
                    CliError::with_code(125, format!("weft: compacting json for seccomp profile ({path}) failed: {e}"))
                })?;
                opts.push(format!("seccomp={json}"));
            }
            _ => opts.push(opt.clone()),
        }
    }
    if args.privileged {
        host["Privileged"] = Value::Bool(true);
    }
    if args.read_only {
        host["ReadonlyRootfs"] = Value::Bool(true);
    }
    for (key, list) in
        [("CapAdd", &args.cap_add), ("CapDrop", &args.cap_drop), ("GroupAdd", &args.group_add), ("SecurityOpt", &opts)]
    {
        if !list.is_empty() {
            host[key] = json!(list);
        }
    }
    if !args.sysctl.is_empty() {
        host["Sysctls"] = Value::Object(args.sysctl.iter().map(|(k, v)| (k.clone(), json!(v))).collect());
    }
    Ok(())
}

/// Whether the daemon removes the container when it exits. A detached `--rm` run leaves that to
/// the daemon. A foreground one removes the container itself after `wait`: the daemon removes an
/// auto-removed container before it announces the exit, so a `wait` asked after the logs end
/// would find no container and lose the exit code (a `wait?condition=removed` asked before the
/// start, as Docker's CLI does, races with a command that ends at once).
fn auto_remove(args: &RunArgs) -> bool {
    args.rm && args.detach
}

/// The create route, with the name when one is given.
pub fn create_path(name: Option<&str>) -> String {
    match name.filter(|n| !n.is_empty()) {
        Some(name) => format!("/containers/create?name={}", encode_component(name)),
        None => "/containers/create".to_string(),
    }
}

/// `POST /containers/create` with `body`; the new container's id, its warnings said on stderr.
fn create_container(console: &mut Console, client: &Client, args: &RunArgs, body: &Value) -> Result<String, CliError> {
    let answer = client.post(&create_path(args.name.as_deref()), Some(body)).map_err(|e| status_error(&e))?;
    let created: Value = serde_json::from_slice(&answer)
        .map_err(|e| CliError::with_code(125, format!("weft: unexpected answer from weftd to create: {e}")))?;
    let id = created.get("Id").and_then(Value::as_str).unwrap_or_default().to_string();
    if id.is_empty() {
        return Err(CliError::with_code(125, "weft: unexpected answer from weftd to create: no Id"));
    }
    for warning in created.get("Warnings").and_then(Value::as_array).into_iter().flatten() {
        if let Some(w) = warning.as_str().filter(|w| !w.is_empty()) {
            console.err(&format!("WARNING: {w}\n"));
        }
    }
    Ok(id)
}

/// `weft create`: the container `weft run` would make, not started; its id printed. `--rm` makes
/// the daemon remove it when it exits after a `weft start`.
pub fn create(console: &mut Console, client: &Client, args: &RunArgs) -> Result<(), CliError> {
    let mut body = create_body(args, &|k| std::env::var(k).ok()).map_err(|mut e| {
        e.message = e.message.replace("'weft run --help'", "'weft create --help'");
        e
    })?;
    body["HostConfig"]["AutoRemove"] = Value::Bool(args.rm);
    let id = create_container(console, client, args, &body)?;
    console.out(&format!("{id}\n"));
    Ok(())
}

pub fn run(console: &mut Console, client: &Client, args: &RunArgs) -> Result<(), CliError> {
    if !args.detach && args.process.interactive && args.process.tty && !terminal::stdin_is_terminal() {
        return Err(CliError::failed("the input device is not a TTY"));
    }
    let body = create_body(args, &|k| std::env::var(k).ok())?;
    let id = create_container(console, client, args, &body)?;
    let container = format!("/containers/{}", encode_component(&id));
    let attached = !args.detach && (args.process.interactive || args.process.tty);
    // Before any other thread exists, so that every thread inherits the blocked signals.
    if !args.detach && !args.process.tty && args.sig_proxy.unwrap_or(true) {
        terminal::proxy_signals(client.socket().to_path_buf(), container.clone());
    }
    let attachment = if attached {
        let stdin = u8::from(args.process.interactive);
        let path = format!("{container}/attach?stream=1&stdin={stdin}&stdout=1&stderr=1");
        match hijack::hijack(client.socket(), &path, &json!({})) {
            Ok(stream) => Some(stream),
            Err(e) => {
                if args.rm {
                    let _ = client.delete(&format!("{container}?force=1"));
                }
                return Err(status_error(&e));
            }
        }
    } else {
        None
    };

    if let Err(e) = client.post(&format!("{container}/start"), None) {
        if args.rm {
            let _ = client.delete(&format!("{container}?force=1"));
        }
        return Err(status_error(&e));
    }
    if args.detach {
        console.out(&format!("{id}\n"));
        return Ok(());
    }

    let copied = match attachment {
        Some(stream) => hijack::attach(console, client.socket(), stream, format!("{container}/resize"), &args.process),
        // The daemon keeps all of the output in the container's log: following it after the
        // start loses nothing.
        None => copy_stream(console, client, &logs_path(&id, true)),
    };
    if let Err(e) = copied {
        if e.is_connect() {
            return Err(status_error(&e));
        }
        console.err(&format!("{e}\n"));
    }
    let code = wait_code(client, &id);
    if args.rm {
        // Gone already (removed by someone else) is no error.
        match client.delete(&format!("{container}?force=1")) {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => console.err(&format!("{e}\n")),
        }
    }
    match code {
        Ok(0) => Ok(()),
        Ok(code) => Err(CliError::with_code(i32::try_from(code).unwrap_or(125), "")),
        Err(e) => Err(status_error(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Command};
    use clap::Parser;

    fn run_args(line: &str) -> RunArgs {
        match Cli::try_parse_from(line.split(' ')) {
            Ok(Cli { command: Some(Command::Run(a)), .. }) => a,
            other => panic!("not a run: {other:?}"),
        }
    }

    fn lookup(k: &str) -> Option<String> {
        (k == "HOME").then(|| "/root".to_string())
    }

    #[test]
    fn flags_stop_at_the_image() {
        let a = run_args("weft run -d --rm --name db hostfs sh -c echo --name -d");
        assert!(a.detach && a.rm);
        assert_eq!(a.name.as_deref(), Some("db"));
        assert_eq!(a.args, ["hostfs", "sh", "-c", "echo", "--name", "-d"]);
    }

    #[test]
    fn create_body_from_flags() {
        let a = run_args(
            "weft run --network my-net --ip 192.168.100.10 --network-alias database --network-alias db \
             -h db1 -e A=1 -e HOME -e NOPE -w /srv hostfs sleep 1000",
        );
        let body = create_body(&a, &lookup).unwrap_or_default();
        assert_eq!(
            body,
            json!({
                "Image": "hostfs", "Cmd": ["sleep", "1000"], "Env": ["A=1", "HOME=/root", "NOPE"],
                "Hostname": "db1", "WorkingDir": "/srv", "Tty": false, "OpenStdin": false, "StdinOnce": false,
                "AttachStdin": false, "AttachStdout": true, "AttachStderr": true,
                "HostConfig": {"NetworkMode": "my-net", "AutoRemove": false},
                "NetworkingConfig": {"EndpointsConfig": {"my-net": {
                    "IPAMConfig": {"IPv4Address": "192.168.100.10"}, "Aliases": ["database", "db"]}}}
            })
        );
    }

    #[test]
    fn create_body_defaults() {
        let body = create_body(&run_args("weft run --rm hostfs"), &lookup).unwrap_or_default();
        assert_eq!(
            body,
            json!({
                "Image": "hostfs", "Cmd": [], "Env": [], "Hostname": "", "WorkingDir": "",
                "Tty": false, "OpenStdin": false, "StdinOnce": false,
                "AttachStdin": false, "AttachStdout": true, "AttachStderr": true,
                "HostConfig": {"NetworkMode": "default", "AutoRemove": false},
                "NetworkingConfig": {"EndpointsConfig": {}}
            })
        );
        let body =
            create_body(&run_args("weft run --network a --network b --ip 10.0.0.2 x"), &lookup).unwrap_or_default();
        assert_eq!(
            body["NetworkingConfig"]["EndpointsConfig"],
            json!({"a": {"IPAMConfig": {"IPv4Address": "10.0.0.2"}}, "b": {}})
        );
        assert!(create_body(&run_args("weft run --network a --network a x"), &lookup).is_err());
    }

    #[test]
    fn create_body_dns_hosts_and_links() {
        let a = run_args(
            "weft run --add-host a.test:10.9.8.7 --add-host b=[::1] --dns 10.0.0.53 --dns-search example.test \
             --dns-option ndots:2 --link db:database --link cache hostfs true",
        );
        let body = create_body(&a, &lookup).unwrap_or_default();
        assert_eq!(
            body["HostConfig"],
            json!({"NetworkMode": "default", "AutoRemove": false, "Dns": ["10.0.0.53"], "DnsOptions": ["ndots:2"],
                   "DnsSearch": ["example.test"], "ExtraHosts": ["a.test:10.9.8.7", "b:::1"],
                   "Links": ["db:database", "cache"]})
        );
        for bad in ["--add-host x", "--add-host a:1.2.3.4.5", "--dns x", "--dns-search -bad", "--link a:b:c"] {
            let line = format!("weft run {bad} hostfs true");
            assert!(Cli::try_parse_from(line.split(' ')).is_err(), "{bad}");
        }
    }

    #[test]
    fn interactive_runs_open_stdin_once() {
        let body = create_body(&run_args("weft run -it --rm hostfs sh"), &lookup).unwrap_or_default();
        let flags: Vec<&Value> = ["Tty", "OpenStdin", "StdinOnce", "AttachStdin"].iter().map(|k| &body[*k]).collect();
        assert_eq!(flags, [&json!(true); 4]);
        let body = create_body(&run_args("weft run -d -i hostfs cat"), &lookup).unwrap_or_default();
        assert_eq!(
            (&body["OpenStdin"], &body["AttachStdin"], &body["Tty"]),
            (&json!(true), &json!(false), &json!(false))
        );
        assert_eq!(run_args("weft run --sig-proxy=false hostfs true").sig_proxy, Some(false));
    }

    #[test]
    fn create_body_ports() {
        let a = run_args(
            "weft run -p 8080:80 -p 127.0.0.1::5000 -p [::1]:53:53/udp -p 8000-8001:8000-8001 -p 9000-9100:90 \
             -P --expose 22 --expose 20-21/udp -p 8081:80 hostfs true",
        );
        let body = create_body(&a, &lookup).unwrap_or_default();
        assert_eq!(
            body["ExposedPorts"],
            json!({"80/tcp": {}, "5000/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}, "90/tcp": {},
                   "22/tcp": {}, "20/udp": {}, "21/udp": {}})
        );
        assert_eq!(
            body["HostConfig"]["PortBindings"],
            json!({
                "80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "", "HostPort": "8081"}],
                "5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
                "53/udp": [{"HostIp": "::1", "HostPort": "53"}],
                "8000/tcp": [{"HostIp": "", "HostPort": "8000"}],
                "8001/tcp": [{"HostIp": "", "HostPort": "8001"}],
                "90/tcp": [{"HostIp": "", "HostPort": "9000-9100"}],
            })
        );
        assert_eq!(body["HostConfig"]["PublishAllPorts"], json!(true));
        for (bad, message) in [
            ("-p 70000:80", "invalid hostPort: 70000"),
            ("-p abc", "invalid containerPort: abc"),
            ("-p 1-5:1-3", "invalid ranges specified for container and host Ports: 1-3 and 1-5"),
            ("-p 80/xyz", "invalid proto: xyz"),
            ("-p 10.0.0.0.1:80:80", "invalid IP address: 10.0.0.0.1"),
            ("--expose abc", "invalid range format for --expose: abc"),
        ] {
            let e = create_body(&run_args(&format!("weft run {bad} hostfs true")), &lookup).err();
            assert_eq!(
                e,
                Some(CliError::with_code(
                    125,
                    format!("weft: {message}\n\nRun 'weft run --help' for more information")
                )),
                "{bad}"
            );
        }
    }

    #[test]
    fn create_paths() {
        assert_eq!(create_path(Some("web")), "/containers/create?name=web");
        assert_eq!(create_path(None), "/containers/create");
    }

    #[test]
    fn refusals_exit_as_dockers() {
        let e = ClientError::Daemon { status: 409, message: "Conflict.".into() };
        assert_eq!(
            status_error(&e),
            CliError::with_code(
                125,
                "weft: Error response from daemon: Conflict.\n\nRun 'weft run --help' for more information"
            )
        );
        let e =
            ClientError::Daemon { status: 400, message: "exec: \"nope\": executable file not found in $PATH".into() };
        assert_eq!(status_error(&e).code, 127);
    }
}
