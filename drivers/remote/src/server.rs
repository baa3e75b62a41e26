//! The server side of Docker's plugin protocol: any weft network driver (and optionally an IPAM
//! driver) served over HTTP/1.1 on a unix socket, so that dockerd, or any other CNM
//! implementation, can use it as a remote plugin.
//!
//! Every call is a POST of JSON to `/<Call>`; the answer is JSON with Docker's plugin media type.
//! A driver's error is answered with status 500 (404 when the driver does not implement the
//! call, which Docker takes as "optional call missing") and the message in `Err`, the field
//! Docker's plugin client reads on any non-200 answer; IPAM answers carry it in `Error` too,
//! where Docker's IPAM client reads it on a 200.
//!
//! Two places where Docker's side is stricter than libnet, adapted here so any weft driver works:
//! - `Join`: Docker looks for the interface named in `InterfaceName.SrcName` in its own namespace
//!   and moves it into the sandbox itself; the sandbox may not even exist yet when Join is
//!   called. weft's drivers make the interface inside the sandbox when they are told its key (an
//!   optimisation libnet allows), so the key is not passed on.
//! - `CreateEndpoint`: Docker refuses an answer that repeats an address or MAC address it gave
//!   ("driver modified interface address"), so what the request gave is left out of the answer;
//!   an answer that changes it is refused here, and the endpoint deleted again.

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use libnet::protocol::*;
use libnet::{DriverError, DriverResult, ErrorKind, IpamDriver, NetworkDriver};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::net::UnixListener;

use crate::client::Manifest;
use crate::http::PLUGIN_MIME;
use crate::{IPAM_DRIVER, NETWORK_DRIVER};

/// A driver (or two) to serve over the plugin protocol.
#[derive(Clone)]
pub struct PluginServer {
    network: Arc<dyn NetworkDriver>,
    ipam: Option<Arc<dyn IpamDriver>>,
}

/// Which protocol a call belongs to: it decides where the error message goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Network,
    Ipam,
}

impl PluginServer {
    /// A server of `network`'s `NetworkDriver.*` calls.
    pub fn new(network: Arc<dyn NetworkDriver>) -> PluginServer {
        PluginServer { network, ipam: None }
    }

    /// Serve `ipam`'s `IpamDriver.*` calls too.
    pub fn with_ipam(mut self, ipam: Arc<dyn IpamDriver>) -> PluginServer {
        self.ipam = Some(ipam);
        self
    }

    /// What `/Plugin.Activate` answers.
    pub fn implements(&self) -> Vec<String> {
        let mut v = vec![NETWORK_DRIVER.to_string()];
        if self.ipam.is_some() {
            v.push(IPAM_DRIVER.to_string());
        }
        v
    }

    /// The HTTP service: every path goes to one handler, which knows the calls.
    pub fn router(self) -> Router {
        Router::new().fallback(handle).with_state(Arc::new(self))
    }

    /// Serve on `listener` until `shutdown` completes; connections in progress are finished.
    pub async fn serve(
        self,
        listener: UnixListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router()).with_graceful_shutdown(shutdown).await
    }
}

/// An answer: `status` and `body` as JSON with the plugin media type.
fn answer(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, PLUGIN_MIME)], bytes).into_response(),
        Err(e) => {
            failure(Protocol::Network, StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot encode the answer: {e}"))
        }
    }
}

/// An error answer with the message where `protocol`'s clients read it.
fn failure(protocol: Protocol, status: StatusCode, message: &str) -> Response {
    let body = match protocol {
        Protocol::Network => json!({ "Err": message }),
        Protocol::Ipam => json!({ "Err": message, "Error": message }),
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
    (status, [(header::CONTENT_TYPE, PLUGIN_MIME)], bytes).into_response()
}

/// A driver's error as an answer: 404 for a call it does not implement (Docker then treats an
/// optional call as done), 500 otherwise, as Docker's plugins answer.
fn driver_failure(protocol: Protocol, e: &DriverError) -> Response {
    let status = match e.kind {
        ErrorKind::NotImplemented => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    failure(protocol, status, &e.message)
}

/// Parse the body of `call` as its request; an empty body is refused (every call with a request
/// gets one from Docker).
fn parse<Req: DeserializeOwned>(call: &str, body: &[u8]) -> Result<Req, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(format!("{call}: the request has no body; expected a JSON object"));
    }
    serde_json::from_slice(body).map_err(|e| format!("{call}: the request is not valid JSON for this call: {e}"))
}

