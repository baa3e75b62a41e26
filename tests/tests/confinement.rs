//! Containers are confined as Docker confines them: each test is an attacker inside a container
//! (`hostfs` and an imported busybox image) trying to step out, and must fail as it fails under
//! Docker's defaults; with `--privileged` or the matching `--cap-add`/`--security-opt` it works.
//! Plus the flags that change it (`--user`, `--read-only`, `--sysctl`, seccomp profiles), their
//! refusals, and what `inspect` shows.

use std::path::Path;

use weft_tests::Host;

/// Docker's default capabilities, as `/proc/self/status` shows them for root.
const DOCKER_CAPS: &str = "CapInh:\t0000000000000000
CapPrm:\t00000000a80425fb
CapEff:\t00000000a80425fb
CapBnd:\t00000000a80425fb
CapAmb:\t0000000000000000
";

fn caps(out: &str) -> String {
    out.lines().filter(|l| l.starts_with("Cap")).map(|l| format!("{l}\n")).collect()
}

/// This process's bounding set: what weftd (run by the same root) holds, so `--privileged` gives.
fn own_bounding() -> String {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status.lines().find_map(|l| l.strip_prefix("CapBnd:\t")).expect("CapBnd").to_string()
}

/// Run `script` under `sh -c` in a fresh container with `flags`; its output (both streams).
fn sh(h: &Host, flags: &[&str], image: &str, script: &str) -> String {
    let mut args = vec!["run", "--rm", "--network", "none"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&[image, "sh", "-c", script]);
    let r = h.weft(&args);
    assert_eq!(r.code, 0, "weft {args:?}: {r:?}");
    format!("{}{}", r.stdout, r.stderr)
}

/// `cmd` in the container: `<cmd> => <exit code>` then its output, one line per attempt.
const TRY: &str = "t() { out=$(\"$@\" 2>&1); echo \"$* => $? $out\"; }; ";

fn attempt<'a>(out: &'a str, cmd: &str) -> &'a str {
    out.lines().find(|l| l.starts_with(&format!("{cmd} => "))).unwrap_or_else(|| panic!("no {cmd:?} in {out}"))
}

#[track_caller]
fn refused(out: &str, cmd: &str, reason: &str) {
    let line = attempt(out, cmd);
    assert!(!line.starts_with(&format!("{cmd} => 0 ")), "{cmd} worked: {line}");
    assert!(line.contains(reason), "{cmd}: {line:?} does not say {reason:?}");
}

#[track_caller]
fn worked(out: &str, cmd: &str) {
    let line = attempt(out, cmd);
    assert!(line.starts_with(&format!("{cmd} => 0")), "{cmd} failed: {line}");
}

#[test]
fn every_process_holds_dockers_capabilities_and_privileged_holds_all() {
    let h = Host::new();
    assert_eq!(caps(h.weft(&["run", "--rm", "hostfs", "cat", "/proc/self/status"]).ok()), DOCKER_CAPS);
    h.weft(&["run", "-d", "--name", "c1", "hostfs", "sleep", "600"]).ok();
    // exec'd processes too (Docker's rule), and `exec --privileged` gets every capability.
    assert_eq!(caps(h.weft(&["exec", "c1", "cat", "/proc/self/status"]).ok()), DOCKER_CAPS);
    let all = own_bounding();
    let privileged_exec = caps(h.weft(&["exec", "--privileged", "c1", "cat", "/proc/self/status"]).ok());
    assert!(privileged_exec.contains(&format!("CapEff:\t{all}\n")), "{privileged_exec}");
    // The init does not show weftd's environment or memory to the container.
    let out = h.weft(&["exec", "c1", "cat", "/proc/1/environ"]);
    out.fails_with(1, "Permission denied");
    h.weft(&["rm", "-f", "c1"]).ok();

    let out = h.weft(&["run", "--rm", "--privileged", "hostfs", "cat", "/proc/self/status"]);
    let expected = format!(
        "CapInh:\t0000000000000000\nCapPrm:\t{all}\nCapEff:\t{all}\nCapBnd:\t{all}\nCapAmb:\t0000000000000000\n"
    );
    assert_eq!(caps(out.ok()), expected);
    assert!(out.stdout.contains("Seccomp:\t0\n"), "a privileged container has no filter: {}", out.stdout);

    let out =
        h.weft(&["run", "--rm", "--cap-drop", "ALL", "--cap-add", "net_admin", "hostfs", "cat", "/proc/self/status"]);
    assert!(caps(out.ok()).contains("CapEff:\t0000000000001000\n"), "{}", out.stdout);
    // NET_ADMIN does what it says, in the container's own namespace only.
    let script = format!("{TRY} t ip link set lo mtu 1300");
    refused(&sh(&h, &[], "hostfs", &script), "ip link set lo mtu 1300", "Operation not permitted");
    worked(&sh(&h, &["--cap-add", "NET_ADMIN"], "hostfs", &script), "ip link set lo mtu 1300");
}

