//! A container's security settings as Docker takes them (`--privileged`, `--cap-add`,
//! `--cap-drop`, `--security-opt`, `--read-only`, `--sysctl`, `--user`, `--group-add`): checked at
//! create with Docker's refusals, and turned into the runtime's [`Confinement`] at each start.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::runtime::caps::{self, CapSet};
use crate::runtime::seccomp::{self, Program};
use crate::runtime::{Confinement, ProcessLimits, User, MASKED_PATHS, READONLY_PATHS};

/// sysctls of the IPC namespace that a container may set (each container has its own).
const IPC_SYSCTLS: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The settings, as a client gives them (`HostConfig` and `Config.User`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityConfig {
    #[serde(default)]
    pub privileged: bool,
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub cap_drop: Vec<String>,
    /// `HostConfig.SecurityOpt`: `seccomp=unconfined|<profile JSON>`, `no-new-privileges[:true]`,
    /// `systempaths=unconfined`, `apparmor=unconfined`, `label=disable`.
    #[serde(default)]
    pub security_opt: Vec<String>,
    #[serde(default)]
    pub readonly_rootfs: bool,
    #[serde(default)]
    pub sysctls: BTreeMap<String, String>,
    /// `user[:group]`, names or numbers; empty for root.
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub group_add: Vec<String>,
}

/// What `--security-opt` asks for, parsed.
#[derive(Debug, Default)]
struct Options {
    seccomp: Seccomp,
    no_new_privileges: bool,
    unconfined_paths: bool,
}

#[derive(Debug, Default)]
enum Seccomp {
    #[default]
    Default,
    Unconfined,
    Profile(String),
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn parse_options(opts: &[String]) -> Result<Options, String> {
    let mut parsed = Options::default();
    for opt in opts {
        // Docker still takes `key:value` for these two.
        let (key, value) = match opt.split_once('=') {
            Some(kv) => kv,
            None => match opt.split_once(':') {
                Some((k, v)) if k == "no-new-privileges" || k == "label" || k == "apparmor" => (k, v),
                _ if opt == "no-new-privileges" => ("no-new-privileges", "true"),
                _ => return Err(format!("invalid --security-opt 1: {opt:?}")),
            },
        };
        match key {
            "seccomp" if value == "unconfined" => parsed.seccomp = Seccomp::Unconfined,
            "seccomp" if value == "builtin" || value.is_empty() => parsed.seccomp = Seccomp::Default,
            "seccomp" if value.trim_start().starts_with('{') => parsed.seccomp = Seccomp::Profile(value.to_string()),
            "seccomp" => {
                return Err(format!(
                    "invalid seccomp profile {value:?}: give the profile's JSON (the weft and docker clients read \
                     the file and send its content)"
                ))
            }
            "no-new-privileges" => {
                parsed.no_new_privileges = match value {
                    "" | "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(format!("invalid --security-opt 2: {opt:?}")),
                }
            }
            "systempaths" if value == "unconfined" => parsed.unconfined_paths = true,
            "systempaths" => return Err(format!("invalid --security-opt 2: {opt:?}")),
            // No AppArmor or SELinux confinement here: only the values that ask for none.
            "apparmor" if value == "unconfined" => {}
            "label" if value == "disable" => {}
            "apparmor" | "label" => {
                return Err(format!(
                    "--security-opt {key}={value}: weft confines containers with capabilities, seccomp and \
                     masked paths, not with {}; only {key}={} is taken",
                    if key == "apparmor" { "AppArmor" } else { "SELinux labels" },
                    if key == "apparmor" { "unconfined" } else { "disable" }
                ))
            }
            _ => return Err(format!("invalid --security-opt 2: {opt:?}")),
        }
    }
    Ok(parsed)
}

/// `net.ipv4.ip_forward` for `net/ipv4/ip_forward` too, as runc takes both.
fn sysctl_key(key: &str) -> String {
    key.replace('/', ".")
}

fn check_sysctl(key: &str, host_network: bool) -> Result<(), String> {
    let key = sysctl_key(key);
    if key.starts_with("net.") {
        if host_network {
            return Err(format!("sysctl {key:?} is not allowed in host network mode: it would change the host's"));
        }
        return Ok(());
    }
    if IPC_SYSCTLS.contains(&key.as_str()) || key.starts_with("fs.mqueue.") || key == "kernel.domainname" {
        return Ok(());
    }
    Err(format!(
        "sysctl {key:?} is not allowed: it is not namespaced, so it would change the host (a container may set \
         net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and kernel.domainname)"
    ))
}

impl SecurityConfig {
    /// From a create request's `HostConfig` and `Config`.
    pub fn from_api(body: &Value) -> SecurityConfig {
        let host = &body["HostConfig"];
        SecurityConfig {
            privileged: host["Privileged"].as_bool().unwrap_or(false),
            cap_add: strings(&host["CapAdd"]),
            cap_drop: strings(&host["CapDrop"]),
            security_opt: strings(&host["SecurityOpt"]),
            readonly_rootfs: host["ReadonlyRootfs"].as_bool().unwrap_or(false),
            sysctls: host["Sysctls"]
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
                .unwrap_or_default(),
            user: body["User"].as_str().unwrap_or_default().to_string(),
            group_add: strings(&host["GroupAdd"]),
        }
    }

    /// Docker's refusals, at create, so a container that could never start is not made.
    pub fn validate(&self, host_network: bool) -> Result<(), String> {
        for cap in self.cap_add.iter().chain(&self.cap_drop) {
            caps::validate(cap)?;
        }
        let options = parse_options(&self.security_opt)?;
        for key in self.sysctls.keys() {
            check_sysctl(key, host_network)?;
        }
        if let Seccomp::Profile(json) = &options.seccomp {
            let caps = self.capabilities();
            let profile = seccomp::parse_profile(json, caps).map_err(|e| e.to_string())?;
            seccomp::compile(&profile).map_err(|e| e.to_string())?;
        }
        parse_user(&self.user)?;
        Ok(())
    }

    /// The user and groups exist in the container whose files are under `root` (checked at
    /// create so a run that cannot start makes nothing; checked again at each start).
    pub fn check_user(&self, root: &Path) -> Result<(), String> {
        resolve_user(&self.user, &self.group_add, root).map(|_| ())
    }

    fn capabilities(&self) -> CapSet {
        caps::effective(self.privileged, &self.cap_add, &self.cap_drop)
    }

    /// The runtime's confinement for a start; `root` is where the container's `/etc/passwd` and
    /// `/etc/group` are read (the image, or `/` for hostfs). `hidden` are directories of the host
    /// the container must not see (weftd's own roots, for the host's root filesystem).
    pub fn confinement(&self, root: &Path, hidden: &[String]) -> Result<(Confinement, Option<String>), String> {
        let options = parse_options(&self.security_opt)?;
        let (user, home) = resolve_user(&self.user, &self.group_add, root)?;
        let unconfined_paths = self.privileged || options.unconfined_paths;
        let list =
            |paths: &[&str]| if unconfined_paths { Vec::new() } else { paths.iter().map(|p| p.to_string()).collect() };
        let mut masked_paths = list(&MASKED_PATHS);
        masked_paths.extend(hidden.iter().cloned());
        let confinement = Confinement {
            process: self.limits(&options, user)?,
            masked_paths,
            readonly_paths: list(&READONLY_PATHS),
            privileged: self.privileged,
            readonly_rootfs: self.readonly_rootfs,
            sysctls: self.sysctls.iter().map(|(k, v)| (sysctl_key(k), v.clone())).collect(),
        };
        Ok((confinement, home))
    }

    /// The limits of an `exec`'d process: the container's, as another `user` if given, with every
    /// capability for `privileged` (as Docker's `exec --privileged`).
    pub fn exec_limits(&self, root: &Path, user: Option<&str>, privileged: bool) -> Result<ProcessLimits, String> {
        let options = parse_options(&self.security_opt)?;
        let (user, _) = resolve_user(user.unwrap_or(&self.user), &self.group_add, root)?;
        let mut limits = self.limits(&options, user)?;
        if privileged {
            limits.capabilities = CapSet::all();
        }
        Ok(limits)
    }

    fn limits(&self, options: &Options, user: User) -> Result<ProcessLimits, String> {
        let capabilities = self.capabilities();
        // As dockerd: a privileged container runs without a filter, whatever was asked.
        let seccomp = match (&options.seccomp, self.privileged) {
            (_, true) | (Seccomp::Unconfined, _) => None,
            (Seccomp::Default, false) => Some(default_program(capabilities)?),
            (Seccomp::Profile(json), false) => {
                let profile = seccomp::parse_profile(json, capabilities).map_err(|e| e.to_string())?;
                Some(Arc::new(seccomp::compile(&profile).map_err(|e| e.to_string())?))
            }
        };
        Ok(ProcessLimits { capabilities, seccomp, no_new_privileges: options.no_new_privileges, user })
    }

    /// `HostConfig.SecurityOpt` as `inspect` shows it: what was given, and `label=disable` for a
    /// privileged container as Docker adds it.
    pub fn shown_security_opt(&self) -> Option<Vec<String>> {
        let mut opts = self.security_opt.clone();
        if self.privileged && !opts.iter().any(|o| o == "label=disable") {
            opts.push("label=disable".into());
        }
        Some(opts).filter(|o| !o.is_empty())
    }

    /// `HostConfig.MaskedPaths` and `ReadonlyPaths` as `inspect` shows them.
    pub fn shown_paths(&self) -> (Vec<&'static str>, Vec<&'static str>) {
        let options = parse_options(&self.security_opt).unwrap_or_default();
        if self.privileged || options.unconfined_paths {
            (Vec::new(), Vec::new())
        } else {
            (MASKED_PATHS.to_vec(), READONLY_PATHS.to_vec())
        }
    }
}

/// Docker's default filter for a capability set, compiled once per set.
fn default_program(caps: CapSet) -> Result<Arc<Program>, String> {
    static CACHE: OnceLock<Mutex<HashMap<CapSet, Arc<Program>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(p) = cache.lock().ok().and_then(|c| c.get(&caps).cloned()) {
        return Ok(p);
    }
    let program = Arc::new(seccomp::compile(&seccomp::default_profile(caps)).map_err(|e| e.to_string())?);
    if let Ok(mut c) = cache.lock() {
        c.insert(caps, program.clone());
    }
    Ok(program)
}

/// `user[:group]` split, with Docker's refusal of an empty part.
fn parse_user(spec: &str) -> Result<(Option<&str>, Option<&str>), String> {
    if spec.is_empty() {
        return Ok((None, None));
    }
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    if user.is_empty() || group.is_some_and(str::is_empty) || group.is_some_and(|g| g.contains(':')) {
        return Err(format!("invalid user {spec:?}: give user[:group], names or numbers"));
    }
    Ok((Some(user), group))
}

/// One line of `/etc/passwd` or `/etc/group`, split on `:`.
fn entries(root: &Path, file: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split(':').map(str::to_string).collect::<Vec<_>>())
        .collect()
}

/// The ids of `spec` (`user[:group]`) in the container whose root is `root`, its supplementary
/// groups (the groups listing it, else its own group, plus `group_add`), and its home directory.
/// As Docker: a number not in `/etc/passwd` is taken as is with group 0; a name must be there.
fn resolve_user(spec: &str, group_add: &[String], root: &Path) -> Result<(User, Option<String>), String> {
    let (user, group) = parse_user(spec)?;
    let passwd = entries(root, "etc/passwd");
    let groups = entries(root, "etc/group");
    let field = |e: &Vec<String>, i: usize| e.get(i).cloned().unwrap_or_default();
    let number = |e: &Vec<String>, i: usize| e.get(i).and_then(|v| v.parse::<u32>().ok());
    let entry = user.map(|u| {
        passwd.iter().find(|e| field(e, 0) == u || (u.parse::<u32>().is_ok() && number(e, 2) == u.parse().ok()))
    });
    let (uid, mut gid, name, home) = match (user, entry.flatten()) {
        (None, _) => {
            let root_entry = passwd.iter().find(|e| number(e, 2) == Some(0));
            (0, 0, root_entry.map(|e| field(e, 0)).unwrap_or_else(|| "root".into()), None)
        }
        (Some(_), Some(e)) => (
            number(e, 2).ok_or_else(|| format!("invalid /etc/passwd entry for {:?}", field(e, 0)))?,
            number(e, 3).unwrap_or(0),
            field(e, 0),
            Some(field(e, 5)).filter(|h| !h.is_empty()),
        ),
        (Some(u), None) => match u.parse::<u32>() {
            Ok(uid) => (uid, 0, String::new(), None),
            Err(_) => return Err(format!("unable to find user {u}: no matching entries in passwd file")),
        },
    };
    let find_group = |g: &str| -> Result<u32, String> {
        if let Some(e) = groups.iter().find(|e| field(e, 0) == g) {
            return number(e, 2).ok_or_else(|| format!("invalid /etc/group entry for {g:?}"));
        }
        g.parse::<u32>().map_err(|_| format!("unable to find group {g}: no matching entries in group file"))
    };
    if let Some(g) = group {
        gid = find_group(g)?;
    }
    let mut supplementary: Vec<u32> = groups
        .iter()
        .filter(|e| !name.is_empty() && field(e, 3).split(',').any(|m| m == name))
        .filter_map(|e| number(e, 2))
        .collect();
    if supplementary.is_empty() {
        supplementary.push(gid);
    }
    for g in group_add {
        supplementary.push(find_group(g)?);
    }
    supplementary.dedup();
    Ok((User { uid, gid, groups: supplementary }, home))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_options_parse_as_dockers() {
        let o = |opts: &[&str]| parse_options(&opts.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert!(matches!(o(&["seccomp=unconfined"]).unwrap().seccomp, Seccomp::Unconfined));
        assert!(matches!(o(&["seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\"}"]).unwrap().seccomp, Seccomp::Profile(_)));
        assert!(o(&["no-new-privileges"]).unwrap().no_new_privileges);
        assert!(o(&["no-new-privileges:true"]).unwrap().no_new_privileges);
        assert!(!o(&["no-new-privileges=false"]).unwrap().no_new_privileges);
        assert!(o(&["systempaths=unconfined"]).unwrap().unconfined_paths);
        assert!(o(&["apparmor=unconfined", "label=disable"]).is_ok());
        assert_eq!(o(&["foo"]).unwrap_err(), "invalid --security-opt 1: \"foo\"");
        assert_eq!(o(&["foo=bar"]).unwrap_err(), "invalid --security-opt 2: \"foo=bar\"");
        assert!(o(&["seccomp=/etc/profile.json"]).unwrap_err().contains("give the profile's JSON"));
        assert!(o(&["apparmor=docker-default"]).unwrap_err().contains("not with AppArmor"));
    }

    #[test]
    fn only_namespaced_sysctls_are_taken() {
        assert!(check_sysctl("net.ipv4.ip_forward", false).is_ok());
        assert!(check_sysctl("net/ipv4/ip_forward", false).is_ok());
        assert!(check_sysctl("net.ipv4.ip_forward", true).unwrap_err().contains("host network mode"));
        assert!(check_sysctl("kernel.shmmax", false).is_ok());
        assert!(check_sysctl("fs.mqueue.msg_max", false).is_ok());
        assert!(check_sysctl("kernel.core_pattern", false).unwrap_err().contains("not namespaced"));
        assert!(check_sysctl("vm.swappiness", false).is_err());
    }

    #[test]
    fn users_resolve_in_the_containers_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("etc/group"), "root:x:0:\nwheel:x:10:root,app\napp:x:1000:\nstaff:x:50:\n")
            .unwrap();
        let r = |spec: &str, add: &[&str]| {
            resolve_user(spec, &add.iter().map(|s| s.to_string()).collect::<Vec<_>>(), dir.path())
        };
        assert_eq!(r("", &[]).unwrap().0, User { uid: 0, gid: 0, groups: vec![10] });
        let (app, home) = r("app", &[]).unwrap();
        assert_eq!(app, User { uid: 1000, gid: 1000, groups: vec![10] });
        assert_eq!(home.as_deref(), Some("/home/app"));
        assert_eq!(r("1000:staff", &["app"]).unwrap().0, User { uid: 1000, gid: 50, groups: vec![10, 1000] });
        assert_eq!(r("4242", &[]).unwrap().0, User { uid: 4242, gid: 0, groups: vec![0] });
        assert_eq!(r("4242:4343", &[]).unwrap().0, User { uid: 4242, gid: 4343, groups: vec![4343] });
        assert!(r("ghost", &[]).unwrap_err().contains("unable to find user ghost"));
        assert!(r("app:ghosts", &[]).unwrap_err().contains("unable to find group ghosts"));
        assert!(parse_user("app:").is_err());
        assert!(parse_user(":1").is_err());
    }
}
