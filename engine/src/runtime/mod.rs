//! The container runtime: run one process in fresh mount, pid, uts and ipc namespaces, on a
//! read-only host root or an overlay over an image directory, under `weft-init`, a small pid 1 of
//! ours, confined as Docker confines a container ([`Confinement`]).
//!
//! A container's process tree, seen from the host:
//!
//! ```text
//! caller ── weft-init (pid 1 in the container: reaps, forwards signals)
//!             └── the command (pid 2 in the container, under its capabilities and filter)
//! ```
//!
//! The caller clones the init sharing its memory until it execs (no copy of the caller's page
//! tables); the clone makes the mounts and execs `weft-init` ([`ContainerSpec::init`]), which
//! pivots into the root and starts the command (see `init.rs`). [`Container::pid`] is the host pid
//! of the init; [`Container::wait`] returns the command's exit code (128 + signal when it was
//! killed), which the init passes on as its own. When the init exits, the kernel kills whatever
//! else is left in the pid namespace, so nothing outlives a container. All mounts are made in the
//! container's own mount namespace and vanish with it; [`cleanup`] removes the files spawn made
//! under the state directory.
//!
//! The command is pid 2, not pid 1: `sh -c 'echo $$'` prints 2 and `/proc/1/cmdline` is
//! `weft-init -- <command>`.

mod binds;
pub mod caps;
mod confine;
mod exec;
mod fdpass;
mod init;
mod initspec;
pub mod pty;
mod rootfs;
pub mod seccomp;
mod spawn;
mod syspaths;
mod template;

pub use confine::{Confinement, ProcessLimits, User, MASKED_PATHS, READONLY_PATHS};
pub use exec::{exec, Exec, ExecSpec};
pub use init::main as init_main;
pub use spawn::leftover_init;
pub use template::MountTemplate;

/// The name of the init program weftd starts as each container's pid 1, installed next to weftd.
pub const INIT_PROGRAM: &str = "weft-init";

use std::fs::File;
use std::io;
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

/// The PATH a command is looked up in when the container's environment sets none (Docker's).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What a container sees as `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rootfs {
    /// The host's own root, read-only (every submount too).
    Hostfs,
    /// An image directory, the read-only lower layer of an overlay whose upper and work
    /// directories live under `layer`: the container's writes never reach the image, and they
    /// outlive a stop when `layer` is kept (as Docker keeps a container's writable layer until
    /// the container is removed).
    Dir { image: PathBuf, layer: PathBuf },
}

/// Everything [`spawn`] needs to start a container.
#[derive(Debug)]
pub struct ContainerSpec {
    pub rootfs: Rootfs,
    /// A directory the engine owns for this container (the root mount point, the overlay's
    /// upper and work directories). Created if missing; [`cleanup`] removes it.
    pub state_dir: PathBuf,
    /// A bind-mounted network namespace to join (a libnet sandbox key); `None` shares the
    /// caller's (host networking).
    pub netns: Option<PathBuf>,
    pub hostname: String,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    /// The command's working directory inside the container; `/` when `None`.
    pub workdir: Option<String>,
    /// The command's standard input; `/dev/null` when `None`.
    pub stdin: Option<File>,
    /// Where the command's standard output goes.
    pub stdout: File,
    pub stderr: File,
    /// Files bound read-write over paths in the container (its generated `/etc/hosts`, ...),
    /// after the root's own mounts.
    pub file_binds: Vec<FileBind>,
    /// Give the command a terminal of the container's own devpts instance as its standard
    /// streams and controlling terminal (then `stdin`, `stdout` and `stderr` serve only the
    /// init); its master is [`Container::take_console`].
    pub tty: bool,
    /// How the container is held in: capabilities, seccomp, user, masked and read-only paths.
    pub confinement: Confinement,
    /// The `weft-init` program, the container's pid 1.
    pub init: PathBuf,
    /// The mount namespace the container's is copied from; `None`: the caller's.
    pub mount_template: Option<std::sync::Arc<MountTemplate>>,
}

/// A host file bound over a path inside the container. The target is resolved inside the
/// container's root (symlinks included); it must exist on the read-only host root, and is
/// created (with its directories) on an image's writable overlay or in a private tmpfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileBind {
    pub source: PathBuf,
    /// An absolute path inside the container.
    pub target: PathBuf,
}

/// Why a container could not be started, waited for or cleaned up.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("invalid container spec: {0}")]
    InvalidSpec(String),
    #[error("image directory {}: {source}", path.display())]
    Image { path: PathBuf, source: io::Error },
    #[error("container state directory {}: {source}", path.display())]
    StateDir { path: PathBuf, source: io::Error },
    #[error("network namespace {}: {source}", path.display())]
    Netns { path: PathBuf, source: io::Error },
    #[error("start the container: {what}: {source}")]
    Start { what: &'static str, source: Errno },
    #[error("set up the container: {step}: {source}")]
    Setup { step: String, source: io::Error },
    #[error("wait for container process {pid}: {source}")]
    Wait { pid: u32, source: Errno },
    #[error("enter the namespaces of container process {pid}: {source}")]
    Enter { pid: u32, source: io::Error },
    #[error("signal container process {pid}: {source}")]
    Kill { pid: u32, source: Errno },
    #[error("clean up container state {}: {source}", path.display())]
    Cleanup { path: PathBuf, source: io::Error },
}

