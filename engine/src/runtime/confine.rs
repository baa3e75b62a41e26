//! How a container is held in, as Docker holds one in: the limits of its processes (capabilities,
//! seccomp, no_new_privs, the user they run as), applied in each forked process right before it
//! execs, and the container's system paths (masked and read-only `/proc` entries, `/sys`).

use std::sync::Arc;

use super::caps::{self, CapSet};
use super::seccomp::{self, Program};
use super::spawn::Failure;

/// Paths Docker hides from a container: an empty read-only tmpfs over a directory, `/dev/null`
/// over a file.
pub const MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths Docker makes read-only in a container.
pub const READONLY_PATHS: [&str; 5] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/// The user a process runs as: ids, and the supplementary groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

/// The limits of one process of a container.
#[derive(Debug, Clone)]
pub struct ProcessLimits {
    /// Its bounding, permitted and effective capabilities (a non-root user's permitted and
    /// effective sets are emptied by exec, as for any process).
    pub capabilities: CapSet,
    /// The seccomp filters; `None` runs it unconfined.
    pub seccomp: Option<Arc<Program>>,
    /// `no_new_privs`: setuid binaries and file capabilities give it nothing.
    pub no_new_privileges: bool,
    pub user: User,
}

impl ProcessLimits {
    /// Docker's defaults: its 14 capabilities and its default seccomp profile, as root.
    pub fn docker_default() -> Result<ProcessLimits, seccomp::ProfileError> {
        let capabilities = CapSet::docker_default();
        let program = seccomp::compile(&seccomp::default_profile(capabilities))?;
        Ok(ProcessLimits {
            capabilities,
            seccomp: Some(Arc::new(program)),
            no_new_privileges: false,
            user: User::default(),
        })
    }
}

/// Everything that holds a container in.
#[derive(Debug, Clone)]
pub struct Confinement {
    /// The limits of its command (and, by default, of `exec`'d processes).
    pub process: ProcessLimits,
    /// Absolute paths in the container hidden from it (see [`MASKED_PATHS`]).
    pub masked_paths: Vec<String>,
    /// Absolute paths in the container made read-only (see [`READONLY_PATHS`]).
    pub readonly_paths: Vec<String>,
    /// `--privileged`: `/sys` read-write and the host's devices in `/dev`.
    pub privileged: bool,
    /// `--read-only`: the root itself read-only (an image's; the host's always is).
    pub readonly_rootfs: bool,
    /// Namespaced sysctls to set (`net.ipv4.ip_forward`, ...), already checked.
    pub sysctls: Vec<(String, String)>,
}

impl Confinement {
    /// Docker's defaults for a container.
    pub fn docker_default() -> Result<Confinement, seccomp::ProfileError> {
        Ok(Confinement {
            process: ProcessLimits::docker_default()?,
            masked_paths: MASKED_PATHS.iter().map(|p| p.to_string()).collect(),
            readonly_paths: READONLY_PATHS.iter().map(|p| p.to_string()).collect(),
            privileged: false,
            readonly_rootfs: false,
            sysctls: Vec::new(),
        })
    }
}

/// [`ProcessLimits`] ready for a forked child.
pub(super) struct PreparedLimits {
    pub(super) capabilities: CapSet,
    pub(super) last_cap: u32,
    pub(super) seccomp: Option<Arc<Program>>,
    pub(super) no_new_privileges: bool,
    pub(super) uid: libc::uid_t,
    pub(super) gid: libc::gid_t,
    pub(super) groups: Vec<libc::gid_t>,
}

impl PreparedLimits {
    pub(super) fn new(limits: &ProcessLimits) -> PreparedLimits {
        PreparedLimits {
            capabilities: limits.capabilities,
            last_cap: caps::last_cap(),
            seccomp: limits.seccomp.clone(),
            no_new_privileges: limits.no_new_privileges,
            uid: limits.user.uid,
            gid: limits.user.gid,
            groups: limits.user.groups.clone(),
        }
    }

    /// In the forked process, as root with every capability, right before exec: the order runc
    /// uses. Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, so the filter comes
    /// first (the calls after it are ones Docker's profile allows); with it, the filter comes
    /// last, so as few calls as possible run under it. Async-signal-safe: system calls only.
    pub(super) fn apply(&self) -> Result<(), Failure> {
        if let (Some(program), false) = (&self.seccomp, self.no_new_privileges) {
            seccomp::install(program).map_err(|errno| Failure { step: "load the seccomp filter", errno })?;
        }
        caps::drop_bounding(self.capabilities, self.last_cap)
            .map_err(|errno| Failure { step: "drop capabilities", errno })?;
        // SAFETY: plain system calls with integer arguments and a valid array of `groups.len()`.
        unsafe {
            if libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 {
                return Err(Failure::errno("keep capabilities across setuid"));
            }
            if libc::setgroups(self.groups.len(), self.groups.as_ptr()) != 0 {
                return Err(Failure::errno("set the supplementary groups"));
            }
            if libc::setresgid(self.gid, self.gid, self.gid) != 0 {
                return Err(Failure::errno("set the group id"));
            }
            if libc::setresuid(self.uid, self.uid, self.uid) != 0 {
                return Err(Failure::errno("set the user id"));
            }
            libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0);
        }
        caps::set(self.capabilities).map_err(|errno| Failure { step: "set capabilities", errno })?;
        if self.no_new_privileges {
            // SAFETY: prctl with integer arguments.
            if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                return Err(Failure::errno("set no_new_privs"));
            }
            if let Some(program) = &self.seccomp {
                seccomp::install(program).map_err(|errno| Failure { step: "load the seccomp filter", errno })?;
            }
        }
        Ok(())
    }
}
