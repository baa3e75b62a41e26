//! The library side of the interface: what `export_network_driver!` expands to calls these. A
//! panic inside the driver is caught here and becomes the error of that call (or of starting the
//! driver), so it never unwinds across the boundary.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RErr, ROk, RResult, RStr, RString};
use libnet::protocol::dispatch::{serve_ipam, serve_network};
use libnet::{DriverError, DriverResult, IpamDriver, NetworkDriver};

use crate::interface::{Driver, DriverKind, DriverModule, DriverModuleRef, DriverObject, LogFn, NewFn};
use crate::logging;

/// The root module of a library whose driver is `name`.
pub fn module(name: &'static str, kind: DriverKind, new: NewFn) -> DriverModuleRef {
    // Made once per library load and kept for the library's life, as abi_stable's modules are.
    DriverModule { name: RStr::from_str(name), kind, built_with: RStr::from_str(env!("CARGO_PKG_VERSION")), new }
        .leak_into_prefix()
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

/// How an adapter answers one call with its driver.
type Serve<D> = fn(&D, &str, &[u8]) -> DriverResult<Vec<u8>>;

/// Make a network driver with `make` from the daemon's options.
pub fn new_network<D: NetworkDriver + 'static>(
    name: &'static str,
    options: RStr<'_>,
    log: LogFn,
    make: fn(&serde_json::Value) -> Result<D, String>,
) -> RResult<DriverObject, RString> {
    new_driver(name, options, log, make, |d, method, body| serve_network(d, method, body))
}

/// Make an IPAM driver with `make` from the daemon's options.
pub fn new_ipam<D: IpamDriver + 'static>(
    name: &'static str,
    options: RStr<'_>,
    log: LogFn,
    make: fn(&serde_json::Value) -> Result<D, String>,
) -> RResult<DriverObject, RString> {
    new_driver(name, options, log, make, |d, method, body| serve_ipam(d, method, body))
}

fn new_driver<D: Send + Sync + 'static>(
    name: &'static str,
    options: RStr<'_>,
    log: LogFn,
    make: fn(&serde_json::Value) -> Result<D, String>,
    serve: Serve<D>,
) -> RResult<DriverObject, RString> {
    let made = catch_unwind(AssertUnwindSafe(|| {
        let options: serde_json::Value = serde_json::from_str(options.as_str())
            .map_err(|e| format!("driver {name}: the daemon's options are not valid JSON: {e}"))?;
        let level = options.get("log-level").and_then(|l| l.as_str()).unwrap_or("info");
        logging::install(log, logging::parse_level(level));
        make(&options)
    }));
    match made {
        Ok(Ok(driver)) => ROk(DriverObject::from_value(Adapter { driver, name, serve }, TD_Opaque)),
        Ok(Err(message)) => RErr(message.into()),
        Err(p) => RErr(format!("driver {name} panicked while starting: {}", panic_message(&*p)).into()),
    }
}

/// A driver behind the interface's one call.
struct Adapter<D> {
    driver: D,
    name: &'static str,
    serve: Serve<D>,
}

impl<D: Send + Sync> Driver for Adapter<D> {
    fn call(&self, method: RStr<'_>, body: RStr<'_>) -> RResult<RString, RString> {
        let method = method.as_str();
        let answered = catch_unwind(AssertUnwindSafe(|| (self.serve)(&self.driver, method, body.as_str().as_bytes())))
            .unwrap_or_else(|p| {
                Err(DriverError::internal(format!("driver {} panicked in {method}: {}", self.name, panic_message(&*p))))
            });
        match answered {
            // serde_json writes UTF-8.
            Ok(bytes) => ROk(String::from_utf8_lossy(&bytes).into_owned().into()),
            Err(e) => RErr(serde_json::to_string(&e).unwrap_or_else(|_| e.message.clone()).into()),
        }
    }
}
