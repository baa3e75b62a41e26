//! Starting a container: prepare everything while allocation is still allowed, clone the init
//! into fresh namespaces, and wait until the command has been exec'd or the setup has failed.
//!
//! The pid namespace must exist before the clone that makes its pid 1, and the network namespace
//! is entered with setns, which changes only the calling thread: both happen on the scratch
//! thread of [`Netns::run`], which clones the init and is thrown away, so the caller's threads
//! never change namespace. The clone shares weftd's memory until the init execs `weft-init`
//! (CLONE_VM | CLONE_VFORK, as posix_spawn does): no copy of weftd's page tables, so a start
//! costs the same with 1 or 1000 containers running.
//!
//! The init and the command report a setup failure on a pipe as one fixed-size record; the
//! caller reads until end of file, which comes once the command has exec'd.

use std::ffi::{c_char, CString};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use libnet::osl::{Netns, OslError};
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::{unshare, CloneFlags};
use nix::sys::wait::waitpid;
use nix::unistd::{pipe2, Pid};

use super::confine::PreparedLimits;
use super::fdpass::receive_fd;
use super::init::{self, ExecMessages};
use super::initspec::InitSpec;
use super::rootfs::Plan;
use super::{ContainerSpec, RuntimeError, DEFAULT_PATH};

/// The longest hostname the kernel takes.
const HOST_NAME_MAX: usize = 64;
/// One failure record on the report pipe: errno (4 bytes), step length (1), step text.
pub(super) const RECORD: usize = 64;
const STEP_MAX: usize = RECORD - 5;

/// A setup step that failed in the forked init or command, with its errno.
#[derive(Debug, Clone, Copy)]
pub(super) struct Failure {
    pub step: &'static str,
    pub errno: i32,
}

impl Failure {
    /// `step` failed with the calling thread's errno.
    pub(super) fn errno(step: &'static str) -> Failure {
        Failure { step, errno: last_errno() }
    }

    /// Write this failure to the report pipe: one write of less than PIPE_BUF, so atomic.
    /// Async-signal-safe: no allocation.
    pub(super) fn send(&self, report: RawFd) {
        let mut record = [0u8; RECORD];
        record[..4].copy_from_slice(&self.errno.to_le_bytes());
        let step = &self.step.as_bytes()[..self.step.len().min(STEP_MAX)];
        record[4] = step.len() as u8;
        record[5..5 + step.len()].copy_from_slice(step);
        // SAFETY: `record` is a valid buffer of RECORD bytes; a failed write only loses the report.
        unsafe { libc::write(report, record.as_ptr().cast(), RECORD) };
    }

    pub(super) fn decode(record: &[u8; RECORD]) -> RuntimeError {
        let errno = i32::from_le_bytes([record[0], record[1], record[2], record[3]]);
        let len = usize::from(record[4]).min(STEP_MAX);
        RuntimeError::Setup {
            step: String::from_utf8_lossy(&record[5..5 + len]).into_owned(),
            source: io::Error::from_raw_os_error(errno),
        }
    }
}

pub(super) fn last_errno() -> i32 {
    Errno::last_raw()
}

pub(super) fn cstring(s: impl Into<Vec<u8>>) -> Result<CString, RuntimeError> {
    CString::new(s).map_err(|e| {
        RuntimeError::InvalidSpec(format!("{:?} contains a NUL byte", String::from_utf8_lossy(&e.into_vec())))
    })
}

/// Everything the cloned init needs, ready before the clone.
pub(super) struct Prepared {
    pub plan: Plan,
    pub hostname: CString,
    /// `weft-init`'s path on the host, exec'd before the pivot.
    pub init: CString,
    /// `weft-init -- <command>...`
    pub argv: Vec<CString>,
    pub env: Vec<CString>,
    /// The command's stdin; `/dev/null` when `None`.
    pub stdin: Option<RawFd>,
    pub stdout: RawFd,
    pub stderr: RawFd,
    /// The init's end of the console socket, for a container with a terminal.
    pub console: Option<RawFd>,
    /// The memfd holding the [`InitSpec`].
    pub spec: RawFd,
    /// The container's init lock file.
    pub lock: RawFd,
    /// The mount namespace to copy the container's from (see [`super::MountTemplate`]).
    pub mount_template: Option<RawFd>,
}

