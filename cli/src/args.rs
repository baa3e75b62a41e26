//! The grammar of `weft`: its commands and their flags, named, typed and documented as Docker's.
//!
//! Conventions that make clap parse as Docker's pflag does:
//! - a flag's `value_name` is its pflag type (`string`, `map`, `list`, `strings`, `filter`),
//!   which the help page shows; boolean flags have none;
//! - boolean flags take an optional `=value` (`--ipv4=false`), read as Go's `strconv.ParseBool`;
//! - flags that take a value take the next word even if it starts with `-`;
//! - positional arguments are collected as they come: each command checks their number itself,
//!   to word the error as Docker does;
//! - `-h`/`--help` is an ordinary hidden flag, so that help is Docker's page, not clap's.

use clap::{Args, Parser, Subcommand};

pub use super::container::args::*;
pub use super::network::args::*;

/// `--sysctl key=value`, with Docker's message for an entry without `=`.
pub fn parse_sysctl(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("invalid argument {s:?} for \"--sysctl\" flag: {s:?} is not a valid key=value pair")),
    }
}

/// Go's `strconv.ParseBool`, for boolean flags given a value.
pub fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("strconv.ParseBool: parsing {s:?}: invalid syntax")),
    }
}

/// Docker's boolean flags, made so on every `bool` flag of every command of `cmd`: `--rm`,
/// `--rm=false`, `--rm=0` (Go's `ParseBool`), never `--rm false` (the next word is an argument).
/// A `bool` field is false unless given; an `Option<bool>` one stays unset (its default is the
/// daemon's). Written once here, not on each flag.
pub fn docker_bools(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(docker_bool).mut_subcommands(docker_bools)
}

fn docker_bool(arg: clap::Arg) -> clap::Arg {
    use clap::ArgAction;
    let switch = matches!(arg.get_action(), ArgAction::SetTrue);
    let optional = matches!(arg.get_action(), ArgAction::Set)
        && !arg.is_positional()
        && arg.get_value_parser().type_id() == std::any::TypeId::of::<bool>();
    if !switch && !optional {
        return arg;
    }
    let arg = arg
        .action(ArgAction::Set)
        .num_args(0..=1)
        .require_equals(true)
        .default_missing_value("true")
        .value_parser(go_bool);
    if switch {
        arg.default_value("false")
    } else {
        arg
    }
}

/// Docker's `ValidateLabel`: a label needs a name without whitespace.
pub fn validate_label(value: &str) -> Result<String, String> {
    let key = value.split_once('=').map_or(value, |(k, _)| k).trim_start_matches([' ', '\t']);
    if key.is_empty() {
        return Err(format!("invalid label '{value}': empty name"));
    }
    if key.contains([' ', '\t']) {
        return Err(format!("label '{key}' contains whitespaces"));
    }
    Ok(value.to_string())
}

/// Docker's `ValidateExtraHost` for `--add-host`; the value as the API takes it (`name:ip`).
pub fn validate_add_host(value: &str) -> Result<String, String> {
    weft_api::extra_host::parse_extra_host(value).map(|h| h.api_form())
}

/// Docker's `ValidateIPAddress` for `--dns`.
pub fn validate_dns(value: &str) -> Result<String, String> {
    weft_api::dns::parse_dns_server(value).map(|ip| ip.to_string())
}

/// Docker's `ValidateDNSSearch` for `--dns-search`.
pub fn validate_dns_search(value: &str) -> Result<String, String> {
    weft_api::dns::validate_dns_search(value).map(|()| value.to_string())
}

/// Docker's `ValidateLink` for `--link`.
pub fn validate_link(value: &str) -> Result<String, String> {
    weft_api::links::parse_link(value).map(|_| value.to_string())
}

/// The hidden `-h`/`--help` flag of every command.
#[derive(Args, Debug, Clone, Default)]
pub struct HelpFlag {
    #[arg(short = 'h', long = "help", hide = true, help = "Print usage")]
    pub help: bool,
}

/// `-o`/`--opt`, a driver's own options, as `network create` and `plugin serve` take them.
#[derive(Args, Debug)]
pub struct DriverOptsFlag {
    #[arg(
        short = 'o',
        long = "opt",
        value_name = "map",
        allow_hyphen_values = true,
        help = "Set driver specific options"
    )]
    pub opt: Vec<String>,
}

