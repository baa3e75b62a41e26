//! A container's published ports: what it asks for (Docker's `Config.ExposedPorts`,
//! `HostConfig.PortBindings` and `PublishAllPorts`), checked as dockerd checks them, turned into
//! the endpoint options libnet's drivers read, and what the drivers bound shown back as Docker's
//! `NetworkSettings.Ports` and the list's `Ports`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use libnet::portmap::{parse_port_key, parse_port_range, PortBinding, Proto, EXPOSED_PORTS_OPTION, PORTMAP_OPTION};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// One host side of a published port, as the API gives it: `HostIp` empty for every address,
/// `HostPort` empty for any free port, one port, or a range to take one free port from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostBinding {
    #[serde(rename = "HostIp")]
    pub host_ip: String,
    #[serde(rename = "HostPort")]
    pub host_port: String,
}

/// What a container asks to publish, keyed as Docker keys ports (`80/tcp`, the protocol always
/// given, in lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortConfig {
    /// `Config.ExposedPorts`.
    #[serde(default)]
    pub exposed: BTreeSet<String>,
    /// `HostConfig.PortBindings`.
    #[serde(default)]
    pub bindings: BTreeMap<String, Vec<HostBinding>>,
    /// `HostConfig.PublishAllPorts` (`-P`).
    #[serde(default)]
    pub publish_all: bool,
}

/// A port key in its one spelling: `80/tcp`. dockerd's message for a bad one.
pub fn normalize_key(key: &str) -> Result<String, String> {
    let bad = || format!("invalid port specification: {key:?}");
    let (port, proto) = parse_port_key(key).map_err(|_| bad())?;
    if port == 0 {
        return Err(bad());
    }
    Ok(format!("{port}/{proto}"))
}

/// `HostIp` as an address; empty is none (every address). IPv6 may come in brackets.
fn host_ip(text: &str) -> Result<Option<IpAddr>, String> {
    let bare = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')).unwrap_or(text);
    if bare.is_empty() {
        return Ok(None);
    }
    bare.parse().map(Some).map_err(|_| format!("invalid IP address: {text}"))
}

/// `HostPort` as (first, last); empty is (0, 0), any free port.
fn host_ports(text: &str) -> Result<(u16, u16), String> {
    if text.is_empty() {
        return Ok((0, 0));
    }
    parse_port_range(text).ok_or_else(|| format!("invalid port specification: {text:?}"))
}

impl PortConfig {
    /// From the create body's `Config.ExposedPorts` (`{"80/tcp": {}}`), `HostConfig.PortBindings`
    /// (`{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}`) and `HostConfig.PublishAllPorts`,
    /// each checked, with dockerd's messages.
    pub fn from_api(exposed: &Value, bindings: &Value, publish_all: &Value) -> Result<PortConfig, String> {
        let mut config = PortConfig { publish_all: publish_all.as_bool().unwrap_or(false), ..Default::default() };
        match exposed {
            Value::Null => {}
            Value::Object(keys) => {
                for key in keys.keys() {
                    config.exposed.insert(normalize_key(key)?);
                }
            }
            other => return Err(format!("invalid ExposedPorts: {other}: want an object keyed by port")),
        }
        match bindings {
            Value::Null => {}
            Value::Object(map) => {
                for (key, list) in map {
                    let key = normalize_key(key)?;
                    let list = match list {
                        Value::Null => Vec::new(),
                        Value::Array(items) => items.iter().map(host_binding).collect::<Result<Vec<_>, _>>()?,
                        other => return Err(format!("invalid PortBindings of {key}: {other}: want a list")),
                    };
                    config.bindings.entry(key).or_default().extend(list);
                }
            }
            other => return Err(format!("invalid PortBindings: {other}: want an object keyed by port")),
        }
        Ok(config)
    }

    /// Whether the container asks for nothing of this kind.
    pub fn is_empty(&self) -> bool {
        self.exposed.is_empty() && self.bindings.is_empty() && !self.publish_all
    }

    /// Whether any port is to be published on the host.
    pub fn publishes(&self) -> bool {
        self.bindings.values().any(|b| !b.is_empty()) || (self.publish_all && !self.keys().is_empty())
    }

