//! The daemon's DNS service: the shared name table and forwarder, and the listener of each sandbox
//! that is on a user-defined network. The engine adds and removes endpoints as containers start,
//! connect, disconnect and stop, and starts and stops listeners with their sandboxes.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libnet::osl::Netns;
use libnet::{EndpointId, SandboxId};

use crate::forward::Forwarder;
use crate::listener::{Listener, Ports};
use crate::records::{EndpointRecord, Records};
use crate::{redirect, DnsError, Upstreams};

/// Docker's bound on concurrent forwarded queries.
pub const DEFAULT_MAX_CONCURRENT: usize = 100;
/// How long one upstream server has to answer before the next is tried.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);

/// The service's settings.
#[derive(Debug, Clone)]
pub struct DnsConfig {
    /// Forwarded queries in flight over all sandboxes (`weftd --dns-max-concurrent`).
    pub max_concurrent: usize,
    /// Per upstream server.
    pub upstream_timeout: Duration,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig { max_concurrent: DEFAULT_MAX_CONCURRENT, upstream_timeout: DEFAULT_UPSTREAM_TIMEOUT }
    }
}

/// See the module docs. Share it with an `Arc`.
pub struct DnsService {
    records: Arc<Records>,
    forwarder: Arc<Forwarder>,
    listeners: Mutex<HashMap<SandboxId, Listener>>,
    runtime: tokio::runtime::Handle,
}

impl DnsService {
    /// A service whose listeners run on `runtime` (the daemon's).
    pub fn new(config: DnsConfig, runtime: tokio::runtime::Handle) -> DnsService {
        DnsService {
            records: Arc::new(Records::new()),
            forwarder: Arc::new(Forwarder::new(config.max_concurrent, config.upstream_timeout)),
            listeners: Mutex::new(HashMap::new()),
            runtime,
        }
    }

    /// The name table.
    pub fn records(&self) -> &Arc<Records> {
        &self.records
    }

    /// Start the resolver of the sandbox whose namespace is at `netns`, forwarding to
    /// `upstreams`, unless it has one already; its ports either way. Blocking (it enters the
    /// namespace on a thread of its own).
    pub fn start_sandbox(&self, sandbox: &SandboxId, netns: &Path, upstreams: Upstreams) -> Result<Ports, DnsError> {
        let mut listeners = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(l) = listeners.get(sandbox) {
            return Ok(l.ports());
        }
        let ns = Netns::open(netns)?;
        let listener = Listener::start(
            &self.runtime,
            &ns,
            sandbox.clone(),
            self.records.clone(),
            self.forwarder.clone(),
            upstreams,
        )?;
        let ports = listener.ports();
        if let Err(e) = redirect::install(&ns, ports.udp, ports.tcp) {
            drop(listeners);
            listener.stop();
            return Err(e);
        }
        tracing::info!(sandbox = %sandbox.short(), udp = ports.udp, tcp = ports.tcp, "DNS resolver listening on 127.0.0.11");
        listeners.insert(sandbox.clone(), listener);
        Ok(ports)
    }

    /// The ports of the sandbox's resolver, if it has one.
    pub fn ports(&self, sandbox: &SandboxId) -> Option<Ports> {
        self.listeners.lock().unwrap_or_else(|p| p.into_inner()).get(sandbox).map(Listener::ports)
    }

    /// Add or replace an endpoint's names; the next query of any sandbox sees them.
    pub fn upsert_endpoint(&self, record: EndpointRecord) {
        self.records.upsert(record);
    }

    /// Remove an endpoint's names.
    pub fn remove_endpoint(&self, endpoint: &EndpointId) {
        self.records.remove(endpoint);
    }

    /// Remove the sandbox's names and stop its resolver, waiting until its sockets are closed.
    /// Blocking. Nothing to do for a sandbox the service does not know.
    /// Whether its sockets are closed (or it had none).
    pub fn stop_sandbox(&self, sandbox: &SandboxId) -> bool {
        self.records.remove_sandbox(sandbox);
        let listener = self.listeners.lock().unwrap_or_else(|p| p.into_inner()).remove(sandbox);
        match listener {
            Some(l) => {
                let closed = l.stop();
                tracing::info!(sandbox = %sandbox.short(), "DNS resolver stopped");
                closed
            }
            None => true,
        }
    }

    /// Stop every resolver (daemon shutdown). Blocking.
    pub fn stop_all(&self) {
        let all: Vec<(SandboxId, Listener)> =
            self.listeners.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
        for (sandbox, l) in all {
            self.records.remove_sandbox(&sandbox);
            l.stop();
        }
    }
}
