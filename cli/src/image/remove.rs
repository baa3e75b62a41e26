//! `weft image rm` / `weft rmi` (`Untagged:` and `Deleted:` lines, as Docker prints them) and
//! `weft image inspect`.

use serde_json::Value;

use super::args::{ImageInspectArgs, ImageRmArgs};
use crate::client::{encode_component, Client};
use crate::console::Console;
use crate::errors::CliError;
use crate::format::gotypes::raw;
use crate::format::{write_inspect, InspectFormat, RawObject};

pub fn rm(console: &mut Console, client: &Client, args: &ImageRmArgs) -> Result<(), CliError> {
    let query = if args.force { "?force=1" } else { "" };
    let mut errors = Vec::new();
    for name in &args.args {
        match client.delete(&format!("/images/{}{query}", encode_component(name))) {
            Ok(body) => {
                let items: Vec<Value> = serde_json::from_slice(&body).unwrap_or_default();
                for item in items {
                    for key in ["Untagged", "Deleted"] {
                        if let Some(v) = item.get(key).and_then(Value::as_str) {
                            console.out(&format!("{key}: {v}\n"));
                        }
                    }
                }
            }
            Err(e) if e.is_connect() => return Err(e.into()),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CliError::failed(errors.join("\n")))
    }
}

pub fn inspect(console: &mut Console, client: &Client, args: &ImageInspectArgs) -> Result<(), CliError> {
    let format = InspectFormat::parse(args.format.as_deref().unwrap_or(""))?;
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    for name in &args.args {
        match RawObject::fetch(client, &format!("/images/{}/json", encode_component(name)), name) {
            Ok(object) => objects.push(object),
            Err(e) if e.is_connect() => return Err(e.into()),
            Err(e) if e.is_not_found() => errors.push(format!("Error: No such image: {name}")),
            Err(e) => errors.push(e.to_string()),
        }
    }
    let (out, template_errors) = match &format {
        // Images have no typed Go struct here: templates run over the JSON as it came.
        InspectFormat::Template(template) => {
            let mut out = String::new();
            let mut errs = Vec::new();
            for (i, object) in objects.iter().enumerate() {
                match template.render(&raw(&object.json)) {
                    Ok(text) => {
                        out.push_str(&text);
                        out.push('\n');
                    }
                    Err(e) => errs.push((i, format!("template parsing error: {e}"))),
                }
            }
            (out, errs)
        }
        other => write_inspect(other, &objects, None),
    };
    console.out(&out);
    errors.extend(template_errors.into_iter().map(|(_, e)| e));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CliError::failed(errors.join("\n")))
    }
}
