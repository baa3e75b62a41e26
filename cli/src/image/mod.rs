//! The image commands: `weft image import|load|ls|rm|inspect`, and `weft images`, `weft rmi`,
//! `weft import`, `weft load`, over the Docker Engine API's image routes.

pub mod args;
mod list;
mod remove;
mod upload;

use clap::Command;

use self::args::{ImageArgs, ImageCommand};
use super::connect;
use super::console::Console;
use super::errors::CliError;
use super::help::{group_command, help};
use super::usage::{check_arity, use_line, Arity};

/// Runs `weft image ...`.
pub fn run_group(console: &mut Console, root: &Command, args: ImageArgs, host: &str) -> Result<(), CliError> {
    match group_command(console, root, "image", args.help.help, args.command) {
        Some(command) => run(console, root, command, host, true),
        None => Ok(()),
    }
}

/// The command's name under `weft image`, and at the top level.
fn names(command: &ImageCommand) -> (&'static str, &'static str) {
    match command {
        ImageCommand::Import(_) => ("import", "import"),
        ImageCommand::Inspect(_) => ("inspect", "inspect"),
        ImageCommand::Load(_) => ("load", "load"),
        ImageCommand::Ls(_) => ("ls", "images"),
        ImageCommand::Rm(_) => ("rm", "rmi"),
    }
}

/// `weft: 'weft image import' requires at least 1 and at most 2 arguments`, as Docker words it.
fn check_range(root: &Command, path: &[&str], args: &[String], min: usize, max: usize) -> Result<(), CliError> {
    if (min..=max).contains(&args.len()) {
        return Ok(());
    }
    let owned: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    let usage = use_line(super::usage::find(root, &owned), &owned);
    let text = path.join(" ");
    let wanted = if min == 0 { format!("at most {max}") } else { format!("at least {min} and at most {max}") };
    Err(CliError::failed(format!(
        "{}: '{text}' requires {wanted} arguments\n\nUsage:  {usage}\n\nSee '{text} --help' for more information",
        path[0]
    )))
}

/// Runs one image command; `in_group` when spelled `weft image <name>`.
pub fn run(
    console: &mut Console,
    root: &Command,
    command: ImageCommand,
    host: &str,
    in_group: bool,
) -> Result<(), CliError> {
    let (group_name, top_name) = names(&command);
    let path: Vec<String> = if in_group {
        vec!["weft".into(), "image".into(), group_name.into()]
    } else {
        vec!["weft".into(), top_name.into()]
    };
    let wants_help = match &command {
        ImageCommand::Import(a) => a.help.help,
        ImageCommand::Inspect(a) => a.help.help,
        ImageCommand::Load(a) => a.help.help,
        ImageCommand::Ls(a) => a.help.help,
        ImageCommand::Rm(a) => a.help.help,
    };
    if wants_help {
        console.out(&help(root, &path));
        return Ok(());
    }
    let at: Vec<&str> = path.iter().map(String::as_str).collect();
    match command {
        ImageCommand::Import(a) => {
            check_range(root, &at, &a.args, 1, 2)?;
            upload::import(console, &connect(host)?, &a)
        }
        ImageCommand::Load(a) => {
            check_arity(root, &at, &a.args, Arity::None)?;
            upload::load(console, &connect(host)?, &a)
        }
        ImageCommand::Ls(a) => {
            check_range(root, &at, &a.args, 0, 1)?;
            list::run(console, &connect(host)?, &a)
        }
        ImageCommand::Rm(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            remove::rm(console, &connect(host)?, &a)
        }
        ImageCommand::Inspect(a) => {
            check_arity(root, &at, &a.args, Arity::AtLeast(1))?;
            remove::inspect(console, &connect(host)?, &a)
        }
    }
}