#[test]
fn an_attacker_in_a_hostfs_container_cannot_step_out() {
    let h = Host::new();
    let marker = format!("/weft-escape-{}", std::process::id());
    let script = format!(
        "{TRY} t mount -o remount,rw /; t touch {marker}; t umount /proc; t umount /run; \
         t sh -c 'echo x > /proc/sys/kernel/core_pattern'; t cat /proc/timer_list; t cat /proc/keys; \
         t ls /sys/firmware; t touch /sys/kernel/x; t nsenter -t 1 -n true; t unshare -n true; \
         t mount -t tmpfs x /mnt; t hostname other; \
         t python3 -c 'import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); r=l.syscall(250,0,-3,0); sys.exit(ctypes.get_errno() if r<0 else 0)'; \
         t python3 -c 'import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); r=l.syscall(313,-1,0,0); sys.exit(ctypes.get_errno() if r<0 else 0)'"
    );
    let out = sh(&h, &[], "hostfs", &script);
    refused(&out, "mount -o remount,rw /", "permission denied");
    refused(&out, &format!("touch {marker}"), "Read-only file system");
    assert!(!Path::new(&marker).exists(), "the container wrote {marker} on the host");
    refused(&out, "umount /proc", "must be superuser");
    refused(&out, "umount /run", "must be superuser");
    refused(&out, "sh -c echo x > /proc/sys/kernel/core_pattern", "Read-only file system");
    // Masked: /dev/null over files, an empty tmpfs over directories.
    assert_eq!(attempt(&out, "cat /proc/timer_list"), "cat /proc/timer_list => 0 ");
    assert_eq!(attempt(&out, "cat /proc/keys"), "cat /proc/keys => 0 ");
    assert_eq!(attempt(&out, "ls /sys/firmware"), "ls /sys/firmware => 0 ");
    refused(&out, "touch /sys/kernel/x", "Read-only file system");
    refused(&out, "nsenter -t 1 -n true", "Permission denied");
    refused(&out, "unshare -n true", "Operation not permitted");
    refused(&out, "mount -t tmpfs x /mnt", "permission denied");
    refused(&out, "hostname other", "you must be root to change the host name");
    // keyctl (250) and finit_module (313) are not in Docker's profile: EPERM (1).
    assert!(attempt(&out, "python3 -c import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); r=l.syscall(250,0,-3,0); sys.exit(ctypes.get_errno() if r<0 else 0)").contains(" => 1 "), "{out}");
    assert!(attempt(&out, "python3 -c import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); r=l.syscall(313,-1,0,0); sys.exit(ctypes.get_errno() if r<0 else 0)").contains(" => 1 "), "{out}");

    // With --privileged the same attempts work (none that would change the host).
    let script = format!(
        "{TRY} t unshare -n true; t mount -t tmpfs x /mnt; t hostname other; t grep -q . /proc/timer_list; \
         t sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'; t touch /sys/kernel/x"
    );
    let out = sh(&h, &["--privileged"], "hostfs", &script);
    for cmd in [
        "unshare -n true",
        "mount -t tmpfs x /mnt",
        "hostname other",
        "grep -q . /proc/timer_list",
        "sh -c echo 1 > /proc/sys/net/ipv4/ip_forward",
    ] {
        worked(&out, cmd);
    }
    // /sys is writable (no EROFS), though sysfs takes no new files.
    assert!(!attempt(&out, "touch /sys/kernel/x").contains("Read-only"), "{out}");
    // The matching --cap-add and --security-opt each lift their part.
    let out = sh(&h, &["--cap-add", "SYS_ADMIN"], "hostfs", &format!("{TRY} t unshare -n true"));
    worked(&out, "unshare -n true");
    let keyctl = "python3 -c 'import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); r=l.syscall(250,0,-3,0); sys.exit(ctypes.get_errno() if r<0 else 0)'";
    let out = sh(
        &h,
        &["--security-opt", "seccomp=unconfined"],
        "hostfs",
        &format!("{TRY} t {keyctl}; grep Seccomp: /proc/self/status"),
    );
    assert!(out.contains("Seccomp:\t0"), "{out}");
    assert!(!out.contains(" => 1 "), "keyctl still refused without a filter: {out}");
    let out =
        sh(&h, &["--security-opt", "systempaths=unconfined"], "hostfs", &format!("{TRY} t grep -q . /proc/timer_list"));
    worked(&out, "grep -q . /proc/timer_list");
}

