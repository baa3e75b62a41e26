//! A minimal synchronous HTTP/1.1 client for plugin calls: one POST per connection, a JSON body,
//! and an answer framed by Content-Length, chunked encoding, or the end of the connection; every
//! read bounded by the call's deadline.
//!
//! Plugin calls are tiny, local and synchronous (the driver traits are), so a full HTTP stack and
//! an async runtime would bring more than they give here.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use crate::discovery::Address;

/// Docker's media type for plugin calls.
pub const PLUGIN_MIME: &str = "application/vnd.docker.plugins.v1.2+json";
/// The head of an answer may not be longer than this.
const MAX_HEAD: usize = 64 * 1024;
/// Nor its body.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// An answer: its status and its body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why a request failed, before any plugin or call is named.
#[derive(Debug)]
pub enum Failure {
    /// No connection could be made (the only failure worth a retry: nothing was sent).
    Connect(io::Error),
    /// The deadline passed.
    Timeout,
    /// The connection broke or closed early.
    Io(String),
    /// The bytes are not an HTTP answer.
    Malformed(String),
}

enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    fn connect(address: &Address, timeout: Duration) -> io::Result<Conn> {
        match address {
            Address::Unix(p) => UnixStream::connect(p).map(Conn::Unix),
            Address::Tcp(hp) => {
                let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{hp} resolves to no address"));
                for a in hp.to_socket_addrs()? {
                    match TcpStream::connect_timeout(&a, timeout) {
                        Ok(s) => return Ok(Conn::Tcp(s)),
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
        }
    }

    fn set_timeouts(&self, t: Duration) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.set_read_timeout(Some(t)).and_then(|()| s.set_write_timeout(Some(t))),
            Conn::Tcp(s) => s.set_read_timeout(Some(t)).and_then(|()| s.set_write_timeout(Some(t))),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(buf),
            Conn::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Unix(s) => s.flush(),
            Conn::Tcp(s) => s.flush(),
        }
    }
}

/// A source whose reads can be bounded, so that every read ends by the call's deadline.
trait Timed: Read {
    fn bound_reads(&self, t: Duration) -> io::Result<()>;
}

impl Timed for Conn {
    fn bound_reads(&self, t: Duration) -> io::Result<()> {
        self.set_timeouts(t)
    }
}

impl Timed for &[u8] {
    fn bound_reads(&self, _: Duration) -> io::Result<()> {
        Ok(())
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// POST `body` to `path` at `address`; the whole exchange must end within `timeout`.
pub fn post(address: &Address, host: &str, path: &str, body: &[u8], timeout: Duration) -> Result<Response, Failure> {
    let deadline = Instant::now() + timeout;
    let mut conn = Conn::connect(address, timeout).map_err(Failure::Connect)?;
    conn.set_timeouts(timeout).map_err(|e| Failure::Io(e.to_string()))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: weft\r\nAccept: {PLUGIN_MIME}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    conn.write_all(&request).map_err(|e| if is_timeout(&e) { Failure::Timeout } else { Failure::Io(e.to_string()) })?;
    read_response(&mut Reader { conn: &mut conn, buf: Vec::new(), deadline })
}

struct Reader<'a, R: Timed> {
    conn: &'a mut R,
    buf: Vec<u8>,
    deadline: Instant,
}

impl<R: Timed> Reader<'_, R> {
    /// Read more into the buffer; `false` at the end of the connection.
    fn fill(&mut self) -> Result<bool, Failure> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Failure::Timeout);
        }
        self.conn.bound_reads(left).map_err(|e| Failure::Io(e.to_string()))?;
        let mut chunk = [0u8; 8192];
        match self.conn.read(&mut chunk) {
            Ok(0) => Ok(false),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Err(e) if is_timeout(&e) => Err(Failure::Timeout),
            Err(e) => Err(Failure::Io(e.to_string())),
        }
    }

    /// Make sure `n` bytes are buffered.
    fn want(&mut self, n: usize, what: &str) -> Result<(), Failure> {
        while self.buf.len() < n {
            if !self.fill()? {
                return Err(Failure::Io(format!("the plugin closed the connection in the middle of the {what}")));
            }
        }
        Ok(())
    }

    /// Take one CRLF-ended line (without the CRLF).
    fn line(&mut self, what: &str) -> Result<String, Failure> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..i]).into_owned();
                self.buf.drain(..i + 2);
                return Ok(line);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(Failure::Malformed(format!("a {what} line longer than {MAX_HEAD} bytes")));
            }
            if !self.fill()? {
                return Err(Failure::Io(format!("the plugin closed the connection in the middle of the {what}")));
            }
        }
    }
}