#[derive(Parser, Debug)]
#[command(
    name = "weft",
    bin_name = "weft",
    about = "A command line for weftd, the container network daemon",
    override_usage = "weft [OPTIONS] COMMAND [ARG...]",
    disable_help_flag = true,
    disable_version_flag = true,
    disable_help_subcommand = true,
    mut_args = docker_bool,
    mut_subcommands = docker_bools
)]
pub struct Cli {
    #[arg(
        short = 'H',
        long = "host",
        value_name = "string",
        env = "WEFT_HOST",
        allow_hyphen_values = true,
        hide_env = true,
        help = "Daemon socket to connect to, unix:///path (default \"unix:///run/weft/weft.sock\", or $WEFT_HOST)"
    )]
    pub host: Option<String>,

    #[arg(short = 'v', long = "version", help = "Print version information and quit")]
    pub version: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    #[command(subcommand)]
    pub command: Option<Command>,
}

// Parsed once per run: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Manage containers
    Container(ContainerArgs),
    /// Execute a command in a running container
    #[command(override_usage = "weft exec [OPTIONS] CONTAINER COMMAND [ARG...]")]
    Exec(ExecArgs),
    /// Manage images
    Image(super::image::args::ImageArgs),
    /// List images
    #[command(override_usage = "weft images [OPTIONS] [REPOSITORY[:TAG]]")]
    Images(super::image::args::ImagesArgs),
    /// Import the contents from a tarball or a directory to create a filesystem image
    #[command(override_usage = "weft import [OPTIONS] file|directory|- [REPOSITORY[:TAG]]")]
    Import(super::image::args::ImportArgs),
    /// Return low-level information on weft objects
    #[command(override_usage = "weft inspect [OPTIONS] NAME|ID [NAME|ID...]")]
    Inspect(ContainerInspectArgs),
    /// Kill one or more running containers
    #[command(override_usage = "weft kill [OPTIONS] CONTAINER [CONTAINER...]")]
    Kill(KillArgs),
    /// Load an image from a tar archive or STDIN
    #[command(override_usage = "weft load [OPTIONS]")]
    Load(super::image::args::LoadArgs),
    /// Fetch the logs of a container
    #[command(override_usage = "weft logs [OPTIONS] CONTAINER")]
    Logs(LogsArgs),
    /// Manage networks
    Network(NetworkArgs),
    /// Manage plugins (network and IPAM drivers)
    Plugin(PluginArgs),
    /// List containers
    #[command(override_usage = "weft ps [OPTIONS]")]
    Ps(PsArgs),
    /// List port mappings or a specific mapping for the container
    #[command(override_usage = "weft port CONTAINER [PRIVATE_PORT[/PROTO]]")]
    Port(PortArgs),
    /// Remove one or more containers
    #[command(override_usage = "weft rm [OPTIONS] CONTAINER [CONTAINER...]")]
    Rm(ContainerRmArgs),
    /// Restart one or more containers
    #[command(override_usage = "weft restart [OPTIONS] CONTAINER [CONTAINER...]")]
    Restart(StopArgs),
    /// Remove one or more images
    #[command(override_usage = "weft rmi [OPTIONS] IMAGE [IMAGE...]")]
    Rmi(super::image::args::ImageRmArgs),
    /// Create and run a new container from an image
    #[command(override_usage = "weft run [OPTIONS] IMAGE [COMMAND] [ARG...]")]
    Run(RunArgs),
    /// Create a new container
    #[command(override_usage = "weft create [OPTIONS] IMAGE [COMMAND] [ARG...]")]
    Create(RunArgs),
    /// Start one or more stopped containers
    #[command(override_usage = "weft start [OPTIONS] CONTAINER [CONTAINER...]")]
    Start(StartArgs),
    /// Stop one or more running containers
    #[command(override_usage = "weft stop [OPTIONS] CONTAINER [CONTAINER...]")]
    Stop(StopArgs),
    /// Block until one or more containers stop, then print their exit codes
    #[command(override_usage = "weft wait CONTAINER [CONTAINER...]")]
    Wait(WaitArgs),
    /// Show the weft version information
    #[command(override_usage = "weft version [OPTIONS]")]
    Version(VersionArgs),
}

