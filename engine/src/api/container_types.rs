//! The Docker Engine API's JSON shapes for containers (`GET /containers/{id}/json` and
//! `GET /containers/json`), built from weft's container records and libnet's endpoints.
//!
//! Fields are in the order of Docker's Go types (API 1.45), so clients that print the answer as
//! it came (`weft inspect`, `docker inspect`) show them as Docker does. Only the fields weft fills
//! are here; a field Docker has and weft does not is left out rather than faked.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use libnet::Controller;
use serde::Serialize;
use serde_json::Value;

use crate::containers::{etcfiles, links, logs, ports, ContainerRecord, EndpointConfig, Status};

/// A container as `GET /containers/{id}/json` shows it: Docker's `ContainerJSON` (its
/// `ContainerJSONBase` first).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspect {
    #[serde(rename = "Id")]
    pub id: String,
    pub created: String,
    pub path: String,
    pub args: Vec<String>,
    pub state: ContainerState,
    pub image: String,
    pub resolv_conf_path: String,
    pub hostname_path: String,
    pub hosts_path: String,
    pub log_path: String,
    pub name: String,
    pub restart_count: u32,
    pub driver: String,
    pub host_config: HostConfig,
    pub config: Config,
    pub network_settings: NetworkSettings,
}

/// `State` of an inspected container.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerState {
    pub status: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: u32,
    pub exit_code: i32,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
}

/// `Config` of an inspected container: what the client asked at create.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Config {
    pub hostname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    /// `{"80/tcp": {}}`; left out when none, as Docker leaves it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<Value>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub image: String,
    pub working_dir: String,
    /// Always `null`: weft runs `Cmd` as it is, with no entrypoint.
    pub entrypoint: Option<Vec<String>>,
    pub labels: BTreeMap<String, String>,
}

/// `HostConfig` of an inspected container. The lists Docker shows as `null` when empty are
/// `None` then.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct HostConfig {
    pub network_mode: String,
    /// `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`.
    pub port_bindings: Value,
    pub auto_remove: bool,
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub dns: Vec<String>,
    pub dns_options: Vec<String>,
    pub dns_search: Vec<String>,
    pub extra_hosts: Option<Vec<String>>,
    pub group_add: Option<Vec<String>>,
    pub links: Option<Vec<String>>,
    pub privileged: bool,
    pub publish_all_ports: bool,
    pub readonly_rootfs: bool,
    pub security_opt: Option<Vec<String>>,
    pub sysctls: Option<BTreeMap<String, String>>,
    pub masked_paths: Vec<String>,
    pub readonly_paths: Vec<String>,
}

/// `NetworkSettings` of an inspected container.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkSettings {
    #[serde(rename = "SandboxID")]
    pub sandbox_id: String,
    pub sandbox_key: String,
    /// `{"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "22/tcp": null}`.
    pub ports: Value,
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// One network of `NetworkSettings.Networks`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpamConfig>,
    /// Always `null`: legacy links show in `HostConfig.Links`.
    pub links: Option<Vec<String>>,
    pub aliases: Vec<String>,
    pub mac_address: String,
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub gateway: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    #[serde(rename = "IPv6Gateway")]
    pub ipv6_gateway: String,
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u8,
    /// `None` (`null`) on the default bridge and the exclusive modes, as in Docker.
    #[serde(rename = "DNSNames")]
    pub dns_names: Option<Vec<String>>,
}

/// `IPAMConfig` of an endpoint: the addresses the user fixed, each left out when not fixed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EndpointIpamConfig {
    #[serde(rename = "IPv4Address", skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<String>,
    #[serde(rename = "IPv6Address", skip_serializing_if = "Option::is_none")]
    pub ipv6_address: Option<String>,
}

/// One container of `GET /containers/json`: Docker's `Container`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    #[serde(rename = "Id")]
    pub id: String,
    pub names: Vec<String>,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub command: String,
    pub created: u64,
    /// `[{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}]`.
    pub ports: Vec<Value>,
    pub labels: BTreeMap<String, String>,
    pub state: String,
    pub status: String,
    pub host_config: SummaryHostConfig,
    pub network_settings: SummaryNetworkSettings,
    /// Always empty: weft has no volumes.
    pub mounts: Vec<Value>,
}

/// `HostConfig` of a listed container.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryHostConfig {
    pub network_mode: String,
}