/// A call without a request: Docker sends `null` (or nothing); anything else must still be JSON.
fn check_empty(call: &str, body: &[u8]) -> Result<(), String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    serde_json::from_slice::<Value>(body).map(|_| ()).map_err(|e| format!("{call}: the request is not valid JSON: {e}"))
}

/// Run `f` (kernel work) off the async workers, and answer with its result.
async fn blocking<T: Serialize + Send + 'static>(
    protocol: Protocol,
    call: &str,
    f: impl FnOnce() -> DriverResult<T> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => answer(StatusCode::OK, &v),
        Ok(Err(e)) => {
            tracing::warn!(%call, "driver error: {}", e.message);
            driver_failure(protocol, &e)
        }
        Err(e) => failure(protocol, StatusCode::INTERNAL_SERVER_ERROR, &format!("{call}: the driver call failed: {e}")),
    }
}

/// Parse the request, then run `f` on it off the async workers.
async fn with_request<Req, T>(
    protocol: Protocol,
    call: &str,
    body: &[u8],
    f: impl FnOnce(Req) -> DriverResult<T> + Send + 'static,
) -> Response
where
    Req: DeserializeOwned + Send + 'static,
    T: Serialize + Send + 'static,
{
    match parse::<Req>(call, body) {
        Ok(req) => blocking(protocol, call, move || f(req)).await,
        Err(message) => failure(protocol, StatusCode::BAD_REQUEST, &message),
    }
}

/// The empty answer of a call that returns nothing.
fn done(r: DriverResult<()>) -> DriverResult<Value> {
    r.map(|()| json!({}))
}

async fn handle(State(server): State<Arc<PluginServer>>, method: Method, uri: Uri, body: Bytes) -> Response {
    let path = uri.path();
    let call = path.trim_start_matches('/').to_string();
    let protocol = if call.starts_with("IpamDriver.") { Protocol::Ipam } else { Protocol::Network };
    if method != Method::POST {
        let message = format!("{method} {path}: plugin calls are POST requests");
        return failure(protocol, StatusCode::METHOD_NOT_ALLOWED, &message);
    }
    tracing::debug!(%call, "plugin call");
    if call == "Plugin.Activate" {
        return match check_empty(&call, &body) {
            Ok(()) => answer(StatusCode::OK, &Manifest { implements: server.implements() }),
            Err(m) => failure(protocol, StatusCode::BAD_REQUEST, &m),
        };
    }
    let answered = match (call.split_once('.'), server.ipam.clone()) {
        (Some(("NetworkDriver", name)), _) => network_call(server.network.clone(), name, &call, &body).await,
        (Some(("IpamDriver", name)), Some(ipam)) => ipam_call(ipam, name, &call, &body).await,
        _ => None,
    };
    answered.unwrap_or_else(|| unknown(protocol, path, &server.implements()))
}

fn unknown(protocol: Protocol, path: &str, implements: &[String]) -> Response {
    let message =
        format!("unknown call {path}: this plugin implements {} (and Plugin.Activate)", implements.join(" and "));
    failure(protocol, StatusCode::NOT_FOUND, &message)
}

