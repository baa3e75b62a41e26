//! weft's null driver: the `none` network, whose containers have only a loopback interface.

use std::sync::Mutex;

use driver_host::{forget_network, single_network};
use libnet::protocol::*;
use libnet::{DriverResult, NetworkDriver};

/// One network, no interfaces: a sandbox joined to it keeps only `lo`.
#[derive(Default)]
pub struct NullDriver {
    network: Mutex<Option<String>>,
}

impl NullDriver {
    pub fn new() -> Self {
        Self::default()
    }
}

impl NetworkDriver for NullDriver {
    fn name(&self) -> &str {
        "null"
    }
    fn get_capabilities(&self) -> DriverResult<CapabilitiesResponse> {
        Ok(CapabilitiesResponse { scope: "local".into(), connectivity_scope: String::new() })
    }
    fn create_network(&self, req: CreateNetworkRequest) -> DriverResult<()> {
        single_network(&self.network, "null", req.network_id)
    }
    fn delete_network(&self, req: DeleteNetworkRequest) -> DriverResult<()> {
        forget_network(&self.network, &req.network_id)
    }
    fn create_endpoint(&self, _req: CreateEndpointRequest) -> DriverResult<CreateEndpointResponse> {
        Ok(CreateEndpointResponse::default())
    }
    fn delete_endpoint(&self, _req: DeleteEndpointRequest) -> DriverResult<()> {
        Ok(())
    }
    fn endpoint_oper_info(&self, _req: EndpointInfoRequest) -> DriverResult<EndpointInfoResponse> {
        Ok(EndpointInfoResponse::default())
    }
    fn join(&self, _req: JoinRequest) -> DriverResult<JoinResponse> {
        Ok(JoinResponse::default())
    }
    fn leave(&self, _req: LeaveRequest) -> DriverResult<()> {
        Ok(())
    }
}
