//! The kernel weftd runs on, checked at start: the oldest version weft supports (and is tested on,
//! in the VM harness of `tests/vm/`), and the features it needs (`libnet::osl::features`).

use anyhow::{bail, Context, Result};

/// The oldest kernel weft supports: Debian 12's. Features newer than it have fallbacks (nftables
/// element destroy, close_range, mount_setattr); lowering it needs a VM run on the older kernel.
pub const MINIMUM: (u32, u32) = (6, 1);

/// `6.1.0-57-amd64` → (6, 1).
pub fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Refuse a kernel older than [`MINIMUM`], naming both, or one without a feature weft needs,
/// naming each that is missing.
pub fn check() -> Result<()> {
    let release = libnet::osl::get_sysctl("kernel/osrelease").unwrap_or_default();
    match parse_release(&release) {
        Some(version) if version >= MINIMUM => {}
        Some(_) => bail!("weftd needs Linux {}.{} or later; this kernel is {}", MINIMUM.0, MINIMUM.1, release.trim()),
        None => bail!("cannot tell the kernel's version from {:?}", release.trim()),
    }
    let missing = libnet::osl::features::missing().context("cannot check the kernel's features")?;
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(ToString::to_string).collect();
        bail!("this kernel ({}) lacks what weftd needs: {}", release.trim(), list.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_compare_by_major_and_minor() {
        assert_eq!(parse_release("6.1.0-57-amd64"), Some((6, 1)));
        assert_eq!(parse_release("5.15.0-91-generic\n"), Some((5, 15)));
        assert!(parse_release("5.15.0").unwrap() < MINIMUM);
        assert!(parse_release("6.18.44-fc").unwrap() >= MINIMUM);
        assert_eq!(parse_release("bogus"), None);
    }
}