/// The file a container's init holds a POSIX lock on while it lives (see [`leftover_init`]).
pub(super) const INIT_LOCK: &str = "init.lock";
/// The stack of the cloned init, until it execs `weft-init` (its setup uses a few KiB).
const CLONE_STACK: usize = 256 * 1024;

/// The init an earlier weftd left in the container state directory `state_dir`: the pid (in
/// the caller's pid namespace) of the process holding its init lock, if one does.
pub fn leftover_init(state_dir: &Path) -> Option<u32> {
    let file = File::options().read(true).write(true).open(state_dir.join(INIT_LOCK)).ok()?;
    // SAFETY: a zeroed flock is valid; F_GETLK fills it in.
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = libc::F_WRLCK as i16;
    lock.l_whence = libc::SEEK_SET as i16;
    // SAFETY: `file` is open and `lock` a valid flock for the call.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_GETLK, &mut lock) } != 0 {
        return None;
    }
    (lock.l_type != libc::F_UNLCK as i16 && lock.l_pid > 0).then_some(lock.l_pid as u32)
}

/// A memfd (close-on-exec) holding `data`, read from its start.
fn memfd_with(data: &[u8]) -> Result<File, RuntimeError> {
    // SAFETY: a valid NUL-terminated name and flags.
    let fd = unsafe { libc::memfd_create(c"weft-init-spec".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(RuntimeError::Start { what: "create the init's spec", source: Errno::last() });
    }
    // SAFETY: a new descriptor owned by nothing else.
    let mut file = unsafe { File::from_raw_fd(fd) };
    let failed = |e: io::Error| RuntimeError::Setup { step: "write the init's spec".into(), source: e };
    file.write_all(data).map_err(failed)?;
    file.seek(SeekFrom::Start(0)).map_err(failed)?;
    Ok(file)
}

/// The arguments of the cloned child: what it reads from the caller's memory.
struct CloneArgs<'a> {
    prepared: &'a Prepared,
    argv: &'a [*const c_char],
    envp: &'a [*const c_char],
    report: RawFd,
}

extern "C" fn cloned(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the CloneArgs the caller passed, alive until the child execs or exits
    // (the caller is suspended meanwhile: CLONE_VFORK).
    let args = unsafe { &*(arg as *const CloneArgs) };
    init::run(args.prepared, args.argv, args.envp, args.report)
}

/// Clone the init sharing this process's memory, on a stack of its own; returns once it has
/// exec'd `weft-init` or exited. Every signal stays blocked in the child (it must not run
/// weftd's handlers in weftd's memory); `weft-init` unblocks them once its own are set.
fn clone_init(args: &CloneArgs) -> Result<Pid, RuntimeError> {
    let mut stack = vec![0u8; CLONE_STACK];
    // SAFETY: the stack grows down from its end, aligned to 16 as the ABI wants; `cloned` only
    // makes async-signal-safe calls on `args` and ends in exec or _exit, and the caller's thread
    // is suspended until then, so nothing else touches what the child uses.
    unsafe {
        let top = stack.as_mut_ptr().add(CLONE_STACK);
        let top = top.sub(top as usize % 16);
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let pid = libc::clone(
            cloned,
            top.cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            args as *const CloneArgs as *mut libc::c_void,
        );
        let errno = Errno::last();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        if pid < 0 {
            return Err(RuntimeError::Start { what: "clone the container's init", source: errno });
        }
        Ok(Pid::from_raw(pid))
    }
}

/// A started init, and the master of its terminal if it has one.
pub(super) struct Started {
    pub init: Pid,
    pub console: Option<File>,
}