/// A busybox root filesystem (`/bin/busybox` is static), with `/etc/passwd` and `/etc/group`.
fn busybox_image(h: &Host) {
    let root = h.dir.path().join("bb");
    std::fs::create_dir_all(root.join("bin")).expect("rootfs");
    std::fs::create_dir_all(root.join("etc")).expect("rootfs");
    std::fs::create_dir_all(root.join("mnt")).expect("rootfs");
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("copy /bin/busybox (busybox-static)");
    for applet in [
        "sh", "cat", "mount", "umount", "touch", "id", "grep", "ls", "mkdir", "nsenter", "unshare", "hostname", "echo",
        "test",
    ] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).expect("applet");
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n")
        .unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\napp:x:1000:\nstaff:x:50:app\n").unwrap();
    h.weft(&["image", "import", &root.display().to_string(), "bb"]).ok();
}

#[test]
fn an_attacker_in_an_image_container_cannot_step_out() {
    let h = Host::new();
    busybox_image(&h);
    let script = format!(
        "{TRY} t mount -o remount,rw /; t umount /proc; t nsenter -t 1 -n true; t unshare -n true; \
         t sh -c 'echo x > /proc/sys/kernel/core_pattern'; t cat /proc/timer_list; t mount -t tmpfs x /mnt; \
         t cat /proc/1/environ; t touch /written; grep -E '^Cap(Eff|Bnd)' /proc/self/status"
    );
    let out = sh(&h, &[], "bb", &script);
    refused(&out, "mount -o remount,rw /", "permission denied");
    refused(&out, "umount /proc", "Operation not permitted");
    refused(&out, "nsenter -t 1 -n true", "Permission denied");
    refused(&out, "unshare -n true", "Operation not permitted");
    refused(&out, "sh -c echo x > /proc/sys/kernel/core_pattern", "Read-only file system");
    assert_eq!(attempt(&out, "cat /proc/timer_list"), "cat /proc/timer_list => 0 ");
    refused(&out, "mount -t tmpfs x /mnt", "permission denied");
    refused(&out, "cat /proc/1/environ", "Permission denied");
    // The image's own root is the container's to write (its layer), unless --read-only.
    worked(&out, "touch /written");
    assert!(out.contains("CapEff:\t00000000a80425fb") && out.contains("CapBnd:\t00000000a80425fb"), "{out}");
    let out = sh(&h, &["--read-only"], "bb", &format!("{TRY} t touch /written; t touch /tmp/ok"));
    refused(&out, "touch /written", "Read-only file system");
    worked(&out, "touch /tmp/ok");
    let out = sh(&h, &["--privileged"], "bb", &format!("{TRY} t unshare -n true; t mount -t tmpfs x /mnt"));
    worked(&out, "unshare -n true");
    worked(&out, "mount -t tmpfs x /mnt");
}

