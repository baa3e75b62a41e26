//! `weft network create`: the request body Docker's CLI sends, and the new network's ID.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::ipam::consolidate;
use crate::args::CreateArgs;
use crate::client::Client;
use crate::console::Console;
use crate::errors::CliError;

#[derive(Deserialize)]
struct Created {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Warning", default)]
    warning: String,
}

/// Creates the network and prints its ID.
pub fn run(console: &mut Console, client: &Client, args: &CreateArgs, name: &str) -> Result<(), CliError> {
    let body = request_body(args, name).map_err(CliError::failed)?;
    let answer = client.post("/networks/create", Some(&body))?;
    let created: Created = serde_json::from_slice(&answer)
        .map_err(|e| CliError::failed(format!("unexpected answer from weftd to network create: {e}")))?;
    if !created.warning.is_empty() {
        console.err(&format!("WARNING: {}\n", created.warning));
    }
    console.out(&format!("{}\n", created.id));
    Ok(())
}

/// pflag's `map` flags (`-o`, `--ipam-opt`, `--aux-address`): `k=v`, or `k` for an empty value;
/// a later value of a key wins.
fn map_values(values: &[String]) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|v| match v.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (v.clone(), String::new()),
        })
        .collect()
}

/// pflag's `strings` flags: each value is a line of CSV, so `--subnet a,b` is two subnets.
fn csv_values(values: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for value in values.iter().filter(|v| !v.is_empty()) {
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = value.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' if quoted => quoted = false,
                '"' if field.is_empty() => quoted = true,
                ',' if !quoted => out.push(std::mem::take(&mut field)),
                c => field.push(c),
            }
        }
        out.push(field);
    }
    out
}

/// The body of `POST /networks/create` for these flags, or the error Docker's CLI gives before
/// sending anything.
pub fn request_body(args: &CreateArgs, name: &str) -> Result<Value, String> {
    let subnets = csv_values(&args.subnet);
    let configs =
        consolidate(&subnets, &csv_values(&args.ip_range), &csv_values(&args.gateway), &map_values(&args.aux_address))?;
    let labels: BTreeMap<String, String> = map_values(&args.label);

    let mut body = Map::new();
    body.insert("Name".into(), json!(name));
    body.insert("CheckDuplicate".into(), json!(true));
    body.insert("Driver".into(), json!(args.driver));
    body.insert("Scope".into(), json!(args.scope.clone().unwrap_or_default()));
    // Unset unless given, so that the daemon applies its defaults, as with Docker's CLI.
    if let Some(ipv4) = args.ipv4 {
        body.insert("EnableIPv4".into(), json!(ipv4));
    }
    if let Some(ipv6) = args.ipv6 {
        body.insert("EnableIPv6".into(), json!(ipv6));
    }
    body.insert(
        "IPAM".into(),
        json!({
            "Driver": args.ipam_driver,
            "Config": configs.iter().map(|c| c.to_json()).collect::<Vec<_>>(),
            "Options": map_values(&args.ipam_opt),
        }),
    );
    body.insert("Internal".into(), json!(args.internal));
    body.insert("Attachable".into(), json!(args.attachable));
    body.insert("Ingress".into(), json!(args.ingress));
    body.insert("ConfigOnly".into(), json!(args.config_only));
    if let Some(from) = args.config_from.as_deref().filter(|f| !f.is_empty()) {
        body.insert("ConfigFrom".into(), json!({ "Network": from }));
    }
    body.insert("Options".into(), json!(map_values(&args.driver_opts.opt)));
    body.insert("Labels".into(), json!(labels));
    Ok(Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Command, NetworkArgs, NetworkCommand};
    use clap::Parser;

    fn create_args(line: &str) -> CreateArgs {
        match Cli::try_parse_from(line.split(' ')) {
            Ok(Cli {
                command: Some(Command::Network(NetworkArgs { command: Some(NetworkCommand::Create(c)), .. })),
                ..
            }) => c,
            other => panic!("not a create line: {other:?}"),
        }
    }

    #[test]
    fn body_of_a_full_create() {
        let args = create_args(
            "weft network create -d bridge --subnet 192.168.100.0/24 --ip-range 192.168.100.128/25 \
             --gateway 192.168.100.1 --aux-address router=192.168.100.5 --ipam-opt foo=bar \
             -o com.docker.network.bridge.name=br-web -o mtu=1400 --label team=web --label flag \
             --internal --ipv6=false web",
        );
        let body = request_body(&args, "web");
        assert_eq!(
            body,
            Ok(json!({
                "Name": "web",
                "CheckDuplicate": true,
                "Driver": "bridge",
                "Scope": "",
                "EnableIPv6": false,
                "IPAM": {
                    "Driver": "default",
                    "Config": [{
                        "Subnet": "192.168.100.0/24",
                        "IPRange": "192.168.100.128/25",
                        "Gateway": "192.168.100.1",
                        "AuxiliaryAddresses": {"router": "192.168.100.5"}
                    }],
                    "Options": {"foo": "bar"}
                },
                "Internal": true,
                "Attachable": false,
                "Ingress": false,
                "ConfigOnly": false,
                "Options": {"com.docker.network.bridge.name": "br-web", "mtu": "1400"},
                "Labels": {"team": "web", "flag": ""}
            }))
        );
    }

    #[test]
    fn minimal_body_leaves_ip_families_to_the_daemon() {
        let body = request_body(&create_args("weft network create n"), "n").unwrap_or_default();
        assert_eq!(body.get("EnableIPv4"), None);
        assert_eq!(body.get("EnableIPv6"), None);
        assert_eq!(body["IPAM"], json!({"Driver": "default", "Config": [], "Options": {}}));
        assert_eq!(body.get("ConfigFrom"), None);
    }

    #[test]
    fn comma_separated_subnets_are_matched_in_order() {
        let args = create_args("weft network create --subnet 10.1.0.0/24,fd00::/64 --gateway fd00::1,10.1.0.1 n");
        let body = request_body(&args, "n").unwrap_or_default();
        assert_eq!(
            body["IPAM"]["Config"],
            json!([{"Subnet": "10.1.0.0/24", "Gateway": "10.1.0.1"}, {"Subnet": "fd00::/64", "Gateway": "fd00::1"}])
        );
    }

    #[test]
    fn gateway_outside_every_subnet_is_refused() {
        let args = create_args("weft network create --subnet 10.0.0.0/24 --gateway 10.0.1.1 n");
        assert_eq!(request_body(&args, "n"), Err("no matching subnet for gateway 10.0.1.1".to_string()));
    }

    #[test]
    fn csv_values_as_pflag() {
        let v = |s: &str| csv_values(&[s.to_string()]);
        assert_eq!(v("a,b"), vec!["a", "b"]);
        assert_eq!(v(r#""a,b",c"#), vec!["a,b", "c"]);
        assert_eq!(v("a, b"), vec!["a", " b"]);
    }
}
