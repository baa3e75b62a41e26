//! `weft network rm`: removes networks one by one, reporting each failure as Docker does.

use crate::args::RemoveArgs;
use crate::client::{encode_component, Client};
use crate::console::Console;
use crate::errors::CliError;

/// Docker asks before removing the routing-mesh network of a swarm.
const INGRESS_WARNING: &str = "WARNING! Before removing the routing-mesh network, make sure all the nodes \
in your swarm run the same docker engine version. Otherwise, removal may not be effective and functionality \
of newly create ingress networks will be impaired.\nAre you sure you want to continue?";

/// Removes each network, printing its name; the failures are printed as they come and make the
/// exit code 1 (with Docker's final `exit status 1`). `--force` ignores networks that do not exist.
pub fn run(console: &mut Console, client: &Client, args: &RemoveArgs) -> Result<(), CliError> {
    let mut failed = false;
    for name in &args.args {
        let path = format!("/networks/{}", encode_component(name));
        let ingress = client
            .get(&path)
            .ok()
            .and_then(|body| serde_json::from_slice::<serde_json::Value>(&body).ok())
            .and_then(|n| n.get("Ingress").and_then(serde_json::Value::as_bool))
            .unwrap_or(false);
        if ingress && !console.confirm(INGRESS_WARNING) {
            continue;
        }
        match client.delete(&path) {
            Ok(_) => console.out(&format!("{name}\n")),
            Err(e) if args.force && e.is_not_found() => {}
            // Said once, not once per network.
            Err(e) if e.is_connect() => return Err(e.into()),
            Err(e) => {
                console.err(&format!("{e}\n"));
                failed = true;
            }
        }
    }
    if failed {
        return Err(CliError::failed("exit status 1"));
    }
    Ok(())
}
