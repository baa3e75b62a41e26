//! A client of one plugin: a call is a POST of JSON to `/<Call>`, retried with backoff while the
//! plugin cannot be connected to (it may be starting), as Docker does; the answer's error field
//! becomes the call's error.

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::discovery::PluginSpec;
use crate::error::Error;
use crate::http::{self, preview, Failure};

/// How long calls may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallOptions {
    /// One call's time limit, from connecting to the end of the answer.
    pub timeout: Duration,
    /// How long connection failures are retried (with backoff: 1 s, 2 s, 4 s, ...).
    pub retry_for: Duration,
}

impl Default for CallOptions {
    /// Docker's: 30 s of retries; weft also bounds a call by 30 s, where Docker waits forever.
    fn default() -> Self {
        CallOptions { timeout: Duration::from_secs(30), retry_for: Duration::from_secs(30) }
    }
}

/// The longest wait between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The pause after `failures` failed attempts: 1 s, doubling, at most [`MAX_BACKOFF`].
pub fn backoff(failures: u32) -> Duration {
    Duration::from_secs(1u64 << failures.saturating_sub(1).min(5)).min(MAX_BACKOFF)
}

/// `Plugin.Activate`'s answer.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Manifest {
    #[serde(rename = "Implements", default)]
    pub implements: Vec<String>,
}

/// A client of the plugin a spec names.
#[derive(Debug)]
pub struct PluginClient {
    spec: PluginSpec,
    options: CallOptions,
}

impl PluginClient {
    /// A client; a plugin that needs TLS is refused here, before any call.
    pub fn new(spec: PluginSpec, options: CallOptions) -> Result<PluginClient, Error> {
        if spec.tls.is_some() {
            return Err(Error::TlsNotSupported { plugin: spec.name.clone(), spec: spec.source.clone() });
        }
        Ok(PluginClient { spec, options })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn spec(&self) -> &PluginSpec {
        &self.spec
    }

    /// The same client with other options (a listing activates without retries).
    pub fn with_options(&self, options: CallOptions) -> PluginClient {
        PluginClient { spec: self.spec.clone(), options }
    }

    /// `/Plugin.Activate`: what the plugin implements.
    pub fn activate(&self) -> Result<Manifest, Error> {
        self.call("Plugin.Activate", None::<&()>, "Err")
    }

    /// Call `call` with `req` (none: an empty body, as Docker sends for argument-less calls);
    /// `err_field` is where the plugin puts its error (`Err`, or `Error` for IPAM).
    pub fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        call: &str,
        req: Option<&Req>,
        err_field: &str,
    ) -> Result<Resp, Error> {
        let body = match req {
            Some(r) => {
                serde_json::to_vec(r).map_err(|e| self.garbage(call, format!("cannot encode the request: {e}")))?
            }
            None => Vec::new(),
        };
        let answer = self.exchange(call, &body, err_field)?;
        self.decode(call, &answer)
    }

