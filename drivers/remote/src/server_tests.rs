//! Tests of the plugin server, driven by this crate's own client (`RemoteNetworkDriver`,
//! `RemoteIpamDriver`) and by raw HTTP for what a client would never send.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libnet::protocol::*;
use libnet::{DriverError, DriverResult, ErrorKind, IpamDriver, NetworkDriver};
use serde_json::{json, Value};

use super::PluginServer;
use crate::discovery::{Address, PluginSpec};
use crate::{CallOptions, PluginClient, RemoteIpamDriver, RemoteNetworkDriver};

/// A driver that records every call and answers from its inputs; network "refused" and
/// endpoint "liar" take the error paths.
#[derive(Default)]
struct TestDriver {
    calls: Mutex<Vec<String>>,
    sandbox_keys: Mutex<Vec<String>>,
}

/// The ids the tests use (the protocol takes 64 hex digits only), and the names the driver's
/// record shows them by.
const N1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const E1: &str = "e111111111111111111111111111111111111111111111111111111111111111";
const REFUSED: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const LIAR: &str = "deaddeaddeaddeaddeaddeaddeaddeaddeaddeaddeaddeaddeaddeaddeaddead";

fn label(id: &str) -> &str {
    match id {
        N1 => "n1",
        E1 => "e1",
        REFUSED => "refused",
        LIAR => "liar",
        other => other,
    }
}

