//! The mount namespace containers start from: a copy of the host's, kept in step with it (a
//! slave of its mounts), without weftd's sandbox namespaces. Each of those is a mount under the
//! exec root, so a copy of the host's namespace grows by one mount per running container, and
//! every step of a start that copies or walks the mount table (the new namespace, the host root's
//! recursive bind, the pivot) would cost more with each container running. Started from the
//! template, a start costs the same with 1 or 1000 containers.

use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

use super::RuntimeError;

/// A mount namespace, held open by a descriptor (see the module docs).
#[derive(Debug)]
pub struct MountTemplate {
    ns: OwnedFd,
}

impl MountTemplate {
    /// Make the template: the caller's mount namespace less every mount under `hidden` (the
    /// sandboxes' directory), and with the mount that holds `hidden` taking no more mounts from
    /// the host, so the sandboxes made later stay out of it too.
    pub fn new(hidden: &Path) -> Result<MountTemplate, RuntimeError> {
        let failed =
            |step: &str, source: io::Error| RuntimeError::Setup { step: format!("mount template: {step}"), source };
        let made = std::thread::scope(|s| {
            // A thread of its own: unshare changes the calling thread's mount namespace only, and
            // this one ends when the template is held by its descriptor.
            s.spawn(|| -> Result<OwnedFd, RuntimeError> {
                unshare(CloneFlags::CLONE_NEWNS).map_err(|e| failed("unshare", e.into()))?;
                mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_SLAVE, None::<&str>)
                    .map_err(|e| failed("make the copy a slave of the host's mounts", e.into()))?;
                let mounts = super::rootfs::mount_points_in("/proc/thread-self/mountinfo")
                    .map_err(|e| failed("read the mount table", e))?;
                if let Some(holder) = holder_of(&mounts, hidden) {
                    mount(None::<&str>, &holder, None::<&str>, MsFlags::MS_PRIVATE, None::<&str>)
                        .map_err(|e| failed("stop the sandboxes' mounts from reaching it", e.into()))?;
                }
                let mut under: Vec<&PathBuf> = mounts.iter().filter(|m| m.starts_with(hidden)).collect();
                under.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
                under.dedup();
                for path in under {
                    match umount2(path.as_path(), MntFlags::MNT_DETACH) {
                        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
                        Err(e) => return Err(failed("detach a sandbox's namespace", e.into())),
                    }
                }
                let ns = File::open("/proc/thread-self/ns/mnt").map_err(|e| failed("open the namespace", e))?;
                Ok(OwnedFd::from(ns))
            })
            .join()
        });
        match made {
            Ok(result) => Ok(MountTemplate { ns: result? }),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    pub(super) fn fd(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(&self.ns)
    }
}

/// The mount that holds `path`: the deepest mount point above it (not `path` itself).
fn holder_of(mounts: &[PathBuf], path: &Path) -> Option<PathBuf> {
    mounts.iter().filter(|m| path.starts_with(m) && m.as_path() != path).max_by_key(|m| m.components().count()).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holder_is_the_deepest_mount_above() {
        let mounts: Vec<PathBuf> =
            ["/", "/run", "/run/weft/netns", "/run/weft/netns/a"].iter().map(PathBuf::from).collect();
        assert_eq!(holder_of(&mounts, Path::new("/run/weft/netns")), Some(PathBuf::from("/run")));
        assert_eq!(holder_of(&mounts, Path::new("/var/lib/x")), Some(PathBuf::from("/")));
    }
}
