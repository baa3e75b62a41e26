//! One driver call as a message: the protocol's method name (`NetworkDriver.Join`) and its JSON
//! body in, the JSON answer out. Every transport carries calls this way. [`serve_network`] and
//! [`serve_ipam`] answer one with a driver (a library's side of the dylib transport);
//! [`answer_network`] and [`answer_ipam`] do the same and tell a bad request from the driver's own
//! error (`weft plugin serve`'s HTTP server answers them 400 and 500). [`NetworkCaller`] and
//! [`IpamCaller`] are drivers made of anything that carries calls ([`CallTransport`]: a loaded
//! library, a remote plugin's socket). Both ends use the same serde types, so every transport
//! speaks exactly the remote protocol's messages.
//!
//! # The one table
//!
//! The two `protocol!` tables below are the only place that says which method name is which
//! trait method, with which request and which answer, and whether Docker lets a plugin leave the
//! call out. The answering side ([`answer_network`], [`answer_ipam`]), the calling side (the
//! driver traits' impls for [`NetworkCaller`] and [`IpamCaller`]) and the facts of each call
//! ([`NETWORK_CALLS`], [`IPAM_CALLS`], [`call_info`]) are all made from them. A new message is one
//! line there plus its trait method; every transport (in-process, dylib, remote client and
//! server) then carries it.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::*;
use crate::driver::{DriverError, DriverResult, ErrorKind, IpamDriver, NetworkDriver};

/// What the protocol says of one call besides its types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallInfo {
    /// The call's name on the wire: `NetworkDriver.Join`.
    pub method: &'static str,
    /// Whether it carries a request; `GetCapabilities` does not (Docker sends no body, or `null`).
    pub takes_request: bool,
    /// Whether a plugin may leave it out: Docker takes a 404 to it as the call done.
    pub optional: bool,
}

/// Why a call got no answer: the caller's mistake or the driver's error, for transports that
/// answer them differently.
#[derive(Debug)]
pub enum CallFailure {
    /// The protocol has no call of that name.
    Unknown,
    /// The body is not the call's request.
    BadRequest(serde_json::Error),
    /// The driver's own error.
    Driver(DriverError),
    /// The driver's answer cannot be written as JSON.
    Unwritable(serde_json::Error),
}

impl CallFailure {
    /// As a driver error of `method`, with `driver` (`driver "bridge"`) naming who has no such call.
    pub fn into_driver_error(self, method: &str, driver: &str) -> DriverError {
        match self {
            CallFailure::Unknown => {
                DriverError::new(ErrorKind::NotImplemented, format!("{driver} has no call {method}"))
            }
            CallFailure::BadRequest(e) => DriverError::invalid(format!("{method}: the request is not valid: {e}")),
            CallFailure::Driver(e) => e,
            CallFailure::Unwritable(e) => DriverError::internal(format!("{method}: the answer cannot be written: {e}")),
        }
    }
}

/// The answer of a call that returns nothing: `{}`, as Docker's plugins answer.
#[derive(Serialize, Deserialize)]
struct Empty {}

/// `body` as the request of a call; no body at all is an empty request.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, CallFailure> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(body).map_err(CallFailure::BadRequest)
}

/// A driver's result as the answer's JSON.
fn encode<T: Serialize>(result: DriverResult<T>) -> Result<Vec<u8>, CallFailure> {
    serde_json::to_vec(&result.map_err(CallFailure::Driver)?).map_err(CallFailure::Unwritable)
}

/// One call through `transport`: `req` written, the answer read as `Resp`.
fn call<T: CallTransport, Req: Serialize, Resp: DeserializeOwned>(
    driver: &str,
    transport: &T,
    method: &str,
    req: &Req,
) -> DriverResult<Resp> {
    let body = serde_json::to_vec(req)
        .map_err(|e| DriverError::internal(format!("{method}: the request cannot be written: {e}")))?;
    let answer = transport.call(method, body)?;
    transport.decode(driver, method, &answer)
}

