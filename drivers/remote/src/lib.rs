//! The remote transport: Docker's network and IPAM plugins, reached over HTTP/1.1 on a unix socket
//! (or TCP from a spec file), as libnet drivers.
//!
//! A plugin is found by name the way Docker finds it ([`discovery`]), activated with
//! `/Plugin.Activate` ([`client`]), and then driven with the `/NetworkDriver.*` and `/IpamDriver.*`
//! calls ([`RemoteNetworkDriver`], [`RemoteIpamDriver`]): libnet's callers over a
//! [`RemoteTransport`]. [`RemoteResolver`] plugs all of it into a [`libnet::Controller`] so that
//! `-d <plugin>` and `--ipam-driver <plugin>` just work. [`server`] is the other end: any weft
//! driver served as such a plugin.
//!
//! Neither end has a table of the protocol's calls: both go through the one in
//! `libnet::protocol::dispatch`, with Docker's own rules as hooks around it ([`transport`] on the
//! client's side, [`server`] on the server's).

pub mod client;
pub mod discovery;
mod error;
mod http;
mod ipam;
mod network;
mod resolver;
pub mod server;
pub mod transport;

pub use client::{CallOptions, PluginClient};
pub use discovery::{Address, PluginDirs, PluginSpec, TlsSettings};
pub use error::Error;
pub use ipam::RemoteIpamDriver;
pub use network::RemoteNetworkDriver;
pub use resolver::{PluginInfo, RemoteResolver};
pub use server::PluginServer;
pub use transport::RemoteTransport;

/// What a plugin names in `Implements` to be a network driver.
pub const NETWORK_DRIVER: &str = "NetworkDriver";
/// What a plugin names in `Implements` to be an IPAM driver.
pub const IPAM_DRIVER: &str = "IpamDriver";
