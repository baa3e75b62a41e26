//! `weft plugin ls`: the drivers weftd can use — built in, or remote plugins with their socket —
//! from weftd's `GET /drivers`. (`weft plugin serve` is in `plugin_serve`.)

use clap::Command;
use serde_json::Value;

use super::args::{PluginArgs, PluginCommand};
use super::connect;
use super::console::Console;
use super::errors::CliError;
use super::format::tabwriter;
use super::help::{group_command, help};
use super::usage::{check_arity, Arity};

/// Runs one `plugin` command against the weftd at `host`.
pub fn run(console: &mut Console, root: &Command, args: PluginArgs, host: &str) -> Result<(), CliError> {
    let path = |sub: &str| -> Vec<String> {
        ["weft", "plugin", sub].iter().filter(|s| !s.is_empty()).map(|s| s.to_string()).collect()
    };
    let a = match group_command(console, root, "plugin", args.help.help, args.command) {
        Some(PluginCommand::Ls(a)) => a,
        Some(PluginCommand::Serve(a)) => return super::plugin_serve::run(console, root, a),
        None => return Ok(()),
    };
    if a.help.help {
        console.out(&help(root, &path("ls")));
        return Ok(());
    }
    check_arity(root, &["weft", "plugin", "ls"], &a.args, Arity::None)?;
    let body = connect(host)?.get("/drivers")?;
    let drivers: Vec<Value> = serde_json::from_slice(&body)
        .map_err(|e| CliError::failed(format!("unexpected answer from weftd to plugin ls: {e}")))?;
    console.out(&table(&drivers, a.quiet));
    Ok(())
}

/// NAME, KIND, IMPLEMENTS, VERSION (a library's interface version), ADDRESS (a library's path or
/// a remote plugin's socket), and ERROR when a driver cannot be used.
fn table(drivers: &[Value], quiet: bool) -> String {
    let s = |d: &Value, k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    if quiet {
        return drivers.iter().map(|d| format!("{}\n", s(d, "Name"))).collect();
    }
    let errors = drivers.iter().any(|d| !s(d, "Error").is_empty());
    let mut text = String::from("NAME\tKIND\tIMPLEMENTS\tVERSION\tADDRESS");
    text.push_str(if errors { "\tERROR\n" } else { "\n" });
    for d in drivers {
        let implements: Vec<&str> = d
            .get("Implements")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let cell = |v: String| if v.is_empty() { "-".to_string() } else { v };
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}",
            s(d, "Name"),
            s(d, "Kind"),
            cell(implements.join(",")),
            cell(s(d, "Version")),
            cell(s(d, "Address"))
        ));
        if errors {
            text.push_str(&format!("\t{}", s(d, "Error")));
        }
        text.push('\n');
    }
    tabwriter::align(&text, 10, 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shows_kind_and_socket() {
        let d: Vec<Value> = serde_json::from_str(
            r#"[{"Name":"bridge","Kind":"built-in","Implements":["NetworkDriver"],"Address":"","Error":""},
                {"Name":"tnet","Kind":"remote","Implements":["NetworkDriver"],"Address":"unix:///p/tnet.sock","Error":""}]"#,
        )
        .unwrap();
        let t = table(&d, false);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["NAME", "KIND", "IMPLEMENTS", "VERSION", "ADDRESS"]
        );
        assert_eq!(lines[1].split_whitespace().collect::<Vec<_>>(), ["bridge", "built-in", "NetworkDriver", "-", "-"]);
        assert_eq!(
            lines[2].split_whitespace().collect::<Vec<_>>(),
            ["tnet", "remote", "NetworkDriver", "-", "unix:///p/tnet.sock"]
        );
        assert_eq!(table(&d, true), "bridge\ntnet\n");
    }
}
