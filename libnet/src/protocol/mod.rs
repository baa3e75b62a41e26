//! The driver protocol: Docker's remote network-driver and IPAM messages as serde types, and one
//! call as a message (`dispatch`), which every transport carries.

pub mod dispatch;
pub mod ipam;
pub mod network;

pub use ipam::*;
pub use network::*;
