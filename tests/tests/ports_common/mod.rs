//! What the published-port tests share: the client machine on the host's outside link, the
//! servers and clients (python, run in a container or a namespace), and the `weft` queries.

#![allow(dead_code)]

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
use weft_tests::{Host, Run};

/// The host's address on its outside link, and the client machine's.
pub const HOST_IP: &str = "198.51.100.1";
pub const CLIENT_IP: &str = "198.51.100.2";

/// Servers on the ports given (`80`, `53/udp`): a TCP connection is answered with
/// `<name>:<port>` and closed; a UDP datagram with `<name>:<port>/udp`. With `SAY_FROM=1` in the
/// environment, each answer also says where the connection or datagram came from:
/// `... from <address>`.
pub const SERVER: &str = "import os, socket, sys, threading
name = sys.argv[1]
say_from = os.environ.get('SAY_FROM') == '1'
def said(what, a):
    return (what + (' from %s' % a[0] if say_from else '')).encode()
def tcp(p):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', p))
    s.listen()
    while True:
        c, a = s.accept()
        c.sendall(said('%s:%d' % (name, p), a))
        c.close()
def udp(p):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('0.0.0.0', p))
    while True:
        _, a = s.recvfrom(64)
        s.sendto(said('%s:%d/udp' % (name, p), a), a)
for arg in sys.argv[2:]:
    port, _, proto = arg.partition('/')
    threading.Thread(target=udp if proto == 'udp' else tcp, args=(int(port),)).start()
";

/// A TCP client: what the server said, or `failed: <error>` after `tries` tries 0.1 s apart
/// (each with a 1 s timeout).
pub const TCP_CLIENT: &str = "import socket, sys, time
host, port, tries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
err = None
for i in range(tries):
    try:
        s = socket.create_connection((host, port), timeout=1)
        print(s.recv(64).decode()); break
    except OSError as e:
        err = e; time.sleep(0.1)
else:
    print('failed:', err)
";

/// A UDP client (IPv4 or IPv6): sends one datagram per try and waits 0.5 s for the answer.
pub const UDP_CLIENT: &str = "import socket, sys
host, port, tries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
err = None
for i in range(tries):
    try:
        s.sendto(b'ping', (host, port))
        print(s.recv(64).decode()); break
    except OSError as e:
        err = e
else:
    print('failed:', err)
";

/// Tries while a server may still be starting (about 5 s), and for what must fail.
pub const PATIENT: u32 = 50;
pub const ONCE: u32 = 2;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A second namespace on the host's outside link: the client machine. Gone on drop.
pub struct Client {
    pub netns: String,
}

impl Client {
    /// Link the host's namespace to a fresh one with a veth pair: `out0` (HOST_IP/24) on the
    /// host, `eth0` (CLIENT_IP/24, default route via the host) on the client.
    pub fn on_outside_link(h: &Host) -> Client {
        let netns = format!("wtc{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let run = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().expect("run ip");
            assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        run(&["netns", "add", &netns]);
        let client = Client { netns };
        let c = client.netns.as_str();
        run(&["-n", &h.netns, "link", "add", "out0", "type", "veth", "peer", "name", "eth0", "netns", c]);
        run(&["-n", &h.netns, "addr", "add", &format!("{HOST_IP}/24"), "dev", "out0"]);
        run(&["-n", &h.netns, "link", "set", "out0", "up"]);
        run(&["-n", c, "link", "set", "lo", "up"]);
        run(&["-n", c, "addr", "add", &format!("{CLIENT_IP}/24"), "dev", "eth0"]);
        run(&["-n", c, "link", "set", "eth0", "up"]);
        run(&["-n", c, "route", "add", "default", "via", HOST_IP]);
        client
    }

    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.netns)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.netns]).output();
    }
}

/// Run `args` in the network namespace at `netns` (a path).
pub fn in_ns(netns: &str, args: &[&str]) -> Run {
    let out = Command::new("nsenter").arg(format!("--net={netns}")).args(args).output().expect("run nsenter");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Connect to `ip:port` over TCP from the namespace at `netns`.
pub fn tcp(netns: &str, ip: &str, port: u16, tries: u32) -> String {
    let (port, tries) = (port.to_string(), tries.to_string());
    in_ns(netns, &["python3", "-c", TCP_CLIENT, ip, &port, &tries]).ok().trim().to_string()
}

/// Send a UDP datagram to `ip:port` from the namespace at `netns`; the answer.
pub fn udp(netns: &str, ip: &str, port: u16, tries: u32) -> String {
    let (port, tries) = (port.to_string(), tries.to_string());
    in_ns(netns, &["python3", "-c", UDP_CLIENT, ip, &port, &tries]).ok().trim().to_string()
}

/// The host's own namespace (where weftd runs).
pub fn host_ns(h: &Host) -> String {
    h.netns_path().display().to_string()
}

/// Start a detached container `name` with `flags`, serving `ports` (see [`SERVER`]).
pub fn serve(h: &Host, name: &str, flags: &[&str], ports: &[&str]) -> Run {
    let mut args = vec!["run", "-d", "--name", name];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["hostfs", "python3", "-c", SERVER, name]);
    args.extend_from_slice(ports);
    h.weft(&args)
}

/// A TCP connection from a fresh container on `network` to `ip:port`.
pub fn tcp_from_container(h: &Host, network: &str, ip: &str, port: u16, tries: u32) -> String {
    let (port, tries) = (port.to_string(), tries.to_string());
    let args = ["run", "--rm", "--network", network, "hostfs", "python3", "-c", TCP_CLIENT, ip, &port, &tries];
    h.weft(&args).ok().trim().to_string()
}

/// The one host port `weft port` shows for the container's `private` port.
pub fn host_port(h: &Host, container: &str, private: &str) -> u16 {
    let out = h.weft(&["port", container, private]);
    let first = out.ok().lines().next().unwrap_or_default().to_string();
    let port = first.rsplit_once(':').map(|(_, p)| p).unwrap_or_default();
    port.parse().unwrap_or_else(|_| panic!("no host port in {first:?}"))
}

pub fn inspect(h: &Host, container: &str) -> Value {
    let out = h.weft(&["inspect", container]);
    let v: Value = serde_json::from_str(out.ok()).expect("inspect JSON");
    v[0].clone()
}

pub fn container_ip(h: &Host, container: &str) -> String {
    let ip = h.weft(&["inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container]);
    ip.ok().trim().to_string()
}

/// The names on the default bridge's endpoints, sorted.
pub fn on_bridge(h: &Host) -> Vec<String> {
    let listed = h.weft(&["network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", "bridge"]);
    let mut names: Vec<String> = listed.ok().split_whitespace().map(String::from).collect();
    names.sort();
    names
}

/// A dual-stack TCP server on port 80 answering `<name>:80`.
pub const SERVER6: &str = "import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('::', 80))
s.listen()
while True:
    c, _ = s.accept()
    c.sendall(('%s:80' % sys.argv[1]).encode())
    c.close()
";
