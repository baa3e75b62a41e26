//! The container routes: create, start, stop, kill, wait, list, inspect, remove, logs — Docker
//! Engine API shapes over [`crate::containers::Manager`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::container_filters;
use super::error::ApiError;
use super::AppState;
use crate::containers::ports::{self, PortConfig};
use crate::containers::security::SecurityConfig;
use crate::containers::{
    etcfiles, links, logs, parse_signal, ContainerConfig, ContainerError, ContainerRecord, CreateRequest,
    EndpointConfig, Manager, Status, WaitCondition,
};

impl From<ContainerError> for ApiError {
    fn from(e: ContainerError) -> Self {
        let status = match &e {
            ContainerError::NotFound(_)
            | ContainerError::NoSuchImage(_)
            | ContainerError::NoSuchExec(_)
            | ContainerError::NetworkNotFound(_) => StatusCode::NOT_FOUND,
            ContainerError::NameInUse { .. } | ContainerError::Conflict(_) => StatusCode::CONFLICT,
            ContainerError::InvalidParameter(_) => StatusCode::BAD_REQUEST,
            ContainerError::Network(n) => super::error::status_of(n.kind()),
            ContainerError::Runtime(_) | ContainerError::Store(_) | ContainerError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError::new(status, e.to_string())
    }
}

/// Run blocking manager work off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    m: &Manager,
    f: impl FnOnce(&Manager) -> Result<T, ContainerError> + Send + 'static,
) -> Result<T, ApiError> {
    let m = m.clone();
    tokio::task::spawn_blocking(move || f(&m).map_err(ApiError::from))
        .await
        .map_err(|e| ApiError::internal(format!("request failed: {e}")))?
}

/// Docker's boolean query values: `1`, `true`, `True`...
pub(super) fn truthy(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

fn rfc3339(t: Option<SystemTime>) -> String {
    match t {
        Some(t) => humantime::format_rfc3339_nanos(t).to_string(),
        None => "0001-01-01T00:00:00Z".to_string(),
    }
}

/// A boolean field of a request body; absent or null is false.
pub(super) fn flag(v: &Value) -> bool {
    v.as_bool().unwrap_or(false)
}

/// `Cmd` as Docker takes it: an array, or one string.
pub(super) fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|s| s.as_str().map(String::from)).collect(),
        _ => Vec::new(),
    }
}

/// Docker's `EndpointSettings` (in `NetworkingConfig.EndpointsConfig` and in a connect's
/// `EndpointConfig`): the parts weft uses.
pub fn endpoint_config(ep: &Value) -> Result<EndpointConfig, ApiError> {
    use crate::containers::network::parse_ip;
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let ipv4 = parse_ip(&text(&ep["IPAMConfig"]["IPv4Address"]), false).map_err(ApiError::bad_request)?;
    let ipv6 = parse_ip(&text(&ep["IPAMConfig"]["IPv6Address"]), true).map_err(ApiError::bad_request)?;
    let mac = Some(text(&ep["MacAddress"])).filter(|m| !m.is_empty());
    Ok(EndpointConfig { ipv4, ipv6, aliases: strings(&ep["Aliases"]), mac })
}

