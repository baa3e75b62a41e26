//! `weft inspect` and `weft container inspect`: containers as JSON (indented as `network inspect`
//! prints networks), or through a Go template. `weft inspect` also finds networks, as Docker's
//! `inspect` finds any object.

use crate::args::ContainerInspectArgs;
use crate::client::{encode_component, Client};
use crate::console::Console;
use crate::errors::{CliError, ClientError};
use crate::format::gotypes::{raw, NETWORK_INSPECT};
use crate::format::{write_inspect, InspectFormat, RawObject};

fn fetch(client: &Client, path: &str, name: &str) -> Result<RawObject, ClientError> {
    let body = client.get(path)?;
    let text = String::from_utf8_lossy(&body).into_owned();
    let json = serde_json::from_str(&text)
        .map_err(|e| ClientError::Protocol(format!("unexpected answer from weftd for {name}: {e}")))?;
    Ok(RawObject { text, json })
}

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

    let mut objects = Vec::new();
    let mut positions = Vec::new();
    let mut errors: Vec<(usize, String)> = Vec::new();
    for (position, name) in args.args.iter().enumerate() {
        let mut found = Err(None);
        if want_containers {
            found = fetch(client, &format!("/containers/{}/json", encode_component(name)), name).map_err(Some);
        }
        if want_networks && matches!(&found, Err(None))
            || matches!(&found, Err(Some(e)) if want_networks && e.is_not_found())
        {
            found = fetch(client, &format!("/networks/{}", encode_component(name)), name).map_err(Some);
        }
        match found {
            Ok(object) => {
                objects.push(object);
                positions.push(position);
            }
            // Said once, not once per object.
            Err(Some(e)) if e.is_connect() => return Err(e.into()),
            Err(Some(e)) if !e.is_not_found() => errors.push((position, e.to_string())),
            Err(_) => errors.push((position, missing(name))),
        }
    }

    let (out, template_errors) = match &format {
        // Containers have no typed Go struct here: templates run over the JSON as it came.
        InspectFormat::Template(template) => {
            let mut out = String::new();
            let mut errs = Vec::new();
            for (index, object) in objects.iter().enumerate() {
                match template.render(&raw(&object.json)) {
                    Ok(text) => {
                        out.push_str(&text);
                        out.push('\n');
                    }
                    Err(e) => errs.push((index, format!("template parsing error: {e}"))),
                }
            }
            if out.is_empty() {
                out.push('\n');
            }
            (out, errs)
        }
        other => write_inspect(other, &objects, &NETWORK_INSPECT),
    };
    console.out(&out);
    errors.extend(template_errors.into_iter().map(|(i, e)| (positions.get(i).copied().unwrap_or(usize::MAX), e)));
    if errors.is_empty() {
        return Ok(());
    }
    errors.sort_by_key(|(position, _)| *position);
    Err(CliError::failed(errors.into_iter().map(|(_, e)| e).collect::<Vec<_>>().join("\n")))
}
