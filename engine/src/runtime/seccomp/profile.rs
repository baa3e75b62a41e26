//! Docker's seccomp profile format (`--security-opt seccomp=profile.json`): parsed, checked, and
//! resolved for one container (its capabilities, this architecture and kernel).

use serde::Deserialize;

use super::{Action, Arg, Compare, Host, Profile, ProfileError, Rule};
use crate::runtime::caps::{self, CapSet};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileJson {
    default_action: String,
    #[serde(default)]
    default_errno_ret: Option<u32>,
    #[serde(default)]
    architectures: Option<Vec<String>>,
    #[serde(default)]
    arch_map: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    syscalls: Option<Vec<SyscallJson>>,
    #[serde(default)]
    listener_path: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SyscallJson {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    names: Option<Vec<String>>,
    action: String,
    #[serde(default)]
    errno_ret: Option<u32>,
    #[serde(default)]
    args: Option<Vec<ArgJson>>,
    #[serde(default)]
    includes: Option<FilterJson>,
    #[serde(default)]
    excludes: Option<FilterJson>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArgJson {
    index: u32,
    #[serde(default)]
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FilterJson {
    #[serde(default)]
    arches: Option<Vec<String>>,
    #[serde(default)]
    caps: Option<Vec<String>>,
    #[serde(default)]
    min_kernel: Option<String>,
}

fn bad(message: impl Into<String>) -> ProfileError {
    ProfileError(message.into())
}

fn action(name: &str, errno: Option<u32>, default_errno: u32) -> Result<Action, ProfileError> {
    Ok(match name {
        "SCMP_ACT_ALLOW" => Action::Allow,
        "SCMP_ACT_ERRNO" => Action::Errno(errno.unwrap_or(default_errno)),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => Action::KillThread,
        "SCMP_ACT_KILL_PROCESS" => Action::KillProcess,
        "SCMP_ACT_TRAP" => Action::Trap,
        "SCMP_ACT_TRACE" => Action::Trace(errno.unwrap_or(default_errno)),
        "SCMP_ACT_LOG" => Action::Log,
        "SCMP_ACT_NOTIFY" => return Err(bad("SCMP_ACT_NOTIFY is not supported by weft")),
        other => return Err(bad(format!("unknown action {other:?}"))),
    })
}

fn arg(a: &ArgJson) -> Result<Arg, ProfileError> {
    if a.index > 5 {
        return Err(bad(format!("argument index {} is out of range (0 to 5)", a.index)));
    }
    let compare = match a.op.as_str() {
        "SCMP_CMP_EQ" => Compare::Eq(a.value),
        "SCMP_CMP_NE" => Compare::Ne(a.value),
        "SCMP_CMP_LT" => Compare::Lt(a.value),
        "SCMP_CMP_LE" => Compare::Le(a.value),
        "SCMP_CMP_GT" => Compare::Gt(a.value),
        "SCMP_CMP_GE" => Compare::Ge(a.value),
        "SCMP_CMP_MASKED_EQ" => Compare::MaskedEq { mask: a.value, value: a.value_two },
        other => return Err(bad(format!("unknown comparison {other:?}"))),
    };
    Ok(Arg { index: a.index as u8, compare })
}

fn kernel_at_least(host: &Host, min: &str) -> Result<bool, ProfileError> {
    let want = super::parse_kernel(min).ok_or_else(|| bad(format!("invalid minKernel {min:?}")))?;
    Ok(host.kernel >= want)
}

/// Whether a rule applies: every capability and the kernel `includes` names are there, and
/// none of what `excludes` names is.
fn applies(s: &SyscallJson, caps: CapSet, host: &Host) -> Result<bool, ProfileError> {
    let has_cap = |c: &String| -> Result<bool, ProfileError> {
        caps::number(c).map(|n| caps.contains(n)).ok_or_else(|| bad(format!("unknown capability {c:?}")))
    };
    if let Some(inc) = &s.includes {
        if inc.arches.as_ref().is_some_and(|a| !a.is_empty() && !a.iter().any(|a| a == host.arch)) {
            return Ok(false);
        }
        for c in inc.caps.iter().flatten() {
            if !has_cap(c)? {
                return Ok(false);
            }
        }
        if let Some(min) = inc.min_kernel.as_deref().filter(|m| !m.is_empty()) {
            if !kernel_at_least(host, min)? {
                return Ok(false);
            }
        }
    }
    if let Some(exc) = &s.excludes {
        if exc.arches.iter().flatten().any(|a| a == host.arch) {
            return Ok(false);
        }
        for c in exc.caps.iter().flatten() {
            if has_cap(c)? {
                return Ok(false);
            }
        }
        if let Some(min) = exc.min_kernel.as_deref().filter(|m| !m.is_empty()) {
            if kernel_at_least(host, min)? {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

/// Parse a profile in Docker's JSON format and resolve it for a container with `caps` on this
/// host, with Docker's refusals for a malformed one.
pub fn parse(json: &str, caps: CapSet) -> Result<Profile, ProfileError> {
    parse_for(json, caps, &Host::current())
}

pub(super) fn parse_for(json: &str, caps: CapSet, host: &Host) -> Result<Profile, ProfileError> {
    let p: ProfileJson = serde_json::from_str(json).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    if p.architectures.as_ref().is_some_and(|a| !a.is_empty()) && p.arch_map.as_ref().is_some_and(|m| !m.is_empty()) {
        return Err(bad("use either 'architectures' or 'archMap'"));
    }
    if p.listener_path.as_ref().is_some_and(|l| !l.is_empty()) {
        return Err(bad("listenerPath (SCMP_ACT_NOTIFY) is not supported by weft"));
    }
    let default_errno = p.default_errno_ret.unwrap_or(libc::EPERM as u32);
    let default_action = action(&p.default_action, p.default_errno_ret, default_errno)?;
    let mut rules = Vec::new();
    for s in p.syscalls.iter().flatten() {
        let names = match (&s.name, &s.names) {
            (Some(name), None) if !name.is_empty() => vec![name.clone()],
            (None, Some(names)) => names.clone(),
            (Some(_), Some(_)) => return Err(bad("use either 'name' or 'names'")),
            _ => return Err(bad("a syscall rule names no syscall")),
        };
        let action = action(&s.action, s.errno_ret, default_errno)?;
        let args = s.args.iter().flatten().map(arg).collect::<Result<Vec<_>, _>>()?;
        if applies(s, caps, host)? {
            rules.push(Rule { names, action, args });
        }
    }
    Ok(Profile { default_action, rules })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host { arch: "amd64", kernel: (6, 1) }
    }

    #[test]
    fn a_deny_list_profile_resolves() {
        let json = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
            {"names":["mount"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}},
            {"name":"uname","action":"SCMP_ACT_ERRNO","excludes":{"arches":["amd64"]}},
            {"names":["personality"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]},
            {"names":["reboot"],"action":"SCMP_ACT_KILL","includes":{"minKernel":"7.0"}}]}"#;
        let p = parse_for(json, CapSet::docker_default(), &host()).unwrap();
        assert_eq!(p.default_action, Action::Allow);
        assert_eq!(p.rules.len(), 2);
        assert_eq!(p.rules[0].action, Action::Errno(13));
        assert_eq!(p.rules[1].args, vec![Arg { index: 0, compare: Compare::Eq(8) }]);
        let program = super::super::compile(&p).unwrap();
        let f = &program.filters[0];
        let nr = |name: &str| super::super::syscall_number(name).unwrap() as u32;
        let run = |name: &str, arg0: u64| {
            super::super::tests::run(f, super::super::AUDIT_ARCH, nr(name), [arg0, 0, 0, 0, 0, 0]).0
        };
        assert_eq!(run("mkdir", 0), libc::SECCOMP_RET_ERRNO | 13);
        assert_eq!(run("personality", 8), libc::SECCOMP_RET_ERRNO | 1);
        assert_eq!(run("personality", 0), libc::SECCOMP_RET_ALLOW);
        assert_eq!(run("read", 0), libc::SECCOMP_RET_ALLOW);
    }

    #[test]
    fn malformed_profiles_are_refused_with_the_reason() {
        let err = |json: &str| parse_for(json, CapSet::docker_default(), &host()).unwrap_err().to_string();
        assert!(err("{").contains("invalid JSON"));
        assert!(err(r#"{"defaultAction":"SCMP_ACT_NOPE"}"#).contains("unknown action \"SCMP_ACT_NOPE\""));
        assert!(err(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":7,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#)
            .contains("out of range"));
        assert!(err(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"LIKE"}]}]}"#)
            .contains("unknown comparison"));
        assert!(err(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"action":"SCMP_ACT_ERRNO"}]}"#)
            .contains("names no syscall"));
    }
}
