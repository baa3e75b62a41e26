//! The container manager: records of containers, and their lifecycle (create, start, wait, stop,
//! kill, remove) over [`crate::runtime`] for the process and the libnet controller for networking.
//!
//! Each running container has a waiter, a std thread blocked in [`runtime::Container::wait`]. When
//! the container ends, the waiter records its exit code, releases its networking (as Docker does
//! when a container stops), cleans up its runtime state and removes it if `AutoRemove`, then
//! announces the exit on the container's watch channel, which `wait`, `stop` and followed `logs`
//! listen on.
//!
//! Daemon restart (this slice chooses "stop and clean up", not live restore): [`Manager::new`]
//! kills the init of every container an earlier weftd left (each holds a POSIX lock on a file in
//! its state directory for its whole life, so it is found whether or not a record names its
//! pid, and a recycled pid is never taken for one), marks those recorded as running exited with
//! 137 (or 255 when the init had already gone, as Docker shows an unknown exit),
//! releases its networking through the controller (which restored the sandboxes), and removes
//! sandboxes of containers that are not running. On SIGTERM, [`Manager::shutdown`] refuses new
//! starts, waits for those under way, stops every running container (SIGTERM, SIGKILL after 2 s)
//! and waits for the waiters to release their networking. Nothing leaks either way.
//!
//! Rooms: `record` (what a container is), `lifecycle` (its process, from start to removal),
//! `connect` (its networks while it exists), `reconcile` (what an earlier daemon left), and here
//! the manager itself, create and lookups.

mod dns;
pub mod etcfiles;
mod etcsetup;
mod image_use;
pub mod links;
pub use dns::DnsWiring;
pub use image_use::is_hostfs;
mod connect;
pub mod exec;
mod lifecycle;
pub mod logs;
mod names;
pub mod network;
pub mod ports;
mod reconcile;
mod record;
pub mod security;
pub mod stdio;
pub mod store;

pub use record::*;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use libnet::Controller;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use tokio::sync::watch;

use crate::images::Images;
use crate::runtime::{self, ContainerSpec, Rootfs};
use network::Attachment;
use store::ContainerStore;

/// The built-in image: the host's root, read-only.
pub const HOSTFS_IMAGE: &str = "hostfs";
/// How long [`Manager::shutdown`] gives a container between SIGTERM and SIGKILL.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

struct Table {
    store: ContainerStore,
    records: BTreeMap<String, ContainerRecord>,
    exits: HashMap<String, watch::Sender<Exits>>,
    /// Containers between "start asked" and "running or failed".
    starting: HashSet<String>,
    /// Set by [`Manager::shutdown`]: no container starts any more.
    shutting_down: bool,
    /// The live networking of each running container. Its lock orders changes to it: connect,
    /// disconnect and the waiter's release take it first, then the controller, then the table.
    /// `None` once the waiter has released it.
    live: HashMap<String, Arc<Mutex<Option<Attachment>>>>,
}

impl Table {
    fn exits_of(&mut self, id: &str) -> &watch::Sender<Exits> {
        self.exits.entry(id.to_string()).or_insert_with(|| watch::channel(Exits::default()).0)
    }

    /// Find a container as Docker does: full id, name (with or without `/`), unique id prefix.
    fn find(&self, key: &str) -> Result<&ContainerRecord, ContainerError> {
        let not_found = || ContainerError::NotFound(key.to_string());
        if key.is_empty() {
            return Err(not_found());
        }
        if let Some(r) = self.records.get(key) {
            return Ok(r);
        }
        let name = key.strip_prefix('/').unwrap_or(key);
        if let Some(r) = self.records.values().find(|r| r.name == name) {
            return Ok(r);
        }
        let mut by_prefix = self.records.values().filter(|r| r.id.starts_with(key));
        match (by_prefix.next(), by_prefix.next()) {
            (Some(r), None) => Ok(r),
            (Some(_), Some(_)) => {
                Err(ContainerError::InvalidParameter(format!("Multiple IDs found with provided prefix: {key}")))
            }
            _ => Err(not_found()),
        }
    }

    /// Whether another container runs (or is starting) in container `id`'s network namespace.
    fn netns_shared(&self, id: &str) -> bool {
        let mode = format!("container:{id}");
        self.records.values().any(|r| r.config.network_mode == mode && (r.running() || self.starting.contains(&r.id)))
    }

    fn put(&mut self, rec: ContainerRecord) -> Result<(), ContainerError> {
        self.store.put(&rec)?;
        self.records.insert(rec.id.clone(), rec);
        Ok(())
    }
}