/// `NetworkSettings` of a listed container.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryNetworkSettings {
    pub networks: BTreeMap<String, EndpointSettings>,
}

impl ContainerInspect {
    /// Docker's view of a container; `dir` is the container's directory (logs and generated
    /// files).
    pub fn from_record(r: &ContainerRecord, c: &Controller, dir: &Path) -> Self {
        let running = r.running();
        let sec = &r.config.security;
        let (masked, readonly) = sec.shown_paths();
        let strings = |v: Vec<&str>| v.into_iter().map(String::from).collect();
        let non_empty = |v: &Vec<String>| Some(v.clone()).filter(|v| !v.is_empty());
        ContainerInspect {
            id: r.id.clone(),
            created: rfc3339(Some(r.created)),
            path: r.config.cmd.first().cloned().unwrap_or_default(),
            args: r.config.cmd.iter().skip(1).cloned().collect(),
            state: ContainerState {
                status: r.state.status.as_str().to_string(),
                running,
                paused: false,
                restarting: false,
                oom_killed: false,
                dead: false,
                pid: if running { r.state.pid } else { 0 },
                exit_code: r.state.exit_code,
                error: String::new(),
                started_at: rfc3339(r.state.started_at),
                finished_at: rfc3339(r.state.finished_at),
            },
            image: r.config.image.clone(),
            resolv_conf_path: etc_path(dir, etcfiles::RESOLV_CONF),
            hostname_path: etc_path(dir, etcfiles::HOSTNAME),
            hosts_path: etc_path(dir, etcfiles::HOSTS),
            log_path: dir.join(logs::STDOUT).display().to_string(),
            name: format!("/{}", r.name),
            restart_count: 0,
            driver: String::new(),
            host_config: HostConfig {
                network_mode: network_mode(r),
                port_bindings: r.config.ports.bindings_json(),
                auto_remove: r.config.auto_remove,
                cap_add: non_empty(&sec.cap_add),
                cap_drop: non_empty(&sec.cap_drop),
                dns: r.config.dns.clone(),
                dns_options: r.config.dns_options.clone(),
                dns_search: r.config.dns_search.clone(),
                extra_hosts: non_empty(&r.config.extra_hosts),
                group_add: non_empty(&sec.group_add),
                links: non_empty(&links_shown(r)),
                privileged: sec.privileged,
                publish_all_ports: r.config.ports.publish_all,
                readonly_rootfs: sec.readonly_rootfs,
                security_opt: sec.shown_security_opt(),
                sysctls: Some(sec.sysctls.clone()).filter(|s| !s.is_empty()),
                masked_paths: strings(masked),
                readonly_paths: strings(readonly),
            },
            config: Config {
                hostname: r.hostname(),
                user: sec.user.clone(),
                attach_stdin: r.config.attach_stdin,
                attach_stdout: r.config.attach_stdout,
                attach_stderr: r.config.attach_stderr,
                exposed_ports: r.config.ports.exposed_json(),
                tty: r.config.tty,
                open_stdin: r.config.open_stdin,
                stdin_once: r.config.stdin_once,
                env: r.config.env.clone(),
                cmd: r.config.cmd.clone(),
                image: r.config.image.clone(),
                working_dir: r.config.working_dir.clone(),
                entrypoint: None,
                labels: r.config.labels.clone(),
            },
            network_settings: NetworkSettings {
                sandbox_id: r.attachment.as_ref().map(|a| a.sandbox.to_string()).unwrap_or_default(),
                sandbox_key: r
                    .attachment
                    .as_ref()
                    .and_then(|a| a.netns.as_ref())
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                ports: ports::network_settings_ports(&r.config.ports, &bound_ports(r, c), running),
                networks: networks_of(r, c),
            },
        }
    }
}

impl ContainerSummary {
    /// Docker's list entry of a container.
    pub fn from_record(r: &ContainerRecord, c: &Controller) -> Self {
        let created = r.created.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        ContainerSummary {
            id: r.id.clone(),
            names: vec![format!("/{}", r.name)],
            image: r.config.image.clone(),
            image_id: String::new(),
            command: r.config.cmd.join(" "),
            created,
            ports: ports::summary_ports(&r.config.ports, &bound_ports(r, c), r.running()),
            labels: r.config.labels.clone(),
            state: r.state.status.as_str().to_string(),
            status: status_text(r),
            host_config: SummaryHostConfig { network_mode: network_mode(r) },
            network_settings: SummaryNetworkSettings { networks: networks_of(r, c) },
            mounts: Vec::new(),
        }
    }
}

