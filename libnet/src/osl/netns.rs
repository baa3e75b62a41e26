//! Network namespaces: create one bind-mounted at a path, open, delete, and run code inside one.

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};

use super::Result;

/// An open network namespace.
#[derive(Debug)]
pub struct Netns {
    file: File,
    path: Option<PathBuf>,
}

impl Netns {
    /// The namespace of the calling thread.
    pub fn current() -> Result<Netns> {
        todo!("osl helper")
    }
    /// Open the namespace bind-mounted (or linked under /proc) at `path`.
    pub fn open(path: &Path) -> Result<Netns> {
        todo!("osl helper {path:?}")
    }
    /// Create a new namespace and bind-mount it at `path` (parent directories are created).
    /// Its loopback is left down; the caller brings it up.
    pub fn create(path: &Path) -> Result<Netns> {
        todo!("osl helper {path:?}")
    }
    /// Unmount and remove the namespace at `path`. A path that does not exist is not an error.
    pub fn delete(path: &Path) -> Result<()> {
        todo!("osl helper {path:?}")
    }
    /// The path the namespace was opened or created at, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
    /// Run `f` on a fresh thread that has entered this namespace, and return its result.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T> {
        let _ = f;
        todo!("osl helper")
    }
}

impl AsFd for Netns {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}
