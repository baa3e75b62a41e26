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

mod dns;
pub mod etcfiles;
mod etcsetup;
mod image_use;
pub mod links;
pub use dns::DnsWiring;
pub use image_use::is_hostfs;
pub mod exec;
pub mod logs;
mod names;
pub mod network;
pub mod ports;
pub mod security;
pub mod stdio;
pub mod store;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use libnet::Controller;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::images::Images;
use crate::runtime::{self, ContainerSpec, Rootfs};
use network::Attachment;
use store::ContainerStore;

/// The built-in image: the host's root, read-only.
pub const HOSTFS_IMAGE: &str = "hostfs";
/// How long [`Manager::shutdown`] gives a container between SIGTERM and SIGKILL.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Why a container operation failed; each maps to the HTTP status Docker uses.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("No such container: {0}")]
    NotFound(String),
    #[error("No such image: {0}")]
    NoSuchImage(String),
    #[error("No such exec instance: {0}")]
    NoSuchExec(String),
    #[error("network {0} not found")]
    NetworkNotFound(String),
    #[error("Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name.")]
    NameInUse { name: String, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    Network(#[from] libnet::Error),
    #[error("{0}")]
    Runtime(#[from] runtime::RuntimeError),
    #[error("container store: {0}")]
    Store(String),
    #[error("{0}")]
    Internal(String),
}

/// The configuration a client gives at create.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContainerConfig {
    pub hostname: String,
    pub image: String,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub network_mode: String,
    pub auto_remove: bool,
    /// Per network name: every network the container joins at start (the `NetworkMode` one
    /// included, unless it was disconnected), with the addresses and aliases asked for.
    pub endpoints: BTreeMap<String, EndpointConfig>,
    /// `HostConfig.Dns`, `DnsSearch`, `DnsOptions`: what the generated resolv.conf says.
    #[serde(default)]
    pub dns: Vec<String>,
    #[serde(default)]
    pub dns_search: Vec<String>,
    #[serde(default)]
    pub dns_options: Vec<String>,
    /// `HostConfig.ExtraHosts` (`name:ip`), lines of the generated hosts file.
    #[serde(default)]
    pub extra_hosts: Vec<String>,
    /// `HostConfig.Links` (`name[:alias]`), legacy links (see [`links`]).
    #[serde(default)]
    pub links: Vec<String>,
    /// Docker's `Tty`, `OpenStdin`, `StdinOnce`, `AttachStdin`/`Stdout`/`Stderr`.
    #[serde(default)]
    pub tty: bool,
    #[serde(default)]
    pub open_stdin: bool,
    #[serde(default)]
    pub stdin_once: bool,
    #[serde(default)]
    pub attach_stdin: bool,
    #[serde(default)]
    pub attach_stdout: bool,
    #[serde(default)]
    pub attach_stderr: bool,
    /// `Config.ExposedPorts`, `HostConfig.PortBindings` and `PublishAllPorts`.
    #[serde(default)]
    pub ports: ports::PortConfig,
    /// `--privileged`, `--cap-add`, `--security-opt`, `--user`, ... (see [`security`]).
    #[serde(default)]
    pub security: security::SecurityConfig,
    /// `Config.Labels` (`--label`).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// What a container asks of one network (Docker's `EndpointSettings`, the parts weft uses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointConfig {
    pub ipv4: Option<IpAddr>,
    #[serde(default)]
    pub ipv6: Option<IpAddr>,
    pub aliases: Vec<String>,
    #[serde(default)]
    pub mac: Option<String>,
}

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Exited,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
        }
    }
}

/// A container's state as Docker shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerState {
    pub status: Status,
    pub pid: u32,
    /// The init's start time (field 22 of `/proc/<pid>/stat`), so a restarted daemon kills a
    /// leftover only if `pid` still names that very process.
    #[serde(default)]
    pub pid_start_time: u64,
    pub exit_code: i32,
    pub started_at: Option<SystemTime>,
    pub finished_at: Option<SystemTime>,
}

/// A container as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    /// Without Docker's leading `/`.
    pub name: String,
    pub created: SystemTime,
    pub config: ContainerConfig,
    pub state: ContainerState,
    /// The networking made at start, released at stop.
    pub attachment: Option<Attachment>,
    /// The id of the stored image the container runs on; empty for `hostfs`.
    #[serde(default)]
    pub image_id: String,
}

