//! weft's embedded DNS resolver: one listener per sandbox at 127.0.0.11, answering for the names
//! of the containers on the sandbox's networks and forwarding the rest upstream.
//!
//! [`DnsService`] is what the engine drives: it keeps the [`Records`] table and a [`Listener`]
//! per sandbox. The request path ([`answer::respond`]) is pure and is what the fuzz target feeds.
//!
//! ```no_run
//! # use std::path::Path;
//! # use std::time::Duration;
//! # fn main() -> Result<(), dns::DnsError> {
//! # let runtime = tokio::runtime::Runtime::new().unwrap();
//! let service = dns::DnsService::new(dns::DnsConfig::default(), runtime.handle().clone());
//! let sandbox = libnet::SandboxId::from_string("ab12");
//! let ports = service.start_sandbox(&sandbox, Path::new("/run/weft/netns/ab12"), dns::Upstreams::host(vec![]))?;
//! println!("resolver on 127.0.0.11 udp {} tcp {}", ports.udp, ports.tcp);
//! let _closed = service.stop_sandbox(&sandbox);
//! # Ok(()) }
//! ```

pub mod answer;
mod fast;
#[doc(hidden)]
pub mod fixtures;
pub mod forward;
mod listener;
pub mod records;
pub mod redirect;
mod service;
#[cfg(test)]
mod test_support;
mod udp_batch;
mod wire;

pub use forward::{resolv_conf_servers, Forwarder, Origin, Upstreams};
pub use listener::{Listener, Ports, RESOLVER_ADDR};
pub use records::{EndpointRecord, Records};
pub use service::{DnsConfig, DnsService};

/// Why the resolver of a sandbox could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("DNS resolver: {0}")]
    Namespace(#[from] libnet::osl::OslError),
    #[error("DNS resolver: cannot listen on 127.0.0.11: {0}")]
    Bind(std::io::Error),
    #[error("DNS resolver: cannot redirect 127.0.0.11:53 to its ports: {0}")]
    Redirect(String),
}

impl DnsError {
    fn bind(e: std::io::Error) -> DnsError {
        DnsError::Bind(e)
    }
}
