//! Docker's default seccomp profile, as weft states it: every syscall Docker's profile allows
//! without conditions, the ones a capability unlocks, and its few argument rules. Anything else
//! fails with EPERM. Names another architecture has are listed as Docker lists them and left
//! out when the profile is compiled.

use super::{Action, Arg, Compare, Host, Profile, Rule};
use crate::runtime::caps::CapSet;

/// Allowed for every container, whatever its capabilities.
const ALWAYS: &str = "accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 \
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep \
clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 \
epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit \
exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown \
fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 \
fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd \
getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer \
getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 \
getrlimit get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid \
getuid32 getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy \
io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter \
io_uring_register io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown \
lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 \
madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 \
mprotect mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend \
mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock munlockall munmap \
name_to_handle_at nanosleep newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe \
pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 \
process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv \
recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2 restart_syscall \
rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait \
rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max \
sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity \
sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop \
semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid \
setgid32 setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid \
setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address \
setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn \
socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs \
sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime \
timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill \
truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice \
wait4 waitid waitpid write writev";

/// Allowed from Linux 4.8 on, where seccomp filters run after ptrace (so a tracer cannot
/// rewrite a syscall past the filter).
const FROM_4_8: &str = "process_vm_readv process_vm_writev ptrace";

/// Allowed only on some architectures (Docker's names for them).
const BY_ARCH: [(&str, &str); 4] = [
    ("amd64 x32", "arch_prctl"),
    ("amd64 x32 x86", "modify_ldt"),
    ("arm arm64", "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls"),
    ("riscv64", "riscv_flush_icache"),
];

/// Allowed to a container that holds the capability.
const BY_CAPABILITY: [(&str, &str); 14] = [
    ("DAC_READ_SEARCH", "open_by_handle_at"),
    (
        "SYS_ADMIN",
        "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount mount_setattr \
         move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog umount \
         umount2 unshare",
    ),
    ("SYS_BOOT", "reboot"),
    ("SYS_CHROOT", "chroot"),
    ("SYS_MODULE", "delete_module init_module finit_module"),
    ("SYS_PACCT", "acct"),
    ("SYS_PTRACE", "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace"),
    ("SYS_RAWIO", "iopl ioperm"),
    ("SYS_TIME", "settimeofday stime clock_settime clock_settime64"),
    ("SYS_TTY_CONFIG", "vhangup"),
    ("SYS_NICE", "get_mempolicy mbind set_mempolicy set_mempolicy_home_node"),
    ("SYSLOG", "syslog"),
    ("BPF", "bpf"),
    ("PERFMON", "perf_event_open"),
];

/// `personality(2)` personas allowed: Linux, UNAME26, PER_LINUX32, PER_LINUX32|UNAME26, and the
/// query (0xffffffff).
const PERSONAS: [u64; 5] = [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];
/// The clone flags that make namespaces: a container without CAP_SYS_ADMIN may clone only
/// without them.
const CLONE_NAMESPACES: u64 = 0x7e02_0000;
/// `socket(2)`'s AF_VSOCK, which Docker's profile refuses.
const AF_VSOCK: u64 = 40;

fn rule(names: &str, action: Action, args: Vec<Arg>) -> Rule {
    Rule { names: names.split_whitespace().map(str::to_string).collect(), action, args }
}

fn allow(names: &str) -> Rule {
    rule(names, Action::Allow, Vec::new())
}

pub(super) fn profile(caps: CapSet, host: &Host) -> Profile {
    let mut rules = vec![allow(ALWAYS)];
    if host.kernel >= (4, 8) {
        rules.push(allow(FROM_4_8));
    }
    rules.push(rule("socket", Action::Allow, vec![Arg { index: 0, compare: Compare::Ne(AF_VSOCK) }]));
    for persona in PERSONAS {
        rules.push(rule("personality", Action::Allow, vec![Arg { index: 0, compare: Compare::Eq(persona) }]));
    }
    for (arches, names) in BY_ARCH {
        if arches.split_whitespace().any(|a| a == host.arch) {
            rules.push(allow(names));
        }
    }
    for (cap, names) in BY_CAPABILITY {
        if caps.has(cap) {
            rules.push(allow(names));
        }
    }
    if !caps.has("SYS_ADMIN") {
        // s390 passes the flags second; weft runs on amd64 and arm64, where they come first.
        let no_namespaces = Compare::MaskedEq { mask: CLONE_NAMESPACES, value: 0 };
        rules.push(rule("clone", Action::Allow, vec![Arg { index: 0, compare: no_namespaces }]));
        // ENOSYS, so a libc falls back to clone, whose flags the filter can see.
        rules.push(rule("clone3", Action::Errno(libc::ENOSYS as u32), Vec::new()));
    }
    Profile { default_action: Action::Errno(libc::EPERM as u32), rules }
}
