//! The remote transport's error: which plugin, which call, and what went wrong, in words a user
//! can act on.

use std::path::PathBuf;
use std::time::Duration;

use libnet::{DriverError, ErrorKind};

/// A failure to find, reach or use a plugin.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("plugin spec file {path}: {reason}")]
    Spec { path: PathBuf, reason: String },
    #[error("plugin \"{plugin}\" ({spec}) is reached over TLS (https), which weft does not support yet; give it a unix:// or tcp:// address")]
    TlsNotSupported { plugin: String, spec: PathBuf },
    #[error("plugin \"{plugin}\" is not a {kind}: it implements {}", if implements.is_empty() { "nothing" } else { implements.as_str() })]
    NotImplemented { plugin: String, kind: &'static str, implements: String },
    #[error("plugin \"{plugin}\": {call}: cannot connect to {address}: {source} (tried {tries} times over {}ms)", waited.as_millis())]
    Unreachable { plugin: String, call: String, address: String, source: std::io::Error, tries: u32, waited: Duration },
    #[error("plugin \"{plugin}\": {call}: no answer within {}ms", timeout.as_millis())]
    Timeout { plugin: String, call: String, timeout: Duration },
    #[error("plugin \"{plugin}\": {call}: the connection failed: {reason}")]
    Connection { plugin: String, call: String, reason: String },
    #[error("plugin \"{plugin}\": {call}: invalid answer: {reason}")]
    Garbage { plugin: String, call: String, reason: String },
    /// The plugin answered with an error of its own (`Err`, or `Error` for IPAM).
    #[error("plugin \"{plugin}\": {call}: {message}")]
    Refused { plugin: String, call: String, message: String },
    #[error("plugin \"{plugin}\" does not implement {call} (HTTP 404)")]
    CallNotImplemented { plugin: String, call: String },
    #[error("plugin \"{plugin}\": {call}: HTTP {status}: {body}")]
    Status { plugin: String, call: String, status: u16, body: String },
}

impl Error {
    /// Whether the plugin said it has no such call (Docker lets some calls be missing).
    pub fn is_not_implemented(&self) -> bool {
        matches!(self, Error::CallNotImplemented { .. })
    }
}

impl From<Error> for DriverError {
    fn from(e: Error) -> DriverError {
        let kind = match &e {
            Error::CallNotImplemented { .. } => ErrorKind::NotImplemented,
            Error::NotImplemented { .. } | Error::TlsNotSupported { .. } | Error::Spec { .. } => {
                ErrorKind::InvalidParameter
            }
            _ => ErrorKind::Internal,
        };
        DriverError::new(kind, e.to_string())
    }
}
