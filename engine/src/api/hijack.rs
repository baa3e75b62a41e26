//! Docker's connection hijack for attach and exec: a client that sends `Connection: Upgrade` and
//! `Upgrade: tcp` gets `101` and then the bare socket, which carries its input one way and the
//! process's output the other; a client that does not gets `200` and the output as the body.
//!
//! The output is `application/vnd.docker.raw-stream` for a terminal, else the multiplexed stream
//! (frames as `logs` sends them). When the output ends, the server shuts its side down.

use std::fs::File;
use std::io::Write;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

/// Where a client's input goes: the current target (none yet, or no more), and what to do when
/// the client's input ends.
pub struct Input {
    pub target: watch::Receiver<Option<Arc<File>>>,
    pub on_end: Box<dyn FnOnce() + Send>,
}

/// Whether the request asks to take over the connection.
pub fn wants_upgrade(headers: &HeaderMap) -> bool {
    let has = |name: header::HeaderName, word: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|part| part.trim().eq_ignore_ascii_case(word)))
    };
    has(header::CONNECTION, "upgrade") && has(header::UPGRADE, "tcp")
}

fn content_type(tty: bool) -> HeaderValue {
    HeaderValue::from_static(if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    })
}

/// Answer with the output, over the hijacked connection when `upgrade` is given (then `input`
/// is fed from it), else as a streamed body.
pub fn respond(upgrade: Option<OnUpgrade>, tty: bool, output: mpsc::Receiver<Bytes>, input: Option<Input>) -> Response {
    let Some(upgrade) = upgrade else {
        let body = futures_util::stream::unfold(output, |mut rx| async move {
            rx.recv().await.map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
        });
        return ([(header::CONTENT_TYPE, content_type(tty))], Body::from_stream(body)).into_response();
    };
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => serve(TokioIo::new(upgraded), output, input).await,
            Err(e) => tracing::warn!("connection upgrade failed: {e}"),
        }
    });
    let mut response = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type(tty));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("tcp"));
    response
}

async fn serve<S>(stream: S, mut output: mpsc::Receiver<Bytes>, input: Option<Input>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let feeder = tokio::spawn(async move {
        match input {
            Some(input) => feed(&mut reader, input).await,
            // Nothing to feed: still read, so a client's half-close is consumed.
            None => {
                let mut buf = [0u8; 1024];
                while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {}
            }
        }
    });
    while let Some(chunk) = output.recv().await {
        if writer.write_all(&chunk).await.is_err() || writer.flush().await.is_err() {
            break;
        }
    }
    let _ = writer.shutdown().await;
    feeder.abort();
}

/// Copy the client's input to the target until either ends.
async fn feed<R: tokio::io::AsyncRead + Unpin>(reader: &mut R, mut input: Input) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(n) if n > 0 => n,
            _ => {
                (input.on_end)();
                return;
            }
        };
        let file = loop {
            if let Some(f) = input.target.borrow_and_update().clone() {
                break f;
            }
            if input.target.changed().await.is_err() {
                return;
            }
        };
        let data = buf[..n].to_vec();
        let written = tokio::task::spawn_blocking(move || (&*file).write_all(&data)).await;
        if !matches!(written, Ok(Ok(()))) {
            // The process has gone (a broken pipe): the rest of the input has nowhere to go.
            return;
        }
    }
}
