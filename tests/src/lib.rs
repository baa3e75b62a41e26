//! The end-to-end harness: a test's own "host" is a network namespace with a `weftd` inside it,
//! its own data root, exec root and socket under a temporary directory, driven with the real
//! `weft` binary. Nothing touches the machine's root namespace; everything goes away on drop.

pub mod docker;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A container's command (`python3 -c OK_SERVER`): a TCP server on port 80 that answers `ok` to
/// every connection; with the argument `http` (`python3 -c OK_SERVER http`), it reads the request
/// and answers `ok` as HTTP/1.0 (http.server would look its own name up in DNS first, which has
/// nowhere to go in a test's namespace).
pub const OK_SERVER: &str = "import socket, sys
http = sys.argv[1:] == ['http']
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', 80))
s.listen()
while True:
    c, _ = s.accept()
    if http:
        c.recv(1024)
        c.sendall(b'HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok')
    else:
        c.sendall(b'ok')
    c.close()
";

/// Whether process `pid` is still there and not a zombie (ended, not yet reaped).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// The directory holding `weftd` and `weft` (the test binary's `target/<profile>`).
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("WEFT_BIN_DIR") {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test> -> target/<profile>
    exe.parent().and_then(Path::parent).expect("target dir").to_path_buf()
}

/// Path of one of weft's binaries; panics with the fix if it was not built.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(p.exists(), "{} is missing: build first (cargo build: the binaries and the driver libraries)", p.display());
    p
}

/// Mark the calling test as skipped, with why: a line `weft-test: skipped <test>: <reason>` written
/// straight to the process's stderr (past the test harness's capture, so it shows even when the
/// test passes), which `scripts/test` counts as a skip rather than a pass. The test must return
/// right after.
pub fn skip(reason: &str) {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("?").to_string();
    let line = format!("weft-test: skipped {test}: {reason}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Poll `f` every 10 ms until it returns true or `timeout` passes.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Run `cmd` to its end with its output captured; panics if it has not ended within `limit`
/// (it is killed first), so a hung program fails the test instead of hanging it.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Run {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for a command") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("timed out after {limit:?}: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run::from(Output { status, stdout: stdout.join().unwrap_or_default(), stderr: stderr.join().unwrap_or_default() })
}

/// A finished command: exit code and text.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    /// Panic with the output unless the command succeeded; return stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "command failed: stdout={:?} stderr={:?}", self.stdout, self.stderr);
        &self.stdout
    }
    /// Panic unless the command failed with `code` and stderr holding `needle`.
    #[track_caller]
    pub fn fails_with(&self, code: i32, needle: &str) {
        assert_eq!(self.code, code, "expected exit {code}: stdout={:?} stderr={:?}", self.stdout, self.stderr);
        assert!(self.stderr.contains(needle), "stderr {:?} lacks {:?}", self.stderr, needle);
    }
}

/// A test host: a network namespace of its own, and a weftd in it.
pub struct Host {
    pub netns: String,
    pub dir: tempfile::TempDir,
    daemon: Option<Child>,
    extra_args: Vec<String>,
}

