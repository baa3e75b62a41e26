//! Running one more process inside a running container (`weft exec`): it joins the ipc, uts,
//! net, pid and mount namespaces of the container's init.
//!
//! weftd is multi-threaded, and setns of a mount namespace needs a process of one thread; a pid
//! namespace is entered only by the children of whoever joins it. So:
//!
//! ```text
//! weftd ── middle (joins the namespaces, outside the container's pid namespace)
//!            └── the process (in the container's pid namespace: chdir, session, exec)
//! ```
//!
//! The middle process waits for the process and exits with its exit code (128 + signal when it
//! was killed), so [`Exec::wait`] reaps only a child of weftd. When the container's init ends,
//! the kernel kills everything in its pid namespace, the exec'd process with it.
//!
//! Setup failures come back on a close-on-exec report pipe as in [`super::spawn`]; the host pid
//! of the process comes back on a pipe of its own. A command that cannot be exec'd is no setup
//! failure: as with Docker, it writes the runtime's message on its stderr and exits 127 or 126.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe2, ForkResult, Pid};

use super::confine::PreparedLimits;
use super::init::{self, ExecMessages};
use super::spawn::{self, cstring, Failure, RECORD};
use super::{RuntimeError, DEFAULT_PATH};

/// The namespaces joined, in the order joined: the mount namespace last, as runc's nsenter does.
const NAMESPACES: [&str; 5] = ["ipc", "uts", "net", "pid", "mnt"];
/// Where the middle process puts its descriptors: the report pipe, the pid pipe, then the
/// namespaces. The standard streams are 0 to 2.
const REPORT_FD: RawFd = 3;
const PID_FD: RawFd = 4;
const FIRST_NS_FD: RawFd = 5;
/// Descriptors are moved above this while they are rearranged.
const SCRATCH_FD: RawFd = 64;
/// What Docker's runtime puts around the message of a process that cannot start.
const MESSAGE_PREFIX: &str = "OCI runtime exec failed: exec failed: unable to start container process: ";
const MESSAGE_SUFFIX: &str = ": unknown\r\n";

/// A process to run in a running container.
#[derive(Debug)]
pub struct ExecSpec {
    /// The host pid of the container's init.
    pub init_pid: u32,
    pub argv: Vec<String>,
    /// The process's environment; Docker's defaults (PATH, HOSTNAME, HOME, TERM with `tty`) are
    /// added for what it leaves unset.
    pub env: Vec<(String, String)>,
    pub hostname: String,
    /// `/` when `None`.
    pub workdir: Option<String>,
    /// `/dev/null` when `None`.
    pub stdin: Option<File>,
    pub stdout: File,
    pub stderr: File,
    /// The streams are a terminal's slave: make it the controlling terminal.
    pub tty: bool,
    /// The process's capabilities, seccomp filter and user (the container's, as Docker's rule).
    pub limits: super::ProcessLimits,
}

/// An exec'd process. Call [`Exec::wait`] to reap it.
#[derive(Debug)]
pub struct Exec {
    middle: Pid,
    pid: u32,
}

impl Exec {
    /// The host pid of the process.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Wait for the process to end; its exit code, 128 + the signal number if it was killed.
    pub fn wait(self) -> Result<i32, RuntimeError> {
        loop {
            match waitpid(self.middle, None) {
                Ok(status) => {
                    if let Some(code) = super::exit_code(status) {
                        return Ok(code);
                    }
                }
                Err(Errno::EINTR) => continue,
                Err(source) => return Err(RuntimeError::Wait { pid: self.middle.as_raw() as u32, source }),
            }
        }
    }
}

/// What the children need, ready before the fork.
struct Prepared {
    argv: Vec<CString>,
    env: Vec<CString>,
    candidates: Vec<CString>,
    workdir: CString,
    messages: ExecMessages,
    /// Docker's message when the working directory cannot be entered, by errno.
    chdir_missing: Vec<u8>,
    chdir_failed: Vec<u8>,
    tty: bool,
    limits: PreparedLimits,
}

