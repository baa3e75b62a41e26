//! End-to-end tests of the embedded DNS at 127.0.0.11: names, aliases, short ids, name.network,
//! PTR and AAAA from inside containers with dig; isolation between networks; live updates on
//! connect, disconnect and stop; round robin; TCP and large answers; forwarding to an upstream
//! server this test starts inside its own namespace (never the machine's DNS server), internal
//! networks, and a container's own --dns servers used from its namespace.
//!
//! Every daemon here is started with `--dns 127.0.0.1`, an address of the test's own namespace,
//! so no query can leave it.

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};

use weft_tests::Host;

/// The port dig asks on: 53, which the sandbox's nftables table redirects to the resolver's own
/// ports.
const PORT: &str = "53";

/// A tiny DNS server for the test's namespace: example.test has A 192.0.2.7, big.test has 60 A
/// records (over 512 bytes), every other name is NXDOMAIN; over UDP and TCP on 0.0.0.0:53. The
/// addresses in its answers are never contacted.
const UPSTREAM: &str = r#"
import socket, struct, threading
def answer(q):
    if len(q) < 17 or q[2] & 0x80:
        return None
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode(errors="replace").lower())
        i += 1 + q[i]
    qtype = struct.unpack(">H", q[i + 1:i + 3])[0]
    name = ".".join(labels)
    count = {"example.test": 1, "big.test": 60}.get(name, 0) if qtype == 1 else 0
    rcode = 0 if name in ("example.test", "big.test") else 3
    head = struct.pack(">HHHHHH", struct.unpack(">H", q[:2])[0], 0x8180 | rcode, 1, count, 0, 0)
    body = q[12:i + 5]
    for n in range(count):
        last = 7 if count == 1 else n + 1
        body += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([192, 0, 2, last])
    return head + body
def tcp(server):
    while True:
        conn, _ = server.accept()
        try:
            n = struct.unpack(">H", conn.recv(2, socket.MSG_WAITALL))[0]
            r = answer(conn.recv(n, socket.MSG_WAITALL))
            if r:
                conn.sendall(struct.pack(">H", len(r)) + r)
        except Exception:
            pass
        conn.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 53))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("0.0.0.0", 53))
t.listen(16)
threading.Thread(target=tcp, args=(t,), daemon=True).start()
print("ready", flush=True)
while True:
    d, a = u.recvfrom(4096)
    r = answer(d)
    if r:
        u.sendto(r, a)
"#;

/// The upstream server, killed on drop.
struct Upstream(Child);