#[derive(Debug, Deserialize)]
pub struct NameQuery {
    name: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    Query(q): Query<NameQuery>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON in the request body: {e}")))?;
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let host = &body["HostConfig"];
    let mut endpoints = BTreeMap::new();
    if let Some(eps) = body["NetworkingConfig"]["EndpointsConfig"].as_object() {
        for (net, ep) in eps {
            endpoints.insert(net.clone(), endpoint_config(ep)?);
        }
    }
    // Before API 1.44 the MAC address was the container's (`Config.MacAddress`): it goes to the
    // network of the network mode.
    if let Some(mac) = body["MacAddress"].as_str().filter(|m| !m.is_empty()) {
        let mode = crate::containers::network::network_of_mode(host["NetworkMode"].as_str().unwrap_or_default());
        let ep = endpoints.entry(mode.to_string()).or_insert_with(EndpointConfig::default);
        ep.mac.get_or_insert_with(|| mac.to_string());
    }
    let ports = PortConfig::from_api(&body["ExposedPorts"], &host["PortBindings"], &host["PublishAllPorts"])
        .map_err(ApiError::bad_request)?;
    // As dockerd: accepted, and said to be of no effect.
    let mut warnings = Vec::new();
    if host["NetworkMode"].as_str() == Some("host") && ports.publishes() {
        warnings.push("Published ports are discarded when using host network mode");
    }
    let config = ContainerConfig {
        hostname: s(&body["Hostname"]),
        image: s(&body["Image"]),
        cmd: strings(&body["Cmd"]),
        env: strings(&body["Env"]),
        working_dir: s(&body["WorkingDir"]),
        network_mode: s(&host["NetworkMode"]),
        auto_remove: host["AutoRemove"].as_bool().unwrap_or(false),
        endpoints,
        dns: strings(&host["Dns"]),
        dns_search: strings(&host["DnsSearch"]),
        dns_options: strings(&host["DnsOptions"]),
        extra_hosts: strings(&host["ExtraHosts"]),
        links: strings(&host["Links"]),
        tty: flag(&body["Tty"]),
        open_stdin: flag(&body["OpenStdin"]),
        stdin_once: flag(&body["StdinOnce"]),
        attach_stdin: flag(&body["AttachStdin"]),
        attach_stdout: flag(&body["AttachStdout"]),
        attach_stderr: flag(&body["AttachStderr"]),
        ports,
        security: SecurityConfig::from_api(&body),
        labels: body["Labels"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default(),
    };
    if config.image.is_empty() {
        return Err(ApiError::bad_request("config cannot be empty in order to create a container"));
    }
    let req = CreateRequest { name: q.name, config };
    let m = state.containers().clone();
    let rec = blocking(&m, move |m| m.create(req)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "Id": rec.id, "Warnings": warnings }))))
}

pub async fn start(State(state): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let started = blocking(state.containers(), move |m| m.start(&id)).await?;
    Ok(if started { StatusCode::NO_CONTENT } else { StatusCode::NOT_MODIFIED })
}

#[derive(Debug, Deserialize)]
pub struct StopQuery {
    t: Option<i64>,
    signal: Option<String>,
}

/// The timeout and signal of `stop` and `restart`: `t` seconds (10 by default, negative: wait
/// forever) and, from API 1.42, `signal` (SIGTERM by default).
fn stop_params(q: &StopQuery) -> Result<(Option<Duration>, nix::sys::signal::Signal), ApiError> {
    let timeout = match q.t {
        Some(t) if t < 0 => None,
        Some(t) => Some(Duration::from_secs(t as u64)),
        None => Some(Duration::from_secs(10)),
    };
    let signal = parse_signal(q.signal.as_deref().filter(|s| !s.is_empty()).unwrap_or("SIGTERM"))?;
    Ok((timeout, signal))
}

pub async fn stop(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<StopQuery>,
) -> Result<StatusCode, ApiError> {
    let (timeout, signal) = stop_params(&q)?;
    let stopped = state.containers().stop_with(&id, timeout, signal).await?;
    Ok(if stopped { StatusCode::NO_CONTENT } else { StatusCode::NOT_MODIFIED })
}

