//! `weft exec`: make an exec instance in a running container, start it over a hijacked
//! connection (or detached), and exit with its exit code, as Docker's CLI does.

use serde_json::{json, Value};

use super::run::env_entry;
use crate::args::ExecArgs;
use crate::client::{encode_component, Client};
use crate::console::Console;
use crate::errors::CliError;
use crate::{hijack, terminal};

/// The body of `POST /containers/{id}/exec` for these flags.
pub fn create_body(args: &ExecArgs, lookup: &dyn Fn(&str) -> Option<String>) -> Value {
    let attach = !args.detach;
    let mut body = json!({
        "AttachStdin": args.process.interactive && attach,
        "AttachStdout": attach,
        "AttachStderr": attach,
        "Tty": args.process.tty,
        "Detach": args.detach,
        "Cmd": args.args[1..],
        "Env": args.process.env.iter().map(|e| env_entry(e, lookup)).collect::<Vec<_>>(),
        "WorkingDir": args.process.workdir.clone().unwrap_or_default(),
    });
    if let Some(user) = args.user.as_deref().filter(|u| !u.is_empty()) {
        body["User"] = json!(user);
    }
    if args.privileged {
        body["Privileged"] = json!(true);
    }
    body
}

pub fn run(console: &mut Console, client: &Client, args: &ExecArgs) -> Result<(), CliError> {
    let container = &args.args[0];
    // As Docker: a missing container is said before anything else is made.
    client.get(&format!("/containers/{}/json", encode_component(container)))?;
    if !args.detach && args.process.interactive && args.process.tty && !terminal::stdin_is_terminal() {
        return Err(CliError::failed("the input device is not a TTY"));
    }
    let body = create_body(args, &|k| std::env::var(k).ok());
    let answer = client.post(&format!("/containers/{}/exec", encode_component(container)), Some(&body))?;
    let created: Value = serde_json::from_slice(&answer)
        .map_err(|e| CliError::failed(format!("unexpected answer from weftd to exec create: {e}")))?;
    let id = created.get("Id").and_then(Value::as_str).unwrap_or_default().to_string();
    if id.is_empty() {
        return Err(CliError::failed("unexpected answer from weftd to exec create: no Id"));
    }
    let exec = format!("/exec/{}", encode_component(&id));
    let start = json!({"Detach": args.detach, "Tty": args.process.tty});
    if args.detach {
        client.post(&format!("{exec}/start"), Some(&start))?;
        return Ok(());
    }
    let stream = hijack::hijack(client.socket(), &format!("{exec}/start"), &start)?;
    hijack::attach(console, client.socket(), stream, format!("{exec}/resize"), &args.process)?;
    let inspect: Value = serde_json::from_slice(&client.get(&format!("{exec}/json"))?)
        .map_err(|e| CliError::failed(format!("unexpected answer from weftd to exec inspect: {e}")))?;
    match inspect.get("ExitCode").and_then(Value::as_i64) {
        Some(0) | None => Ok(()),
        Some(code) => Err(CliError::with_code(i32::try_from(code).unwrap_or(1), "")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Cli, Command};
    use clap::Parser;

    fn exec_args(line: &str) -> ExecArgs {
        match Cli::try_parse_from(line.split(' ')) {
            Ok(Cli { command: Some(Command::Exec(a)), .. }) => a,
            other => panic!("not an exec: {other:?}"),
        }
    }

    #[test]
    fn flags_stop_at_the_container() {
        let a = exec_args("weft exec -it -e A=1 -w /tmp c sh -c echo -i");
        assert!(a.process.interactive && a.process.tty && !a.detach);
        assert_eq!(a.args, ["c", "sh", "-c", "echo", "-i"]);
        let body = create_body(&a, &|_| None);
        assert_eq!(
            body,
            json!({"AttachStdin": true, "AttachStdout": true, "AttachStderr": true, "Tty": true, "Detach": false,
                   "Cmd": ["sh", "-c", "echo", "-i"], "Env": ["A=1"], "WorkingDir": "/tmp"})
        );
    }

    #[test]
    fn detached_execs_attach_nothing() {
        let body = create_body(&exec_args("weft exec -d -i c sleep 9"), &|_| None);
        assert_eq!((body["AttachStdin"].clone(), body["AttachStdout"].clone()), (json!(false), json!(false)));
    }
}
