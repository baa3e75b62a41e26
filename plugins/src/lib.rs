//! weft's driver plugins: the stable interface a driver library exports (abi_stable), the macro a
//! driver crate exports itself with, and the loader weftd uses. See ARCHITECTURE.md, "One driver
//! protocol, three transports".
//!
//! A driver crate depends on `libnet` (the messages and the `NetworkDriver` trait) and on this
//! crate, is built as a `cdylib`, and says:
//!
//! ```text
//! plugins::export_network_driver!(name: "example", new: MyDriver::from_options);
//! ```
//!
//! where `from_options: fn(&serde_json::Value) -> Result<MyDriver, String>` gets the daemon's
//! options (`userland-proxy`, `log-level`, ...).

pub mod export;
pub mod guard;
pub mod interface;
pub mod loader;
mod logging;

pub use interface::{DriverKind, INTERFACE_VERSION};
pub use loader::{
    default_dirs, load, name_from_path, scan, DylibDriver, DylibIpamDriver, DylibNetworkDriver, LoadError, LoadedDriver,
};

#[doc(hidden)]
pub mod __private {
    pub use abi_stable;
    pub use abi_stable::std_types::{RResult, RStr, RString};
}

/// The symbol abi_stable looks a library's root module up by (its mangled
/// `ROOT_MODULE_LOADER_NAME`), spelled out because `#[export_name]` takes only a literal; a test
/// checks it against abi_stable's.
#[doc(hidden)]
#[macro_export]
macro_rules! __root_module_symbol {
    () => {
        "_1as_0lib_1header_0root_bmodule_bloader"
    };
}

/// Export a network driver from a `cdylib` crate: `name` is the driver's name (`-d name`), `new`
/// a `fn(&serde_json::Value) -> Result<D, String>` where `D: libnet::NetworkDriver`.
#[macro_export]
macro_rules! export_network_driver {
    (name: $name:expr, new: $new:expr $(,)?) => {
        $crate::__export_driver!($name, $new, new_network, Network);
    };
}

/// Export an IPAM driver from a `cdylib` crate: `name` is the driver's name (`--ipam-driver
/// name`), `new` a `fn(&serde_json::Value) -> Result<D, String>` where `D: libnet::IpamDriver`.
#[macro_export]
macro_rules! export_ipam_driver {
    (name: $name:expr, new: $new:expr $(,)?) => {
        $crate::__export_driver!($name, $new, new_ipam, Ipam);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_driver {
    ($name:expr, $new:expr, $make:ident, $kind:ident) => {
        extern "C" fn __weft_driver_new(
            options: $crate::__private::RStr<'_>,
            log: $crate::interface::LogFn,
        ) -> $crate::__private::RResult<$crate::interface::DriverObject, $crate::__private::RString> {
            $crate::export::$make($name, options, log, $new)
        }

        extern "C" fn __weft_driver_root() -> $crate::__private::abi_stable::library::RootModuleResult {
            $crate::__private::abi_stable::library::__call_root_module_loader(|| {
                $crate::export::module($name, $crate::interface::DriverKind::$kind, __weft_driver_new)
            })
        }

        #[export_name = $crate::__root_module_symbol!()]
        pub static WEFT_DRIVER_ROOT_MODULE: $crate::__private::abi_stable::library::LibHeader = {
            // SAFETY: the constructor returns the root module of the type given here.
            unsafe {
                $crate::__private::abi_stable::library::LibHeader::from_constructor::<
                    $crate::interface::DriverModuleRef,
                >(__weft_driver_root, $crate::__private::abi_stable::library::CheckTypeLayout::Yes)
            }
        };
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_root_module_symbol_is_abi_stables() {
        assert_eq!(crate::__root_module_symbol!(), abi_stable::library::ROOT_MODULE_LOADER_NAME);
    }
}
