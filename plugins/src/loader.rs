//! weftd's side: open a driver library, check it is a weft driver of this interface version, make
//! its driver, and carry calls to it on guarded threads. Every refusal names the file and says
//! why, in the words of the check that failed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use abi_stable::library::{abi_header_from_raw_library, LibraryError, RawLibrary};
use abi_stable::sabi_types::VersionNumber;
use abi_stable::std_types::RStr;
use libnet::protocol::dispatch::{CallTransport, IpamCaller, NetworkCaller};
use libnet::{DriverError, DriverResult};

use crate::guard::{CallError, Guard};
use crate::interface::{DriverKind, DriverModuleRef, DriverObject, INTERFACE_VERSION};
use crate::logging;

/// Why a library was not loaded. The messages name the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot load the library: {reason}")]
    Open { path: String, reason: String },
    #[error("{path} is not a weft driver: it has no weft driver module ({reason})")]
    NotADriver { path: String, reason: String },
    #[error("{path} was built with an abi_stable whose ABI differs from weftd's ({reason})")]
    AbiStable { path: String, reason: String },
    #[error("{path} is a weft driver for interface version {library}; this weftd loads interface version {ours}: rebuild the driver against weft's plugins crate {ours}")]
    Version { path: String, library: String, ours: String },
    #[error("{path}: the driver module's layout differs from what weftd expects, although both say interface version {ours}:\n{detail}")]
    Layout { path: String, ours: String, detail: String },
    #[error("{path}: driver {name} could not start: {reason}")]
    Start { path: String, name: String, reason: String },
}

/// A driver from a library, ready for calls. As a [`CallTransport`] it carries calls to the
/// library on guarded threads: a panic in the driver is that call's error, a hang its timeout.
pub struct LoadedDriver {
    pub name: String,
    pub kind: DriverKind,
    pub path: PathBuf,
    /// The interface version the library was built for.
    pub interface: String,
    /// The version of the `plugins` crate it was built with.
    pub built_with: String,
    object: Arc<DriverObject>,
    guard: Guard,
}

/// A network driver from a library, as the controller sees it.
pub type DylibNetworkDriver = NetworkCaller<LoadedDriver>;
/// An IPAM driver from a library, as the controller sees it.
pub type DylibIpamDriver = IpamCaller<LoadedDriver>;

/// A library's driver, by kind.
pub enum DylibDriver {
    Network(DylibNetworkDriver),
    Ipam(DylibIpamDriver),
}

/// Where weftd looks for driver libraries when `--driver-dir` is not given: `drivers/` next to
/// weftd, then weftd's own directory (where `cargo build` puts `libweft_driver_*.so`), then
/// `/usr/lib/weft/drivers`.
pub fn default_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        dirs.push(dir.join("drivers"));
        dirs.push(dir);
    }
    dirs.push(PathBuf::from("/usr/lib/weft/drivers"));
    dirs
}

/// The driver libraries in `dirs`, in order: every `libweft_driver_*.so`, sorted by name in each.
/// A directory that does not exist is skipped.
pub fn scan(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut libs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.starts_with("libweft_driver_") && name.ends_with(".so") && p.is_file()
            })
            .collect();
        libs.sort();
        found.extend(libs);
    }
    found
}

/// The driver name a library's file promises (`libweft_driver_<name>.so`), for messages about a
/// library that could not be loaded.
pub fn name_from_path(path: &Path) -> Option<&str> {
    path.file_name()?.to_str()?.strip_prefix("libweft_driver_")?.strip_suffix(".so")
}

fn version(s: &str) -> Option<VersionNumber> {
    let mut parts = s.split('.').map(|p| p.parse::<u32>().ok());
    Some(VersionNumber { major: parts.next()??, minor: parts.next()??, patch: parts.next()?? })
}

/// The rule abi_stable applies too, said first in weft's words: the same major, and while the
/// major is 0 the same minor; a library's minor may not be newer than ours.
fn compatible(library: &VersionNumber, ours: &VersionNumber) -> bool {
    library.major == ours.major && (ours.major != 0 || library.minor == ours.minor) && library.minor >= ours.minor
}

