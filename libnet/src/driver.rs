//! The traits a network driver and an IPAM driver implement, over the protocol messages.
//!
//! The traits are synchronous on purpose: no async runtime crosses a plugin boundary, and every
//! driver call is a short piece of kernel work.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::protocol::*;

/// What kind of failure a driver reports; the daemon maps it to an HTTP status as Docker does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// The request was wrong (400).
    InvalidParameter,
    /// Something named does not exist (404).
    NotFound,
    /// The operation is not allowed on this object (403).
    Forbidden,
    /// The request conflicts with existing state (409).
    Conflict,
    /// The driver or the kernel failed (500).
    Internal,
    /// The driver does not implement this call.
    NotImplemented,
}

/// An error returned by a driver call. Its message is shown to the user as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverError {
    pub kind: ErrorKind,
    pub message: String,
}

impl DriverError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameter, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DriverError {}

/// The result of a driver call.
pub type DriverResult<T> = Result<T, DriverError>;

/// A network driver: creates networks and endpoints, and answers `Join` with the interface it made.
///
/// Drivers never enter a sandbox's namespace: they make interfaces in the host namespace and
/// `libnet::osl` moves them.
pub trait NetworkDriver: Send + Sync {
    /// The driver's name, as given to `--driver`.
    fn name(&self) -> &str;
    fn get_capabilities(&self) -> DriverResult<CapabilitiesResponse>;
    fn create_network(&self, req: CreateNetworkRequest) -> DriverResult<()>;
    fn delete_network(&self, req: DeleteNetworkRequest) -> DriverResult<()>;
    fn create_endpoint(&self, req: CreateEndpointRequest) -> DriverResult<CreateEndpointResponse>;
    fn delete_endpoint(&self, req: DeleteEndpointRequest) -> DriverResult<()>;
    fn endpoint_oper_info(&self, req: EndpointInfoRequest) -> DriverResult<EndpointInfoResponse>;
    fn join(&self, req: JoinRequest) -> DriverResult<JoinResponse>;
    fn leave(&self, req: LeaveRequest) -> DriverResult<()>;
    fn program_external_connectivity(&self, _req: ProgramExternalConnectivityRequest) -> DriverResult<()> {
        Ok(())
    }
    fn revoke_external_connectivity(&self, _req: RevokeExternalConnectivityRequest) -> DriverResult<()> {
        Ok(())
    }
    fn discover_new(&self, _n: DiscoveryNotification) -> DriverResult<()> {
        Ok(())
    }
    fn discover_delete(&self, _n: DiscoveryNotification) -> DriverResult<()> {
        Ok(())
    }
}

/// An IPAM driver: hands out subnets (pools) and addresses in them.
pub trait IpamDriver: Send + Sync {
    /// The driver's name, as given to `--ipam-driver`.
    fn name(&self) -> &str;
    fn get_capabilities(&self) -> DriverResult<IpamCapabilities>;
    fn get_default_address_spaces(&self) -> DriverResult<AddressSpacesResponse>;
    fn request_pool(&self, req: RequestPoolRequest) -> DriverResult<RequestPoolResponse>;
    fn release_pool(&self, req: ReleasePoolRequest) -> DriverResult<()>;
    fn request_address(&self, req: RequestAddressRequest) -> DriverResult<RequestAddressResponse>;
    fn release_address(&self, req: ReleaseAddressRequest) -> DriverResult<()>;
}
