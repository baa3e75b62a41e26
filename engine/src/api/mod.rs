//! weftd's HTTP API: the Docker Engine API's routes for what weft implements, on a unix socket.

mod attach;
mod container_filters;
mod container_types;
mod containers;
mod error;
mod exec;
mod filters;
mod hijack;
mod images;
mod networks;
mod plugins;
mod system;
pub mod types;

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use libnet::Controller;

pub use error::ApiError;

/// The Docker Engine API version weft follows (the command line's too).
pub use weft_api::API_VERSION;
/// The oldest version clients may ask for.
pub const MIN_API_VERSION: &str = "1.24";

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    controller: Arc<Mutex<Controller>>,
    containers: crate::containers::Manager,
    /// The remote plugins the controller resolves drivers with, for `GET /drivers`.
    plugins: Option<Arc<driver_remote::RemoteResolver>>,
    /// The driver libraries weftd found, for `GET /drivers`.
    libraries: Arc<Vec<crate::daemon::drivers::Library>>,
}

impl AppState {
    pub fn new(controller: Arc<Mutex<Controller>>, containers: crate::containers::Manager) -> Self {
        Self { controller, containers, plugins: None, libraries: Arc::default() }
    }

    /// The same state, listing the remote plugins of `plugins`.
    pub fn with_plugins(mut self, plugins: Arc<driver_remote::RemoteResolver>) -> Self {
        self.plugins = Some(plugins);
        self
    }

    /// The same state, listing the driver libraries `libraries`.
    pub fn with_libraries(mut self, libraries: Vec<crate::daemon::drivers::Library>) -> Self {
        self.libraries = Arc::new(libraries);
        self
    }

    pub fn containers(&self) -> &crate::containers::Manager {
        &self.containers
    }

    /// Run `f` on the controller off the async threads: controller calls do blocking kernel work.
    pub async fn with_controller<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Controller) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let c = self.controller.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = c
                .lock()
                .map_err(|_| ApiError::internal("the controller is poisoned by an earlier panic; restart weftd"))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| ApiError::internal(format!("request failed: {e}")))?
    }
}

/// The router, before the version prefix is stripped.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/_ping", get(system::ping).head(system::ping_head))
        .route("/version", get(system::version))
        .route("/networks", get(networks::list))
        .route("/networks/create", post(networks::create))
        .route("/networks/prune", post(networks::prune))
        .route("/networks/{id}", get(networks::inspect).delete(networks::remove))
        .route("/networks/{id}/connect", post(networks::connect))
        .route("/networks/{id}/disconnect", post(networks::disconnect))
        .route("/drivers", get(plugins::drivers))
        .route("/containers/json", get(containers::list))
        .route("/containers/create", post(containers::create))
        .route("/containers/{id}/json", get(containers::inspect))
        .route("/containers/{id}/start", post(containers::start))
        .route("/containers/{id}/stop", post(containers::stop))
        .route("/containers/{id}/restart", post(containers::restart))
        .route("/containers/{id}/kill", post(containers::kill))
        .route("/containers/{id}/wait", post(containers::wait))
        .route("/containers/{id}/logs", get(containers::logs))
        .route("/containers/{id}", delete(containers::remove))
        .route("/images/json", get(images::list))
        .route("/images/create", post(images::create))
        .route("/images/load", post(images::load))
        .route("/images/{*name}", get(images::inspect).delete(images::remove))
        .route("/containers/{id}/attach", post(attach::attach))
        .route("/containers/{id}/resize", post(attach::resize))
        .route("/containers/{id}/exec", post(exec::create))
        .route("/exec/{id}/start", post(exec::start))
        .route("/exec/{id}/json", get(exec::inspect))
        .route("/exec/{id}/resize", post(exec::resize))
        .fallback(not_found)
        .layer(axum::middleware::map_response(json_errors))
        .with_state(state)
}

/// The longest text of a plain error that is carried over into a JSON one.
const PLAIN_ERROR_MAX: usize = 4096;

/// Docker answers every error with `{"message": ...}`; the framework's own refusals (a body over
/// the size limit, a malformed query, a wrong content type) come as plain text: reworded here.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), PLAIN_ERROR_MAX).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => format!("request body is too large: {text}"),
        _ if text.is_empty() => status.canonical_reason().unwrap_or("error").to_string(),
        _ => text,
    };
    ApiError::new(status, message).into_response()
}

async fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "page not found").into_response()
}

fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Strip Docker's `/v1.NN` prefix; an unsupported version is answered as Docker does.
pub fn strip_version(mut req: Request) -> Result<Request, Box<Response>> {
    let path = req.uri().path();
    let Some(rest) = path.strip_prefix("/v") else { return Ok(req) };
    let Some((version, tail)) = rest.split_once('/') else { return Ok(req) };
    let Some(v) = parse_version(version) else { return Ok(req) };
    let max = parse_version(API_VERSION).unwrap_or((1, 45));
    let min = parse_version(MIN_API_VERSION).unwrap_or((1, 24));
    if v > max {
        let msg = format!("client version {version} is too new. Maximum supported API version is {API_VERSION}");
        return Err(Box::new(ApiError::bad_request(msg).into_response()));
    }
    if v < min {
        let msg = format!(
            "client version {version} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
        );
        return Err(Box::new(ApiError::bad_request(msg).into_response()));
    }
    let new_path = format!("/{tail}");
    let pq = match req.uri().query() {
        Some(q) => format!("{new_path}?{q}"),
        None => new_path,
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = pq.parse().ok();
    if let Ok(uri) = Uri::from_parts(parts) {
        *req.uri_mut() = uri;
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn path_of(p: &str) -> Result<String, StatusCode> {
        let req = Request::builder().uri(p).body(Body::empty()).unwrap();
        strip_version(req).map(|r| r.uri().to_string()).map_err(|r| r.status())
    }

    #[test]
    fn version_prefix_is_stripped_or_refused() {
        assert_eq!(path_of("/v1.43/networks?filters=x").unwrap(), "/networks?filters=x");
        assert_eq!(path_of("/networks").unwrap(), "/networks");
        assert_eq!(path_of("/v1.99/networks").unwrap_err(), StatusCode::BAD_REQUEST);
        assert_eq!(path_of("/v1.12/networks").unwrap_err(), StatusCode::BAD_REQUEST);
        assert_eq!(path_of("/volumes").unwrap(), "/volumes");
    }
}
