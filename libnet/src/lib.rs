//! libnet: weft's Container Network Model controller.
//!
//! A [`Controller`] owns **networks**, **endpoints** and **sandboxes**; drivers implementing
//! [`NetworkDriver`] do the networking, [`IpamDriver`]s hand out addresses, and [`osl`] is the only
//! code that touches the kernel.

pub mod driver;
pub mod osl;
pub mod protocol;

pub use driver::{DriverError, DriverResult, ErrorKind, IpamDriver, NetworkDriver};
