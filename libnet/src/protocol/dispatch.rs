//! One driver call as a message: the protocol's method name (`NetworkDriver.Join`) and its JSON
//! body in, the JSON answer out. The dylib transport and `weft plugin serve` carry calls this way;
//! [`serve_network`] answers one with a driver, and [`NetworkCaller`] is a driver made of anything
//! that carries them ([`CallTransport`]). Both ends use the same serde types, so every transport
//! speaks exactly the remote protocol's messages.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::*;
use crate::driver::{DriverError, DriverResult, IpamDriver, NetworkDriver};

/// The `NetworkDriver.*` calls of Docker's remote protocol that weft's drivers answer.
pub const NETWORK_METHODS: &[&str] = &[
    "NetworkDriver.GetCapabilities",
    "NetworkDriver.CreateNetwork",
    "NetworkDriver.DeleteNetwork",
    "NetworkDriver.CreateEndpoint",
    "NetworkDriver.EndpointOperInfo",
    "NetworkDriver.DeleteEndpoint",
    "NetworkDriver.Join",
    "NetworkDriver.Leave",
    "NetworkDriver.ProgramExternalConnectivity",
    "NetworkDriver.RevokeExternalConnectivity",
    "NetworkDriver.DiscoverNew",
    "NetworkDriver.DiscoverDelete",
];

/// The answer of a call that returns nothing: `{}`, as Docker's plugins answer.
#[derive(Serialize, Deserialize)]
struct Empty {}

fn parse<T: DeserializeOwned>(method: &str, body: &[u8]) -> DriverResult<T> {
    // A call without a request (GetCapabilities) may come with no body at all.
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(body).map_err(|e| DriverError::invalid(format!("{method}: the request is not valid: {e}")))
}

fn answer<T: Serialize>(method: &str, value: DriverResult<T>) -> DriverResult<Vec<u8>> {
    serde_json::to_vec(&value?)
        .map_err(|e| DriverError::internal(format!("{method}: the answer cannot be written: {e}")))
}

fn unit(r: DriverResult<()>) -> DriverResult<Empty> {
    r.map(|()| Empty {})
}

/// Answer one call with `driver`. An unknown method is `NotImplemented`, which the remote
/// protocol turns into a 404.
pub fn serve_network(driver: &dyn NetworkDriver, method: &str, body: &[u8]) -> DriverResult<Vec<u8>> {
    let m = method;
    match method.strip_prefix("NetworkDriver.").unwrap_or("") {
        "GetCapabilities" => answer(m, driver.get_capabilities()),
        "CreateNetwork" => answer(m, unit(driver.create_network(parse(m, body)?))),
        "DeleteNetwork" => answer(m, unit(driver.delete_network(parse(m, body)?))),
        "CreateEndpoint" => answer(m, driver.create_endpoint(parse(m, body)?)),
        "EndpointOperInfo" => answer(m, driver.endpoint_oper_info(parse(m, body)?)),
        "DeleteEndpoint" => answer(m, unit(driver.delete_endpoint(parse(m, body)?))),
        "Join" => answer(m, driver.join(parse(m, body)?)),
        "Leave" => answer(m, unit(driver.leave(parse(m, body)?))),
        "ProgramExternalConnectivity" => answer(m, unit(driver.program_external_connectivity(parse(m, body)?))),
        "RevokeExternalConnectivity" => answer(m, unit(driver.revoke_external_connectivity(parse(m, body)?))),
        "DiscoverNew" => answer(m, unit(driver.discover_new(parse(m, body)?))),
        "DiscoverDelete" => answer(m, unit(driver.discover_delete(parse(m, body)?))),
        _ => Err(DriverError::new(
            crate::driver::ErrorKind::NotImplemented,
            format!("driver \"{}\" has no call {method}", driver.name()),
        )),
    }
}

/// Answer one `IpamDriver.*` call with `driver`.
pub fn serve_ipam(driver: &dyn IpamDriver, method: &str, body: &[u8]) -> DriverResult<Vec<u8>> {
    let m = method;
    match method.strip_prefix("IpamDriver.").unwrap_or("") {
        "GetCapabilities" => answer(m, driver.get_capabilities()),
        "GetDefaultAddressSpaces" => answer(m, driver.get_default_address_spaces()),
        "RequestPool" => answer(m, driver.request_pool(parse(m, body)?)),
        "ReleasePool" => answer(m, unit(driver.release_pool(parse(m, body)?))),
        "RequestAddress" => answer(m, driver.request_address(parse(m, body)?)),
        "ReleaseAddress" => answer(m, unit(driver.release_address(parse(m, body)?))),
        _ => Err(DriverError::new(
            crate::driver::ErrorKind::NotImplemented,
            format!("IPAM driver \"{}\" has no call {method}", driver.name()),
        )),
    }
}

/// What carries one call to a driver and brings its answer back.
pub trait CallTransport: Send + Sync {
    /// Send `body` as the request of `method` (`NetworkDriver.Join`), return the answer's body.
    fn call(&self, method: &str, body: Vec<u8>) -> DriverResult<Vec<u8>>;
}