struct Inner {
    controller: Arc<Mutex<Controller>>,
    data_root: PathBuf,
    exec_root: PathBuf,
    /// `weft-init`, every container's pid 1.
    init: PathBuf,
    /// The mount namespace containers start from (see [`runtime::MountTemplate`]).
    mount_template: Option<Arc<runtime::MountTemplate>>,
    images: Arc<Images>,
    table: Mutex<Table>,
    /// Notified whenever a start ends, for [`Manager::shutdown`] to wait on.
    start_ended: tokio::sync::Notify,
    /// The streams of running containers with a stdin or a terminal.
    io: stdio::IoTable,
    execs: exec::Registry,
    /// The embedded DNS, once the daemon sets it (see [`dns`]).
    dns: std::sync::OnceLock<DnsWiring>,
}

/// The daemon's containers. Cheap to clone; every clone is the same manager.
#[derive(Clone)]
pub struct Manager {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, ContainerError> {
    m.lock()
        .map_err(|_| ContainerError::Internal("container state is poisoned by an earlier panic; restart weftd".into()))
}

/// The start time of process `pid` (field 22 of `/proc/<pid>/stat`, in clock ticks after boot).
fn proc_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may hold spaces, start at field 3.
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

impl Manager {
    /// Open the container store and reconcile it with what is left of an earlier daemon (see the
    /// module docs). Call after the controller's restore.
    pub fn new(
        controller: Arc<Mutex<Controller>>,
        data_root: &Path,
        exec_root: &Path,
        init: &Path,
    ) -> Result<Manager, ContainerError> {
        std::fs::create_dir_all(data_root.join("containers"))
            .map_err(|e| ContainerError::Internal(format!("create {}: {e}", data_root.join("containers").display())))?;
        let store = ContainerStore::open(&data_root.join("containers.db"))?;
        let images = Arc::new(Images::open(data_root)?);
        let records = store.all()?.into_iter().map(|r| (r.id.clone(), r)).collect();
        let mount_template = match runtime::MountTemplate::new(&exec_root.join(libnet::marks::NETNS_DIR)) {
            Ok(t) => Some(Arc::new(t)),
            Err(e) => {
                tracing::warn!("{e}: containers start from weftd's own mount namespace, slower with many running");
                None
            }
        };
        let table = Table {
            store,
            records,
            exits: HashMap::new(),
            starting: HashSet::new(),
            shutting_down: false,
            live: HashMap::new(),
        };
        let m = Manager {
            inner: Arc::new(Inner {
                controller,
                data_root: data_root.to_path_buf(),
                exec_root: exec_root.to_path_buf(),
                init: init.to_path_buf(),
                mount_template,
                images,
                table: Mutex::new(table),
                start_ended: tokio::sync::Notify::new(),
                io: stdio::IoTable::default(),
                execs: exec::Registry::default(),
                dns: std::sync::OnceLock::new(),
            }),
        };
        m.reconcile()?;
        m.sweep_images();
        Ok(m)
    }

    /// The daemon's image store.
    pub fn images(&self) -> &Arc<Images> {
        &self.inner.images
    }

    fn table(&self) -> Result<MutexGuard<'_, Table>, ContainerError> {
        lock(&self.inner.table)
    }

