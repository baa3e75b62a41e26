//! Docker's connection hijack, client side: send the request with `Connection: Upgrade` and
//! `Upgrade: tcp`, read the `101`, then use the bare socket both ways — local stdin to the
//! process, its output (raw with a terminal, else multiplexed frames) to stdout and stderr.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::fd::FromRawFd;
use std::os::unix::net::UnixStream;
use std::path::Path;

use super::args::ProcessFlags;
use super::client::daemon_error;
use super::console::Console;
use super::container::logs::{Demuxer, Stream};
use super::errors::ClientError;
use super::terminal;

/// The longest answer head accepted before the socket is handed over.
const HEAD_MAX: usize = 64 * 1024;

fn broken(e: std::io::Error) -> ClientError {
    ClientError::Protocol(format!("error during connect to weftd: {e}"))
}

/// `POST path` with `body`, asking to take the connection over; the socket once weftd agreed.
pub fn hijack(socket: &Path, path: &str, body: &serde_json::Value) -> Result<UnixStream, ClientError> {
    let mut stream =
        UnixStream::connect(socket).map_err(|source| ClientError::Connect { socket: socket.to_path_buf(), source })?;
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: weftd\r\nUser-Agent: weft/{}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(broken)?;
    // Byte by byte, so nothing after the head is read here: it belongs to the stream.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= HEAD_MAX {
            return Err(ClientError::Protocol("the answer of weftd has no end of its head".into()));
        }
        match stream.read(&mut byte).map_err(broken)? {
            0 => return Err(ClientError::Protocol("weftd closed the connection without an answer".into())),
            _ => head.push(byte[0]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    if status == 101 || status == 200 {
        return Ok(stream);
    }
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length.min(HEAD_MAX)];
    stream.read_exact(&mut body).map_err(broken)?;
    let status = hyper::StatusCode::from_u16(status)
        .map_err(|_| ClientError::Protocol(format!("weftd answered with a bad status line: {head:?}")))?;
    Err(daemon_error(status, path, &body))
}

/// [`stream`] for the process of `run` or `exec`, as its flags ask: with `-t`, the local terminal
/// in raw mode while it lasts (with `-i` too) and its size sent to `resize_path` as it changes.
pub fn attach(
    console: &mut Console,
    socket: &Path,
    stream: UnixStream,
    resize_path: String,
    process: &ProcessFlags,
) -> Result<(), ClientError> {
    // Restored when this returns, whichever way.
    let _raw = if process.tty && process.interactive { terminal::RawMode::enter() } else { None };
    if process.tty {
        terminal::follow_size(socket.to_path_buf(), resize_path);
    }
    self::stream(console, stream, process.tty, process.interactive)
}

/// Copy the local stdin to `stream` (when `input`) on a thread of its own, half-closing the
/// socket at its end, and the stream's output to the console until weftd ends it.
pub fn stream(console: &mut Console, stream: UnixStream, tty: bool, input: bool) -> Result<(), ClientError> {
    if input {
        let mut writer = stream.try_clone().map_err(broken)?;
        let spawned = std::thread::Builder::new().name("stdin".into()).spawn(move || {
            // The descriptor itself: the console holds the lock of std's stdin for the whole run.
            // SAFETY: fd 0 stays open for the life of the process; ManuallyDrop never closes it.
            let mut stdin = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(0) });
            let mut buf = [0u8; 32 * 1024];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if writer.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            // The end of the input: the process reads end of file (with StdinOnce).
            let _ = writer.shutdown(Shutdown::Write);
        });
        spawned.map_err(|e| ClientError::Protocol(format!("cannot start the stdin thread: {e}")))?;
    }
    let mut reader = stream;
    let mut demuxer = Demuxer::default();
    let mut system = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(broken(e)),
        };
        if tty {
            console.out_bytes(&buf[..n]);
            continue;
        }
        demuxer.push(&buf[..n], &mut |stream, payload| match stream {
            Stream::Stdout => console.out_bytes(payload),
            Stream::Stderr => console.err_bytes(payload),
            Stream::System => system.extend_from_slice(payload),
        });
    }
    demuxer.finish(&mut |_, payload| console.out_bytes(payload));
    if !system.is_empty() {
        return Err(ClientError::Protocol(String::from_utf8_lossy(&system).trim_end().to_string()));
    }
    Ok(())
}
