//! Sysctls, read and written by their /proc/sys path.
//!
//! `/proc/sys/net` shows the network namespace of the thread that opens the file, so these run
//! inside [`Netns::run`](super::Netns::run) to touch another namespace's settings. Keys outside
//! `net/` (`kernel/osrelease`, say) do not depend on the network namespace.

use std::path::PathBuf;

use super::{OslError, Result};

/// Write `value` to `/proc/sys/<key>`, e.g. `set_sysctl("net/ipv6/conf/all/disable_ipv6", "0")`.
pub fn set_sysctl(key: &str, value: &str) -> Result<()> {
    let op = || format!("set sysctl {key} to {value}");
    let path = sysctl_path(key).map_err(|detail| OslError::new(op(), Some(nix::libc::EINVAL), detail))?;
    std::fs::write(path, value).map_err(|e| OslError::io(op(), e))
}

/// Read `/proc/sys/<key>`, trimmed.
pub fn get_sysctl(key: &str) -> Result<String> {
    let op = || format!("read sysctl {key}");
    let path = sysctl_path(key).map_err(|detail| OslError::new(op(), Some(nix::libc::EINVAL), detail))?;
    let value = std::fs::read_to_string(path).map_err(|e| OslError::io(op(), e))?;
    Ok(value.trim().to_string())
}

/// `/proc/sys/<key>`, for a key that stays inside /proc/sys (keys can come from user options).
fn sysctl_path(key: &str) -> std::result::Result<PathBuf, String> {
    let bad = key.is_empty()
        || key.starts_with('/')
        || key.contains('\0')
        || key.split('/').any(|part| part.is_empty() || part == "." || part == "..");
    if bad {
        return Err(format!("`{key}` is not a sysctl key (a path below /proc/sys such as net/ipv4/ip_forward)"));
    }
    Ok(PathBuf::from("/proc/sys").join(key))
}
