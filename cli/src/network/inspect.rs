//! `weft network inspect`: networks as JSON, or through a Go template.

use crate::args::InspectArgs;
use crate::client::{encode_component, Client};
use crate::console::Console;
use crate::errors::CliError;
use crate::format::gotypes::NETWORK_INSPECT;
use crate::format::{write_inspect, InspectFormat, RawObject};

/// Prints the networks found; each one not found, or failing the template, is an error printed
/// after them, as Docker does.
pub fn run(console: &mut Console, client: &Client, args: &InspectArgs) -> Result<(), CliError> {
    let format = InspectFormat::parse(args.format.as_deref().unwrap_or(""))?;
    let query = if args.verbose { "?verbose=true" } else { "" };

    let mut objects = Vec::new();
    // Where each fetched object stands among the names, to keep the errors in that order.
    let mut positions = Vec::new();
    let mut errors: Vec<(usize, String)> = Vec::new();
    for (position, name) in args.args.iter().enumerate() {
        match client.get(&format!("/networks/{}{query}", encode_component(name))) {
            Ok(body) => {
                let text = String::from_utf8_lossy(&body).into_owned();
                match serde_json::from_str(&text) {
                    Ok(json) => {
                        objects.push(RawObject { text, json });
                        positions.push(position);
                    }
                    Err(e) => errors.push((position, format!("unexpected answer from weftd for network {name}: {e}"))),
                }
            }
            // Said once, not once per network.
            Err(e) if e.is_connect() => return Err(e.into()),
            // Docker's client words a missing object this way.
            Err(e) if e.is_not_found() => errors.push((position, format!("Error: No such network: {name}"))),
            Err(e) => errors.push((position, e.to_string())),
        }
    }

    let (out, template_errors) = write_inspect(&format, &objects, &NETWORK_INSPECT);
    console.out(&out);
    errors.extend(template_errors.into_iter().map(|(i, e)| (positions.get(i).copied().unwrap_or(usize::MAX), e)));
    if errors.is_empty() {
        return Ok(());
    }
    errors.sort_by_key(|(position, _)| *position);
    Err(CliError::failed(errors.into_iter().map(|(_, e)| e).collect::<Vec<_>>().join("\n")))
}