/// Start `spec.argv` in the container whose init is `spec.init_pid`. Returns once the process
/// has been exec'd (or has failed to, which shows as its exit code).
pub fn exec(spec: ExecSpec) -> Result<Exec, RuntimeError> {
    let Some(command) = spec.argv.first().filter(|c| !c.is_empty()) else {
        return Err(RuntimeError::InvalidSpec("no command given".into()));
    };
    let pid = spec.init_pid;
    let namespaces = NAMESPACES
        .iter()
        .map(|ns| File::open(format!("/proc/{pid}/ns/{ns}")))
        .collect::<Result<Vec<File>, _>>()
        .map_err(|source| RuntimeError::Enter { pid, source })?;
    let env = spawn::container_env(&spec.env, &spec.hostname, spec.tty);
    let path_var = env.iter().find(|(k, _)| k == "PATH").map_or(DEFAULT_PATH, |(_, v)| v.as_str());
    let workdir = spec.workdir.as_deref().filter(|w| !w.is_empty()).unwrap_or("/");
    let chdir = |why: &str| {
        format!("{MESSAGE_PREFIX}chdir to cwd ({workdir:?}) set in config.json failed: {why}{MESSAGE_SUFFIX}")
            .into_bytes()
    };
    let p = Prepared {
        argv: spec.argv.iter().map(|a| cstring(a.as_str())).collect::<Result<_, _>>()?,
        env: env.iter().map(|(k, v)| cstring(format!("{k}={v}"))).collect::<Result<_, _>>()?,
        candidates: spawn::exec_candidates(command, path_var).into_iter().map(cstring).collect::<Result<_, _>>()?,
        workdir: cstring(workdir)?,
        messages: ExecMessages::wrapped(command, MESSAGE_PREFIX, MESSAGE_SUFFIX),
        chdir_missing: chdir("no such file or directory"),
        chdir_failed: chdir("permission denied or not a directory"),
        tty: spec.tty,
        limits: PreparedLimits::new(&spec.limits),
    };
    let argv = spawn::null_terminated(&p.argv);
    let envp = spawn::null_terminated(&p.env);
    let null = match &spec.stdin {
        Some(_) => None,
        None => Some(
            File::open("/dev/null").map_err(|e| RuntimeError::Setup { step: "open /dev/null".into(), source: e })?,
        ),
    };
    let stdin = spec.stdin.as_ref().or(null.as_ref()).map_or(-1, |f| f.as_raw_fd());
    let pipe = |what| pipe2(OFlag::O_CLOEXEC).map_err(|source| RuntimeError::Start { what, source });
    let (report_read, report_write) = pipe("create the report pipe")?;
    let (pid_read, pid_write) = pipe("create the pid pipe")?;
    let mut fds = vec![stdin, spec.stdout.as_raw_fd(), spec.stderr.as_raw_fd(), report_write.as_raw_fd()];
    fds.push(pid_write.as_raw_fd());
    fds.extend(namespaces.iter().map(|f| f.as_raw_fd()));

    // SAFETY: the child runs only `middle`, which makes async-signal-safe calls on data prepared
    // above and never returns (it ends in _exit).
    let middle_pid = match unsafe { fork() } {
        Ok(ForkResult::Child) => middle(&p, &argv, &envp, &fds),
        Ok(ForkResult::Parent { child }) => child,
        Err(source) => return Err(RuntimeError::Start { what: "fork the exec process", source }),
    };
    // Only the children hold the write ends now, and the process's streams.
    drop((report_write, pid_write, spec.stdin, spec.stdout, spec.stderr, null, namespaces));
    let mut pid_bytes = [0u8; 4];
    let got_pid = File::from(pid_read).read_exact(&mut pid_bytes).is_ok();
    let mut record = [0u8; RECORD];
    match File::from(report_read).read_exact(&mut record) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && got_pid => {
            Ok(Exec { middle: middle_pid, pid: u32::from_le_bytes(pid_bytes) })
        }
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            let _ = waitpid(middle_pid, None);
            Err(RuntimeError::Setup { step: "start the exec process".into(), source: e })
        }
        Ok(()) => {
            // The middle process exits right after a failure; reap it so nothing is left.
            let _ = waitpid(middle_pid, None);
            Err(Failure::decode(&record))
        }
        Err(e) => {
            let _ = nix::sys::signal::kill(middle_pid, nix::sys::signal::Signal::SIGKILL);
            let _ = waitpid(middle_pid, None);
            Err(RuntimeError::Setup { step: "read the exec process's setup report".into(), source: e })
        }
    }
}

