//! File bind mounts over paths inside the container's root (its `/etc/hosts`, `/etc/hostname`,
//! `/etc/resolv.conf`): resolved and checked before the fork, made by the init after the root's
//! own mounts and before pivot_root.
//!
//! A target is resolved as it would be inside the container: symlinks are followed within the
//! root (an absolute link restarts at the container's `/`, not the host's), so a Debian
//! `/etc/resolv.conf -> /run/systemd/resolve/stub-resolv.conf` binds onto the file the container
//! will actually read. Paths under the container's private `/tmp`, `/run` and `/dev` (fresh tmpfs
//! mounts) are created there; on the read-only host root a target must already exist; on an
//! image's overlay a missing target (and its directories) is created in the writable root.

use std::collections::VecDeque;
use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::path::{Component, Path, PathBuf};

use super::rootfs::{mount, MountErrno};
use super::spawn::{cstring, Failure};
use super::{FileBind, RuntimeError};

/// Directories the container gets as fresh tmpfs mounts, whatever the root holds there.
const PRIVATE_TMPFS: [&str; 3] = ["/tmp", "/run", "/dev"];
/// How many symlinks one target may go through, as the kernel's limit.
const MAX_SYMLINKS: usize = 40;

/// One bind, ready for the init: every path absolute on the host, under the new root.
pub(super) struct PreparedBind {
    source: CString,
    target: CString,
    /// Directories to make first, outermost first.
    make_dirs: Vec<CString>,
    /// Whether the target file must be made before binding over it.
    create: bool,
}

/// Check and resolve `binds` for a root whose files are read from `base` (the host's `/` or the
/// image directory), to be mounted under `root` (the new root's mount point). `writable`: the
/// root itself takes new files (an overlay), so missing targets are created.
pub(super) fn prepare(
    binds: &[FileBind],
    base: &Path,
    root: &Path,
    writable: bool,
) -> Result<Vec<PreparedBind>, RuntimeError> {
    binds.iter().map(|bind| prepare_one(bind, base, root, writable)).collect()
}

fn prepare_one(bind: &FileBind, base: &Path, root: &Path, writable: bool) -> Result<PreparedBind, RuntimeError> {
    let refuse = |why: String| {
        RuntimeError::InvalidSpec(format!(
            "cannot bind {} to {} in the container: {why}",
            bind.source.display(),
            bind.target.display()
        ))
    };
    let source = bind.source.canonicalize().map_err(|e| refuse(format!("source: {e}")))?;
    if !source.is_file() {
        return Err(refuse("the source is not a regular file".into()));
    }
    let target = resolve_in_root(base, &bind.target).map_err(refuse)?;
    if target.starts_with("/proc") {
        return Err(refuse(format!("{} is in the container's /proc", target.display())));
    }
    let in_tmpfs = PRIVATE_TMPFS.iter().find(|dir| target.starts_with(dir) && target != Path::new(dir));
    let mut make_dirs = Vec::new();
    let create;
    if let Some(tmpfs) = in_tmpfs {
        // The tmpfs is empty when the init mounts it: every directory below it is ours to make.
        let mut dirs: Vec<&Path> = target.ancestors().skip(1).take_while(|d| d != &Path::new(tmpfs)).collect();
        dirs.reverse();
        make_dirs = dirs.into_iter().map(|d| under(root, d)).collect::<Result<_, _>>()?;
        create = true;
    } else {
        match std::fs::metadata(under_path(base, &target)) {
            Ok(m) if m.is_dir() => return Err(refuse(format!("{} is a directory", target.display()))),
            Ok(_) => create = false,
            Err(e) if e.kind() == io::ErrorKind::NotFound && writable => {
                let mut dirs = Vec::new();
                for dir in target.ancestors().skip(1) {
                    match std::fs::metadata(under_path(base, dir)) {
                        Ok(m) if m.is_dir() => break,
                        Ok(_) => return Err(refuse(format!("{} is not a directory", dir.display()))),
                        Err(_) => dirs.push(dir),
                    }
                }
                dirs.reverse();
                make_dirs = dirs.into_iter().map(|d| under(root, d)).collect::<Result<_, _>>()?;
                create = true;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(refuse(format!("{} does not exist in the read-only root", target.display())))
            }
            Err(e) => return Err(refuse(format!("{}: {e}", target.display()))),
        }
    }
    Ok(PreparedBind {
        source: cstring(source.into_os_string().into_vec())?,
        target: under(root, &target)?,
        make_dirs,
        create,
    })
}

/// `path` (absolute, in the container) under `dir` on the host.
fn under_path(dir: &Path, path: &Path) -> PathBuf {
    dir.join(path.strip_prefix("/").unwrap_or(path))
}

fn under(dir: &Path, path: &Path) -> Result<CString, RuntimeError> {
    cstring(under_path(dir, path).into_os_string().into_vec())
}

