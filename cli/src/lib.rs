//! The `weft` command line: Docker's `network` and container commands, and `version`, over weftd's API.
//!
//! Flags, output and exit codes follow Docker's CLI (28.x): exit 125 for a flag error, 1 for a
//! wrong number of arguments or a failed command, 0 otherwise.
//!
//! A crate of its own, so that a user's command does not link the daemon: what it shares with
//! weftd (the API's version and socket, the checks of `--add-host`, `--dns`, `--dns-search` and
//! `--link`) is `weft_api`'s. Only `weft plugin serve`, which runs a driver in this process, needs
//! `libnet` (the driver trait), `plugins` (the driver library loader) and `driver-remote` (the
//! plugin protocol's server).

pub mod args;
pub mod client;
pub mod console;
pub(crate) mod container;
pub mod errors;
pub mod filters;
pub mod format;
pub mod help;
mod hijack;
mod image;
mod network;
mod plugin;
mod plugin_drivers;
mod plugin_serve;
mod terminal;
pub mod usage;
mod version;

#[cfg(test)]
mod tests;

use clap::{CommandFactory, FromArgMatches};

use self::args::{Cli, Command, ContainerCommand};
use self::client::{socket_path, Client, DEFAULT_HOST};
use self::console::Console;
pub use self::errors::CliError;
use self::image::args::ImageCommand;

/// Runs `weft` with the process's arguments and standard streams; returns the exit code.
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect();
    let (mut out, mut err, mut input) = (std::io::stdout().lock(), std::io::stderr().lock(), std::io::stdin().lock());
    run(&args, &mut Console::new(&mut out, &mut err, &mut input))
}

/// Runs `weft` with `args` (the program name first); prints the error, if any, and returns the
/// exit code.
pub fn run(args: &[String], console: &mut Console) -> i32 {
    match execute(args, console) {
        Ok(()) => 0,
        Err(e) => {
            if !e.message.is_empty() {
                console.err(&format!("{}\n", e.message));
            }
            e.code
        }
    }
}

fn execute(args: &[String], console: &mut Console) -> Result<(), CliError> {
    // One command tree, built once: parsing builds it, and help and errors reuse it (building
    // it is most of the CLI's own start-up time).
    let mut root = Cli::command();
    let matches = root.try_get_matches_from_mut(args).map_err(|e| usage::parse_error(&root, args, &e))?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| usage::parse_error(&root, args, &e))?;
    let root_path = [root.get_name().to_string()];
    if cli.help.help {
        console.out(&help::help(&root, &root_path));
        return Ok(());
    }
    if cli.version {
        console.out(&format!("weft version {}\n", env!("CARGO_PKG_VERSION")));
        return Ok(());
    }
    let host = cli.host.filter(|h| !h.is_empty()).unwrap_or_else(|| DEFAULT_HOST.to_string());
    match cli.command {
        // Docker shows its help on stderr, and succeeds, when given no command.
        None => {
            console.err(&help::help(&root, &root_path));
            Ok(())
        }
        Some(Command::Network(n)) => network::run(console, &root, n, &host),
        Some(Command::Plugin(p)) => plugin::run(console, &root, p, &host),
        Some(Command::Container(c)) => container::run_group(console, &root, c, &host),
        Some(Command::Image(i)) => image::run_group(console, &root, i, &host),
        Some(Command::Images(a)) => image::run(console, &root, ImageCommand::Ls(a), &host, false),
        Some(Command::Import(a)) => image::run(console, &root, ImageCommand::Import(a), &host, false),
        Some(Command::Load(a)) => image::run(console, &root, ImageCommand::Load(a), &host, false),
        Some(Command::Rmi(a)) => image::run(console, &root, ImageCommand::Rm(a), &host, false),
        Some(Command::Exec(a)) => container::run(console, &root, ContainerCommand::Exec(a), &host, false),
        Some(Command::Inspect(a)) => container::run(console, &root, ContainerCommand::Inspect(a), &host, false),
        Some(Command::Kill(a)) => container::run(console, &root, ContainerCommand::Kill(a), &host, false),
        Some(Command::Logs(a)) => container::run(console, &root, ContainerCommand::Logs(a), &host, false),
        Some(Command::Port(a)) => container::run(console, &root, ContainerCommand::Port(a), &host, false),
        Some(Command::Ps(a)) => container::run(console, &root, ContainerCommand::Ls(a), &host, false),
        Some(Command::Rm(a)) => container::run(console, &root, ContainerCommand::Rm(a), &host, false),
        Some(Command::Run(a)) => container::run(console, &root, ContainerCommand::Run(a), &host, false),
        Some(Command::Create(a)) => container::run(console, &root, ContainerCommand::Create(a), &host, false),
        Some(Command::Start(a)) => container::run(console, &root, ContainerCommand::Start(a), &host, false),
        Some(Command::Restart(a)) => container::run(console, &root, ContainerCommand::Restart(a), &host, false),
        Some(Command::Stop(a)) => container::run(console, &root, ContainerCommand::Stop(a), &host, false),
        Some(Command::Wait(a)) => container::run(console, &root, ContainerCommand::Wait(a), &host, false),
        Some(Command::Version(v)) => version::run(console, &root, v, &host),
    }
}

/// A client of the weftd at `host` (`unix:///path`).
fn connect(host: &str) -> Result<Client, CliError> {
    Client::new(socket_path(host)?)
}
