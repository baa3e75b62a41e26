//! The engine's container runtime on its own: one process per test in fresh namespaces, on the
//! read-only host root or an overlay over a small image directory. Each test uses a temp dir as
//! the state directory, and checks after `wait` + `cleanup` that nothing is mounted under it.
//! Only namespaces the tests make themselves are ever joined; no packet leaves them.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

use engine::runtime::{cleanup, spawn, Confinement, Container, ContainerSpec, Rootfs};
use libnet::osl::Netns;
use nix::sys::signal::Signal;

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A container's temp dir: state directory, output files, and the leak check on drop.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch { dir: tempfile::tempdir().expect("temp dir") }
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn spec(&self, rootfs: Rootfs, argv: &[&str]) -> ContainerSpec {
        ContainerSpec {
            rootfs,
            state_dir: self.state_dir(),
            netns: None,
            hostname: "box1".into(),
            argv: argv.iter().map(|a| a.to_string()).collect(),
            env: vec![],
            workdir: None,
            stdin: None,
            stdout: File::create(self.dir.path().join("stdout")).expect("stdout file"),
            stderr: File::create(self.dir.path().join("stderr")).expect("stderr file"),
            file_binds: vec![],
            tty: false,
            confinement: Confinement::docker_default().expect("Docker's default confinement"),
            init: weft_tests::bin("weft-init"),
            mount_template: None,
        }
    }

    fn finish(&self, container: Container) -> Output {
        let code = container.wait().expect("wait");
        cleanup(&self.state_dir()).expect("cleanup");
        self.output(code)
    }

    fn output(&self, code: i32) -> Output {
        let read = |name| std::fs::read_to_string(self.dir.path().join(name)).expect("read output");
        Output { code, stdout: read("stdout"), stderr: read("stderr") }
    }

    fn run(&self, rootfs: Rootfs, argv: &[&str]) -> Output {
        let container = spawn(self.spec(rootfs, argv)).expect("spawn");
        self.finish(container)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let mounted = mounts_under(self.dir.path());
        assert!(mounted.is_empty(), "left mounted under {}: {mounted:?}", self.dir.path().display());
        assert!(!self.state_dir().exists(), "cleanup left {}", self.state_dir().display());
    }
}

fn mounts_under(dir: &Path) -> Vec<String> {
    let dir = dir.canonicalize().expect("canonical temp dir");
    std::fs::read_to_string("/proc/self/mountinfo")
        .expect("mountinfo")
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|point| Path::new(point).starts_with(&dir))
        .map(str::to_string)
        .collect()
}

fn is_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    weft_tests::skip("the container runtime needs root");
    false
}

#[test]
fn hostname_is_the_specs() {
    if !is_root() {
        return;
    }
    let out = Scratch::new().run(Rootfs::Hostfs, &["hostname"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "box1\n"), "stderr: {}", out.stderr);
}

