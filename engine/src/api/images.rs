//! The image routes: import (`POST /images/create?fromSrc=-`), load (`POST /images/load`), list,
//! inspect and remove — Docker Engine API shapes over [`crate::images::Images`].
//!
//! A request body (a tarball) is spooled to a file under the image store's `.tmp` first: a
//! `docker save` tarball names its parts in a manifest that may come last, and the import is
//! then done off the async threads with plain reads.

use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use super::error::ApiError;
use super::AppState;
use crate::containers::Manager;
use crate::images::{check_not_builtin, ImageError, ImageRecord, Reference, Removed};

impl From<ImageError> for ApiError {
    fn from(e: ImageError) -> Self {
        let status = match &e {
            ImageError::NotFound(_) => StatusCode::NOT_FOUND,
            ImageError::InvalidReference(_)
            | ImageError::InvalidParameter(_)
            | ImageError::BadArchive(_)
            | ImageError::Unsafe { .. } => StatusCode::BAD_REQUEST,
            ImageError::Conflict(_) => StatusCode::CONFLICT,
            ImageError::Io { .. } | ImageError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

/// Query values by name; repeated keys (`changes`) kept in order.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
    fn all(&self, key: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect()
    }
}

/// Write the request body to a fresh file; its path.
async fn spool(m: &Manager, body: Body) -> Result<std::path::PathBuf, ApiError> {
    let path = m.images().spool_path();
    let failed =
        |e: std::io::Error| ApiError::internal(format!("store the uploaded archive at {}: {e}", path.display()));
    let mut file = tokio::fs::File::create(&path).await.map_err(failed)?;
    let mut stream = body.into_data_stream();
    let result: Result<(), ApiError> = async {
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
            file.write_all(&chunk).await.map_err(failed)?;
        }
        file.flush().await.map_err(failed)
    }
    .await;
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(e);
    }
    Ok(path)
}

/// Spool `body`, then run `f` on the file off the async threads; the file is removed after.
async fn with_upload<T: Send + 'static>(
    m: &Manager,
    body: Body,
    f: impl FnOnce(&Manager, &mut std::fs::File) -> Result<T, ImageError> + Send + 'static,
) -> Result<T, ApiError> {
    let path = spool(m, body).await?;
    let m = m.clone();
    let p = path.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&p).map_err(|e| ImageError::io("open the uploaded archive", e))?;
        f(&m, &mut file)
    })
    .await;
    let _ = tokio::fs::remove_file(&path).await;
    result.map_err(|e| ApiError::internal(format!("request failed: {e}")))?.map_err(ApiError::from)
}

/// `POST /images/create`: weft imports (`fromSrc=-`, the tarball as the body) and never pulls.
/// Read and drop the rest of a request body before a refusal, so a client still sending it reads
/// the refusal instead of a broken pipe. Bounded: past 1 GiB the connection is just closed.
async fn drained(body: Body, refusal: ApiError) -> ApiError {
    let mut stream = body.into_data_stream();
    let mut seen = 0usize;
    while let Some(Ok(chunk)) = stream.next().await {
        seen += chunk.len();
        if seen > 1 << 30 {
            break;
        }
    }
    refusal
}

pub async fn create(
    State(state): State<AppState>,
    Query(q): Query<Vec<(String, String)>>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    match import_target(Params(q)) {
        Ok((tag, changes, comment)) => {
            let m = state.containers().clone();
            let rec =
                with_upload(&m, body, move |m, file| m.images().import(file, tag.as_ref(), &changes, &comment)).await?;
            tracing::info!(image = %rec.id, tags = ?rec.repo_tags, "image imported");
            Ok(([(header::CONTENT_TYPE, "application/json")], format!("{}\n", json!({ "status": rec.id }))))
        }
        Err(refusal) => Err(drained(body, refusal).await),
    }
}

/// What an import asks for: the tag, the `--change`s and the message; or why it is refused.
fn import_target(q: Params) -> Result<(Option<Reference>, Vec<String>, String), ApiError> {
    if let Some(image) = q.get("fromImage") {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("weft does not pull images ({image}): import a tarball with `weft image import` or load one with `weft image load`"),
        ));
    }
    match q.get("fromSrc") {
        Some("-") => {}
        Some(src) => {
            return Err(ApiError::bad_request(format!(
                "weft imports only from the request body (fromSrc=-), not from {src}"
            )))
        }
        None => return Err(ApiError::bad_request("fromSrc or fromImage is required")),
    }
    let tag = match q.get("repo") {
        Some(repo) => {
            let name = match q.get("tag") {
                Some(tag) => format!("{repo}:{tag}"),
                None => repo.to_string(),
            };
            let r = Reference::parse(&name)?;
            check_not_builtin(std::slice::from_ref(&r))?;
            Some(r)
        }
        None => None,
    };
    let changes = q.all("changes");
    let comment = q.get("message").unwrap_or("").to_string();
    Ok((tag, changes, comment))
}

