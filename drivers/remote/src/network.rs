//! A network driver served by a remote plugin: libnet's [`NetworkCaller`] over the plugin's
//! [`RemoteTransport`], registered as Docker registers one (its capabilities asked once and
//! checked), and the two answers Docker's remote driver refuses, refused here too.

use std::ops::Deref;
use std::sync::Arc;

use libnet::protocol::dispatch::{CallTransport, NetworkCaller};
use libnet::protocol::*;
use libnet::{DriverError, DriverResult, NetworkDriver};
use serde::Deserialize;
use serde_json::Value;

use crate::client::PluginClient;
use crate::transport::RemoteTransport;

/// A remote network driver, under the plugin's name. It is a [`NetworkCaller`] (it derefs to
/// one, and [`into_caller`](Self::into_caller) gives it to a controller).
pub struct RemoteNetworkDriver(NetworkCaller<RemoteTransport>);

impl RemoteNetworkDriver {
    /// Ask the plugin for its capabilities once, as Docker does when it registers a driver.
    pub fn new(client: Arc<PluginClient>) -> DriverResult<RemoteNetworkDriver> {
        let caller = NetworkCaller::new(client.name(), RemoteTransport::new(client.clone()));
        let capabilities = caller.get_capabilities()?;
        if !matches!(capabilities.scope.as_str(), "local" | "global") {
            return Err(crate::Error::Garbage {
                plugin: client.name().to_string(),
                call: "NetworkDriver.GetCapabilities".into(),
                reason: format!("Scope is \"{}\"; expected \"local\" or \"global\"", capabilities.scope),
            }
            .into());
        }
        Ok(RemoteNetworkDriver(caller))
    }

    /// The driver, for a controller.
    pub fn into_caller(self) -> NetworkCaller<RemoteTransport> {
        self.0
    }
}

impl Deref for RemoteNetworkDriver {
    type Target = NetworkCaller<RemoteTransport>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// The hook after each answer: Docker refuses a `CreateEndpoint` answer that changes what the
/// request gave, and a `Join` answer that names no interface; so does weft, and takes back what
/// the plugin made. An answer that cannot be read passes, for the caller to refuse.
pub(crate) fn check_answer(t: &RemoteTransport, method: &str, request: &[u8], answer: &[u8]) -> DriverResult<()> {
    match method {
        "NetworkDriver.CreateEndpoint" => check_endpoint(t, request, answer),
        "NetworkDriver.Join" => check_join(t, request, answer),
        _ => Ok(()),
    }
}

/// A driver may fill in what `given` left empty, never change what it holds.
fn changed(given: &str, answered: &str) -> bool {
    !given.is_empty() && !answered.is_empty() && given != answered
}

/// The network and endpoint a request names, as its undo's request.
fn ids(request: &[u8]) -> DeleteEndpointRequest {
    let v: Value = serde_json::from_slice(request).unwrap_or_default();
    let id = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    DeleteEndpointRequest { network_id: id("NetworkID"), endpoint_id: id("EndpointID") }
}

/// Send the undo `method` for what `request` made; a failure is logged as `what`.
fn undo(t: &RemoteTransport, method: &str, request: &[u8], what: &str) {
    let ids = ids(request);
    let undone = serde_json::to_vec(&ids)
        .map_err(|e| DriverError::internal(format!("{method}: the request cannot be written: {e}")))
        .and_then(|body| t.call(method, body));
    if let Err(e) = undone {
        tracing::warn!("undo of {what} {}: {e}", ids.endpoint_id);
    }
}

fn check_endpoint(t: &RemoteTransport, request: &[u8], answer: &[u8]) -> DriverResult<()> {
    const CALL: &str = "NetworkDriver.CreateEndpoint";
    let Ok(CreateEndpointResponse { interface: Some(got) }) = t.read(CALL, answer) else { return Ok(()) };
    let request_value: Value = serde_json::from_slice(request).unwrap_or_default();
    let Some(given) = request_value.get("Interface").and_then(|i| EndpointInterface::deserialize(i).ok()) else {
        return Ok(());
    };
    let what = [
        ("address", &given.address, &got.address),
        ("IPv6 address", &given.address_ipv6, &got.address_ipv6),
        ("MAC address", &given.mac_address, &got.mac_address),
    ]
    .into_iter()
    .find(|(_, g, a)| changed(g, a));
    let Some((what, g, a)) = what else { return Ok(()) };
    undo(t, "NetworkDriver.DeleteEndpoint", request, "endpoint");
    Err(DriverError::internal(format!(
        "plugin \"{}\": {CALL}: the plugin changed the endpoint's {what} from {g} to {a}",
        t.client().name()
    )))
}

fn check_join(t: &RemoteTransport, request: &[u8], answer: &[u8]) -> DriverResult<()> {
    const CALL: &str = "NetworkDriver.Join";
    let Ok(JoinResponse { interface_name: Some(name), .. }) = t.read(CALL, answer) else { return Ok(()) };
    if !name.src_name.is_empty() {
        return Ok(());
    }
    undo(t, "NetworkDriver.Leave", request, "the join of");
    Err(DriverError::internal(format!(
        "plugin \"{}\": {CALL}: invalid answer: InterfaceName has no SrcName",
        t.client().name()
    )))
}
