//! A network driver served by a remote plugin: every `NetworkDriver.*` call of Docker's protocol,
//! with the messages libnet already speaks.

use std::sync::Arc;

use libnet::protocol::*;
use libnet::{DriverError, DriverResult, NetworkDriver};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::client::PluginClient;

/// The answer of a call that returns nothing but maybe an error.
#[derive(Deserialize)]
struct Empty {}

/// A remote network driver, under the plugin's name.
pub struct RemoteNetworkDriver {
    client: Arc<PluginClient>,
    capabilities: CapabilitiesResponse,
}

impl RemoteNetworkDriver {
    /// Ask the plugin for its capabilities once, as Docker does when it registers a driver.
    pub fn new(client: Arc<PluginClient>) -> Result<RemoteNetworkDriver, crate::Error> {
        let capabilities: CapabilitiesResponse = client.call("NetworkDriver.GetCapabilities", None::<&()>, "Err")?;
        if !matches!(capabilities.scope.as_str(), "local" | "global") {
            return Err(crate::Error::Garbage {
                plugin: client.name().to_string(),
                call: "NetworkDriver.GetCapabilities".into(),
                reason: format!("Scope is \"{}\"; expected \"local\" or \"global\"", capabilities.scope),
            });
        }
        Ok(RemoteNetworkDriver { client, capabilities })
    }

    fn call<Req: Serialize, Resp: DeserializeOwned>(&self, call: &str, req: &Req) -> DriverResult<Resp> {
        Ok(self.client.call(&format!("NetworkDriver.{call}"), Some(req), "Err")?)
    }

    /// A call Docker lets a plugin leave out: a 404 is success.
    fn optional<Req: Serialize>(&self, call: &str, req: &Req) -> DriverResult<()> {
        match self.client.call::<_, Empty>(&format!("NetworkDriver.{call}"), Some(req), "Err") {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_implemented() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// A driver may fill in what `given` left empty, never change what it holds.
fn changed(given: &str, answered: &str) -> bool {
    !given.is_empty() && !answered.is_empty() && given != answered
}

impl NetworkDriver for RemoteNetworkDriver {
    fn name(&self) -> &str {
        self.client.name()
    }

    fn get_capabilities(&self) -> DriverResult<CapabilitiesResponse> {
        Ok(self.capabilities.clone())
    }

    fn create_network(&self, req: CreateNetworkRequest) -> DriverResult<()> {
        self.call::<_, Empty>("CreateNetwork", &req).map(|_| ())
    }

    fn delete_network(&self, req: DeleteNetworkRequest) -> DriverResult<()> {
        self.call::<_, Empty>("DeleteNetwork", &req).map(|_| ())
    }

    fn create_endpoint(&self, req: CreateEndpointRequest) -> DriverResult<CreateEndpointResponse> {
        let resp: CreateEndpointResponse = self.call("CreateEndpoint", &req)?;
        if let (Some(given), Some(got)) = (&req.interface, &resp.interface) {
            let what = [
                ("address", &given.address, &got.address),
                ("IPv6 address", &given.address_ipv6, &got.address_ipv6),
                ("MAC address", &given.mac_address, &got.mac_address),
            ]
            .into_iter()
            .find(|(_, g, a)| changed(g, a));
            if let Some((what, g, a)) = what {
                let undo =
                    DeleteEndpointRequest { network_id: req.network_id.clone(), endpoint_id: req.endpoint_id.clone() };
                if let Err(e) = self.delete_endpoint(undo) {
                    tracing::warn!("undo of endpoint {}: {e}", req.endpoint_id);
                }
                return Err(DriverError::internal(format!(
                    "plugin \"{}\": NetworkDriver.CreateEndpoint: the plugin changed the endpoint's {what} from {g} to {a}",
                    self.name()
                )));
            }
        }
        Ok(resp)
    }

    fn delete_endpoint(&self, req: DeleteEndpointRequest) -> DriverResult<()> {
        self.call::<_, Empty>("DeleteEndpoint", &req).map(|_| ())
    }

    fn endpoint_oper_info(&self, req: EndpointInfoRequest) -> DriverResult<EndpointInfoResponse> {
        self.call("EndpointOperInfo", &req)
    }

    fn join(&self, req: JoinRequest) -> DriverResult<JoinResponse> {
        let resp: JoinResponse = self.call("Join", &req)?;
        if resp.interface_name.as_ref().is_some_and(|i| i.src_name.is_empty()) {
            let undo = LeaveRequest { network_id: req.network_id.clone(), endpoint_id: req.endpoint_id.clone() };
            if let Err(e) = self.leave(undo) {
                tracing::warn!("undo of the join of {}: {e}", req.endpoint_id);
            }
            return Err(DriverError::internal(format!(
                "plugin \"{}\": NetworkDriver.Join: invalid answer: InterfaceName has no SrcName",
                self.name()
            )));
        }
        Ok(resp)
    }

    fn leave(&self, req: LeaveRequest) -> DriverResult<()> {
        self.call::<_, Empty>("Leave", &req).map(|_| ())
    }

    fn program_external_connectivity(&self, req: ProgramExternalConnectivityRequest) -> DriverResult<()> {
        self.optional("ProgramExternalConnectivity", &req)
    }

    fn revoke_external_connectivity(&self, req: RevokeExternalConnectivityRequest) -> DriverResult<()> {
        self.optional("RevokeExternalConnectivity", &req)
    }

    fn discover_new(&self, n: DiscoveryNotification) -> DriverResult<()> {
        self.optional("DiscoverNew", &n)
    }

    fn discover_delete(&self, n: DiscoveryNotification) -> DriverResult<()> {
        self.optional("DiscoverDelete", &n)
    }
}
