//! The driver protocol: Docker's remote network-driver and IPAM messages as serde types.

pub mod ipam;
pub mod network;

pub use ipam::*;
pub use network::*;
