//! weft confines a container exactly as Docker does: the same busybox root filesystem runs under
//! Debian's dockerd (20.10) and under weftd, side by side in the test's own namespace, and an
//! attacker's script prints the same lines in both, for the default confinement and for the flags
//! that change it. Nothing is compared against numbers written here: Docker gives the answer.
//!
//! scripts/install-deps installs dockerd (Debian's docker.io) and busybox-static; without them
//! this test fails, saying what is missing.

use std::time::Duration;

use weft_tests::docker::{import_image, tools, Dockerd};
use weft_tests::{run_bounded, Host};

const IMAGE: &str = "weft-confined:e2e";

/// Attempts that must come out the same under both. Not compared: what names the container
/// (hostname, ids) and `/proc/1`, which is the command itself under Docker and weft's init here.
const SCRIPT: &str = "t() { out=$(\"$@\" 2>&1); echo \"$* => $? $out\"; }
grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status
t id
t mount -o remount,rw /
t umount /proc
t unshare -n true
t sh -c 'nsenter -t $$ -n true'
t sh -c 'echo x > /proc/sys/kernel/core_pattern'
t sh -c 'echo 1 > /proc/sysrq-trigger'
t cat /proc/keys
t cat /proc/timer_list
t ls /sys/firmware
t touch /sys/x
t mount -t tmpfs x /mnt
t hostname other
t mknod /dev/null2 c 1 3
t chroot / true
t touch /written
";

#[test]
fn an_attackers_script_prints_the_same_under_docker_and_weft() {
    let tools = tools().unwrap_or_else(|why| panic!("{why}"));
    let host = Host::new();
    let docker = Dockerd::start(&host, &tools).unwrap_or_else(|why| panic!("dockerd cannot run here: {why}"));
    let applets = [
        "sh", "grep", "id", "mount", "umount", "unshare", "nsenter", "echo", "cat", "ls", "touch", "hostname", "mknod",
        "chroot", "true",
    ];
    let passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n";
    let group = "root:x:0:\napp:x:1000:\n";
    let root = import_image(
        &docker,
        &tools,
        host.dir.path(),
        IMAGE,
        &applets,
        &[("etc/passwd", passwd), ("etc/group", group), ("mnt/.keep", "")],
    );
    let imported = run_bounded(
        std::process::Command::new(weft_tests::bin("weft"))
            .arg("-H")
            .arg(format!("unix://{}", host.socket().display()))
            .args(["image", "import"])
            .arg(&root)
            .arg(IMAGE),
        Duration::from_secs(60),
    );
    imported.ok();

    let flag_sets: [&[&str]; 6] = [
        &[],
        &["--user", "1000:1000"],
        &["--cap-drop", "ALL", "--cap-add", "NET_RAW"],
        &["--cap-add", "SYS_ADMIN"],
        &["--security-opt", "no-new-privileges"],
        &["--read-only"],
    ];
    for flags in flag_sets {
        let mut args = vec!["run", "--rm", "--network", "none"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&[IMAGE, "sh", "-c", SCRIPT]);
        let under_docker = docker.docker(&args);
        let under_weft = host.weft(&args);
        assert_eq!(under_docker.code, 0, "docker {args:?}: {under_docker:?}");
        assert_eq!(under_weft.code, 0, "weft {args:?}: {under_weft:?}");
        assert!(under_docker.stdout.contains("CapBnd:"), "docker printed nothing useful: {under_docker:?}");
        let diff: Vec<String> = under_docker
            .stdout
            .lines()
            .zip(under_weft.stdout.lines())
            .filter(|(d, w)| d != w)
            .map(|(d, w)| format!("  docker: {d}\n  weft:   {w}"))
            .collect();
        assert!(
            diff.is_empty() && under_docker.stdout.lines().count() == under_weft.stdout.lines().count(),
            "with {flags:?} weft differs from Docker:\n{}\n--- docker:\n{}--- weft:\n{}",
            diff.join("\n"),
            under_docker.stdout,
            under_weft.stdout
        );
    }
}
