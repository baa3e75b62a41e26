//! libnet: weft's Container Network Model controller.
//!
//! A [`Controller`] owns **networks**, **endpoints** and **sandboxes**; drivers implementing
//! [`NetworkDriver`] do the networking, [`IpamDriver`]s hand out addresses, and [`osl`] is the only
//! code that touches the kernel.

// Every public item of the library is documented, as embedders read it.
#![warn(missing_docs)]

pub mod controller;
pub mod driver;
pub mod endpoint;
pub mod error;
pub mod ids;
pub mod marks;
pub mod network;
pub mod osl;
pub mod portmap;
pub mod protocol;
pub mod sandbox;
pub mod store;
pub mod undo;

pub use controller::{Controller, ControllerConfig, DriverResolver, RestoreReport};
pub use driver::{DriverError, DriverResult, ErrorKind, IpamDriver, NetworkDriver};
pub use endpoint::{Endpoint, EndpointCreate, JoinInfo};
pub use error::{Error, Result};
pub use ids::{EndpointId, NetworkId, SandboxId};
pub use network::{IpamConfigRequest, Network, NetworkCreate, NetworkFlags, PoolAllocation};
pub use sandbox::{Sandbox, SandboxCreate};
