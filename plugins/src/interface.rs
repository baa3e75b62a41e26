//! The stable interface between weftd and a driver library: the root module a library exports,
//! the driver object it makes, and the interface version both sides check.
//!
//! Everything that crosses is FFI-safe (abi_stable checks the layout at load). Calls cross as the
//! remote protocol's messages: the method name (`NetworkDriver.Join`) and its JSON body, the answer
//! as JSON or a [`libnet::DriverError`] as JSON. So a library, weftd, and a remote plugin share
//! every message type, and a new call needs no new symbol.

// abi_stable's #[sabi_trait] expands to impls the non_local_definitions lint flags; they are its own.
#![allow(non_local_definitions)]

use abi_stable::library::RootModule;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RBox, RResult, RStr, RString};
use abi_stable::{declare_root_module_statics, sabi_trait, StableAbi};

/// The version of this interface. weftd loads a library built for the same major version
/// (and, while the major is 0, the same minor); anything else is refused by name and version.
/// Bump the major when a field of [`DriverModule`] or the meaning of a call changes.
pub const INTERFACE_VERSION: &str = "1.0.0";

/// What a library's driver is.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverKind {
    /// A network driver: `NetworkDriver.*` calls.
    Network,
    /// An IPAM driver: `IpamDriver.*` calls.
    Ipam,
}

impl DriverKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DriverKind::Network => "NetworkDriver",
            DriverKind::Ipam => "IpamDriver",
        }
    }
}

/// The host's log sink, given to the driver when it is made: level (1 error .. 5 trace), the
/// event's target, and its formatted message. A library's logging goes through it, so a driver's
/// log lines land in weftd's log.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy)]
pub struct LogFn {
    pub func: extern "C" fn(level: u8, target: RStr<'_>, message: RStr<'_>),
}

/// One driver instance, as the library made it.
#[sabi_trait]
pub trait Driver: Send + Sync {
    /// One call: `method` is the protocol's name (`NetworkDriver.Join`), `body` its JSON request.
    /// Ok is the JSON answer; Err is a `libnet::DriverError` as JSON.
    #[sabi(last_prefix_field)]
    fn call(&self, method: RStr<'_>, body: RStr<'_>) -> RResult<RString, RString>;
}

/// A driver object as it crosses the boundary.
pub type DriverObject = Driver_TO<'static, RBox<()>>;

/// Makes the driver: `options` is a JSON object of the daemon's settings (see
/// `plugins::DaemonOptions`), `log` the host's log sink. Err is a message for the user.
pub type NewFn = extern "C" fn(options: RStr<'_>, log: LogFn) -> RResult<DriverObject, RString>;

/// The root module every driver library exports (with `plugins::export_network_driver!`).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = DriverModuleRef)))]
#[sabi(missing_field(panic))]
pub struct DriverModule {
    /// The driver's name, as given to `weft network create -d`.
    pub name: RStr<'static>,
    pub kind: DriverKind,
    /// The version of the `plugins` crate the library was built with, for messages.
    pub built_with: RStr<'static>,
    /// A [`NewFn`], spelled out: abi_stable's derive reads function pointer types in place.
    #[sabi(last_prefix_field)]
    pub new: extern "C" fn(options: RStr<'_>, log: LogFn) -> RResult<DriverObject, RString>,
}

impl RootModule for DriverModuleRef {
    declare_root_module_statics! {DriverModuleRef}
    const BASE_NAME: &'static str = "weft_driver";
    const NAME: &'static str = "weft driver";
    // The library's copy of this constant is what the loader reads to tell versions apart.
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(INTERFACE_VERSION);
}
