//! An IPAM driver served by a remote plugin: libnet's [`IpamCaller`] over the plugin's
//! [`RemoteTransport`]. IPAM plugins put their error in `Error` (network plugins use `Err`).

use std::ops::Deref;
use std::sync::Arc;

use libnet::protocol::dispatch::IpamCaller;
use libnet::{DriverResult, IpamDriver};

use crate::client::PluginClient;
use crate::transport::RemoteTransport;

/// A remote IPAM driver, under the plugin's name. It is an [`IpamCaller`] (it derefs to one, and
/// [`into_caller`](Self::into_caller) gives it to a controller).
pub struct RemoteIpamDriver(IpamCaller<RemoteTransport>);

impl RemoteIpamDriver {
    /// Ask for the capabilities once; a plugin without `GetCapabilities` has none (Docker's rule).
    pub fn new(client: Arc<PluginClient>) -> DriverResult<RemoteIpamDriver> {
        let caller = IpamCaller::new(client.name().to_string(), RemoteTransport::new(client));
        caller.get_capabilities()?;
        Ok(RemoteIpamDriver(caller))
    }

    /// The driver, for a controller.
    pub fn into_caller(self) -> IpamCaller<RemoteTransport> {
        self.0
    }
}

impl Deref for RemoteIpamDriver {
    type Target = IpamCaller<RemoteTransport>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}
