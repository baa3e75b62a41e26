//! The generated `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf` of containers, and legacy
//! links, through `weft run` in each test's own daemon. Only files are read and written: no test
//! sends a DNS query (the nameservers given are text in a file, nothing more).

use std::net::IpAddr;

use serde_json::json;
use weft_tests::Host;

/// The sections a container prints, split on `---` lines.
fn sections(out: &str) -> Vec<&str> {
    out.split("---\n").collect()
}

/// The nameserver lines of a resolv.conf text.
fn nameservers(text: &str) -> Vec<String> {
    text.lines().filter_map(|l| l.strip_prefix("nameserver ")).map(|s| s.trim().to_string()).collect()
}

/// What a container on the default bridge gets from the host's resolv.conf: its non-loopback
/// IPv4 nameservers, else Docker's defaults.
fn expected_bridge_nameservers() -> Vec<String> {
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let kept: Vec<String> = nameservers(&host)
        .into_iter()
        .filter(|ns| ns.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv4() && !ip.is_loopback()))
        .collect();
    if kept.is_empty() {
        vec!["8.8.8.8".to_string(), "8.8.4.4".to_string()]
    } else {
        kept
    }
}

const DEFAULT_HOSTS: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n\
                             ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

#[test]
fn default_bridge_files_and_flags() {
    let h = Host::new();
    let script = "cat /etc/hosts; echo ---; cat /etc/hostname; hostname; echo ---; cat /etc/resolv.conf; echo ---; \
                  ip -4 -o addr show eth0";
    let run = h.weft(&[
        "run",
        "--rm",
        "-h",
        "db1",
        "--add-host",
        "a.test:10.9.8.7",
        "--add-host",
        "six.test=[fd00::7]",
        "--dns",
        "10.0.0.53",
        "--dns-search",
        "example.test",
        "--dns-option",
        "ndots:2",
        "hostfs",
        "sh",
        "-c",
        script,
    ]);
    let out = run.ok();
    let s = sections(out);
    assert_eq!(s.len(), 4, "{out}");
    let ip = s[3].split_whitespace().nth(3).and_then(|a| a.split('/').next()).expect("eth0's address");
    assert!(ip.starts_with("172.17."), "{}", s[3]);
    assert_eq!(s[0], format!("{DEFAULT_HOSTS}10.9.8.7\ta.test\nfd00::7\tsix.test\n{ip}\tdb1\n"));
    assert_eq!(s[1], "db1\ndb1\n");
    let resolv = s[2];
    assert_eq!(nameservers(resolv), ["10.0.0.53"], "{resolv}");
    assert!(resolv.lines().any(|l| l == "search example.test"), "{resolv}");
    assert!(resolv.lines().any(|l| l == "options ndots:2"), "{resolv}");

    // Without flags: the hostname is the short id, and resolv.conf has the host's nameservers
    // without the loopback ones (or Docker's defaults).
    let plain = h.weft(&[
        "run",
        "--rm",
        "hostfs",
        "sh",
        "-c",
        "cat /etc/hosts; echo ---; hostname; echo ---; cat /etc/resolv.conf",
    ]);
    let s = sections(plain.ok());
    let hostname = s[1].trim();
    assert_eq!(hostname.len(), 12, "{}", s[1]);
    let own: Vec<&str> = s[0].lines().filter(|l| l.ends_with(&format!("\t{hostname}"))).collect();
    assert_eq!(own.len(), 1, "{}", s[0]);
    assert!(own[0].starts_with("172.17."), "{}", s[0]);
    assert_eq!(nameservers(s[2]), expected_bridge_nameservers(), "{}", s[2]);
    assert_eq!(h.weft(&["ps", "-aq"]).ok(), "");
}

