//! The controller: owns networks, endpoints and sandboxes, drives the drivers, keeps the store.
//!
//! ```no_run
//! use libnet::{Controller, ControllerConfig, NetworkCreate};
//! # fn drivers(c: &mut Controller) {}
//! let mut c = Controller::new(ControllerConfig::new("/var/lib/weft", "/run/weft")).unwrap();
//! drivers(&mut c); // register_driver(...) and register_ipam(...)
//! c.restore().unwrap();
//! let net = c.create_network(NetworkCreate::new("localnet")).unwrap();
//! println!("{}", net.id);
//! ```

mod endpoints;
mod external;
mod networks;
mod restore;
mod sandboxes;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::driver::{DriverResult, IpamDriver, NetworkDriver};
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::ids::{EndpointId, NetworkId, SandboxId};
use crate::network::Network;
use crate::osl::{Netlink, Netns};
use crate::sandbox::Sandbox;
use crate::store::Store;

pub use restore::RestoreReport;

/// Where the controller keeps its state.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// Persistent state (the SQLite store): `/var/lib/weft` by default.
    pub data_root: PathBuf,
    /// Runtime state (namespace mounts): `/run/weft` by default.
    pub exec_root: PathBuf,
}

impl ControllerConfig {
    /// State under `data_root` (the store), runtime state under `exec_root` (namespace mounts).
    pub fn new(data_root: impl Into<PathBuf>, exec_root: impl Into<PathBuf>) -> Self {
        Self { data_root: data_root.into(), exec_root: exec_root.into() }
    }
}

/// Finds a driver the controller does not have registered, by the name a user gave (Docker's
/// plugin lookup): `Ok(None)` when there is none of that name, an error when one was found but
/// cannot be used (it does not answer, or is not that kind of driver).
pub trait DriverResolver: Send + Sync {
    /// The network driver called `name`, if one can be found.
    fn network_driver(&self, name: &str) -> DriverResult<Option<Arc<dyn NetworkDriver>>>;
    /// The IPAM driver called `name`, if one can be found.
    fn ipam_driver(&self, name: &str) -> DriverResult<Option<Arc<dyn IpamDriver>>>;
}

/// The CNM controller. Not internally synchronised: a daemon wraps it in a mutex.
pub struct Controller {
    config: ControllerConfig,
    store: Store,
    // Behind mutexes only so that a lookup (`&self`) can register what the resolver found.
    drivers: Mutex<BTreeMap<String, Arc<dyn NetworkDriver>>>,
    ipams: Mutex<BTreeMap<String, Arc<dyn IpamDriver>>>,
    resolver: Option<Arc<dyn DriverResolver>>,
    networks: BTreeMap<NetworkId, Network>,
    endpoints: BTreeMap<EndpointId, Endpoint>,
    sandboxes: BTreeMap<SandboxId, Sandbox>,
    /// Endpoints dropped whose driver still owes their deletion, by endpoint.
    owed: BTreeMap<EndpointId, crate::endpoint::OwedDelete>,
    /// The namespace the controller treats as the host's (the caller's at `new`).
    host_ns: Netns,
    host: Netlink,
}

/// An address an IPAM driver handed out (`10.0.0.2/24`), or an error naming what it sent.
fn ipam_address(address: &str) -> Result<ipnet::IpNet> {
    address.parse().map_err(|_| {
        Error::Driver(crate::DriverError::internal(format!("IPAM driver returned an invalid address \"{address}\"")))
    })
}

impl Controller {
    /// Open the store under the data root and prepare the exec root. Nothing is loaded until
    /// [`Controller::restore`], so drivers can be registered first.
    pub fn new(config: ControllerConfig) -> Result<Controller> {
        for dir in [&config.data_root, &config.exec_root.join(crate::marks::NETNS_DIR)] {
            std::fs::create_dir_all(dir)
                .map_err(|e| crate::osl::OslError::io(format!("create directory {}", dir.display()), e))?;
        }
        let store = Store::open(&config.data_root.join("weft.db"))?;
        Ok(Controller {
            config,
            store,
            drivers: Mutex::new(BTreeMap::new()),
            ipams: Mutex::new(BTreeMap::new()),
            resolver: None,
            networks: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            sandboxes: BTreeMap::new(),
            owed: BTreeMap::new(),
            host_ns: Netns::current()?,
            host: Netlink::new()?,
        })
    }

    /// Where the controller keeps its state.
    pub fn config(&self) -> &ControllerConfig {
        &self.config
    }

    /// Register a network driver under its name (a later one of the same name replaces it).
    pub fn register_driver(&mut self, driver: Arc<dyn NetworkDriver>) {
        locked(&self.drivers).insert(driver.name().to_string(), driver);
    }

