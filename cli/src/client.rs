//! The HTTP/1.1 client of weftd's API: one request per connection over its unix socket.

use std::path::{Path, PathBuf};

use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;

use super::errors::{CliError, ClientError};

/// Where `weft` looks for weftd when neither `-H` nor `WEFT_HOST` says otherwise.
pub use weft_api::DEFAULT_HOST;

/// The socket path of a `-H`/`WEFT_HOST` value: `unix:///path`, or a bare absolute path.
pub fn socket_path(host: &str) -> Result<PathBuf, CliError> {
    let path = match host.strip_prefix("unix://") {
        Some(path) => path,
        None if host.starts_with('/') => host,
        None => {
            return Err(CliError::failed(format!(
                "invalid host \"{host}\": weft reaches weftd over a unix socket, give it as unix:///path/to/weft.sock"
            )))
        }
    };
    if path.is_empty() {
        return Err(CliError::failed(format!("invalid host \"{host}\": the socket path is empty")));
    }
    Ok(PathBuf::from(path))
}

/// A client of one weftd; each call opens its own connection, so nothing is shared between them.
pub struct Client {
    socket: PathBuf,
    runtime: tokio::runtime::Runtime,
}

/// The error body of the Docker Engine API.
#[derive(Deserialize)]
struct ErrorBody {
    message: String,
}

impl Client {
    pub fn new(socket: PathBuf) -> Result<Self, CliError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| CliError::failed(format!("cannot start the I/O runtime: {e}")))?;
        Ok(Self { socket, runtime })
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `GET path`; the body of a 2xx answer, or the daemon's error.
    pub fn get(&self, path: &str) -> Result<Bytes, ClientError> {
        self.call(Method::GET, path, None)
    }

    /// `POST path` with a JSON body (or none); the body of a 2xx answer, or the daemon's error.
    pub fn post(&self, path: &str, body: Option<&serde_json::Value>) -> Result<Bytes, ClientError> {
        let body = body.map(|b| b.to_string().into_bytes());
        self.call(Method::POST, path, body)
    }

    /// `DELETE path`; the body of a 2xx answer, or the daemon's error.
    pub fn delete(&self, path: &str) -> Result<Bytes, ClientError> {
        self.call(Method::DELETE, path, None)
    }

    /// `GET path`, the body of a 2xx answer handed to `sink` piece by piece as it arrives (a log
    /// stream that lasts as long as a container); the daemon's error otherwise.
    pub fn get_stream(&self, path: &str, sink: &mut dyn FnMut(&[u8])) -> Result<(), ClientError> {
        self.runtime.block_on(async {
            let response = self.send(Method::GET, path, None).await?;
            if !response.status().is_success() {
                let (status, bytes) = read_answer(response).await?;
                return Err(daemon_error(status, path, &bytes));
            }
            let mut body = response.into_body();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(reading_failed)?;
                if let Some(data) = frame.data_ref() {
                    sink(data);
                }
            }
            Ok(())
        })
    }

    /// `POST path` with a body streamed from what `produce` writes (run on a thread of its own,
    /// so a large tarball is never held in memory); the body of a 2xx answer, or the daemon's
    /// error. An error of `produce` is the error of the call.
    pub fn post_stream(
        &self,
        path: &str,
        content_type: &str,
        produce: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()> + Send + 'static,
    ) -> Result<Bytes, ClientError> {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
        let producer = std::thread::spawn(move || {
            let errors = tx.clone();
            let mut writer = std::io::BufWriter::with_capacity(256 * 1024, ChannelWriter { tx });
            let result = produce(&mut writer).and_then(|()| std::io::Write::flush(&mut writer));
            drop(writer);
            if let Err(e) = &result {
                let _ = errors.blocking_send(Err(std::io::Error::new(e.kind(), e.to_string())));
            }
            result
        });
        let frames = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk.map(hyper::body::Frame::data), rx))
        });
        let answer = self.runtime.block_on(async {
            let response = self.send_body(Method::POST, path, Some(content_type), StreamBody::new(frames)).await?;
            read_answer(response).await
        });
        let produced = producer.join();
        // The daemon's refusal first: it may have stopped reading, which fails the producer.
        if let Ok((status, bytes)) = &answer {
            if !status.is_success() {
                return Err(daemon_error(*status, path, bytes));
            }
        }
        match produced {
            Ok(Err(e)) => return Err(ClientError::Protocol(e.to_string())),
            Err(_) => return Err(ClientError::Protocol("the reader of the upload failed".into())),
            Ok(Ok(())) => {}
        }
        answer.map(|(_, bytes)| bytes)
    }

    fn call(&self, method: Method, path: &str, body: Option<Vec<u8>>) -> Result<Bytes, ClientError> {
        let (status, bytes) =
            self.runtime.block_on(async { read_answer(self.send(method, path, body).await?).await })?;
        // As Docker's client: below 400 is no error (`start` of a running container and `stop` of
        // a stopped one answer 304 Not Modified).
        if status.as_u16() < 400 {
            return Ok(bytes);
        }
        Err(daemon_error(status, path, &bytes))
    }

    /// Sends one request on a new connection; the answer's head, its body still to be read.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, ClientError> {
        let content_type = body.is_some().then_some("application/json");
        self.send_body(method, path, content_type, Full::new(Bytes::from(body.unwrap_or_default()))).await
    }

    async fn send_body<B>(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: B,
    ) -> Result<hyper::Response<hyper::body::Incoming>, ClientError>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let stream = tokio::net::UnixStream::connect(&self.socket)
            .await
            .map_err(|source| ClientError::Connect { socket: self.socket.clone(), source })?;
        let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ClientError::Protocol(format!("error during connect to weftd: {e}")))?;
        // The connection future drives the socket; it ends when the exchange is over.
        tokio::spawn(async move {
            let _ = connection.await;
        });

        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "weftd")
            .header(hyper::header::USER_AGENT, concat!("weft/", env!("CARGO_PKG_VERSION")));
        if let Some(content_type) = content_type {
            request = request.header(hyper::header::CONTENT_TYPE, content_type);
        }
        let request = request.body(body).map_err(|e| ClientError::Protocol(format!("invalid request {path}: {e}")))?;
        sender
            .send_request(request)
            .await
            .map_err(|e| ClientError::Protocol(format!("error during connect to weftd: {e}")))
    }
}

