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
use super::container_types::{ContainerInspect, ContainerSummary};
use super::error::ApiError;
use super::AppState;
use crate::containers::ports::PortConfig;
use crate::containers::security::SecurityConfig;
use crate::containers::{
    logs, parse_signal, ContainerConfig, ContainerError, ContainerRecord, CreateRequest, EndpointConfig, Manager,
    WaitCondition,
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
    let body: Value = serde_json::from_slice(&body).map_err(ApiError::invalid_json)?;
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
        m.with_controller(|c| recs.iter().map(|r| ContainerSummary::from_record(r, c)).collect::<Vec<_>>())
    })
    .await?;
    Ok(Json(list))
}

pub async fn inspect(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let v = blocking(state.containers(), move |m| {
        let r = m.get(&id)?;
        let dir = m.log_dir(&r.id);
        m.with_controller(|c| ContainerInspect::from_record(&r, c, &dir))
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
    let mut reader = open_log(&m, &rec, stdout, stderr, "logs").await?;
    let content_type = if rec.config.tty {
        [(header::CONTENT_TYPE, "application/vnd.docker.raw-stream")]
    } else {
        [(header::CONTENT_TYPE, "application/vnd.docker.multiplexed-stream")]
    };
    if !truthy(&q.follow) {
        let data = reader.read_new().await.map_err(log_failed("logs", &rec))?;
        return Ok((content_type, data).into_response());
    }
    let id = rec.id.clone();
    let stream = futures_util::stream::unfold((reader, m, id, exits), |(mut reader, m, id, mut exits)| async move {
        let next = logs::follow_next(&mut reader, &m, &id, &mut exits).await?;
        Some((next.map(Bytes::from), (reader, m, id, exits)))
    });
    Ok((content_type, Body::from_stream(stream)).into_response())
}

/// Open the log of container `rec` for the streams asked. A container with a terminal has one
/// raw stream, read without frames: as Docker, its output is sent as it came.
pub(super) async fn open_log(
    m: &Manager,
    rec: &ContainerRecord,
    stdout: bool,
    stderr: bool,
    what: &str,
) -> Result<logs::LogReader, ApiError> {
    let mut reader = logs::LogReader::open(&m.log_dir(&rec.id), stdout, stderr).await.map_err(log_failed(what, rec))?;
    if rec.config.tty {
        reader.raw();
    }
    Ok(reader)
}

/// A failure to read the `what` ("logs", "output") of container `rec`, as the client is told it.
pub(super) fn log_failed<'a>(what: &'a str, rec: &'a ContainerRecord) -> impl Fn(std::io::Error) -> ApiError + 'a {
    move |e| ApiError::internal(format!("read the {what} of container {}: {e}", rec.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_with_or_without_sig() {
        assert_eq!(parse_signal("USR1").unwrap(), nix::sys::signal::Signal::SIGUSR1);
        assert_eq!(parse_signal("sigterm").unwrap(), nix::sys::signal::Signal::SIGTERM);
        assert_eq!(parse_signal("9").unwrap(), nix::sys::signal::Signal::SIGKILL);
        assert!(parse_signal("NOPE").is_err());
    }
}