impl ContainerRecord {
    pub fn running(&self) -> bool {
        self.state.status == Status::Running
    }
    /// The hostname the container gets: the configured one, else the short id.
    pub fn hostname(&self) -> String {
        if self.config.hostname.is_empty() {
            self.id[..12].to_string()
        } else {
            self.config.hostname.clone()
        }
    }
}

/// An exit as announced on a container's watch channel: how many exits so far, and the last code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exits {
    pub count: u64,
    pub code: i32,
}

/// The condition `wait` waits for (Docker's `condition` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
}

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

/// What a client asks for at create.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    pub name: Option<String>,
    pub config: ContainerConfig,
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, ContainerError> {
    m.lock()
        .map_err(|_| ContainerError::Internal("container state is poisoned by an earlier panic; restart weftd".into()))
}

/// Whether `name` is one Docker accepts: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Docker's refusals of `network connect`: a container that shares another's namespace, one in
/// `none` or `host` mode, and the `host` network itself.
fn check_connect(rec: &ContainerRecord, net: &libnet::Network, c: &Controller) -> Result<(), ContainerError> {
    let refuse = |m: &str| Err(ContainerError::InvalidParameter(m.to_string()));
    if network::shared_container(&rec.config.network_mode).is_some() {
        return refuse("container sharing network namespace with another container or host cannot be connected to any other network");
    }
    let on = |driver: &str| rec.config.endpoints.keys().any(|n| c.network(n).is_ok_and(|n| n.driver == driver));
    if net.driver == "host" || on("host") {
        return refuse("container cannot be disconnected from host network or connected to host network");
    }
    if (net.driver == "null" && !rec.config.endpoints.is_empty()) || on("null") {
        return refuse(
            "container cannot be connected to multiple networks with one of the networks in private (none) mode",
        );
    }
    Ok(())
}

/// A start writes the record it read before it began: a change of its networks meanwhile would
/// be lost, so none is taken.
fn refuse_while_starting(t: &Table, rec: &ContainerRecord) -> Result<(), ContainerError> {
    if t.starting.contains(&rec.id) {
        return Err(ContainerError::Conflict(format!(
            "container {} is starting: connect or disconnect it once it runs",
            rec.name
        )));
    }
    Ok(())
}

fn already_connected(rec: &ContainerRecord, net: &libnet::Network) -> ContainerError {
    ContainerError::Conflict(format!("endpoint with name {} already exists in network {}", rec.name, net.name))
}