#[test]
fn user_network_none_and_host() {
    let h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.78.0.0/24", "etcnet"]).ok();
    let user =
        h.weft(&["run", "--rm", "--network", "etcnet", "--ip", "10.78.0.9", "-h", "u1", "hostfs", "cat", "/etc/hosts"]);
    assert_eq!(user.ok(), format!("{DEFAULT_HOSTS}10.78.0.9\tu1\n"));
    h.weft(&["network", "rm", "etcnet"]).ok();

    // none: no address of its own.
    let none = h.weft(&["run", "--rm", "--network", "none", "hostfs", "cat", "/etc/hosts"]);
    assert_eq!(none.ok(), DEFAULT_HOSTS);

    // host: the host's own files.
    let host_hosts = std::fs::read_to_string("/etc/hosts").expect("the host's /etc/hosts");
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let host = h.weft(&[
        "run",
        "--rm",
        "--network",
        "host",
        "hostfs",
        "sh",
        "-c",
        "cat /etc/hosts; echo ---; cat /etc/resolv.conf",
    ]);
    let s = sections(host.ok());
    assert_eq!(s[0], host_hosts);
    assert_eq!(nameservers(s[1]), nameservers(&host_resolv), "{}", s[1]);
    // host with --add-host: Docker's fresh file, so the entries can override the host's names.
    let added =
        h.weft(&["run", "--rm", "--network", "host", "--add-host", "b.test:10.1.2.3", "hostfs", "cat", "/etc/hosts"]);
    assert_eq!(added.ok(), format!("{DEFAULT_HOSTS}10.1.2.3\tb.test\n"));
    // Links make no sense on the host's network, as in Docker.
    h.weft(&["run", "--rm", "--network", "host", "--link", "x", "hostfs", "true"])
        .fails_with(125, "host type networking can't be used with links");
    assert_eq!(h.weft(&["ps", "-aq"]).ok(), "");
    h.assert_no_networking_left();
}

