//! The server side of Docker's plugin protocol: any weft network driver (and optionally an IPAM
//! driver) served over HTTP/1.1 on a unix socket, so that dockerd, or any other CNM
//! implementation, can use it as a remote plugin.
//!
//! Every call is a POST of JSON to `/<Call>`; the answer is JSON with Docker's plugin media type.
//! The protocol's calls are answered by libnet's dispatch (`answer_network`, `answer_ipam`: the
//! one table of the calls is there); this server has none of its own, only Docker's side of the
//! wire around it. A request Docker would not send is answered 400. A driver's error is answered
//! with status 500 (404 when the driver does not implement the call, which Docker takes as
//! "optional call missing") and the message in `Err`, the field Docker's plugin client reads on
//! any non-200 answer; IPAM answers carry it in `Error` too, where Docker's IPAM client reads it
//! on a 200.
//!
//! Docker's adaptations, as hooks around the shared dispatch:
//! - before it, on the body (`check_body`): a call with a request must have a body, and one
//!   without takes `null` (what Docker sends) or nothing.
//! - before it, `Join` (`before_network_call`): Docker looks for the interface named in
//!   `InterfaceName.SrcName` in its own namespace and moves it into the sandbox itself; the
//!   sandbox may not even exist yet when Join is called. weft's drivers make the interface inside
//!   the sandbox when they are told its key (an optimisation libnet allows), so the key is not
//!   passed on.
//! - after it, `CreateEndpoint` (`after_network_call`): Docker refuses an answer that repeats an
//!   address or MAC address it gave ("driver modified interface address"), so what the request
//!   gave is left out of the answer; an answer that changes it is refused here, and the endpoint
//!   deleted again.
//! - instead of it: `Plugin.Activate`, and a swarm manager's `AllocateNetwork` and `FreeNetwork`
//!   (`swarm_allocation`), which are not driver calls.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use libnet::protocol::dispatch::{answer_ipam, answer_network, call_info, CallFailure, CallInfo};
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
        return Err(no_body(call));
    }
    serde_json::from_slice(body).map_err(|e| not_valid(call, &e))
}

fn no_body(call: &str) -> String {
    format!("{call}: the request has no body; expected a JSON object")
}

fn not_valid(call: &str, e: &serde_json::Error) -> String {
    format!("{call}: the request is not valid JSON for this call: {e}")
}

/// A call without a request: Docker sends `null` (or nothing); anything else must still be JSON.
fn check_empty(call: &str, body: &[u8]) -> Result<(), String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    serde_json::from_slice::<Value>(body).map(|_| ()).map_err(|e| format!("{call}: the request is not valid JSON: {e}"))
}

/// The hook before the shared dispatch, on the body as it came: Docker's bodies are stricter
/// than the dispatch asks (a call with a request has a body), and `null` is its empty request.
fn check_body(call: &CallInfo, body: &[u8]) -> Result<(), String> {
    if !call.takes_request {
        return check_empty(call.method, body);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(no_body(call.method));
    }
    Ok(())
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
    let served = match (call.split_once('.'), &server.ipam) {
        (Some(("NetworkDriver", name @ ("AllocateNetwork" | "FreeNetwork"))), _) => {
            let free = name == "FreeNetwork";
            return swarm_allocation(server.network.clone(), &call, &body, free).await;
        }
        (Some(("NetworkDriver", _)), _) => Served::Network(server.network.clone()),
        (Some(("IpamDriver", _)), Some(ipam)) => Served::Ipam(ipam.clone()),
        _ => return unknown(protocol, path, &server.implements()),
    };
    match call_info(&call) {
        Some(info) => protocol_call(protocol, served, info, body).await,
        None => unknown(protocol, path, &server.implements()),
    }
}

fn unknown(protocol: Protocol, path: &str, implements: &[String]) -> Response {
    let message =
        format!("unknown call {path}: this plugin implements {} (and Plugin.Activate)", implements.join(" and "));
    failure(protocol, StatusCode::NOT_FOUND, &message)
}

/// The driver a protocol call goes to.
enum Served {
    Network(Arc<dyn NetworkDriver>),
    Ipam(Arc<dyn IpamDriver>),
}

impl Served {
    /// The call answered through libnet's dispatch (the protocol's one table), with Docker's
    /// adaptations before and after it.
    fn answer(&self, call: &str, body: &[u8]) -> Result<Vec<u8>, CallFailure> {
        match self {
            Served::Network(d) => {
                let body = before_network_call(call, body);
                let answer = answer_network(&**d, call, &body)?;
                after_network_call(&**d, call, &body, answer)
            }
            Served::Ipam(d) => answer_ipam(&**d, call, body),
        }
    }
}

