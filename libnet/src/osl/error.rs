//! The error of an OS-layer call: which operation, on what, and the kernel's errno.

use std::fmt;

/// A failed kernel operation.
#[derive(Debug)]
pub struct OslError {
    /// What was being done, e.g. `create bridge wbr-0a1b2c3d4e5f`.
    pub op: String,
    /// The errno the kernel returned, if any (positive: `libc::EEXIST` etc.).
    pub errno: Option<i32>,
    /// The kernel's or the library's words.
    pub detail: String,
}

/// Result of an OS-layer call.
pub type Result<T> = std::result::Result<T, OslError>;

impl OslError {
    /// An error of `op`, with the kernel's errno if there is one, and the words for it.
    pub fn new(op: impl Into<String>, errno: Option<i32>, detail: impl Into<String>) -> Self {
        Self { op: op.into(), errno, detail: detail.into() }
    }
    /// An error of `op` from an I/O error, keeping its errno.
    pub fn io(op: impl Into<String>, e: std::io::Error) -> Self {
        Self { op: op.into(), errno: e.raw_os_error(), detail: e.to_string() }
    }
    /// The object did not exist (ENODEV, ENOENT, ESRCH, EADDRNOTAVAIL).
    pub fn is_not_found(&self) -> bool {
        matches!(self.errno, Some(19) | Some(2) | Some(3) | Some(99))
    }
    /// The object already existed (EEXIST).
    pub fn is_exists(&self) -> bool {
        self.errno == Some(17)
    }
}

impl fmt::Display for OslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.op, self.detail)
    }
}

impl std::error::Error for OslError {}
