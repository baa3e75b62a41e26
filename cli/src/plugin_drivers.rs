//! The drivers `weft plugin serve` can serve: any network driver library, found where weftd finds
//! them (`--driver-dir`, else `drivers/` next to the binaries, their own directory and
//! `/usr/lib/weft/drivers`), loaded through the same `plugins` loader.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use libnet::NetworkDriver;
use serde_json::Value;

use super::errors::CliError;

/// How long one call into the driver may take, as weftd's default `--driver-timeout`.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// `--opt` strings as the JSON a driver is made with: `true`/`false` as booleans and whole
/// numbers as numbers, as they are in weftd's settings; anything else stays a string.
fn typed(options: &Value) -> Value {
    let Some(map) = options.as_object() else { return options.clone() };
    let typed = map
        .iter()
        .map(|(k, v)| {
            let v = match v.as_str() {
                Some("true") => Value::Bool(true),
                Some("false") => Value::Bool(false),
                Some(s) => s.parse::<u64>().map(Value::from).unwrap_or_else(|_| v.clone()),
                None => v.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    Value::Object(typed)
}

fn shown(dirs: &[PathBuf]) -> String {
    dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// The network driver `name` from its library in `dirs` (empty: weftd's default directories),
/// made with `options` (a JSON object of `--opt` strings). It works in the calling process's
/// network namespace.
pub fn load_driver(name: &str, options: &Value, dirs: &[PathBuf]) -> Result<Arc<dyn NetworkDriver>, CliError> {
    let dirs = if dirs.is_empty() { plugins::default_dirs() } else { dirs.to_vec() };
    let libraries = plugins::scan(&dirs);
    let Some(path) = libraries.iter().find(|p| plugins::name_from_path(p) == Some(name)) else {
        let mut names: Vec<&str> = libraries.iter().filter_map(|p| plugins::name_from_path(p)).collect();
        names.sort_unstable();
        names.dedup();
        return Err(CliError::failed(format!(
            "unknown driver \"{name}\": no libweft_driver_{name}.so in {}; the drivers there: {}",
            shown(&dirs),
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        )));
    };
    let loaded = plugins::load(path, &typed(options), CALL_TIMEOUT).map_err(|e| CliError::failed(e.to_string()))?;
    let kind = loaded.kind;
    match loaded.into_network_driver() {
        Some(driver) => Ok(Arc::new(driver)),
        None => Err(not_a_network_driver(path, name, kind.as_str())),
    }
}

fn not_a_network_driver(path: &Path, name: &str, kind: &str) -> CliError {
    CliError::failed(format!(
        "{}: driver {name} is an {kind}; weft plugin serve serves network drivers",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_get_their_types() {
        let o = typed(&json!({"userland-proxy": "true", "mtu": "1400", "name": "br0", "off": "false"}));
        assert_eq!(o, json!({"userland-proxy": true, "mtu": 1400, "name": "br0", "off": false}));
    }

    #[test]
    fn an_unknown_driver_names_the_directories_and_what_is_there() {
        let dir = std::env::temp_dir().join(format!("weft-serve-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("libweft_driver_alpha.so"), "").unwrap();
        let e =
            load_driver("overlay", &json!({}), std::slice::from_ref(&dir)).err().map(|e| e.message).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            e,
            format!(
                "unknown driver \"overlay\": no libweft_driver_overlay.so in {}; the drivers there: alpha",
                dir.display()
            )
        );
    }
}