/// `POST /containers/{id}/restart`: stop (as `stop` does) if running, then start.
pub async fn restart(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<StopQuery>,
) -> Result<StatusCode, ApiError> {
    let (timeout, signal) = stop_params(&q)?;
    state.containers().stop_with(&id, timeout, signal).await?;
    blocking(state.containers(), move |m| m.start(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct KillQuery {
    signal: Option<String>,
}

pub async fn kill(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<KillQuery>,
) -> Result<StatusCode, ApiError> {
    let signal = parse_signal(q.signal.as_deref().filter(|s| !s.is_empty()).unwrap_or("SIGKILL"))?;
    blocking(state.containers(), move |m| m.signal(&id, signal)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct WaitQuery {
    condition: Option<String>,
}

pub async fn wait(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let condition = match q.condition.as_deref().unwrap_or("not-running") {
        "" | "not-running" => WaitCondition::NotRunning,
        "next-exit" | "removed" => WaitCondition::NextExit,
        c => return Err(ApiError::bad_request(format!("invalid condition: \"{c}\""))),
    };
    let code = state.containers().wait(&id, condition).await?;
    Ok(Json(json!({ "StatusCode": code, "Error": null })))
}

#[derive(Debug, Deserialize)]
pub struct RemoveQuery {
    force: Option<String>,
}

pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<RemoveQuery>,
) -> Result<StatusCode, ApiError> {
    state.containers().remove(&id, truthy(&q.force)).await?;
    Ok(StatusCode::NO_CONTENT)
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

/// `NetworkSettings.Networks`: live values from the controller while running, the configured
/// networks with empty addresses otherwise (as Docker shows a stopped container).
fn networks_of(r: &ContainerRecord, c: &libnet::Controller) -> Value {
    let mut nets = serde_json::Map::new();
    let empty = |aliases: &[String], network_id: &str| {
        json!({
            "IPAMConfig": null, "Links": null, "Aliases": aliases, "MacAddress": "", "NetworkID": network_id,
            "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "IPv6Gateway": "",
            "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "DNSNames": null,
        })
    };
    if let Some(att) = &r.attachment {
        for ae in &att.endpoints {
            let Ok(e) = c.endpoint(&ae.endpoint_id) else { continue };
            let gateway = e.join.as_ref().and_then(|j| j.gateway).map(|g| g.to_string()).unwrap_or_default();
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
            let gateway6 = e.join.as_ref().and_then(|j| j.gateway_v6).map(|g| g.to_string()).unwrap_or_default();
            nets.insert(
                ae.network_name.clone(),
                json!({
                    "IPAMConfig": r.config.endpoints.get(&ae.network_name).and_then(ipam_config),
                    "Links": null,
                    "Aliases": ae.aliases,
                    "MacAddress": e.mac.clone().unwrap_or_default(),
                    "NetworkID": ae.network_id.to_string(),
                    "EndpointID": e.id.to_string(),
                    "Gateway": gateway,
                    "IPAddress": e.ipv4.map(|a| a.addr().to_string()).unwrap_or_default(),
                    "IPPrefixLen": e.ipv4.map(|a| a.prefix_len()).unwrap_or(0),
                    "IPv6Gateway": gateway6,
                    "GlobalIPv6Address": e.ipv6.map(|a| a.addr().to_string()).unwrap_or_default(),
                    "GlobalIPv6PrefixLen": e.ipv6.map(|a| a.prefix_len()).unwrap_or(0),
                    "DNSNames": dns_names,
                }),
            );
        }
    } else {
        for (name, ep) in &r.config.endpoints {
            let id = c.network(name).map(|n| n.id.to_string()).unwrap_or_default();
            nets.insert(name.clone(), empty(&ep.aliases, &id));
        }
    }
    Value::Object(nets)
}

/// `IPAMConfig` of an endpoint: the addresses the user fixed, `null` when none.
fn ipam_config(ep: &EndpointConfig) -> Option<Value> {
    if ep.ipv4.is_none() && ep.ipv6.is_none() {
        return None;
    }
    let mut v = serde_json::Map::new();
    if let Some(ip) = ep.ipv4 {
        v.insert("IPv4Address".into(), json!(ip.to_string()));
    }
    if let Some(ip) = ep.ipv6 {
        v.insert("IPv6Address".into(), json!(ip.to_string()));
    }
    Some(Value::Object(v))
}

/// The ports the drivers of the container's endpoints bound on the host.
fn bound_ports(r: &ContainerRecord, c: &libnet::Controller) -> Vec<libnet::portmap::PortBinding> {
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

fn summary(r: &ContainerRecord, c: &libnet::Controller) -> Value {
    let created = r.created.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    json!({
        "Id": r.id,
        "Names": [format!("/{}", r.name)],
        "Image": r.config.image,
        "ImageID": "",
        "Command": r.config.cmd.join(" "),
        "Created": created,
        "Ports": ports::summary_ports(&r.config.ports, &bound_ports(r, c), r.running()),
        "Labels": r.config.labels,
        "State": r.state.status.as_str(),
        "Status": status_text(r),
        "HostConfig": { "NetworkMode": network_mode(r) },
        "NetworkSettings": { "Networks": networks_of(r, c) },
        "Mounts": [],
    })
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    all: Option<String>,
    limit: Option<i64>,
    filters: Option<String>,
}

pub async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Result<impl IntoResponse, ApiError> {
    let filters = super::filters::parse(q.filters.as_deref())?;
    container_filters::check(&filters)?;
    let limit = q.limit.filter(|l| *l > 0).map(|l| l as usize);
    // As dockerd: a limit or a status filter lists stopped containers too.
    let all = truthy(&q.all) || limit.is_some() || filters.contains_key("status");
    let list = blocking(state.containers(), move |m| {
        let created_of = |key: Option<&Vec<String>>| -> Result<Option<SystemTime>, ContainerError> {
            match key.and_then(|v| v.first()) {
                Some(name) => Ok(Some(m.get(name)?.created)),
                None => Ok(None),
            }
        };
        let before = created_of(filters.get("before"))?;
        let since = created_of(filters.get("since"))?;
        let network_ids = m.with_controller(|c| {
            c.networks().iter().map(|n| (n.name.clone(), n.id.as_str().to_string())).collect::<Vec<_>>()
        })?;
        let ctx = container_filters::Context { before, since, network_ids };
        let mut recs = m.list()?;
        recs.retain(|r| (all || r.running()) && container_filters::matches(&filters, r, &ctx));
        // Newest first, as Docker lists.
        recs.reverse();
        if let Some(limit) = limit {
            recs.truncate(limit);
        }
        m.with_controller(|c| recs.iter().map(|r| summary(r, c)).collect::<Vec<Value>>())
    })
    .await?;
    Ok(Json(list))
}

/// `HostConfig.Links` as Docker shows them: `/<linked>:/<this>/<alias>`.
fn links_shown(r: &ContainerRecord) -> Vec<String> {
    r.config.links.iter().filter_map(|l| links::parse_link(l).ok()).map(|l| links::inspect_form(&l, &r.name)).collect()
}

/// Where one of the container's generated files is, once a start has written it (Docker shows
/// these paths from the first start on).
fn etc_path(dir: &std::path::Path, name: &str) -> String {
    let path = dir.join(name);
    if path.exists() {
        path.display().to_string()
    } else {
        String::new()
    }
}

fn inspect_json(r: &ContainerRecord, c: &libnet::Controller, log_dir: &std::path::Path) -> Value {
    let running = r.running();
    let sec = &r.config.security;
    let (masked, readonly) = sec.shown_paths();
    let mut v = json!({
        "Id": r.id,
        "Created": rfc3339(Some(r.created)),
        "Path": r.config.cmd.first().cloned().unwrap_or_default(),
        "Args": r.config.cmd.iter().skip(1).collect::<Vec<_>>(),
        "State": {
            "Status": r.state.status.as_str(),
            "Running": running,
            "Paused": false,
            "Restarting": false,
            "OOMKilled": false,
            "Dead": false,
            "Pid": if running { r.state.pid } else { 0 },
            "ExitCode": r.state.exit_code,
            "Error": "",
            "StartedAt": rfc3339(r.state.started_at),
            "FinishedAt": rfc3339(r.state.finished_at),
        },
        "Image": r.config.image,
        "Name": format!("/{}", r.name),
        "RestartCount": 0,
        "Driver": "",
        "LogPath": log_dir.join(logs::STDOUT),
        "Config": {
            "Hostname": r.hostname(),
            "Image": r.config.image,
            "Cmd": r.config.cmd,
            "Env": r.config.env,
            "WorkingDir": r.config.working_dir,
            "Entrypoint": null,
            "Tty": r.config.tty,
            "OpenStdin": r.config.open_stdin,
            "StdinOnce": r.config.stdin_once,
            "AttachStdin": r.config.attach_stdin,
            "AttachStdout": r.config.attach_stdout,
            "AttachStderr": r.config.attach_stderr,
            "User": r.config.security.user,
            "Labels": r.config.labels,
        },
        "HostConfig": {
            "NetworkMode": network_mode(r),
            "AutoRemove": r.config.auto_remove,
            "Dns": r.config.dns,
            "DnsOptions": r.config.dns_options,
            "DnsSearch": r.config.dns_search,
            "ExtraHosts": Some(&r.config.extra_hosts).filter(|h| !h.is_empty()),
            "Links": Some(links_shown(r)).filter(|l| !l.is_empty()),
            "PortBindings": r.config.ports.bindings_json(),
            "PublishAllPorts": r.config.ports.publish_all,
            "Privileged": sec.privileged,
            "CapAdd": Some(&sec.cap_add).filter(|c| !c.is_empty()),
            "CapDrop": Some(&sec.cap_drop).filter(|c| !c.is_empty()),
            "SecurityOpt": sec.shown_security_opt(),
            "ReadonlyRootfs": sec.readonly_rootfs,
            "Sysctls": Some(&sec.sysctls).filter(|s| !s.is_empty()),
            "GroupAdd": Some(&sec.group_add).filter(|g| !g.is_empty()),
            "MaskedPaths": masked,
            "ReadonlyPaths": readonly,
        },
        "ResolvConfPath": etc_path(log_dir, etcfiles::RESOLV_CONF),
        "HostnamePath": etc_path(log_dir, etcfiles::HOSTNAME),
        "HostsPath": etc_path(log_dir, etcfiles::HOSTS),
        "NetworkSettings": {
            "SandboxID": r.attachment.as_ref().map(|a| a.sandbox.to_string()).unwrap_or_default(),
            "SandboxKey": r.attachment.as_ref().and_then(|a| a.netns.clone()).map(|p| p.display().to_string()).unwrap_or_default(),
            "Ports": ports::network_settings_ports(&r.config.ports, &bound_ports(r, c), running),
            "Networks": networks_of(r, c),
        },
    });
    // Left out when none, as Docker leaves it out.
    if let Some(exposed) = r.config.ports.exposed_json() {
        v["Config"]["ExposedPorts"] = exposed;
    }
    v
}

pub async fn inspect(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let v = blocking(state.containers(), move |m| {
        let r = m.get(&id)?;
        let dir = m.log_dir(&r.id);
        m.with_controller(|c| inspect_json(&r, c, &dir))
    })
    .await?;
    Ok(Json(v))
}

#[derive(Debug, Deserialize)]
pub struct LogsQuery {
    stdout: Option<String>,
    stderr: Option<String>,
    follow: Option<String>,
}

pub async fn logs(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LogsQuery>,
) -> Result<Response, ApiError> {
    let (stdout, stderr) = (truthy(&q.stdout), truthy(&q.stderr));
    if !stdout && !stderr {
        return Err(ApiError::bad_request("Bad parameters: you must choose at least one stream"));
    }
    let m = state.containers().clone();
    let (rec, exits) = m.subscribe(&id)?;
    let dir = m.log_dir(&rec.id);
    let mut reader = logs::LogReader::open(&dir, stdout, stderr)
        .await
        .map_err(|e| ApiError::internal(format!("read the logs of container {}: {e}", rec.name)))?;
    // As Docker: a terminal's output is one raw stream, logged and sent as it came.
    let content_type = if rec.config.tty {
        reader.raw();
        [(header::CONTENT_TYPE, "application/vnd.docker.raw-stream")]
    } else {
        [(header::CONTENT_TYPE, "application/vnd.docker.multiplexed-stream")]
    };
    if !truthy(&q.follow) {
        let data = reader
            .read_new()
            .await
            .map_err(|e| ApiError::internal(format!("read the logs of container {}: {e}", rec.name)))?;
        return Ok((content_type, data).into_response());
    }
    let id = rec.id.clone();
    let stream = futures_util::stream::unfold((reader, m, id, exits), |(mut reader, m, id, mut exits)| async move {
        let next = logs::follow_next(&mut reader, &m, &id, &mut exits).await?;
        Some((next.map(Bytes::from), (reader, m, id, exits)))
    });
    Ok((content_type, Body::from_stream(stream)).into_response())
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

    #[test]
    fn signals_parse_with_or_without_sig() {
        assert_eq!(parse_signal("USR1").unwrap(), nix::sys::signal::Signal::SIGUSR1);
        assert_eq!(parse_signal("sigterm").unwrap(), nix::sys::signal::Signal::SIGTERM);
        assert_eq!(parse_signal("9").unwrap(), nix::sys::signal::Signal::SIGKILL);
        assert!(parse_signal("NOPE").is_err());
    }
}
