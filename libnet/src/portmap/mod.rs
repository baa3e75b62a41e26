//! Published ports: the `-p` spec as Docker reads it, and the port bindings an endpoint carries
//! to its driver (the `com.docker.network.portmap` option of the remote protocol, libnetwork's
//! `PortBinding` JSON shape).
//!
//! ```
//! use libnet::portmap::{parse_publish, Proto};
//! let specs = parse_publish("127.0.0.1:8000-8001:80-81/udp").unwrap();
//! assert_eq!(specs.len(), 2);
//! assert_eq!((specs[1].container_port, specs[1].host_port.as_str(), specs[1].proto), (81, "8001", Proto::Udp));
//! ```

mod allocator;
pub mod proxy;

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use allocator::{ephemeral_range, unspecified, HeldPort, PortAllocator};

/// The option key of port bindings in `CreateEndpoint` and `ProgramExternalConnectivity`.
pub const PORTMAP_OPTION: &str = "com.docker.network.portmap";
/// The option key of exposed ports.
pub const EXPOSED_PORTS_OPTION: &str = "com.docker.network.endpoint.exposedports";

/// A transport protocol of a published port; serialized as its IP protocol number, as
/// libnetwork does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(into = "u8", try_from = "u8")]
pub enum Proto {
    /// TCP (6), the protocol of a `-p` spec that names none.
    #[default]
    Tcp,
    /// UDP (17).
    Udp,
    /// SCTP (132).
    Sctp,
}

impl Proto {
    /// `tcp`, `udp` or `sctp`, as Docker writes it in `80/tcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Sctp => "sctp",
        }
    }

    /// `tcp`, `udp` or `sctp`, any case.
    pub fn parse(s: &str) -> Option<Proto> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            "sctp" => Some(Proto::Sctp),
            _ => None,
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Proto> for u8 {
    fn from(p: Proto) -> u8 {
        match p {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Sctp => 132,
        }
    }
}

impl TryFrom<u8> for Proto {
    type Error = String;
    fn try_from(n: u8) -> Result<Proto, String> {
        match n {
            6 => Ok(Proto::Tcp),
            17 => Ok(Proto::Udp),
            132 => Ok(Proto::Sctp),
            n => Err(format!("unknown IP protocol number {n}")),
        }
    }
}

/// One container port published on the host, as the `-p` spec and the API give it: the host
/// port is `""` (any free one), one port, or a range to pick one free port from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishSpec {
    /// The host address to publish on (Docker's `HostIp`); `None` for all of them.
    pub host_ip: Option<IpAddr>,
    /// The host port as text (Docker's `HostPort`): `""`, `8080` or a range `8000-8010`.
    pub host_port: String,
    /// The container's port.
    pub container_port: u16,
    /// The port's protocol.
    pub proto: Proto,
}

impl PublishSpec {
    /// Docker's key of the port in `ExposedPorts` and `PortBindings`: `80/tcp`.
    pub fn port_key(&self) -> String {
        format!("{}/{}", self.container_port, self.proto)
    }
}

/// A port binding as the driver gets it and reports it (libnetwork's `types.PortBinding`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PortBinding {
    /// The port's protocol (`Proto`, as its IP protocol number).
    #[serde(rename = "Proto")]
    pub proto: Proto,
    /// The container's address the port is forwarded to.
    #[serde(rename = "IP", default, skip_serializing_if = "Option::is_none", deserialize_with = "optional_ip")]
    pub ip: Option<IpAddr>,
    /// The container's port (`Port`).
    #[serde(rename = "Port")]
    pub port: u16,
    /// The host address; `None` for all of them.
    #[serde(rename = "HostIP", default, skip_serializing_if = "Option::is_none", deserialize_with = "optional_ip")]
    pub host_ip: Option<IpAddr>,
    /// The host port; 0 asks for any free one (within `host_port_end` when that is set).
    #[serde(rename = "HostPort")]
    pub host_port: u16,
    /// The last port of a host range `host_port`..=`host_port_end` to take one free port from
    /// (`HostPortEnd`); 0, or `host_port` itself, asks for `host_port` alone.
    #[serde(rename = "HostPortEnd", default)]
    pub host_port_end: u16,
}