impl TestDriver {
    fn log(&self, call: &str, id: &str) {
        let named: Vec<&str> = id.split(' ').map(label).collect();
        self.calls.lock().unwrap().push(format!("{call} {}", named.join(" ")));
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl NetworkDriver for TestDriver {
    fn name(&self) -> &str {
        "test"
    }
    fn get_capabilities(&self) -> DriverResult<CapabilitiesResponse> {
        Ok(CapabilitiesResponse { scope: "local".into(), connectivity_scope: "global".into() })
    }
    fn create_network(&self, req: CreateNetworkRequest) -> DriverResult<()> {
        self.log("CreateNetwork", &format!("{} {}", req.network_id, req.ipv4_data[0].gateway));
        match req.network_id.as_str() {
            REFUSED => Err(DriverError::conflict("bridge br0 is already used by network 0123456789ab")),
            _ => Ok(()),
        }
    }
    fn delete_network(&self, req: DeleteNetworkRequest) -> DriverResult<()> {
        self.log("DeleteNetwork", &req.network_id);
        Ok(())
    }
    fn create_endpoint(&self, req: CreateEndpointRequest) -> DriverResult<CreateEndpointResponse> {
        self.log("CreateEndpoint", &req.endpoint_id);
        let given = req.interface.unwrap_or_default();
        // It repeats the address it was given (libnet takes that; Docker does not) and adds a MAC.
        let address = match req.endpoint_id.as_str() {
            LIAR => "10.9.9.9/24".to_string(),
            _ => given.address,
        };
        let interface = EndpointInterface { address, mac_address: "02:42:0a:00:00:02".into(), ..Default::default() };
        Ok(CreateEndpointResponse { interface: Some(interface) })
    }
    fn delete_endpoint(&self, req: DeleteEndpointRequest) -> DriverResult<()> {
        self.log("DeleteEndpoint", &req.endpoint_id);
        Ok(())
    }
    fn endpoint_oper_info(&self, req: EndpointInfoRequest) -> DriverResult<EndpointInfoResponse> {
        self.log("EndpointOperInfo", &req.endpoint_id);
        let mut value = BTreeMap::new();
        value.insert("veth".to_string(), json!("wv0123"));
        Ok(EndpointInfoResponse { value })
    }
    fn join(&self, req: JoinRequest) -> DriverResult<JoinResponse> {
        self.log("Join", &req.endpoint_id);
        self.sandbox_keys.lock().unwrap().push(req.sandbox_key);
        Ok(JoinResponse {
            interface_name: Some(InterfaceName { src_name: "wv0123p".into(), dst_prefix: "eth".into() }),
            gateway: "10.0.0.1".into(),
            static_routes: vec![StaticRoute {
                destination: "10.8.0.0/16".into(),
                route_type: 1,
                next_hop: String::new(),
            }],
            ..Default::default()
        })
    }
    fn leave(&self, req: LeaveRequest) -> DriverResult<()> {
        self.log("Leave", &req.endpoint_id);
        Ok(())
    }
    fn program_external_connectivity(&self, req: ProgramExternalConnectivityRequest) -> DriverResult<()> {
        self.log("ProgramExternalConnectivity", &format!("{} {}", req.endpoint_id, req.options.len()));
        Ok(())
    }
    fn revoke_external_connectivity(&self, req: RevokeExternalConnectivityRequest) -> DriverResult<()> {
        self.log("RevokeExternalConnectivity", &req.endpoint_id);
        Err(DriverError::new(ErrorKind::NotImplemented, "no ports here"))
    }
    fn discover_new(&self, n: DiscoveryNotification) -> DriverResult<()> {
        self.log("DiscoverNew", &n.discovery_data.to_string());
        Ok(())
    }
    fn discover_delete(&self, n: DiscoveryNotification) -> DriverResult<()> {
        self.log("DiscoverDelete", &n.discovery_data.to_string());
        Ok(())
    }
}

/// An IPAM driver with one pool; pool "busy" is refused.
struct TestIpam;

impl IpamDriver for TestIpam {
    fn name(&self) -> &str {
        "test"
    }
    fn get_capabilities(&self) -> DriverResult<IpamCapabilities> {
        Ok(IpamCapabilities { requires_mac_address: true, requires_request_replay: false })
    }
    fn get_default_address_spaces(&self) -> DriverResult<AddressSpacesResponse> {
        Ok(AddressSpacesResponse {
            local_default_address_space: "TestLocal".into(),
            global_default_address_space: "TestGlobal".into(),
        })
    }
    fn request_pool(&self, req: RequestPoolRequest) -> DriverResult<RequestPoolResponse> {
        if req.pool == "10.99.0.0/16" {
            return Err(DriverError::conflict("pool 10.99.0.0/16 overlaps with another one"));
        }
        Ok(RequestPoolResponse { pool_id: "p1".into(), pool: "10.5.0.0/16".into(), data: BTreeMap::new() })
    }
    fn release_pool(&self, _req: ReleasePoolRequest) -> DriverResult<()> {
        Ok(())
    }
    fn request_address(&self, req: RequestAddressRequest) -> DriverResult<RequestAddressResponse> {
        Ok(RequestAddressResponse { address: format!("10.5.0.7/16 in {}", req.pool_id), data: BTreeMap::new() })
    }
    fn release_address(&self, req: ReleaseAddressRequest) -> DriverResult<()> {
        Err(DriverError::not_found(format!("address {} is not allocated", req.address)))
    }
}

/// A served driver: the runtime, the socket, and the way to stop it.
struct Served {
    runtime: tokio::runtime::Runtime,
    socket: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start(server: PluginServer) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tp.sock");
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let listener = runtime.block_on(async { tokio::net::UnixListener::bind(&socket) }).unwrap();
        let done = runtime.spawn(server.serve(listener, async move {
            let _ = stopped.await;
        }));
        Served { runtime, socket, stop: Some(stop), done: Some(done), _dir: dir }
    }

    fn client(&self) -> Arc<PluginClient> {
        let spec = PluginSpec {
            name: "tp".into(),
            address: Address::Unix(self.socket.clone()),
            tls: None,
            source: self.socket.clone(),
        };
        let t = Duration::from_secs(10);
        Arc::new(PluginClient::new(spec, CallOptions { timeout: t, retry_for: t }).unwrap())
    }

    /// Stop the server and wait for it to end.
    fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let done = self.done.take().unwrap();
        self.runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(10), done).await })
            .unwrap()
            .unwrap()
            .unwrap();
    }
}