impl Upstream {
    fn start(h: &Host) -> Upstream {
        let mut child = Command::new("ip")
            .args(["netns", "exec", &h.netns, "python3", "-c", UPSTREAM])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the upstream DNS server");
        let mut line = String::new();
        // Ends at "ready" or at EOF if python fails.
        let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
        assert_eq!(line.trim(), "ready", "the upstream DNS server did not start");
        Upstream(child)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A host whose daemon forwards to 127.0.0.1 of its own namespace.
fn host() -> Host {
    Host::with_args(&["--dns", "127.0.0.1"])
}

/// Run `dig -p PORT @127.0.0.11 <args>` in a fresh container on `network`; its output.
fn dig(h: &Host, network: &str, args: &str) -> String {
    dig_with(h, &["--network", network], args)
}

fn dig_with(h: &Host, run_args: &[&str], args: &str) -> String {
    let script = format!("dig +time=2 +tries=1 -p {PORT} @127.0.0.11 {args}");
    let mut argv = vec!["run", "--rm"];
    argv.extend_from_slice(run_args);
    argv.extend_from_slice(&["hostfs", "sh", "-c", &script]);
    h.weft(&argv).ok().to_string()
}

fn lines(s: &str) -> Vec<String> {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
}

/// A container's address on a network, from inspect.
fn addr(h: &Host, container: &str, network: &str, field: &str) -> String {
    let out = h.weft(&["inspect", container]);
    let v: serde_json::Value = serde_json::from_str(out.ok()).expect("inspect JSON");
    v[0]["NetworkSettings"]["Networks"][network][field].as_str().expect("address").to_string()
}

fn id(h: &Host, container: &str) -> String {
    h.weft(&["inspect", "-f", "{{.Id}}", container]).ok().trim().to_string()
}

fn cleanup(h: &Host, containers: &[&str], networks: &[&str]) {
    let mut rm = vec!["rm", "-f"];
    rm.extend_from_slice(containers);
    h.weft(&rm).ok();
    for n in networks {
        h.weft(&["network", "rm", n]).ok();
    }
    assert_eq!(h.weft(&["ps", "-aq"]).ok(), "");
    h.assert_no_networking_left();
}

#[test]
fn names_aliases_short_ids_ptr_and_aaaa() {
    let h = host();
    h.weft(&["network", "create", "--ipv6", "--subnet", "10.81.0.0/24", "--subnet", "fd81::/64", "app"]).ok();
    h.weft(&[
        "run",
        "-d",
        "--name",
        "db",
        "--network",
        "app",
        "--network-alias",
        "database",
        "hostfs",
        "sleep",
        "1000",
    ])
    .ok();
    let v4 = addr(&h, "db", "app", "IPAddress");
    let v6 = addr(&h, "db", "app", "GlobalIPv6Address");
    let short = id(&h, "db")[..12].to_string();
    for name in ["db", "database", "db.app", "DB.App", &short] {
        assert_eq!(lines(&dig(&h, "app", &format!("+short {name}"))), vec![v4.clone()], "{name}");
    }
    assert_eq!(lines(&dig(&h, "app", "+short AAAA db")), vec![v6.clone()]);
    assert_eq!(lines(&dig(&h, "app", &format!("+short -x {v4}"))), vec!["db.app.".to_string()]);
    assert_eq!(lines(&dig(&h, "app", &format!("+short -x {v6}"))), vec!["db.app.".to_string()]);
    // Over TCP too.
    assert_eq!(lines(&dig(&h, "app", "+tcp +short database")), vec![v4.clone()]);
    // As a user asks: `weft exec web dig +short db`, through resolv.conf and port 53.
    h.weft(&["run", "-d", "--name", "web", "--network", "app", "hostfs", "sleep", "1000"]).ok();
    let asked = h.weft(&["exec", "web", "dig", "+short", "+time=2", "+tries=1", "db"]);
    assert_eq!(lines(asked.ok()), vec![v4.clone()]);
    // The container may run its own DNS server on port 53 (of its other addresses): only
    // 127.0.0.11:53 goes to the resolver.
    let own_server = "import socket, subprocess\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('0.0.0.0', 53))\nprint(subprocess.run(['dig', '+short', '+time=2', '+tries=1', 'db'], capture_output=True, text=True).stdout.strip())\n";
    let both = h.weft(&["exec", "web", "python3", "-c", own_server]);
    assert_eq!(lines(both.ok()), vec![v4.clone()]);

    // A name that exists with no IPv6 address: an empty NOERROR, not forwarded.
    h.weft(&["network", "create", "--subnet", "10.82.0.0/24", "v4only"]).ok();
    h.weft(&["run", "-d", "--name", "solo", "--network", "v4only", "hostfs", "sleep", "1000"]).ok();
    let out = dig(&h, "v4only", "AAAA solo");
    assert!(out.contains("status: NOERROR") && out.contains("ANSWER: 0"), "{out}");

    // The container's resolv.conf names the embedded resolver.
    let resolv = h.weft(&[
        "run",
        "--rm",
        "--network",
        "app",
        "--dns-search",
        "corp.test",
        "--dns-option",
        "attempts:2",
        "hostfs",
        "cat",
        "/etc/resolv.conf",
    ]);
    let resolv = resolv.ok();
    assert!(resolv.contains("nameserver 127.0.0.11\n"), "{resolv}");
    assert!(resolv.contains("search corp.test\n"), "{resolv}");
    assert!(resolv.contains("options attempts:2 ndots:0\n"), "{resolv}");
    assert_eq!(resolv.matches("nameserver").count(), 1, "{resolv}");
    cleanup(&h, &["db", "solo", "web"], &["app", "v4only"]);
}

#[test]
fn isolation_live_updates_and_round_robin() {
    let h = host();
    let _upstream = Upstream::start(&h);
    h.weft(&["network", "create", "--subnet", "10.83.0.0/24", "front"]).ok();
    h.weft(&["network", "create", "--subnet", "10.84.0.0/24", "back"]).ok();
    h.weft(&[
        "run",
        "-d",
        "--name",
        "alpha",
        "--network",
        "front",
        "--network-alias",
        "svc",
        "hostfs",
        "sleep",
        "1000",
    ])
    .ok();
    h.weft(&["run", "-d", "--name", "hidden", "--network", "back", "hostfs", "sleep", "1000"]).ok();
    let a = addr(&h, "alpha", "front", "IPAddress");
    // A name only on another network is not resolved here (the upstream says NXDOMAIN).
    let out = dig(&h, "front", "hidden");
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    assert_eq!(lines(&dig(&h, "back", "+short hidden")), vec![addr(&h, "hidden", "back", "IPAddress")]);

    // Connect hidden to front with the alias: both answer, in turn.
    h.weft(&["network", "connect", "--alias", "svc", "front", "hidden"]).ok();
    let b = addr(&h, "hidden", "front", "IPAddress");
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    let mut got = lines(&dig(&h, "front", "+short svc"));
    got.sort();
    assert_eq!(got, both);
    // Four queries from one container: the first answer alternates.
    let script = format!("for i in 1 2 3 4; do dig +time=2 +tries=1 -p {PORT} @127.0.0.11 +short svc | head -n1; done");
    let firsts = lines(h.weft(&["run", "--rm", "--network", "front", "hostfs", "sh", "-c", &script]).ok());
    assert_eq!(firsts.len(), 4, "{firsts:?}");
    assert!(firsts.contains(&a) && firsts.contains(&b), "round robin: {firsts:?}");

    // Disconnect alpha: only hidden is svc now. Stop hidden: nobody is.
    h.weft(&["network", "disconnect", "front", "alpha"]).ok();
    h.weft(&["network", "connect", "back", "alpha"]).ok();
    assert_eq!(lines(&dig(&h, "front", "+short svc")), vec![b.clone()]);
    h.weft(&["stop", "-t", "1", "hidden"]).ok();
    let out = dig(&h, "front", "svc");
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    // alpha, now on back only, is found there under its new address (not "a": dig reads that
    // as a type).
    assert_eq!(lines(&dig(&h, "back", "+short alpha")), vec![addr(&h, "alpha", "back", "IPAddress")]);
    cleanup(&h, &["alpha", "hidden"], &["front", "back"]);
}

#[test]
fn forwarding_large_answers_internal_networks_and_container_dns() {
    let h = host();
    let _upstream = Upstream::start(&h);
    h.weft(&["network", "create", "--subnet", "10.85.0.0/24", "fwd"]).ok();
    assert_eq!(lines(&dig(&h, "fwd", "+short example.test")), vec!["192.0.2.7".to_string()]);
    assert_eq!(lines(&dig(&h, "fwd", "+tcp +short example.test")), vec!["192.0.2.7".to_string()]);
    // 60 records: over UDP without EDNS the answer is cut with TC; dig then asks over TCP.
    let cut = dig(&h, "fwd", "+noedns +ignore big.test");
    assert!(cut.contains(" tc") && cut.contains("ANSWER: 0"), "{cut}");
    assert_eq!(lines(&dig(&h, "fwd", "+noedns +short big.test")).len(), 60);
    assert_eq!(lines(&dig(&h, "fwd", "+bufsize=4096 +short big.test")).len(), 60);

    // An internal network: local names only, nothing to the host's servers.
    h.weft(&["network", "create", "--internal", "--subnet", "10.86.0.0/24", "int"]).ok();
    h.weft(&["run", "-d", "--name", "inner", "--network", "int", "hostfs", "sleep", "1000"]).ok();
    let out = dig(&h, "int", "example.test");
    assert!(out.contains("status: REFUSED"), "{out}");
    assert_eq!(lines(&dig(&h, "int", "+short inner")), vec![addr(&h, "inner", "int", "IPAddress")]);

    // A container's own --dns server is asked from its namespace: the network's gateway, which
    // is an address of this test's namespace where the upstream listens.
    let gateway = h.inspect("fwd")["IPAM"]["Config"][0]["Gateway"].as_str().expect("gateway").to_string();
    let gw: IpAddr = gateway.parse().expect("gateway address");
    let out = dig_with(&h, &["--network", "fwd", "--dns", &gw.to_string()], "+short example.test");
    assert_eq!(lines(&out), vec!["192.0.2.7".to_string()]);
    cleanup(&h, &["inner"], &["fwd", "int"]);
}

/// Sends bad packets to 127.0.0.11:53 and prints, per packet, the answer's rcode or `none`:
/// an answer instead of a query, garbage after a good header, a header cut short, a query cut in its name, a name of 300 labels, an unknown class,
/// an unknown opcode, then 2000 garbage packets as fast as it can; then a good query for `db`.
const BAD_INPUT: &str = r#"
import socket, struct, os
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
def q(name, qtype=1, qclass=1, flags=0x0100, qid=0x1234):
    labels = b"".join(bytes([len(l)]) + l for l in name.split(b".")) + b"\0"
    return struct.pack(">HHHHHH", qid, flags, 1, 0, 0, 0) + labels + struct.pack(">HH", qtype, qclass)
def ask(pkt):
    s.sendto(pkt, ("127.0.0.11", 53))
    try:
        data = s.recv(4096)
        return str(data[3] & 0x0f) if len(data) >= 4 else "short"
    except socket.timeout:
        return "none"
print("response", ask(b"\xff" * 40))
print("garbage", ask(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"\xff" * 28))
print("header", ask(b"\x12\x34\x01"))
print("cut", ask(q(b"db")[:16]))
print("huge", ask(q(b".".join([b"a"] * 300))))
print("class", ask(q(b"db", qclass=77)))
print("opcode", ask(q(b"db", flags=(5 << 11))))
for i in range(2000):
    s.sendto(os.urandom(30), ("127.0.0.11", 53))
s.settimeout(0.2)
try:
    while True:
        s.recv(4096)
except socket.timeout:
    pass
s.settimeout(2)
print("good", ask(q(b"db")))
"#;

#[test]
fn bad_packets_and_floods_get_errors_and_block_nobody() {
    let h = host();
    h.weft(&["network", "create", "--subnet", "10.87.0.0/24", "bad"]).ok();
    h.weft(&["run", "-d", "--name", "db", "--network", "bad", "hostfs", "sleep", "1000"]).ok();
    let out = h.weft(&["run", "--rm", "--network", "bad", "hostfs", "python3", "-c", BAD_INPUT]);
    let answers: Vec<(String, String)> =
        out.ok().lines().filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string()))).collect();
    let rcode = |what: &str| answers.iter().find(|(k, _)| k == what).map(|(_, v)| v.as_str()).unwrap_or("missing");
    // FORMERR (1) where a header can carry it; a packet too short for one, or one that says it
    // is an answer, is dropped (answering answers could loop).
    assert_eq!(rcode("response"), "none", "{answers:?}");
    assert_eq!(rcode("garbage"), "1", "{answers:?}");
    assert_eq!(rcode("header"), "none", "{answers:?}");
    assert_eq!(rcode("cut"), "1", "{answers:?}");
    assert_eq!(rcode("huge"), "1", "{answers:?}");
    // An unknown class goes upstream (here: nothing answers it there, a SERVFAIL or REFUSED).
    assert!(matches!(rcode("class"), "2" | "5"), "{answers:?}");
    // NOTIMP for an opcode other than QUERY.
    assert_eq!(rcode("opcode"), "4", "{answers:?}");
    // After the flood the resolver still answers, here and in another sandbox at once.
    assert_eq!(rcode("good"), "0", "{answers:?}");
    assert_eq!(lines(&dig(&h, "bad", "+short db")), vec![addr(&h, "db", "bad", "IPAddress")]);
    assert!(h.log().lines().all(|l| !l.contains("panicked")), "{}", h.log());
    cleanup(&h, &["db"], &["bad"]);
}

