//! Network namespaces: create one bind-mounted at a path, open, delete, and run code inside one.
//!
//! A namespace is switched per thread (`setns` affects only the calling thread), so code runs in
//! another namespace on a fresh thread that is thrown away afterwards: no thread of the process is
//! ever left in a namespace it did not start in.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use super::{OslError, Result};

/// The calling thread's own namespace file; per thread, unlike `/proc/self`.
const THREAD_NETNS: &str = "/proc/thread-self/ns/net";

/// Bound on the bind mounts stacked on one path that `delete` takes off.
const MAX_STACKED_MOUNTS: usize = 16;

/// An open network namespace.
#[derive(Debug)]
pub struct Netns {
    file: File,
    path: Option<PathBuf>,
}

impl Netns {
    /// The namespace of the calling thread.
    pub fn current() -> Result<Netns> {
        let file = File::open(THREAD_NETNS).map_err(|e| OslError::io("open the current network namespace", e))?;
        Ok(Netns { file, path: None })
    }

    /// Open the namespace bind-mounted (or linked under /proc) at `path`.
    pub fn open(path: &Path) -> Result<Netns> {
        let file =
            File::open(path).map_err(|e| OslError::io(format!("open network namespace {}", path.display()), e))?;
        Ok(Netns { file, path: Some(path.to_path_buf()) })
    }

    /// Create a new namespace and bind-mount it at `path` (parent directories are created).
    /// Its loopback is left down; the caller brings it up.
    ///
    /// A file already at `path` is an error (EEXIST): it may be another live namespace.
    pub fn create(path: &Path) -> Result<Netns> {
        let op = || format!("create network namespace {}", path.display());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| OslError::io(op(), e))?;
        }
        // The mount point: an empty file, as a namespace file is not a directory.
        OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| OslError::io(op(), e))?;

        // The new namespace lives on the fresh thread only until the bind mount holds it; the
        // thread then ends and no other thread ever sees it.
        let mounted = std::thread::scope(|s| {
            s.spawn(|| -> std::result::Result<(), (&'static str, Errno)> {
                unshare(CloneFlags::CLONE_NEWNET).map_err(|e| ("unshare", e))?;
                mount(Some(THREAD_NETNS), path, None::<&str>, MsFlags::MS_BIND, None::<&str>)
                    .map_err(|e| ("bind-mount", e))
            })
            .join()
        });
        let mounted = match mounted {
            Ok(result) => result,
            Err(panic) => {
                let _ = std::fs::remove_file(path);
                std::panic::resume_unwind(panic)
            }
        };
        if let Err((step, errno)) = mounted {
            let _ = std::fs::remove_file(path);
            return Err(OslError::new(op(), Some(errno as i32), format!("{step}: {}", errno.desc())));
        }

        match File::open(path) {
            Ok(file) => Ok(Netns { file, path: Some(path.to_path_buf()) }),
            Err(e) => {
                let _ = umount2(path, MntFlags::MNT_DETACH);
                let _ = std::fs::remove_file(path);
                Err(OslError::io(op(), e))
            }
        }
    }

    /// Unmount and remove the namespace at `path`. A path that does not exist is not an error.
    ///
    /// The namespace itself lives on while anything still holds it (an open [`Netns`], a
    /// [`Netlink`](super::Netlink) socket opened in it, a process in it).
    pub fn delete(path: &Path) -> Result<()> {
        let op = || format!("delete network namespace {}", path.display());
        for _ in 0..MAX_STACKED_MOUNTS {
            match umount2(path, MntFlags::MNT_DETACH) {
                Ok(()) => continue,
                // Not (or no longer) a mount point, or not there at all: nothing left to unmount.
                Err(Errno::EINVAL) | Err(Errno::ENOENT) => break,
                Err(errno) => {
                    return Err(OslError::new(op(), Some(errno as i32), format!("unmount: {}", errno.desc())))
                }
            }
        }
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(OslError::io(op(), e)),
        }
    }

    /// The path the namespace was opened or created at, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Run `f` on a fresh thread that has entered this namespace, and return its result.
    ///
    /// A panic in `f` is passed on to the caller.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T> {
        let joined = std::thread::scope(|s| {
            s.spawn(|| -> std::result::Result<T, Errno> {
                setns(&self.file, CloneFlags::CLONE_NEWNET)?;
                Ok(f())
            })
            .join()
        });
        match joined {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(errno)) => Err(OslError::new(
                format!("enter network namespace {}", self.label()),
                Some(errno as i32),
                format!("setns: {}", errno.desc()),
            )),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// How the namespace is named in messages: its path, or its descriptor.
    pub(super) fn label(&self) -> String {
        match &self.path {
            Some(path) => path.display().to_string(),
            None => format!("(fd {})", self.file.as_raw_fd()),
        }
    }
}

impl AsFd for Netns {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}
