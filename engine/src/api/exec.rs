//! The exec routes: create an exec instance in a running container, start it (with Docker's
//! connection hijack), inspect it, resize its terminal — Docker Engine API shapes over
//! [`crate::containers::exec`].

use std::fs::File;
use std::io::Read;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

use super::containers::{blocking, flag, strings};
use super::error::ApiError;
use super::hijack::{self, Input};
use super::AppState;
use crate::containers::exec::ExecConfig;
use crate::containers::logs;

/// How much of the process's output may wait for a slow client before its pipe fills.
const OUTPUT_QUEUE: usize = 64;

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(ApiError::invalid_json)
}

/// `POST /containers/{id}/exec`.
pub async fn create(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let body = json_body(&body)?;
    let config = ExecConfig {
        cmd: strings(&body["Cmd"]),
        env: strings(&body["Env"]),
        working_dir: body["WorkingDir"].as_str().unwrap_or_default().to_string(),
        tty: flag(&body["Tty"]),
        attach_stdin: flag(&body["AttachStdin"]),
        attach_stdout: flag(&body["AttachStdout"]),
        attach_stderr: flag(&body["AttachStderr"]),
        user: body["User"].as_str().unwrap_or_default().to_string(),
        privileged: flag(&body["Privileged"]),
    };
    let exec_id = blocking(state.containers(), move |m| m.exec_create(&id, config)).await?;
    Ok((StatusCode::CREATED, Json(json!({ "Id": exec_id }))))
}

/// `POST /exec/{id}/start`: `{"Detach": bool, "Tty": bool}`.
pub async fn start(State(state): State<AppState>, Path(id): Path<String>, req: Request) -> Result<Response, ApiError> {
    let (mut parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
    let body = json_body(&body)?;
    let detach = flag(&body["Detach"]);
    let m = state.containers().clone();
    let exec = m.exec_get(&id)?;
    let streams = blocking(&m, move |m| m.exec_start(&id, detach)).await?;
    let tty = exec.config.tty;
    let output = pump_output(streams.output, streams.done.clone());
    if detach {
        // Drained, so a terminal's process never blocks on a full buffer.
        tokio::spawn(drain(output));
        return Ok(StatusCode::OK.into_response());
    }
    let input = streams.input.map(|file| input_of(file, tty));
    let upgrade = if hijack::wants_upgrade(&parts.headers) {
        parts.extensions.remove::<hyper::upgrade::OnUpgrade>()
    } else {
        None
    };
    Ok(hijack::respond(upgrade, tty, output, input))
}

async fn drain(mut output: mpsc::Receiver<Bytes>) {
    while output.recv().await.is_some() {}
}

/// The client's input into `file`; its end closes a pipe (the process reads end of file) but
/// not a terminal, as with Docker.
fn input_of(file: File, tty: bool) -> Input {
    let (tx, rx) = watch::channel(Some(Arc::new(file)));
    Input {
        target: rx,
        on_end: Box::new(move || {
            if !tty {
                tx.send_replace(None);
            }
        }),
    }
}

/// Read each output pipe on a thread of its own into one channel (frames, or the terminal's raw
/// bytes); the channel ends once every pipe has and the exit code is known, so a client that
/// inspects the exec after the stream finds it.
fn pump_output(pipes: Vec<(u8, File)>, mut done: watch::Receiver<Option<i32>>) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(OUTPUT_QUEUE);
    for (stream, mut pipe) in pipes {
        let tx = tx.clone();
        let spawned = std::thread::Builder::new().name("exec-output".into()).spawn(move || {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                let n = match pipe.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    // EIO: the terminal hung up.
                    Err(_) => return,
                };
                let chunk = if stream == 0 {
                    buf[..n].to_vec()
                } else {
                    let mut framed = Vec::with_capacity(n + 8);
                    logs::frame(&mut framed, stream, &buf[..n]);
                    framed
                };
                if tx.blocking_send(Bytes::from(chunk)).is_err() {
                    return;
                }
            }
        });
        if let Err(e) = spawned {
            tracing::error!("cannot start an exec output thread: {e}");
        }
    }
    tokio::spawn(async move {
        while done.borrow_and_update().is_none() {
            if done.changed().await.is_err() {
                break;
            }
        }
        drop(tx);
    });
    rx
}

/// `GET /exec/{id}/json`.
pub async fn inspect(State(state): State<AppState>, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let exec = state.containers().exec_get(&id)?;
    let status = exec.status();
    let c = &exec.config;
    Ok(Json(json!({
        "ID": exec.id,
        "Running": status.running,
        "ExitCode": status.exit_code,
        "ProcessConfig": {
            "tty": c.tty,
            "entrypoint": c.cmd.first().cloned().unwrap_or_default(),
            "arguments": c.cmd.iter().skip(1).collect::<Vec<_>>(),
            "privileged": false,
            "user": "",
        },
        "OpenStdin": c.attach_stdin,
        "OpenStderr": c.attach_stderr,
        "OpenStdout": c.attach_stdout,
        "CanRemove": false,
        "ContainerID": exec.container_id,
        "DetachKeys": "",
        "Pid": status.pid,
    })))
}

#[derive(Debug, Deserialize)]
pub struct ResizeQuery {
    h: Option<String>,
    w: Option<String>,
}

/// The `h` and `w` of a resize, as Docker checks them.
pub(super) fn size_of(q: &ResizeQuery) -> Result<(u16, u16), ApiError> {
    let parse = |v: &Option<String>| v.as_deref().unwrap_or("").parse::<u16>();
    match (parse(&q.h), parse(&q.w)) {
        (Ok(h), Ok(w)) => Ok((h, w)),
        _ => Err(ApiError::bad_request(format!(
            "invalid resize parameters h={:?} w={:?}: each must be a number from 0 to 65535",
            q.h.as_deref().unwrap_or(""),
            q.w.as_deref().unwrap_or("")
        ))),
    }
}

/// `POST /exec/{id}/resize?h=&w=`.
pub async fn resize(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ResizeQuery>,
) -> Result<StatusCode, ApiError> {
    let (h, w) = size_of(&q)?;
    state.containers().exec_get(&id)?.resize(h, w)?;
    Ok(StatusCode::OK)
}
