//! `weft inspect` and `weft container inspect`: containers as JSON (indented as `network inspect`
//! prints networks), or through a Go template. `weft inspect` also finds networks, as Docker's
//! `inspect` finds any object.

use crate::args::ContainerInspectArgs;
use crate::client::{encode_component, Client};
use crate::console::Console;
use crate::errors::CliError;
use crate::format::{InspectFormat, Inspection, RawObject};

/// Prints the objects found; each one not found, or failing the template, is an error printed
/// after them, as Docker does.
pub fn run(
    console: &mut Console,
    client: &Client,
    args: &ContainerInspectArgs,
    containers_only: bool,
) -> Result<(), CliError> {
    let format = InspectFormat::parse(args.format.as_deref().unwrap_or(""))?;
    let kind = args.kind.as_deref().unwrap_or("");
    if !matches!(kind, "" | "container" | "network") {
        return Err(CliError::failed(format!("\"{kind}\" is not a valid value for --type")));
    }
    let (want_containers, want_networks) = match (containers_only, kind) {
        (true, _) => (true, false),
        (false, "container") => (true, false),
        (false, "network") => (false, true),
        _ => (true, true),
    };
    let missing = |name: &str| match (containers_only, kind) {
        (true, _) | (false, "container") => format!("Error: No such container: {name}"),
        (false, "network") => format!("Error: No such network: {name}"),
        _ => format!("Error: No such object: {name}"),
    };

    let mut inspection = Inspection::default();
    for (position, name) in args.args.iter().enumerate() {
        let container = || RawObject::fetch(client, &format!("/containers/{}/json", encode_component(name)), name);
        let network = || RawObject::fetch(client, &format!("/networks/{}", encode_component(name)), name);
        let found = match want_containers.then(container) {
            Some(Err(e)) if want_networks && e.is_not_found() => network(),
            Some(answer) => answer,
            None => network(),
        };
        inspection.answer(position, found, || missing(name))?;
    }
    // Containers have no typed Go struct here: templates run over the JSON as it came.
    inspection.print(console, &format, None)
}
