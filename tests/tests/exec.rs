//! `weft exec` end to end: the process runs in the container's namespaces, its exit code and
//! streams come back, and nothing outlives the container.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use weft_tests::{bin, wait_for, Host};

/// `weft -H <host> args...` with `input` on its stdin.
fn weft_with_input(h: &Host, args: &[&str], input: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(bin("weft"))
        .arg("-H")
        .arg(format!("unix://{}", h.socket().display()))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run weft");
    child.stdin.take().expect("stdin").write_all(input).expect("write stdin");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    assert!(
        wait_for(Duration::from_secs(60), || matches!(child.try_wait(), Ok(Some(_)))),
        "weft {args:?} did not end by {deadline:?}"
    );
    let out = child.wait_with_output().expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Host processes whose command line is exactly `argv`.
fn host_processes(argv: &[&str]) -> usize {
    let wanted: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain(std::iter::once(0))).collect();
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
                .filter(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == wanted))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn exec_runs_in_the_containers_namespaces() {
    let h = Host::new();
    h.weft(&["network", "create", "--subnet", "10.88.0.0/24", "execnet"]).ok();
    h.weft(&[
        "run",
        "-d",
        "--name",
        "c",
        "--network",
        "execnet",
        "--ip",
        "10.88.0.5",
        "-h",
        "box",
        "-e",
        "FROM=run",
        "hostfs",
        "sleep",
        "1000",
    ])
    .ok();
    // The network: the container's eth0 with its address.
    let addr = h.weft(&["exec", "c", "ip", "addr"]);
    assert!(addr.ok().contains("eth0") && addr.stdout.contains("inet 10.88.0.5/24"), "{}", addr.stdout);
    // The uts namespace.
    assert_eq!(h.weft(&["exec", "c", "hostname"]).ok(), "box\n");
    // The pid namespace: pid 1 is the container's init (weft-init, exec'd fresh: its command
    // line is the container's command, nothing of weftd's), and our pid is small.
    let init = h.weft(&["exec", "c", "cat", "/proc/1/cmdline"]);
    assert_eq!(init.ok(), "weft-init\0--\0sleep\x001000\0");
    let pid: u32 = h.weft(&["exec", "c", "sh", "-c", "echo $$"]).ok().trim().parse().expect("a pid");
    assert!((3..100).contains(&pid), "pid {pid} is not of the container's pid namespace");
    // The mount namespace: the container's private /tmp.
    h.weft(&["exec", "c", "sh", "-c", "echo mine > /tmp/only-here"]).ok();
    assert_eq!(h.weft(&["exec", "c", "cat", "/tmp/only-here"]).ok(), "mine\n");
    assert!(!std::path::Path::new("/tmp/only-here").exists());
    // Exit codes, stderr, env and workdir.
    let r = h.weft(&["exec", "c", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (3, "out\n", "err\n"));
    let r = h.weft(&["exec", "-e", "A=1", "-e", "FROM=exec", "-w", "/proc", "c", "sh", "-c", "echo $A $FROM $PWD"]);
    assert_eq!(r.ok(), "1 exec /proc\n");
    assert_eq!(h.weft(&["exec", "c", "sh", "-c", "echo $FROM"]).ok(), "run\n");
    let missing = h.weft(&["exec", "c", "nope"]);
    missing.fails_with(
        127,
        "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nope\": executable file not found in $PATH: unknown",
    );
    // /proc is mounted noexec.
    h.weft(&["exec", "c", "/proc/self/status"]).fails_with(126, "permission denied");
    h.weft(&["exec", "-w", "/nope", "c", "pwd"]).fails_with(127, "chdir to cwd (\"/nope\")");
    // Stdin.
    let (code, out, err) = weft_with_input(&h, &["exec", "-i", "c", "cat"], b"hi\n");
    assert_eq!((code, out.as_str(), err.as_str()), (0, "hi\n", ""));
    // Without -i, stdin is not read: cat ends at once.
    let (code, out, _) = weft_with_input(&h, &["exec", "c", "cat"], b"not read\n");
    assert_eq!((code, out.as_str()), (0, ""));
    h.weft(&["container", "exec", "c", "true"]).ok();
    h.weft(&["rm", "-f", "c"]).ok();
    h.weft(&["network", "rm", "execnet"]).ok();
}

#[test]
fn exec_needs_a_running_container() {
    let h = Host::new();
    h.weft(&["exec", "nosuch", "true"]).fails_with(1, "Error response from daemon: No such container: nosuch");
    h.weft(&["run", "--name", "done", "hostfs", "true"]).ok();
    let id = h.weft(&["inspect", "-f", "{{.Id}}", "done"]).ok().trim().to_string();
    h.weft(&["exec", "done", "true"])
        .fails_with(1, &format!("Error response from daemon: container {id} is not running"));
    let (status, body) = h.api("POST", "/containers/done/exec", Some(r#"{"Cmd":["true"]}"#));
    assert_eq!((status, body["message"].as_str()), (409, Some(format!("container {id} is not running").as_str())));
    let (status, _) = h.api("POST", "/containers/nosuch/exec", Some(r#"{"Cmd":["true"]}"#));
    assert_eq!(status, 404);
    h.weft(&["exec"]).fails_with(1, "'weft exec' requires at least 2 arguments");
    h.weft(&["rm", "done"]).ok();
}

#[test]
fn exec_instances_and_processes_go_with_their_container() {
    let h = Host::new();
    h.weft(&["run", "-d", "--name", "c", "hostfs", "sleep", "1000"]).ok();
    // A detached exec runs on in the container.
    let marker = format!("{}", 200_000 + std::process::id() % 100_000);
    h.weft(&["exec", "-d", "c", "sleep", &marker]).ok();
    assert!(wait_for(Duration::from_secs(20), || host_processes(&["sleep", &marker]) == 1));
    // Through the API: the exec's state while it runs and after.
    let (status, created) =
        h.api("POST", "/containers/c/exec", Some(r#"{"Cmd":["sh","-c","exit 4"],"AttachStdout":true}"#));
    assert_eq!(status, 201, "{created}");
    let exec_id = created["Id"].as_str().expect("Id").to_string();
    let (_, before) = h.api("GET", &format!("/exec/{exec_id}/json"), None);
    assert_eq!((before["Running"].clone(), before["ExitCode"].clone()), (false.into(), serde_json::Value::Null));
    let (status, _) = h.api_raw("POST", &format!("/exec/{exec_id}/start"), Some(r#"{"Detach":false}"#));
    assert_eq!(status, 200);
    let (_, after) = h.api("GET", &format!("/exec/{exec_id}/json"), None);
    assert_eq!(after["ExitCode"], 4, "{after}");
    assert_eq!(after["ContainerID"], h.weft(&["inspect", "-f", "{{.Id}}", "c"]).ok().trim());
    assert_eq!(after["ProcessConfig"]["entrypoint"], "sh");
    let (status, _) = h.api("POST", &format!("/exec/{exec_id}/start"), Some("{}"));
    assert_eq!(status, 409);
    // The container goes: its exec'd processes and exec instances go with it.
    h.weft(&["rm", "-f", "c"]).ok();
    assert!(wait_for(Duration::from_secs(20), || host_processes(&["sleep", &marker]) == 0));
    let (status, body) = h.api("GET", &format!("/exec/{exec_id}/json"), None);
    assert_eq!((status, body["message"].as_str()), (404, Some(format!("No such exec instance: {exec_id}").as_str())));
}
