//! `weft network inspect`: networks as JSON, or through a Go template.

use crate::args::InspectArgs;
use crate::client::{encode_component, Client};
use crate::console::Console;
use crate::errors::CliError;
use crate::format::gotypes::NETWORK_INSPECT;
use crate::format::{InspectFormat, Inspection, RawObject};

/// Prints the networks found; each one not found, or failing the template, is an error printed
/// after them, as Docker does.
pub fn run(console: &mut Console, client: &Client, args: &InspectArgs) -> Result<(), CliError> {
    let format = InspectFormat::parse(args.format.as_deref().unwrap_or(""))?;
    let query = if args.verbose { "?verbose=true" } else { "" };

    let mut inspection = Inspection::default();
    for (position, name) in args.args.iter().enumerate() {
        let path = format!("/networks/{}{query}", encode_component(name));
        let found = RawObject::fetch(client, &path, &format!("network {name}"));
        inspection.answer(position, found, || format!("Error: No such network: {name}"))?;
    }
    inspection.print(console, &format, Some(&NETWORK_INSPECT))
}