/// One raw HTTP exchange: the status, the head and the body.
fn raw(socket: &Path, method: &str, path: &str, body: &str) -> (u16, String, Value) {
    let mut s = UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn every_network_call_round_trips_through_the_remote_client() {
    let driver = Arc::new(TestDriver::default());
    let served = Served::start(PluginServer::new(driver.clone()));
    let client = served.client();
    assert_eq!(client.activate().unwrap().implements, ["NetworkDriver"]);
    let remote = RemoteNetworkDriver::new(client).unwrap();
    let caps = remote.get_capabilities().unwrap();
    assert_eq!((caps.scope.as_str(), caps.connectivity_scope.as_str()), ("local", "global"));

    let pool = IpamData { pool: "10.0.0.0/24".into(), gateway: "10.0.0.1/24".into(), ..Default::default() };
    let req = CreateNetworkRequest { network_id: N1.into(), ipv4_data: vec![pool], ..Default::default() };
    remote.create_network(req).unwrap();

    let given = EndpointInterface { address: "10.0.0.2/24".into(), ..Default::default() };
    let req = CreateEndpointRequest {
        network_id: N1.into(),
        endpoint_id: E1.into(),
        interface: Some(given),
        ..Default::default()
    };
    // The repeated address is left out (Docker refuses it); the MAC the driver chose is kept.
    let iface = remote.create_endpoint(req).unwrap().interface.unwrap();
    assert_eq!(iface, EndpointInterface { mac_address: "02:42:0a:00:00:02".into(), ..Default::default() });

    let ep = || DeleteEndpointRequest { network_id: N1.into(), endpoint_id: E1.into() };
    assert_eq!(remote.endpoint_oper_info(ep()).unwrap().value["veth"], "wv0123");
    let join = JoinRequest {
        network_id: N1.into(),
        endpoint_id: E1.into(),
        sandbox_key: "/var/run/docker/netns/0123".into(),
        ..Default::default()
    };
    let joined = remote.join(join).unwrap();
    assert_eq!(joined.interface_name.unwrap(), InterfaceName { src_name: "wv0123p".into(), dst_prefix: "eth".into() });
    assert_eq!(joined.gateway, "10.0.0.1");
    assert_eq!(joined.static_routes[0].destination, "10.8.0.0/16");
    // The driver makes the interface where Docker looks for it: not told the sandbox.
    assert_eq!(*driver.sandbox_keys.lock().unwrap(), [""]);

    let mut options = Options::new();
    options.insert("com.docker.network.portmap".into(), json!([]));
    let program = ProgramExternalConnectivityRequest { network_id: N1.into(), endpoint_id: E1.into(), options };
    remote.program_external_connectivity(program).unwrap();
    // The driver does not implement it: a 404, which the client (as Docker) takes as done.
    remote.revoke_external_connectivity(LeaveRequest { network_id: N1.into(), endpoint_id: E1.into() }).unwrap();
    remote.leave(LeaveRequest { network_id: N1.into(), endpoint_id: E1.into() }).unwrap();
    remote.delete_endpoint(ep()).unwrap();
    let node = DiscoveryNotification { discovery_type: 1, discovery_data: json!({"Address": "10.1.1.1"}) };
    remote.discover_new(node.clone()).unwrap();
    remote.discover_delete(node).unwrap();
    remote.delete_network(DeleteNetworkRequest { network_id: N1.into() }).unwrap();

    assert_eq!(
        driver.calls(),
        [
            "CreateNetwork n1 10.0.0.1/24",
            "CreateEndpoint e1",
            "EndpointOperInfo e1",
            "Join e1",
            "ProgramExternalConnectivity e1 1",
            "RevokeExternalConnectivity e1",
            "Leave e1",
            "DeleteEndpoint e1",
            "DiscoverNew {\"Address\":\"10.1.1.1\"}",
            "DiscoverDelete {\"Address\":\"10.1.1.1\"}",
            "DeleteNetwork n1",
        ]
    );
    served.stop();
}

#[test]
fn driver_errors_reach_the_client_with_their_message() {
    let driver = Arc::new(TestDriver::default());
    let served = Served::start(PluginServer::new(driver.clone()));
    let remote = RemoteNetworkDriver::new(served.client()).unwrap();
    let pool = IpamData { pool: "10.0.0.0/24".into(), gateway: "10.0.0.1/24".into(), ..Default::default() };
    let req = CreateNetworkRequest { network_id: REFUSED.into(), ipv4_data: vec![pool], ..Default::default() };
    let e = remote.create_network(req).unwrap_err();
    assert_eq!(
        e.message,
        "plugin \"tp\": NetworkDriver.CreateNetwork: bridge br0 is already used by network 0123456789ab"
    );

    // A driver that changes the address it was given is refused, and its endpoint deleted.
    let given = EndpointInterface { address: "10.0.0.3/24".into(), ..Default::default() };
    let req = CreateEndpointRequest {
        network_id: N1.into(),
        endpoint_id: LIAR.into(),
        interface: Some(given),
        ..Default::default()
    };
    let e = remote.create_endpoint(req).unwrap_err();
    assert!(
        e.message
            .ends_with(&format!("driver test changed the address of endpoint {LIAR} from 10.0.0.3/24 to 10.9.9.9/24")),
        "{e}"
    );
    assert_eq!(driver.calls()[1..], ["CreateEndpoint liar", "DeleteEndpoint liar"]);

    // As Docker's plugin client sees it: status 500, the message in Err, the plugin media type.
    let body = &format!(r#"{{"NetworkID":"{REFUSED}","IPv4Data":[{{"Pool":"10.0.0.0/24","Gateway":"10.0.0.1/24"}}]}}"#);
    let (status, head, body) = raw(&served.socket, "POST", "/NetworkDriver.CreateNetwork", body);
    assert_eq!(status, 500);
    assert!(head.contains("content-type: application/vnd.docker.plugins.v1.2+json"), "{head}");
    assert_eq!(body, json!({"Err": "bridge br0 is already used by network 0123456789ab"}));
    served.stop();
}

#[test]
fn bad_requests_unknown_calls_and_other_methods_are_named() {
    let served = Served::start(PluginServer::new(Arc::new(TestDriver::default())));
    let s = &served.socket;
    let (status, _, body) = raw(s, "POST", "/NetworkDriver.CreateNetwork", "{not json");
    assert_eq!(status, 400);
    let err = body["Err"].as_str().unwrap();
    assert!(err.starts_with("NetworkDriver.CreateNetwork: the request is not valid JSON for this call: "), "{err}");
    let (status, _, body) = raw(s, "POST", "/NetworkDriver.Join", &format!(r#"{{"NetworkID":"{N1}"}}"#));
    assert_eq!(status, 400);
    assert!(body["Err"].as_str().unwrap().contains("missing field `EndpointID`"), "{body}");
    // An id that is not 64 hex digits is refused before any driver sees it (a driver makes
    // link names of it).
    let odd = format!(r#"{{"NetworkID":"{N1}","EndpointID":"ééééééééééééé","SandboxKey":"/x"}}"#);
    let (status, _, body) = raw(s, "POST", "/NetworkDriver.Join", &odd);
    assert_eq!(status, 400);
    assert!(
        body["Err"].as_str().unwrap().contains(r#""ééééééééééééé" is not an id (64 lowercase hex digits)"#),
        "{body}"
    );
    let (status, _, body) = raw(s, "POST", "/NetworkDriver.Leave", "");
    assert_eq!(
        (status, body["Err"].as_str().unwrap()),
        (400, "NetworkDriver.Leave: the request has no body; expected a JSON object")
    );

    let (status, _, body) = raw(s, "POST", "/VolumeDriver.Create", "{}");
    assert_eq!(status, 404);
    assert_eq!(
        body["Err"],
        "unknown call /VolumeDriver.Create: this plugin implements NetworkDriver (and Plugin.Activate)"
    );
    let (status, _, body) = raw(s, "POST", "/NetworkDriver.Bogus", "{}");
    assert_eq!(
        (status, body["Err"].as_str().unwrap()),
        (404, "unknown call /NetworkDriver.Bogus: this plugin implements NetworkDriver (and Plugin.Activate)")
    );
    // No IPAM driver given: its calls are unknown too.
    let (status, _, _) = raw(s, "POST", "/IpamDriver.RequestPool", "{}");
    assert_eq!(status, 404);
    let (status, _, body) = raw(s, "GET", "/Plugin.Activate", "");
    assert_eq!((status, body["Err"].as_str().unwrap()), (405, "GET /Plugin.Activate: plugin calls are POST requests"));

    // What Docker sends to argument-less calls: `null`.
    let (status, _, body) = raw(s, "POST", "/Plugin.Activate", "null\n");
    assert_eq!((status, body), (200, json!({"Implements": ["NetworkDriver"]})));
    let (status, _, body) = raw(s, "POST", "/NetworkDriver.GetCapabilities", "null\n");
    assert_eq!((status, body), (200, json!({"Scope": "local", "ConnectivityScope": "global"})));
    // A swarm manager's allocation calls: nothing to allocate for a local driver.
    let (status, _, body) =
        raw(s, "POST", "/NetworkDriver.AllocateNetwork", &format!(r#"{{"NetworkID":"{N1}","Options":{{}}}}"#));
    assert_eq!((status, body), (200, json!({"Options": {}})));
    let (status, _, body) = raw(s, "POST", "/NetworkDriver.FreeNetwork", &format!(r#"{{"NetworkID":"{N1}"}}"#));
    assert_eq!((status, body), (200, json!({})));
    served.stop();
}

#[test]
fn ipam_calls_round_trip_and_errors_go_where_docker_reads_them() {
    let served = Served::start(PluginServer::new(Arc::new(TestDriver::default())).with_ipam(Arc::new(TestIpam)));
    let client = served.client();
    assert_eq!(client.activate().unwrap().implements, ["NetworkDriver", "IpamDriver"]);
    let ipam = RemoteIpamDriver::new(client).unwrap();
    assert!(ipam.get_capabilities().unwrap().requires_mac_address);
    assert_eq!(ipam.get_default_address_spaces().unwrap().local_default_address_space, "TestLocal");
    let pool =
        ipam.request_pool(RequestPoolRequest { address_space: "TestLocal".into(), ..Default::default() }).unwrap();
    assert_eq!((pool.pool_id.as_str(), pool.pool.as_str()), ("p1", "10.5.0.0/16"));
    let addr = ipam.request_address(RequestAddressRequest { pool_id: "p1".into(), ..Default::default() }).unwrap();
    assert_eq!(addr.address, "10.5.0.7/16 in p1");
    ipam.release_pool(ReleasePoolRequest { pool_id: "p1".into() }).unwrap();
    let (status, _, body) = raw(&served.socket, "POST", "/IpamDriver.Bogus", "{}");
    let message =
        "unknown call /IpamDriver.Bogus: this plugin implements NetworkDriver and IpamDriver (and Plugin.Activate)";
    assert_eq!((status, body), (404, json!({"Err": message, "Error": message})));
    let e =
        ipam.release_address(ReleaseAddressRequest { pool_id: "p1".into(), address: "10.5.0.8".into() }).unwrap_err();
    assert_eq!(e.message, "plugin \"tp\": IpamDriver.ReleaseAddress: address 10.5.0.8 is not allocated");
    let (status, _, body) =
        raw(&served.socket, "POST", "/IpamDriver.RequestPool", r#"{"AddressSpace":"TestLocal","Pool":"10.99.0.0/16"}"#);
    let message = "pool 10.99.0.0/16 overlaps with another one";
    assert_eq!((status, body), (500, json!({"Err": message, "Error": message})));
    served.stop();
}