/// Open the library at `path`, check it, and make its driver with the daemon's `options` (a JSON
/// object; `log-level` is added). Calls time out after `timeout`, starting the driver included.
pub fn load(path: &Path, options: &serde_json::Value, timeout: Duration) -> Result<LoadedDriver, LoadError> {
    let shown = path.display().to_string();
    // RTLD_NOW: a symbol the library needs and nothing provides is an error here, named by the
    // dynamic linker, rather than a crash at the first call that needs it.
    // SAFETY: loading a library runs its initializers; driver libraries are code the operator
    // installed in weftd's driver directory, trusted as weftd itself is.
    let early = unsafe {
        libloading::os::unix::Library::open(
            Some(path),
            libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_LOCAL,
        )
    }
    .map_err(|e| LoadError::Open { path: shown.clone(), reason: e.to_string() })?;
    // Libraries are never unloaded: their code may be running on a stuck call thread.
    std::mem::forget(early);
    let raw = RawLibrary::load_at(path).map_err(|e| LoadError::Open { path: shown.clone(), reason: e.to_string() })?;
    let raw: &'static RawLibrary = Box::leak(Box::new(raw));
    // SAFETY: the symbol is abi_stable's root module header, whose type abi_stable defines; a
    // library that exports that name with another type is not something we can tell apart, and
    // is as trusted as any code in the driver directory.
    let header = unsafe { abi_header_from_raw_library(raw) }.map_err(|e| match e {
        LibraryError::GetSymbolError { .. } => {
            LoadError::NotADriver { path: shown.clone(), reason: "no abi_stable root module symbol".into() }
        }
        other => LoadError::NotADriver { path: shown.clone(), reason: other.to_string() },
    })?;
    let header = header.upgrade().map_err(|e| LoadError::AbiStable { path: shown.clone(), reason: e.to_string() })?;
    let library_version = header.version_strings().version.as_str().to_string();
    // INTERFACE_VERSION is major.minor.patch (a test checks it).
    let Some(ours) = version(INTERFACE_VERSION) else {
        return Err(LoadError::Version { path: shown, library: library_version, ours: INTERFACE_VERSION.into() });
    };
    if !version(&library_version).is_some_and(|v| compatible(&v, &ours)) {
        return Err(LoadError::Version { path: shown, library: library_version, ours: INTERFACE_VERSION.into() });
    }
    let module = header.init_root_module::<DriverModuleRef>().map_err(|e| match e {
        LibraryError::AbiInstability(detail) => {
            LoadError::Layout { path: shown.clone(), ours: INTERFACE_VERSION.into(), detail: detail.to_string() }
        }
        other => LoadError::NotADriver { path: shown.clone(), reason: other.to_string() },
    })?;
    let name = module.name().as_str().to_string();
    let kind = module.kind();
    let built_with = module.built_with().as_str().to_string();
    let new = module.new();

    let guard = Guard::new(&name, timeout);
    let mut options = options.clone();
    if let Some(o) = options.as_object_mut() {
        o.entry("log-level").or_insert_with(|| logging::host_max_level().into());
    }
    let options = options.to_string();
    let started = guard.run(move || new(RStr::from_str(&options), logging::HOST_LOG).into_result());
    let start_error = |reason: String| LoadError::Start { path: shown.clone(), name: name.clone(), reason };
    let object = match started {
        Ok(Ok(object)) => object,
        Ok(Err(message)) => return Err(start_error(message.into_string())),
        Err(CallError::TimedOut(t)) => return Err(start_error(format!("it did not start within {}", seconds(t)))),
        Err(CallError::NoThread(e)) => return Err(start_error(e)),
        Err(CallError::Stuck(n)) => return Err(start_error(format!("{n} calls are stuck in it"))),
    };
    Ok(LoadedDriver {
        name: name.clone(),
        kind,
        path: path.to_path_buf(),
        interface: library_version,
        built_with,
        object: Arc::new(object),
        guard,
    })
}

fn seconds(d: Duration) -> String {
    humanize(d.as_secs_f64())
}

fn humanize(s: f64) -> String {
    if s >= 1.0 {
        format!("{}s", (s * 10.0).round() / 10.0)
    } else {
        format!("{}ms", (s * 1000.0).round())
    }
}

impl LoadedDriver {
    /// The driver for the controller, by its kind.
    pub fn into_driver(self) -> DylibDriver {
        match self.kind {
            DriverKind::Network => DylibDriver::Network(NetworkCaller::new(self.name.clone(), self)),
            DriverKind::Ipam => DylibDriver::Ipam(IpamCaller::new(self.name.clone(), self)),
        }
    }

    /// The driver as a network driver; None if it is an IPAM driver.
    pub fn into_network_driver(self) -> Option<DylibNetworkDriver> {
        match self.into_driver() {
            DylibDriver::Network(d) => Some(d),
            DylibDriver::Ipam(_) => None,
        }
    }

    /// One call on the caller's thread, without the guard: what crossing the boundary alone
    /// costs, for the benchmark. weftd always goes through [`CallTransport::call`].
    pub fn call_unguarded(&self, method: &str, body: &str) -> DriverResult<String> {
        answer(
            self.object
                .call(RStr::from_str(method), RStr::from_str(body))
                .into_result()
                .map(|s| s.into_string())
                .map_err(|s| s.into_string()),
        )
    }
}

fn answer(r: Result<String, String>) -> DriverResult<String> {
    // A driver's error is a DriverError in JSON; anything else it said is kept as the message.
    r.map_err(|e| serde_json::from_str::<DriverError>(&e).unwrap_or_else(|_| DriverError::internal(e)))
}

