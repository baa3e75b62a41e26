//! Seccomp filters for containers: a profile (Docker's format, or Docker's default profile) is
//! resolved for the container's capabilities and this kernel, compiled to classic BPF with
//! seccompiler, and installed in the forked child before it execs.
//!
//! A Docker profile gives each rule its own action, while one seccompiler filter has one action
//! for a match and one for a miss. The kernel runs every installed filter and keeps the most
//! restrictive answer (ties go to the filter installed last), so a profile becomes: one filter
//! that lets through every syscall some rule names (under the rule's conditions) and answers the
//! default action for the rest, then one filter per other action, which answers that action for
//! its rules' syscalls and lets the rest through. A syscall a rule matches thus gets the rule's
//! action, any other the default.

mod default;
mod profile;

use std::collections::BTreeMap;
use std::str::FromStr;

use seccompiler::{SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule};

use super::caps::CapSet;

pub use profile::parse as parse_profile;

/// What a rule or the default does with a syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Allow,
    Errno(u32),
    KillThread,
    KillProcess,
    Trap,
    Trace(u32),
    Log,
}

impl Action {
    fn compiled(self) -> SeccompAction {
        match self {
            Action::Allow => SeccompAction::Allow,
            Action::Errno(e) => SeccompAction::Errno(e),
            Action::KillThread => SeccompAction::KillThread,
            Action::KillProcess => SeccompAction::KillProcess,
            Action::Trap => SeccompAction::Trap,
            Action::Trace(n) => SeccompAction::Trace(n),
            Action::Log => SeccompAction::Log,
        }
    }
}

/// A comparison of one syscall argument (Docker's `SCMP_CMP_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Eq(u64),
    Ne(u64),
    Lt(u64),
    Le(u64),
    Gt(u64),
    Ge(u64),
    /// `(arg & mask) == value`.
    MaskedEq {
        mask: u64,
        value: u64,
    },
}

/// One condition: argument `index` (0 to 5) compared as a 64-bit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    pub index: u8,
    pub compare: Compare,
}

/// Syscalls, by name, that get `action` when every condition in `args` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub names: Vec<String>,
    pub action: Action,
    pub args: Vec<Arg>,
}

/// A profile resolved for one container: its default action and the rules that apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub default_action: Action,
    pub rules: Vec<Rule>,
}

/// Why a profile cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("seccomp profile: {0}")]
pub struct ProfileError(pub String);

/// The compiled filters, to be installed in order.
#[derive(Debug, Clone)]
pub struct Program {
    pub(super) filters: Vec<Vec<libc::sock_filter>>,
}

impl Program {
    /// How many BPF instructions the filters hold, all together.
    pub fn len(&self) -> usize {
        self.filters.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }
}

/// Docker's default profile for a container with `caps`, on this kernel.
pub fn default_profile(caps: CapSet) -> Profile {
    default::profile(caps, &Host::current())
}

/// What a profile's `includes` and `excludes` are checked against.
pub(crate) struct Host {
    /// Docker's name of the architecture (`amd64`, `arm64`).
    arch: &'static str,
    /// The kernel's (major, minor).
    kernel: (u32, u32),
}

impl Host {
    fn current() -> Host {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        Host { arch: docker_arch(), kernel: parse_kernel(&release).unwrap_or((0, 0)) }
    }
}

