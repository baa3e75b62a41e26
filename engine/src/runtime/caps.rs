//! Linux capabilities of a container's processes: their names, Docker's default set, the
//! `--cap-add`/`--cap-drop` rules, and dropping the rest in a forked child before exec.

use std::fmt;

/// Capability names by number (`CAP_CHOWN` is 0), as `linux/capability.h` numbers them.
const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// The capabilities Docker gives a container unless told otherwise (moby's default list).
const DOCKER_DEFAULT: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// A set of capabilities, bit `n` for capability number `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CapSet(pub u64);

impl CapSet {
    /// Docker's default set (`00000000a80425fb` in `/proc/self/status`).
    pub fn docker_default() -> CapSet {
        DOCKER_DEFAULT.iter().filter_map(|n| number(n)).fold(CapSet(0), |s, n| s.with(n))
    }

    /// Every capability this kernel knows that weftd itself may hold (its bounding set): what
    /// `--privileged` gives. A daemon run with fewer (in a container, say) cannot give more.
    pub fn all() -> CapSet {
        (0..=last_cap().min(63))
            // SAFETY: prctl with integer arguments; it only reads the caller's bounding set.
            .filter(|&n| unsafe { libc::prctl(libc::PR_CAPBSET_READ, n as libc::c_ulong, 0, 0, 0) } == 1)
            .fold(CapSet(0), |s, n| s.with(n))
    }

    pub fn with(self, n: u32) -> CapSet {
        CapSet(self.0 | (1 << n))
    }

    pub fn contains(self, n: u32) -> bool {
        n < 64 && self.0 & (1 << n) != 0
    }

    /// Whether the set holds the capability named `name` (`SYS_ADMIN` or `CAP_SYS_ADMIN`).
    pub fn has(self, name: &str) -> bool {
        number(name).is_some_and(|n| self.contains(n))
    }
}

impl fmt::Display for CapSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The number of a capability named with or without `CAP_`, in any case.
pub fn number(name: &str) -> Option<u32> {
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    NAMES.iter().position(|n| *n == bare).map(|n| n as u32)
}

/// Check a `--cap-add`/`--cap-drop` entry: a known capability or `ALL`, in Docker's words.
pub fn validate(name: &str) -> Result<(), String> {
    if name.eq_ignore_ascii_case("ALL") || name.eq_ignore_ascii_case("CAP_ALL") || number(name).is_some() {
        Ok(())
    } else {
        let upper = name.to_ascii_uppercase();
        let shown = if upper.starts_with("CAP_") { upper } else { format!("CAP_{upper}") };
        Err(format!("unknown capability: {shown:?}"))
    }
}

fn is_all(name: &str) -> bool {
    name.eq_ignore_ascii_case("ALL") || name.eq_ignore_ascii_case("CAP_ALL")
}

/// The set a container gets, as Docker computes it: `--privileged` is every capability; `--cap-add
/// ALL` is every one not dropped; `--cap-drop ALL` keeps only the added ones; otherwise the
/// default set less the dropped, plus the added (an entry both added and dropped is kept).
/// Entries must have passed [`validate`].
pub fn effective(privileged: bool, add: &[String], drop: &[String]) -> CapSet {
    let all = CapSet::all();
    if privileged {
        return all;
    }
    let named = |list: &[String], n: u32| list.iter().any(|c| number(c) == Some(n));
    let from = |base: CapSet, dropped: &[String]| {
        (0..64).filter(|&n| base.contains(n) && !named(dropped, n)).fold(CapSet(0), |s, n| s.with(n))
    };
    let added = add.iter().filter_map(|c| number(c)).filter(|&n| all.contains(n)).fold(CapSet(0), |s, n| s.with(n));
    if add.iter().any(|c| is_all(c)) {
        from(all, drop)
    } else if drop.iter().any(|c| is_all(c)) {
        added
    } else {
        CapSet(from(CapSet::docker_default(), drop).0 | added.0)
    }
}

/// The highest capability number the running kernel knows.
pub fn last_cap() -> u32 {
    // The kernel's, fixed while it runs: read once, not at every start.
    static LAST: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *LAST.get_or_init(|| {
        libnet::osl::get_sysctl("kernel/cap_last_cap")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(NAMES.len() as u32 - 1)
    })
}

/// In a forked child: keep only `keep` in the bounding set, clear the ambient set, and make
/// `keep` the permitted and effective sets with an empty inheritable set (as Docker since the
/// fix for CVE-2022-24769). Async-signal-safe: system calls only.
pub(super) fn drop_bounding(keep: CapSet, last_cap: u32) -> Result<(), i32> {
    for n in 0..=last_cap.min(63) {
        if !keep.contains(n) {
            // SAFETY: prctl with integer arguments.
            if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, n as libc::c_ulong, 0, 0, 0) } != 0 {
                let errno = super::spawn::last_errno();
                // A number this kernel does not know is not in its bounding set anyway.
                if errno != libc::EINVAL {
                    return Err(errno);
                }
            }
        }
    }
    // SAFETY: prctl with integer arguments. Kernels before 4.3 have no ambient set (EINVAL).
    let rc = unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong, 0, 0, 0) };
    if rc != 0 && super::spawn::last_errno() != libc::EINVAL {
        return Err(super::spawn::last_errno());
    }
    Ok(())
}

/// In a forked child: set the permitted and effective sets to `keep`, inheritable empty.
pub(super) fn set(keep: CapSet) -> Result<(), i32> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let header = Header { version: VERSION_3, pid: 0 };
    let low = keep.0 as u32;
    let high = (keep.0 >> 32) as u32;
    let data = [
        Data { effective: low, permitted: low, inheritable: 0 },
        Data { effective: high, permitted: high, inheritable: 0 },
    ];
    // SAFETY: capset reads a version-3 header and two data structs, both valid for the call.
    if unsafe { libc::syscall(libc::SYS_capset, &header as *const Header, data.as_ptr()) } != 0 {
        return Err(super::spawn::last_errno());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_default_set_is_dockers() {
        assert_eq!(CapSet::docker_default().to_string(), "00000000a80425fb");
        assert_eq!(CapSet::docker_default().0.count_ones(), 14);
    }

    #[test]
    fn names_are_taken_with_or_without_prefix_in_any_case() {
        assert_eq!(number("NET_ADMIN"), Some(12));
        assert_eq!(number("cap_net_admin"), Some(12));
        assert_eq!(number("checkpoint_restore"), Some(40));
        assert!(validate("ALL").is_ok());
        assert_eq!(validate("foo").unwrap_err(), "unknown capability: \"CAP_FOO\"");
    }

    #[test]
    fn add_and_drop_follow_dockers_rules() {
        let none: Vec<String> = Vec::new();
        let default = CapSet::docker_default();
        assert_eq!(effective(false, &none, &none), default);
        assert_eq!(effective(false, &list(&["NET_ADMIN"]), &none), default.with(12));
        assert_eq!(effective(false, &none, &list(&["ALL"])), CapSet(0));
        assert_eq!(effective(false, &list(&["net_raw"]), &list(&["ALL"])), CapSet(0).with(13));
        assert!(!effective(false, &none, &list(&["CAP_CHOWN"])).contains(0));
        // Added and dropped: kept, as Docker does.
        assert!(effective(false, &list(&["CHOWN"]), &list(&["CHOWN"])).contains(0));
        let all = CapSet::all();
        assert_eq!(effective(true, &none, &list(&["ALL"])), all);
        assert_eq!(effective(false, &list(&["ALL"]), &list(&["SYS_ADMIN"])).0, all.0 & !(1 << 21));
    }
}
