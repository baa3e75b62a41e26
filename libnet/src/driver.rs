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
    /// What kind of failure it is, which decides the HTTP status the user gets.
    pub kind: ErrorKind,
    /// What went wrong, in words for the user: shown as it is, with nothing added.
    pub message: String,
}

impl DriverError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }
    /// The request was wrong ([`ErrorKind::InvalidParameter`], 400): name the bad value.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameter, message)
    }
    /// Something the request names does not exist ([`ErrorKind::NotFound`], 404).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// The operation is not allowed on this object ([`ErrorKind::Forbidden`], 403).
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }
    /// The request conflicts with what exists, such as a host port taken
    /// ([`ErrorKind::Conflict`], 409).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    /// The driver or the kernel failed ([`ErrorKind::Internal`], 500).
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
    /// `GetCapabilities`: the driver's scope (`local` or `global`), which its networks show as
    /// their scope.
    fn get_capabilities(&self) -> DriverResult<CapabilitiesResponse>;
    /// `CreateNetwork`: make network `network_id` from its options (the `-o` options under
    /// `com.docker.network.generic`, `--internal`, `--ipv6`) and the subnets IPAM granted it
    /// (`IPv4Data`, `IPv6Data`, gateways with their prefix length).
    fn create_network(&self, req: CreateNetworkRequest) -> DriverResult<()>;
    /// `DeleteNetwork`: remove what `create_network` made. The controller calls it only once the
    /// network has no endpoints.
    fn delete_network(&self, req: DeleteNetworkRequest) -> DriverResult<()>;
    /// `CreateEndpoint`: prepare an endpoint with the addresses IPAM gave it, as `10.0.0.2/24`.
    /// The response may fill in what the request left empty (a MAC address), never change what
    /// it gave.
    fn create_endpoint(&self, req: CreateEndpointRequest) -> DriverResult<CreateEndpointResponse>;
    /// `DeleteEndpoint`: remove what `create_endpoint` made. A [`ErrorKind::NotFound`] error
    /// counts as done; after any other error the controller drops the endpoint all the same and
    /// asks again before each later call that changes the driver's state, and at each start,
    /// until it succeeds.
    fn delete_endpoint(&self, req: DeleteEndpointRequest) -> DriverResult<()>;
    /// `EndpointOperInfo`: the endpoint's operational data. The controller reads the ports the
    /// driver published under `com.docker.network.portmap`, as [`crate::portmap::PortBinding`]s.
    fn endpoint_oper_info(&self, req: EndpointInfoRequest) -> DriverResult<EndpointInfoResponse>;
    /// `Join`: make the endpoint's interface for the sandbox at `SandboxKey` and answer with its
    /// name in the host namespace, its gateways and static routes; the controller moves it in.
    fn join(&self, req: JoinRequest) -> DriverResult<JoinResponse>;
    /// `Leave`: undo `join`. The controller has taken the interface out of the sandbox before: a
    /// veth deleted there (its host end goes with it), any other interface moved back to the host
    /// under its `SrcName`.
    fn leave(&self, req: LeaveRequest) -> DriverResult<()>;
    /// `ProgramExternalConnectivity`: publish the endpoint's ports (`com.docker.network.portmap`
    /// in the options) once it has become its sandbox's gateway endpoint. Does nothing unless a
    /// driver implements it.
    fn program_external_connectivity(&self, _req: ProgramExternalConnectivityRequest) -> DriverResult<()> {
        Ok(())
    }
    /// `RevokeExternalConnectivity`: take down what `program_external_connectivity` published,
    /// when the endpoint stops being the gateway endpoint or leaves. Does nothing unless a driver
    /// implements it.
    fn revoke_external_connectivity(&self, _req: RevokeExternalConnectivityRequest) -> DriverResult<()> {
        Ok(())
    }
    /// `DiscoverNew`: a node or other resource appeared in a cluster. weft's controller never
    /// sends it (it runs no cluster); accepted and ignored unless a driver implements it.
    fn discover_new(&self, _n: DiscoveryNotification) -> DriverResult<()> {
        Ok(())
    }
    /// `DiscoverDelete`: a node or other resource left a cluster; never sent by weft's controller,
    /// accepted and ignored unless a driver implements it.
    fn discover_delete(&self, _n: DiscoveryNotification) -> DriverResult<()> {
        Ok(())
    }
}

/// An IPAM driver: hands out subnets (pools) and addresses in them.
pub trait IpamDriver: Send + Sync {
    /// The driver's name, as given to `--ipam-driver`.
    fn name(&self) -> &str;
    /// `GetCapabilities`: whether the driver needs a MAC address or a replay of requests.
    fn get_capabilities(&self) -> DriverResult<IpamCapabilities>;
    /// `GetDefaultAddressSpaces`: the names of the driver's local and global address spaces
    /// (`LocalDefault`, `GlobalDefault`); the controller asks its pools in the local one.
    fn get_default_address_spaces(&self) -> DriverResult<AddressSpacesResponse>;
    /// `RequestPool`: grant a subnet in an address space: the one asked for (`Pool`, as
    /// `10.1.0.0/24`), or a free one of the driver's choosing when `Pool` is empty. The answer's
    /// `PoolID` names it from then on.
    fn request_pool(&self, req: RequestPoolRequest) -> DriverResult<RequestPoolResponse>;
    /// `ReleasePool`: give back a pool granted by `request_pool`.
    fn release_pool(&self, req: ReleasePoolRequest) -> DriverResult<()>;
    /// `RequestAddress`: hand out an address of a pool: the one asked for, or any free one (in
    /// the `SubPool` if the pool has one); the gateway when the options say so. The answer has
    /// the pool's prefix length, as `10.1.0.2/24`.
    fn request_address(&self, req: RequestAddressRequest) -> DriverResult<RequestAddressResponse>;
    /// `ReleaseAddress`: give back an address of a pool, given without a prefix length.
    fn release_address(&self, req: ReleaseAddressRequest) -> DriverResult<()>;
}
