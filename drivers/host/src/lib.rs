//! weft's host driver: the `host` network, whose containers share the host's own stack.

use std::sync::Mutex;

use libnet::protocol::*;
use libnet::{DriverError, DriverResult, NetworkDriver};

/// One network, no interfaces: joining it means using the host's namespace.
#[derive(Default)]
pub struct HostDriver {
    network: Mutex<Option<String>>,
}

impl HostDriver {
    pub fn new() -> Self {
        Self::default()
    }
}

impl NetworkDriver for HostDriver {
    fn name(&self) -> &str {
        "host"
    }
    fn get_capabilities(&self) -> DriverResult<CapabilitiesResponse> {
        Ok(CapabilitiesResponse { scope: "local".into(), connectivity_scope: String::new() })
    }
    fn create_network(&self, req: CreateNetworkRequest) -> DriverResult<()> {
        single_network(&self.network, "host", req.network_id)
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

/// Both the host and the null driver allow exactly one network, as Docker's do.
pub fn single_network(slot: &Mutex<Option<String>>, driver: &str, id: String) -> DriverResult<()> {
    let mut slot = slot.lock().map_err(|_| DriverError::internal(format!("{driver} driver state is poisoned")))?;
    match slot.as_ref() {
        Some(existing) if *existing != id => {
            Err(DriverError::forbidden(format!("only one instance of \"{driver}\" network is allowed")))
        }
        _ => {
            *slot = Some(id);
            Ok(())
        }
    }
}

/// Forget the one network of a host or null driver.
pub fn forget_network(slot: &Mutex<Option<String>>, id: &str) -> DriverResult<()> {
    let mut slot = slot.lock().map_err(|_| DriverError::internal("driver state is poisoned"))?;
    if slot.as_deref() == Some(id) {
        *slot = None;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_host_network() {
        let d = HostDriver::new();
        let req = |id: &str| CreateNetworkRequest { network_id: id.into(), ..Default::default() };
        d.create_network(req("a")).unwrap();
        d.create_network(req("a")).unwrap();
        let e = d.create_network(req("b")).unwrap_err();
        assert_eq!(e.message, "only one instance of \"host\" network is allowed");
        d.delete_network(DeleteNetworkRequest { network_id: "a".into() }).unwrap();
        d.create_network(req("b")).unwrap();
    }
}