/// The middle process: tidy the descriptors, join the namespaces, fork the process, pass its
/// pid on, and exit as it does.
fn middle(p: &Prepared, argv: &[*const libc::c_char], envp: &[*const libc::c_char], fds: &[RawFd]) -> ! {
    init::reset_signals();
    // SAFETY: plain descriptor calls on descriptors this process holds.
    unsafe {
        // Copies above every target first, so no dup2 below overwrites one still to be moved.
        let mut scratch = [0 as RawFd; FIRST_NS_FD as usize + NAMESPACES.len()];
        for (i, fd) in fds.iter().enumerate() {
            scratch[i] = libc::fcntl(*fd, libc::F_DUPFD_CLOEXEC, SCRATCH_FD);
            if scratch[i] < 0 {
                init::exit(1);
            }
        }
        for (target, fd) in scratch.iter().enumerate() {
            let target = target as RawFd;
            // The standard streams survive exec; the rest must not reach the process.
            let flags = if target <= 2 { 0 } else { libc::O_CLOEXEC };
            if libc::dup3(*fd, target, flags) < 0 {
                init::exit(1);
            }
        }
    }
    // Nothing else weftd had open (other containers' pipes and terminals, client sockets) may
    // be held by the exec'd process.
    init::close_from(FIRST_NS_FD + NAMESPACES.len() as RawFd);
    for fd in FIRST_NS_FD..FIRST_NS_FD + NAMESPACES.len() as RawFd {
        // SAFETY: setns takes a descriptor and flags; 0 accepts any namespace type.
        if unsafe { libc::setns(fd, 0) } != 0 {
            Failure::errno("join the container's namespaces").send(REPORT_FD);
            init::exit(1);
        }
        // SAFETY: a descriptor of ours.
        unsafe { libc::close(fd) };
    }
    // SAFETY: this process is single-threaded (a fork); the child only execs or _exits.
    let child = unsafe { libc::fork() };
    if child < 0 {
        Failure::errno("fork the exec process").send(REPORT_FD);
        init::exit(1);
    }
    if child == 0 {
        process(p, argv, envp);
    }
    // SAFETY: descriptors of ours; `child` is a valid buffer of its size.
    unsafe {
        for fd in 0..=2 {
            libc::close(fd);
        }
        libc::write(PID_FD, (&child as *const libc::pid_t).cast(), std::mem::size_of::<libc::pid_t>());
        libc::close(PID_FD);
        libc::close(REPORT_FD);
    }
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer.
        let pid = unsafe { libc::waitpid(child, &mut status, 0) };
        if pid == child {
            if libc::WIFEXITED(status) {
                init::exit(libc::WEXITSTATUS(status));
            }
            if libc::WIFSIGNALED(status) {
                init::exit(128 + libc::WTERMSIG(status));
            }
        } else if pid < 0 && spawn::last_errno() != libc::EINTR {
            init::exit(255);
        }
    }
}

/// The process itself, in the container's pid namespace.
fn process(p: &Prepared, argv: &[*const libc::c_char], envp: &[*const libc::c_char]) -> ! {
    if let Err(failure) = init::new_session(p.tty) {
        failure.send(REPORT_FD);
        init::exit(1);
    }
    if let Err(failure) = p.limits.apply() {
        failure.send(REPORT_FD);
        init::exit(1);
    }
    // SAFETY: `workdir` is a valid NUL-terminated path.
    if unsafe { libc::chdir(p.workdir.as_ptr()) } != 0 {
        // As Docker's daemon: a message with "no such file or directory" exits 127, others 126.
        let (message, code) = match spawn::last_errno() {
            libc::ENOENT => (&p.chdir_missing, 127),
            _ => (&p.chdir_failed, 126),
        };
        // SAFETY: `message` is a valid buffer of the length passed.
        unsafe { libc::write(2, message.as_ptr().cast(), message.len()) };
        init::exit(code);
    }
    init::exec_first(&p.candidates, argv, envp, &p.messages)
}