/// `NetworkSettings.Networks`: live values from the controller while running, the configured
/// networks with empty addresses otherwise (as Docker shows a stopped container).
fn networks_of(r: &ContainerRecord, c: &Controller) -> BTreeMap<String, EndpointSettings> {
    let mut nets = BTreeMap::new();
    let Some(att) = &r.attachment else {
        for (name, ep) in &r.config.endpoints {
            let network_id = c.network(name).map(|n| n.id.to_string()).unwrap_or_default();
            nets.insert(name.clone(), EndpointSettings::unattached(&ep.aliases, network_id));
        }
        return nets;
    };
    for ae in &att.endpoints {
        let Ok(e) = c.endpoint(&ae.endpoint_id) else { continue };
        let join = e.join.as_ref();
        // Names the embedded DNS answers for: user-defined networks only, as in Docker.
        let user_defined = c
            .network(ae.network_id.as_str())
            .is_ok_and(|n| n.name != "bridge" && !crate::containers::network::is_exclusive(n));
        let dns_names = user_defined.then(|| {
            let mut names = vec![r.name.clone()];
            names.extend(ae.aliases.iter().cloned());
            names.push(r.id[..12].to_string());
            names
        });
        let settings = EndpointSettings {
            ipam_config: r.config.endpoints.get(&ae.network_name).and_then(EndpointIpamConfig::of),
            links: None,
            aliases: ae.aliases.clone(),
            mac_address: e.mac.clone().unwrap_or_default(),
            network_id: ae.network_id.to_string(),
            endpoint_id: e.id.to_string(),
            gateway: join.and_then(|j| j.gateway).map(|g| g.to_string()).unwrap_or_default(),
            ip_address: e.ipv4.map(|a| a.addr().to_string()).unwrap_or_default(),
            ip_prefix_len: e.ipv4.map(|a| a.prefix_len()).unwrap_or(0),
            ipv6_gateway: join.and_then(|j| j.gateway_v6).map(|g| g.to_string()).unwrap_or_default(),
            global_ipv6_address: e.ipv6.map(|a| a.addr().to_string()).unwrap_or_default(),
            global_ipv6_prefix_len: e.ipv6.map(|a| a.prefix_len()).unwrap_or(0),
            dns_names,
        };
        nets.insert(ae.network_name.clone(), settings);
    }
    nets
}

impl EndpointSettings {
    /// A network of a container that is not attached: what it asked, no addresses.
    fn unattached(aliases: &[String], network_id: String) -> Self {
        EndpointSettings {
            ipam_config: None,
            links: None,
            aliases: aliases.to_vec(),
            mac_address: String::new(),
            network_id,
            endpoint_id: String::new(),
            gateway: String::new(),
            ip_address: String::new(),
            ip_prefix_len: 0,
            ipv6_gateway: String::new(),
            global_ipv6_address: String::new(),
            global_ipv6_prefix_len: 0,
            dns_names: None,
        }
    }
}

impl EndpointIpamConfig {
    /// The addresses the user fixed for one network; `None` (`null`) when none.
    fn of(ep: &EndpointConfig) -> Option<Self> {
        if ep.ipv4.is_none() && ep.ipv6.is_none() {
            return None;
        }
        Some(EndpointIpamConfig {
            ipv4_address: ep.ipv4.map(|ip| ip.to_string()),
            ipv6_address: ep.ipv6.map(|ip| ip.to_string()),
        })
    }
}

/// The ports the drivers of the container's endpoints bound on the host.
fn bound_ports(r: &ContainerRecord, c: &Controller) -> Vec<libnet::portmap::PortBinding> {
    let endpoints = r.attachment.iter().flat_map(|a| a.endpoints.iter());
    endpoints.filter_map(|ae| c.endpoint(&ae.endpoint_id).ok()).flat_map(|e| e.ports.iter().cloned()).collect()
}

fn network_mode(r: &ContainerRecord) -> String {
    if r.config.network_mode.is_empty() {
        "bridge".into()
    } else {
        r.config.network_mode.clone()
    }
}

/// `HostConfig.Links` as Docker shows them: `/<linked>:/<this>/<alias>`.
fn links_shown(r: &ContainerRecord) -> Vec<String> {
    r.config.links.iter().filter_map(|l| links::parse_link(l).ok()).map(|l| links::inspect_form(&l, &r.name)).collect()
}

