//! `GET /drivers`, weft's own route: every driver weftd can use, built in or a remote plugin, for
//! `weft plugin ls`. (Docker's `/plugins` lists managed plugins, which weft does not have.)

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::error::ApiError;
use super::AppState;

/// One driver.
#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "PascalCase")]
pub struct DriverInfo {
    pub name: String,
    /// `built-in` or `remote`.
    pub kind: &'static str,
    /// `NetworkDriver`, `IpamDriver`.
    pub implements: Vec<String>,
    /// A remote plugin's `unix://` or `tcp://` address.
    pub address: String,
    /// Why a remote plugin cannot be used, if it cannot.
    pub error: String,
}

pub async fn drivers(State(state): State<AppState>) -> Result<Json<Vec<DriverInfo>>, ApiError> {
    let resolver = state.plugins.clone();
    // Listing activates plugins not used yet: socket calls, off the async threads.
    let remote = tokio::task::spawn_blocking({
        let resolver = resolver.clone();
        move || resolver.map(|r| r.list()).unwrap_or_default()
    })
    .await
    .map_err(|e| ApiError::internal(format!("listing the plugins failed: {e}")))?;
    let (networks, ipams) = state.with_controller(|c| Ok((c.driver_names(), c.ipam_names()))).await?;
    let is_remote = |n: &str| resolver.as_ref().is_some_and(|r| r.is_active(n)) || remote.iter().any(|p| p.name == n);
    let built_in = |name: String, what: &str| DriverInfo {
        name,
        kind: "built-in",
        implements: vec![what.to_string()],
        address: String::new(),
        error: String::new(),
    };
    let mut out: Vec<DriverInfo> = networks
        .into_iter()
        .filter(|n| !is_remote(n))
        .map(|n| built_in(n, driver_remote::NETWORK_DRIVER))
        .chain(ipams.into_iter().filter(|n| !is_remote(n)).map(|n| built_in(n, driver_remote::IPAM_DRIVER)))
        .collect();
    out.extend(remote.into_iter().map(|p| DriverInfo {
        name: p.name,
        kind: "remote",
        implements: p.implements,
        address: p.address,
        error: p.error.unwrap_or_default(),
    }));
    out.sort();
    Ok(Json(out))
}