/// The call that takes back what `method` made, with its request: for a call that succeeds after
/// its caller gave up (the controller has undone its own side by then).
fn undo_of(method: &str, body: &str) -> Option<(&'static str, String)> {
    let undo = match method {
        "NetworkDriver.CreateNetwork" => "NetworkDriver.DeleteNetwork",
        "NetworkDriver.CreateEndpoint" => "NetworkDriver.DeleteEndpoint",
        "NetworkDriver.Join" => "NetworkDriver.Leave",
        "NetworkDriver.ProgramExternalConnectivity" => "NetworkDriver.RevokeExternalConnectivity",
        _ => return None,
    };
    let req: serde_json::Value = serde_json::from_str(body).ok()?;
    let ids: serde_json::Map<String, serde_json::Value> =
        ["NetworkID", "EndpointID"].iter().filter_map(|k| Some((k.to_string(), req.get(*k)?.clone()))).collect();
    Some((undo, serde_json::Value::Object(ids).to_string()))
}

fn call_object(object: &DriverObject, method: &str, body: &str) -> Result<String, String> {
    object
        .call(RStr::from_str(method), RStr::from_str(body))
        .into_result()
        .map(|s| s.into_string())
        .map_err(|s| s.into_string())
}

impl CallTransport for LoadedDriver {
    fn call(&self, method: &str, body: Vec<u8>) -> DriverResult<Vec<u8>> {
        let body = String::from_utf8(body)
            .map_err(|e| DriverError::internal(format!("{method}: request is not UTF-8: {e}")))?;
        let undo = undo_of(method, &body);
        let (object, late_object) = (Arc::clone(&self.object), Arc::clone(&self.object));
        let (m, late_method, name) = (method.to_string(), method.to_string(), self.name.clone());
        let called = self.guard.run_or_undo(
            move || call_object(&object, &m, &body),
            move |late| {
                let (Ok(_), Some((undo, undo_body))) = (late, undo) else { return };
                match call_object(&late_object, undo, &undo_body) {
                    Ok(_) => tracing::warn!(
                        "driver {name}: {late_method} succeeded after its caller gave up; undone with {undo}"
                    ),
                    Err(e) => tracing::error!(
                        "driver {name}: {late_method} succeeded after its caller gave up, and {undo} failed: {e}"
                    ),
                }
            },
        );
        match called {
            Ok(r) => answer(r).map(String::into_bytes),
            Err(CallError::TimedOut(t)) => Err(DriverError::internal(format!(
                "driver {}: {method} did not answer within {} ({}); the call was abandoned",
                self.name,
                seconds(t),
                self.path.display()
            ))),
            Err(CallError::NoThread(e)) => Err(DriverError::internal(e)),
            Err(CallError::Stuck(n)) => Err(DriverError::internal(format!(
                "driver {}: {method} refused: {n} earlier calls are still stuck in the driver ({}); restart weftd to reload it",
                self.name,
                self.path.display()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compatible_as_abi_stable_says() {
        let v = |s| version(s).unwrap();
        assert!(compatible(&v("1.0.0"), &v("1.0.0")));
        assert!(compatible(&v("1.2.0"), &v("1.0.3")));
        assert!(!compatible(&v("2.0.0"), &v("1.0.0")));
        assert!(!compatible(&v("1.0.0"), &v("1.1.0")));
        assert!(!compatible(&v("0.2.0"), &v("0.1.0")));
        assert!(version("1.x.0").is_none());
        assert!(version(INTERFACE_VERSION).is_some());
    }

    #[test]
    fn undo_calls_take_the_ids() {
        let (m, b) = undo_of("NetworkDriver.Join", r#"{"NetworkID":"n","EndpointID":"e","SandboxKey":"/k"}"#).unwrap();
        assert_eq!((m, b.as_str()), ("NetworkDriver.Leave", r#"{"EndpointID":"e","NetworkID":"n"}"#));
        assert_eq!(
            undo_of("NetworkDriver.CreateNetwork", r#"{"NetworkID":"n"}"#).unwrap().0,
            "NetworkDriver.DeleteNetwork"
        );
        assert!(undo_of("NetworkDriver.Leave", "{}").is_none());
    }

    #[test]
    fn names_come_from_file_names() {
        assert_eq!(name_from_path(Path::new("/d/libweft_driver_bridge.so")), Some("bridge"));
        assert_eq!(name_from_path(Path::new("/d/libz.so")), None);
    }

    #[test]
    fn a_file_that_is_not_a_library_is_refused_by_name() {
        let dir = std::env::temp_dir().join(format!("weft-plugins-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("libweft_driver_text.so");
        std::fs::write(&path, "not an ELF file\n").unwrap();
        let e = load(&path, &serde_json::json!({}), Duration::from_secs(5)).err().unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(matches!(e, LoadError::Open { .. }), "{e}");
        let text = e.to_string();
        assert!(text.starts_with(&format!("{}: cannot load the library: ", path.display())), "{text}");
    }
}