impl Host {
    /// A fresh namespace (with loopback up) and directories; no daemon yet.
    pub fn bare() -> Host {
        let netns = format!("wt{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let dir = tempfile::Builder::new().prefix("weft-e2e-").tempdir().expect("temp dir");
        let out = Command::new("ip").args(["netns", "add", &netns]).output().expect("run ip netns add");
        assert!(out.status.success(), "ip netns add {netns}: {}", String::from_utf8_lossy(&out.stderr));
        let host = Host { netns, dir, daemon: None, extra_args: Vec::new() };
        host.ip(&["link", "set", "lo", "up"]).ok();
        host
    }

    /// A fresh host with weftd running in it.
    pub fn new() -> Host {
        Self::with_args(&[])
    }

    /// A fresh host with weftd started with extra flags.
    pub fn with_args(args: &[&str]) -> Host {
        let mut h = Self::bare();
        h.extra_args = args.iter().map(|s| s.to_string()).collect();
        h.start();
        h
    }

    /// Start weftd on a [`Host::bare`] with extra flags (for flags that name files the test puts
    /// in the host's directory first).
    pub fn start_with_args(&mut self, args: &[&str]) {
        self.extra_args = args.iter().map(|s| s.to_string()).collect();
        self.start();
    }

    pub fn data_root(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    pub fn exec_root(&self) -> PathBuf {
        self.dir.path().join("exec")
    }
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("weft.sock")
    }
    pub fn netns_path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.netns)
    }
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("weftd.log")
    }

    /// The weftd command line this host runs.
    pub fn daemon_command(&self) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net={}", self.netns_path().display()))
            .arg(bin("weftd"))
            .arg("--data-root")
            .arg(self.data_root())
            .arg("--exec-root")
            .arg(self.exec_root())
            .arg("-H")
            .arg(format!("unix://{}", self.socket().display()))
            .arg("--config-file")
            .arg("/dev/null")
            .args(&self.extra_args);
        cmd
    }

    /// Start weftd and wait until it answers /_ping.
    pub fn start(&mut self) {
        assert!(self.daemon.is_none(), "weftd already running");
        let log = std::fs::File::options().create(true).append(true).open(self.log_path()).expect("log file");
        let child = self
            .daemon_command()
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("spawn weftd");
        self.daemon = Some(child);
        let up = wait_for(Duration::from_secs(20), || {
            if let Some(Ok(Some(_))) = self.daemon.as_mut().map(|c| c.try_wait()) {
                return true;
            }
            self.weft(&["version"]).code == 0
        });
        let exited = self.daemon.as_mut().and_then(|c| c.try_wait().ok().flatten());
        assert!(up && exited.is_none(), "weftd did not come up: {}", self.log());
    }

    /// What the daemon logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Stop weftd with SIGTERM and wait for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.daemon.take() {
            if let Ok(pid) = i32::try_from(c.id()) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM);
            }
            let done = wait_for(Duration::from_secs(10), || matches!(c.try_wait(), Ok(Some(_))));
            if !done {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    /// Kill weftd with SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.daemon.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Run `weft -H <this host's socket> args...`.
    /// Panics if it has not ended after 120 s, so a hung daemon fails the test instead of hanging it.
    pub fn weft(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(bin("weft"));
        cmd.arg("-H").arg(format!("unix://{}", self.socket().display())).args(args);
        run_bounded(&mut cmd, Duration::from_secs(120))
    }

    /// Run `ip -n <netns> args...`.
    pub fn ip(&self, args: &[&str]) -> Run {
        let out = Command::new("ip").arg("-n").arg(&self.netns).args(args).output().expect("run ip");
        Run::from(out)
    }

    /// `ip -j -n <netns> link show <name>` as JSON, if the link exists.
    pub fn link(&self, name: &str) -> Option<serde_json::Value> {
        let r = self.ip(&["-j", "-d", "link", "show", name]);
        if r.code != 0 {
            return None;
        }
        serde_json::from_str::<serde_json::Value>(&r.stdout).ok().and_then(|v| v.get(0).cloned())
    }

    /// The addresses of a link as `addr/prefix` strings, without the kernel's IPv6 link-local one.
    pub fn addresses(&self, name: &str) -> Vec<String> {
        let r = self.ip(&["-j", "addr", "show", name]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_default();
        v.get(0)
            .and_then(|l| l.get("addr_info"))
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter(|i| i.get("scope").and_then(|s| s.as_str()) != Some("link"))
                    .filter_map(|i| Some(format!("{}/{}", i.get("local")?.as_str()?, i.get("prefixlen")?.as_u64()?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Names of every link in the host's namespace.
    pub fn link_names(&self) -> Vec<String> {
        let r = self.ip(&["-j", "link", "show"]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_default();
        v.as_array()
            .map(|a| a.iter().filter_map(|l| l.get("ifname").and_then(|n| n.as_str()).map(String::from)).collect())
            .unwrap_or_default()
    }

    /// weft's veths (`wv…`) in the host's namespace. A sandbox discarded at a container's exit
    /// takes its veth pairs with it, but the kernel tears the namespace down in the background:
    /// this waits (up to 10 s) for none to be left, then returns what is left.
    pub fn veths_left(&self) -> Vec<String> {
        let veths = || self.link_names().into_iter().filter(|l| l.starts_with("wv")).collect::<Vec<_>>();
        wait_for(Duration::from_secs(10), || veths().is_empty());
        veths()
    }

    /// No weft veth in the host's namespace (see [`Host::veths_left`]) and no sandbox namespace
    /// under the exec root.
    #[track_caller]
    pub fn assert_no_networking_left(&self) {
        let veths = self.veths_left();
        assert!(veths.is_empty(), "veths left: {veths:?}");
        let netns: Vec<_> = std::fs::read_dir(self.exec_root().join("netns"))
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(netns.is_empty(), "sandbox namespaces left: {netns:?}");
    }

    /// Connect to `ip`:80 (an [`OK_SERVER`]) from a fresh container on `network`, `tries` times
    /// 0.1 s apart while the server starts: what it read (`ok`), or `failed: <error>`.
    pub fn reach(&self, network: &str, ip: &str, tries: u32) -> String {
        let client = format!(
            "import socket, time\nfor i in range({tries}):\n    try:\n        s = socket.create_connection(('{ip}', 80), timeout=1)\n        print(s.recv(16).decode()); break\n    except OSError as e:\n        err = e; time.sleep(0.1)\nelse:\n    print('failed:', err)\n"
        );
        self.weft(&["run", "--rm", "--network", network, "hostfs", "python3", "-c", &client]).ok().trim().to_string()
    }

    /// Start container `name` on `network`, at `ip` when given, serving [`OK_SERVER`] on port 80
    /// (`server_args` `&["http"]` for its HTTP form): `weft run -d --name <name> --network
    /// <network> [--ip <ip>] hostfs python3 -c OK_SERVER <server_args>`, which must succeed.
    #[track_caller]
    pub fn run_ok_server(&self, name: &str, network: &str, ip: Option<&str>, server_args: &[&str]) {
        let mut args = vec!["run", "-d", "--name", name, "--network", network];
        if let Some(ip) = ip {
            args.extend(["--ip", ip]);
        }
        args.extend(["hostfs", "python3", "-c", OK_SERVER]);
        args.extend(server_args);
        self.weft(&args).ok();
    }

    /// `weft network inspect <name>` parsed.
    #[track_caller]
    pub fn inspect(&self, name: &str) -> serde_json::Value {
        let out = self.weft(&["network", "inspect", name]);
        let v: serde_json::Value = serde_json::from_str(out.ok()).expect("inspect JSON");
        v.get(0).cloned().expect("one network")
    }

    /// The `id` of a network.
    #[track_caller]
    pub fn network_id(&self, name: &str) -> String {
        self.inspect(name)["Id"].as_str().expect("Id").to_string()
    }
}

impl Default for Host {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop();
        // Sandbox namespaces mounted under the exec root.
        if let Ok(dir) = std::fs::read_dir(self.exec_root().join("netns")) {
            for e in dir.flatten() {
                let _ = nix_umount(&e.path());
            }
        }
        let _ = Command::new("ip").args(["netns", "del", &self.netns]).output();
    }
}

fn nix_umount(path: &Path) -> std::io::Result<()> {
    let r = nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH);
    let _ = std::fs::remove_file(path);
    r.map_err(std::io::Error::from)
}

/// What a host looks like from outside: its networks (by `weft network ls`) and its links.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub networks: Vec<String>,
    pub links: Vec<String>,
}

impl Host {
    /// Networks and links now, to compare before and after a failed command.
    pub fn snapshot(&self) -> Snapshot {
        // The veths of namespaces discarded just before go in the background: wait (up to 10 s)
        // until the host holds one per endpoint of a bridge network, so they are not counted.
        wait_for(Duration::from_secs(10), || {
            let veths = self.link_names().into_iter().filter(|l| l.starts_with("wv")).count();
            veths == self.bridge_endpoints()
        });
        let mut networks: Vec<String> = self
            .weft(&["network", "ls", "--no-trunc", "--format", "{{.ID}} {{.Name}}"])
            .ok()
            .lines()
            .map(String::from)
            .collect();
        networks.sort();
        let mut links = self.link_names();
        links.sort();
        Snapshot { networks, links }
    }

    /// How many endpoints the bridge networks have (a `wv…` veth each in the host).
    pub fn bridge_endpoints(&self) -> usize {
        let ids = self.weft(&["network", "ls", "-q", "--filter", "driver=bridge"]);
        let ids: Vec<&str> = ids.ok().lines().collect();
        if ids.is_empty() {
            return 0;
        }
        let mut args = vec!["network", "inspect"];
        args.extend(ids);
        let out = self.weft(&args);
        let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap_or_default();
        v.as_array()
            .map(|nets| nets.iter().map(|n| n["Containers"].as_object().map_or(0, |c| c.len())).sum())
            .unwrap_or(0)
    }

    /// One HTTP request to the daemon's API; returns the status and the body parsed as JSON
    /// (`Null` when empty).
    pub fn api(&self, method: &str, path: &str, body: Option<&str>) -> (u16, serde_json::Value) {
        let (status, payload) = self.api_raw(method, path, body);
        let payload = String::from_utf8_lossy(&payload).into_owned();
        let json = if payload.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload))
        };
        (status, json)
    }
}

