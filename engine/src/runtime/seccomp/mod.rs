//! Seccomp filters for containers: a profile (Docker's format, or Docker's default profile) is
//! resolved for the container's capabilities and this kernel, compiled to one classic BPF
//! program, and installed in the forked child before it execs.
//!
//! The program checks the architecture, then finds the syscall number by binary search (a few
//! compares deep whatever the profile's size) and either answers at once (a syscall some rule
//! takes whatever its arguments) or jumps to that syscall's rules, tried in the profile's order,
//! each answering its own action. The argument comparisons are seccompiler's (firecracker's BPF
//! compiler); the search over the numbers is ours, because seccompiler lays its filter out as one
//! compare per syscall in a row, and when a filter is attached the kernel runs it once for every
//! syscall number to build its action cache: for Docker's profile that row made each container's
//! start 0.6 ms slower.

mod default;
mod profile;

use std::collections::BTreeMap;
use std::str::FromStr;

use seccompiler::{SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompRule};

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

/// The compiled filters, to be installed in order (one for a profile weft compiles).
#[derive(Debug, Clone)]
pub struct Program {
    pub(super) filters: Vec<Vec<libc::sock_filter>>,
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
        let release = libnet::osl::get_sysctl("kernel/osrelease").unwrap_or_default();
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

/// One syscall of the profile: its rules with conditions, in order, then what it gets otherwise.
struct Entry {
    conditional: Vec<(Vec<Arg>, Action)>,
    otherwise: Action,
}

/// At most this many numbers are compared one after another; more are split in two.
const LINEAR: usize = 4;
/// The kernel's limit on a filter's length.
const MAX_INSTRUCTIONS: usize = 4096;

const BPF_LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const BPF_RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
const BPF_JA: u16 = (libc::BPF_JMP | libc::BPF_JA) as u16;
const BPF_JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const BPF_JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
/// Offsets in the kernel's `struct seccomp_data`.
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 62 | 0x8000_0000 | 0x4000_0000;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 183 | 0x8000_0000 | 0x4000_0000;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt: 0, jf: 0, k }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

fn ret(action: Action) -> libc::sock_filter {
    stmt(BPF_RET_K, u32::from(action.compiled()))
}

/// Where the search leaves a syscall number.
enum Leaf {
    Answer(Action),
    /// The start of its rules, by index into the chains.
    Rules(usize),
}

/// The search over `leaves` (sorted by number); jumps to rules are left to patch: (position,
/// chain index).
fn search(out: &mut Vec<libc::sock_filter>, patches: &mut Vec<(usize, usize)>, leaves: &[(u32, Leaf)], miss: Action) {
    if leaves.len() <= LINEAR {
        for (nr, leaf) in leaves {
            out.push(jump(BPF_JEQ_K, *nr, 0, 1));
            match leaf {
                Leaf::Answer(action) => out.push(ret(*action)),
                Leaf::Rules(chain) => {
                    patches.push((out.len(), *chain));
                    out.push(stmt(BPF_JA, 0));
                }
            }
        }
        out.push(ret(miss));
        return;
    }
    let (low, high) = leaves.split_at(leaves.len() / 2);
    // nr >= the first of the upper half: the jump over the lower half; below it: skip that jump.
    out.push(jump(BPF_JGE_K, high[0].0, 0, 1));
    let over = out.len();
    out.push(stmt(BPF_JA, 0));
    search(out, patches, low, miss);
    out[over].k = (out.len() - over - 1) as u32;
    search(out, patches, high, miss);
}

