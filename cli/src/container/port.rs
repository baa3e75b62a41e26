//! `weft port CONTAINER [PRIVATE_PORT[/PROTO]]`: a container's published ports from its
//! `NetworkSettings.Ports`, as Docker prints them (`80/tcp -> 0.0.0.0:8080` each, or the host
//! addresses of one port), in natural order.

use std::cmp::Ordering;

use serde_json::Value;

use crate::args::PortArgs;
use crate::client::{encode_component, Client};
use crate::console::Console;
use crate::errors::CliError;

pub fn run(console: &mut Console, client: &Client, args: &PortArgs) -> Result<(), CliError> {
    let container = args.args.first().map(String::as_str).unwrap_or_default();
    let answer = client.get(&format!("/containers/{}/json", encode_component(container)))?;
    let inspected: Value = serde_json::from_slice(&answer)
        .map_err(|e| CliError::failed(format!("unexpected answer from weftd for {container}: {e}")))?;
    let ports = &inspected["NetworkSettings"]["Ports"];
    let lines = lines(ports, container, args.args.get(1).map(String::as_str))?;
    if !lines.is_empty() {
        console.out(&format!("{}\n", lines.join("\n")));
    }
    Ok(())
}

/// The lines to print for `ports` (`NetworkSettings.Ports`), all or those of `private`.
fn lines(ports: &Value, container: &str, private: Option<&str>) -> Result<Vec<String>, CliError> {
    let hosts = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|h| {
                join_host_port(h["HostIp"].as_str().unwrap_or_default(), h["HostPort"].as_str().unwrap_or_default())
            })
            .collect()
    };
    let mut out = match private {
        Some(asked) => {
            let (port, proto) = asked.split_once('/').unwrap_or((asked, "tcp"));
            let proto = if proto.is_empty() { "tcp" } else { proto };
            if let Err(e) = port.parse::<u16>() {
                return Err(CliError::failed(format!("Error: invalid port ({port}): {}", go_parse_error(port, &e))));
            }
            let found = hosts(&ports[format!("{port}/{proto}")]);
            if found.is_empty() {
                return Err(CliError::failed(format!("Error: No public port '{asked}' published for {container}")));
            }
            found
        }
        None => ports
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(key, v)| hosts(v).into_iter().map(move |h| format!("{key} -> {h}")))
            .collect(),
    };
    out.sort_by(|a, b| natural_cmp(a, b));
    Ok(out)
}

/// Go's `strconv.ParseUint(s, 10, 16)` error text.
fn go_parse_error(s: &str, e: &std::num::ParseIntError) -> String {
    match e.kind() {
        std::num::IntErrorKind::PosOverflow => format!("strconv.ParseUint: parsing {s:?}: value out of range"),
        _ => format!("strconv.ParseUint: parsing {s:?}: invalid syntax"),
    }
}

/// Go's `net.JoinHostPort`: IPv6 addresses in brackets.
pub fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Natural order (as the `sortorder` package Docker uses): runs of digits compare by value,
/// the rest byte by byte.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let run = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (na, nb) = (run(a), run(b));
                let (da, db) = (&a[..na], &b[..nb]);
                let trim = |d: &[u8]| -> usize { d.iter().take_while(|c| **c == b'0').count() };
                let (ta, tb) = (&da[trim(da)..], &db[trim(db)..]);
                let by_value = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ports() -> Value {
        json!({
            "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}, {"HostIp": "::", "HostPort": "8080"}],
            "443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}],
            "53/udp": [{"HostIp": "0.0.0.0", "HostPort": "5353"}],
            "22/tcp": null,
        })
    }

    #[test]
    fn every_mapping_in_natural_order() {
        assert_eq!(
            lines(&ports(), "web", None).unwrap_or_default(),
            ["53/udp -> 0.0.0.0:5353", "80/tcp -> 0.0.0.0:8080", "80/tcp -> [::]:8080", "443/tcp -> 127.0.0.1:32768"]
        );
        assert!(lines(&json!({}), "web", None).unwrap_or_default().is_empty());
    }

    #[test]
    fn one_port_with_or_without_its_protocol() {
        assert_eq!(lines(&ports(), "web", Some("80")).unwrap_or_default(), ["0.0.0.0:8080", "[::]:8080"]);
        assert_eq!(lines(&ports(), "web", Some("53/udp")).unwrap_or_default(), ["0.0.0.0:5353"]);
        let err = |p: &str| lines(&ports(), "web", Some(p)).err().map(|e| (e.code, e.message));
        assert_eq!(err("81/tcp"), Some((1, "Error: No public port '81/tcp' published for web".into())));
        assert_eq!(err("22"), Some((1, "Error: No public port '22' published for web".into())));
        assert_eq!(
            err("abc"),
            Some((1, "Error: invalid port (abc): strconv.ParseUint: parsing \"abc\": invalid syntax".into()))
        );
    }

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("9/tcp", "10/tcp"), Ordering::Less);
        assert_eq!(natural_cmp("a10", "a9"), Ordering::Greater);
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
        assert_eq!(join_host_port("::1", "80"), "[::1]:80");
    }
}