/// Where one of the container's generated files is, once a start has written it (Docker shows
/// these paths from the first start on).
fn etc_path(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    if path.exists() {
        path.display().to_string()
    } else {
        String::new()
    }
}

fn rfc3339(t: Option<SystemTime>) -> String {
    match t {
        Some(t) => humantime::format_rfc3339_nanos(t).to_string(),
        None => "0001-01-01T00:00:00Z".to_string(),
    }
}

/// Docker's `units.HumanDuration`.
fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let h = s / 3600;
    match () {
        _ if s < 1 => "Less than a second".into(),
        _ if s == 1 => "1 second".into(),
        _ if s < 60 => format!("{s} seconds"),
        _ if s / 60 == 1 => "About a minute".into(),
        _ if s < 3600 => format!("{} minutes", s / 60),
        _ if h == 1 => "About an hour".into(),
        _ if h < 48 => format!("{h} hours"),
        _ if h < 24 * 7 * 2 => format!("{} days", h / 24),
        _ if h < 24 * 30 * 2 => format!("{} weeks", h / 24 / 7),
        _ if h < 24 * 365 * 2 => format!("{} months", h / 24 / 30),
        _ => format!("{} years", h / 24 / 365),
    }
}

fn since(t: Option<SystemTime>) -> Duration {
    t.and_then(|t| SystemTime::now().duration_since(t).ok()).unwrap_or_default()
}

/// `Status` of the list: "Up 3 seconds", "Exited (0) 2 seconds ago", "Created".
fn status_text(r: &ContainerRecord) -> String {
    match r.state.status {
        Status::Created => "Created".into(),
        Status::Running => format!("Up {}", human_duration(since(r.state.started_at))),
        Status::Exited => format!("Exited ({}) {} ago", r.state.exit_code, human_duration(since(r.state.finished_at))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_docker_writes_them() {
        assert_eq!(human_duration(Duration::from_millis(300)), "Less than a second");
        assert_eq!(human_duration(Duration::from_secs(3)), "3 seconds");
        assert_eq!(human_duration(Duration::from_secs(70)), "About a minute");
        assert_eq!(human_duration(Duration::from_secs(3 * 3600)), "3 hours");
    }

    fn endpoint() -> EndpointSettings {
        EndpointSettings::unattached(&["db".to_string()], "n1".to_string())
    }

    #[test]
    fn endpoint_settings_keep_docker_names_order_and_nulls() {
        let text = serde_json::to_string(&endpoint()).unwrap();
        assert_eq!(
            text,
            r#"{"IPAMConfig":null,"Links":null,"Aliases":["db"],"MacAddress":"","NetworkID":"n1","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}"#
        );
    }

    #[test]
    fn ipam_config_shows_only_the_fixed_addresses() {
        let ep = EndpointConfig { ipv4: Some("10.1.0.5".parse().unwrap()), ..Default::default() };
        let shown = serde_json::to_value(EndpointIpamConfig::of(&ep)).unwrap();
        assert_eq!(shown, serde_json::json!({"IPv4Address": "10.1.0.5"}));
        assert_eq!(EndpointIpamConfig::of(&EndpointConfig::default()), None);
    }

    #[test]
    fn exposed_ports_are_left_out_when_none_and_entrypoint_is_null() {
        let config = Config {
            hostname: "h".into(),
            user: String::new(),
            attach_stdin: false,
            attach_stdout: true,
            attach_stderr: true,
            exposed_ports: None,
            tty: false,
            open_stdin: false,
            stdin_once: false,
            env: Vec::new(),
            cmd: vec!["true".into()],
            image: "hostfs".into(),
            working_dir: String::new(),
            entrypoint: None,
            labels: BTreeMap::new(),
        };
        let v = serde_json::to_value(&config).unwrap();
        assert!(v.get("ExposedPorts").is_none());
        assert_eq!(v["Entrypoint"], Value::Null);
        let exposed = Config { exposed_ports: Some(serde_json::json!({"80/tcp": {}})), ..config };
        let text = serde_json::to_string(&exposed).unwrap();
        assert!(text.contains(r#""AttachStderr":true,"ExposedPorts":{"80/tcp":{}},"Tty":false"#), "{text}");
    }
}