    /// Every port the container has: exposed or bound, by number then protocol.
    pub fn keys(&self) -> Vec<(u16, Proto)> {
        let mut keys: Vec<(u16, Proto)> =
            self.exposed.iter().chain(self.bindings.keys()).filter_map(|k| parse_port_key(k).ok()).collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The bindings the driver is asked for (see `/work/notes/ports-api.md`): each binding as
    /// given (host port 0 for any; a host range as first and last), and with `-P` every port
    /// without one to any free host port. The container's address is the driver's to fill in.
    pub fn requested(&self) -> Vec<PortBinding> {
        let mut out = Vec::new();
        for (port, proto) in self.keys() {
            let given = self.bindings.get(&format!("{port}/{proto}")).map(Vec::as_slice).unwrap_or_default();
            for b in given {
                // Checked at create; a record from elsewhere that does not parse asks for nothing.
                let (Ok(host_ip), Ok((first, last))) = (host_ip(&b.host_ip), host_ports(&b.host_port)) else {
                    continue;
                };
                let host_port_end = if last != first { last } else { 0 };
                out.push(PortBinding { proto, ip: None, port, host_ip, host_port: first, host_port_end });
            }
            if given.is_empty() && self.publish_all {
                out.push(PortBinding { proto, port, ..Default::default() });
            }
        }
        out
    }

    /// The options of every endpoint made for the container: the bindings under
    /// [`PORTMAP_OPTION`] and the exposed ports under [`EXPOSED_PORTS_OPTION`], as JSON text;
    /// none when it has no ports.
    pub fn endpoint_options(&self) -> BTreeMap<String, String> {
        let mut options = BTreeMap::new();
        let keys = self.keys();
        if keys.is_empty() {
            return options;
        }
        let exposed: Vec<Value> =
            keys.iter().map(|(port, proto)| json!({"Proto": u8::from(*proto), "Port": port})).collect();
        options.insert(EXPOSED_PORTS_OPTION.to_string(), Value::Array(exposed).to_string());
        let requested = self.requested();
        if !requested.is_empty() {
            if let Ok(text) = serde_json::to_string(&requested) {
                options.insert(PORTMAP_OPTION.to_string(), text);
            }
        }
        options
    }

    /// `Config.ExposedPorts` as inspect shows it: every port the container has (dockerd adds
    /// the published ones), `None` when none (Docker leaves the field out).
    pub fn exposed_json(&self) -> Option<Value> {
        let keys = self.keys();
        if keys.is_empty() {
            return None;
        }
        Some(Value::Object(keys.iter().map(|(p, proto)| (format!("{p}/{proto}"), json!({}))).collect()))
    }

    /// `HostConfig.PortBindings` as inspect shows it.
    pub fn bindings_json(&self) -> Value {
        serde_json::to_value(&self.bindings).unwrap_or_else(|_| json!({}))
    }
}

/// One `HostIp`/`HostPort` pair of the body, checked. Go decodes field names in any case, so
/// `HostIP` is read too.
fn host_binding(v: &Value) -> Result<HostBinding, String> {
    let field = |name: &str| -> String {
        v.as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .and_then(|(_, v)| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let b = HostBinding { host_ip: field("HostIp"), host_port: field("HostPort") };
    host_ip(&b.host_ip)?;
    host_ports(&b.host_port)?;
    Ok(b)
}

/// The host address a binding is shown with: the one it was bound to, else the unspecified
/// address of the container address's family.
fn shown_host_ip(b: &PortBinding) -> String {
    match (b.host_ip, b.ip) {
        (Some(ip), _) => ip.to_string(),
        (None, Some(IpAddr::V6(_))) => "::".to_string(),
        (None, _) => "0.0.0.0".to_string(),
    }
}

/// Docker's `NetworkSettings.Ports` of a running container: each of its ports, with the host
/// addresses and ports its endpoints' drivers bound (`bound`), or `null` when not published.
/// `{}` for a container not running.
pub fn network_settings_ports(config: &PortConfig, bound: &[PortBinding], running: bool) -> Value {
    let mut map = Map::new();
    if !running {
        return Value::Object(map);
    }
    for (port, proto) in config.keys() {
        map.insert(format!("{port}/{proto}"), Value::Null);
    }
    for b in bound {
        let entry = map.entry(format!("{}/{}", b.port, b.proto)).or_insert(Value::Null);
        let shown = json!({"HostIp": shown_host_ip(b), "HostPort": b.host_port.to_string()});
        match entry {
            Value::Array(list) => list.push(shown),
            other => *other = Value::Array(vec![shown]),
        }
    }
    Value::Object(map)
}

/// The list's `Ports` (Docker's `[]container.Port`): one entry per published binding
/// (`IP`, `PrivatePort`, `PublicPort`, `Type`), one without the host side per port that is not
/// published; none for a container not running.
pub fn summary_ports(config: &PortConfig, bound: &[PortBinding], running: bool) -> Vec<Value> {
    let mut out = Vec::new();
    let Value::Object(map) = network_settings_ports(config, bound, running) else { return out };
    for (key, hosts) in map {
        let Ok((port, proto)) = parse_port_key(&key) else { continue };
        match hosts {
            Value::Array(list) => {
                for h in list {
                    let public: u16 = h["HostPort"].as_str().and_then(|p| p.parse().ok()).unwrap_or(0);
                    out.push(
                        json!({"IP": h["HostIp"], "PrivatePort": port, "PublicPort": public, "Type": proto.as_str()}),
                    );
                }
            }
            _ => out.push(json!({"PrivatePort": port, "Type": proto.as_str()})),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(exposed: Value, bindings: Value, all: bool) -> PortConfig {
        PortConfig::from_api(&exposed, &bindings, &json!(all)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_api_shapes_are_read_and_checked() {
        let c = config(
            json!({"22/tcp": {}, "53/UDP": {}}),
            json!({"80": [{"HostIp": "127.0.0.1", "HostPort": "8080"}], "81/tcp": [{"HostIP": "", "HostPort": "8000-9000"}]}),
            true,
        );
        assert_eq!(c.exposed.iter().collect::<Vec<_>>(), ["22/tcp", "53/udp"]);
        assert_eq!(c.bindings["80/tcp"], [HostBinding { host_ip: "127.0.0.1".into(), host_port: "8080".into() }]);
        assert_eq!(c.bindings["81/tcp"][0].host_port, "8000-9000");
        assert!(c.publish_all);
        let err = |e: Value, b: Value| PortConfig::from_api(&e, &b, &Value::Null).unwrap_err();
        assert_eq!(err(json!({"abc": {}}), Value::Null), "invalid port specification: \"abc\"");
        assert_eq!(err(Value::Null, json!({"0/tcp": []})), "invalid port specification: \"0/tcp\"");
        assert_eq!(err(Value::Null, json!({"80/xyz": []})), "invalid port specification: \"80/xyz\"");
        assert_eq!(
            err(Value::Null, json!({"80/tcp": [{"HostPort": "70000"}]})),
            "invalid port specification: \"70000\""
        );
        assert_eq!(
            err(Value::Null, json!({"80/tcp": [{"HostIp": "1.2.3.4.5", "HostPort": "80"}]})),
            "invalid IP address: 1.2.3.4.5"
        );
        assert!(PortConfig::from_api(&json!([]), &Value::Null, &Value::Null).is_err());
    }

    #[test]
    fn requested_bindings_follow_the_interface() {
        let c = config(
            json!({"22/tcp": {}, "20/tcp": {}}),
            json!({"80/tcp": [{"HostIp": "", "HostPort": "8080"}, {"HostIp": "::1", "HostPort": ""}],
                   "81/tcp": [{"HostIp": "", "HostPort": "8000-9000"}], "53/udp": []}),
            true,
        );
        let r = c.requested();
        let short: Vec<(u16, Proto, Option<IpAddr>, u16, u16)> =
            r.iter().map(|b| (b.port, b.proto, b.host_ip, b.host_port, b.host_port_end)).collect();
        assert_eq!(
            short,
            [
                (20, Proto::Tcp, None, 0, 0),
                (22, Proto::Tcp, None, 0, 0),
                (53, Proto::Udp, None, 0, 0),
                (80, Proto::Tcp, None, 8080, 0),
                (80, Proto::Tcp, Some("::1".parse().unwrap()), 0, 0),
                (81, Proto::Tcp, None, 8000, 9000),
            ]
        );
        assert!(r.iter().all(|b| b.ip.is_none()));
        let options = c.endpoint_options();
        let parsed: Vec<PortBinding> = serde_json::from_str(&options[PORTMAP_OPTION]).unwrap();
        assert_eq!(parsed, r);
        let exposed: Value = serde_json::from_str(&options[EXPOSED_PORTS_OPTION]).unwrap();
        assert_eq!(exposed[0], json!({"Proto": 6, "Port": 20}));
        assert_eq!(exposed[2], json!({"Proto": 17, "Port": 53}));
        // Without -P, exposed ports are not published.
        let c = config(json!({"22/tcp": {}}), Value::Null, false);
        assert!(c.requested().is_empty() && !c.publishes());
        assert!(!c.endpoint_options().contains_key(PORTMAP_OPTION));
        assert!(PortConfig::default().endpoint_options().is_empty());
    }

    #[test]
    fn what_was_bound_shows_as_docker_shows_it() {
        let c = config(json!({"22/tcp": {}}), json!({"80/tcp": [{"HostIp": "", "HostPort": ""}]}), false);
        let bound = [
            PortBinding {
                proto: Proto::Tcp,
                ip: Some("172.17.0.2".parse().unwrap()),
                port: 80,
                host_ip: None,
                host_port: 32768,
                host_port_end: 0,
            },
            PortBinding {
                proto: Proto::Tcp,
                ip: Some("fd00::2".parse().unwrap()),
                port: 80,
                host_ip: None,
                host_port: 32768,
                host_port_end: 0,
            },
        ];
        assert_eq!(
            network_settings_ports(&c, &bound, true),
            json!({"22/tcp": null, "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32768"}, {"HostIp": "::", "HostPort": "32768"}]})
        );
        assert_eq!(network_settings_ports(&c, &bound, false), json!({}));
        assert_eq!(
            network_settings_ports(&c, &[], true),
            json!({"22/tcp": null, "80/tcp": null}),
            "not bound (yet): null"
        );
        assert_eq!(
            summary_ports(&c, &bound[..1], true),
            [
                json!({"PrivatePort": 22, "Type": "tcp"}),
                json!({"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 32768, "Type": "tcp"})
            ]
        );
        assert_eq!(c.exposed_json(), Some(json!({"22/tcp": {}, "80/tcp": {}})));
        assert_eq!(PortConfig::default().exposed_json(), None);
        assert_eq!(c.bindings_json(), json!({"80/tcp": [{"HostIp": "", "HostPort": ""}]}));
    }
}
