//! The container's system paths: a fresh `/sys` (read-only unless privileged), namespaced
//! sysctls written, Docker's masked and read-only paths, the host's devices for a privileged
//! container, and a read-only root. Prepared before the fork; applied by the init inside its mount
//! namespace, before pivot_root, with async-signal-safe calls only.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use super::confine::Confinement;
use super::rootfs::mount;
use super::spawn::{cstring, Failure};
use super::RuntimeError;

/// Directories of the host's /dev not copied into a privileged container's (they are mounts
/// of their own, or links to the process's descriptors).
const DEV_SKIPPED: [&str; 5] = ["pts", "shm", "mqueue", "fd", "hugepages"];
/// Nodes of the host's /dev that the container's /dev has its own way: its console is its
/// terminal, and `ptmx` links to its own devpts instance.
const DEV_OWN: [&str; 2] = ["console", "ptmx"];
/// At most this many host devices are copied (a bound on a strange /dev).
const MAX_DEVICES: usize = 4096;

struct HostDevice {
    path: CString,
    mode: libc::mode_t,
    rdev: libc::dev_t,
}

/// The system paths of one container, ready for the init.
pub(super) struct SysPaths {
    sys: CString,
    sys_readonly: bool,
    sysctls: Vec<(CString, Vec<u8>)>,
    masked: Vec<CString>,
    readonly: Vec<CString>,
    /// A privileged container's: directories to make, then nodes.
    device_dirs: Vec<CString>,
    devices: Vec<HostDevice>,
    root: CString,
    readonly_root: bool,
}

fn under(root: &Path, path: &str) -> Result<CString, RuntimeError> {
    cstring(root.join(path.trim_start_matches('/')).as_os_str().as_bytes())
}

impl SysPaths {
    pub(super) fn prepare(c: &Confinement, root: &Path) -> Result<SysPaths, RuntimeError> {
        let sysctls = c
            .sysctls
            .iter()
            .map(|(key, value)| {
                let path = format!("/proc/sys/{}", key.replace('.', "/"));
                Ok((under(root, &path)?, value.clone().into_bytes()))
            })
            .collect::<Result<_, RuntimeError>>()?;
        let list = |paths: &[String]| paths.iter().map(|p| under(root, p)).collect::<Result<Vec<_>, _>>();
        let (device_dirs, devices) = if c.privileged { host_devices(root)? } else { (Vec::new(), Vec::new()) };
        Ok(SysPaths {
            sys: under(root, "/sys")?,
            sys_readonly: !c.privileged,
            sysctls,
            masked: list(&c.masked_paths)?,
            readonly: list(&c.readonly_paths)?,
            device_dirs,
            devices,
            root: cstring(root.as_os_str().as_bytes())?,
            readonly_root: c.readonly_rootfs,
        })
    }

    /// After /proc is mounted: the sysctls, through the container's own /proc (the init is in
    /// its namespaces already), then a fresh /sys.
    pub(super) fn mount_sys(&self) -> Result<(), Failure> {
        for (path, value) in &self.sysctls {
            // SAFETY: a valid NUL-terminated path and a buffer of the length passed.
            unsafe {
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 {
                    return Err(Failure::errno("open a sysctl"));
                }
                let written = libc::write(fd, value.as_ptr().cast(), value.len());
                let errno = super::spawn::last_errno();
                libc::close(fd);
                if written < 0 {
                    return Err(Failure { step: "write a sysctl", errno });
                }
            }
        }
        // SAFETY: a valid NUL-terminated path.
        unsafe { libc::mkdir(self.sys.as_ptr(), 0o755) };
        let mut flags = libc::MS_NOSUID | libc::MS_NOEXEC | libc::MS_NODEV;
        if self.sys_readonly {
            flags |= libc::MS_RDONLY;
        }
        match mount(Some(c"sysfs"), &self.sys, Some(c"sysfs"), flags, None) {
            Ok(()) => Ok(()),
            // The caller's network namespace (`--network host`) already has its sysfs, mounted
            // with other flags: the host's /sys then, bound (read-only unless privileged), as
            // runc falls back to.
            Err(e) if e.errno() == libc::EBUSY || e.errno() == libc::EPERM => {
                mount(Some(c"/sys"), &self.sys, None, libc::MS_BIND | libc::MS_REC, None)
                    .map_err(|e| e.at("bind the host's /sys"))?;
                if self.sys_readonly {
                    super::rootfs::read_only_recursive(&self.sys).map_err(|e| e.at("make /sys read-only"))?;
                }
                Ok(())
            }
            Err(e) => Err(e.at("mount /sys")),
        }
    }