/// `POST /images/load`: a `docker save` tarball as the body; Docker's JSON message stream back.
pub async fn load(State(state): State<AppState>, body: Body) -> Result<impl IntoResponse, ApiError> {
    let m = state.containers().clone();
    let lines = with_upload(&m, body, |m, file| m.images().load(file)).await?;
    let mut out = String::new();
    for line in lines {
        tracing::info!("{line}");
        out.push_str(&json!({ "stream": format!("{line}\n") }).to_string());
        out.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], out))
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn summary(r: &ImageRecord) -> Value {
    json!({
        "Id": r.id,
        "ParentId": "",
        "RepoTags": r.repo_tags,
        "RepoDigests": [],
        "Created": unix_seconds(r.created),
        "Size": r.size,
        "SharedSize": -1,
        "Labels": {},
        "Containers": -1,
    })
}

pub async fn list(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let m = state.containers().clone();
    let images = tokio::task::spawn_blocking(move || m.images().list())
        .await
        .map_err(|e| ApiError::internal(format!("request failed: {e}")))??;
    Ok(Json(images.iter().map(summary).collect::<Vec<_>>()))
}

fn inspect_json(r: &ImageRecord, rootfs: &std::path::Path) -> Value {
    let config = r.config.to_json();
    json!({
        "Id": r.id,
        "RepoTags": r.repo_tags,
        "RepoDigests": [],
        "Parent": "",
        "Comment": r.comment,
        "Created": humantime::format_rfc3339_nanos(r.created).to_string(),
        "DockerVersion": "",
        "Author": "",
        "Config": config,
        "Architecture": std::env::consts::ARCH,
        "Os": "linux",
        "Size": r.size,
        "GraphDriver": { "Name": "weft", "Data": { "RootDir": rootfs } },
        "RootFS": { "Type": "layers", "Layers": r.diff_ids },
        "Metadata": { "LastTagTime": "0001-01-01T00:00:00Z" },
    })
}

/// The built-in `hostfs` image as inspect shows it: no files of its own.
fn hostfs_json() -> Value {
    json!({
        "Id": "hostfs",
        "RepoTags": ["hostfs:latest"],
        "RepoDigests": [],
        "Parent": "",
        "Comment": "weft's built-in image: the host's root filesystem, read-only",
        "Config": { "Env": null, "Cmd": null, "Entrypoint": null, "WorkingDir": "" },
        "Architecture": std::env::consts::ARCH,
        "Os": "linux",
        "Size": 0,
        "RootFS": { "Type": "layers", "Layers": [] },
    })
}

/// `GET /images/{name}/json` and `DELETE /images/{name}`; names may hold `/`, so one wildcard
/// route takes both.
pub async fn inspect(State(state): State<AppState>, Path(rest): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let Some(name) = rest.strip_suffix("/json").filter(|n| !n.is_empty()) else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "page not found"));
    };
    if crate::containers::is_hostfs(name) {
        return Ok(Json(hostfs_json()));
    }
    let m = state.containers().clone();
    let name = name.to_string();
    let v = tokio::task::spawn_blocking(move || {
        m.images().resolve(&name).map(|r| inspect_json(&r, &m.images().rootfs(&r.id)))
    })
    .await
    .map_err(|e| ApiError::internal(format!("request failed: {e}")))??;
    Ok(Json(v))
}

pub async fn remove(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<impl IntoResponse, ApiError> {
    let force = Params(q).get("force").is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true"));
    let m = state.containers().clone();
    let removed = tokio::task::spawn_blocking(move || m.remove_image(&name, force))
        .await
        .map_err(|e| ApiError::internal(format!("request failed: {e}")))??;
    let items: Vec<Value> = removed
        .into_iter()
        .map(|r| match r {
            Removed::Untagged(t) => json!({ "Untagged": t }),
            Removed::Deleted(id) => json!({ "Deleted": id }),
        })
        .collect();
    Ok(Json(items))
}
