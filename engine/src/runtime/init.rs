//! The container's pid 1, in two parts.
//!
//! [`run`] is the child weftd clones (sharing its memory until exec, as vfork does: no copy of
//! weftd's page tables, whatever its size): it sets up the namespaces and the mounts, takes the
//! container's init lock, and execs `weft-init`, a program of its own, while the host's root is
//! still there to load it from. Everything in it is async-signal-safe on data prepared before
//! the clone: no allocation, no locks, and every way out is exec or `_exit`.
//!
//! [`main`] is `weft-init`: it pivots into the container's root, opens the terminal, starts the
//! command under its limits, forwards signals to it, reaps every orphan, and exits with the
//! command's exit code. It is a fresh process: the container sees only its command line
//! (`weft-init -- <command>`) and the container's environment, and it shares no memory with weftd.

use std::ffi::{c_char, c_int};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};

use super::fdpass::send_fd;
use super::initspec::InitSpec;
use super::spawn::{last_errno, Failure, Prepared};

/// The signals the init passes on to the command. Others sent to the init are ignored: the
/// kernel delivers only signals pid 1 has a handler for, SIGKILL excepted.
const FORWARDED: [c_int; 5] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGUSR1, libc::SIGUSR2];
/// Where the report pipe sits in the init once its descriptors are tidied.
const REPORT_FD: RawFd = 3;
/// Where the console socket sits (a container with a terminal): the master goes back on it.
const CONSOLE_FD: RawFd = 4;
/// Where the init's spec (a memfd, see [`InitSpec`]) sits across the exec of `weft-init`.
const SPEC_FD: RawFd = 5;
/// Where the init lock sits: held (a POSIX lock) for the container's whole life, so a later
/// weftd finds the inits an earlier one left, whether or not a record names them.
const LOCK_FD: RawFd = 6;
/// The ptmx of the container's own devpts instance, reached after the pivot.
const PTMX: &std::ffi::CStr = c"/dev/pts/ptmx";
/// Descriptors are moved above this while fds 0 to 3 are rearranged.
const SCRATCH_FD: RawFd = 64;
/// Exit code of the init when the setup fails (the caller sees the reported failure instead).
const SETUP_FAILED: i32 = 1;

/// The command's host-side pid, for the signal handler.
static COMMAND: AtomicI32 = AtomicI32::new(0);

/// Docker's messages for a command that cannot be exec'd, formatted before the fork.
pub(super) struct ExecMessages {
    not_found: Vec<u8>,
    denied: Vec<u8>,
    bad_format: Vec<u8>,
    failed: Vec<u8>,
}

impl ExecMessages {
    pub(super) fn parts(&self) -> [&[u8]; 4] {
        [&self.not_found, &self.denied, &self.bad_format, &self.failed]
    }

    pub(super) fn from_parts([not_found, denied, bad_format, failed]: [Vec<u8>; 4]) -> ExecMessages {
        ExecMessages { not_found, denied, bad_format, failed }
    }

    pub(super) fn new(command: &str) -> ExecMessages {
        Self::wrapped(command, "", "\n")
    }

    /// Each message between `prefix` and `suffix` (`weft exec` words them as Docker's runtime).
    pub(super) fn wrapped(command: &str, prefix: &str, suffix: &str) -> ExecMessages {
        let not_found = if command.contains('/') {
            format!("exec: {command:?}: stat {command}: no such file or directory")
        } else {
            format!("exec: {command:?}: executable file not found in $PATH")
        };
        let wrap = |m: String| format!("{prefix}{m}{suffix}").into_bytes();
        ExecMessages {
            not_found: wrap(not_found),
            denied: wrap(format!("exec: {command:?}: permission denied")),
            bad_format: wrap(format!("exec: {command:?}: exec format error")),
            failed: wrap(format!("exec: {command:?}: cannot execute")),
        }
    }
}

