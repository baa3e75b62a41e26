//! The container commands: `weft run`, `ps`, `rm`, `stop`, `kill`, `start`, `restart`, `wait`, `logs`,
//! `inspect`, `port`, and the same under `weft container ...`, over the Docker Engine API's container routes.

pub mod args;
mod exec;
mod inspect;
mod lifecycle;
pub mod logs;
mod port;
pub(crate) mod ps;
mod run;

use clap::Command;

use super::args::{ContainerArgs, ContainerCommand};
use super::connect;
use super::console::Console;
use super::errors::CliError;
use super::help::{group_command, help};
use super::usage::{check_arity, Arity};

/// Runs `weft container ...`.
pub fn run_group(console: &mut Console, root: &Command, args: ContainerArgs, host: &str) -> Result<(), CliError> {
    match group_command(console, root, "container", args.help.help, args.command) {
        Some(command) => run(console, root, command, host, true),
        None => Ok(()),
    }
}

/// The name of a command under `weft container`, and its name at the top level (if any).
fn names(command: &ContainerCommand) -> (&'static str, &'static str) {
    match command {
        ContainerCommand::Exec(_) => ("exec", "exec"),
        ContainerCommand::Inspect(_) => ("inspect", "inspect"),
        ContainerCommand::Kill(_) => ("kill", "kill"),
        ContainerCommand::Logs(_) => ("logs", "logs"),
        ContainerCommand::Ls(_) => ("ls", "ps"),
        ContainerCommand::Port(_) => ("port", "port"),
        ContainerCommand::Rm(_) => ("rm", "rm"),
        ContainerCommand::Restart(_) => ("restart", "restart"),
        ContainerCommand::Run(_) => ("run", "run"),
        ContainerCommand::Create(_) => ("create", "create"),
        ContainerCommand::Start(_) => ("start", "start"),
        ContainerCommand::Stop(_) => ("stop", "stop"),
        ContainerCommand::Wait(_) => ("wait", "wait"),
    }
}

/// Docker's `Aliases:` line of each command: the group's names, then the top-level one.
fn aliases(group_name: &str) -> &'static str {
    match group_name {
        "exec" => "weft container exec, weft exec",
        "ls" => "weft container ls, weft container list, weft container ps, weft ps",
        "port" => "weft container port, weft port",
        "rm" => "weft container rm, weft container remove, weft rm",
        "restart" => "weft container restart, weft restart",
        "run" => "weft container run, weft run",
        "create" => "weft container create, weft create",
        "kill" => "weft container kill, weft kill",
        "logs" => "weft container logs, weft logs",
        "start" => "weft container start, weft start",
        "stop" => "weft container stop, weft stop",
        "wait" => "weft container wait, weft wait",
        _ => "",
    }
}

/// The help page of a container command, with Docker's `Aliases:` section naming both spellings.
fn help_page(root: &Command, path: &[String], group_name: &str) -> String {
    let page = help(root, path);
    let aliases = aliases(group_name);
    // `weft inspect` is not `weft container inspect` (it inspects any object): no aliases.
    if aliases.is_empty() || (path.len() == 2 && group_name == "inspect") {
        return page;
    }
    // Split without the final newline, so a page with no options section (`wait`, `port`) gets
    // the aliases last, then the newline.
    let mut parts: Vec<&str> = page.trim_end_matches('\n').split("\n\n").collect();
    parts.retain(|p| !p.starts_with("Aliases:"));
    let section = format!("Aliases:\n  {aliases}");
    let at = parts.len().min(2);
    parts.insert(at, &section);
    parts.join("\n\n") + "\n"
}

/// Runs one container command; `in_group` when spelled `weft container <name>`.
pub fn run(
    console: &mut Console,
    root: &Command,
    command: ContainerCommand,
    host: &str,
    in_group: bool,
) -> Result<(), CliError> {
    let (group_name, top_name) = names(&command);
    let path: Vec<String> = if in_group {
        vec!["weft".into(), "container".into(), group_name.into()]
    } else {
        vec!["weft".into(), top_name.into()]
    };
    let wants_help = match &command {
        ContainerCommand::Exec(a) => a.help.help,
        ContainerCommand::Inspect(a) => a.help.help,
        ContainerCommand::Kill(a) => a.help.help,
        ContainerCommand::Logs(a) => a.help.help,
        ContainerCommand::Ls(a) => a.help.help,
        ContainerCommand::Port(a) => a.help.help,
        ContainerCommand::Rm(a) => a.help.help,
        ContainerCommand::Restart(a) => a.help.help,
        ContainerCommand::Run(a) => a.help,
        ContainerCommand::Create(a) => a.help,
        ContainerCommand::Start(a) => a.help.help,
        ContainerCommand::Stop(a) => a.help.help,
        ContainerCommand::Wait(a) => a.help.help,
    };
    if wants_help {
        console.out(&help_page(root, &path, group_name));
        return Ok(());
    }
    let at: Vec<&str> = path.iter().map(String::as_str).collect();
    match command {
        ContainerCommand::Exec(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(2))?;
            exec::run(console, &connect(host)?, &a)
        }
        ContainerCommand::Create(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            run::create(console, &connect(host)?, &a)
        }
        ContainerCommand::Run(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            run::run(console, &connect(host)?, &a)
        }
        ContainerCommand::Ls(a) => {
            check_arity(root, &at, &a.args, Arity::None)?;
            ps::run(console, &connect(host)?, &a)
        }
        ContainerCommand::Port(a) => {
            check_arity(root, &at, &a.args, Arity::Range(1, 2))?;
            port::run(console, &connect(host)?, &a)
        }
        ContainerCommand::Rm(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            lifecycle::rm(console, &connect(host)?, &a)
        }
        ContainerCommand::Stop(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            lifecycle::stop(console, &connect(host)?, &a)
        }
        ContainerCommand::Restart(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            lifecycle::restart(console, &connect(host)?, &a)
        }
        ContainerCommand::Kill(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            lifecycle::kill(console, &connect(host)?, &a)
        }
        ContainerCommand::Start(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            lifecycle::start(console, &connect(host)?, &a)
        }
        ContainerCommand::Wait(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            lifecycle::wait(console, &connect(host)?, &a)
        }
        ContainerCommand::Logs(a) => {
            check_arity(root, &at, &a.args, Arity::Exactly(1))?;
            logs::run(console, &connect(host)?, &a)
        }
        ContainerCommand::Inspect(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            inspect::run(console, &connect(host)?, &a, in_group)
        }
    }
}