    /// After /dev is mounted and its usual nodes bound: a privileged container's copies of the
    /// host's other devices.
    pub(super) fn make_devices(&self) -> Result<(), Failure> {
        for dir in &self.device_dirs {
            // SAFETY: a valid NUL-terminated path; an existing directory is fine.
            unsafe { libc::mkdir(dir.as_ptr(), 0o755) };
        }
        for device in &self.devices {
            // SAFETY: a valid NUL-terminated path; mode and rdev are plain integers.
            if unsafe { libc::mknod(device.path.as_ptr(), device.mode, device.rdev) } != 0
                && super::spawn::last_errno() != libc::EEXIST
            {
                return Err(Failure::errno("make a device node in /dev"));
            }
        }
        Ok(())
    }

    /// Last before pivot_root: read-only paths, masked paths, and the read-only root.
    pub(super) fn seal(&self) -> Result<(), Failure> {
        for path in &self.readonly {
            match mount(Some(path), path, None, libc::MS_BIND | libc::MS_REC, None) {
                Ok(()) => {}
                Err(e) if e.errno() == libc::ENOENT => continue,
                Err(e) => return Err(e.at("bind a read-only path")),
            }
            let flags =
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
            mount(None, path, None, flags, None).map_err(|e| e.at("make a path read-only"))?;
        }
        for path in &self.masked {
            // SAFETY: an all-zero `stat` is a valid value of that plain C struct.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: a valid NUL-terminated path and a stat buffer of the right type.
            if unsafe { libc::stat(path.as_ptr(), &mut st) } != 0 {
                continue;
            }
            let masked = if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
                mount(Some(c"tmpfs"), path, Some(c"tmpfs"), libc::MS_RDONLY, None)
            } else {
                mount(Some(c"/dev/null"), path, None, libc::MS_BIND, None)
            };
            masked.map_err(|e| e.at("mask a path"))?;
        }
        if self.readonly_root {
            let flags = libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY;
            mount(None, &self.root, None, flags, None).map_err(|e| e.at("make the root read-only"))?;
        }
        Ok(())
    }
}

/// The host's device nodes under /dev (char and block), for a privileged container: the
/// directories to make and the nodes, as paths under the container's root.
fn host_devices(root: &Path) -> Result<(Vec<CString>, Vec<HostDevice>), RuntimeError> {
    let mut dirs = Vec::new();
    let mut devices = Vec::new();
    let mut pending = vec![std::path::PathBuf::from("/dev")];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            let ft = meta.file_type();
            if ft.is_dir() {
                let name = entry.file_name();
                if dir == Path::new("/dev") && DEV_SKIPPED.iter().any(|s| name.as_bytes() == s.as_bytes()) {
                    continue;
                }
                dirs.push(under(root, &path.to_string_lossy())?);
                pending.push(path);
            } else if (ft.is_char_device() || ft.is_block_device()) && devices.len() < MAX_DEVICES {
                if dir == Path::new("/dev") && DEV_OWN.iter().any(|n| entry.file_name() == *n) {
                    continue;
                }
                devices.push(HostDevice {
                    path: under(root, &path.to_string_lossy())?,
                    mode: meta.mode() as libc::mode_t,
                    rdev: meta.rdev() as libc::dev_t,
                });
            }
        }
    }
    dirs.sort();
    Ok((dirs, devices))
}