/// An address that may be absent: `null`, or `""` as Go writes a nil `net.IP` (dockerd sends
/// its port bindings to remote drivers that way).
fn optional_ip<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<IpAddr>, D::Error> {
    match Option::<String>::deserialize(d)?.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("invalid IP address \"{s}\""))),
    }
}

/// A port or a range `a-b` (`a <= b`).
pub fn parse_port_range(s: &str) -> Option<(u16, u16)> {
    let one = |p: &str| p.parse::<u16>().ok().filter(|_| !p.starts_with('+'));
    match s.split_once('-') {
        None => one(s).map(|p| (p, p)),
        Some((a, b)) => match (one(a), one(b)) {
            (Some(a), Some(b)) if a <= b => Some((a, b)),
            _ => None,
        },
    }
}

/// Split `[ip:]host:container` the way Docker does: the last part is the container port, the one
/// before it the host port, and whatever comes before (it may hold colons: IPv6) the address.
fn split_parts(raw: &str) -> (&str, &str, &str) {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let container = parts[n - 1];
    match n {
        1 => ("", "", container),
        2 => ("", parts[0], container),
        _ => {
            let host_port = parts[n - 2];
            let ip_len = raw.len() - container.len() - host_port.len() - 2;
            (&raw[..ip_len], host_port, container)
        }
    }
}

/// Parse one `-p` spec (`[ip:][hostPort:]containerPort[/proto]`, with ranges) into the container
/// ports it publishes, with Docker's error messages.
pub fn parse_publish(raw: &str) -> Result<Vec<PublishSpec>, String> {
    let (ip, host_port, container) = split_parts(raw);
    let (container, proto_text) = match container.split_once('/') {
        Some((port, proto)) => (port, proto),
        None => (container, "tcp"),
    };
    let ip = ip.strip_prefix('[').and_then(|i| i.strip_suffix(']')).unwrap_or(ip);
    let host_ip = match ip {
        "" => None,
        ip => Some(ip.parse::<IpAddr>().map_err(|_| format!("invalid IP address: {ip}"))?),
    };
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) = parse_port_range(container).ok_or_else(|| format!("invalid containerPort: {container}"))?;
    let host = match host_port {
        "" => None,
        h => Some(parse_port_range(h).ok_or_else(|| format!("invalid hostPort: {h}"))?),
    };
    if let Some((hs, he)) = host {
        // A host range for one container port is the range to pick a free port from.
        if end - start != he - hs && end != start {
            return Err(format!("invalid ranges specified for container and host Ports: {container} and {host_port}"));
        }
    }
    let proto = Proto::parse(proto_text).ok_or_else(|| format!("invalid proto: {proto_text}"))?;
    Ok((start..=end)
        .enumerate()
        .map(|(i, container_port)| {
            let host_port = match host {
                None => String::new(),
                Some((hs, he)) if start == end && hs != he => format!("{hs}-{he}"),
                Some((hs, _)) => (hs as usize + i).to_string(),
            };
            PublishSpec { host_ip, host_port, container_port, proto }
        })
        .collect())
}

/// Parse an `--expose` value: a port or range, with an optional protocol.
pub fn parse_expose(raw: &str) -> Result<Vec<(u16, Proto)>, String> {
    let (ports, proto_text) = raw.split_once('/').unwrap_or((raw, "tcp"));
    let proto = Proto::parse(proto_text).ok_or_else(|| format!("invalid proto: {proto_text}"))?;
    let (start, end) = parse_port_range(ports).ok_or_else(|| format!("invalid range format for --expose: {raw}"))?;
    Ok((start..=end).map(|p| (p, proto)).collect())
}

