//! `/_ping` and `/version`.

use axum::http::header::{HeaderMap, HeaderValue, CACHE_CONTROL};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{API_VERSION, MIN_API_VERSION};

fn ping_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("Api-Version", HeaderValue::from_static(API_VERSION));
    h.insert("Ostype", HeaderValue::from_static("linux"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store, must-revalidate"));
    h
}

pub async fn ping() -> impl IntoResponse {
    (ping_headers(), "OK")
}

pub async fn ping_head() -> impl IntoResponse {
    ping_headers()
}

pub async fn version() -> impl IntoResponse {
    let kernel = nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default();
    let v = env!("CARGO_PKG_VERSION");
    Json(json!({
        "Platform": { "Name": "weft" },
        "Components": [{ "Name": "weftd", "Version": v, "Details": { "ApiVersion": API_VERSION } }],
        "Version": v,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "Os": "linux",
        "Arch": std::env::consts::ARCH,
        "KernelVersion": kernel,
    }))
}