/// The cloned child's whole life: set up, then exec `weft-init` (`argv` and `envp` are its
/// null-terminated command line and the container's environment). Never returns.
pub(super) fn run(p: &Prepared, argv: &[*const c_char], envp: &[*const c_char], report: RawFd) -> ! {
    if let Some(template) = p.mount_template {
        // SAFETY: setns takes a descriptor and a flag. This child shares no fs_struct (no
        // CLONE_FS), as entering a mount namespace requires.
        if unsafe { libc::setns(template, libc::CLONE_NEWNS) } != 0 {
            Failure::errno("enter the containers' mount template").send(report);
            exit(SETUP_FAILED);
        }
    }
    if let Err(failure) = set_up_stdio(p, report) {
        failure.send(report);
        exit(SETUP_FAILED);
    }
    let steps = lock_init().and_then(|()| set_up(p));
    if let Err(failure) = steps {
        failure.send(REPORT_FD);
        exit(SETUP_FAILED);
    }
    // SAFETY: the path and both arrays are null-terminated and live in the caller's memory,
    // which this child shares until the exec replaces it.
    unsafe { libc::execve(p.init.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    Failure::errno("start weft-init").send(REPORT_FD);
    exit(SETUP_FAILED)
}

/// Take the container's init lock (LOCK_FD): a POSIX lock belongs to this process and survives
/// its exec; the command, a fork, does not hold it.
fn lock_init() -> Result<(), Failure> {
    // SAFETY: a zeroed flock is valid; F_SETLK reads it.
    unsafe {
        let mut lock: libc::flock = std::mem::zeroed();
        lock.l_type = libc::F_WRLCK as i16;
        lock.l_whence = libc::SEEK_SET as i16;
        if libc::fcntl(LOCK_FD, libc::F_SETLK, &lock) != 0 {
            return Err(Failure::errno("lock the container's init lock"));
        }
    }
    Ok(())
}

/// `weft-init`: read the spec, pivot into the container's root, start the command, forward
/// signals to it and reap until it ends. `argv` is the whole command line
/// (`weft-init -- <command>...`), `envp` the container's environment.
pub fn main(argv: &[*const c_char], envp: *const *const c_char) -> ! {
    let spec = match read_spec() {
        Some(spec) => spec,
        None => {
            Failure { step: "read weft-init's spec", errno: libc::EINVAL }.send(REPORT_FD);
            exit(SETUP_FAILED);
        }
    };
    // SAFETY: descriptor calls on descriptors this process holds. The report pipe and the lock
    // must not reach the command.
    unsafe {
        libc::close(SPEC_FD);
        libc::fcntl(REPORT_FD, libc::F_SETFD, libc::FD_CLOEXEC);
        libc::fcntl(LOCK_FD, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    if let Err(failure) = super::rootfs::pivot(&spec.root) {
        failure.send(REPORT_FD);
        exit(SETUP_FAILED);
    }
    if spec.tty {
        if let Err(failure) = set_up_terminal() {
            failure.send(REPORT_FD);
            exit(SETUP_FAILED);
        }
    }
    // The command's argv: what follows `--`.
    let Some(dashes) = argv.iter().position(|&a| {
        // SAFETY: argv holds valid NUL-terminated strings up to its null terminator.
        !a.is_null() && unsafe { std::ffi::CStr::from_ptr(a) } == c"--"
    }) else {
        Failure { step: "find the command after --", errno: libc::EINVAL }.send(REPORT_FD);
        exit(SETUP_FAILED);
    };
    let command_argv = &argv[dashes + 1..];
    let forwarded = forwarded_set();
    // Blocked until COMMAND is known, so no signal is lost in between.
    // SAFETY: `forwarded` is a valid sigset; a null old set is allowed.
    unsafe { libc::sigprocmask(libc::SIG_BLOCK, &forwarded, std::ptr::null_mut()) };
    if let Err(failure) = install_handlers() {
        failure.send(REPORT_FD);
        exit(SETUP_FAILED);
    }
    // weftd clones this process with every signal blocked: from here the init takes them.
    // SAFETY: an empty set is valid; unblocking all but the forwarded ones, still blocked above.
    unsafe {
        let mut others: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut others);
        for signal in FORWARDED {
            libc::sigdelset(&mut others, signal);
        }
        libc::sigprocmask(libc::SIG_UNBLOCK, &others, std::ptr::null_mut());
    }
    // SAFETY: this process is single-threaded; the child only execs or _exits.
    let command = unsafe { libc::fork() };
    if command < 0 {
        Failure::errno("fork the command").send(REPORT_FD);
        exit(SETUP_FAILED);
    }
    if command == 0 {
        exec_command(&spec, command_argv, envp);
    }
    COMMAND.store(command, Ordering::SeqCst);
    // SAFETY: `forwarded` is a valid sigset. REPORT_FD is ours; the command keeps its own copy
    // until it execs. The standard streams are the command's: held here too, a terminal would
    // not hang up and a stdin pipe would not be seen closed when the command ends.
    unsafe {
        libc::sigprocmask(libc::SIG_UNBLOCK, &forwarded, std::ptr::null_mut());
        libc::close(REPORT_FD);
        for fd in 0..=2 {
            libc::close(fd);
        }
    }
    reap_until(command)
}

/// The spec weftd left at SPEC_FD.
fn read_spec() -> Option<InitSpec> {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    // SAFETY: SPEC_FD is the memfd weftd passed; ManuallyDrop leaves closing it to the caller.
    let mut file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(SPEC_FD) });
    let mut data = Vec::new();
    file.read_to_end(&mut data).ok()?;
    InitSpec::decode(&data)
}

/// stdin from the spec or /dev/null, stdout and stderr from the spec, the report pipe at
/// REPORT_FD, the console socket at CONSOLE_FD, the spec at SPEC_FD, the lock at LOCK_FD, and
/// nothing else: any other descriptor weftd had open (another container's report pipe, say)
/// would otherwise be held for this container's whole life. None is close-on-exec: each must
/// reach `weft-init`, which closes or marks them.
fn set_up_stdio(p: &Prepared, report: RawFd) -> Result<(), Failure> {
    // SAFETY: plain descriptor calls on descriptors this process holds; a failure is reported.
    unsafe {
        let dup = |fd: RawFd| libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, SCRATCH_FD);
        let report = dup(report);
        let stdout = dup(p.stdout);
        let stderr = dup(p.stderr);
        let stdin = match p.stdin {
            Some(fd) => dup(fd),
            None => libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC),
        };
        let console = p.console.map_or(0, dup);
        let spec = dup(p.spec);
        let lock = dup(p.lock);
        if report < 0 || stdout < 0 || stderr < 0 || stdin < 0 || console < 0 || spec < 0 || lock < 0 {
            return Err(Failure::errno("duplicate the standard streams"));
        }
        if libc::dup2(stdin, 0) < 0
            || libc::dup2(stdout, 1) < 0
            || libc::dup2(stderr, 2) < 0
            || libc::dup2(report, REPORT_FD) < 0
            || (p.console.is_some() && libc::dup2(console, CONSOLE_FD) < 0)
            || libc::dup2(spec, SPEC_FD) < 0
            || libc::dup2(lock, LOCK_FD) < 0
        {
            return Err(Failure::errno("set up the standard streams"));
        }
        if p.console.is_none() {
            libc::close(CONSOLE_FD);
        }
        close_from(LOCK_FD + 1);
    }
    Ok(())
}

