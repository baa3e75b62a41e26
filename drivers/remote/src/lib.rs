//! The remote transport: Docker's network and IPAM plugins, reached over HTTP/1.1 on a unix socket
//! (or TCP from a spec file), as libnet drivers.
//!
//! A plugin is found by name the way Docker finds it ([`discovery`]), activated with
//! `/Plugin.Activate` ([`client`]), and then driven with the `/NetworkDriver.*` and `/IpamDriver.*`
//! calls ([`RemoteNetworkDriver`], [`RemoteIpamDriver`]). [`RemoteResolver`] plugs all of it into
//! a [`libnet::Controller`] so that `-d <plugin>` and `--ipam-driver <plugin>` just work.

pub mod client;
pub mod discovery;
mod error;
mod http;
mod ipam;
mod network;
mod resolver;
pub mod server;

pub use client::{CallOptions, PluginClient};
pub use discovery::{Address, PluginDirs, PluginSpec, TlsSettings};
pub use error::Error;
pub use ipam::RemoteIpamDriver;
pub use network::RemoteNetworkDriver;
pub use resolver::{PluginInfo, RemoteResolver};
pub use server::PluginServer;

/// What a plugin names in `Implements` to be a network driver.
pub const NETWORK_DRIVER: &str = "NetworkDriver";
/// What a plugin names in `Implements` to be an IPAM driver.
pub const IPAM_DRIVER: &str = "IpamDriver";
