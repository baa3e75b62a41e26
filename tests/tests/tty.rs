//! Interactive containers end to end: `weft exec -it` and `weft run -it` driven through a real
//! pseudo-terminal, `weft run -i` with piped stdin, and the signals a foreground `weft run`
//! passes on to its container.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use weft_tests::{bin, wait_for, Host};

/// Runs a command on the slave of a new pseudo-terminal, waits for the shell's `# ` prompt,
/// types one line, and prints what came back (as a Python bytes literal) and the exit code.
/// Every wait is bounded.
const DRIVER: &str = r##"
import os, pty, select, sys, time
line = sys.argv[1].encode() + b"\r"
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
out, typed = b"", False
deadline = time.time() + 60
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if fd in ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    if not typed and b"# " in out:
        os.write(fd, line)
        typed = True
_, status = os.waitpid(pid, 0)
print(repr(out))
print("exit", os.waitstatus_to_exitcode(status))
"##;

/// What `weft args...` printed on a terminal after `line` was typed at its prompt, and its exit code.
fn on_terminal(h: &Host, line: &str, args: &[&str]) -> (String, i32) {
    let driver = h.dir.path().join("driver.py");
    std::fs::write(&driver, DRIVER).expect("write the driver");
    let socket = format!("unix://{}", h.socket().display());
    let weft = bin("weft");
    let mut argv: Vec<&str> = vec![weft.to_str().expect("path"), "-H", &socket];
    argv.extend_from_slice(args);
    let out = Command::new("python3").arg(&driver).arg(line).args(&argv).output().expect("run python3");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let code = text.lines().last().and_then(|l| l.strip_prefix("exit ")).and_then(|c| c.parse().ok());
    let Some(code) = code else {
        panic!("no exit code from the driver: {text} {}", String::from_utf8_lossy(&out.stderr))
    };
    (text, code)
}

const TYPED: &str = "echo $((6*7)); tty; exit 5";

#[test]
fn exec_it_gives_a_shell_a_terminal() {
    let h = Host::new();
    h.weft(&["run", "-d", "--name", "c", "hostfs", "sleep", "1000"]).ok();
    let (out, code) = on_terminal(&h, TYPED, &["exec", "-it", "c", "sh"]);
    assert_eq!(code, 5, "{out}");
    assert!(out.contains("\\r\\n42\\r\\n"), "{out}");
    assert!(out.contains("/dev/pts/"), "{out}");
    // Without -i and -t no terminal, and the input device must be one for -it.
    assert_eq!(h.weft(&["exec", "c", "tty"]).stdout, "not a tty\n");
    h.weft(&["exec", "-it", "c", "true"]).fails_with(1, "the input device is not a TTY");
    // -t alone: a terminal for the output, nothing read.
    let r = h.weft(&["exec", "-t", "c", "sh", "-c", "tty; echo $TERM"]);
    assert!(r.ok().starts_with("/dev/pts/") && r.stdout.contains("xterm\r\n"), "{:?}", r.stdout);
    h.weft(&["rm", "-f", "c"]).ok();
}

#[test]
fn run_it_gives_the_container_a_terminal() {
    let h = Host::new();
    let (out, code) = on_terminal(&h, TYPED, &["run", "-it", "--rm", "hostfs", "sh"]);
    assert_eq!(code, 5, "{out}");
    assert!(out.contains("\\r\\n42\\r\\n") && out.contains("/dev/pts/0"), "{out}");
    // A terminal container's output is logged as one raw stream, and inspect says Tty.
    let r = h.weft(&["run", "-t", "--name", "t", "hostfs", "sh", "-c", "echo out; echo err >&2; exit 2"]);
    assert_eq!((r.code, r.stdout.as_str()), (2, "out\r\nerr\r\n"));
    assert_eq!(h.weft(&["logs", "t"]).ok(), "out\r\nerr\r\n");
    assert_eq!(h.weft(&["inspect", "-f", "{{.Config.Tty}} {{.Config.OpenStdin}}", "t"]).ok(), "true false\n");
    h.weft(&["rm", "t"]).ok();
    assert_eq!(h.weft(&["ps", "-aq"]).ok(), "");
}