pub(super) fn start(spec: ContainerSpec) -> Result<Started, RuntimeError> {
    let Some(command) = spec.argv.first() else {
        return Err(RuntimeError::InvalidSpec("no command given".into()));
    };
    if command.is_empty() {
        return Err(RuntimeError::InvalidSpec("the command is an empty string".into()));
    }
    if spec.hostname.is_empty() || spec.hostname.len() > HOST_NAME_MAX {
        return Err(RuntimeError::InvalidSpec(format!(
            "hostname `{}` must be 1 to {HOST_NAME_MAX} bytes long",
            spec.hostname
        )));
    }
    // With host networking, the init starts in the caller's own namespace.
    let netns = match &spec.netns {
        Some(path) => Netns::open(path),
        None => Netns::current(),
    }
    .map_err(|e| netns_failed(spec.netns.as_deref(), e))?;

    let env = container_env(&spec.env, &spec.hostname, spec.tty);
    let console = if spec.tty { Some(socket_pair()?) } else { None };
    let path_var = env.iter().find(|(k, _)| k == "PATH").map_or(DEFAULT_PATH, |(_, v)| v.as_str());
    let plan = Plan::prepare(&spec.rootfs, &spec.state_dir, &spec.file_binds, &spec.confinement)?;
    let init_spec = InitSpec {
        root: plan.root().to_owned(),
        candidates: exec_candidates(command, path_var).into_iter().map(cstring).collect::<Result<_, _>>()?,
        workdir: cstring(spec.workdir.as_deref().unwrap_or("/"))?,
        messages: ExecMessages::new(command),
        tty: spec.tty,
        limits: PreparedLimits::new(&spec.confinement.process),
    };
    let spec_file = memfd_with(&init_spec.encode())?;
    let lock_path = spec.state_dir.join(INIT_LOCK);
    let lock = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|source| RuntimeError::StateDir { path: lock_path.clone(), source })?;
    let argv = ["weft-init", "--"].into_iter().map(String::from).chain(spec.argv.iter().cloned());
    let prepared = Prepared {
        plan,
        hostname: cstring(spec.hostname.as_str())?,
        init: cstring(spec.init.as_os_str().as_encoded_bytes())?,
        argv: argv.map(cstring).collect::<Result<_, _>>()?,
        env: env.iter().map(|(k, v)| cstring(format!("{k}={v}"))).collect::<Result<_, _>>()?,
        stdin: spec.stdin.as_ref().map(|f| f.as_raw_fd()),
        stdout: spec.stdout.as_raw_fd(),
        stderr: spec.stderr.as_raw_fd(),
        console: console.as_ref().map(|(_, theirs)| theirs.as_raw_fd()),
        spec: spec_file.as_raw_fd(),
        lock: lock.as_raw_fd(),
        mount_template: spec.mount_template.as_ref().map(|t| t.fd()),
    };

    let (report_read, report_write) =
        pipe2(OFlag::O_CLOEXEC).map_err(|source| RuntimeError::Start { what: "create the report pipe", source })?;
    let report = report_write.as_raw_fd();
    let forked = netns.run(|| -> Result<Pid, RuntimeError> {
        unshare(CloneFlags::CLONE_NEWPID)
            .map_err(|source| RuntimeError::Start { what: "create the pid namespace", source })?;
        let argv = null_terminated(&prepared.argv);
        let envp = null_terminated(&prepared.env);
        clone_init(&CloneArgs { prepared: &prepared, argv: &argv, envp: &envp, report })
    });
    let init = forked.map_err(|e| netns_failed(spec.netns.as_deref(), e))??;
    // Only the init and the command hold the write end now: end of file means the command has
    // exec'd (close-on-exec) or the setup has failed and said so first.
    drop(report_write);
    drop(spec.stdin);
    drop(spec.stdout);
    drop(spec.stderr);
    drop(spec_file);
    drop(lock);
    // The init sends the terminal's master before it starts the command, or closes the socket
    // on a failure (which the report then says).
    let master = match console {
        Some((ours, theirs)) => {
            drop(theirs);
            receive_fd(&ours)
        }
        None => None,
    };
    let mut report_read = File::from(report_read);
    let mut record = [0u8; RECORD];
    match report_read.read_exact(&mut record) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            if spec.tty && master.is_none() {
                let _ = nix::sys::signal::kill(init, nix::sys::signal::Signal::SIGKILL);
                let _ = waitpid(init, None);
                return Err(RuntimeError::Setup {
                    step: "receive the container's terminal".into(),
                    source: io::Error::from(io::ErrorKind::UnexpectedEof),
                });
            }
            Ok(Started { init, console: master })
        }
        Ok(()) => {
            // The init exits right after a failure; reap it so nothing is left.
            let _ = waitpid(init, None);
            Err(Failure::decode(&record))
        }
        Err(e) => {
            let _ = nix::sys::signal::kill(init, nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(init, None);
            Err(RuntimeError::Setup { step: "read the container's setup report".into(), source: e })
        }
    }
}