fn docker_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// `6.1.0-57-amd64` → (6, 1).
fn parse_kernel(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

#[cfg(target_arch = "x86_64")]
const TARGET: seccompiler::TargetArch = seccompiler::TargetArch::x86_64;
#[cfg(target_arch = "aarch64")]
const TARGET: seccompiler::TargetArch = seccompiler::TargetArch::aarch64;

/// The number of a syscall of this architecture; names it does not have (Docker's profile names
/// the 32-bit and other architectures' calls too) are left out, as libseccomp leaves them out.
fn syscall_number(name: &str) -> Option<i64> {
    syscalls::Sysno::from_str(name).ok().map(|s| i64::from(s.id()))
}

fn condition(arg: &Arg) -> Result<SeccompCondition, ProfileError> {
    let (op, value) = match arg.compare {
        Compare::Eq(v) => (SeccompCmpOp::Eq, v),
        Compare::Ne(v) => (SeccompCmpOp::Ne, v),
        Compare::Lt(v) => (SeccompCmpOp::Lt, v),
        Compare::Le(v) => (SeccompCmpOp::Le, v),
        Compare::Gt(v) => (SeccompCmpOp::Gt, v),
        Compare::Ge(v) => (SeccompCmpOp::Ge, v),
        Compare::MaskedEq { mask, value } => (SeccompCmpOp::MaskedEq(mask), value),
    };
    SeccompCondition::new(arg.index, SeccompCmpArgLen::Qword, op, value)
        .map_err(|e| ProfileError(format!("argument {}: {e}", arg.index)))
}

/// Per syscall number, the condition sets that match it; an empty set matches always.
type Matches = BTreeMap<i64, Vec<Vec<Arg>>>;

fn add_rule(matches: &mut Matches, rule: &Rule) {
    for number in rule.names.iter().filter_map(|n| syscall_number(n)) {
        matches.entry(number).or_default().push(rule.args.clone());
    }
}

fn filter(matches: &Matches, on_match: Action, on_miss: Action) -> Result<Vec<libc::sock_filter>, ProfileError> {
    let mut rules = BTreeMap::new();
    for (number, sets) in matches {
        // A rule without conditions matches the syscall whatever its arguments.
        let chain = if sets.iter().any(Vec::is_empty) {
            Vec::new()
        } else {
            sets.iter()
                .map(|args| {
                    let conditions = args.iter().map(condition).collect::<Result<Vec<_>, _>>()?;
                    SeccompRule::new(conditions).map_err(|e| ProfileError(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        rules.insert(*number, chain);
    }
    let filter = SeccompFilter::new(rules, on_miss.compiled(), on_match.compiled(), TARGET)
        .map_err(|e| ProfileError(e.to_string()))?;
    let program: seccompiler::BpfProgram =
        filter.try_into().map_err(|e: seccompiler::BackendError| ProfileError(e.to_string()))?;
    Ok(program.into_iter().map(|i| libc::sock_filter { code: i.code, jt: i.jt, jf: i.jf, k: i.k }).collect())
}

/// Compile `profile` to the filters that enforce it (see the module docs).
pub fn compile(profile: &Profile) -> Result<Program, ProfileError> {
    let default = profile.default_action;
    let mut every = Matches::new();
    let mut by_action: BTreeMap<Action, Matches> = BTreeMap::new();
    for rule in profile.rules.iter().filter(|r| r.action != default) {
        add_rule(&mut every, rule);
        if rule.action != Action::Allow {
            add_rule(by_action.entry(rule.action).or_default(), rule);
        }
    }
    let mut filters = Vec::new();
    if default != Action::Allow {
        filters.push(filter(&every, Action::Allow, default)?);
    }
    for (action, matches) in &by_action {
        filters.push(filter(matches, *action, Action::Allow)?);
    }
    Ok(Program { filters })
}

/// In a forked child: install the filters. Async-signal-safe: system calls only. Without
/// no_new_privs the caller must still hold CAP_SYS_ADMIN.
pub(super) fn install(program: &Program) -> Result<(), i32> {
    for filter in &program.filters {
        let prog = libc::sock_fprog { len: filter.len() as u16, filter: filter.as_ptr().cast_mut() };
        // SAFETY: `prog` points at `filter`, which outlives the call; the kernel copies it.
        let rc = unsafe {
            libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER as libc::c_ulong, &prog as *const _, 0, 0)
        };
        if rc != 0 {
            return Err(super::spawn::last_errno());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_releases_parse() {
        assert_eq!(parse_kernel("6.1.0-57-amd64"), Some((6, 1)));
        assert_eq!(parse_kernel("6.18.2\n"), Some((6, 18)));
        assert_eq!(parse_kernel("x"), None);
    }

    #[test]
    fn the_default_profile_compiles_to_two_filters() {
        let program = compile(&default_profile(CapSet::docker_default())).unwrap();
        // Allow-or-EPERM, then clone3's ENOSYS.
        assert_eq!(program.filters.len(), 2);
        assert!(program.filters.iter().all(|f| f.len() < 4096));
    }

    #[test]
    fn capabilities_unlock_their_syscalls() {
        let names = |p: &Profile| -> Vec<String> {
            p.rules.iter().filter(|r| r.action == Action::Allow).flat_map(|r| r.names.clone()).collect()
        };
        let plain = default_profile(CapSet::docker_default());
        assert!(!names(&plain).contains(&"mount".to_string()));
        assert!(!names(&plain).contains(&"keyctl".to_string()));
        assert!(names(&plain).contains(&"chroot".to_string()));
        let admin = default_profile(CapSet::docker_default().with(21));
        assert!(names(&admin).contains(&"mount".to_string()));
        // clone3 answers ENOSYS (so libc falls back to clone) unless CAP_SYS_ADMIN.
        assert!(plain.rules.iter().any(|r| r.names == ["clone3"] && r.action == Action::Errno(38)));
        assert!(!admin.rules.iter().any(|r| r.action == Action::Errno(38)));
    }

    #[test]
    fn unknown_names_are_left_out() {
        let profile = Profile {
            default_action: Action::Errno(1),
            rules: vec![Rule { names: vec!["chown32".into(), "read".into()], action: Action::Allow, args: vec![] }],
        };
        assert_eq!(compile(&profile).unwrap().filters.len(), 1);
    }
}