/// `target` with every symlink resolved as inside a root whose files are under `base`: the
/// in-container path, absolute, with no `.`, `..` or links. Resolution stops at a missing
/// component (the rest is taken as written) and at the private tmpfs directories, whose host
/// content the container never sees.
fn resolve_in_root(base: &Path, target: &Path) -> Result<PathBuf, String> {
    if !target.is_absolute() {
        return Err(format!("the target {} is not an absolute path", target.display()));
    }
    let mut pending: VecDeque<PathBuf> = target.components().map(|c| PathBuf::from(c.as_os_str())).collect();
    let mut resolved = PathBuf::from("/");
    let mut links = 0;
    let mut following = true;
    while let Some(part) = pending.pop_front() {
        match part.components().next() {
            None | Some(Component::RootDir) | Some(Component::CurDir) => continue,
            Some(Component::ParentDir) => {
                resolved.pop();
                continue;
            }
            Some(Component::Prefix(_)) => return Err(format!("unexpected path {}", target.display())),
            Some(Component::Normal(_)) => {}
        }
        let next = resolved.join(&part);
        if following && PRIVATE_TMPFS.iter().any(|d| Path::new(d) == next) {
            following = false;
        }
        if !following {
            resolved = next;
            continue;
        }
        match std::fs::symlink_metadata(under_path(base, &next)) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(format!("too many levels of symbolic links in {}", target.display()));
                }
                let link =
                    std::fs::read_link(under_path(base, &next)).map_err(|e| format!("{}: {e}", next.display()))?;
                if link.is_absolute() {
                    resolved = PathBuf::from("/");
                }
                for c in link.components().rev() {
                    pending.push_front(PathBuf::from(c.as_os_str()));
                }
            }
            Ok(_) => resolved = next,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                resolved = next;
                following = false;
            }
            Err(e) => return Err(format!("{}: {e}", next.display())),
        }
    }
    Ok(resolved)
}

/// Make the binds. Runs in the forked init, after the root's mounts: async-signal-safe calls only.
pub(super) fn apply(binds: &[PreparedBind]) -> Result<(), Failure> {
    for bind in binds {
        for dir in &bind.make_dirs {
            // SAFETY: a valid NUL-terminated path. An existing directory is fine; any other
            // failure shows in the open or mount below.
            unsafe { libc::mkdir(dir.as_ptr(), 0o755) };
        }
        if bind.create {
            // SAFETY: a valid NUL-terminated path; the fd returned is closed right away.
            let fd = unsafe {
                libc::open(
                    bind.target.as_ptr(),
                    libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
                    0o644,
                )
            };
            if fd < 0 {
                return Err(Failure::errno("create a bind target in the container"));
            }
            // SAFETY: `fd` was just opened by us and is not used after.
            unsafe { libc::close(fd) };
        }
        // Read-write, as Docker binds these files: the container's writes go to the engine's copy.
        mount(Some(&bind.source), &bind.target, None, libc::MS_BIND, None)
            .map_err(|e: MountErrno| e.at("bind a file into the container"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A scratch root, removed on drop.
    struct Tree(PathBuf);

    impl Tree {
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn tree() -> Tree {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = Tree(std::env::temp_dir().join(format!("weft-binds-test-{}-{n}", std::process::id())));
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::create_dir_all(dir.path().join("run/systemd/resolve")).unwrap();
        std::fs::write(dir.path().join("etc/hosts"), "x").unwrap();
        dir
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let base = tree();
        let b = base.path();
        symlink("/run/systemd/resolve/stub-resolv.conf", b.join("etc/resolv.conf")).unwrap();
        symlink("../etc/hosts", b.join("etc/rel")).unwrap();
        symlink("/etc/loop", b.join("etc/loop")).unwrap();
        let r = |p: &str| resolve_in_root(b, Path::new(p));
        assert_eq!(r("/etc/hosts").unwrap(), Path::new("/etc/hosts"));
        assert_eq!(r("/etc/resolv.conf").unwrap(), Path::new("/run/systemd/resolve/stub-resolv.conf"));
        assert_eq!(r("/etc/rel").unwrap(), Path::new("/etc/hosts"));
        assert_eq!(r("/etc/./missing/x").unwrap(), Path::new("/etc/missing/x"));
        assert_eq!(r("/../etc/hosts").unwrap(), Path::new("/etc/hosts"));
        assert!(r("/etc/loop").unwrap_err().contains("too many levels"));
        assert!(r("etc/hosts").is_err());
    }

    #[test]
    fn targets_are_checked_before_the_fork() {
        let base = tree();
        let b = base.path();
        let source = b.join("etc/hosts");
        let bind = |target: &str| FileBind { source: source.clone(), target: target.into() };
        let root = Path::new("/state/rootfs");
        // An existing file on a read-only root: bound as is.
        let p = prepare_one(&bind("/etc/hosts"), b, root, false).unwrap();
        assert!(!p.create && p.make_dirs.is_empty());
        assert_eq!(p.target.to_str().unwrap(), "/state/rootfs/etc/hosts");
        // A missing one: refused on a read-only root, created on a writable one.
        let err = prepare_one(&bind("/etc/hostname"), b, root, false).err().unwrap().to_string();
        assert!(err.contains("/etc/hostname does not exist in the read-only root"), "{err}");
        let p = prepare_one(&bind("/srv/a/b"), b, root, true).unwrap();
        assert!(p.create);
        let dirs: Vec<&str> = p.make_dirs.iter().map(|d| d.to_str().unwrap()).collect();
        assert_eq!(dirs, ["/state/rootfs/srv", "/state/rootfs/srv/a"]);
        // Under a private tmpfs: made there, whatever the root holds.
        symlink("/run/systemd/resolve/stub-resolv.conf", b.join("etc/resolv.conf")).unwrap();
        let p = prepare_one(&bind("/etc/resolv.conf"), b, root, false).unwrap();
        assert!(p.create);
        let dirs: Vec<&str> = p.make_dirs.iter().map(|d| d.to_str().unwrap()).collect();
        assert_eq!(dirs, ["/state/rootfs/run/systemd", "/state/rootfs/run/systemd/resolve"]);
        // Directories and /proc are refused.
        assert!(prepare_one(&bind("/etc"), b, root, true).err().unwrap().to_string().contains("is a directory"));
        assert!(prepare_one(&bind("/proc/x"), b, root, true).is_err());
        let missing = FileBind { source: b.join("nope"), target: "/etc/hosts".into() };
        assert!(prepare_one(&missing, b, root, true).is_err());
    }
}