/// A started container. Call [`Container::wait`] to reap it; dropping it without does not stop it.
#[derive(Debug)]
pub struct Container {
    init: Pid,
    console: Option<File>,
}

/// Start `spec.argv` as a container. Returns once the command has been exec'd (or has failed to
/// exec, which shows as exit code 127 or 126 and a message on its stderr, as with Docker).
///
/// On an error the state directory may hold what spawn made there; [`cleanup`] removes it.
pub fn spawn(spec: ContainerSpec) -> Result<Container, RuntimeError> {
    let started = spawn::start(spec)?;
    Ok(Container { init: started.init, console: started.console })
}

impl Container {
    /// The host pid of the container's init (pid 1 inside).
    pub fn pid(&self) -> u32 {
        self.init.as_raw() as u32
    }

    /// The master of the container's terminal (a spec with `tty`), once.
    pub fn take_console(&mut self) -> Option<File> {
        self.console.take()
    }

    /// Wait for the container to end; its exit code, 128 + the signal number if it was killed.
    pub fn wait(self) -> Result<i32, RuntimeError> {
        loop {
            match waitpid(self.init, None) {
                Ok(status) => {
                    if let Some(code) = exit_code(status) {
                        return Ok(code);
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(source) => return Err(RuntimeError::Wait { pid: self.pid(), source }),
            }
        }
    }

    /// Wait, without a thread blocked on it, until the container has ended, then reap it with
    /// [`Container::wait`] (which returns at once). The init's pidfd (Linux 5.3) becomes readable
    /// when it ends. A daemon with many containers keeps no thread per container (each thread's
    /// stack is two more mappings that every later fork of the daemon has to copy). Until it is
    /// reaped, the ended init keeps its pid, so nothing else can have it yet.
    pub async fn exited(&self) -> Result<(), RuntimeError> {
        let failed = |e: io::Error| RuntimeError::Wait {
            pid: self.pid(),
            source: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
        };
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, self.init.as_raw(), 0) };
        if fd < 0 {
            return Err(failed(io::Error::last_os_error()));
        }
        // SAFETY: `fd` is a new descriptor the kernel just gave us, owned by nothing else.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) };
        // SAFETY: the AsyncFd owns `fd` and nothing else closes or replaces it while registered.
        let ready = unsafe { tokio::io::unix::AsyncFd::register(fd) }.map_err(|e| failed(e.into()))?;
        let _guard = ready.readable().await.map_err(failed)?;
        Ok(())
    }

    /// The exit code if the container has ended (and is now reaped), `None` while it runs.
    /// After `Some`, the container must not be waited for or signalled again.
    pub fn try_wait(&mut self) -> Result<Option<i32>, RuntimeError> {
        match waitpid(self.init, Some(WaitPidFlag::WNOHANG)) {
            Ok(status) => Ok(exit_code(status)),
            Err(source) => Err(RuntimeError::Wait { pid: self.pid(), source }),
        }
    }

    /// Send `signal` to the container: SIGKILL ends it at once; SIGTERM, SIGINT, SIGHUP, SIGUSR1
    /// and SIGUSR2 are forwarded by the init to the command; others are ignored by the init.
    pub fn kill(&self, signal: Signal) -> Result<(), RuntimeError> {
        kill(self.init, signal).map_err(|source| RuntimeError::Kill { pid: self.pid(), source })
    }
}

pub(crate) fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, signal, _) => Some(128 + signal as i32),
        _ => None,
    }
}

/// Unmount whatever is still mounted under `state_dir` (normally nothing: the container's mounts
/// live in its own mount namespace) and remove it. A missing directory is not an error.
pub fn cleanup(state_dir: &Path) -> Result<(), RuntimeError> {
    let failed = |source| RuntimeError::Cleanup { path: state_dir.to_path_buf(), source };
    let mounts = rootfs::mount_points().map_err(failed)?;
    cleanup_with(state_dir, &mounts)
}

/// [`cleanup`] of many state directories with one read of the mount table (restore cleans up
/// every container a dead daemon left: one read each would cost O(containers²)). The failures,
/// one per directory that could not be cleaned up.
pub fn cleanup_all(state_dirs: &[PathBuf]) -> Vec<RuntimeError> {
    let mounts = match rootfs::mount_points() {
        Ok(m) => m,
        Err(e) => {
            let path = state_dirs.first().cloned().unwrap_or_default();
            return vec![RuntimeError::Cleanup { path, source: e }];
        }
    };
    state_dirs.iter().filter_map(|dir| cleanup_with(dir, &mounts).err()).collect()
}

fn cleanup_with(state_dir: &Path, mounts: &[PathBuf]) -> Result<(), RuntimeError> {
    let failed = |source| RuntimeError::Cleanup { path: state_dir.to_path_buf(), source };
    let state_dir = match state_dir.canonicalize() {
        Ok(dir) => dir,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(failed(e)),
    };
    let mut mounted: Vec<&PathBuf> = mounts.iter().filter(|p| p.starts_with(&state_dir)).collect();
    // Deepest first, so a mount is never busy with one on top of it.
    mounted.sort_by_key(|path| std::cmp::Reverse(path.components().count()));
    for path in mounted {
        match nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH) {
            Ok(()) | Err(Errno::EINVAL) | Err(Errno::ENOENT) => {}
            Err(errno) => return Err(failed(io::Error::from(errno))),
        }
    }
    match std::fs::remove_dir_all(&state_dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(failed(e)),
    }
}