#[test]
fn user_sysctl_and_no_new_privileges_flags_work_and_bad_ones_are_refused() {
    let h = Host::new();
    busybox_image(&h);
    // --user by name (from the image's /etc/passwd and /etc/group) or by number.
    let out = sh(&h, &["--user", "app"], "bb", "id; grep -E '^Cap(Eff|Bnd)' /proc/self/status; echo $HOME");
    assert!(out.contains("uid=1000(app) gid=1000(app) groups=50(staff)"), "{out}");
    assert!(out.contains("CapEff:\t0000000000000000") && out.contains("CapBnd:\t00000000a80425fb"), "{out}");
    assert!(out.contains("/home/app"), "{out}");
    let out = sh(&h, &["-u", "4242:4343", "--group-add", "staff"], "bb", "id -u; id -g; id -G");
    assert_eq!(out, "4242\n4343\n4343 50\n");
    h.weft(&["run", "-d", "--name", "u", "--user", "app", "bb", "sh", "-c", "sleep 600"]).ok();
    assert_eq!(h.weft(&["exec", "u", "id", "-u"]).ok(), "1000\n");
    assert_eq!(h.weft(&["exec", "-u", "root", "u", "id", "-u"]).ok(), "0\n");
    let inspect: serde_json::Value = serde_json::from_str(h.weft(&["inspect", "u"]).ok()).unwrap();
    assert_eq!(inspect[0]["Config"]["User"], "app");
    assert_eq!(inspect[0]["HostConfig"]["Privileged"], false);
    assert_eq!(inspect[0]["HostConfig"]["MaskedPaths"][3], "/proc/kcore");
    assert_eq!(inspect[0]["HostConfig"]["ReadonlyPaths"][3], "/proc/sys");
    h.weft(&["rm", "-f", "u"]).ok();

    let out = sh(&h, &["--security-opt", "no-new-privileges"], "bb", "grep NoNewPrivs /proc/self/status");
    assert_eq!(out, "NoNewPrivs:\t1\n");
    let out = sh(
        &h,
        &["--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmni=1000"],
        "hostfs",
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni",
    );
    assert_eq!(out, "1\n1000\n");

    // A seccomp profile in Docker's format, read by the client from a file.
    let profile = h.dir.path().join("no-mkdir.json");
    std::fs::write(&profile, r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#).unwrap();
    let opt = format!("seccomp={}", profile.display());
    let out = sh(&h, &["--security-opt", &opt], "bb", &format!("{TRY} t mkdir /tmp/d; t touch /tmp/f"));
    refused(&out, "mkdir /tmp/d", "Permission denied");
    worked(&out, "touch /tmp/f");

    // Refusals: exit 125, Docker's words, no container made.
    let refusals: [(&[&str], &str); 7] = [
        (&["--sysctl", "kernel.core_pattern=|/bin/sh"], "sysctl \"kernel.core_pattern\" is not allowed"),
        (&["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"], "not allowed in host network mode"),
        (&["--cap-add", "NOPE"], "unknown capability: \"CAP_NOPE\""),
        (&["--security-opt", "nope"], "invalid --security-opt 1: \"nope\""),
        (
            &["--security-opt", "seccomp=/no/such/profile.json"],
            "opening seccomp profile (/no/such/profile.json) failed",
        ),
        (&["--user", "ghost"], "unable to find user ghost"),
        (&["--security-opt", "apparmor=docker-default"], "only apparmor=unconfined is taken"),
    ];
    for (flags, message) in refusals {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["bb", "true"]);
        h.weft(&args).fails_with(125, message);
    }
    assert_eq!(h.weft(&["ps", "-aq"]).ok(), "", "a refused run left a container");
}

#[test]
fn weftds_files_are_readable_by_root_only() {
    use std::os::unix::fs::PermissionsExt;
    let h = Host::new();
    h.weft(&["run", "--name", "secret", "-e", "TOKEN=hunter2", "hostfs", "echo", "logged"]).ok();
    let id = h.weft(&["inspect", "-f", "{{.Id}}", "secret"]).ok().trim().to_string();
    let mode =
        |p: &Path| std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777;
    assert_eq!(mode(&h.data_root()), 0o700);
    assert_eq!(mode(&h.exec_root()), 0o700);
    for db in ["containers.db", "containers.db-wal", "images.db", "weft.db", "weft.db-wal"] {
        let path = h.data_root().join(db);
        if path.exists() || !db.ends_with("-wal") {
            assert_eq!(mode(&path), 0o600, "{db}");
        }
    }
    let logs: Vec<_> = std::fs::read_dir(h.data_root().join("containers").join(&id))
        .expect("the container's directory")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
        .collect();
    assert!(!logs.is_empty(), "no log file");
    for log in logs {
        assert_eq!(mode(&log.path()), 0o600, "{}", log.path().display());
    }
    // Even with the test's own directory open to all, another user reads nothing of it.
    std::fs::set_permissions(h.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = h.data_root().join("containers.db");
    let out = weft_tests::run_bounded(
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "cat"])
            .arg(&db),
        std::time::Duration::from_secs(20),
    );
    out.fails_with(1, "Permission denied");
    assert!(!out.stdout.contains("hunter2"));
}