#[test]
fn the_command_is_pid_2_under_our_init() {
    if !is_root() {
        return;
    }
    // The init keeps the capabilities the command lost: the command cannot look into it.
    let script = "echo $$; readlink /proc/1/exe >/dev/null 2>&1 || echo hidden; cat /proc/1/environ >/dev/null 2>&1 || echo hidden";
    let out = Scratch::new().run(Rootfs::Hostfs, &["sh", "-c", script]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert_eq!(out.stdout, "2\nhidden\nhidden\n");
}

#[test]
fn only_the_containers_processes_are_visible() {
    if !is_root() {
        return;
    }
    let out = Scratch::new().run(Rootfs::Hostfs, &["ls", "/proc"]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let pids: Vec<&str> = out.stdout.lines().filter(|name| name.bytes().all(|b| b.is_ascii_digit())).collect();
    assert_eq!(pids, ["1", "2"]);
}

#[test]
fn the_host_root_is_read_only_and_tmp_private() {
    if !is_root() {
        return;
    }
    // A name no host file has, removed from the host whatever happens, in case the check fails.
    struct RemoveOnDrop(std::path::PathBuf);
    impl Drop for RemoveOnDrop {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let probe = RemoveOnDrop(format!("/usr/weft-ro-check-{}", std::process::id()).into());
    let script = format!(
        "ls -A /tmp /run | grep -v : | grep -c . ; touch {} && echo wrote-usr; \
         touch /tmp/y && echo wrote-tmp; echo x > /dev/null && echo wrote-null",
        probe.0.display()
    );
    let out = Scratch::new().run(Rootfs::Hostfs, &["sh", "-c", &script]);
    assert_eq!(out.stdout, "0\nwrote-tmp\nwrote-null\n", "stderr: {}", out.stderr);
    assert!(out.stderr.contains("Read-only file system"), "stderr: {}", out.stderr);
    assert!(!probe.0.exists());
}

#[test]
fn host_submounts_are_read_only_too() {
    if !is_root() {
        return;
    }
    // The mount options (field 6) of the root and of /sys, a separate mount on the host.
    // /sys twice: the host's (bound with the root) and the container's own sysfs over it.
    let script =
        r#"awk '$5 == "/" || $5 == "/sys" { split($6, o, ","); print $5, o[1] }' /proc/self/mountinfo | sort -u"#;
    let out = Scratch::new().run(Rootfs::Hostfs, &["sh", "-c", script]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "/ ro\n/sys ro\n"), "stderr: {}", out.stderr);
}

#[test]
fn dev_has_the_usual_nodes() {
    if !is_root() {
        return;
    }
    let out = Scratch::new().run(Rootfs::Hostfs, &["ls", "/dev"]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    for node in ["null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "fd", "ptmx"] {
        assert!(out.stdout.lines().any(|l| l == node), "no /dev/{node} in {:?}", out.stdout);
    }
}

#[test]
fn the_commands_exit_code_is_the_containers() {
    if !is_root() {
        return;
    }
    let out = Scratch::new().run(Rootfs::Hostfs, &["sh", "-c", "exit 3"]);
    assert_eq!(out.code, 3);
}

#[test]
fn a_missing_command_gives_127_and_dockers_message() {
    if !is_root() {
        return;
    }
    let out = Scratch::new().run(Rootfs::Hostfs, &["nosuchcmd"]);
    assert_eq!(out.code, 127);
    assert_eq!(out.stderr, "exec: \"nosuchcmd\": executable file not found in $PATH\n");
}

#[test]
fn a_command_that_is_not_executable_gives_126() {
    if !is_root() {
        return;
    }
    let out = Scratch::new().run(Rootfs::Hostfs, &["/etc/passwd"]);
    assert_eq!(out.code, 126);
    assert_eq!(out.stderr, "exec: \"/etc/passwd\": permission denied\n");
}

#[test]
fn orphans_are_reaped_and_the_container_exits_cleanly() {
    if !is_root() {
        return;
    }
    let out = Scratch::new().run(Rootfs::Hostfs, &["sh", "-c", "(sleep 0.1 &) ; sleep 0.3"]);
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
}

#[test]
fn sigkill_gives_137() {
    if !is_root() {
        return;
    }
    let scratch = Scratch::new();
    let container = spawn(scratch.spec(Rootfs::Hostfs, &["sleep", "100"])).expect("spawn");
    container.kill(Signal::SIGKILL).expect("kill");
    assert_eq!(scratch.finish(container).code, 137);
}

#[test]
fn sigterm_is_forwarded_to_the_command() {
    if !is_root() {
        return;
    }
    let scratch = Scratch::new();
    // spawn returns once `sleep` has been exec'd, so the signal reaches sleep itself.
    let container = spawn(scratch.spec(Rootfs::Hostfs, &["sleep", "100"])).expect("spawn");
    container.kill(Signal::SIGTERM).expect("kill");
    assert_eq!(scratch.finish(container).code, 128 + Signal::SIGTERM as i32);
}

#[test]
fn a_given_network_namespace_is_joined() {
    if !is_root() {
        return;
    }
    let scratch = Scratch::new();
    let netns_path = scratch.dir.path().join("netns");
    let netns = Netns::create(&netns_path).expect("create netns");
    let mut spec = scratch.spec(Rootfs::Hostfs, &["cat", "/proc/net/dev"]);
    spec.netns = Some(netns_path.clone());
    let container = spawn(spec).expect("spawn");
    let out = scratch.finish(container);
    drop(netns);
    Netns::delete(&netns_path).expect("delete netns");
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let links: Vec<&str> = out.stdout.lines().filter_map(|l| l.split_once(':')).map(|(name, _)| name.trim()).collect();
    assert_eq!(links, ["lo"]);
}

#[test]
fn spawn_reports_a_missing_workdir() {
    if !is_root() {
        return;
    }
    let scratch = Scratch::new();
    let mut spec = scratch.spec(Rootfs::Hostfs, &["true"]);
    spec.workdir = Some("/no/such/dir".into());
    let err = spawn(spec).expect_err("a missing workdir is an error");
    assert!(err.to_string().contains("working directory"), "{err}");
    cleanup(&scratch.state_dir()).expect("cleanup");
}

/// A tiny image: the host's `sh` and the libraries `ldd` lists, at the same paths.
fn sh_image(dir: &Path) -> Result<(), String> {
    let sh = Path::new("/bin/sh").canonicalize().map_err(|e| format!("no /bin/sh: {e}"))?;
    let mut files = vec![(sh.clone(), PathBuf::from("/bin/sh"))];
    let ldd = Command::new("ldd").arg(&sh).output().map_err(|e| format!("cannot run ldd: {e}"))?;
    for word in String::from_utf8_lossy(&ldd.stdout).split_whitespace() {
        if word.starts_with('/') {
            files.push((PathBuf::from(word), PathBuf::from(word)));
        }
    }
    for (from, to) in files {
        let target = dir.join(to.strip_prefix("/").map_err(|e| e.to_string())?);
        std::fs::create_dir_all(target.parent().ok_or("no parent")?).map_err(|e| e.to_string())?;
        std::fs::copy(&from, &target).map_err(|e| format!("copy {}: {e}", from.display()))?;
    }
    Ok(())
}

#[test]
fn an_image_dir_is_an_overlay_whose_writes_land_in_the_upper_dir() {
    if !is_root() {
        return;
    }
    let scratch = Scratch::new();
    let image = scratch.dir.path().join("image");
    if let Err(reason) = sh_image(&image) {
        weft_tests::skip(&format!("cannot build a directory image: {reason}"));
        return;
    }
    let layer = scratch.state_dir();
    let spec = scratch.spec(Rootfs::Dir { image: image.clone(), layer }, &["sh", "-c", "echo hi > /written; echo $$"]);
    let container = spawn(spec).expect("spawn");
    let code = container.wait().expect("wait");
    let upper = scratch.state_dir().join("upper");
    let in_upper = std::fs::read_to_string(upper.join("written"));
    let in_image = image.join("written").exists();
    cleanup(&scratch.state_dir()).expect("cleanup");
    let out = scratch.output(code);
    assert_eq!((out.code, out.stdout.as_str()), (0, "2\n"), "stderr: {}", out.stderr);
    assert_eq!(in_upper.expect("the write is in the upper dir"), "hi\n");
    assert!(!in_image, "the write reached the image");
}

#[test]
fn files_bound_over_the_host_root_are_read_write_and_reach_only_the_source() {
    if !is_root() {
        return;
    }
    let scratch = Scratch::new();
    let source = scratch.dir.path().join("hosts");
    std::fs::write(&source, "10.1.2.3\tbound\n").expect("write the source");
    let before = std::fs::read("/etc/hosts").expect("read the host's /etc/hosts");
    let mut spec = scratch.spec(Rootfs::Hostfs, &["sh", "-c", "cat /etc/hosts; echo more >> /etc/hosts"]);
    spec.file_binds = vec![engine::runtime::FileBind { source: source.clone(), target: "/etc/hosts".into() }];
    let out = scratch.finish(spawn(spec).expect("spawn"));
    assert_eq!((out.code, out.stdout.as_str()), (0, "10.1.2.3\tbound\n"), "stderr: {}", out.stderr);
    assert_eq!(std::fs::read_to_string(&source).expect("read the source"), "10.1.2.3\tbound\nmore\n");
    assert_eq!(std::fs::read("/etc/hosts").expect("read the host's /etc/hosts"), before);
}

#[test]
fn a_missing_target_is_refused_on_the_host_root_and_created_on_an_image() {
    if !is_root() {
        return;
    }
    let scratch = Scratch::new();
    let source = scratch.dir.path().join("file");
    std::fs::write(&source, "content\n").expect("write the source");
    let bind = engine::runtime::FileBind { source: source.clone(), target: "/etc/weft-no-such-file".into() };
    let mut spec = scratch.spec(Rootfs::Hostfs, &["true"]);
    spec.file_binds = vec![bind];
    let err = spawn(spec).expect_err("a missing target on the read-only root");
    assert!(err.to_string().contains("/etc/weft-no-such-file does not exist in the read-only root"), "{err}");
    cleanup(&scratch.state_dir()).expect("cleanup");

    let image = scratch.dir.path().join("image");
    if let Err(reason) = sh_image(&image) {
        weft_tests::skip(&format!("cannot build a directory image: {reason}"));
        return;
    }
    let layer = scratch.state_dir();
    let mut spec =
        scratch.spec(Rootfs::Dir { image: image.clone(), layer }, &["sh", "-c", "read l < /etc/hosts; echo $l"]);
    spec.file_binds = vec![engine::runtime::FileBind { source, target: "/etc/hosts".into() }];
    let out = scratch.finish(spawn(spec).expect("spawn"));
    assert_eq!((out.code, out.stdout.as_str()), (0, "content\n"), "stderr: {}", out.stderr);
    assert!(!image.join("etc").exists(), "the target was made in the image");
}

/// A masked directory shows empty (weftd hides its data and exec roots from a hostfs container
/// this way); the same directory unmasked shows its file, so the check is not vacuous. It lives
/// under /var/tmp: /tmp is the container's own tmpfs and would hide it anyway.
#[test]
fn a_masked_directory_of_the_host_root_shows_empty() {
    if !is_root() {
        return;
    }
    let secret = tempfile::Builder::new().prefix("weft-mask-").tempdir_in("/var/tmp").expect("dir in /var/tmp");
    std::fs::write(secret.path().join("store.db"), "secret").expect("secret file");
    let script = format!("ls -A {0}; cat {0}/store.db", secret.path().display());
    let scratch = Scratch::new();
    let out = scratch.run(Rootfs::Hostfs, &["sh", "-c", &script]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "store.db\nsecret"), "stderr: {}", out.stderr);
    let mut spec = scratch.spec(Rootfs::Hostfs, &["sh", "-c", &script]);
    spec.confinement.masked_paths.push(secret.path().display().to_string());
    let out = scratch.finish(spawn(spec).expect("spawn"));
    assert_eq!(out.stdout, "", "stderr: {}", out.stderr);
    assert!(out.stderr.contains("No such file or directory"), "stderr: {}", out.stderr);
}