#[test]
fn the_resolver_stays_when_the_last_user_network_goes() {
    let h = host();
    let _upstream = Upstream::start(&h);
    h.weft(&["network", "create", "--subnet", "10.88.0.0/24", "only"]).ok();
    h.weft(&["run", "-d", "--name", "c", "--network", "only", "hostfs", "sleep", "1000"]).ok();
    h.weft(&["network", "connect", "bridge", "c"]).ok();
    h.weft(&["network", "disconnect", "only", "c"]).ok();
    // Its resolv.conf still names 127.0.0.11, which still forwards; its own name is gone.
    let ask = |name: &str| h.weft(&["exec", "c", "dig", "+short", "+time=2", "+tries=1", name]);
    assert_eq!(lines(ask("example.test").ok()), vec!["192.0.2.7".to_string()]);
    assert!(lines(ask("c").ok()).is_empty());
    // Connected again: its name is back.
    h.weft(&["network", "connect", "only", "c"]).ok();
    assert_eq!(lines(ask("c").ok()), vec![addr(&h, "c", "only", "IPAddress")]);

    // A container started on the default bridge names weftd's --dns servers (as dockerd's)...
    h.weft(&["run", "-d", "--name", "b", "hostfs", "sleep", "1000"]).ok();
    let resolv = || h.weft(&["exec", "b", "cat", "/etc/resolv.conf"]).ok().to_string();
    assert!(resolv().contains("nameserver 127.0.0.1\n"), "{}", resolv());
    // ...and the embedded resolver once it joins a user network, at once.
    h.weft(&["network", "connect", "only", "b"]).ok();
    assert!(resolv().contains("nameserver 127.0.0.11\n") && resolv().contains("ndots:0"), "{}", resolv());
    let found = h.weft(&["exec", "b", "dig", "+short", "+time=2", "+tries=1", "c"]);
    assert_eq!(lines(found.ok()), vec![addr(&h, "c", "only", "IPAddress")]);
    cleanup(&h, &["c", "b"], &["only"]);
}
