//! A dockerd of a test's own, started in the test host's network namespace and a mount
//! namespace of its own, with the docker client beside it: the peer that weft is compared with.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{run_bounded, wait_for, Host, Run};

/// A program's path from PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// The programs the test needs, or why they are not here.
pub struct Tools {
    pub dockerd: PathBuf,
    pub docker: PathBuf,
    pub busybox: PathBuf,
}

pub fn tools() -> Result<Tools, String> {
    let install = "install Debian's docker.io (scripts/install-deps does)";
    let dockerd = which("dockerd").ok_or(format!("dockerd is not installed: {install}"))?;
    for helper in ["containerd", "runc"] {
        which(helper).ok_or(format!("{helper} is not installed (dockerd needs it): {install}"))?;
    }
    // Debian's own client, of dockerd's version, before any other in PATH.
    let docker = [PathBuf::from("/usr/bin/docker")]
        .into_iter()
        .find(|p| p.is_file())
        .or_else(|| which("docker"))
        .ok_or(format!("the docker client is not installed: {install}"))?;
    let busybox = PathBuf::from("/bin/busybox");
    if !busybox.is_file() {
        return Err("/bin/busybox is missing: install busybox-static".into());
    }
    let ldd = run_bounded(Command::new("ldd").arg(&busybox), Duration::from_secs(20));
    let text = format!("{}{}", ldd.stdout, ldd.stderr);
    if !text.contains("not a dynamic executable") && !text.contains("statically linked") {
        return Err("/bin/busybox is not statically linked: install busybox-static".into());
    }
    Ok(Tools { dockerd, docker, busybox })
}

pub fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
    }
}

pub use crate::alive;

/// A dockerd of the test's own, and its containerd.
pub struct Dockerd {
    child: Option<Child>,
    dir: PathBuf,
    docker: PathBuf,
    cgroup_parent: String,
}

impl Dockerd {
    pub fn socket(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default()
    }
    /// The pid of the containerd dockerd started, from the file dockerd writes.
    pub fn containerd_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.dir.join("exec/containerd/containerd.pid")).ok()?;
        text.trim().parse().ok()
    }

    /// Start dockerd and wait until it answers; `Err` says why it cannot run here.
    pub fn start(host: &Host, tools: &Tools) -> Result<Dockerd, String> {
        let dir = host.dir.path().join("docker");
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        // Its own (empty) configuration: nothing from the machine's /etc/docker/daemon.json.
        std::fs::write(dir.join("daemon.json"), "{}").map_err(|e| format!("cannot write daemon.json: {e}"))?;
        let log = std::fs::File::create(dir.join("dockerd.log")).map_err(|e| format!("dockerd log: {e}"))?;
        let cgroup_parent = format!("weft-e2e-docker-{}", std::process::id());
        let child = Command::new("nsenter")
            .arg(format!("--net={}", host.netns_path().display()))
            .args(["unshare", "--mount", "--propagation", "slave"])
            .arg(&tools.dockerd)
            .arg(format!("--data-root={}", dir.join("data").display()))
            .arg(format!("--exec-root={}", dir.join("exec").display()))
            .arg(format!("--host=unix://{}", dir.join("docker.sock").display()))
            .arg(format!("--pidfile={}", dir.join("docker.pid").display()))
            .arg(format!("--config-file={}", dir.join("daemon.json").display()))
            .arg(format!("--cgroup-parent=/{cgroup_parent}"))
            // No docker0: the only network driver here is weft's. No iptables rules either:
            // Docker's FORWARD policy would drop bridged traffic wherever br_netfilter is loaded;
            // weft's nftables table does the filtering and the published ports.
            .args(["--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false"])
            // The image is 2 MB: vfs works on any backing filesystem.
            .args(["--storage-driver=vfs", "--log-level=info"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| format!("dockerd log: {e}"))?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start dockerd: {e}"))?;
        let mut d = Dockerd { child: Some(child), dir, docker: tools.docker.clone(), cgroup_parent };
        let mut exited = false;
        let up = wait_for(Duration::from_secs(60), || {
            exited = d.child.as_mut().is_none_or(|c| matches!(c.try_wait(), Ok(Some(_))));
            exited || d.docker(&["version", "--format", "{{.Server.Version}}"]).code == 0
        });
        if exited || !up {
            let log = d.log();
            let last: Vec<&str> = log.lines().rev().take(3).collect();
            let why = if exited { "dockerd exited" } else { "dockerd did not answer within 60 s" };
            return Err(format!("{why}: {}", last.into_iter().rev().collect::<Vec<_>>().join(" | ")));
        }
        Ok(d)
    }

    /// Run the docker client against this dockerd.
    pub fn docker(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(&self.docker);
        cmd.env("DOCKER_CONFIG", self.dir.join("client")).arg("-H").arg(format!("unix://{}", self.socket().display()));
        run_bounded(cmd.args(args), Duration::from_secs(120))
    }

    /// SIGTERM to dockerd, which stops its containers and its containerd; true if both ended by
    /// themselves. Whatever is left is killed by its pid.
    pub fn stop(&mut self) -> bool {
        let Some(mut c) = self.child.take() else { return true };
        let containerd = self.containerd_pid();
        signal(c.id(), nix::sys::signal::Signal::SIGTERM);
        let mut clean = wait_for(Duration::from_secs(30), || matches!(c.try_wait(), Ok(Some(_))));
        if !clean {
            let _ = c.kill();
        }
        let _ = c.wait();
        if let Some(pid) = containerd {
            if !wait_for(Duration::from_secs(10), || !alive(pid)) {
                clean = false;
                signal(pid, nix::sys::signal::Signal::SIGKILL);
            }
        }
        remove_cgroups(&self.cgroup_parent);
        clean
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Remove the cgroup parent's directories in every hierarchy (deepest first; empty ones only).
pub fn remove_cgroups(parent: &str) {
    fn rmdir_tree(dir: &Path) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    rmdir_tree(&e.path());
                }
            }
        }
        let _ = std::fs::remove_dir(dir);
    }
    let root = Path::new("/sys/fs/cgroup");
    rmdir_tree(&root.join(parent));
    if let Ok(hierarchies) = std::fs::read_dir(root) {
        for h in hierarchies.flatten() {
            rmdir_tree(&h.path().join(parent));
        }
    }
}

/// A root filesystem with busybox and `applets` (plus the files in `extra`: path in the root,
/// content), imported into `d` as `image`. Returns the root's directory.
pub fn import_image(
    d: &Dockerd,
    tools: &Tools,
    dir: &Path,
    image: &str,
    applets: &[&str],
    extra: &[(&str, &str)],
) -> PathBuf {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).expect("rootfs");
    std::fs::copy(&tools.busybox, rootfs.join("bin/busybox")).expect("copy busybox");
    for applet in applets {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).expect("applet link");
    }
    for (path, content) in extra {
        let file = rootfs.join(path);
        std::fs::create_dir_all(file.parent().expect("a directory")).expect("rootfs directory");
        std::fs::write(file, content).expect("rootfs file");
    }
    let tar = dir.join("rootfs.tar");
    run_bounded(Command::new("tar").arg("-C").arg(&rootfs).arg("-cf").arg(&tar).arg("."), Duration::from_secs(60)).ok();
    d.docker(&["import", &tar.display().to_string(), image]).ok();
    rootfs
}
