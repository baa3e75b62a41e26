//! The drivers `weft plugin serve` can serve, by name: for now weft's built-in drivers, linked in.
//!
//! Kept to one function on purpose: when weftd loads its drivers as dynamic libraries, this body
//! becomes that loader, and nothing else in `weft plugin serve` changes.

use std::sync::Arc;

use libnet::NetworkDriver;
use serde_json::Value;

use super::errors::CliError;

/// The network driver `name`, configured with `options` (a JSON object of `--opt` strings). A
/// driver made here works in the calling process's network namespace.
pub fn load_driver(name: &str, options: &Value) -> Result<Arc<dyn NetworkDriver>, CliError> {
    let empty = serde_json::Map::new();
    let options = options.as_object().unwrap_or(&empty);
    let accepts = |keys: &[&str]| -> Result<(), CliError> {
        match options.keys().find(|k| !keys.contains(&k.as_str())) {
            None => Ok(()),
            Some(k) if keys.is_empty() => Err(CliError::failed(format!("driver {name} takes no options (got {k})"))),
            Some(k) => {
                Err(CliError::failed(format!("driver {name} has no option {k}; its options: {}", keys.join(", "))))
            }
        }
    };
    match name {
        "bridge" => {
            accepts(&["userland-proxy"])?;
            let userland_proxy = match options.get("userland-proxy").and_then(Value::as_str) {
                None | Some("false") => false,
                Some("true") => true,
                Some(v) => {
                    return Err(CliError::failed(format!(
                        "invalid value \"{v}\" for userland-proxy: must be true or false"
                    )))
                }
            };
            let config = driver_bridge::DriverConfig { userland_proxy };
            let driver = driver_bridge::BridgeDriver::with_config(config)
                .map_err(|e| CliError::failed(format!("cannot start the bridge driver: {e}")))?;
            Ok(Arc::new(driver))
        }
        "host" => accepts(&[]).map(|()| Arc::new(driver_host::host_driver()) as Arc<dyn NetworkDriver>),
        "null" => accepts(&[]).map(|()| Arc::new(driver_null::null_driver()) as Arc<dyn NetworkDriver>),
        _ => Err(CliError::failed(format!(
            "unknown driver \"{name}\": the drivers weft can serve are bridge, host, null"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_options_are_checked() {
        let err = |name: &str, o: Value| load_driver(name, &o).err().map(|e| e.message).unwrap_or_default();
        assert_eq!(
            err("overlay", json!({})),
            "unknown driver \"overlay\": the drivers weft can serve are bridge, host, null"
        );
        assert_eq!(err("host", json!({"mtu": "1400"})), "driver host takes no options (got mtu)");
        assert_eq!(
            err("bridge", json!({"mtu": "1400"})),
            "driver bridge has no option mtu; its options: userland-proxy"
        );
        assert_eq!(
            err("bridge", json!({"userland-proxy": "yes"})),
            "invalid value \"yes\" for userland-proxy: must be true or false"
        );
        assert_eq!(load_driver("null", &json!({})).map(|d| d.name().to_string()).unwrap_or_default(), "null");
    }
}