/// The status of an answer and its whole body.
async fn read_answer(response: hyper::Response<hyper::body::Incoming>) -> Result<(StatusCode, Bytes), ClientError> {
    let status = response.status();
    let bytes = response.into_body().collect().await.map_err(reading_failed)?.to_bytes();
    Ok((status, bytes))
}

fn reading_failed(e: hyper::Error) -> ClientError {
    ClientError::Protocol(format!("error reading the answer of weftd: {e}"))
}

/// A writer whose bytes become the chunks of a request body.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tx
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "weftd closed the upload"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The error of a non-2xx answer, worded as Docker's client words it.
pub(crate) fn daemon_error(status: StatusCode, path: &str, body: &[u8]) -> ClientError {
    let message = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(e) => e.message,
        Err(_) => String::from_utf8_lossy(body).trim().to_string(),
    };
    if message.is_empty() {
        let reason = status.canonical_reason().unwrap_or("unknown status");
        return ClientError::Protocol(format!(
            "request returned {reason} for API route {path}, check if the server supports the requested API version"
        ));
    }
    ClientError::Daemon { status: status.as_u16(), message }
}

/// Percent-encodes one path segment or query value (RFC 3986 unreserved characters stay).
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_name_unix_sockets() {
        assert_eq!(socket_path("unix:///run/weft/weft.sock").ok(), Some(PathBuf::from("/run/weft/weft.sock")));
        assert_eq!(socket_path("/tmp/w.sock").ok(), Some(PathBuf::from("/tmp/w.sock")));
        assert!(socket_path("tcp://127.0.0.1:2375").is_err());
        assert!(socket_path("unix://").is_err());
    }

    #[test]
    fn error_bodies_become_docker_messages() {
        let e = daemon_error(StatusCode::NOT_FOUND, "/networks/foo", br#"{"message":"network foo not found"}"#);
        assert!(e.is_not_found());
        assert_eq!(e.to_string(), "Error response from daemon: network foo not found");
        let e = daemon_error(StatusCode::INTERNAL_SERVER_ERROR, "/x", b"  boom\n");
        assert_eq!(e.to_string(), "Error response from daemon: boom");
        let e = daemon_error(StatusCode::NOT_FOUND, "/x", b"");
        assert!(e.to_string().starts_with("request returned Not Found for API route /x"));
    }

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(encode_component(r#"{"driver":{"bridge":true}}"#), "%7B%22driver%22%3A%7B%22bridge%22%3Atrue%7D%7D");
        assert_eq!(encode_component("my-net_1.x"), "my-net_1.x");
        assert_eq!(encode_component("a b/c"), "a%20b%2Fc");
    }
}
