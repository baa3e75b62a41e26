//! The network routes: list, inspect, create, remove, prune, and connect and disconnect of
//! containers.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use libnet::{IpamConfigRequest, NetworkCreate};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::filters;
use super::types::{NetworkCreateBody, NetworkResource};
use super::AppState;

#[derive(Debug, Deserialize)]
pub struct FilterQuery {
    filters: Option<String>,
}

pub async fn list(State(state): State<AppState>, Query(q): Query<FilterQuery>) -> Result<impl IntoResponse, ApiError> {
    let f = filters::parse(q.filters.as_deref())?;
    filters::check(&f, &["driver", "id", "label", "name", "scope", "type", "dangling"])?;
    state
        .with_controller(move |c| {
            let list: Vec<NetworkResource> = c
                .networks()
                .into_iter()
                .filter(|n| filters::network_matches(&f, n, !c.endpoints_of(&n.id).is_empty()))
                .map(|n| {
                    let mut r = NetworkResource::from_network(n, c);
                    // Docker lists networks without their containers.
                    r.containers.clear();
                    r
                })
                .collect();
            Ok(Json(list))
        })
        .await
}

pub async fn inspect(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    state
        .with_controller(move |c| {
            let n = c.network(&id)?;
            Ok(Json(NetworkResource::from_network(n, c)))
        })
        .await
}

fn to_request(body: NetworkCreateBody) -> Result<NetworkCreate, ApiError> {
    if body.config_only
        || body
            .config_from
            .as_ref()
            .is_some_and(|v| !v.is_null() && v.get("Network").and_then(|n| n.as_str()).is_some_and(|n| !n.is_empty()))
    {
        return Err(ApiError::bad_request(
            "config-only networks (--config-only, --config-from) are not supported by weft",
        ));
    }
    if body.ingress {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "ingress networks belong to a swarm, which weft does not run",
        ));
    }
    if let Some(scope) = body.scope.as_deref().filter(|s| !s.is_empty() && *s != "local") {
        return Err(ApiError::bad_request(format!("scope \"{scope}\" is not supported: weft's networks are local")));
    }
    let ipam = body.ipam.unwrap_or_default();
    let mut req = NetworkCreate::new(body.name);
    if let Some(d) = body.driver.filter(|d| !d.is_empty()) {
        req.driver = d;
    }
    if !ipam.driver.is_empty() {
        req.ipam_driver = ipam.driver;
    }
    req.ipam_options = ipam.options.unwrap_or_default();
    req.ipam_config = ipam
        .config
        .unwrap_or_default()
        .into_iter()
        .map(|c| IpamConfigRequest {
            subnet: Some(c.subnet).filter(|s| !s.is_empty()),
            ip_range: Some(c.ip_range).filter(|s| !s.is_empty()),
            gateway: Some(c.gateway).filter(|s| !s.is_empty()),
            aux_addresses: c.auxiliary_addresses,
        })
        .collect();
    req.flags.enable_ipv4 = body.enable_ipv4.unwrap_or(true);
    req.flags.enable_ipv6 = body.enable_ipv6.unwrap_or(false);
    req.flags.internal = body.internal;
    req.flags.attachable = body.attachable;
    req.options = body.options.unwrap_or_default();
    req.labels = body.labels.unwrap_or_default();
    Ok(req)
}

pub async fn create(State(state): State<AppState>, body: Bytes) -> Result<impl IntoResponse, ApiError> {
    let body: NetworkCreateBody = serde_json::from_slice(&body).map_err(ApiError::invalid_json)?;
    let req = to_request(body)?;
    let n = state.with_controller(move |c| Ok(c.create_network(req)?)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "Id": n.id.to_string(), "Warning": "" }))))
}

pub async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    state.with_controller(move |c| Ok(c.delete_network(&id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn prune(State(state): State<AppState>, Query(q): Query<FilterQuery>) -> Result<impl IntoResponse, ApiError> {
    let f = filters::parse(q.filters.as_deref())?;
    filters::check(&f, &["label", "label!", "until"])?;
    let now = std::time::SystemTime::now();
    let untils = f
        .get("until")
        .map(|v| v.iter().map(|u| filters::parse_until(u, now)).collect::<Result<Vec<_>, _>>())
        .transpose()?
        .unwrap_or_default();
    state
        .with_controller(move |c| {
            let doomed: Vec<(String, String)> = c
                .networks()
                .into_iter()
                .filter(|n| !n.predefined && c.endpoints_of(&n.id).is_empty())
                .filter(|n| f.get("label").is_none_or(|v| filters::labels_match(v, &n.labels)))
                .filter(|n| f.get("label!").is_none_or(|v| v.is_empty() || !filters::labels_match(v, &n.labels)))
                .filter(|n| untils.is_empty() || filters::created_before(&n.created, &untils))
                .map(|n| (n.id.to_string(), n.name.clone()))
                .collect();
            let mut deleted = Vec::new();
            for (id, name) in doomed {
                match c.delete_network(&id) {
                    Ok(_) => deleted.push(name),
                    Err(e) => tracing::warn!("prune of network {name}: {e}"),
                }
            }
            Ok(Json(json!({ "NetworksDeleted": deleted })))
        })
        .await
}

/// The body of `POST /networks/{id}/connect` and `/disconnect`, and the container it names.
fn container_body(body: &Bytes) -> Result<(serde_json::Value, String), ApiError> {
    let body = if body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(body).map_err(ApiError::invalid_json)?
    };
    let container = body["Container"]
        .as_str()
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .ok_or_else(|| ApiError::bad_request("no container given to connect or disconnect"))?;
    Ok((body, container))
}

pub async fn connect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let (body, container) = container_body(&body)?;
    let ep = super::containers::endpoint_config(&body["EndpointConfig"])?;
    super::containers::blocking(state.containers(), move |m| m.connect(&container, &id, ep)).await?;
    Ok(StatusCode::OK)
}

pub async fn disconnect(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let (_, container) = container_body(&body)?;
    super::containers::blocking(state.containers(), move |m| m.disconnect(&container, &id)).await?;
    Ok(StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_body_maps_to_request() {
        let body: NetworkCreateBody = serde_json::from_str(
            r#"{"Name":"n","Driver":"bridge","EnableIPv6":true,"IPAM":{"Driver":"default","Config":[{"Subnet":"10.1.0.0/24","Gateway":"10.1.0.1","AuxiliaryAddresses":{"r":"10.1.0.5"}}]},"Options":{"a":"b"},"Labels":{"team":"web"}}"#,
        )
        .unwrap();
        let r = to_request(body).unwrap();
        assert_eq!(r.ipam_config[0].subnet.as_deref(), Some("10.1.0.0/24"));
        assert_eq!(r.ipam_config[0].aux_addresses["r"], "10.1.0.5");
        assert!(r.flags.enable_ipv6 && r.flags.enable_ipv4);
        assert_eq!(r.labels["team"], "web");
        let only: NetworkCreateBody = serde_json::from_str(r#"{"Name":"n","ConfigOnly":true}"#).unwrap();
        assert!(to_request(only).is_err());
        let empty_from: NetworkCreateBody =
            serde_json::from_str(r#"{"Name":"n","ConfigFrom":{"Network":""}}"#).unwrap();
        assert!(to_request(empty_from).is_ok());
    }
}