    /// POST `body` to `/<call>` and return the answer's JSON, `{}` for an empty answer; an answer
    /// with an error in `Err` or `err_field`, or of another status than 200, is the call's error.
    pub fn exchange(&self, call: &str, body: &[u8], err_field: &str) -> Result<Vec<u8>, Error> {
        let answer = self.post(call, body)?;
        let empty = answer.body.iter().all(u8::is_ascii_whitespace);
        let parsed: Result<Value, _> = if empty {
            // An empty answer to a call whose answer is empty anyway (Leave, DeleteNetwork, ...).
            Ok(Value::Object(Default::default()))
        } else {
            serde_json::from_slice(&answer.body)
        };
        let message = |v: &Value| {
            ["Err", err_field]
                .iter()
                .find_map(|k| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from))
        };
        if answer.status != 200 {
            let (plugin, call) = (self.name().to_string(), call.to_string());
            // A 404 is a missing call whatever the body says: Docker lets some calls be missing.
            if answer.status == 404 {
                return Err(Error::CallNotImplemented { plugin, call });
            }
            return Err(match parsed.ok().as_ref().and_then(message) {
                Some(message) => Error::Refused { plugin, call, message },
                None => Error::Status { plugin, call, status: answer.status, body: preview(&answer.body) },
            });
        }
        let value =
            parsed.map_err(|e| self.garbage(call, format!("not JSON ({e}); it begins {}", preview(&answer.body))))?;
        if let Some(message) = message(&value) {
            return Err(Error::Refused { plugin: self.name().to_string(), call: call.to_string(), message });
        }
        Ok(if empty { b"{}".to_vec() } else { answer.body })
    }

    /// Read `answer`, the JSON [`exchange`](Self::exchange) returned for `call`, as `Resp`.
    pub fn decode<Resp: DeserializeOwned>(&self, call: &str, answer: &[u8]) -> Result<Resp, Error> {
        let value: Value = serde_json::from_slice(answer)
            .map_err(|e| self.garbage(call, format!("not JSON ({e}); it begins {}", preview(answer))))?;
        serde_json::from_value(value).map_err(|e| self.garbage(call, e.to_string()))
    }

    /// POST and read the answer, whatever its status; not-yet-listening plugins get retries.
    fn post(&self, call: &str, body: &[u8]) -> Result<http::Response, Error> {
        let start = Instant::now();
        let mut failures = 0u32;
        loop {
            let host = "plugin";
            let path = format!("/{call}");
            match http::post(&self.spec.address, host, &path, body, self.options.timeout) {
                Ok(r) => return Ok(r),
                Err(Failure::Connect(e)) => {
                    failures += 1;
                    let pause = backoff(failures);
                    if start.elapsed() + pause >= self.options.retry_for {
                        return Err(Error::Unreachable {
                            plugin: self.name().to_string(),
                            call: call.to_string(),
                            address: self.spec.address.to_string(),
                            source: e,
                            tries: failures,
                            waited: start.elapsed(),
                        });
                    }
                    tracing::warn!(plugin = %self.name(), %call, "cannot connect to {}: {e}; retrying in {pause:?}", self.spec.address);
                    std::thread::sleep(pause);
                }
                Err(Failure::Timeout) => {
                    return Err(Error::Timeout {
                        plugin: self.name().to_string(),
                        call: call.to_string(),
                        timeout: self.options.timeout,
                    })
                }
                Err(Failure::Io(reason)) => {
                    return Err(Error::Connection { plugin: self.name().to_string(), call: call.to_string(), reason })
                }
                Err(Failure::Malformed(reason)) => return Err(self.garbage(call, reason)),
            }
        }
    }

    fn garbage(&self, call: &str, reason: String) -> Error {
        Error::Garbage { plugin: self.name().to_string(), call: call.to_string(), reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::Address;
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;
    use std::path::Path;

    /// A one-shot server: answers each of `answers` to one connection, returning the requests.
    fn serve(path: &Path, answers: Vec<&'static [u8]>) -> std::thread::JoinHandle<Vec<String>> {
        let l = UnixListener::bind(path).unwrap();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            for a in answers {
                let (mut s, _) = l.accept().unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // The request's head and its Content-Length body.
                loop {
                    let n = s.read(&mut chunk).unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(i) = text.find("\r\n\r\n") {
                        let len: usize = text
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if buf.len() >= i + 4 + len || n == 0 {
                            break;
                        }
                    }
                }
                got.push(String::from_utf8_lossy(&buf).into_owned());
                s.write_all(a).unwrap();
            }
            got
        })
    }

    fn client(path: &Path, timeout_ms: u64) -> PluginClient {
        let spec = PluginSpec {
            name: "tp".into(),
            address: Address::Unix(path.to_path_buf()),
            tls: None,
            source: path.to_path_buf(),
        };
        let t = Duration::from_millis(timeout_ms);
        PluginClient::new(spec, CallOptions { timeout: t, retry_for: t }).unwrap()
    }

    #[test]
    fn activate_and_errors_name_plugin_and_call() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("tp.sock");
        let server = serve(
            &sock,
            vec![
                b"HTTP/1.1 200 OK\r\nContent-Length: 33\r\n\r\n{\"Implements\": [\"NetworkDriver\"]}",
                b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n{\"Err\":\"no thanks\"}\n",
                b"HTTP/1.1 500 Internal\r\nTransfer-Encoding: chunked\r\n\r\n13\r\n{\"Error\":\"no pool\"}\r\n0\r\n\r\n",
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\n\r\n{\"Err\":\"no\"}",
                b"HTTP/1.1 200 OK\r\n\r\n<html>",
            ],
        );
        let c = client(&sock, 5000);
        assert_eq!(c.activate().unwrap().implements, ["NetworkDriver"]);
        let e = c.call::<_, Value>("NetworkDriver.CreateNetwork", Some(&serde_json::json!({"NetworkID": "n1"})), "Err");
        assert_eq!(e.unwrap_err().to_string(), "plugin \"tp\": NetworkDriver.CreateNetwork: no thanks");
        let e = c.call::<(), Value>("IpamDriver.RequestPool", None, "Error").unwrap_err();
        assert_eq!(e.to_string(), "plugin \"tp\": IpamDriver.RequestPool: no pool");
        let e = c.call::<(), Value>("NetworkDriver.DiscoverNew", None, "Err").unwrap_err();
        assert!(e.is_not_implemented(), "{e}");
        let e = c.call::<(), Value>("NetworkDriver.Join", None, "Err").unwrap_err().to_string();
        assert!(e.starts_with("plugin \"tp\": NetworkDriver.Join: invalid answer: not JSON"), "{e}");
        let requests = server.join().unwrap();
        assert!(requests[0].starts_with("POST /Plugin.Activate HTTP/1.1\r\n"), "{}", requests[0]);
        assert!(requests[0].contains("Accept: application/vnd.docker.plugins.v1.2+json\r\n"));
        assert!(requests[0].ends_with("Content-Length: 0\r\nConnection: close\r\n\r\n"));
        assert!(requests[1].ends_with("\r\n\r\n{\"NetworkID\":\"n1\"}"), "{}", requests[1]);
    }

    #[test]
    fn silence_times_out_and_absence_is_retried_then_reported() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("mute.sock");
        let l = UnixListener::bind(&sock).unwrap();
        let c = client(&sock, 300);
        let e = c.call::<(), Value>("NetworkDriver.Join", None, "Err").unwrap_err().to_string();
        assert_eq!(e, "plugin \"tp\": NetworkDriver.Join: no answer within 300ms");
        drop(l);
        // The file stays but nobody listens: refused, retried until the budget is spent.
        let c = client(&sock, 1500);
        let e = c.call::<(), Value>("NetworkDriver.Join", None, "Err").unwrap_err().to_string();
        assert!(e.contains("cannot connect to unix://") && e.contains("tried 2 times"), "{e}");
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        let b: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(b, [1, 2, 4, 8, 16, 30, 30, 30]);
    }

    #[test]
    fn tls_is_refused_clearly() {
        let spec = PluginSpec {
            name: "sec".into(),
            address: Address::Tcp("h:443".into()),
            tls: Some(Default::default()),
            source: "/etc/docker/plugins/sec.json".into(),
        };
        let e = PluginClient::new(spec, CallOptions::default()).unwrap_err().to_string();
        assert!(e.contains("plugin \"sec\"") && e.contains("not support yet"), "{e}");
    }
}
