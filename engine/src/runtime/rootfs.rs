//! The container's root filesystem: the mounts made inside its mount namespace, then pivot_root.
//!
//! [`Plan`] is built by the caller before the fork (every path as a ready `CString`), and
//! [`Plan::enter`] runs in the forked init, where only async-signal-safe calls are allowed: no
//! allocation, raw system calls only.

use std::ffi::{CStr, CString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::spawn::{cstring, last_errno, Failure};
use super::RuntimeError;

/// mount_setattr(2): not in the libc crate for every target, so declared here.
const MOUNT_ATTR_RDONLY: u64 = 0x1;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// Device nodes bind-mounted from the host's /dev into the container's.
const DEVICES: [&str; 7] = ["null", "zero", "full", "random", "urandom", "tty", "console"];
/// How many of [`DEVICES`] are required; the rest (console) are bound only if the host has them.
const REQUIRED_DEVICES: usize = 6;
/// Symlinks in the container's /dev: (link, target).
const DEV_LINKS: [(&str, &str); 5] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

enum Lower {
    /// Bind the host's `/` recursively, read-only.
    Host,
    /// overlayfs; the mount options.
    Overlay(CString),
}

struct Device {
    host: CString,
    target: CString,
    required: bool,
}

/// The mounts of one container, prepared before the fork.
pub(super) struct Plan {
    lower: Lower,
    root: CString,
    proc_: CString,
    dev: CString,
    devices: Vec<Device>,
    dev_links: Vec<(CString, CString)>,
    dev_pts: CString,
    dev_shm: CString,
    tmp: CString,
    run: CString,
    binds: Vec<super::binds::PreparedBind>,
    sys: super::syspaths::SysPaths,
}

impl Plan {
    /// Create the directories under `state_dir` and prepare the mounts for `rootfs`, then the
    /// file binds over it.
    pub(super) fn prepare(
        rootfs: &super::Rootfs,
        state_dir: &Path,
        file_binds: &[super::FileBind],
        confinement: &super::Confinement,
    ) -> Result<Plan, RuntimeError> {
        let state_err = |source| RuntimeError::StateDir { path: state_dir.to_path_buf(), source };
        let root = state_dir.join("rootfs");
        std::fs::create_dir_all(&root).map_err(state_err)?;
        // Where the root's files are read before it is mounted, to check the binds' targets.
        let mut base = PathBuf::from("/");
        let lower = match rootfs {
            super::Rootfs::Hostfs => Lower::Host,
            super::Rootfs::Dir { image, layer } => {
                let image = image
                    .canonicalize()
                    .and_then(
                        |dir| if dir.is_dir() { Ok(dir) } else { Err(io::Error::from_raw_os_error(libc::ENOTDIR)) },
                    )
                    .map_err(|source| RuntimeError::Image { path: image.clone(), source })?;
                let layer_err = |source| RuntimeError::StateDir { path: layer.clone(), source };
                let upper = layer.join("upper");
                let work = layer.join("work");
                std::fs::create_dir_all(&upper).map_err(layer_err)?;
                std::fs::create_dir_all(&work).map_err(layer_err)?;
                let upper = upper.canonicalize().map_err(layer_err)?;
                let work = work.canonicalize().map_err(layer_err)?;
                for path in [&image, &upper, &work] {
                    // overlayfs splits its options on ',' and its layers on ':'.
                    if path.as_os_str().as_bytes().iter().any(|b| matches!(b, b',' | b':')) {
                        return Err(RuntimeError::InvalidSpec(format!(
                            "path {} contains ',' or ':', which overlayfs cannot take",
                            path.display()
                        )));
                    }
                }
                let options =
                    format!("lowerdir={},upperdir={},workdir={}", image.display(), upper.display(), work.display());
                base = image;
                Lower::Overlay(cstring(options)?)
            }
        };
        let root = root.canonicalize().map_err(state_err)?;
        let writable = matches!(lower, Lower::Overlay(_));
        let binds = super::binds::prepare(file_binds, &base, &root, writable)?;
        let at = |rel: &str| cstring(root.join(rel).into_os_string().into_vec());
        let devices = DEVICES
            .iter()
            .enumerate()
            .map(|(i, name)| {
                Ok(Device {
                    host: cstring(format!("/dev/{name}"))?,
                    target: at(&format!("dev/{name}"))?,
                    required: i < REQUIRED_DEVICES,
                })
            })
            .collect::<Result<_, RuntimeError>>()?;
        let dev_links = DEV_LINKS
            .iter()
            .map(|(link, target)| Ok((at(&format!("dev/{link}"))?, cstring(*target)?)))
            .collect::<Result<_, RuntimeError>>()?;
        Ok(Plan {
            lower,
            proc_: at("proc")?,
            dev: at("dev")?,
            devices,
            dev_links,
            dev_pts: at("dev/pts")?,
            dev_shm: at("dev/shm")?,
            tmp: at("tmp")?,
            run: at("run")?,
            binds,
            sys: super::syspaths::SysPaths::prepare(confinement, &root)?,
            root: cstring(root.into_os_string().into_vec())?,
        })
    }

    /// Make the mounts of the new root (`weft-init` then pivots into it). Runs in the cloned
    /// init, in its new mount namespace: async-signal-safe calls only.
    pub(super) fn enter(&self) -> Result<(), Failure> {
        // Nothing done below may propagate back to the host's mounts.
        mount(None, c"/", None, libc::MS_REC | libc::MS_PRIVATE, None)
            .map_err(|e| e.at("make the mount tree private"))?;
        match &self.lower {
            Lower::Host => {
                mount(Some(c"/"), &self.root, None, libc::MS_BIND | libc::MS_REC, None)
                    .map_err(|e| e.at("bind-mount the host root"))?;
                read_only_recursive(&self.root).map_err(|e| e.at("make the host root read-only"))?;
            }
            Lower::Overlay(options) => {
                mount(Some(c"overlay"), &self.root, Some(c"overlay"), 0, Some(options))
                    .map_err(|e| e.at("mount the overlay root"))?;
            }
        }

        make_dir(&self.proc_);
        mount(Some(c"proc"), &self.proc_, Some(c"proc"), libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV, None)
            .map_err(|e| e.at("mount /proc"))?;
        self.sys.mount_sys()?;

        make_dir(&self.dev);
        mount(
            Some(c"tmpfs"),
            &self.dev,
            Some(c"tmpfs"),
            libc::MS_NOSUID | libc::MS_STRICTATIME,
            Some(c"mode=755,size=65536k"),
        )
        .map_err(|e| e.at("mount /dev"))?;
        for device in &self.devices {
            if let Err(e) = bind_device(device) {
                if device.required {
                    return Err(e);
                }
            }
        }
        self.sys.make_devices()?;
        for (link, target) in &self.dev_links {
            // SAFETY: both are valid NUL-terminated strings that outlive the call.
            if unsafe { libc::symlink(target.as_ptr(), link.as_ptr()) } != 0 {
                return Err(Failure::errno("link a file in /dev"));
            }
        }
        make_dir(&self.dev_pts);
        mount(
            Some(c"devpts"),
            &self.dev_pts,
            Some(c"devpts"),
            libc::MS_NOSUID | libc::MS_NOEXEC,
            Some(c"newinstance,ptmxmode=0666,mode=0620"),
        )
        .map_err(|e| e.at("mount /dev/pts"))?;
        make_dir(&self.dev_shm);
        let private = libc::MS_NOSUID | libc::MS_NODEV;
        mount(Some(c"shm"), &self.dev_shm, Some(c"tmpfs"), private | libc::MS_NOEXEC, Some(c"mode=1777,size=65536k"))
            .map_err(|e| e.at("mount /dev/shm"))?;

        make_dir(&self.tmp);
        mount(Some(c"tmpfs"), &self.tmp, Some(c"tmpfs"), private, Some(c"mode=1777"))
            .map_err(|e| e.at("mount /tmp"))?;
        make_dir(&self.run);
        mount(Some(c"tmpfs"), &self.run, Some(c"tmpfs"), private, Some(c"mode=755")).map_err(|e| e.at("mount /run"))?;

        // Last, so they land on top of the private tmpfs mounts too.
        super::binds::apply(&self.binds)?;
        self.sys.seal()
    }

    /// The new root's mount point, for [`pivot`].
    pub(super) fn root(&self) -> &CStr {
        &self.root
    }
}

/// Make `root` the process's root: pivot_root(".", ".") stacks the old root on the new one;
/// detaching it leaves only the new.
pub(super) fn pivot(root: &CStr) -> Result<(), Failure> {
    // SAFETY: `root` is a valid NUL-terminated path; chdir has no memory effects.
    if unsafe { libc::chdir(root.as_ptr()) } != 0 {
        return Err(Failure::errno("enter the new root"));
    }
    // SAFETY: both arguments are valid NUL-terminated strings; the syscall takes two paths.
    if unsafe { libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) } != 0 {
        return Err(Failure::errno("pivot_root into the new root"));
    }
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::umount2(c".".as_ptr(), libc::MNT_DETACH) } != 0 {
        return Err(Failure::errno("detach the old root"));
    }
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::chdir(c"/".as_ptr()) } != 0 {
        return Err(Failure::errno("enter the new root"));
    }
    Ok(())
}

