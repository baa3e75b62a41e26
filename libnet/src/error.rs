//! libnet's error: what went wrong, in words a user can act on, and the kind the API maps to a status.

use crate::driver::{DriverError, ErrorKind};
use crate::osl::OslError;

/// An error of a controller operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No network has this name, id or unique id prefix (as given).
    #[error("network {0} not found")]
    NetworkNotFound(String),
    /// A network of this name exists already.
    #[error("network with name {0} already exists")]
    NetworkExists(String),
    /// The network (by name) is one of the daemon's own (`bridge`, `host`, `none`), so it cannot
    /// be what the second field says: `created by a user`, `re-created` or `removed`.
    #[error("{0} is a pre-defined network and cannot be {1}")]
    Predefined(String, &'static str),
    /// A network cannot be removed while endpoints are on it.
    #[error("error while removing network: network {name} id {id} has active endpoints ({endpoints})")]
    ActiveEndpoints {
        /// The network's name.
        name: String,
        /// The network's full id.
        id: String,
        /// The names of its endpoints, sorted, joined with `, `.
        endpoints: String,
    },
    /// No endpoint has this id.
    #[error("endpoint {0} not found")]
    EndpointNotFound(String),
    /// The network has an endpoint of this name already.
    #[error("endpoint with name {name} already exists in network {network}")]
    EndpointExists {
        /// The endpoint name asked for.
        name: String,
        /// The network's name.
        network: String,
    },
    /// No sandbox has this id.
    #[error("sandbox {0} not found")]
    SandboxNotFound(String),
    /// The endpoint is joined to a sandbox already: an endpoint joins one sandbox at a time.
    #[error("endpoint {endpoint} is already joined to sandbox {sandbox}")]
    AlreadyJoined {
        /// The endpoint's name.
        endpoint: String,
        /// The short id (12 hex digits) of the sandbox it is joined to.
        sandbox: String,
    },
    /// No network driver of this name is registered, and the controller's resolver (if any)
    /// found none.
    #[error("plugin \"{0}\" not found: no network driver of that name is registered")]
    UnknownDriver(String),
    /// No IPAM driver of this name is registered, and the controller's resolver (if any) found
    /// none.
    #[error("plugin \"{0}\" not found: no IPAM driver of that name is registered")]
    UnknownIpamDriver(String),
    /// A request the controller refuses as it stands (a bad subnet, name or address, an ambiguous
    /// id prefix); the message names the bad value. HTTP 400.
    #[error("{0}")]
    InvalidParameter(String),
    /// A request that is well formed but not allowed (a subnet that overlaps another network's,
    /// deleting an endpoint still joined). HTTP 403.
    #[error("{0}")]
    Forbidden(String),
    /// A request that conflicts with the present state, in the message's words. HTTP 409.
    #[error("{0}")]
    Conflict(String),
    /// A host port asked for is published already, by the endpoint of another sandbox.
    #[error("port {port}/{proto} is already allocated{}", container.as_deref().map(|c| format!(" by container {c}")).unwrap_or_default())]
    PortAllocated {
        /// The host port.
        port: u16,
        /// The port's protocol.
        proto: crate::portmap::Proto,
        /// The container (its sandbox's `container_id`) that holds the port, when known.
        container: Option<String>,
    },
    /// A network or IPAM driver's error, or an answer of one the controller cannot use (an
    /// invalid address or gateway); [`Error::kind`] is the driver's kind.
    #[error("{0}")]
    Driver(#[from] DriverError),
    /// A kernel operation of the controller itself failed (a namespace, a link, a route).
    #[error(transparent)]
    Os(#[from] OslError),
    /// The store's SQLite file failed (open, query or commit).
    #[error("store {path}: {source}")]
    Store {
        /// The store file's path.
        path: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A stored record cannot be read or written as JSON.
    #[error("store record {what}: {source}")]
    Record {
        /// The record, as `<table>/<id>` (`networks/3f2a...`).
        what: String,
        /// serde_json's error.
        source: serde_json::Error,
    },
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
