//! libnet's error: what went wrong, in words a user can act on, and the kind the API maps to a status.

use crate::driver::{DriverError, ErrorKind};
use crate::osl::OslError;

/// An error of a controller operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("network {0} not found")]
    NetworkNotFound(String),
    #[error("network with name {0} already exists")]
    NetworkExists(String),
    #[error("{0} is a pre-defined network and cannot be {1}")]
    Predefined(String, &'static str),
    #[error("error while removing network: network {name} id {id} has active endpoints ({endpoints})")]
    ActiveEndpoints { name: String, id: String, endpoints: String },
    #[error("endpoint {0} not found")]
    EndpointNotFound(String),
    #[error("endpoint with name {name} already exists in network {network}")]
    EndpointExists { name: String, network: String },
    #[error("sandbox {0} not found")]
    SandboxNotFound(String),
    #[error("endpoint {endpoint} is already joined to sandbox {sandbox}")]
    AlreadyJoined { endpoint: String, sandbox: String },
    #[error("plugin \"{0}\" not found: no network driver of that name is registered")]
    UnknownDriver(String),
    #[error("plugin \"{0}\" not found: no IPAM driver of that name is registered")]
    UnknownIpamDriver(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// A host port asked for is published already, by the endpoint of another sandbox.
    #[error("port {port}/{proto} is already allocated{}", container.as_deref().map(|c| format!(" by container {c}")).unwrap_or_default())]
    PortAllocated { port: u16, proto: crate::portmap::Proto, container: Option<String> },
    #[error("{0}")]
    Driver(#[from] DriverError),
    #[error(transparent)]
    Os(#[from] OslError),
    #[error("store {path}: {source}")]
    Store { path: String, source: rusqlite::Error },
    #[error("store record {what}: {source}")]
    Record { what: String, source: serde_json::Error },
}

/// The result of a controller operation.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The kind of failure, which the daemon maps to an HTTP status as Docker does.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NetworkNotFound(_) | Error::EndpointNotFound(_) | Error::SandboxNotFound(_) => ErrorKind::NotFound,
            Error::UnknownDriver(_) | Error::UnknownIpamDriver(_) => ErrorKind::NotFound,
            Error::NetworkExists(_) | Error::EndpointExists { .. } | Error::AlreadyJoined { .. } => ErrorKind::Conflict,
            Error::ActiveEndpoints { .. } | Error::Conflict(_) | Error::PortAllocated { .. } => ErrorKind::Conflict,
            Error::Predefined(..) | Error::Forbidden(_) => ErrorKind::Forbidden,
            Error::InvalidParameter(_) => ErrorKind::InvalidParameter,
            Error::Driver(e) => e.kind,
            Error::Os(_) | Error::Store { .. } | Error::Record { .. } => ErrorKind::Internal,
        }
    }
}