/// Parse a signal as Docker takes it: `SIGUSR1`, `USR1`, `usr1` or `10`.
pub fn parse_signal(s: &str) -> Result<Signal, ContainerError> {
    let bad = || ContainerError::InvalidParameter(format!("Invalid signal: {s}"));
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| bad());
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    name.parse::<Signal>().map_err(|_| bad())
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

    /// Release a container's networking (see [`network::detach`]).
    fn detach(&self, att: &Attachment, unused: bool) -> Result<(), ContainerError> {
        let mut c = self.controller()?;
        network::detach(&mut c, att, unused)
            .map_err(|e| ContainerError::Internal(format!("could not release its networking: {e}")))
    }

    /// Release what a stopped container still holds because its waiter could not release it
    /// (a published port the kernel refused to remove): `rm` and `start` come here first, and
    /// fail while it fails.
    fn release_leftover(&self, id: &str) -> Result<(), ContainerError> {
        let (att, shared) = {
            let t = self.table()?;
            match t.records.get(id) {
                Some(r) if !r.running() => match &r.attachment {
                    Some(att) => (att.clone(), t.netns_shared(id)),
                    None => return Ok(()),
                },
                _ => return Ok(()),
            }
        };
        self.detach(&att, !shared)?;
        let mut t = self.table()?;
        if let Some(mut rec) = t.records.get(id).filter(|r| !r.running()).cloned() {
            rec.attachment = None;
            t.put(rec)?;
        }
        tracing::info!(container = %id, "networking left from the container's end released");
        Ok(())
    }

    fn state_dir(&self, id: &str) -> PathBuf {
        self.inner.exec_root.join("containers").join(id)
    }

    /// Where a container's logs live: `stdout.log` and `stderr.log`.
    pub fn log_dir(&self, id: &str) -> PathBuf {
        self.inner.data_root.join("containers").join(id)
    }

    /// Stop-and-clean-up of containers a previous daemon left running.
    fn reconcile(&self) -> Result<(), ContainerError> {
        let leftovers: Vec<ContainerRecord> =
            self.table()?.records.values().filter(|r| r.running() || r.attachment.is_some()).cloned().collect();
        // Their state directories are cleaned up together at the end, with one read of the
        // mount table.
        let mut state_dirs = Vec::new();
        // The inits still alive hold their container's init lock, recorded or not (a daemon
        // killed between the start and the commit of the pid leaves one no record knows).
        let mut inits: HashMap<String, u32> = HashMap::new();
        if let Ok(dir) = std::fs::read_dir(self.inner.exec_root.join("containers")) {
            for entry in dir.flatten() {
                if let Some(pid) = runtime::leftover_init(&entry.path()) {
                    inits.insert(entry.file_name().to_string_lossy().into_owned(), pid);
                }
            }
        }
        let kill = |pid: u32| nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGKILL).is_ok();
        for mut rec in leftovers {
            let mut code = 255;
            if let Some(pid) = inits.remove(&rec.id) {
                if kill(pid) && rec.running() {
                    code = 137;
                }
            }
            if let Some(att) = rec.attachment.take() {
                if let Err(e) = network::detach(&mut *self.controller()?, &att, true) {
                    tracing::error!("restore: release networking of container {}: {e}", rec.name);
                }
            }
            state_dirs.push(self.state_dir(&rec.id));
            if rec.running() {
                rec.state = ContainerState {
                    status: Status::Exited,
                    pid: 0,
                    pid_start_time: 0,
                    exit_code: code,
                    started_at: rec.state.started_at,
                    finished_at: Some(SystemTime::now()),
                };
            }
            tracing::info!(container = %rec.name, exit_code = rec.state.exit_code, "restore: container stopped");
            let mut t = self.table()?;
            if rec.config.auto_remove {
                t.store.delete(&rec.id)?;
                t.records.remove(&rec.id);
                let _ = std::fs::remove_dir_all(self.log_dir(&rec.id));
            } else {
                t.put(rec)?;
            }
        }
        for (id, pid) in inits {
            if kill(pid) {
                tracing::info!("restore: killed the init {pid} of container {id}, left by an earlier weftd");
            }
        }
        // Sandboxes of no running container: a daemon killed between attach and the record.
        let mut c = self.controller()?;
        for container in network::release_orphans(&mut c, |_| false) {
            tracing::info!("restore: released the networking of container {container}");
        }
        // Endpoints outside any sandbox: the engine joins each one as soon as it is made, so
        // these are from a daemon killed in between.
        for endpoint in network::delete_unjoined(&mut c) {
            tracing::info!("restore: deleted endpoint {endpoint}, never joined");
        }
        drop(c);
        if let Ok(dir) = std::fs::read_dir(self.inner.exec_root.join("containers")) {
            state_dirs.extend(dir.flatten().map(|e| e.path()));
        }
        state_dirs.sort();
        state_dirs.dedup();
        for err in runtime::cleanup_all(&state_dirs) {
            tracing::warn!("restore: {err}");
        }
        Ok(())
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

    /// Start a container: networking, then the process, then its waiter. `Ok(false)` if it was
    /// already running. Blocking.
    pub fn start(&self, key: &str) -> Result<bool, ContainerError> {
        let rec = {
            let mut t = self.table()?;
            let rec = t.find(key)?.clone();
            if t.shutting_down {
                return Err(ContainerError::Conflict(format!(
                    "cannot start container \"/{}\": weftd is shutting down",
                    rec.name
                )));
            }
            if rec.running() {
                return Ok(false);
            }
            if !t.starting.insert(rec.id.clone()) {
                return Err(ContainerError::Conflict(format!("container {} is already starting", rec.id)));
            }
            rec
        };
        let result = self
            .release_leftover(&rec.id)
            .map_err(|e| ContainerError::Internal(format!("cannot start container \"/{}\": {e}", rec.name)))
            .and_then(|()| self.start_unmarked(rec.clone()));
        if let Ok(mut t) = self.table() {
            t.starting.remove(&rec.id);
        }
        self.inner.start_ended.notify_waiters();
        result.map(|()| true)
    }

    /// The namespace of the container a `container:<id>` mode shares: it must be running.
    /// `None` inside means the host's (the other container runs in host mode).
    fn shared_netns(&self, rec: &ContainerRecord, other: &str) -> Result<Option<PathBuf>, ContainerError> {
        let t = self.table()?;
        let other = t.find(other)?;
        if other.id == rec.id {
            return Err(ContainerError::InvalidParameter("cannot join own network namespace".into()));
        }
        // A pid of 0: it has ended and its waiter is releasing its namespace.
        let netns = match (other.running() && other.state.pid != 0, &other.attachment) {
            (true, Some(att)) => att.netns.clone(),
            _ => {
                return Err(ContainerError::Conflict(format!(
                    "cannot join network namespace of a non running container: {}",
                    other.name
                )))
            }
        };
        Ok(netns)
    }

    fn start_unmarked(&self, mut rec: ContainerRecord) -> Result<(), ContainerError> {
        let (attachment, netns) = match network::shared_container(&rec.config.network_mode) {
            Some(other) => (None, self.shared_netns(&rec, other)?),
            None => {
                let networks: Vec<(String, EndpointConfig)> =
                    network::join_order(&rec.config.network_mode, &rec.config.endpoints)
                        .into_iter()
                        .map(|n| {
                            let ep = rec.config.endpoints.get(&n).cloned().unwrap_or_default();
                            (n, ep)
                        })
                        .collect();
                let options = rec.config.ports.endpoint_options();
                let attached = network::attach(&mut *self.controller()?, &rec.id, &rec.name, &networks, &options);
                let att = attached.map_err(|e| self.name_port_holder(e))?;
                let netns = att.netns.clone();
                (Some(att), netns)
            }
        };
        let undo = |m: &Manager| {
            if let Some(attachment) = &attachment {
                let closed = m.dns_release(attachment);
                match m.controller() {
                    Ok(mut c) => {
                        if let Err(e) = network::detach(&mut c, attachment, closed) {
                            tracing::warn!("undo of a failed start: {e}");
                        }
                    }
                    Err(e) => tracing::warn!("undo of a failed start: {e}"),
                }
            }
            if let Err(e) = runtime::cleanup(&m.state_dir(&rec.id)) {
                tracing::warn!("undo of a failed start: {e}");
            }
        };
        let spawned = attachment
            .as_ref()
            .map_or(Ok(()), |att| self.dns_sync(&rec, att))
            .and_then(|()| self.write_etc_files(&rec, attachment.as_ref()))
            .and_then(|etc| self.spawn_process(&rec, netns, etc));
        let container = match spawned {
            Ok(c) => c,
            Err(e) => {
                undo(self);
                return Err(e);
            }
        };
        rec.state = ContainerState {
            status: Status::Running,
            pid: container.pid(),
            pid_start_time: proc_start_time(container.pid()).unwrap_or(0),
            exit_code: 0,
            started_at: Some(SystemTime::now()),
            finished_at: None,
        };
        rec.attachment = attachment.clone();
        let id = rec.id.clone();
        let live = Arc::new(Mutex::new(attachment));
        let committed = self.table().and_then(|mut t| {
            if !t.records.contains_key(&id) {
                Err(ContainerError::NotFound(id.clone()))
            } else {
                t.exits_of(&id);
                t.live.insert(id.clone(), live.clone());
                t.put(rec)
            }
        });
        if committed.is_err() {
            // By the pid we hold, not the record's: the process is ours and not yet reaped.
            let _ = container.kill(Signal::SIGKILL);
        }
        // The waiter owns the process and its networking from here, even if the record failed:
        // it releases all.
        let m = self.clone();
        let waiter_id = id.clone();
        // A task, not a thread, per container: see `runtime::Container::exited`.
        let wait = async move {
            let ended = container.exited().await;
            let finished = tokio::task::spawn_blocking(move || {
                match ended {
                    // Ended but not reaped: from here no signal may use its pid, then it is reaped.
                    Ok(()) => m.forget_pid(&waiter_id),
                    // No pidfd (out of descriptors, say): wait for it on this thread instead.
                    Err(e) => tracing::warn!("{e}: waiting for container {waiter_id} on a thread"),
                }
                let code = match container.wait() {
                    Ok(code) => code,
                    Err(e) => {
                        tracing::error!("{e}");
                        255
                    }
                };
                // Its terminal's output all in the log before the exit is announced.
                m.inner.io.end(&waiter_id);
                m.finish(&waiter_id, code, &live);
            });
            if let Err(e) = finished.await {
                tracing::error!("the end of a container failed: {e}");
            }
        };
        let spawned = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(wait);
                Ok(())
            }
            // Outside a runtime (the manager driven from plain threads): a thread of its own.
            Err(_) => std::thread::Builder::new()
                .name(format!("wait-{}", &id[..12]))
                .spawn(move || match tokio::runtime::Builder::new_current_thread().enable_io().build() {
                    Ok(rt) => rt.block_on(wait),
                    Err(e) => tracing::error!("cannot wait for a container: {e}"),
                })
                .map(|_| ()),
        };
        if let Err(e) = spawned {
            return Err(ContainerError::Internal(format!("cannot start the waiter: {e}")));
        }
        committed?;
        tracing::info!(container = %id, "container started");
        Ok(())
    }

    fn spawn_process(
        &self,
        rec: &ContainerRecord,
        netns: Option<PathBuf>,
        etc: etcsetup::EtcSetup,
    ) -> Result<runtime::Container, ContainerError> {
        let logs = self.log_dir(&rec.id);
        std::fs::create_dir_all(&logs)
            .map_err(|e| ContainerError::Internal(format!("create log directory {}: {e}", logs.display())))?;
        let open = |name: &str| {
            let p = logs.join(name);
            // Root's only, as Docker's json-file logs: a container's output may hold secrets.
            std::os::unix::fs::OpenOptionsExt::mode(std::fs::File::options().create(true).append(true), 0o600)
                .open(&p)
                .map_err(|e| ContainerError::Internal(format!("open log {}: {e}", p.display())))
        };
        let split = |kv: &String| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv.clone(), String::new()),
        };
        let own: Vec<(String, String)> = rec.config.env.iter().map(split).collect();
        // Link variables first; the container's own win, as in Docker.
        let mut env: Vec<(String, String)> =
            etc.link_env.iter().map(split).filter(|(k, _)| !own.iter().any(|(o, _)| o == k)).collect();
        env.extend(own);
        let rootfs = match rec.image_id.as_str() {
            "" => Rootfs::Hostfs,
            // The writable layer next to the logs: kept across stop and start, gone with `rm`.
            id => Rootfs::Dir { image: self.inner.images.rootfs(id), layer: self.log_dir(&rec.id).join("layer") },
        };
        let (confinement, home) = self.confinement(rec)?;
        if let Some(home) = home.filter(|_| !env.iter().any(|(k, _)| k == "HOME")) {
            env.push(("HOME".into(), home));
        }
        let mut streams = stdio::prepare(&self.inner.io, rec)?;
        let spec = ContainerSpec {
            rootfs,
            state_dir: self.state_dir(&rec.id),
            netns,
            hostname: rec.hostname(),
            argv: rec.config.cmd.clone(),
            env,
            workdir: Some(rec.config.working_dir.clone()).filter(|w| !w.is_empty()),
            stdin: streams.stdin.take(),
            stdout: open(logs::STDOUT)?,
            stderr: open(logs::STDERR)?,
            file_binds: etc.binds,
            tty: streams.tty,
            confinement,
            init: self.inner.init.clone(),
            mount_template: self.inner.mount_template.clone(),
        };
        let mut container = runtime::spawn(spec)?;
        streams.started(&mut container, rec.config.open_stdin, &logs);
        Ok(container)
    }

    /// Where a container's `/etc/passwd` is read: its image, or the host's root for hostfs.
    fn user_root(&self, rec: &ContainerRecord) -> PathBuf {
        match rec.image_id.as_str() {
            "" => PathBuf::from("/"),
            id => self.inner.images.rootfs(id),
        }
    }

    /// The container's confinement for a start, and the home directory of its user. A hostfs
    /// container does not see weftd's own data and exec roots.
    fn confinement(&self, rec: &ContainerRecord) -> Result<(runtime::Confinement, Option<String>), ContainerError> {
        let hidden: Vec<String> = if rec.image_id.is_empty() {
            [&self.inner.data_root, &self.inner.exec_root].iter().map(|p| p.display().to_string()).collect()
        } else {
            Vec::new()
        };
        rec.config.security.confinement(&self.user_root(rec), &hidden).map_err(ContainerError::InvalidParameter)
    }

    /// The limits of a process `exec`'d in `rec` (see [`security::SecurityConfig::exec_limits`]).
    pub(crate) fn exec_limits(
        &self,
        rec: &ContainerRecord,
        user: Option<&str>,
        privileged: bool,
    ) -> Result<runtime::ProcessLimits, ContainerError> {
        rec.config
            .security
            .exec_limits(&self.user_root(rec), user, privileged)
            .map_err(ContainerError::InvalidParameter)
    }

    /// No signal may use a container's pid any more: it has ended (and is about to be reaped).
    fn forget_pid(&self, id: &str) {
        if let Ok(mut t) = self.table() {
            if let Some(r) = t.records.get_mut(id) {
                r.state.pid = 0;
            }
        }
    }

    /// The waiter's work once the process has ended (see the module docs).
    fn finish(&self, id: &str, code: i32, live: &Mutex<Option<Attachment>>) {
        // The process is reaped: its pid may be recycled, so no signal may use it any more. From
        // here no container can join its namespace (see `shared_netns`): if none shares it now,
        // no process is left in it and its interfaces can go with it.
        let mut shared = true;
        if let Ok(mut t) = self.table() {
            if let Some(r) = t.records.get_mut(id) {
                r.state.pid = 0;
            }
            shared = t.netns_shared(id);
        }
        // Taken under its lock, so a connect or disconnect under way ends first and none follows.
        // What cannot be released stays on the record, for `rm` and `start` to try again.
        let mut unreleased = None;
        let mut slot = live.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(attachment) = slot.take() {
            // A resolver whose sockets did not close may still hold the namespace: then its
            // interfaces are taken out one by one rather than left to the namespace's end.
            let closed = self.dns_release(&attachment);
            if let Err(e) = self.detach(&attachment, !shared && closed) {
                tracing::error!("container {id}: {e}");
                unreleased = Some(attachment);
            }
        }
        drop(slot);
        if let Err(e) = runtime::cleanup(&self.state_dir(id)) {
            tracing::error!("{e}");
        }
        let Ok(mut t) = self.table() else { return };
        t.live.remove(id);
        let Some(mut rec) = t.records.get(id).cloned() else { return };
        rec.state.status = Status::Exited;
        rec.state.exit_code = code;
        rec.state.pid = 0;
        rec.state.pid_start_time = 0;
        rec.state.finished_at = Some(SystemTime::now());
        rec.attachment = unreleased;
        let auto_remove = rec.config.auto_remove;
        if let Err(e) = t.put(rec) {
            tracing::error!("record the exit of container {id}: {e}");
        }
        t.exits_of(id).send_modify(|e| {
            e.count += 1;
            e.code = code;
        });
        tracing::info!(container = %id, exit_code = code, "container exited");
        if auto_remove {
            let removed = Self::remove_record(&mut t, id);
            drop(t);
            self.inner.execs.drop_container(id);
            match removed {
                Ok(()) => {
                    let _ = std::fs::remove_dir_all(self.log_dir(id));
                }
                Err(e) => tracing::error!("auto-remove of container {id}: {e}"),
            }
        }
    }

    /// Forget a container; its log directory is the caller's to remove, outside the table lock.
    fn remove_record(t: &mut Table, id: &str) -> Result<(), ContainerError> {
        t.store.delete(id)?;
        t.records.remove(id);
        t.exits.remove(id);
        Ok(())
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

    /// Wait for the container to stop; its exit code.
    pub async fn wait(&self, key: &str, condition: WaitCondition) -> Result<i32, ContainerError> {
        let (rec, mut rx) = self.subscribe(key)?;
        if condition == WaitCondition::NotRunning && !rec.running() {
            return Ok(rec.state.exit_code);
        }
        rx.changed().await.map_err(|_| ContainerError::NotFound(key.to_string()))?;
        let code = rx.borrow().code;
        Ok(code)
    }

    /// Send a signal to a running container.
    pub fn signal(&self, key: &str, signal: Signal) -> Result<(), ContainerError> {
        let t = self.table()?;
        let rec = t.find(key)?;
        if !rec.running() || rec.state.pid == 0 {
            return Err(ContainerError::Conflict(format!("Container {} is not running", rec.id)));
        }
        nix::sys::signal::kill(Pid::from_raw(rec.state.pid as i32), signal)
            .map_err(|e| ContainerError::Internal(format!("cannot send {signal} to container {}: {e}", rec.name)))
    }

    /// Stop a container: SIGTERM, SIGKILL after `timeout` (`None`: wait forever). `Ok(false)` if it
    /// was not running. Returns once it has exited and its networking is released.
    pub async fn stop(&self, key: &str, timeout: Option<Duration>) -> Result<bool, ContainerError> {
        self.stop_with(key, timeout, Signal::SIGTERM).await
    }

    /// [`Manager::stop`] with `signal` first instead of SIGTERM (Docker's `stop --signal`).
    pub async fn stop_with(
        &self,
        key: &str,
        timeout: Option<Duration>,
        signal: Signal,
    ) -> Result<bool, ContainerError> {
        let (rec, mut rx) = self.subscribe(key)?;
        if !rec.running() {
            return Ok(false);
        }
        let gone = |_| ContainerError::Internal(format!("container {} vanished while stopping", rec.name));
        if self.signal(&rec.id, signal).is_err() {
            // It is ending already (its waiter reaped it): return once its networking is released.
            let _ = rx.changed().await;
            return Ok(true);
        }
        let exited = match timeout {
            Some(t) => tokio::time::timeout(t, rx.changed()).await.ok(),
            None => Some(rx.changed().await),
        };
        match exited {
            Some(r) => r.map_err(gone)?,
            None => {
                let _ = self.signal(&rec.id, Signal::SIGKILL);
                rx.changed().await.map_err(gone)?;
            }
        }
        Ok(true)
    }

    /// Remove a container; a running one only with `force` (killed first, then removed once its
    /// networking is released).
    pub async fn remove(&self, key: &str, force: bool) -> Result<(), ContainerError> {
        enum Step {
            Removed(String, String),
            AwaitExit(watch::Receiver<Exits>),
            Release(String, String),
        }
        let mut killed = false;
        loop {
            let key = key.to_string();
            // The starting and running checks and the removal under one lock, so no start slips
            // in between.
            let step = self
                .blocking(move |m| {
                    let mut t = m.table()?;
                    let rec = match t.find(&key) {
                        Ok(r) => r.clone(),
                        // Gone while we waited for it to die (auto-remove): done.
                        Err(ContainerError::NotFound(_)) if killed => return Ok(None),
                        Err(e) => return Err(e),
                    };
                    if t.starting.contains(&rec.id) {
                        return Err(ContainerError::Conflict(format!(
                            "cannot remove container \"/{}\": container is starting",
                            rec.name
                        )));
                    }
                    if rec.running() {
                        if !force {
                            return Err(ContainerError::Conflict(format!(
                                "cannot remove container \"/{}\": container is running: stop the container before removing or force remove",
                                rec.name
                            )));
                        }
                        let rx = t.exits_of(&rec.id).subscribe();
                        // A pid of 0: its waiter reaped it already and is releasing it.
                        if rec.state.pid != 0 {
                            let _ = nix::sys::signal::kill(Pid::from_raw(rec.state.pid as i32), Signal::SIGKILL);
                        }
                        return Ok(Some(Step::AwaitExit(rx)));
                    }
                    if rec.attachment.is_some() {
                        return Ok(Some(Step::Release(rec.id, rec.name)));
                    }
                    Self::remove_record(&mut t, &rec.id)?;
                    Ok(Some(Step::Removed(rec.id, rec.name)))
                })
                .await?;
            match step {
                None => return Ok(()),
                Some(Step::AwaitExit(mut rx)) => {
                    killed = true;
                    let _ = rx.changed().await;
                }
                Some(Step::Release(id, name)) => {
                    let released = self.blocking(move |m| m.release_leftover(&id)).await;
                    released
                        .map_err(|e| ContainerError::Internal(format!("cannot remove container \"/{name}\": {e}")))?;
                }
                Some(Step::Removed(id, name)) => {
                    self.inner.execs.drop_container(&id);
                    let dir = self.log_dir(&id);
                    let m = self.clone();
                    let _ = tokio::task::spawn_blocking(move || {
                        let _ = std::fs::remove_dir_all(dir);
                        // The files of an image removed with -f while this container used it.
                        m.sweep_images();
                    })
                    .await;
                    tracing::info!(container = %name, "container removed");
                    return Ok(());
                }
            }
        }
    }

    /// Connect a container to one more network (`weft network connect`): live when it runs, else
    /// recorded for its next start. Blocking.
    pub fn connect(&self, key: &str, network: &str, ep: EndpointConfig) -> Result<(), ContainerError> {
        let (rec, live) = {
            let t = self.table()?;
            let rec = t.find(key)?.clone();
            refuse_while_starting(&t, &rec)?;
            let live = t.live.get(&rec.id).cloned();
            (rec, live)
        };
        let net = {
            let c = self.controller()?;
            let net = c.network(network).map_err(|_| ContainerError::NetworkNotFound(network.to_string()))?.clone();
            check_connect(&rec, &net, &c)?;
            network::validate_endpoint(&net, &ep).map_err(ContainerError::InvalidParameter)?;
            net
        };
        if let Some(live) = live {
            let mut slot = lock(&live)?;
            if let Some(att) = slot.as_mut() {
                if att.endpoint_on(&net.id).is_some() {
                    return Err(already_connected(&rec, &net));
                }
                let options = rec.config.ports.endpoint_options();
                let connected = network::connect(&mut *self.controller()?, att, &rec.name, &net.name, &ep, &options);
                connected.map_err(|e| self.name_port_holder(e))?;
                // The connect is done; a resolver that cannot follow is logged, not undone.
                if let Err(e) = self.dns_sync(&rec, att) {
                    tracing::error!("DNS of container {} after connect: {e}", rec.name);
                }
                let att = att.clone();
                self.update_networks(&rec.id, move |r| {
                    r.config.endpoints.insert(net.name.clone(), ep);
                    r.attachment = Some(att);
                })?;
                return self.refresh_hosts(&rec.id);
            }
        }
        if rec.config.endpoints.contains_key(&net.name) {
            return Err(already_connected(&rec, &net));
        }
        self.update_networks(&rec.id, move |r| {
            r.config.endpoints.insert(net.name.clone(), ep);
        })
    }

    /// Disconnect a container from a network (`weft network disconnect`). Blocking.
    pub fn disconnect(&self, key: &str, network: &str) -> Result<(), ContainerError> {
        let (rec, live) = {
            let t = self.table()?;
            let rec = t.find(key)?.clone();
            refuse_while_starting(&t, &rec)?;
            let live = t.live.get(&rec.id).cloned();
            (rec, live)
        };
        let net = self
            .controller()?
            .network(network)
            .map_err(|_| ContainerError::NetworkNotFound(network.to_string()))?
            .clone();
        if net.driver == "host" {
            return Err(ContainerError::InvalidParameter(
                "container cannot be disconnected from host network or connected to host network".into(),
            ));
        }
        let not_connected = || {
            ContainerError::InvalidParameter(format!("container {} is not connected to network {}", rec.id, net.name))
        };
        if let Some(live) = live {
            let mut slot = lock(&live)?;
            if let Some(att) = slot.as_mut() {
                if att.endpoint_on(&net.id).is_none() {
                    return Err(not_connected());
                }
                network::disconnect(&mut *self.controller()?, att, &net.id)?;
                if let Err(e) = self.dns_sync(&rec, att) {
                    tracing::error!("DNS of container {} after disconnect: {e}", rec.name);
                }
                let att = att.clone();
                self.update_networks(&rec.id, move |r| {
                    r.config.endpoints.remove(&net.name);
                    r.attachment = Some(att);
                })?;
                return self.refresh_hosts(&rec.id);
            }
        }
        if !rec.config.endpoints.contains_key(&net.name) {
            return Err(not_connected());
        }
        self.update_networks(&rec.id, move |r| {
            r.config.endpoints.remove(&net.name);
        })
    }

    /// A host port taken by another container is reported with that container's name, not the
    /// id libnet knows it by.
    fn name_port_holder(&self, e: libnet::Error) -> ContainerError {
        if let libnet::Error::PortAllocated { port, proto, container: Some(id) } = &e {
            let name = self.table().ok().and_then(|t| t.records.get(id).map(|r| r.name.clone()));
            if let Some(name) = name {
                return ContainerError::Network(libnet::Error::PortAllocated {
                    port: *port,
                    proto: *proto,
                    container: Some(name),
                });
            }
        }
        ContainerError::Network(e)
    }

    /// Change a record's networks and store it.
    fn update_networks(&self, id: &str, f: impl FnOnce(&mut ContainerRecord)) -> Result<(), ContainerError> {
        let mut t = self.table()?;
        let mut rec = t.records.get(id).cloned().ok_or_else(|| ContainerError::NotFound(id.to_string()))?;
        f(&mut rec);
        t.put(rec)
    }

    /// Refuse new starts, wait for those under way, then stop every running container (SIGTERM,
    /// SIGKILL after 2 s) and wait until their waiters have released their networking: weftd's
    /// shutdown.
    pub async fn shutdown(&self) {
        if let Ok(mut t) = self.table() {
            t.shutting_down = true;
        }
        // A start under way may still commit a running container: wait for every one to end.
        loop {
            let ended = self.inner.start_ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.table().map(|t| t.starting.is_empty()).unwrap_or(true) {
                break;
            }
            ended.await;
        }
        let running: Vec<String> =
            self.list().unwrap_or_default().into_iter().filter(|r| r.running()).map(|r| r.id).collect();
        let mut stops = tokio::task::JoinSet::new();
        for id in running {
            let m = self.clone();
            stops.spawn(async move {
                if let Err(e) = m.stop(&id, Some(SHUTDOWN_GRACE)).await {
                    tracing::warn!("shutdown: stop container {id}: {e}");
                }
            });
        }
        while stops.join_next().await.is_some() {}
    }
}
