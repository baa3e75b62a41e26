//! weft's host driver: the `host` network, whose containers share the host's own stack.
//!
//! The host and null drivers differ only in their names: each allows one network and makes no
//! interfaces (joining `host` means using the host's namespace, joining `none` leaves only `lo`).
//! Both are a [`SingleNetworkDriver`]; the null driver's crate names its own.

use std::sync::Mutex;

use libnet::protocol::*;
use libnet::{DriverError, DriverResult, NetworkDriver};

/// A driver with exactly one network and no interfaces, as Docker's host and null drivers.
pub struct SingleNetworkDriver {
    name: &'static str,
    network: Mutex<Option<String>>,
}

impl SingleNetworkDriver {
    pub fn new(name: &'static str) -> Self {
        Self { name, network: Mutex::new(None) }
    }

    fn slot(&self) -> DriverResult<std::sync::MutexGuard<'_, Option<String>>> {
        self.network.lock().map_err(|_| DriverError::internal(format!("{} driver state is poisoned", self.name)))
    }
}

/// The `host` driver.
pub fn host_driver() -> SingleNetworkDriver {
    SingleNetworkDriver::new("host")
}

impl NetworkDriver for SingleNetworkDriver {
    fn name(&self) -> &str {
        self.name
    }
    fn get_capabilities(&self) -> DriverResult<CapabilitiesResponse> {
        Ok(CapabilitiesResponse { scope: "local".into(), connectivity_scope: String::new() })
    }
    fn create_network(&self, req: CreateNetworkRequest) -> DriverResult<()> {
        let mut slot = self.slot()?;
        match slot.as_ref() {
            Some(existing) if *existing != req.network_id => {
                Err(DriverError::forbidden(format!("only one instance of \"{}\" network is allowed", self.name)))
            }
            _ => {
                *slot = Some(req.network_id);
                Ok(())
            }
        }
    }
    fn delete_network(&self, req: DeleteNetworkRequest) -> DriverResult<()> {
        let mut slot = self.slot()?;
        if slot.as_deref() == Some(req.network_id.as_str()) {
            *slot = None;
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_host_network() {
        let d = host_driver();
        let req = |id: &str| CreateNetworkRequest { network_id: id.into(), ..Default::default() };
        d.create_network(req("a")).unwrap();
        d.create_network(req("a")).unwrap();
        let e = d.create_network(req("b")).unwrap_err();
        assert_eq!(e.message, "only one instance of \"host\" network is allowed");
        d.delete_network(DeleteNetworkRequest { network_id: "a".into() }).unwrap();
        d.create_network(req("b")).unwrap();
        assert!(d.join(JoinRequest::default()).unwrap().interface_name.is_none());
    }
}