/// Close every descriptor from `first` up.
pub(super) fn close_from(first: RawFd) {
    // SAFETY: closing descriptors has no memory effects.
    unsafe {
        // Kernels before 5.9 lack close_range: then close them one by one, up to the limit
        // (RLIMIT_NOFILE cannot pass fs.nr_open, 2^20 by default; the cap bounds a bogus value).
        if libc::syscall(libc::SYS_close_range, first as u32, u32::MAX, 0u32) != 0 {
            let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            let max = if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
                limit.rlim_cur.min(1 << 20) as RawFd
            } else {
                1024
            };
            for fd in first..max {
                libc::close(fd);
            }
        }
    }
}

/// In the container (after the pivot): a terminal of its own devpts instance, whose slave
/// becomes the standard streams and whose master goes back to the caller on the console socket.
fn set_up_terminal() -> Result<(), Failure> {
    let (master, slave) =
        super::pty::open_raw(PTMX).map_err(|errno| Failure { step: "open a terminal in /dev/pts", errno })?;
    let sent = send_fd(CONSOLE_FD, master);
    // SAFETY: descriptors this process holds.
    unsafe {
        libc::close(master);
        libc::close(CONSOLE_FD);
        if !sent {
            return Err(Failure::errno("send the terminal to weftd"));
        }
        if libc::dup2(slave, 0) < 0 || libc::dup2(slave, 1) < 0 || libc::dup2(slave, 2) < 0 {
            return Err(Failure::errno("make the terminal the standard streams"));
        }
        libc::close(slave);
    }
    Ok(())
}

fn set_up(p: &Prepared) -> Result<(), Failure> {
    // SAFETY: unshare takes only flags.
    if unsafe { libc::unshare(libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC) } != 0 {
        return Err(Failure::errno("create the mount, uts and ipc namespaces"));
    }
    p.plan.enter()?;
    let name = p.hostname.as_bytes();
    // SAFETY: `name` is a valid buffer of the length passed.
    if unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) } != 0 {
        return Err(Failure::errno("set the hostname"));
    }
    Ok(())
}

extern "C" fn forward(signal: c_int) {
    let command = COMMAND.load(Ordering::SeqCst);
    if command > 0 {
        // SAFETY: errno is saved and restored around kill, both async-signal-safe.
        unsafe {
            let errno = *libc::__errno_location();
            libc::kill(command, signal);
            *libc::__errno_location() = errno;
        }
    }
}

fn forwarded_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initializes the zeroed set; sigaddset takes valid signal numbers.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in FORWARDED {
            libc::sigaddset(&mut set, signal);
        }
        set
    }
}

