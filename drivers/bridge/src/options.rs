//! The bridge driver's options (`-o` on `weft network create`), with Docker's names, checked.

use std::net::IpAddr;

use libnet::protocol::{Options, ENABLE_IPV6_OPTION, GENERIC_OPTIONS, INTERNAL_OPTION};
use libnet::DriverError;
use serde_json::Value;

pub const BRIDGE_NAME: &str = "com.docker.network.bridge.name";
pub const ENABLE_ICC: &str = "com.docker.network.bridge.enable_icc";
pub const ENABLE_IP_MASQUERADE: &str = "com.docker.network.bridge.enable_ip_masquerade";
pub const HOST_BINDING_IPV4: &str = "com.docker.network.bridge.host_binding_ipv4";
pub const DEFAULT_BRIDGE: &str = "com.docker.network.bridge.default_bridge";
pub const DRIVER_MTU: &str = "com.docker.network.driver.mtu";
/// weft also takes the MTU under the bridge's own prefix.
pub const BRIDGE_MTU: &str = "com.docker.network.bridge.mtu";

/// Docker options that weft's bridge driver does not implement: refused, never silently ignored.
const UNSUPPORTED: [&str; 4] = [
    "com.docker.network.bridge.inhibit_ipv4",
    "com.docker.network.bridge.gateway_mode_ipv4",
    "com.docker.network.bridge.gateway_mode_ipv6",
    "com.docker.network.bridge.trusted_host_interfaces",
];

const IFNAMSIZ: usize = 15;

/// A bridge network's configuration, from its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeConfig {
    /// The bridge's name, when the user chose it.
    pub name: Option<String>,
    pub mtu: Option<u32>,
    pub enable_icc: bool,
    pub enable_ip_masquerade: bool,
    pub host_binding_ipv4: Option<IpAddr>,
    pub default_bridge: bool,
    pub internal: bool,
    pub enable_ipv6: bool,
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Go's strconv.ParseBool, which Docker uses for these options.
fn parse_bool(key: &str, v: &str) -> Result<bool, DriverError> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(DriverError::invalid(format!("invalid value \"{v}\" for {key}: must be true or false"))),
    }
}

fn parse_mtu(key: &str, v: &str) -> Result<u32, DriverError> {
    match v.parse::<u32>() {
        Ok(m) if (68..=65535).contains(&m) => Ok(m),
        _ => Err(DriverError::invalid(format!("invalid MTU \"{v}\" for {key}: must be a number from 68 to 65535"))),
    }
}

/// Check a Linux interface name: at most 15 bytes, no '/', no whitespace, not `.` or `..`.
pub fn check_ifname(name: &str) -> Result<(), DriverError> {
    if name.len() > IFNAMSIZ {
        return Err(DriverError::invalid(format!(
            "bridge name \"{name}\" is longer than {IFNAMSIZ} characters ({})",
            name.len()
        )));
    }
    if name.is_empty() || name == "." || name == ".." || name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace())
    {
        return Err(DriverError::invalid(format!("invalid bridge name \"{name}\"")));
    }
    Ok(())
}

impl BridgeConfig {
    /// Read a network's options as `CreateNetwork` carries them.
    pub fn from_options(options: &Options) -> Result<BridgeConfig, DriverError> {
        let mut c = BridgeConfig {
            name: None,
            mtu: None,
            enable_icc: true,
            enable_ip_masquerade: true,
            host_binding_ipv4: None,
            default_bridge: false,
            internal: options.get(INTERNAL_OPTION).and_then(Value::as_bool).unwrap_or(false),
            enable_ipv6: options.get(ENABLE_IPV6_OPTION).and_then(Value::as_bool).unwrap_or(false),
        };
        let Some(generic) = options.get(GENERIC_OPTIONS).and_then(Value::as_object) else { return Ok(c) };
        for (key, value) in generic {
            let v = as_text(value);
            match key.as_str() {
                BRIDGE_NAME => {
                    check_ifname(&v)?;
                    c.name = Some(v);
                }
                DRIVER_MTU | BRIDGE_MTU => c.mtu = Some(parse_mtu(key, &v)?),
                ENABLE_ICC => c.enable_icc = parse_bool(key, &v)?,
                ENABLE_IP_MASQUERADE => c.enable_ip_masquerade = parse_bool(key, &v)?,
                DEFAULT_BRIDGE => c.default_bridge = parse_bool(key, &v)?,
                HOST_BINDING_IPV4 => {
                    let ip = v.parse::<IpAddr>().map_err(|_| {
                        DriverError::invalid(format!("invalid address \"{v}\" for {key}: not an IP address"))
                    })?;
                    c.host_binding_ipv4 = Some(ip);
                }
                k if UNSUPPORTED.contains(&k) => {
                    return Err(DriverError::invalid(format!("option {k} is not supported by weft's bridge driver")))
                }
                k if k.starts_with("com.docker.network.bridge.") || k.starts_with("com.docker.network.driver.") => {
                    return Err(DriverError::invalid(format!("unknown bridge driver option {k}")))
                }
                // Other keys are labels of other tools (Docker passes them through too).
                _ => {}
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(generic: Value) -> Options {
        let mut o = Options::new();
        o.insert(GENERIC_OPTIONS.into(), generic);
        o
    }

    #[test]
    fn reads_docker_options() {
        let c = BridgeConfig::from_options(&opts(json!({
            BRIDGE_NAME: "br-test", DRIVER_MTU: "9000", ENABLE_ICC: "false", HOST_BINDING_IPV4: "127.0.0.1"
        })))
        .unwrap();
        assert_eq!(c.name.as_deref(), Some("br-test"));
        assert_eq!(c.mtu, Some(9000));
        assert!(!c.enable_icc && c.enable_ip_masquerade);
        assert_eq!(c.host_binding_ipv4, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(BridgeConfig::from_options(&opts(json!({BRIDGE_MTU: "1400"}))).unwrap().mtu, Some(1400));
    }

    #[test]
    fn rejects_bad_options_with_their_names() {
        let err = |g: Value| BridgeConfig::from_options(&opts(g)).unwrap_err().message;
        assert!(err(json!({DRIVER_MTU: "abc"})).contains("invalid MTU \"abc\""));
        assert!(err(json!({DRIVER_MTU: "100000"})).contains("from 68 to 65535"));
        assert!(err(json!({BRIDGE_NAME: "a-very-long-bridge-name"})).contains("longer than 15 characters"));
        assert!(err(json!({"com.docker.network.bridge.bogus": "1"}))
            .contains("unknown bridge driver option com.docker.network.bridge.bogus"));
        assert!(err(json!({ENABLE_ICC: "maybe"})).contains("must be true or false"));
        assert!(err(json!({"com.docker.network.bridge.inhibit_ipv4": "true"})).contains("not supported"));
    }
}