/// A failure to open or enter the network namespace the init starts in: the container's, at
/// `path`, or the caller's own (host networking).
fn netns_failed(path: Option<&Path>, e: OslError) -> RuntimeError {
    let source = match e.errno {
        Some(errno) => io::Error::from_raw_os_error(errno),
        None => io::Error::other(e.to_string()),
    };
    match path {
        Some(path) => RuntimeError::Netns { path: path.to_path_buf(), source },
        None => RuntimeError::Setup { step: "enter the caller's network namespace".into(), source },
    }
}

/// The spec's environment plus Docker's defaults for PATH, HOSTNAME and HOME when unset, and
/// TERM with a terminal.
pub(super) fn container_env(env: &[(String, String)], hostname: &str, tty: bool) -> Vec<(String, String)> {
    let mut env = env.to_vec();
    let term = if tty { Some(("TERM", "xterm")) } else { None };
    for (key, value) in [("PATH", DEFAULT_PATH), ("HOSTNAME", hostname), ("HOME", "/root")].into_iter().chain(term) {
        if !env.iter().any(|(k, _)| k == key) {
            env.push((key.to_string(), value.to_string()));
        }
    }
    env
}

/// A connected pair of close-on-exec unix stream sockets: (ours, the child's).
fn socket_pair() -> Result<(OwnedFd, OwnedFd), RuntimeError> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid out-array of two ints.
    if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr()) } != 0 {
        return Err(RuntimeError::Start { what: "create the console socket", source: Errno::last() });
    }
    // SAFETY: both were just created and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A command with a slash is taken as a path; otherwise each non-empty PATH entry is tried.
pub(super) fn exec_candidates(command: &str, path_var: &str) -> Vec<String> {
    if command.contains('/') {
        return vec![command.to_string()];
    }
    path_var
        .split(':')
        .filter(|dir| !dir.is_empty())
        .map(|dir| format!("{}/{command}", dir.trim_end_matches('/')))
        .collect()
}

pub(super) fn null_terminated(strings: &[CString]) -> Vec<*const c_char> {
    strings.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_looked_up_in_path_unless_they_have_a_slash() {
        assert_eq!(exec_candidates("ls", "/usr/bin:/bin/::/sbin"), ["/usr/bin/ls", "/bin/ls", "/sbin/ls"]);
        assert_eq!(exec_candidates("./run", "/usr/bin"), ["./run"]);
        assert_eq!(exec_candidates("/bin/sh", "/usr/bin"), ["/bin/sh"]);
    }

    #[test]
    fn docker_defaults_fill_only_unset_variables() {
        let env = container_env(&[("PATH".into(), "/opt".into())], "box", false);
        assert_eq!(env.iter().filter(|(k, _)| k == "PATH").count(), 1);
        assert!(env.contains(&("PATH".into(), "/opt".into())));
        assert!(env.contains(&("HOSTNAME".into(), "box".into())));
        assert!(env.contains(&("HOME".into(), "/root".into())));
        assert!(!env.iter().any(|(k, _)| k == "TERM"));
        assert!(container_env(&[], "box", true).contains(&("TERM".into(), "xterm".into())));
    }

    #[test]
    fn failure_records_round_trip() {
        let failure = Failure { step: "mount /proc", errno: libc::EPERM };
        let (read, write) = pipe2(OFlag::O_CLOEXEC).unwrap();
        failure.send(write.as_raw_fd());
        let mut record = [0u8; RECORD];
        File::from(read).read_exact(&mut record).unwrap();
        match Failure::decode(&record) {
            RuntimeError::Setup { step, source } => {
                assert_eq!(step, "mount /proc");
                assert_eq!(source.raw_os_error(), Some(libc::EPERM));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
