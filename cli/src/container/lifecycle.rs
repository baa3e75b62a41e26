//! `weft rm`, `stop`, `restart`, `kill`, `start` and `wait`: one request per container, each name printed
//! when done; the failures are printed together at the end (exit code 1), as Docker's CLI does.

use serde_json::Value;

use crate::args::{ContainerRmArgs, KillArgs, StartArgs, StopArgs, WaitArgs};
use crate::client::{encode_component, Client};
use crate::console::Console;
use crate::errors::{CliError, ClientError};

/// Runs `act` on each container; prints what it returns on success; joins the errors.
fn each(
    console: &mut Console,
    names: &[String],
    mut act: impl FnMut(&mut Console, &str) -> Result<Option<String>, ClientError>,
) -> Result<(), CliError> {
    let mut errors = Vec::new();
    for name in names {
        match act(console, name) {
            Ok(Some(line)) => console.out(&format!("{line}\n")),
            Ok(None) => {}
            // Said once, not once per container.
            Err(e) if e.is_connect() => return Err(e.into()),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(CliError::failed(errors.join("\n")))
}

fn container_path(name: &str) -> String {
    format!("/containers/{}", encode_component(name))
}

/// `weft rm [-f]`: `DELETE /containers/{id}[?force=1]`. With `-f`, a container that does not
/// exist is said on stderr but is no failure, as with Docker.
pub fn rm(console: &mut Console, client: &Client, args: &ContainerRmArgs) -> Result<(), CliError> {
    let query = if args.force { "?force=1" } else { "" };
    each(console, &args.args, |console, name| match client.delete(&format!("{}{query}", container_path(name))) {
        Ok(_) => Ok(Some(name.to_string())),
        Err(e) if args.force && e.is_not_found() => {
            console.err(&format!("{e}\n"));
            Ok(None)
        }
        Err(e) => Err(e),
    })
}

/// The query of `stop`: `?signal=S&t=N`, each when given.
fn stop_query(args: &StopArgs) -> String {
    let mut parts = Vec::new();
    if let Some(signal) = args.signal.as_deref().filter(|s| !s.is_empty()) {
        parts.push(format!("signal={}", encode_component(signal)));
    }
    if let Some(t) = args.timeout {
        parts.push(format!("t={t}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// `weft stop [-s SIGNAL] [-t N]`: `POST /containers/{id}/stop`.
pub fn stop(console: &mut Console, client: &Client, args: &StopArgs) -> Result<(), CliError> {
    let query = stop_query(args);
    each(console, &args.args, |_, name| {
        client.post(&format!("{}/stop{query}", container_path(name)), None).map(|_| Some(name.to_string()))
    })
}

/// `weft restart [-s SIGNAL] [-t N]`: `POST /containers/{id}/restart`.
pub fn restart(console: &mut Console, client: &Client, args: &StopArgs) -> Result<(), CliError> {
    let query = stop_query(args);
    each(console, &args.args, |_, name| {
        client.post(&format!("{}/restart{query}", container_path(name)), None).map(|_| Some(name.to_string()))
    })
}

/// `weft kill [-s SIGNAL]`: `POST /containers/{id}/kill`.
pub fn kill(console: &mut Console, client: &Client, args: &KillArgs) -> Result<(), CliError> {
    let query = match args.signal.as_deref().filter(|s| !s.is_empty()) {
        Some(signal) => format!("?signal={}", encode_component(signal)),
        None => String::new(),
    };
    each(console, &args.args, |_, name| {
        client.post(&format!("{}/kill{query}", container_path(name)), None).map(|_| Some(name.to_string()))
    })
}

/// `weft start`: `POST /containers/{id}/start`.
pub fn start(console: &mut Console, client: &Client, args: &StartArgs) -> Result<(), CliError> {
    each(console, &args.args, |_, name| {
        client.post(&format!("{}/start", container_path(name)), None).map(|_| Some(name.to_string()))
    })
}

/// `POST /containers/{id}/wait`: the container's exit code, once it has stopped.
pub fn wait_code(client: &Client, name: &str) -> Result<i64, ClientError> {
    exit_code(&client.post(&format!("{}/wait", container_path(name)), None)?)
}

/// The exit code in the answer of `wait`.
fn exit_code(body: &[u8]) -> Result<i64, ClientError> {
    let answer: Value = serde_json::from_slice(body)
        .map_err(|e| ClientError::Protocol(format!("unexpected answer from weftd to wait: {e}")))?;
    if let Some(message) = answer.pointer("/Error/Message").and_then(Value::as_str).filter(|m| !m.is_empty()) {
        return Err(ClientError::Protocol(message.to_string()));
    }
    answer
        .get("StatusCode")
        .and_then(Value::as_i64)
        .ok_or_else(|| ClientError::Protocol("unexpected answer from weftd to wait: no StatusCode".to_string()))
}

/// `weft wait`: each container's exit code, once it has stopped.
pub fn wait(console: &mut Console, client: &Client, args: &WaitArgs) -> Result<(), CliError> {
    each(console, &args.args, |_, name| wait_code(client, name).map(|code| Some(code.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_queries() {
        let args = |signal: Option<&str>, timeout: Option<i64>| StopArgs {
            signal: signal.map(String::from),
            timeout,
            help: Default::default(),
            args: vec![],
        };
        assert_eq!(stop_query(&args(None, None)), "");
        assert_eq!(stop_query(&args(None, Some(3))), "?t=3");
        assert_eq!(stop_query(&args(Some("SIGUSR1"), Some(0))), "?signal=SIGUSR1&t=0");
    }
}