/// A port key of the API (`80/tcp`, `53/udp`, or `80` for tcp).
pub fn parse_port_key(key: &str) -> Result<(u16, Proto), String> {
    let (port, proto_text) = key.split_once('/').unwrap_or((key, "tcp"));
    let proto = Proto::parse(proto_text).ok_or_else(|| format!("invalid proto: {proto_text}"))?;
    let port = port.parse::<u16>().map_err(|_| format!("invalid port: {key}"))?;
    Ok((port, proto))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_read_dockers_empty_addresses() {
        let j = r#"{"Proto":6,"IP":"","Port":8080,"HostIP":"","HostPort":8080,"HostPortEnd":8080}"#;
        let b: PortBinding = serde_json::from_str(j).unwrap();
        assert_eq!((b.ip, b.host_ip, b.port, b.host_port), (None, None, 8080, 8080));
        let b: PortBinding =
            serde_json::from_str(r#"{"Proto":17,"HostIP":"127.0.0.1","Port":53,"HostPort":0}"#).unwrap();
        assert_eq!((b.proto, b.host_ip), (Proto::Udp, Some("127.0.0.1".parse().unwrap())));
        let e = serde_json::from_str::<PortBinding>(r#"{"Proto":6,"HostIP":"nope","Port":1,"HostPort":1}"#);
        assert!(e.unwrap_err().to_string().contains("invalid IP address \"nope\""));
    }

    fn one(raw: &str) -> PublishSpec {
        let mut v = parse_publish(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        assert_eq!(v.len(), 1, "{raw}");
        v.remove(0)
    }

    #[test]
    fn every_form_of_the_table() {
        let s = one("8080:80");
        assert_eq!((s.host_ip, s.host_port.as_str(), s.container_port, s.proto), (None, "8080", 80, Proto::Tcp));
        let s = one("127.0.0.1:5000:5000");
        assert_eq!(s.host_ip, Some("127.0.0.1".parse().unwrap()));
        let s = one("127.0.0.1::5000");
        assert_eq!((s.host_port.as_str(), s.container_port), ("", 5000));
        assert_eq!(one("80").host_port, "");
        assert_eq!(one("53:53/udp").proto, Proto::Udp);
        assert_eq!(one("[::1]:80:80").host_ip, Some("::1".parse().unwrap()));
        assert_eq!(one("::1:80:80").host_ip, Some("::1".parse().unwrap()));
        let range = parse_publish("8000-8010:8000-8010").unwrap();
        assert_eq!(range.len(), 11);
        assert_eq!((range[10].host_port.as_str(), range[10].container_port), ("8010", 8010));
        assert_eq!(one("8000-9000:80").host_port, "8000-9000");
        assert_eq!(one("80/SCTP").proto, Proto::Sctp);
        assert_eq!(one("80").port_key(), "80/tcp");
    }

    #[test]
    fn dockers_refusals() {
        let err = |raw: &str| parse_publish(raw).unwrap_err();
        assert_eq!(err("70000:80"), "invalid hostPort: 70000");
        assert_eq!(err("abc"), "invalid containerPort: abc");
        assert_eq!(err("-1"), "invalid containerPort: -1");
        assert_eq!(err("1-5:1-3"), "invalid ranges specified for container and host Ports: 1-3 and 1-5");
        assert_eq!(err("80/sctpx"), "invalid proto: sctpx");
        assert_eq!(err("80:80/tcp:x"), "invalid IP address: 80");
        assert_eq!(err("1.2.3.4.5:80:80"), "invalid IP address: 1.2.3.4.5");
        assert_eq!(err("9-3"), "invalid containerPort: 9-3");
        assert!(err("8080:").starts_with("no port specified"));
    }

    #[test]
    fn exposed_ports_and_keys() {
        assert_eq!(parse_expose("22").unwrap(), [(22, Proto::Tcp)]);
        assert_eq!(parse_expose("20-21/udp").unwrap(), [(20, Proto::Udp), (21, Proto::Udp)]);
        assert!(parse_expose("x").is_err());
        assert_eq!(parse_port_key("53/udp").unwrap(), (53, Proto::Udp));
        assert_eq!(parse_port_key("80").unwrap(), (80, Proto::Tcp));
        assert!(parse_port_key("80/xyz").is_err());
    }

    #[test]
    fn bindings_use_libnetworks_json() {
        let b = PortBinding {
            proto: Proto::Udp,
            ip: Some("172.17.0.2".parse().unwrap()),
            port: 53,
            host_ip: None,
            host_port: 5353,
            host_port_end: 0,
        };
        let json = serde_json::to_value(&b).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"Proto": 17, "IP": "172.17.0.2", "Port": 53, "HostPort": 5353, "HostPortEnd": 0})
        );
        assert_eq!(serde_json::from_value::<PortBinding>(json).unwrap(), b);
    }
}