fn bind_device(device: &Device) -> Result<(), Failure> {
    // SAFETY: a valid NUL-terminated path; the fd returned is closed right away.
    let fd = unsafe { libc::open(device.target.as_ptr(), libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC, 0o666) };
    if fd < 0 {
        return Err(Failure::errno("create a device node in /dev"));
    }
    // SAFETY: `fd` was just opened by us and is not used after.
    unsafe { libc::close(fd) };
    mount(Some(&device.host), &device.target, None, libc::MS_BIND, None)
        .map_err(|e| e.at("bind a device node into /dev"))
}

/// A mount point that may be missing from an image; a failure shows in the mount that follows.
fn make_dir(path: &CStr) {
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::mkdir(path.as_ptr(), 0o755) };
}

/// A failed mount's errno, to be named by the caller with [`MountErrno::at`].
pub(super) struct MountErrno(i32);

impl MountErrno {
    pub(super) fn errno(&self) -> i32 {
        self.0
    }

    pub(super) fn at(self, step: &'static str) -> Failure {
        Failure { step, errno: self.0 }
    }
}

pub(super) fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
    data: Option<&CStr>,
) -> Result<(), MountErrno> {
    let ptr = |s: Option<&CStr>| s.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: every pointer is null or a valid NUL-terminated string that outlives the call.
    let rc = unsafe { libc::mount(ptr(source), target.as_ptr(), ptr(fstype), flags, ptr(data).cast()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(MountErrno(last_errno()))
    }
}

/// Make `path` and every mount below it read-only: mount_setattr(AT_RECURSIVE) where the kernel
/// has it (5.12+), else a read-only remount of the top mount alone.
pub(super) fn read_only_recursive(path: &CStr) -> Result<(), MountErrno> {
    let attr = MountAttr { attr_set: MOUNT_ATTR_RDONLY, attr_clr: 0, propagation: 0, userns_fd: 0 };
    // SAFETY: `path` is a valid NUL-terminated string and `attr` a valid mount_attr of the size
    // passed; the kernel only reads both.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::AT_RECURSIVE,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if rc == 0 {
        return Ok(());
    }
    if last_errno() != libc::ENOSYS {
        return Err(MountErrno(last_errno()));
    }
    mount(None, path, None, libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY, None)
}

/// Every mount point in the caller's mount namespace. The kernel writes the whole table on each
/// read (a line per sandbox's namespace too), so a caller with many directories to check reads it
/// once.
pub(super) fn mount_points() -> io::Result<Vec<PathBuf>> {
    mount_points_in("/proc/self/mountinfo")
}

/// [`mount_points`] of the mount namespace whose `mountinfo` is at `path` (the calling thread's
/// is `/proc/thread-self/mountinfo`).
pub(super) fn mount_points_in(path: &str) -> io::Result<Vec<PathBuf>> {
    let mountinfo = std::fs::read_to_string(path)?;
    Ok(mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape_mountinfo(field)))
        .collect())
}

/// mountinfo writes space, tab, newline and backslash in paths as `\ooo` octal escapes.
fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 3 < bytes.len() && bytes[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b)) {
            out.push((bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_decoded() {
        assert_eq!(unescape_mountinfo(r"/tmp/a\040b"), "/tmp/a b");
        assert_eq!(unescape_mountinfo(r"/x\134y"), r"/x\y");
        assert_eq!(unescape_mountinfo("/plain"), "/plain");
        assert_eq!(unescape_mountinfo(r"/end\04"), r"/end\04");
    }
}