    fn controller(&self) -> Result<MutexGuard<'_, Controller>, ContainerError> {
        lock(&self.inner.controller)
    }

    fn state_dir(&self, id: &str) -> PathBuf {
        self.inner.exec_root.join("containers").join(id)
    }

    /// Where a container's logs live: `stdout.log` and `stderr.log`.
    pub fn log_dir(&self, id: &str) -> PathBuf {
        self.inner.data_root.join("containers").join(id)
    }

    /// Every container, in creation order.
    pub fn list(&self) -> Result<Vec<ContainerRecord>, ContainerError> {
        let t = self.table()?;
        let mut v: Vec<ContainerRecord> = t.records.values().cloned().collect();
        v.sort_by_key(|r| r.created);
        Ok(v)
    }

    pub fn get(&self, key: &str) -> Result<ContainerRecord, ContainerError> {
        Ok(self.table()?.find(key)?.clone())
    }

    /// Run `f` on the controller (blocking).
    pub fn with_controller<T>(&self, f: impl FnOnce(&Controller) -> T) -> Result<T, ContainerError> {
        Ok(f(&*self.controller()?))
    }

    /// The networks a container joins, keyed by network name: the ones asked for plus the
    /// `NetworkMode` one, each checked with Docker's rules.
    fn resolve_endpoints(
        &self,
        mode: &str,
        asked: BTreeMap<String, EndpointConfig>,
    ) -> Result<BTreeMap<String, EndpointConfig>, ContainerError> {
        let c = self.controller()?;
        let mode_net = network::network_of_mode(mode);
        let mut resolved = BTreeMap::new();
        let mut exclusive = false;
        let wanted = asked.into_iter().chain(std::iter::once((mode_net.to_string(), EndpointConfig::default())));
        for (key, ep) in wanted {
            let net =
                c.network(network::network_of_mode(&key)).map_err(|_| ContainerError::NetworkNotFound(key.clone()))?;
            if resolved.contains_key(&net.name) {
                // The mode network given again with its settings: keep the settings.
                continue;
            }
            network::validate_endpoint(net, &ep).map_err(ContainerError::InvalidParameter)?;
            exclusive |= network::is_exclusive(net);
            resolved.insert(net.name.clone(), ep);
        }
        if exclusive && resolved.len() > 1 {
            return Err(ContainerError::InvalidParameter(
                "conflicting options: cannot attach both user-defined and non-user-defined network-modes".into(),
            ));
        }
        Ok(resolved)
    }

    /// Create a container record (nothing runs yet).
    pub fn create(&self, req: CreateRequest) -> Result<ContainerRecord, ContainerError> {
        let mut config = req.config;
        if let Some(other) = network::shared_container(&config.network_mode) {
            let other = self.table()?.find(other)?.id.clone();
            if !config.hostname.is_empty() {
                return Err(ContainerError::InvalidParameter(
                    "conflicting options: hostname and the network mode".into(),
                ));
            }
            if config.endpoints.values().any(|e| *e != EndpointConfig::default()) || config.endpoints.len() > 1 {
                return Err(ContainerError::InvalidParameter(
                    "conflicting options: networking options (--network-alias, --ip, --mac-address, more networks) and the network mode container"
                        .into(),
                ));
            }
            let conflicts = [
                (!config.dns.is_empty() || !config.dns_search.is_empty() || !config.dns_options.is_empty(), "conflicting options: dns and the network mode"),
                (!config.extra_hosts.is_empty(), "conflicting options: custom host-to-IP mapping and the network mode"),
                (!config.links.is_empty(), "conflicting options: container type network can't be used with links. This would result in undefined behavior"),
                (config.ports.publishes() || config.ports.publish_all, "conflicting options: port publishing and the container type network mode"),
                (!config.ports.exposed.is_empty(), "conflicting options: port exposing and the container type network mode"),
            ];
            if let Some((_, message)) = conflicts.iter().find(|(conflict, _)| *conflict) {
                return Err(ContainerError::InvalidParameter(message.to_string()));
            }
            config.network_mode = format!("container:{other}");
            config.endpoints.clear();
        } else {
            config.endpoints = self.resolve_endpoints(&config.network_mode, std::mem::take(&mut config.endpoints))?;
        }
        config.security.validate(config.network_mode == "host").map_err(ContainerError::InvalidParameter)?;
        let mut t = self.table()?;
        etcsetup::check_config(&t, &config)?;
        let image_id = self.apply_image(&t, &mut config)?;
        let user_root = if image_id.is_empty() { PathBuf::from("/") } else { self.inner.images.rootfs(&image_id) };
        config.security.check_user(&user_root).map_err(ContainerError::InvalidParameter)?;
        if config.cmd.is_empty() {
            return Err(ContainerError::InvalidParameter("No command specified".into()));
        }
        let name = match req.name.map(|n| n.trim_start_matches('/').to_string()).filter(|n| !n.is_empty()) {
            Some(n) => {
                if !valid_name(&n) {
                    return Err(ContainerError::InvalidParameter(format!(
                        "Invalid container name ({n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                    )));
                }
                if let Some(other) = t.records.values().find(|r| r.name == n) {
                    return Err(ContainerError::NameInUse { name: n, id: other.id.clone() });
                }
                n
            }
            None => names::generate(|n| t.records.values().any(|r| r.name == n)),
        };
        let rec = ContainerRecord {
            id: libnet::ids::random_hex_id(),
            name,
            created: SystemTime::now(),
            config,
            state: ContainerState {
                status: Status::Created,
                pid: 0,
                pid_start_time: 0,
                exit_code: 0,
                started_at: None,
                finished_at: None,
            },
            attachment: None,
            image_id,
        };
        t.put(rec.clone())?;
        t.exits_of(&rec.id);
        tracing::info!(container = %rec.name, id = %&rec.id[..12], "container created");
        Ok(rec)
    }

    /// Run blocking work (SQLite, the file system, the table lock) off the async threads.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Manager) -> Result<T, ContainerError> + Send + 'static,
    ) -> Result<T, ContainerError> {
        let m = self.clone();
        tokio::task::spawn_blocking(move || f(&m))
            .await
            .map_err(|e| ContainerError::Internal(format!("container operation failed: {e}")))?
    }

    /// A receiver of the container's exits, and its record, read together so no exit is missed.
    pub fn subscribe(&self, key: &str) -> Result<(ContainerRecord, watch::Receiver<Exits>), ContainerError> {
        let mut t = self.table()?;
        let rec = t.find(key)?.clone();
        let rx = t.exits_of(&rec.id).subscribe();
        Ok((rec, rx))
    }

    pub fn is_running(&self, id: &str) -> bool {
        self.table().ok().and_then(|t| t.records.get(id).map(|r| r.running())).unwrap_or(false)
    }
}
