//! What a container is, as weftd records it: its configuration (what the client asked at create),
//! its state, its exits; and the errors of the container operations.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::SystemTime;

use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

use super::network::Attachment;
use super::{ports, security};
use crate::runtime;

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

/// What a client asks for at create.
#[derive(Debug, Clone, Default)]
pub struct CreateRequest {
    pub name: Option<String>,
    pub config: ContainerConfig,
}

/// Whether `name` is one Docker accepts: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub(super) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
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
