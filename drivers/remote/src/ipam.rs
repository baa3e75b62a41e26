//! An IPAM driver served by a remote plugin: every `IpamDriver.*` call of Docker's protocol. IPAM
//! plugins put their error in `Error` (network plugins use `Err`).

use std::sync::Arc;

use libnet::protocol::*;
use libnet::{DriverResult, IpamDriver};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::client::PluginClient;

#[derive(Deserialize)]
struct Empty {}

/// A remote IPAM driver, under the plugin's name.
pub struct RemoteIpamDriver {
    client: Arc<PluginClient>,
    capabilities: IpamCapabilities,
}

impl RemoteIpamDriver {
    /// Ask for the capabilities once; a plugin without `GetCapabilities` has none (Docker's rule).
    pub fn new(client: Arc<PluginClient>) -> Result<RemoteIpamDriver, crate::Error> {
        let capabilities = match client.call("IpamDriver.GetCapabilities", None::<&()>, "Error") {
            Ok(c) => c,
            Err(e) if e.is_not_implemented() => IpamCapabilities::default(),
            Err(e) => return Err(e),
        };
        Ok(RemoteIpamDriver { client, capabilities })
    }

    fn call<Req: Serialize, Resp: DeserializeOwned>(&self, call: &str, req: Option<&Req>) -> DriverResult<Resp> {
        Ok(self.client.call(&format!("IpamDriver.{call}"), req, "Error")?)
    }
}

impl IpamDriver for RemoteIpamDriver {
    fn name(&self) -> &str {
        self.client.name()
    }

    fn get_capabilities(&self) -> DriverResult<IpamCapabilities> {
        Ok(self.capabilities.clone())
    }

    fn get_default_address_spaces(&self) -> DriverResult<AddressSpacesResponse> {
        self.call("GetDefaultAddressSpaces", None::<&()>)
    }

    fn request_pool(&self, req: RequestPoolRequest) -> DriverResult<RequestPoolResponse> {
        self.call("RequestPool", Some(&req))
    }

    fn release_pool(&self, req: ReleasePoolRequest) -> DriverResult<()> {
        self.call::<_, Empty>("ReleasePool", Some(&req)).map(|_| ())
    }

    fn request_address(&self, req: RequestAddressRequest) -> DriverResult<RequestAddressResponse> {
        self.call("RequestAddress", Some(&req))
    }

    fn release_address(&self, req: ReleaseAddressRequest) -> DriverResult<()> {
        self.call::<_, Empty>("ReleaseAddress", Some(&req)).map(|_| ())
    }
}
