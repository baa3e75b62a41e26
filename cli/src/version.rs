//! `weft version`: the client's version, and the daemon's as `GET /version` reports it.

use clap::Command;
use serde_json::Value;

use super::args::VersionArgs;
use super::connect;
use super::console::Console;
use super::errors::CliError;
use super::format::tabwriter;
use super::help::help;
use super::usage::{check_arity, Arity};

/// The API version this client was written against: the one weftd serves.
const CLIENT_API_VERSION: &str = weft_api::API_VERSION;

/// Go's name of this machine's architecture, as Docker prints it.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// Prints the versions; an unreachable daemon is an error after the client's part, as with Docker.
pub fn run(console: &mut Console, root: &Command, args: VersionArgs, host: &str) -> Result<(), CliError> {
    if args.help.help {
        console.out(&help(root, &["weft".to_string(), "version".to_string()]));
        return Ok(());
    }
    check_arity(root, &["weft", "version"], &args.args, Arity::None)?;
    let mut text = format!(
        "Client:\n Version:\t{}\n API version:\t{CLIENT_API_VERSION}\n OS/Arch:\t{}/{}",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        go_arch()
    );
    let server = connect(host).and_then(|client| {
        let body = client.get("/version")?;
        serde_json::from_slice::<Value>(&body)
            .map_err(|e| CliError::failed(format!("unexpected answer from weftd to version: {e}")))
    });
    let result = match server {
        Ok(version) => {
            text.push_str(&server_text(&version));
            Ok(())
        }
        Err(e) => Err(e),
    };
    text.push('\n');
    console.out(&tabwriter::align(&text, 20, 1));
    result
}

/// The `Server:` part of Docker's version template.
fn server_text(v: &Value) -> String {
    let s = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let mut out = String::from("\n\nServer:");
    let platform = v.get("Platform").map(|p| s(p, "Name")).unwrap_or_default();
    if !platform.is_empty() {
        out.push(' ');
        out.push_str(&platform);
    }
    let engine = |out: &mut String, d: &Value| {
        out.push_str(&format!("\n  Version:\t{}", s(v, "Version")));
        let min = s(d, "MinAPIVersion");
        out.push_str(&format!("\n  API version:\t{}", s(d, "ApiVersion")));
        if !min.is_empty() {
            out.push_str(&format!(" (minimum version {min})"));
        }
        for (label, key) in [("Go version", "GoVersion"), ("Git commit", "GitCommit"), ("Built", "BuildTime")] {
            let value = s(d, key);
            if !value.is_empty() {
                out.push_str(&format!("\n  {label}:\t{value}"));
            }
        }
        out.push_str(&format!("\n  OS/Arch:\t{}/{}", s(d, "Os"), s(d, "Arch")));
    };
    match v.get("Components").and_then(Value::as_array).filter(|c| !c.is_empty()) {
        Some(components) => {
            for c in components {
                let name = s(c, "Name");
                out.push_str(&format!("\n {name}:"));
                if name == "Engine" {
                    engine(&mut out, c.get("Details").unwrap_or(&Value::Null));
                    continue;
                }
                out.push_str(&format!("\n  Version:\t{}", s(c, "Version")));
                if let Some(details) = c.get("Details").and_then(Value::as_object) {
                    // Docker lists other components' details in key order.
                    let mut keys: Vec<&String> = details.keys().collect();
                    keys.sort();
                    for k in keys {
                        out.push_str(&format!("\n  {k}:\t{}", details[k].as_str().unwrap_or("")));
                    }
                }
            }
        }
        None => {
            out.push_str("\n Engine:");
            engine(&mut out, v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_part_of_a_plain_engine() {
        let v =
            json!({"Version": "0.1.0", "ApiVersion": "1.45", "MinAPIVersion": "1.24", "Os": "linux", "Arch": "amd64"});
        let text = tabwriter::align(&format!("Client:\n Version:\t0.1.0{}\n", server_text(&v)), 20, 1);
        assert_eq!(
            text,
            "Client:\n Version:           0.1.0\n\nServer:\n Engine:\n  Version:          0.1.0\n  API version:      1.45 (minimum version 1.24)\n  OS/Arch:          linux/amd64\n"
        );
    }

    #[test]
    fn server_part_with_components() {
        let v = json!({"Platform": {"Name": "weft"}, "Version": "0.1.0",
                       "Components": [{"Name": "weftd", "Version": "0.1.0", "Details": {"ApiVersion": "1.45"}}]});
        assert_eq!(server_text(&v), "\n\nServer: weft\n weftd:\n  Version:\t0.1.0\n  ApiVersion:\t1.45");
    }
}