/// The answer to `NetworkDriver.<name>`; `None` for a call the protocol does not have.
async fn network_call(d: Arc<dyn NetworkDriver>, name: &str, call: &str, body: &[u8]) -> Option<Response> {
    let p = Protocol::Network;
    let answer = match name {
        "GetCapabilities" => match check_empty(call, body) {
            Ok(()) => blocking(p, call, move || d.get_capabilities()).await,
            Err(m) => failure(p, StatusCode::BAD_REQUEST, &m),
        },
        "CreateNetwork" => with_request(p, call, body, move |r| done(d.create_network(r))).await,
        "DeleteNetwork" => with_request(p, call, body, move |r| done(d.delete_network(r))).await,
        "CreateEndpoint" => with_request(p, call, body, move |r| create_endpoint(&*d, r)).await,
        "EndpointOperInfo" => with_request(p, call, body, move |r| d.endpoint_oper_info(r)).await,
        "DeleteEndpoint" => with_request(p, call, body, move |r| done(d.delete_endpoint(r))).await,
        "Join" => {
            with_request(p, call, body, move |r: JoinRequest| d.join(JoinRequest { sandbox_key: String::new(), ..r }))
                .await
        }
        "Leave" => with_request(p, call, body, move |r| done(d.leave(r))).await,
        "ProgramExternalConnectivity" => {
            with_request(p, call, body, move |r| done(d.program_external_connectivity(r))).await
        }
        "RevokeExternalConnectivity" => {
            with_request(p, call, body, move |r| done(d.revoke_external_connectivity(r))).await
        }
        "DiscoverNew" => with_request(p, call, body, move |r| done(d.discover_new(r))).await,
        "DiscoverDelete" => with_request(p, call, body, move |r| done(d.discover_delete(r))).await,
        // A swarm manager's calls for networks that need cluster-wide allocation: a local-scope
        // driver has nothing to allocate, as Docker's local drivers; weft's global drivers keep
        // their state in the cluster store, not with a swarm manager.
        "AllocateNetwork" | "FreeNetwork" => {
            let free = name == "FreeNetwork";
            let check = move |r: Value| -> DriverResult<Value> {
                if r.get("NetworkID").and_then(Value::as_str).is_none_or(str::is_empty) {
                    return Err(DriverError::invalid("the request has no NetworkID"));
                }
                let scope = d.get_capabilities()?.scope;
                match (scope.as_str(), free) {
                    ("local", false) => Ok(json!({ "Options": {} })),
                    ("local", true) => Ok(json!({})),
                    _ => Err(DriverError::new(
                        ErrorKind::NotImplemented,
                        format!(
                            "driver {} has {scope} scope and does not allocate networks through a swarm manager",
                            d.name()
                        ),
                    )),
                }
            };
            with_request(p, call, body, check).await
        }
        _ => return None,
    };
    Some(answer)
}

/// `CreateEndpoint`, answered the way Docker accepts: only what the request left empty.
fn create_endpoint(d: &dyn NetworkDriver, req: CreateEndpointRequest) -> DriverResult<CreateEndpointResponse> {
    let given = req.interface.clone().unwrap_or_default();
    let (network_id, endpoint_id) = (req.network_id.clone(), req.endpoint_id.clone());
    let mut resp = d.create_endpoint(req)?;
    let Some(got) = resp.interface.take() else { return Ok(resp) };
    let mut kept = EndpointInterface::default();
    let fields = [
        ("address", &given.address, got.address, &mut kept.address),
        ("IPv6 address", &given.address_ipv6, got.address_ipv6, &mut kept.address_ipv6),
        ("MAC address", &given.mac_address, got.mac_address, &mut kept.mac_address),
    ];
    for (what, given, answered, keep) in fields {
        if given.is_empty() {
            *keep = answered;
        } else if !answered.is_empty() && !same(what, given, &answered) {
            if let Err(e) = d.delete_endpoint(DeleteEndpointRequest { network_id, endpoint_id: endpoint_id.clone() }) {
                tracing::warn!("undo of endpoint {endpoint_id}: {e}");
            }
            return Err(DriverError::internal(format!(
                "driver {} changed the {what} of endpoint {endpoint_id} from {given} to {answered}",
                d.name()
            )));
        }
    }
    if kept != EndpointInterface::default() {
        resp.interface = Some(kept);
    }
    Ok(resp)
}

/// Two spellings of one address or MAC address (`02:42:AC:...` and `02:42:ac:...`).
fn same(what: &str, a: &str, b: &str) -> bool {
    if what == "MAC address" {
        return a.eq_ignore_ascii_case(b);
    }
    match (a.parse::<ipnet::IpNet>(), b.parse::<ipnet::IpNet>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The answer to `IpamDriver.<name>`; `None` for a call the protocol does not have.
async fn ipam_call(d: Arc<dyn IpamDriver>, name: &str, call: &str, body: &[u8]) -> Option<Response> {
    let p = Protocol::Ipam;
    let answer = match name {
        "GetCapabilities" => match check_empty(call, body) {
            Ok(()) => blocking(p, call, move || d.get_capabilities()).await,
            Err(m) => failure(p, StatusCode::BAD_REQUEST, &m),
        },
        "GetDefaultAddressSpaces" => match check_empty(call, body) {
            Ok(()) => blocking(p, call, move || d.get_default_address_spaces()).await,
            Err(m) => failure(p, StatusCode::BAD_REQUEST, &m),
        },
        "RequestPool" => with_request(p, call, body, move |r| d.request_pool(r)).await,
        "ReleasePool" => with_request(p, call, body, move |r| done(d.release_pool(r))).await,
        "RequestAddress" => with_request(p, call, body, move |r| d.request_address(r)).await,
        "ReleaseAddress" => with_request(p, call, body, move |r| done(d.release_address(r))).await,
        _ => return None,
    };
    Some(answer)
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
