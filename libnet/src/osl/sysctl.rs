//! Sysctls of the calling thread's network namespace, by their /proc/sys path.

use super::Result;

/// Write `value` to `/proc/sys/<key>`, e.g. `set_sysctl("net/ipv6/conf/all/disable_ipv6", "0")`.
pub fn set_sysctl(key: &str, value: &str) -> Result<()> {
    todo!("osl helper {key} {value}")
}

/// Read `/proc/sys/<key>`, trimmed.
pub fn get_sysctl(key: &str) -> Result<String> {
    todo!("osl helper {key}")
}
