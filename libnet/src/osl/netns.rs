//! Network namespaces: create one bind-mounted at a path, open, delete, tell two apart, and run
//! code inside one.
//!
//! A namespace is switched per thread (`setns` affects only the calling thread), so code runs in
//! another namespace on a fresh thread: one thrown away afterwards ([`Netns::run`]), or one that
//! enters the namespace before anything else and keeps serving it ([`Netns::spawn`]). No thread
//! of the process that existed before is ever moved to another namespace.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use nix::sys::statfs::{statfs, NSFS_MAGIC};

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
            Ok(Err(errno)) => Err(enter_failed(&self.label(), errno)),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }

    /// Start a thread (made by `builder`) that enters this namespace before anything else and
    /// then runs `f`: for a thread that lives on and keeps serving this namespace, where
    /// [`Netns::run`] runs one closure and waits for it.
    ///
    /// `f` is told whether the thread entered the namespace; if it could not, `f` runs in the
    /// namespace of the thread that called `spawn`. The error is `builder`'s, when no thread
    /// could be started.
    ///
    /// ```no_run
    /// use libnet::osl::Netns;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let host = Netns::current()?;
    /// let worker = host.spawn(std::thread::Builder::new().name("worker".into()), |entered| {
    ///     entered.map(|()| "serving the host namespace")
    /// })?;
    /// # let _ = worker.join();
    /// # Ok(()) }
    /// ```
    pub fn spawn<T, F>(&self, builder: std::thread::Builder, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce(Result<()>) -> T + Send + 'static,
        T: Send + 'static,
    {
        // The thread needs a descriptor of its own: `self` may be gone by the time it runs.
        let file = self.file.try_clone();
        let label = self.label();
        builder.spawn(move || {
            let entered = match file {
                Ok(file) => setns(&file, CloneFlags::CLONE_NEWNET).map_err(|errno| enter_failed(&label, errno)),
                Err(e) => Err(OslError::io(format!("enter network namespace {label}"), e)),
            };
            f(entered)
        })
    }

    /// Whether `self` and `other` are the same namespace, however each was opened: the kernel
    /// names a namespace by the device and inode of its file.
    ///
    /// ```no_run
    /// use libnet::osl::Netns;
    /// # fn main() -> libnet::osl::Result<()> {
    /// let ns = Netns::open("/run/weft/netns/abcd".as_ref())?;
    /// assert!(ns.run(Netns::current)??.is_same_as(&ns)?);
    /// assert!(!Netns::current()?.is_same_as(&ns)?);
    /// # Ok(()) }
    /// ```
    pub fn is_same_as(&self, other: &Netns) -> Result<bool> {
        Ok(self.identity()? == other.identity()?)
    }

    /// (device, inode) of the namespace file.
    fn identity(&self) -> Result<(u64, u64)> {
        let meta =
            self.file.metadata().map_err(|e| OslError::io(format!("read network namespace {}", self.label()), e))?;
        Ok((meta.dev(), meta.ino()))
    }

    /// Whether a namespace file (nsfs) is at `path`: one bind-mounted there, as [`Netns::create`]
    /// does, or a `/proc/<pid>/ns/` link; not a plain file left behind by a lost mount (after a
    /// reboot, say), nor a missing path. One `statfs`, not a read of the mount table, which holds
    /// a line per namespace. Any namespace type counts, not only network ones.
    pub fn is_mounted_at(path: &Path) -> bool {
        statfs(path).is_ok_and(|s| s.filesystem_type() == NSFS_MAGIC)
    }

    /// A path that [`Netns::open`] opens as this same namespace, for as long as `self` is open:
    /// its descriptor under `/proc/self/fd`. For code that cannot keep a borrow of `self`, such
    /// as an undo step that runs later on another thread.
    pub fn proc_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
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

/// The error of a `setns` into the namespace named `label`.
fn enter_failed(label: &str, errno: Errno) -> OslError {
    OslError::new(format!("enter network namespace {label}"), Some(errno as i32), format!("setns: {}", errno.desc()))
}

#[cfg(test)]
mod tests {
    //! Against the real kernel (they need root), in namespaces of the tests' own under a temp
    //! directory; the machine's own namespace is only read.

    use super::*;
    use crate::osl::testing::TestNetns;

    #[test]
    fn namespaces_are_told_apart_however_opened() {
        let scratch = TestNetns::new("same");
        let own = Netns::current().expect("current");
        assert!(own.is_same_as(&Netns::current().expect("current")).expect("compare"));
        assert!(!own.is_same_as(scratch.netns()).expect("compare"), "a new namespace, not ours");
        let inside = scratch.netns().run(Netns::current).expect("run").expect("current inside");
        assert!(inside.is_same_as(scratch.netns()).expect("compare"), "run enters the namespace");
        let reopened = Netns::open(&scratch.netns().proc_path()).expect("open by its descriptor");
        assert!(reopened.is_same_as(scratch.netns()).expect("compare"));
    }

    #[test]
    fn a_spawned_thread_serves_the_namespace_it_entered() {
        let scratch = TestNetns::new("spawn");
        let worker = scratch
            .netns()
            .spawn(std::thread::Builder::new().name("netns-test".into()), |entered| {
                entered?;
                Netns::current()
            })
            .expect("start the thread");
        let inside = worker.join().expect("no panic").expect("entered and opened");
        assert!(inside.is_same_as(scratch.netns()).expect("compare"));
        assert!(!inside.is_same_as(&Netns::current().expect("current")).expect("compare"), "the caller stays");
    }

    #[test]
    fn only_a_namespace_file_counts_as_mounted() {
        let scratch = TestNetns::new("mounted");
        assert!(Netns::is_mounted_at(scratch.path()));
        let plain = scratch.path().with_file_name("plain");
        std::fs::write(&plain, "").expect("plain file");
        assert!(!Netns::is_mounted_at(&plain));
        assert!(!Netns::is_mounted_at(&scratch.path().with_file_name("missing")));
    }
}