    /// Register an IPAM driver under its name.
    pub fn register_ipam(&mut self, ipam: Arc<dyn IpamDriver>) {
        locked(&self.ipams).insert(ipam.name().to_string(), ipam);
    }

    /// Install the resolver asked for drivers that are not registered (remote plugins, for
    /// weftd). What it finds is registered and used from then on.
    pub fn set_driver_resolver(&mut self, resolver: Arc<dyn DriverResolver>) {
        self.resolver = Some(resolver);
    }

    /// Names of the registered network drivers.
    pub fn driver_names(&self) -> Vec<String> {
        locked(&self.drivers).keys().cloned().collect()
    }

    /// Names of the registered IPAM drivers.
    pub fn ipam_names(&self) -> Vec<String> {
        locked(&self.ipams).keys().cloned().collect()
    }

    fn driver(&self, name: &str) -> Result<Arc<dyn NetworkDriver>> {
        if let Some(d) = locked(&self.drivers).get(name) {
            return Ok(d.clone());
        }
        let found = match &self.resolver {
            Some(r) => r.network_driver(name)?,
            None => None,
        };
        let d = found.ok_or_else(|| Error::UnknownDriver(name.to_string()))?;
        locked(&self.drivers).insert(name.to_string(), d.clone());
        Ok(d)
    }

    fn ipam(&self, name: &str) -> Result<Arc<dyn IpamDriver>> {
        if let Some(d) = locked(&self.ipams).get(name) {
            return Ok(d.clone());
        }
        let found = match &self.resolver {
            Some(r) => r.ipam_driver(name)?,
            None => None,
        };
        let d = found.ok_or_else(|| Error::UnknownIpamDriver(name.to_string()))?;
        locked(&self.ipams).insert(name.to_string(), d.clone());
        Ok(d)
    }

    /// Every network, ordered by name.
    pub fn networks(&self) -> Vec<&Network> {
        let mut v: Vec<&Network> = self.networks.values().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Find a network as Docker does: full id, then name, then a unique id prefix.
    pub fn network(&self, name_or_id: &str) -> Result<&Network> {
        let not_found = || Error::NetworkNotFound(name_or_id.to_string());
        if name_or_id.is_empty() {
            return Err(not_found());
        }
        if let Some(n) = self.networks.get(&NetworkId::from_string(name_or_id)) {
            return Ok(n);
        }
        if let Some(n) = self.networks.values().find(|n| n.name == name_or_id) {
            return Ok(n);
        }
        let mut by_prefix = self.networks.values().filter(|n| n.id.as_str().starts_with(name_or_id));
        match (by_prefix.next(), by_prefix.next()) {
            (Some(n), None) => Ok(n),
            (Some(_), Some(_)) => Err(Error::InvalidParameter(format!(
                "network {name_or_id} is ambiguous: more than one network id starts with it"
            ))),
            _ => Err(not_found()),
        }
    }

    /// Endpoints of a network, in creation order of their ids' storage.
    pub fn endpoints_of(&self, network: &NetworkId) -> Vec<&Endpoint> {
        self.endpoints.values().filter(|e| &e.network == network).collect()
    }

    /// The endpoint `id`.
    pub fn endpoint(&self, id: &EndpointId) -> Result<&Endpoint> {
        self.endpoints.get(id).ok_or_else(|| Error::EndpointNotFound(id.to_string()))
    }

    /// The sandbox `id`.
    pub fn sandbox(&self, id: &SandboxId) -> Result<&Sandbox> {
        self.sandboxes.get(id).ok_or_else(|| Error::SandboxNotFound(id.to_string()))
    }

    /// Every sandbox, in id order.
    pub fn sandboxes(&self) -> impl Iterator<Item = &Sandbox> {
        self.sandboxes.values()
    }

    fn netns_path(&self, id: &SandboxId) -> PathBuf {
        self.config.exec_root.join(crate::marks::NETNS_DIR).join(id.short())
    }

    /// A path that opens the host namespace while the controller lives (its open descriptor).
    fn host_ns_path(&self) -> PathBuf {
        self.host_ns.proc_path()
    }

    fn netns_dir(&self) -> PathBuf {
        self.config.exec_root.join(crate::marks::NETNS_DIR)
    }
}

/// A registry map; a panic while it was held cannot leave a map half-changed, so a poisoned
/// lock is still good.
fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a sandbox's namespace is still mounted at `path`, not a plain file left behind
/// ([`Netns::is_mounted_at`]: one statfs, as restore asks this of every sandbox).
fn is_netns_mount(path: &Path) -> bool {
    Netns::is_mounted_at(path)
}