/// The answer to one of the protocol's calls: the body checked as Docker sends it, then the call
/// off the async workers, its failure answered with the status Docker's client expects.
async fn protocol_call(p: Protocol, served: Served, call: &'static CallInfo, body: Bytes) -> Response {
    if let Err(m) = check_body(call, &body) {
        return failure(p, StatusCode::BAD_REQUEST, &m);
    }
    let name = call.method;
    match tokio::task::spawn_blocking(move || served.answer(name, &body)).await {
        Ok(Ok(bytes)) => (StatusCode::OK, [(header::CONTENT_TYPE, PLUGIN_MIME)], bytes).into_response(),
        Ok(Err(CallFailure::BadRequest(e))) => failure(p, StatusCode::BAD_REQUEST, &not_valid(name, &e)),
        Ok(Err(CallFailure::Driver(e))) => {
            tracing::warn!(call = %name, "driver error: {}", e.message);
            driver_failure(p, &e)
        }
        Ok(Err(CallFailure::Unwritable(e))) => {
            failure(p, StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot encode the answer: {e}"))
        }
        // The dispatch knows every call `call_info` does: they are made from one table.
        Ok(Err(CallFailure::Unknown)) => failure(p, StatusCode::NOT_FOUND, &format!("unknown call /{name}")),
        Err(e) => failure(p, StatusCode::INTERNAL_SERVER_ERROR, &format!("{name}: the driver call failed: {e}")),
    }
}

/// A swarm manager's calls for networks that need cluster-wide allocation, answered here: a
/// local-scope driver has nothing to allocate, as Docker's local drivers; weft's global drivers
/// keep their state in the cluster store, not with a swarm manager.
async fn swarm_allocation(d: Arc<dyn NetworkDriver>, call: &str, body: &[u8], free: bool) -> Response {
    let p = Protocol::Network;
    let request = match parse::<Value>(call, body) {
        Ok(r) => r,
        Err(message) => return failure(p, StatusCode::BAD_REQUEST, &message),
    };
    let check = move || -> DriverResult<Value> {
        if request.get("NetworkID").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(DriverError::invalid("the request has no NetworkID"));
        }
        let scope = d.get_capabilities()?.scope;
        match (scope.as_str(), free) {
            ("local", false) => Ok(json!({ "Options": {} })),
            ("local", true) => Ok(json!({})),
            _ => Err(DriverError::new(
                ErrorKind::NotImplemented,
                format!("driver {} has {scope} scope and does not allocate networks through a swarm manager", d.name()),
            )),
        }
    };
    blocking(p, call, check).await
}

/// The hook before a network call: Docker looks for the interface `Join` names in its own
/// namespace and moves it itself, so the driver is not told the sandbox (see the module's doc).
/// A body that is not a `Join` request goes on as it came, for the dispatch to refuse.
fn before_network_call<'a>(call: &str, body: &'a [u8]) -> Cow<'a, [u8]> {
    if call != "NetworkDriver.Join" {
        return Cow::Borrowed(body);
    }
    let Ok(req) = serde_json::from_slice::<JoinRequest>(body) else { return Cow::Borrowed(body) };
    serde_json::to_vec(&JoinRequest { sandbox_key: String::new(), ..req }).map_or(Cow::Borrowed(body), Cow::Owned)
}

/// The hook after a network call: a `CreateEndpoint` answer keeps only what the request left
/// empty, as Docker accepts it.
fn after_network_call(
    d: &dyn NetworkDriver,
    call: &str,
    request: &[u8],
    answer: Vec<u8>,
) -> Result<Vec<u8>, CallFailure> {
    if call != "NetworkDriver.CreateEndpoint" {
        return Ok(answer);
    }
    // Both were just read or written by the dispatch.
    let req: CreateEndpointRequest = serde_json::from_slice(request).map_err(CallFailure::BadRequest)?;
    let resp: CreateEndpointResponse = serde_json::from_slice(&answer).map_err(CallFailure::Unwritable)?;
    let kept = only_what_was_left_empty(d, req, resp).map_err(CallFailure::Driver)?;
    serde_json::to_vec(&kept).map_err(CallFailure::Unwritable)
}

/// `CreateEndpoint`'s answer the way Docker accepts it: only what the request left empty. An
/// answer that changes what was given is refused, and the endpoint deleted again.
fn only_what_was_left_empty(
    d: &dyn NetworkDriver,
    req: CreateEndpointRequest,
    mut resp: CreateEndpointResponse,
) -> DriverResult<CreateEndpointResponse> {
    let given = req.interface.unwrap_or_default();
    let (network_id, endpoint_id) = (req.network_id, req.endpoint_id);
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

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
