//! Loading a kernel module weft needs that the kernel does not load by itself (`br_netfilter`, for
//! icc=false: distribution kernels build it as a module, and nothing asks for it on its own).

use super::{OslError, Result};

/// Load module `name` with `modprobe`, as dockerd does, unless it is there already (built in or
/// loaded: `/sys/module/<name>`). Loading a module is not something weft can do by netlink, and
/// finding its file and dependencies is modprobe's job.
pub fn load_module(name: &str) -> Result<()> {
    if std::path::Path::new("/sys/module").join(name).exists() {
        return Ok(());
    }
    let op = format!("load kernel module {name}");
    let out = std::process::Command::new("modprobe")
        .args(["-q", "--", name])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| OslError::io(op.clone(), e))?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
    Err(OslError::new(op, None, if said.is_empty() { format!("modprobe exited with {}", out.status) } else { said }))
}
