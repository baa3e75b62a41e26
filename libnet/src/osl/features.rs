//! What weft needs of the kernel, found by using it: a link of each kind weft makes and the DNS
//! redirect table are made in a scratch network namespace that goes away afterwards, and the
//! overlay filesystem is looked up in `/proc/filesystems`.
//!
//! Looking at module names instead (`/sys/module`, `/proc/modules`) would be wrong both ways: a
//! feature built into the kernel often has no entry there (on this project's CI host neither `veth`
//! nor `nf_tables` has one), and a module that is present may still fail to load. Making the
//! objects also loads the modules on demand, as the kernel does for weft's real ones.

use nix::libc;
use nix::sched::{unshare, CloneFlags};

use super::{nft, Netlink, OslError, Result};

/// A kernel feature weft cannot work without.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    /// Its name as users know it: `veth`, `nf_tables (nat)`, `overlay`.
    pub name: &'static str,
    /// The kernel build option that provides it.
    pub config: &'static str,
    /// What weft uses it for.
    pub used_for: &'static str,
}

impl std::fmt::Display for Feature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}: {})", self.name, self.config, self.used_for)
    }
}

const VETH: Feature = Feature { name: "veth", config: "CONFIG_VETH", used_for: "containers' links" };
const BRIDGE: Feature = Feature { name: "bridge", config: "CONFIG_BRIDGE", used_for: "bridge networks" };
const NFT_NAT: Feature = Feature {
    name: "nf_tables with nat",
    config: "CONFIG_NF_TABLES, CONFIG_NFT_NAT",
    used_for: "published ports, masquerade and the embedded DNS",
};
const OVERLAY: Feature = Feature { name: "overlay", config: "CONFIG_OVERLAY_FS", used_for: "image layers" };

/// The features of the kernel weft runs on that it needs and does not find; empty when all are
/// there. An error is a probe that could not run at all (no scratch namespace), not a missing
/// feature.
pub fn missing() -> Result<Vec<Feature>> {
    let mut missing = std::thread::scope(|s| s.spawn(probe_in_scratch_netns).join())
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    if !has_overlay() {
        missing.push(OVERLAY);
    }
    Ok(missing)
}

/// On a fresh thread that nothing else uses: unshare a network namespace, which lives only as
/// long as the thread and the sockets opened in it.
fn probe_in_scratch_netns() -> Result<Vec<Feature>> {
    unshare(CloneFlags::CLONE_NEWNET).map_err(|e| {
        OslError::new("make a scratch network namespace", Some(e as i32), format!("unshare: {}", e.desc()))
    })?;
    let mut missing = Vec::new();
    let mut nl = Netlink::new()?;
    // EOPNOTSUPP is the kernel's answer for a link kind it does not know, after it has tried
    // to load the module for it.
    let unsupported = |e: &OslError| e.errno == Some(libc::EOPNOTSUPP);
    match nl.create_veth("probe0", "probe1", None, None) {
        Err(e) if unsupported(&e) => missing.push(VETH),
        other => other?,
    }
    match nl.create_bridge("probe2", None) {
        Err(e) if unsupported(&e) => missing.push(BRIDGE),
        other => other.map(drop)?,
    }
    // The same table every sandbox gets: nat chains with dnat and snat.
    let nat = nft::Nftables::new().and_then(|mut nft| nft.commit(&nft::dns_redirect_batch(1053, 1053)));
    match nat {
        // No nfnetlink at all, an unknown subsystem, chain type or expression.
        Err(e) if matches!(e.errno, Some(libc::EPROTONOSUPPORT | libc::EINVAL | libc::ENOENT | libc::EOPNOTSUPP)) => {
            missing.push(NFT_NAT)
        }
        other => other?,
    }
    Ok(missing)
}

fn has_overlay() -> bool {
    let listed = || {
        std::fs::read_to_string("/proc/filesystems")
            .map(|list| list.lines().any(|line| line.split_whitespace().last() == Some("overlay")))
            .unwrap_or(false)
    };
    // A filesystem module is loaded at the first mount; load it now to know.
    listed() || (super::kmod::load_module("overlay").is_ok() && listed())
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_kernel_has_what_weft_needs() {
        assert_eq!(super::missing().expect("the probe runs"), Vec::new());
    }

    #[test]
    fn a_missing_feature_names_its_kernel_option() {
        assert_eq!(super::VETH.to_string(), "veth (CONFIG_VETH: containers' links)");
    }
}