/// Compile `profile` to the filter that enforces it (see the module docs).
pub fn compile(profile: &Profile) -> Result<Program, ProfileError> {
    let default = profile.default_action;
    let mut entries: BTreeMap<u32, Entry> = BTreeMap::new();
    for rule in &profile.rules {
        for number in rule.names.iter().filter_map(|n| syscall_number(n)) {
            let entry = entries.entry(number as u32).or_insert(Entry { conditional: Vec::new(), otherwise: default });
            if rule.args.is_empty() {
                // The first rule that takes any arguments decides.
                if entry.otherwise == default {
                    entry.otherwise = rule.action;
                }
            } else if rule.action != entry.otherwise {
                entry.conditional.push((rule.args.clone(), rule.action));
            }
        }
    }
    let mut leaves = Vec::new();
    let mut chains = Vec::new();
    for (number, entry) in entries {
        if entry.conditional.is_empty() {
            if entry.otherwise != default {
                leaves.push((number, Leaf::Answer(entry.otherwise)));
            }
        } else {
            leaves.push((number, Leaf::Rules(chains.len())));
            chains.push(entry);
        }
    }
    let mut out = vec![
        stmt(BPF_LD_W_ABS, DATA_ARCH),
        jump(BPF_JEQ_K, AUDIT_ARCH, 1, 0),
        stmt(BPF_RET_K, libc::SECCOMP_RET_KILL_PROCESS),
        stmt(BPF_LD_W_ABS, DATA_NR),
    ];
    let mut patches = Vec::new();
    search(&mut out, &mut patches, &leaves, default);
    let mut starts = Vec::with_capacity(chains.len());
    for entry in chains {
        starts.push(out.len());
        for (args, action) in entry.conditional {
            // seccompiler's rule: on a match it falls through to our answer; on a miss it jumps
            // just past it, to the next rule.
            let conditions = args.iter().map(condition).collect::<Result<Vec<_>, _>>()?;
            let rule = SeccompRule::new(conditions).map_err(|e| ProfileError(e.to_string()))?;
            let bpf: seccompiler::BpfProgram = rule.into();
            out.extend(bpf.into_iter().map(|i| libc::sock_filter { code: i.code, jt: i.jt, jf: i.jf, k: i.k }));
            out.push(ret(action));
        }
        out.push(ret(entry.otherwise));
    }
    // seccompiler's rules open with a jump out that is only taken in its own layout, where one
    // more instruction always follows a syscall's rules; the kernel checks every jump's target,
    // taken or not, so the last rules get that instruction too.
    out.push(ret(default));
    for (at, chain) in patches {
        out[at].k = (starts[chain] - at - 1) as u32;
    }
    if out.len() > MAX_INSTRUCTIONS {
        return Err(ProfileError(format!(
            "the profile makes a filter of {} instructions; the kernel takes at most {MAX_INSTRUCTIONS}",
            out.len()
        )));
    }
    Ok(Program { filters: vec![out] })
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
pub(crate) mod tests {
    use super::*;

    #[test]
    fn kernel_releases_parse() {
        assert_eq!(parse_kernel("6.1.0-57-amd64"), Some((6, 1)));
        assert_eq!(parse_kernel("6.18.2\n"), Some((6, 18)));
        assert_eq!(parse_kernel("x"), None);
    }

    /// Run `filter` as the kernel would for one syscall: the answer, and how many instructions
    /// it took.
    pub(crate) fn run(filter: &[libc::sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> (u32, usize) {
        let word = |off: u32| -> u32 {
            match off {
                0 => nr,
                4 => arch,
                o if (16..64).contains(&o) => {
                    let arg = args[((o - 16) / 8) as usize];
                    if (o - 16) % 8 == 0 {
                        arg as u32
                    } else {
                        (arg >> 32) as u32
                    }
                }
                _ => panic!("load of offset {off}"),
            }
        };
        let (mut pc, mut a, mut steps) = (0usize, 0u32, 0usize);
        loop {
            steps += 1;
            let i = filter[pc];
            let op = u32::from(i.code);
            match op & 0x07 {
                x if x == libc::BPF_LD => a = word(i.k),
                x if x == libc::BPF_ALU && op & 0xf0 == libc::BPF_AND => a &= i.k,
                x if x == libc::BPF_RET => return (i.k, steps),
                x if x == libc::BPF_JMP => {
                    let taken = match op & 0xf0 {
                        o if o == libc::BPF_JA => {
                            pc += i.k as usize + 1;
                            continue;
                        }
                        o if o == libc::BPF_JEQ => a == i.k,
                        o if o == libc::BPF_JGT => a > i.k,
                        o if o == libc::BPF_JGE => a >= i.k,
                        o => panic!("jump op {o:#x}"),
                    };
                    pc += 1 + usize::from(if taken { i.jt } else { i.jf });
                    continue;
                }
                _ => panic!("instruction {:#x}", i.code),
            }
            pc += 1;
        }
    }

    #[test]
    fn the_default_profile_answers_as_dockers() {
        let program = compile(&default_profile(CapSet::docker_default())).unwrap();
        assert_eq!(program.filters.len(), 1);
        let f = &program.filters[0];
        assert!(f.len() < 1200, "{} instructions", f.len());
        let nr = |name: &str| syscall_number(name).unwrap() as u32;
        let allow = libc::SECCOMP_RET_ALLOW;
        let errno = |e: i32| libc::SECCOMP_RET_ERRNO | e as u32;
        let at = |name: &str, args: [u64; 6]| run(f, AUDIT_ARCH, nr(name), args).0;
        let none = [0; 6];
        assert_eq!(at("read", none), allow);
        assert_eq!(at("mount", none), errno(libc::EPERM));
        assert_eq!(at("keyctl", none), errno(libc::EPERM));
        assert_eq!(at("clone3", none), errno(libc::ENOSYS));
        assert_eq!(at("clone", [libc::SIGCHLD as u64, 0, 0, 0, 0, 0]), allow);
        assert_eq!(at("clone", [libc::CLONE_NEWNS as u64 | libc::SIGCHLD as u64, 0, 0, 0, 0, 0]), errno(libc::EPERM));
        assert_eq!(at("socket", [2, 1, 0, 0, 0, 0]), allow);
        assert_eq!(at("socket", [40, 1, 0, 0, 0, 0]), errno(libc::EPERM));
        assert_eq!(at("personality", [8, 0, 0, 0, 0, 0]), allow);
        assert_eq!(at("personality", [0xffff_ffff, 0, 0, 0, 0, 0]), allow);
        assert_eq!(at("personality", [1, 0, 0, 0, 0, 0]), errno(libc::EPERM));
        assert_eq!(run(f, AUDIT_ARCH, 4000, none).0, errno(libc::EPERM));
        assert_eq!(run(f, 3 | 0x4000_0000, nr("read"), none).0, libc::SECCOMP_RET_KILL_PROCESS);
        // Every syscall number is answered within a few compares (the kernel runs the filter
        // once per number to build its cache when it is attached).
        let longest = (0..600).map(|n| run(f, AUDIT_ARCH, n, [2, 0, 0, 0, 0, 0]).1).max().unwrap();
        assert!(longest < 64, "a path of {longest} instructions");
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
#[cfg(test)]
mod load_tests {
    /// The kernel takes the filter: every jump lands inside it, it ends with a return, and a
    /// child process can install it.
    #[test]
    fn the_kernel_takes_the_default_filter() {
        let program = super::compile(&super::default_profile(crate::runtime::caps::CapSet::docker_default())).unwrap();
        let f = &program.filters[0];
        for (i, ins) in f.iter().enumerate() {
            let code = ins.code as u32;
            if code & 0x07 == libc::BPF_JMP {
                if code & 0xf0 == libc::BPF_JA {
                    assert!((ins.k as usize) < f.len() - i - 1, "JA at {i} k={} len={}", ins.k, f.len());
                } else {
                    assert!(i + 1 + (ins.jt as usize) < f.len() && i + 1 + (ins.jf as usize) < f.len(), "jump at {i}");
                }
            }
        }
        assert_eq!(f.last().unwrap().code as u32 & 0x07, libc::BPF_RET);
        // SAFETY: the child makes only system calls and ends in _exit.
        unsafe {
            let pid = libc::fork();
            if pid == 0 {
                libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                let rc = super::install(&program);
                libc::_exit(match rc {
                    Ok(()) => 0,
                    Err(e) => e,
                });
            }
            let mut status = 0;
            libc::waitpid(pid, &mut status, 0);
            assert_eq!(libc::WEXITSTATUS(status), 0, "the kernel refused the filter (errno above)");
        }
    }
}
