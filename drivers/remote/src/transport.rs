//! A remote plugin as libnet's [`CallTransport`]: libnet's [`NetworkCaller`] and [`IpamCaller`]
//! make the calls (the protocol's one table is in `libnet::protocol::dispatch`), and this carries
//! each one over HTTP, with Docker's client-side rules as small hooks around the exchange:
//! argument-less calls go without a body, an optional call the plugin answers 404 is done, the
//! capabilities are asked once, and answers Docker would refuse are refused (and undone).
//!
//! [`NetworkCaller`]: libnet::protocol::dispatch::NetworkCaller
//! [`IpamCaller`]: libnet::protocol::dispatch::IpamCaller

use std::sync::{Arc, OnceLock};

use libnet::protocol::dispatch::{call_info, CallTransport};
use libnet::DriverResult;
use serde::de::DeserializeOwned;

use crate::client::PluginClient;
use crate::error::Error;
use crate::network;

/// The calls of one remote driver, over its plugin's client.
pub struct RemoteTransport {
    client: Arc<PluginClient>,
    /// The answer to `GetCapabilities`: Docker asks once, when it registers the driver.
    capabilities: OnceLock<Vec<u8>>,
}

impl RemoteTransport {
    /// The calls of a driver of the plugin `client` reaches.
    pub fn new(client: Arc<PluginClient>) -> RemoteTransport {
        RemoteTransport { client, capabilities: OnceLock::new() }
    }

    /// The plugin's client.
    pub fn client(&self) -> &PluginClient {
        &self.client
    }

    /// Read `answer` as Docker's plugin client reads it, with its wording for a bad answer.
    pub(crate) fn read<R: DeserializeOwned>(&self, method: &str, answer: &[u8]) -> Result<R, Error> {
        self.client.decode(method, answer)
    }
}

/// Where a plugin puts its error: IPAM plugins in `Error`, network plugins in `Err`.
fn error_field(method: &str) -> &'static str {
    if method.starts_with("IpamDriver.") {
        "Error"
    } else {
        "Err"
    }
}

/// Docker's rule for the calls a plugin may leave out (`optional` in the protocol's table): a
/// 404 to one is the call done, with nothing to say.
fn missing_is_done(method: &str, answered: Result<Vec<u8>, Error>) -> Result<Vec<u8>, Error> {
    match answered {
        Err(e) if e.is_not_implemented() && call_info(method).is_some_and(|c| c.optional) => Ok(b"{}".to_vec()),
        other => other,
    }
}

impl CallTransport for RemoteTransport {
    fn call(&self, method: &str, body: Vec<u8>) -> DriverResult<Vec<u8>> {
        let asked_once = method.ends_with(".GetCapabilities");
        if let Some(kept) = self.capabilities.get().filter(|_| asked_once) {
            return Ok(kept.clone());
        }
        // Docker sends the calls without a request with no body.
        let body = if call_info(method).is_some_and(|c| !c.takes_request) { Vec::new() } else { body };
        let answer = missing_is_done(method, self.client.exchange(method, &body, error_field(method)))?;
        network::check_answer(self, method, &body, &answer)?;
        if asked_once {
            // Another thread's answer kept first is as good as this one.
            let _ = self.capabilities.set(answer.clone());
        }
        Ok(answer)
    }

    fn decode<R: DeserializeOwned>(&self, _driver: &str, method: &str, answer: &[u8]) -> DriverResult<R> {
        Ok(self.read(method, answer)?)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixListener;
    use std::path::Path;
    use std::thread::JoinHandle;
    use std::time::Duration;

    use libnet::protocol::dispatch::{IpamCaller, NetworkCaller};
    use libnet::protocol::*;
    use libnet::{ErrorKind, IpamDriver, NetworkDriver};

    use super::*;
    use crate::client::CallOptions;
    use crate::discovery::{Address, PluginSpec};

    const N1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const E1: &str = "e111111111111111111111111111111111111111111111111111111111111111";
    const MISSING: &[u8] = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";

    /// A plugin at `socket` that answers each connection with the next of `answers`; it returns
    /// each request's first line and body.
    fn plugin(socket: &Path, answers: Vec<&'static [u8]>) -> JoinHandle<Vec<String>> {
        let l = UnixListener::bind(socket).unwrap();
        std::thread::spawn(move || {
            let mut got = Vec::new();
            for a in answers {
                let (mut s, _) = l.accept().unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut text = String::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let n = s.read(&mut chunk).unwrap();
                    text.push_str(&String::from_utf8_lossy(&chunk[..n]));
                    let Some((head, body)) = text.split_once("\r\n\r\n") else { continue };
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    if body.len() >= len || n == 0 {
                        break body.to_string();
                    }
                };
                got.push(format!("{} {body}", text.lines().next().unwrap_or("")));
                s.write_all(a).unwrap();
            }
            got
        })
    }

    #[test]
    fn dockers_client_rules_hold_around_the_exchange() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tp.sock");
        let server = plugin(
            &socket,
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{\"Scope\":\"local\"}", MISSING, MISSING, MISSING],
        );
        let spec = PluginSpec { name: "tp".into(), address: Address::Unix(socket.clone()), tls: None, source: socket };
        let t = Duration::from_secs(5);
        let client = Arc::new(PluginClient::new(spec, CallOptions { timeout: t, retry_for: t }).unwrap());

        let net = NetworkCaller::new("tp", RemoteTransport::new(client.clone()));
        assert_eq!(net.get_capabilities().unwrap().scope, "local");
        // Asked once: the second answer is the first one, kept.
        assert_eq!(net.get_capabilities().unwrap().scope, "local");
        // An optional call the plugin does not have is done; a required one is an error.
        net.discover_new(DiscoveryNotification { discovery_type: 1, discovery_data: serde_json::json!({}) }).unwrap();
        let e = net.leave(LeaveRequest { network_id: N1.into(), endpoint_id: E1.into() }).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotImplemented);
        assert_eq!(e.message, "plugin \"tp\" does not implement NetworkDriver.Leave (HTTP 404)");
        // An IPAM plugin without GetCapabilities has none.
        let ipam = IpamCaller::new("tp", RemoteTransport::new(client));
        assert_eq!(ipam.get_capabilities().unwrap(), IpamCapabilities::default());

        // The calls without a request go without a body, as Docker sends them.
        let sent = server.join().unwrap();
        assert_eq!(
            sent,
            [
                "POST /NetworkDriver.GetCapabilities HTTP/1.1 ".to_string(),
                "POST /NetworkDriver.DiscoverNew HTTP/1.1 {\"DiscoveryType\":1,\"DiscoveryData\":{}}".into(),
                format!("POST /NetworkDriver.Leave HTTP/1.1 {{\"NetworkID\":\"{N1}\",\"EndpointID\":\"{E1}\"}}"),
                "POST /IpamDriver.GetCapabilities HTTP/1.1 ".into(),
            ]
        );
    }
}
