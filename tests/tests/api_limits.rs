//! The API resists a slow or careless client: a connection whose request headers do not arrive
//! within `--api-header-timeout` is closed (and the daemon goes on serving others); a body over
//! the size limit, or a malformed query, is refused with Docker's JSON error, not plain text.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use weft_tests::Host;

#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let h = Host::with_args(&["--api-header-timeout", "1s"]);
    let mut slow = UnixStream::connect(h.socket()).expect("connect");
    // A request line and one header, then nothing: the blank line never comes.
    slow.write_all(b"GET /_ping HTTP/1.1\r\nHost: weft\r\n").expect("send");
    slow.set_read_timeout(Some(Duration::from_secs(15))).expect("timeout");
    let started = Instant::now();
    let mut buf = [0u8; 512];
    // The server closes the connection (end of file, or a 408 first) well before 15 s.
    let n = slow.read(&mut buf).expect("the daemon closed the connection instead of waiting on");
    let answer = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(n == 0 || answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "closed only after {:?}", started.elapsed());
    // Others are served meanwhile and after.
    assert_eq!(h.api("GET", "/_ping", None).0, 200);
}

#[test]
fn refusals_of_the_framework_are_dockers_json_errors() {
    let h = Host::new();
    let big = format!("{{\"Image\": \"hostfs\", \"Cmd\": [\"true\"], \"Env\": [\"X={}\"]}}", "x".repeat(3 << 20));
    let (status, body) = post_ignoring_a_closed_pipe(&h, "/containers/create", big.as_bytes());
    assert_eq!(status, 413);
    let message = body["message"].as_str().unwrap_or_else(|| panic!("not Docker's JSON error: {body}"));
    assert!(message.contains("too large"), "{message}");
    let (status, body) = h.api("GET", "/containers/json?limit=many", None);
    assert_eq!(status, 400);
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "not Docker's JSON error: {body}");
    assert_eq!(h.weft(&["ps", "-aq"]).ok(), "", "a refused request made a container");
}

/// POST `body`, going on to read the answer when the daemon refuses it before it has all come
/// (it answers at once and closes, so the rest of the write fails).
fn post_ignoring_a_closed_pipe(h: &Host, path: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let mut s = UnixStream::connect(h.socket()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: weft\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("send the head");
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, payload) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no answer: {text:?}"));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("a status line");
    // The payload may be chunked: the JSON object is what lies between the outer braces.
    let json = payload.find('{').zip(payload.rfind('}')).map(|(a, b)| &payload[a..=b]).unwrap_or("null");
    (status, serde_json::from_str(json).unwrap_or(serde_json::Value::String(payload.to_string())))
}