#[test]
fn links_on_the_default_bridge() {
    let h = Host::new();
    h.weft(&[
        "run",
        "-d",
        "--name",
        "db",
        "-h",
        "dbhost",
        "-e",
        "X=1",
        "-e",
        "PATH=/bin:/usr/bin",
        "hostfs",
        "sleep",
        "1000",
    ])
    .ok();
    let db_ip = h.weft(&["inspect", "-f", "{{.NetworkSettings.Networks.bridge.IPAddress}}", "db"]);
    let db_ip = db_ip.ok().trim().to_string();
    assert!(db_ip.starts_with("172.17."), "{db_ip}");

    let script = "cat /etc/hosts; echo ---; env";
    let web = h.weft(&["run", "--name", "web", "--link", "db:database", "hostfs", "sh", "-c", script]);
    let s = sections(web.ok());
    assert!(s[0].contains(&format!("\n{db_ip}\tdatabase dbhost db\n")), "{}", s[0]);
    let env: Vec<&str> = s[1].lines().collect();
    assert!(env.contains(&"DATABASE_NAME=/web/database"), "{env:?}");
    assert!(env.contains(&"DATABASE_ENV_X=1"), "{env:?}");
    assert!(!env.iter().any(|v| v.starts_with("DATABASE_ENV_PATH=")), "{env:?}");
    let links = h.weft(&["inspect", "-f", "{{json .HostConfig.Links}}", "web"]);
    assert_eq!(links.ok().trim(), r#"["/db:/web/database"]"#);
    h.weft(&["rm", "web"]).ok();

    let plain = h.weft(&["run", "--rm", "--name", "web2", "--link", "db", "hostfs", "sh", "-c", script]);
    let s = sections(plain.ok());
    assert!(s[0].contains(&format!("\n{db_ip}\tdb dbhost\n")), "{}", s[0]);
    assert!(s[1].lines().any(|l| l == "DB_NAME=/web2/db") && s[1].lines().any(|l| l == "DB_ENV_X=1"), "{}", s[1]);

    // A link to a container that does not exist is refused at create; to a stopped one at start,
    // which leaves the container created and nothing of its networking.
    h.weft(&["run", "--rm", "--link", "nope", "hostfs", "true"]).fails_with(125, "could not get container for nope");
    h.weft(&["stop", "-t", "1", "db"]).ok();
    h.weft(&["run", "--name", "web3", "--link", "db", "hostfs", "true"])
        .fails_with(125, "Cannot link to a non running container: /db AS /web3/db");
    let state = h.weft(&["inspect", "-f", "{{.State.Status}} {{.NetworkSettings.SandboxID}}", "web3"]);
    assert_eq!(state.ok().trim(), "created");
    h.assert_no_networking_left();
    h.weft(&["rm", "web3", "db"]).ok();
    assert_eq!(h.weft(&["ps", "-aq"]).ok(), "");
}

#[test]
fn container_writes_reach_its_copy_not_the_hosts() {
    let h = Host::new();
    let before = std::fs::read("/etc/hosts").expect("the host's /etc/hosts");
    let before_resolv = std::fs::read("/etc/resolv.conf").unwrap_or_default();
    let script = "echo '10.1.1.1 written' >> /etc/hosts && echo 'options rotate' >> /etc/resolv.conf && cat /etc/hosts";
    let run = h.weft(&["run", "--name", "w", "hostfs", "sh", "-c", script]);
    assert!(run.ok().ends_with("10.1.1.1 written\n"), "{}", run.stdout);
    assert_eq!(std::fs::read("/etc/hosts").expect("the host's /etc/hosts"), before);
    assert_eq!(std::fs::read("/etc/resolv.conf").unwrap_or_default(), before_resolv);
    // The write went to the container's own copy, whose path inspect shows.
    let paths = h.weft(&["inspect", "-f", "{{.HostsPath}} {{.ResolvConfPath}} {{.HostnamePath}}", "w"]);
    let paths: Vec<String> = paths.ok().split_whitespace().map(String::from).collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    let id = h.weft(&["inspect", "-f", "{{.Id}}", "w"]).ok().trim().to_string();
    let dir = h.data_root().join("containers").join(&id);
    assert_eq!(paths, ["hosts", "resolv.conf", "hostname"].map(|f| dir.join(f).display().to_string()));
    assert!(std::fs::read_to_string(&paths[0]).unwrap_or_default().ends_with("10.1.1.1 written\n"));
    h.weft(&["rm", "w"]).ok();
    assert!(!dir.exists(), "rm left {}", dir.display());
}

#[test]
fn the_api_takes_and_shows_dockers_fields_and_refuses_bad_ones() {
    let h = Host::new();
    let body = json!({
        "Image": "hostfs", "Cmd": ["true"],
        "HostConfig": { "Dns": ["10.0.0.53"], "DnsSearch": ["example.test"], "DnsOptions": ["ndots:2"],
                        "ExtraHosts": ["a.test:10.9.8.7"] }
    });
    let (status, v) = h.api("POST", "/containers/create?name=c1", Some(&body.to_string()));
    assert_eq!(status, 201, "{v}");
    let (_, c) = h.api("GET", "/containers/c1/json", None);
    let hc = &c["HostConfig"];
    assert_eq!(
        (&hc["Dns"], &hc["DnsSearch"], &hc["DnsOptions"], &hc["ExtraHosts"], &hc["Links"]),
        (
            &json!(["10.0.0.53"]),
            &json!(["example.test"]),
            &json!(["ndots:2"]),
            &json!(["a.test:10.9.8.7"]),
            &json!(null)
        )
    );
    // Not started yet: no files, so no paths.
    assert_eq!(c["HostsPath"], "");
    h.weft(&["rm", "c1"]).ok();
    for (field, value, needle) in [
        ("ExtraHosts", "x", "bad format for add-host: \\\"x\\\""),
        ("ExtraHosts", "a:1.2.3.4.5", "invalid IP address in add-host"),
        ("Dns", "x", "IP address is not correctly formatted: x"),
        ("DnsSearch", "-bad", "-bad is not a valid domain"),
        ("Links", "a:b:c", "bad format for links: a:b:c"),
    ] {
        let body = json!({ "Image": "hostfs", "Cmd": ["true"], "HostConfig": { field: [value] } });
        let (status, v) = h.api("POST", "/containers/create", Some(&body.to_string()));
        assert_eq!(status, 400, "{field} {value}: {v}");
        assert!(v.to_string().contains(needle), "{field} {value}: {v}");
    }
    // The CLI refuses bad values itself, with Docker's words and exit code.
    h.weft(&["run", "--rm", "--add-host", "x", "hostfs", "true"])
        .fails_with(125, "invalid argument \"x\" for \"--add-host\" flag: bad format for add-host: \"x\"");
    assert_eq!(h.weft(&["ps", "-aq"]).ok(), "");
}