/// The help of `--format` on list commands (Docker's `FormatHelp`).
pub const LIST_FORMAT_HELP: &str = "Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

/// The help of `--format` on inspect commands (Docker's `InspectFormatHelp`).
pub const INSPECT_FORMAT_HELP: &str = "Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates";

#[derive(Args, Debug)]
pub struct PluginArgs {
    #[command(flatten)]
    pub help: HelpFlag,
    #[command(subcommand)]
    pub command: Option<PluginCommand>,
}

#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// List the network and IPAM drivers: built in, and remote plugins found in the plugin directories
    #[command(name = "ls", visible_alias = "list", override_usage = "weft plugin ls [OPTIONS]")]
    Ls(PluginLsArgs),
    /// Serve a weft network driver (from its library) over Docker's plugin protocol, in the foreground
    #[command(name = "serve", override_usage = "weft plugin serve [OPTIONS] DRIVER")]
    Serve(PluginServeArgs),
}

#[derive(Args, Debug)]
pub struct PluginServeArgs {
    #[arg(
        long = "socket",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Unix socket to listen on (Docker finds plugins at /run/docker/plugins/NAME.sock)"
    )]
    pub socket: Option<String>,

    #[command(flatten)]
    pub driver_opts: DriverOptsFlag,

    #[arg(
        long = "driver-dir",
        value_name = "string",
        help = "Directory of driver libraries, as weftd's --driver-dir (default: weftd's)"
    )]
    pub driver_dirs: Vec<String>,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "DRIVER")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PluginLsArgs {
    #[arg(short = 'q', long = "quiet", help = "Only display plugin names")]
    pub quiet: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VersionArgs {
    #[command(flatten)]
    pub help: HelpFlag,

    pub args: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_boolean_flag_of_every_command_is_dockers() {
        fn walk(cmd: &clap::Command, seen: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                if arg.get_value_parser().type_id() == std::any::TypeId::of::<bool>() {
                    let name = format!("{} --{}", cmd.get_name(), arg.get_long().unwrap_or_default());
                    assert!(arg.is_require_equals_set(), "{name}");
                    assert_eq!(arg.get_num_args(), Some((0..=1).into()), "{name}");
                    seen.push(name);
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, seen);
            }
        }
        let mut seen = Vec::new();
        walk(&Cli::command(), &mut seen);
        for flag in ["weft --version", "run --rm", "create --read-only", "create --internal", "ls --quiet"] {
            assert!(seen.iter().any(|s| s == flag), "{flag} not in {seen:?}");
        }
    }

    #[test]
    fn go_booleans() {
        assert_eq!(go_bool("T"), Ok(true));
        assert_eq!(go_bool("0"), Ok(false));
        assert_eq!(go_bool("yes"), Err("strconv.ParseBool: parsing \"yes\": invalid syntax".to_string()));
    }

    #[test]
    fn labels_need_a_name() {
        assert_eq!(validate_label("a=b=c"), Ok("a=b=c".to_string()));
        assert_eq!(validate_label("flag"), Ok("flag".to_string()));
        assert_eq!(validate_label(""), Err("invalid label '': empty name".to_string()));
        assert_eq!(validate_label("a b=c"), Err("label 'a b' contains whitespaces".to_string()));
    }

    #[test]
    fn flags_parse_as_pflag_does() {
        let parse = |line: &str| Cli::try_parse_from(line.split(' '));
        let Ok(cli) = parse("weft network create --ipv4=false -d -x --internal n") else { panic!("parse") };
        let Some(Command::Network(NetworkArgs { command: Some(NetworkCommand::Create(c)), .. })) = cli.command else {
            panic!("not create")
        };
        assert_eq!((c.ipv4, c.ipv6, c.driver.as_str(), c.internal), (Some(false), None, "-x", true));
        assert_eq!(c.args, vec!["n".to_string()]);
        assert!(parse("weft network ls --quiet=maybe").is_err());
        assert!(parse("weft network list -q").is_ok());
    }
}