impl Host {
    /// One HTTP request to the daemon's API; the status and the raw body bytes (de-chunked), for
    /// answers that are not JSON, such as the multiplexed log stream.
    pub fn api_raw(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Vec<u8>) {
        use std::io::{Read, Write};
        let mut s = std::os::unix::net::UnixStream::connect(self.socket()).expect("connect to weftd");
        s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
        let body = body.unwrap_or("");
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: weft\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).expect("send request");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read response");
        let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { return (0, raw) };
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("status line");
        let payload = &raw[split + 4..];
        let payload = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            dechunk_bytes(payload)
        } else {
            payload.to_vec()
        };
        (status, payload)
    }
}

fn dechunk_bytes(mut s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = s.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&s[..eol]).to_string();
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let rest = &s[eol + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        s = rest[n..].strip_prefix(b"\r\n").unwrap_or(&rest[n..]);
    }
    out
}

/// Split Docker's multiplexed stream (stream byte, 3 zeros, u32 big-endian length, payload) into
/// the text of stdout and of stderr.
pub fn demux(mut s: &[u8]) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    while s.len() >= 8 {
        let n = u32::from_be_bytes([s[4], s[5], s[6], s[7]]) as usize;
        let payload = &s[8..(8 + n).min(s.len())];
        match s[0] {
            2 => err.extend_from_slice(payload),
            _ => out.extend_from_slice(payload),
        }
        s = &s[(8 + n).min(s.len())..];
    }
    (String::from_utf8_lossy(&out).into_owned(), String::from_utf8_lossy(&err).into_owned())
}
