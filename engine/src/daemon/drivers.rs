//! weftd's drivers: every network driver (and any IPAM driver but the default) comes from its library (`libweft_driver_<name>.so`,
//! found in `--driver-dir` or the default directories) through the `plugins` loader, the path a
//! third party's driver takes too; remote plugins are resolved on first use. A library that cannot
//! be loaded is logged, listed by `weft plugin ls` with its reason, and named in the error of a
//! command that asks for its driver.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Result};
use libnet::{Controller, DriverError, DriverResolver, DriverResult, IpamDriver, NetworkDriver};

use super::Config;

/// The drivers a network needs to exist: the default bridge, `host` and `none`.
const REQUIRED: [&str; 3] = ["bridge", "host", "null"];

/// One driver library weftd found, loaded or not.
#[derive(Debug, Clone)]
pub struct Library {
    /// The driver's name: the module's, or the file's when it could not be read.
    pub name: String,
    /// `NetworkDriver` or `IpamDriver`; empty if unknown.
    pub implements: String,
    pub path: PathBuf,
    /// The interface version it was built for; empty if unknown.
    pub interface: String,
    /// Why it is not used.
    pub error: Option<String>,
}

/// The daemon's settings a driver may use, as the JSON object every driver is made with.
fn driver_options(config: &Config) -> serde_json::Value {
    serde_json::json!({ "userland-proxy": config.userland_proxy, "mtu": config.mtu })
}

/// Load every driver library in the driver directories and register its driver. The first
/// library of a name wins, as in a PATH; the others are listed as shadowed.
pub fn load(config: &Config, controller: &mut Controller) -> Result<Vec<Library>> {
    let dirs = config.driver_dirs.clone().unwrap_or_else(plugins::default_dirs);
    let options = driver_options(config);
    let mut libraries: Vec<Library> = Vec::new();
    for path in plugins::scan(&dirs) {
        let file_name = plugins::name_from_path(&path).unwrap_or_default().to_string();
        if let Some(first) = libraries.iter().find(|l| l.name == file_name) {
            tracing::debug!("{} is not loaded: driver {file_name} comes from {}", path.display(), first.path.display());
            continue;
        }
        let mut library = Library {
            name: file_name,
            implements: String::new(),
            path: path.clone(),
            interface: String::new(),
            error: None,
        };
        match plugins::load(&path, &options, config.driver_timeout) {
            Ok(loaded) => {
                library.name = loaded.name.clone();
                library.implements = loaded.kind.as_str().to_string();
                library.interface = loaded.interface.clone();
                if libraries.iter().any(|l| l.name == loaded.name && l.error.is_none()) {
                    tracing::warn!("{} is not used: driver {} is already loaded", path.display(), loaded.name);
                    continue;
                }
                tracing::info!(
                    "driver {} loaded from {} (interface {})",
                    library.name,
                    path.display(),
                    library.interface
                );
                match loaded.into_driver() {
                    plugins::DylibDriver::Network(d) => controller.register_driver(Arc::new(d)),
                    plugins::DylibDriver::Ipam(d) => controller.register_ipam(Arc::new(d)),
                }
            }
            Err(e) => {
                tracing::error!("{e}");
                library.error = Some(e.to_string());
            }
        }
        libraries.push(library);
    }
    for name in REQUIRED {
        match libraries.iter().find(|l| l.name == name) {
            Some(Library { error: None, .. }) => {}
            Some(Library { error: Some(e), .. }) => bail!("cannot start without the {name} driver: {e}"),
            None => bail!(
                "cannot start without the {name} driver: no libweft_driver_{name}.so in {} (give the directory with --driver-dir)",
                dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
        }
    }
    Ok(libraries)
}

/// Resolves a driver no library gave: a library of that name that failed is the answer's error,
/// anything else is asked of the remote plugins.
pub struct Resolver {
    failed: BTreeMap<String, String>,
    remote: Arc<driver_remote::RemoteResolver>,
}

impl Resolver {
    pub fn new(libraries: &[Library], remote: Arc<driver_remote::RemoteResolver>) -> Resolver {
        let failed = libraries
            .iter()
            .filter_map(|l| {
                Some((l.name.clone(), format!("driver {} could not be loaded: {}", l.name, l.error.as_ref()?)))
            })
            .collect();
        Resolver { failed, remote }
    }
}

impl DriverResolver for Resolver {
    fn network_driver(&self, name: &str) -> DriverResult<Option<Arc<dyn NetworkDriver>>> {
        if let Some(e) = self.failed.get(name) {
            return Err(DriverError::internal(e.clone()));
        }
        self.remote.network_driver(name)
    }

    fn ipam_driver(&self, name: &str) -> DriverResult<Option<Arc<dyn IpamDriver>>> {
        if let Some(e) = self.failed.get(name) {
            return Err(DriverError::internal(e.clone()));
        }
        self.remote.ipam_driver(name)
    }
}
