//! The resolver libnet asks for drivers it does not know: find the plugin, activate it, check it
//! implements the kind asked for, and hand back a driver over it. Also lists the plugins found.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use libnet::{DriverError, DriverResolver, DriverResult, IpamDriver, NetworkDriver};

use crate::client::{CallOptions, Manifest, PluginClient};
use crate::discovery::PluginDirs;
use crate::error::Error;
use crate::{RemoteIpamDriver, RemoteNetworkDriver, IPAM_DRIVER, NETWORK_DRIVER};

/// A plugin as `weft plugin ls` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: String,
    /// `unix:///path` or `tcp://host:port`; empty when its spec file is wrong.
    pub address: String,
    /// What it implements (`NetworkDriver`, `IpamDriver`), once activated.
    pub implements: Vec<String>,
    /// Why it cannot be used, if it cannot.
    pub error: Option<String>,
}

/// Remote plugins found in directories, activated once each.
pub struct RemoteResolver {
    dirs: PluginDirs,
    options: CallOptions,
    active: Mutex<BTreeMap<String, (Arc<PluginClient>, Manifest)>>,
}

impl RemoteResolver {
    pub fn new(dirs: PluginDirs, options: CallOptions) -> RemoteResolver {
        RemoteResolver { dirs, options, active: Mutex::new(BTreeMap::new()) }
    }

    pub fn dirs(&self) -> &PluginDirs {
        &self.dirs
    }

    fn active(&self) -> MutexGuard<'_, BTreeMap<String, (Arc<PluginClient>, Manifest)>> {
        // Nothing is left half-changed by a panic while the map is held.
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The activated plugin `name`: `Ok(None)` when no directory has it.
    pub fn activate(&self, name: &str) -> Result<Option<(Arc<PluginClient>, Manifest)>, Error> {
        if let Some(a) = self.active().get(name) {
            return Ok(Some(a.clone()));
        }
        let Some(spec) = self.dirs.find(name)? else { return Ok(None) };
        let client = Arc::new(PluginClient::new(spec, self.options)?);
        let manifest = client.activate()?;
        tracing::info!(plugin = %name, address = %client.spec().address, implements = ?manifest.implements, "plugin activated");
        self.active().insert(name.to_string(), (client.clone(), manifest.clone()));
        Ok(Some((client, manifest)))
    }

    /// The activated plugin `name` if it implements `kind`.
    fn activate_as(&self, name: &str, kind: &'static str) -> DriverResult<Option<Arc<PluginClient>>> {
        let Some((client, manifest)) = self.activate(name)? else { return Ok(None) };
        if !manifest.implements.iter().any(|i| i == kind) {
            return Err(DriverError::from(Error::NotImplemented {
                plugin: name.to_string(),
                kind,
                implements: manifest.implements.join(", "),
            }));
        }
        Ok(Some(client))
    }

    /// Every plugin the directories hold. Those not activated yet are activated now, with one
    /// try and a short limit, so that a dead plugin does not hold the listing up.
    pub fn list(&self) -> Vec<PluginInfo> {
        let quick =
            CallOptions { timeout: self.options.timeout.min(Duration::from_secs(5)), retry_for: Duration::ZERO };
        let mut out = Vec::new();
        for (name, found) in self.dirs.scan() {
            let spec = match found {
                Ok(s) => s,
                Err(e) => {
                    out.push(PluginInfo {
                        name,
                        address: String::new(),
                        implements: Vec::new(),
                        error: Some(e.to_string()),
                    });
                    continue;
                }
            };
            let address = spec.address.to_string();
            let known = self.active().get(&name).map(|(_, m)| m.implements.clone());
            let (implements, error) = match known {
                Some(i) => (i, None),
                None => match PluginClient::new(spec, quick).and_then(|c| c.activate()) {
                    Ok(m) => (m.implements, None),
                    Err(e) => (Vec::new(), Some(e.to_string())),
                },
            };
            out.push(PluginInfo { name, address, implements, error });
        }
        for (name, (client, manifest)) in self.active().iter() {
            if !out.iter().any(|p| &p.name == name) {
                out.push(PluginInfo {
                    name: name.clone(),
                    address: client.spec().address.to_string(),
                    implements: manifest.implements.clone(),
                    error: Some(format!("{} is no longer in the plugin directories", client.spec().source.display())),
                });
            }
        }
        out
    }

    /// Whether `name` is a plugin this resolver activated (a driver of that name is remote).
    pub fn is_active(&self, name: &str) -> bool {
        self.active().contains_key(name)
    }
}

impl DriverResolver for RemoteResolver {
    fn network_driver(&self, name: &str) -> DriverResult<Option<Arc<dyn NetworkDriver>>> {
        let Some(client) = self.activate_as(name, NETWORK_DRIVER)? else { return Ok(None) };
        Ok(Some(Arc::new(RemoteNetworkDriver::new(client)?.into_caller())))
    }

    fn ipam_driver(&self, name: &str) -> DriverResult<Option<Arc<dyn IpamDriver>>> {
        let Some(client) = self.activate_as(name, IPAM_DRIVER)? else { return Ok(None) };
        Ok(Some(Arc::new(RemoteIpamDriver::new(client)?.into_caller())))
    }
}
