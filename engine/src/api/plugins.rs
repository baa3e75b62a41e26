//! `GET /drivers`, weft's own route: every driver weftd can use, from a library (dylib), built in,
//! or a remote plugin, for `weft plugin ls`. (Docker's `/plugins` lists managed plugins, which weft does not have.)

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
    /// `dylib`, `built-in` or `remote`.
    pub kind: &'static str,
    /// `NetworkDriver`, `IpamDriver`.
    pub implements: Vec<String>,
    /// A library's path, or a remote plugin's `unix://` or `tcp://` address.
    pub address: String,
    /// The driver interface version a library was built for.
    pub version: String,
    /// Why a library or a remote plugin cannot be used, if it cannot.
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
    let libraries = state.libraries.clone();
    let from_library = |n: &str| libraries.iter().any(|l| l.name == n && l.error.is_none());
    let is_remote = |n: &str| is_remote(n) || from_library(n);
    let built_in = |name: String, what: &str| DriverInfo {
        name,
        kind: "built-in",
        implements: vec![what.to_string()],
        address: String::new(),
        version: String::new(),
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
        version: String::new(),
        error: p.error.unwrap_or_default(),
    }));
    out.extend(libraries.iter().map(|l| DriverInfo {
        name: l.name.clone(),
        kind: "dylib",
        implements: if l.implements.is_empty() { Vec::new() } else { vec![l.implements.clone()] },
        address: l.path.display().to_string(),
        version: l.interface.clone(),
        error: l.error.clone().unwrap_or_default(),
    }));
    out.sort();
    Ok(Json(out))
}