fn install_handlers() -> Result<(), Failure> {
    // SAFETY: a zeroed sigaction with a valid handler and an empty mask is a valid argument.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = forward as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        for signal in FORWARDED {
            if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                return Err(Failure::errno("install the signal handlers"));
            }
        }
        // The caller may ignore SIGCHLD, which would make children unwaitable.
        libc::signal(libc::SIGCHLD, libc::SIG_DFL);
    }
    Ok(())
}

/// Reap every child; when the command ends, exit with its code. The kernel then kills whatever
/// is left in the pid namespace.
fn reap_until(command: libc::pid_t) -> ! {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer.
        let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
        if pid == command {
            if libc::WIFEXITED(status) {
                exit(libc::WEXITSTATUS(status));
            }
            if libc::WIFSIGNALED(status) {
                exit(128 + libc::WTERMSIG(status));
            }
        } else if pid < 0 && last_errno() != libc::EINTR {
            // No children left without the command having been seen: cannot happen, but never spin.
            exit(SETUP_FAILED);
        }
    }
}

/// Default dispositions for every signal, and none blocked. Async-signal-safe.
pub(super) fn reset_signals() {
    // SAFETY: resetting dispositions and the mask; an invalid signal number merely fails.
    unsafe {
        for signal in 1..=libc::SIGRTMAX() {
            libc::signal(signal, libc::SIG_DFL);
        }
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_UNBLOCK, &all, std::ptr::null_mut());
    }
}

/// Its own session; with a terminal on stdin, that terminal as its controlling one.
pub(super) fn new_session(tty: bool) -> Result<(), Failure> {
    // SAFETY: setsid takes nothing; TIOCSCTTY takes an int argument.
    unsafe {
        libc::setsid();
        if tty && libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
            return Err(Failure::errno("make the terminal the controlling terminal"));
        }
    }
    Ok(())
}

/// In the command's process: default signal handling, its own session, its limits, the working
/// directory, then exec; Docker's message and 127 or 126 if no candidate can be exec'd.
fn exec_command(spec: &InitSpec, argv: &[*const c_char], envp: *const *const c_char) -> ! {
    reset_signals();
    if let Err(failure) = new_session(spec.tty) {
        failure.send(REPORT_FD);
        exit(SETUP_FAILED);
    }
    // After the session (TIOCSCTTY needs CAP_SYS_ADMIN for a terminal that is another's) and
    // before chdir (a directory the user cannot enter fails as it would for the user).
    if let Err(failure) = spec.limits.apply() {
        failure.send(REPORT_FD);
        exit(SETUP_FAILED);
    }
    // SAFETY: `workdir` is a valid NUL-terminated path.
    if unsafe { libc::chdir(spec.workdir.as_ptr()) } != 0 {
        Failure::errno("change to the working directory").send(REPORT_FD);
        exit(SETUP_FAILED);
    }
    exec_first_in(&spec.candidates, argv.as_ptr(), envp, &spec.messages)
}

/// Exec the first candidate that can be; Docker's message on stderr and 127 or 126 if none can.
pub(super) fn exec_first(
    candidates: &[std::ffi::CString],
    argv: &[*const c_char],
    envp: &[*const c_char],
    messages: &ExecMessages,
) -> ! {
    exec_first_in(candidates, argv.as_ptr(), envp.as_ptr(), messages)
}

/// [`exec_first`] with raw null-terminated arrays.
fn exec_first_in(
    candidates: &[std::ffi::CString],
    argv: *const *const c_char,
    envp: *const *const c_char,
    messages: &ExecMessages,
) -> ! {
    let mut denied = false;
    let mut other = 0;
    for candidate in candidates {
        // SAFETY: `candidate` is NUL-terminated; `argv` and `envp` are null-terminated arrays
        // of pointers to strings that live until exec replaces this process.
        unsafe { libc::execve(candidate.as_ptr(), argv, envp) };
        match last_errno() {
            libc::ENOENT | libc::ENOTDIR => {}
            libc::EACCES => denied = true,
            errno if other == 0 => other = errno,
            _ => {}
        }
    }
    let (message, code) = match other {
        libc::ENOEXEC => (&messages.bad_format, 126),
        0 if denied => (&messages.denied, 126),
        0 => (&messages.not_found, 127),
        _ => (&messages.failed, 126),
    };
    // SAFETY: `message` is a valid buffer of the length passed.
    unsafe { libc::write(2, message.as_ptr().cast(), message.len()) };
    exit(code)
}

pub(super) fn exit(code: i32) -> ! {
    // SAFETY: _exit ends the process without running the caller's atexit handlers or destructors.
    unsafe { libc::_exit(code) }
}
