//! `weft network connect` and `weft network disconnect`: one container, one network.

use serde_json::{json, Map, Value};

use crate::args::{ConnectArgs, DisconnectArgs};
use crate::client::{encode_component, Client};
use crate::errors::CliError;

/// The body of `POST /networks/{id}/connect` for these flags.
pub fn connect_body(args: &ConnectArgs) -> Value {
    let mut ipam = Map::new();
    if let Some(ip) = args.ip.as_deref().filter(|ip| !ip.is_empty()) {
        ipam.insert("IPv4Address".into(), json!(ip));
    }
    if let Some(ip) = args.ip6.as_deref().filter(|ip| !ip.is_empty()) {
        ipam.insert("IPv6Address".into(), json!(ip));
    }
    let mut endpoint = Map::new();
    if !ipam.is_empty() {
        endpoint.insert("IPAMConfig".into(), Value::Object(ipam));
    }
    if !args.alias.is_empty() {
        endpoint.insert("Aliases".into(), json!(args.alias));
    }
    json!({ "Container": args.args[1], "EndpointConfig": endpoint })
}

pub fn connect(client: &Client, args: &ConnectArgs) -> Result<(), CliError> {
    let path = format!("/networks/{}/connect", encode_component(&args.args[0]));
    client.post(&path, Some(&connect_body(args)))?;
    Ok(())
}

pub fn disconnect(client: &Client, args: &DisconnectArgs) -> Result<(), CliError> {
    let path = format!("/networks/{}/disconnect", encode_component(&args.args[0]));
    client.post(&path, Some(&json!({ "Container": args.args[1], "Force": args.force })))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Command, NetworkCommand};
    use clap::Parser;

    #[test]
    fn connect_flags_make_the_body() {
        let cli = Cli::try_parse_from(
            "weft network connect --alias cache,kv --alias c2 --ip 192.168.100.20 --ip6 fd00::20 net web".split(' '),
        );
        let Ok(Cli { command: Some(Command::Network(n)), .. }) = cli else { panic!("not parsed: {cli:?}") };
        let Some(NetworkCommand::Connect(a)) = n.command else { panic!("not a connect") };
        assert_eq!(
            connect_body(&a),
            json!({"Container": "web", "EndpointConfig": {
                "IPAMConfig": {"IPv4Address": "192.168.100.20", "IPv6Address": "fd00::20"},
                "Aliases": ["cache", "kv", "c2"]}})
        );
    }
}