#[test]
fn run_i_reads_piped_stdin() {
    let h = Host::new();
    let mut child = Command::new(bin("weft"))
        .arg("-H")
        .arg(format!("unix://{}", h.socket().display()))
        .args(["run", "-i", "--rm", "--name", "cat", "hostfs", "sh", "-c", "cat; echo done >&2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run weft");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"one\ntwo\n").expect("write");
    drop(stdin);
    assert!(wait_for(Duration::from_secs(60), || matches!(child.try_wait(), Ok(Some(_)))), "weft run -i did not end");
    let out = child.wait_with_output().expect("output");
    assert_eq!(
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).as_ref(),
            String::from_utf8_lossy(&out.stderr).as_ref()
        ),
        (Some(0), "one\ntwo\n", "done\n")
    );
    // --rm: gone.
    assert_eq!(h.weft(&["ps", "-aq"]).ok(), "");
    h.weft(&["run", "-i", "-t", "hostfs", "true"]).fails_with(1, "the input device is not a TTY");
}

/// A shell that says `ready` once its traps are set, then idles until a trap ends it.
const TRAPPED: &str = "trap 'echo got TERM; exit 7' TERM; trap 'echo got USR1; exit 9' USR1; echo ready; \
                       while :; do sleep 0.1; done";

fn logs_say_ready(h: &Host, name: &str) -> bool {
    h.weft(&["logs", name]).stdout.contains("ready")
}

/// A foreground `weft run` in the background of the test, with its output in pipes.
fn foreground_run(h: &Host, extra: &[&str], name: &str) -> std::process::Child {
    Command::new(bin("weft"))
        .arg("-H")
        .arg(format!("unix://{}", h.socket().display()))
        .arg("run")
        .args(extra)
        .args(["--name", name, "hostfs", "sh", "-c", TRAPPED])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run weft")
}

#[test]
fn a_foreground_run_passes_signals_on() {
    let h = Host::new();
    let child = foreground_run(&h, &[], "proxied");
    assert!(wait_for(Duration::from_secs(30), || logs_say_ready(&h, "proxied")), "the container never got ready");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal weft");
    let mut child = child;
    assert!(wait_for(Duration::from_secs(30), || matches!(child.try_wait(), Ok(Some(_)))), "weft run did not end");
    let out = child.wait_with_output().expect("output");
    assert_eq!(out.status.code(), Some(7), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ready\ngot TERM\n");
    h.weft(&["rm", "proxied"]).ok();

    // --sig-proxy=false: the signal is weft's own; the container runs on.
    let mut child = foreground_run(&h, &["--sig-proxy=false"], "unproxied");
    assert!(wait_for(Duration::from_secs(30), || logs_say_ready(&h, "unproxied")), "the container never got ready");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signal weft");
    assert!(wait_for(Duration::from_secs(30), || matches!(child.try_wait(), Ok(Some(_)))), "weft run did not end");
    assert_eq!(h.weft(&["inspect", "-f", "{{.State.Running}}", "unproxied"]).ok(), "true\n");
    h.weft(&["rm", "-f", "unproxied"]).ok();
}

#[test]
fn stop_sends_the_signal_it_is_given() {
    let h = Host::new();
    h.weft(&["run", "-d", "--name", "c", "hostfs", "sh", "-c", TRAPPED]).ok();
    assert!(wait_for(Duration::from_secs(30), || logs_say_ready(&h, "c")), "the container never got ready");
    h.weft(&["stop", "-s", "NOPE", "c"]).fails_with(1, "Error response from daemon: Invalid signal: NOPE");
    assert_eq!(h.weft(&["stop", "-s", "USR1", "c"]).ok(), "c\n");
    assert_eq!(h.weft(&["wait", "c"]).ok(), "9\n");
    assert_eq!(h.weft(&["logs", "c"]).ok(), "ready\ngot USR1\n");
    h.weft(&["rm", "c"]).ok();
}