fn read_response<R: Timed>(r: &mut Reader<'_, R>) -> Result<Response, Failure> {
    // The head, up to the empty line.
    let head_end = loop {
        if let Some(i) = r.buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if r.buf.len() > MAX_HEAD {
            return Err(Failure::Malformed(format!("no end of the HTTP head in the first {MAX_HEAD} bytes")));
        }
        if !r.fill()? {
            if r.buf.is_empty() {
                return Err(Failure::Io("the plugin closed the connection without an answer".into()));
            }
            return Err(Failure::Malformed(format!("not an HTTP answer: {}", preview(&r.buf))));
        }
    };
    let head = String::from_utf8_lossy(&r.buf[..head_end]).into_owned();
    r.buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let status = match (version.starts_with("HTTP/1."), code.parse::<u16>()) {
        (true, Ok(s)) if (100..600).contains(&s) => s,
        _ => return Err(Failure::Malformed(format!("not an HTTP status line: {}", preview(status_line.as_bytes())))),
    };
    let (mut chunked, mut length) = (false, None);
    for l in lines {
        let Some((k, v)) = l.split_once(':') else { continue };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked") {
            chunked = true;
        } else if k == "content-length" {
            length =
                Some(v.parse::<usize>().map_err(|_| Failure::Malformed(format!("invalid Content-Length \"{v}\"")))?);
        }
    }
    let body = if chunked {
        read_chunked(r)?
    } else if let Some(n) = length {
        if n > MAX_BODY {
            return Err(Failure::Malformed(format!("an answer of {n} bytes (at most {MAX_BODY})")));
        }
        r.want(n, "answer's body")?;
        r.buf[..n].to_vec()
    } else {
        while r.fill()? {
            if r.buf.len() > MAX_BODY {
                return Err(Failure::Malformed(format!("an answer longer than {MAX_BODY} bytes")));
            }
        }
        std::mem::take(&mut r.buf)
    };
    Ok(Response { status, body })
}

fn read_chunked<R: Timed>(r: &mut Reader<'_, R>) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    loop {
        let line = r.line("chunk size")?;
        let size = line.split(';').next().unwrap_or("").trim();
        let n = usize::from_str_radix(size, 16)
            .map_err(|_| Failure::Malformed(format!("invalid chunk size \"{}\"", preview(size.as_bytes()))))?;
        if n == 0 {
            // Trailers, if any, up to the empty line.
            while !r.line("trailer")?.is_empty() {}
            return Ok(body);
        }
        if body.len() + n > MAX_BODY {
            return Err(Failure::Malformed(format!("an answer longer than {MAX_BODY} bytes")));
        }
        r.want(n + 2, "chunk")?;
        body.extend_from_slice(&r.buf[..n]);
        if &r.buf[n..n + 2] != b"\r\n" {
            return Err(Failure::Malformed("a chunk not followed by CRLF".into()));
        }
        r.buf.drain(..n + 2);
    }
}

/// The start of some bytes, quoted, for an error message.
pub fn preview(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(60)]).into_owned();
    format!("{s:?}{}", if b.len() > 60 { "..." } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<Response, Failure> {
        let mut src = raw;
        read_response(&mut Reader {
            conn: &mut src,
            buf: Vec::new(),
            deadline: Instant::now() + Duration::from_secs(5),
        })
    }

    #[test]
    fn content_length_chunked_and_eof_framing() {
        let r = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"a\":1}trailing").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"{\"a\":1}"[..]));
        let r = parse(b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n{\"Er\r\n9\r\nr\":\"bad\"}\r\n0\r\nX-T: 1\r\n\r\n")
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (500, &b"{\"Err\":\"bad\"}"[..]));
        let r = parse(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{}").unwrap();
        assert_eq!(r.body, b"{}");
    }

    #[test]
    fn garbage_and_truncation_are_named() {
        let msg = |raw: &[u8]| match parse(raw) {
            Err(Failure::Malformed(m)) | Err(Failure::Io(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(msg(b"garbage here").contains("not an HTTP answer"));
        assert!(msg(b"SSH-2.0 x\r\n\r\n").contains("not an HTTP status line"));
        assert!(msg(b"").contains("without an answer"));
        assert!(msg(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}").contains("middle of the answer's body"));
        assert!(msg(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").contains("invalid chunk size"));
        assert!(msg(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").contains("invalid Content-Length"));
    }
}
