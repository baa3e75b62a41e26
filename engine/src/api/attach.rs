//! `POST /containers/{id}/attach` (with Docker's connection hijack) and
//! `POST /containers/{id}/resize`: a client's input to a container's stdin, and its output from
//! the moment of the attach (or from the start with `logs=1`) until the container's next exit.
//!
//! The output is read back from the container's log, where the runtime writes it (a terminal's
//! through the pump of [`crate::containers::stdio`]), so any number of clients can attach.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::containers::{log_failed, open_log, truthy};
use super::error::ApiError;
use super::exec::{size_of, ResizeQuery};
use super::hijack::{self, Input};
use super::AppState;

/// How often an attached client's output looks for new output while the container says nothing.
const POLL: Duration = Duration::from_millis(20);

#[derive(Debug, Deserialize)]
pub struct AttachQuery {
    stream: Option<String>,
    logs: Option<String>,
    stdin: Option<String>,
    stdout: Option<String>,
    stderr: Option<String>,
}

pub async fn attach(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AttachQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let (mut parts, _) = req.into_parts();
    let m = state.containers().clone();
    let (rec, mut exits) = m.subscribe(&id)?;
    let (stdout, stderr) = (truthy(&q.stdout), truthy(&q.stderr));
    let tty = rec.config.tty;
    // Counted now: the output ends at the first exit after the attach (a container attached to
    // before its start, as `weft run -i` does, ends with that run).
    let seen = exits.borrow_and_update().count;
    let mut reader = open_log(&m, &rec, stdout, stderr && !tty, "output").await?;
    if !truthy(&q.logs) {
        reader.skip_to_end().await.map_err(log_failed("output", &rec))?;
    }
    let input = if truthy(&q.stdin) && rec.config.open_stdin {
        let io = m.container_io(&rec.id);
        let once = rec.config.stdin_once && !tty;
        Some(Input {
            target: io.input(),
            on_end: Box::new(move || {
                if once {
                    io.close_input();
                }
            }),
        })
    } else {
        None
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let streaming = truthy(&q.stream) || !truthy(&q.logs);
    tokio::spawn(async move {
        loop {
            // Looked at before reading, so after an exit the read sees all it wrote.
            let exited = exits.borrow_and_update().count > seen || exits.has_changed().is_err();
            match reader.read_new().await {
                Ok(data) if !data.is_empty() => {
                    if tx.send(Bytes::from(data)).await.is_err() {
                        return;
                    }
                    continue;
                }
                Ok(_) if exited || !streaming => return,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!("attach: read the log: {e}");
                    return;
                }
            }
            let _ = tokio::time::timeout(POLL, exits.changed()).await;
        }
    });
    let upgrade = if hijack::wants_upgrade(&parts.headers) {
        parts.extensions.remove::<hyper::upgrade::OnUpgrade>()
    } else {
        None
    };
    Ok(hijack::respond(upgrade, tty, rx, input))
}

/// `POST /containers/{id}/resize?h=&w=`.
pub async fn resize(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ResizeQuery>,
) -> Result<StatusCode, ApiError> {
    let (h, w) = size_of(&q)?;
    state.containers().resize(&id, h, w)?;
    Ok(StatusCode::OK)
}