/// A network driver whose calls go through a [`CallTransport`] as protocol messages.
pub struct NetworkCaller<T> {
    name: String,
    transport: T,
}

impl<T: CallTransport> NetworkCaller<T> {
    pub fn new(name: impl Into<String>, transport: T) -> Self {
        Self { name: name.into(), transport }
    }

    /// The transport, for callers that need more of it than calls (its library, its socket).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    fn call<Req: Serialize, Resp: DeserializeOwned>(&self, call: &str, req: &Req) -> DriverResult<Resp> {
        self.call_method(&format!("NetworkDriver.{call}"), req)
    }

    fn call_method<Req: Serialize, Resp: DeserializeOwned>(&self, method: &str, req: &Req) -> DriverResult<Resp> {
        let body = serde_json::to_vec(req)
            .map_err(|e| DriverError::internal(format!("{method}: the request cannot be written: {e}")))?;
        let answer = self.transport.call(method, body)?;
        serde_json::from_slice(&answer).map_err(|e| {
            DriverError::internal(format!("driver \"{}\": {method}: the answer is not valid: {e}", self.name))
        })
    }

    fn call_unit<Req: Serialize>(&self, call: &str, req: &Req) -> DriverResult<()> {
        self.call::<_, Empty>(call, req).map(|_| ())
    }
}

/// An IPAM driver whose calls go through a [`CallTransport`] as protocol messages.
pub struct IpamCaller<T> {
    inner: NetworkCaller<T>,
}

impl<T: CallTransport> IpamCaller<T> {
    pub fn new(name: impl Into<String>, transport: T) -> Self {
        Self { inner: NetworkCaller::new(name, transport) }
    }

    fn call<Req: Serialize, Resp: DeserializeOwned>(&self, call: &str, req: &Req) -> DriverResult<Resp> {
        self.inner.call_method(&format!("IpamDriver.{call}"), req)
    }
}

impl<T: CallTransport> IpamDriver for IpamCaller<T> {
    fn name(&self) -> &str {
        &self.inner.name
    }
    fn get_capabilities(&self) -> DriverResult<IpamCapabilities> {
        self.call("GetCapabilities", &Empty {})
    }
    fn get_default_address_spaces(&self) -> DriverResult<AddressSpacesResponse> {
        self.call("GetDefaultAddressSpaces", &Empty {})
    }
    fn request_pool(&self, req: RequestPoolRequest) -> DriverResult<RequestPoolResponse> {
        self.call("RequestPool", &req)
    }
    fn release_pool(&self, req: ReleasePoolRequest) -> DriverResult<()> {
        self.call::<_, Empty>("ReleasePool", &req).map(|_| ())
    }
    fn request_address(&self, req: RequestAddressRequest) -> DriverResult<RequestAddressResponse> {
        self.call("RequestAddress", &req)
    }
    fn release_address(&self, req: ReleaseAddressRequest) -> DriverResult<()> {
        self.call::<_, Empty>("ReleaseAddress", &req).map(|_| ())
    }
}

impl<T: CallTransport> NetworkDriver for NetworkCaller<T> {
    fn name(&self) -> &str {
        &self.name
    }
    fn get_capabilities(&self) -> DriverResult<CapabilitiesResponse> {
        self.call("GetCapabilities", &Empty {})
    }
    fn create_network(&self, req: CreateNetworkRequest) -> DriverResult<()> {
        self.call_unit("CreateNetwork", &req)
    }
    fn delete_network(&self, req: DeleteNetworkRequest) -> DriverResult<()> {
        self.call_unit("DeleteNetwork", &req)
    }
    fn create_endpoint(&self, req: CreateEndpointRequest) -> DriverResult<CreateEndpointResponse> {
        self.call("CreateEndpoint", &req)
    }
    fn delete_endpoint(&self, req: DeleteEndpointRequest) -> DriverResult<()> {
        self.call_unit("DeleteEndpoint", &req)
    }
    fn endpoint_oper_info(&self, req: EndpointInfoRequest) -> DriverResult<EndpointInfoResponse> {
        self.call("EndpointOperInfo", &req)
    }
    fn join(&self, req: JoinRequest) -> DriverResult<JoinResponse> {
        self.call("Join", &req)
    }
    fn leave(&self, req: LeaveRequest) -> DriverResult<()> {
        self.call_unit("Leave", &req)
    }
    fn program_external_connectivity(&self, req: ProgramExternalConnectivityRequest) -> DriverResult<()> {
        self.call_unit("ProgramExternalConnectivity", &req)
    }
    fn revoke_external_connectivity(&self, req: RevokeExternalConnectivityRequest) -> DriverResult<()> {
        self.call_unit("RevokeExternalConnectivity", &req)
    }
    fn discover_new(&self, n: DiscoveryNotification) -> DriverResult<()> {
        self.call_unit("DiscoverNew", &n)
    }
    fn discover_delete(&self, n: DiscoveryNotification) -> DriverResult<()> {
        self.call_unit("DiscoverDelete", &n)
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
}