// The pieces `protocol!` fills in by the shape of a table line: with or without a request, with
// an answer or with nothing (`()`, `{}` on the wire), optional or not.
#[rustfmt::skip]
macro_rules! has_request { () => { false }; ($Req:ty) => { true }; }
#[rustfmt::skip]
macro_rules! is_optional { () => { false }; (optional) => { true }; }
#[rustfmt::skip]
macro_rules! request_of { () => { &Empty {} }; ($req:ident, $Req:ty) => { &$req }; }
#[rustfmt::skip]
macro_rules! result_type { () => { () }; ($Resp:ty) => { $Resp }; }
#[rustfmt::skip]
macro_rules! to_wire { ($result:expr) => { $result.map(|()| Empty {}) }; ($result:expr, $Resp:ty) => { $result }; }
#[rustfmt::skip]
macro_rules! from_wire { ($answer:expr) => { $answer.map(|Empty {}| ()) }; ($answer:expr, $Resp:ty) => { $answer }; }

/// Makes, from a table of calls (`[optional] "Method" => trait_method([Request]) [-> Answer];`),
/// the list of their facts, the function that answers one with a driver, and the driver trait's
/// impl for the caller over a transport.
macro_rules! protocol {
    (
        $(#[$calls_doc:meta])*
        const $CALLS:ident;
        $(#[$answer_doc:meta])*
        fn $answer:ident(&dyn $Trait:ident);
        impl for $Caller:ident;
        $( $($optional:ident)? $method:literal => $fn:ident($($Req:ty)?) $(-> $Resp:ty)?; )+
    ) => {
        $(#[$calls_doc])*
        pub const $CALLS: &[CallInfo] = &[$(
            CallInfo { method: $method, takes_request: has_request!($($Req)?), optional: is_optional!($($optional)?) },
        )+];

        $(#[$answer_doc])*
        pub fn $answer(driver: &dyn $Trait, method: &str, body: &[u8]) -> Result<Vec<u8>, CallFailure> {
            match method {
                $( $method => encode(to_wire!(driver.$fn($(parse::<$Req>(body)?)?) $(, $Resp)?)), )+
                _ => Err(CallFailure::Unknown),
            }
        }

        impl<T: CallTransport> $Trait for $Caller<T> {
            fn name(&self) -> &str {
                &self.name
            }
            $(
                fn $fn(&self $(, req: $Req)?) -> DriverResult<result_type!($($Resp)?)> {
                    from_wire!(call(&self.name, &self.transport, $method, request_of!($(req, $Req)?)) $(, $Resp)?)
                }
            )+
        }
    };
}

protocol! {
    /// The `NetworkDriver.*` calls of Docker's remote network-driver protocol.
    const NETWORK_CALLS;
    /// Answer one `NetworkDriver.*` call with `driver`.
    fn answer_network(&dyn NetworkDriver);
    impl for NetworkCaller;
    "NetworkDriver.GetCapabilities" => get_capabilities() -> CapabilitiesResponse;
    "NetworkDriver.CreateNetwork" => create_network(CreateNetworkRequest);
    "NetworkDriver.DeleteNetwork" => delete_network(DeleteNetworkRequest);
    "NetworkDriver.CreateEndpoint" => create_endpoint(CreateEndpointRequest) -> CreateEndpointResponse;
    "NetworkDriver.EndpointOperInfo" => endpoint_oper_info(EndpointInfoRequest) -> EndpointInfoResponse;
    "NetworkDriver.DeleteEndpoint" => delete_endpoint(DeleteEndpointRequest);
    "NetworkDriver.Join" => join(JoinRequest) -> JoinResponse;
    "NetworkDriver.Leave" => leave(LeaveRequest);
    optional "NetworkDriver.ProgramExternalConnectivity" => program_external_connectivity(ProgramExternalConnectivityRequest);
    optional "NetworkDriver.RevokeExternalConnectivity" => revoke_external_connectivity(RevokeExternalConnectivityRequest);
    optional "NetworkDriver.DiscoverNew" => discover_new(DiscoveryNotification);
    optional "NetworkDriver.DiscoverDelete" => discover_delete(DiscoveryNotification);
}

protocol! {
    /// The `IpamDriver.*` calls of Docker's remote IPAM protocol.
    const IPAM_CALLS;
    /// Answer one `IpamDriver.*` call with `driver`.
    fn answer_ipam(&dyn IpamDriver);
    impl for IpamCaller;
    // A plugin without it has no capabilities (Docker's rule).
    optional "IpamDriver.GetCapabilities" => get_capabilities() -> IpamCapabilities;
    "IpamDriver.GetDefaultAddressSpaces" => get_default_address_spaces() -> AddressSpacesResponse;
    "IpamDriver.RequestPool" => request_pool(RequestPoolRequest) -> RequestPoolResponse;
    "IpamDriver.ReleasePool" => release_pool(ReleasePoolRequest);
    "IpamDriver.RequestAddress" => request_address(RequestAddressRequest) -> RequestAddressResponse;
    "IpamDriver.ReleaseAddress" => release_address(ReleaseAddressRequest);
}

/// The facts of the call named `method`, of either protocol; `None` if neither has it.
///
/// ```
/// use libnet::protocol::dispatch::call_info;
///
/// assert!(call_info("NetworkDriver.DiscoverNew").is_some_and(|c| c.optional));
/// assert!(call_info("NetworkDriver.GetCapabilities").is_some_and(|c| !c.takes_request));
/// assert!(call_info("NetworkDriver.Frobnicate").is_none());
/// ```
pub fn call_info(method: &str) -> Option<&'static CallInfo> {
    NETWORK_CALLS.iter().chain(IPAM_CALLS).find(|c| c.method == method)
}

/// Answer one call with `driver`. An unknown method is `NotImplemented`, which the remote
/// protocol turns into a 404.
pub fn serve_network(driver: &dyn NetworkDriver, method: &str, body: &[u8]) -> DriverResult<Vec<u8>> {
    answer_network(driver, method, body)
        .map_err(|f| f.into_driver_error(method, &format!("driver \"{}\"", driver.name())))
}

/// Answer one `IpamDriver.*` call with `driver`.
pub fn serve_ipam(driver: &dyn IpamDriver, method: &str, body: &[u8]) -> DriverResult<Vec<u8>> {
    answer_ipam(driver, method, body)
        .map_err(|f| f.into_driver_error(method, &format!("IPAM driver \"{}\"", driver.name())))
}

/// What carries one call to a driver and brings its answer back.
pub trait CallTransport: Send + Sync {
    /// Send `body` as the request of `method` (`NetworkDriver.Join`), return the answer's body.
    fn call(&self, method: &str, body: Vec<u8>) -> DriverResult<Vec<u8>>;

    /// Read `answer`, what driver `driver` answered to `method`, as the call's answer type. A
    /// transport whose answers have a wording of their own for a bad answer (a remote plugin's)
    /// reads them its own way.
    fn decode<R: DeserializeOwned>(&self, driver: &str, method: &str, answer: &[u8]) -> DriverResult<R>
    where
        Self: Sized,
    {
        serde_json::from_slice(answer)
            .map_err(|e| DriverError::internal(format!("driver \"{driver}\": {method}: the answer is not valid: {e}")))
    }
}

/// A network driver whose calls go through a [`CallTransport`] as protocol messages.
pub struct NetworkCaller<T> {
    name: String,
    transport: T,
}

impl<T: CallTransport> NetworkCaller<T> {
    /// The driver `name`, whose calls `transport` carries.
    pub fn new(name: impl Into<String>, transport: T) -> Self {
        Self { name: name.into(), transport }
    }

    /// The transport, for callers that need more of it than calls (its library, its socket).
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

/// An IPAM driver whose calls go through a [`CallTransport`] as protocol messages.
pub struct IpamCaller<T> {
    name: String,
    transport: T,
}

impl<T: CallTransport> IpamCaller<T> {
    /// The IPAM driver `name`, whose calls `transport` carries.
    pub fn new(name: impl Into<String>, transport: T) -> Self {
        Self { name: name.into(), transport }
    }

    /// The transport, for callers that need more of it than calls.
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// The ids the tests use (the protocol takes 64 hex digits only), and the names the
    /// recorder shows them by.
    const N1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const E1: &str = "e111111111111111111111111111111111111111111111111111111111111111";
    const N9: &str = "9999999999999999999999999999999999999999999999999999999999999999";

    fn label(id: &str) -> &str {
        match id {
            N1 => "n1",
            E1 => "e1",
            N9 => "n9",
            other => other,
        }
    }

    /// A driver that records what it was asked and answers from that.
    #[derive(Default)]
    struct Recorder {
        calls: Mutex<Vec<String>>,
    }

    impl NetworkDriver for Recorder {
        fn name(&self) -> &str {
            "recorder"
        }
        fn get_capabilities(&self) -> DriverResult<CapabilitiesResponse> {
            Ok(CapabilitiesResponse { scope: "local".into(), connectivity_scope: "global".into() })
        }
        fn create_network(&self, req: CreateNetworkRequest) -> DriverResult<()> {
            self.calls.lock().unwrap().push(format!("create {}", label(&req.network_id)));
            Ok(())
        }
        fn delete_network(&self, req: DeleteNetworkRequest) -> DriverResult<()> {
            Err(DriverError::not_found(format!("network {} not found", label(&req.network_id))))
        }
        fn create_endpoint(&self, req: CreateEndpointRequest) -> DriverResult<CreateEndpointResponse> {
            self.calls.lock().unwrap().push(format!("endpoint {}", label(&req.endpoint_id)));
            Ok(CreateEndpointResponse::default())
        }
        fn delete_endpoint(&self, _req: DeleteEndpointRequest) -> DriverResult<()> {
            Ok(())
        }
        fn endpoint_oper_info(&self, _req: EndpointInfoRequest) -> DriverResult<EndpointInfoResponse> {
            Ok(EndpointInfoResponse::default())
        }
        fn join(&self, req: JoinRequest) -> DriverResult<JoinResponse> {
            Ok(JoinResponse {
                interface_name: Some(InterfaceName {
                    src_name: format!("wv{}", label(&req.endpoint_id)),
                    dst_prefix: "eth".into(),
                }),
                ..Default::default()
            })
        }
        fn leave(&self, _req: LeaveRequest) -> DriverResult<()> {
            Ok(())
        }
    }

    /// Carries calls straight to a driver, through the bytes, as a transport would.
    struct Direct(Recorder);

    impl CallTransport for Direct {
        fn call(&self, method: &str, body: Vec<u8>) -> DriverResult<Vec<u8>> {
            serve_network(&self.0, method, &body)
        }
    }

    #[test]
    fn calls_round_trip_through_the_messages() {
        let d = NetworkCaller::new("recorder", Direct(Recorder::default()));
        assert_eq!(d.get_capabilities().unwrap().scope, "local");
        d.create_network(CreateNetworkRequest { network_id: N1.into(), ..Default::default() }).unwrap();
        d.create_endpoint(CreateEndpointRequest {
            network_id: N1.into(),
            endpoint_id: E1.into(),
            ..Default::default()
        })
        .unwrap();
        let joined =
            d.join(JoinRequest { network_id: N1.into(), endpoint_id: E1.into(), ..Default::default() }).unwrap();
        assert_eq!(joined.interface_name.unwrap().src_name, "wve1");
        assert_eq!(*d.transport().0.calls.lock().unwrap(), ["create n1", "endpoint e1"]);
        // The error keeps its kind and its message.
        let e = d.delete_network(DeleteNetworkRequest { network_id: N9.into() }).unwrap_err();
        assert_eq!(e, DriverError::not_found("network n9 not found"));
    }

    #[test]
    fn bad_requests_and_unknown_calls_are_errors_of_the_call() {
        let r = Recorder::default();
        let e = serve_network(&r, "NetworkDriver.Join", b"{not json").unwrap_err();
        assert_eq!(e.kind, crate::driver::ErrorKind::InvalidParameter);
        assert!(e.message.starts_with("NetworkDriver.Join: the request is not valid"), "{}", e.message);
        let e = serve_network(&r, "NetworkDriver.Frobnicate", b"{}").unwrap_err();
        assert_eq!(e.kind, crate::driver::ErrorKind::NotImplemented);
        assert_eq!(e.message, "driver \"recorder\" has no call NetworkDriver.Frobnicate");
        // No body at all is an empty request.
        let caps = serve_network(&r, "NetworkDriver.GetCapabilities", b"").unwrap();
        assert_eq!(String::from_utf8(caps).unwrap(), r#"{"Scope":"local","ConnectivityScope":"global"}"#);
    }

    #[test]
    fn a_bad_request_is_told_from_the_drivers_own_error() {
        let r = Recorder::default();
        let bad = answer_network(&r, "NetworkDriver.CreateNetwork", br#"{"NetworkID":"abc"}"#).unwrap_err();
        assert!(matches!(&bad, CallFailure::BadRequest(e) if e.to_string().contains("is not an id")), "{bad:?}");
        let refused =
            answer_network(&r, "NetworkDriver.DeleteNetwork", format!(r#"{{"NetworkID":"{N9}"}}"#).as_bytes());
        assert!(matches!(refused, Err(CallFailure::Driver(e)) if e == DriverError::not_found("network n9 not found")));
        assert!(matches!(answer_network(&r, "IpamDriver.RequestPool", b"{}"), Err(CallFailure::Unknown)));
        // A call that returns nothing answers `{}`.
        let done = answer_network(
            &r,
            "NetworkDriver.Leave",
            format!(r#"{{"NetworkID":"{N1}","EndpointID":"{E1}"}}"#).as_bytes(),
        );
        assert_eq!(done.unwrap(), b"{}");
    }

    #[test]
    fn the_table_names_every_call_once_with_its_facts() {
        let methods: Vec<&str> = NETWORK_CALLS.iter().chain(IPAM_CALLS).map(|c| c.method).collect();
        let mut unique = methods.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!((methods.len(), unique.len()), (18, 18));
        let optional: Vec<&str> =
            methods.iter().copied().filter(|m| call_info(m).is_some_and(|c| c.optional)).collect();
        assert_eq!(
            optional,
            [
                "NetworkDriver.ProgramExternalConnectivity",
                "NetworkDriver.RevokeExternalConnectivity",
                "NetworkDriver.DiscoverNew",
                "NetworkDriver.DiscoverDelete",
                "IpamDriver.GetCapabilities",
            ]
        );
        let without_request: Vec<&str> =
            methods.iter().copied().filter(|m| call_info(m).is_some_and(|c| !c.takes_request)).collect();
        assert_eq!(
            without_request,
            ["NetworkDriver.GetCapabilities", "IpamDriver.GetCapabilities", "IpamDriver.GetDefaultAddressSpaces"]
        );
        // Every call of the table is answered: none is unknown to the dispatch.
        let r = Recorder::default();
        for call in NETWORK_CALLS {
            assert!(!matches!(answer_network(&r, call.method, b"{}"), Err(CallFailure::Unknown)), "{}", call.method);
        }
    }

    /// An IPAM driver with one pool.
    struct OnePool;

    impl IpamDriver for OnePool {
        fn name(&self) -> &str {
            "one"
        }
        fn get_capabilities(&self) -> DriverResult<IpamCapabilities> {
            Ok(IpamCapabilities { requires_mac_address: true, requires_request_replay: false })
        }
        fn get_default_address_spaces(&self) -> DriverResult<AddressSpacesResponse> {
            Ok(AddressSpacesResponse::default())
        }
        fn request_pool(&self, req: RequestPoolRequest) -> DriverResult<RequestPoolResponse> {
            Ok(RequestPoolResponse { pool_id: format!("{}/p1", req.address_space), ..Default::default() })
        }
        fn release_pool(&self, req: ReleasePoolRequest) -> DriverResult<()> {
            Err(DriverError::not_found(format!("no pool {}", req.pool_id)))
        }
        fn request_address(&self, _req: RequestAddressRequest) -> DriverResult<RequestAddressResponse> {
            Ok(RequestAddressResponse { address: "10.0.0.2/24".into(), ..Default::default() })
        }
        fn release_address(&self, _req: ReleaseAddressRequest) -> DriverResult<()> {
            Ok(())
        }
    }

    struct DirectIpam(OnePool);

    impl CallTransport for DirectIpam {
        fn call(&self, method: &str, body: Vec<u8>) -> DriverResult<Vec<u8>> {
            serve_ipam(&self.0, method, &body)
        }
    }

    #[test]
    fn ipam_calls_round_trip_through_the_messages() {
        let d = IpamCaller::new("one", DirectIpam(OnePool));
        assert!(d.get_capabilities().unwrap().requires_mac_address);
        let pool = d.request_pool(RequestPoolRequest { address_space: "L".into(), ..Default::default() }).unwrap();
        assert_eq!(pool.pool_id, "L/p1");
        assert_eq!(d.request_address(RequestAddressRequest::default()).unwrap().address, "10.0.0.2/24");
        d.release_address(ReleaseAddressRequest::default()).unwrap();
        let e = d.release_pool(ReleasePoolRequest { pool_id: "p9".into() }).unwrap_err();
        assert_eq!(e, DriverError::not_found("no pool p9"));
        let e = serve_ipam(&OnePool, "IpamDriver.Frobnicate", b"").unwrap_err();
        assert_eq!(e.message, "IPAM driver \"one\" has no call IpamDriver.Frobnicate");
    }
}
