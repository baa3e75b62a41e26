//! An example third-party driver, built against `libnet` and `plugins` only and loaded by weftd
//! like its own drivers: `weft network create -d example -o bridge=<name> --subnet ... net`
//! attaches each endpoint, as a veth pair, to an existing Linux bridge the operator made (with
//! `ip link add <name> type bridge`) and names. The bridge, its addresses and its forwarding stay
//! the operator's: the driver never creates or deletes it.
//!
//! cargo builds it as `libweft_example_driver.so`, a name weftd does not load, so a plain weftd
//! does not offer it. To use it, install it as `libweft_driver_example.so` in a driver directory
//! (`/usr/lib/weft/drivers`, or one given with `--driver-dir`), as a third party's driver would be.

use std::collections::HashMap;
use std::sync::Mutex;

use libnet::marks;
use libnet::osl::{Netlink, OslError};
use libnet::protocol::*;
use libnet::{DriverError, DriverResult, EndpointId, NetworkDriver};

/// The network option that names the bridge.
const BRIDGE_OPTION: &str = "bridge";

struct Network {
    bridge: String,
    /// The IPv4 and IPv6 gateways the user gave (without prefix), for Join.
    gateway: String,
    gateway_v6: String,
}

#[derive(Default)]
struct State {
    networks: HashMap<String, Network>,
    /// Endpoint id → its host-side veth.
    endpoints: HashMap<String, String>,
}

pub struct ExampleDriver {
    state: Mutex<State>,
}

fn os(what: &str, e: OslError) -> DriverError {
    DriverError::internal(format!("example driver: {what}: {e}"))
}

/// The gateway of the first pool, without its prefix length.
fn gateway(data: &[IpamData]) -> String {
    data.first().map(|d| d.gateway.split('/').next().unwrap_or("").to_string()).unwrap_or_default()
}

impl ExampleDriver {
    pub fn from_options(_options: &serde_json::Value) -> Result<ExampleDriver, String> {
        Ok(ExampleDriver { state: Mutex::new(State::default()) })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl NetworkDriver for ExampleDriver {
    fn name(&self) -> &str {
        "example"
    }

    fn get_capabilities(&self) -> DriverResult<CapabilitiesResponse> {
        Ok(CapabilitiesResponse { scope: "local".into(), connectivity_scope: String::new() })
    }

    fn create_network(&self, req: CreateNetworkRequest) -> DriverResult<()> {
        let generic = req.options.get(GENERIC_OPTIONS);
        let bridge = generic.and_then(|g| g.get(BRIDGE_OPTION)).and_then(|b| b.as_str()).unwrap_or("");
        if bridge.is_empty() {
            return Err(DriverError::invalid(
                "the example driver needs the bridge to attach to: -o bridge=<name> (an existing Linux bridge)",
            ));
        }
        let mut nl = Netlink::new().map_err(|e| os("netlink", e))?;
        match nl.link_by_name(bridge).map_err(|e| os("look up the bridge", e))? {
            Some(l) if l.kind.as_deref() == Some("bridge") => {}
            Some(l) => {
                return Err(DriverError::invalid(format!(
                    "{bridge} is not a bridge (it is a {} link): give a Linux bridge with -o bridge=",
                    l.kind.as_deref().unwrap_or("plain")
                )))
            }
            None => {
                return Err(DriverError::invalid(format!(
                    "bridge {bridge} does not exist: create it first (ip link add {bridge} type bridge)"
                )))
            }
        }
        let network = Network {
            bridge: bridge.to_string(),
            gateway: gateway(&req.ipv4_data),
            gateway_v6: gateway(&req.ipv6_data),
        };
        tracing::info!("network {} attaches to bridge {bridge}", &req.network_id[..12.min(req.network_id.len())]);
        self.state().networks.insert(req.network_id, network);
        Ok(())
    }

    fn delete_network(&self, req: DeleteNetworkRequest) -> DriverResult<()> {
        self.state().networks.remove(&req.network_id);
        Ok(())
    }

    fn create_endpoint(&self, req: CreateEndpointRequest) -> DriverResult<CreateEndpointResponse> {
        let mut st = self.state();
        let bridge = match st.networks.get(&req.network_id) {
            Some(n) => n.bridge.clone(),
            None => return Err(DriverError::not_found(format!("example driver: no network {}", req.network_id))),
        };
        let id = EndpointId::from_string(&req.endpoint_id);
        let (host, peer) = (marks::host_veth_name(&id), marks::peer_veth_name(&id));
        let mut nl = Netlink::new().map_err(|e| os("netlink", e))?;
        let master = nl
            .link_by_name(&bridge)
            .map_err(|e| os("look up the bridge", e))?
            .ok_or_else(|| DriverError::internal(format!("bridge {bridge} is gone")))?
            .index;
        nl.create_veth(&host, &peer, None, None).map_err(|e| os("create the veth pair", e))?;
        let attached = nl
            .link_by_name(&host)
            .and_then(|l| l.ok_or_else(|| OslError::new("find the new veth", None, host.clone())))
            .and_then(|l| nl.set_master(l.index, master).and_then(|()| nl.set_up(l.index)));
        if let Err(e) = attached {
            // Nothing half-made: the pair goes with the failure.
            let _ = nl.delete_link(&host);
            return Err(os(&format!("attach {host} to {bridge}"), e));
        }
        st.endpoints.insert(req.endpoint_id, host);
        // The addresses weft's IPAM chose are the endpoint's: nothing to add.
        Ok(CreateEndpointResponse::default())
    }

    fn delete_endpoint(&self, req: DeleteEndpointRequest) -> DriverResult<()> {
        let host = self.state().endpoints.remove(&req.endpoint_id);
        let host = host.unwrap_or_else(|| marks::host_veth_name(&EndpointId::from_string(&req.endpoint_id)));
        let mut nl = Netlink::new().map_err(|e| os("netlink", e))?;
        // Deleting one end deletes the pair, wherever the other end is; gone already is fine.
        if nl.link_by_name(&host).map_err(|e| os("look up the veth", e))?.is_some() {
            nl.delete_link(&host).map_err(|e| os(&format!("delete {host}"), e))?;
        }
        Ok(())
    }

    fn endpoint_oper_info(&self, req: EndpointInfoRequest) -> DriverResult<EndpointInfoResponse> {
        let mut info = EndpointInfoResponse::default();
        if let Some(host) = self.state().endpoints.get(&req.endpoint_id) {
            info.value.insert("com.weft.example.host_veth".into(), serde_json::json!(host));
        }
        Ok(info)
    }

    fn join(&self, req: JoinRequest) -> DriverResult<JoinResponse> {
        let st = self.state();
        let network = st
            .networks
            .get(&req.network_id)
            .ok_or_else(|| DriverError::not_found(format!("example driver: no network {}", req.network_id)))?;
        if !st.endpoints.contains_key(&req.endpoint_id) {
            return Err(DriverError::not_found(format!("example driver: no endpoint {}", req.endpoint_id)));
        }
        Ok(JoinResponse {
            interface_name: Some(InterfaceName {
                src_name: marks::peer_veth_name(&EndpointId::from_string(&req.endpoint_id)),
                dst_prefix: "eth".into(),
            }),
            gateway: network.gateway.clone(),
            gateway_ipv6: network.gateway_v6.clone(),
            ..Default::default()
        })
    }

    fn leave(&self, _req: LeaveRequest) -> DriverResult<()> {
        Ok(())
    }
}

plugins::export_network_driver!(name: "example", new: ExampleDriver::from_options);
