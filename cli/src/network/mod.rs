//! `weft network ...`: help, argument checks, then the command itself.

pub mod args;
mod connect;
mod create;
mod inspect;
mod ipam;
mod list;
mod prune;
mod remove;

use clap::Command;

use super::args::{NetworkArgs, NetworkCommand};
use super::connect;
use super::console::Console;
use super::errors::CliError;
use super::help::{group_command, help};
use super::usage::{check_arity, Arity};

/// Runs one `network` command against the weftd at `host`.
pub fn run(console: &mut Console, root: &Command, args: NetworkArgs, host: &str) -> Result<(), CliError> {
    let path = |sub: &str| -> Vec<String> {
        ["weft", "network", sub].iter().filter(|s| !s.is_empty()).map(|s| s.to_string()).collect()
    };
    let Some(command) = group_command(console, root, "network", args.help.help, args.command) else { return Ok(()) };
    let (name, wants_help) = match &command {
        NetworkCommand::Connect(a) => ("connect", a.help.help),
        NetworkCommand::Create(a) => ("create", a.help.help),
        NetworkCommand::Disconnect(a) => ("disconnect", a.help.help),
        NetworkCommand::Inspect(a) => ("inspect", a.help.help),
        NetworkCommand::Ls(a) => ("ls", a.help.help),
        NetworkCommand::Prune(a) => ("prune", a.help.help),
        NetworkCommand::Rm(a) => ("rm", a.help.help),
    };
    if wants_help {
        console.out(&help(root, &path(name)));
        return Ok(());
    }
    let at = ["weft", "network", name];
    match command {
        NetworkCommand::Connect(a) => {
            check_arity(root, &at, &a.args, Arity::Exactly(2))?;
            connect::connect(&connect(host)?, &a)
        }
        NetworkCommand::Disconnect(a) => {
            check_arity(root, &at, &a.args, Arity::Exactly(2))?;
            connect::disconnect(&connect(host)?, &a)
        }
        NetworkCommand::Create(a) => {
            check_arity(root, &at, &a.args, Arity::Exactly(1))?;
            create::run(console, &connect(host)?, &a, &a.args[0])
        }
        NetworkCommand::Inspect(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            inspect::run(console, &connect(host)?, &a)
        }
        NetworkCommand::Ls(a) => {
            check_arity(root, &at, &a.args, Arity::None)?;
            list::run(console, &connect(host)?, &a)
        }
        NetworkCommand::Prune(a) => {
            check_arity(root, &at, &a.args, Arity::None)?;
            prune::run(console, &connect(host)?, &a)
        }
        NetworkCommand::Rm(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            remove::run(console, &connect(host)?, &a)
        }
    }
}
