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

use super::filters::parse_filter;

/// Go's `strconv.ParseBool`, for boolean flags given a value.
/// `--sysctl key=value`, with Docker's message for an entry without `=`.
pub fn parse_sysctl(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("invalid argument {s:?} for \"--sysctl\" flag: {s:?} is not a valid key=value pair")),
    }
}

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
    crate::containers::etcfiles::parse_extra_host(value).map(|h| h.api_form())
}

/// Docker's `ValidateIPAddress` for `--dns`.
pub fn validate_dns(value: &str) -> Result<String, String> {
    crate::containers::etcfiles::parse_dns_server(value).map(|ip| ip.to_string())
}

/// Docker's `ValidateDNSSearch` for `--dns-search`.
pub fn validate_dns_search(value: &str) -> Result<String, String> {
    crate::containers::etcfiles::validate_dns_search(value).map(|()| value.to_string())
}

/// Docker's `ValidateLink` for `--link`.
pub fn validate_link(value: &str) -> Result<String, String> {
    crate::containers::links::parse_link(value).map(|_| value.to_string())
}

/// The hidden `-h`/`--help` flag of every command.
#[derive(Args, Debug, Clone, Default)]
pub struct HelpFlag {
    #[arg(short = 'h', long = "help", hide = true, help = "Print usage")]
    pub help: bool,
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

#[derive(Args, Debug)]
pub struct NetworkArgs {
    #[command(flatten)]
    pub help: HelpFlag,
    #[command(subcommand)]
    pub command: Option<NetworkCommand>,
}

#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// Connect a container to a network
    #[command(override_usage = "weft network connect [OPTIONS] NETWORK CONTAINER")]
    Connect(ConnectArgs),
    /// Create a network
    #[command(override_usage = "weft network create [OPTIONS] NETWORK")]
    Create(CreateArgs),
    /// Disconnect a container from a network
    #[command(override_usage = "weft network disconnect [OPTIONS] NETWORK CONTAINER")]
    Disconnect(DisconnectArgs),
    /// Display detailed information on one or more networks
    #[command(override_usage = "weft network inspect [OPTIONS] NETWORK [NETWORK...]")]
    Inspect(InspectArgs),
    /// List networks
    #[command(name = "ls", visible_alias = "list", override_usage = "weft network ls [OPTIONS]")]
    Ls(ListArgs),
    /// Remove all unused networks
    #[command(override_usage = "weft network prune [OPTIONS]")]
    Prune(PruneArgs),
    /// Remove one or more networks
    #[command(name = "rm", visible_alias = "remove", override_usage = "weft network rm NETWORK [NETWORK...]")]
    Rm(RemoveArgs),
}

#[derive(Args, Debug)]
pub struct ContainerArgs {
    #[command(flatten)]
    pub help: HelpFlag,
    #[command(subcommand)]
    pub command: Option<ContainerCommand>,
}

/// `weft container ...`; the same commands as the top-level `weft run`, `weft ps`, ...
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum ContainerCommand {
    /// Execute a command in a running container
    #[command(override_usage = "weft container exec [OPTIONS] CONTAINER COMMAND [ARG...]")]
    Exec(ExecArgs),
    /// Display detailed information on one or more containers
    #[command(override_usage = "weft container inspect [OPTIONS] CONTAINER [CONTAINER...]")]
    Inspect(ContainerInspectArgs),
    /// Kill one or more running containers
    #[command(override_usage = "weft container kill [OPTIONS] CONTAINER [CONTAINER...]")]
    Kill(KillArgs),
    /// Fetch the logs of a container
    #[command(override_usage = "weft container logs [OPTIONS] CONTAINER")]
    Logs(LogsArgs),
    /// List containers
    #[command(name = "ls", visible_aliases = ["list", "ps"], override_usage = "weft container ls [OPTIONS]")]
    Ls(PsArgs),
    /// List port mappings or a specific mapping for the container
    #[command(override_usage = "weft container port CONTAINER [PRIVATE_PORT[/PROTO]]")]
    Port(PortArgs),
    /// Remove one or more containers
    #[command(
        name = "rm",
        visible_alias = "remove",
        override_usage = "weft container rm [OPTIONS] CONTAINER [CONTAINER...]"
    )]
    Rm(ContainerRmArgs),
    /// Restart one or more containers
    #[command(override_usage = "weft container restart [OPTIONS] CONTAINER [CONTAINER...]")]
    Restart(StopArgs),
    /// Create and run a new container from an image
    #[command(override_usage = "weft container run [OPTIONS] IMAGE [COMMAND] [ARG...]")]
    Run(RunArgs),
    /// Create a new container
    #[command(override_usage = "weft container create [OPTIONS] IMAGE [COMMAND] [ARG...]")]
    Create(RunArgs),
    /// Start one or more stopped containers
    #[command(override_usage = "weft container start [OPTIONS] CONTAINER [CONTAINER...]")]
    Start(StartArgs),
    /// Stop one or more running containers
    #[command(override_usage = "weft container stop [OPTIONS] CONTAINER [CONTAINER...]")]
    Stop(StopArgs),
    /// Block until one or more containers stop, then print their exit codes
    #[command(override_usage = "weft container wait CONTAINER [CONTAINER...]")]
    Wait(WaitArgs),
}

/// `weft run`. Flags stop at IMAGE: what follows it is the command, verbatim.
#[derive(Args, Debug)]
pub struct RunArgs {
    #[arg(long = "add-host", value_name = "list", allow_hyphen_values = true, value_parser = validate_add_host,
          help = "Add a custom host-to-IP mapping (host:ip)")]
    pub add_host: Vec<String>,

    #[arg(long = "cap-add", value_name = "list", allow_hyphen_values = true, help = "Add Linux capabilities")]
    pub cap_add: Vec<String>,

    #[arg(long = "cap-drop", value_name = "list", allow_hyphen_values = true, help = "Drop Linux capabilities")]
    pub cap_drop: Vec<String>,

    #[arg(short = 'd', long = "detach", help = "Run container in background and print container ID")]
    pub detach: bool,

    #[arg(long = "dns", value_name = "list", allow_hyphen_values = true, value_parser = validate_dns,
          help = "Set custom DNS servers")]
    pub dns: Vec<String>,

    #[arg(long = "dns-option", value_name = "list", allow_hyphen_values = true, help = "Set DNS options")]
    pub dns_option: Vec<String>,

    #[arg(long = "dns-search", value_name = "list", allow_hyphen_values = true, value_parser = validate_dns_search,
          help = "Set custom DNS search domains")]
    pub dns_search: Vec<String>,

    #[arg(
        short = 'e',
        long = "env",
        value_name = "list",
        allow_hyphen_values = true,
        help = "Set environment variables"
    )]
    pub env: Vec<String>,

    // Checked with `-p` once flags are parsed, as Docker words the error then.
    #[arg(
        long = "expose",
        value_name = "list",
        allow_hyphen_values = true,
        help = "Expose a port or a range of ports"
    )]
    pub expose: Vec<String>,

    // `-h` is the host name here, as in Docker: help is `--help` only, and shown.
    #[arg(long = "group-add", value_name = "list", allow_hyphen_values = true, help = "Add additional groups to join")]
    pub group_add: Vec<String>,

    #[arg(long = "help", help = "Print usage")]
    pub help: bool,

    #[arg(
        short = 'h',
        long = "hostname",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Container host name"
    )]
    pub hostname: Option<String>,

    #[arg(short = 'i', long = "interactive", help = "Keep STDIN open even if not attached")]
    pub interactive: bool,

    #[arg(
        long = "ip",
        value_name = "string",
        allow_hyphen_values = true,
        help = "IPv4 address (e.g., 172.30.100.104)"
    )]
    pub ip: Option<String>,

    #[arg(long = "ip6", value_name = "string", allow_hyphen_values = true, help = "IPv6 address (e.g., 2001:db8::33)")]
    pub ip6: Option<String>,

    #[arg(
        short = 'l',
        long = "label",
        value_name = "list",
        allow_hyphen_values = true,
        help = "Set meta data on a container"
    )]
    pub label: Vec<String>,

    #[arg(long = "link", value_name = "list", allow_hyphen_values = true, value_parser = validate_link,
          help = "Add link to another container")]
    pub link: Vec<String>,

    #[arg(
        long = "mac-address",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Container MAC address (e.g., 92:d0:c6:0a:29:33)"
    )]
    pub mac_address: Option<String>,

    #[arg(long = "name", value_name = "string", allow_hyphen_values = true, help = "Assign a name to the container")]
    pub name: Option<String>,

    #[arg(
        long = "network",
        value_name = "network",
        allow_hyphen_values = true,
        help = "Connect a container to a network"
    )]
    pub network: Vec<String>,

    #[arg(
        long = "network-alias",
        value_name = "list",
        allow_hyphen_values = true,
        help = "Add network-scoped alias for the container"
    )]
    pub network_alias: Vec<String>,

    #[arg(long = "privileged", help = "Give extended privileges to this container")]
    pub privileged: bool,

    #[arg(
        short = 'p',
        long = "publish",
        value_name = "list",
        allow_hyphen_values = true,
        help = "Publish a container's port(s) to the host"
    )]
    pub publish: Vec<String>,

    #[arg(short = 'P', long = "publish-all", help = "Publish all exposed ports to random ports")]
    pub publish_all: bool,

    #[arg(long = "read-only", help = "Mount the container's root filesystem as read only")]
    pub read_only: bool,

    #[arg(long = "rm", help = "Automatically remove the container and its associated anonymous volumes when it exits")]
    pub rm: bool,

    #[arg(long = "security-opt", value_name = "list", allow_hyphen_values = true, help = "Security Options")]
    pub security_opt: Vec<String>,

    // Unset unless given, as Docker's default is true; hence the default in the text.
    #[arg(long = "sig-proxy", help = "Proxy received signals to the process (default true)")]
    pub sig_proxy: Option<bool>,

    #[arg(long = "sysctl", value_name = "map", allow_hyphen_values = true, value_parser = parse_sysctl,
          help = "Sysctl options")]
    pub sysctl: Vec<(String, String)>,

    #[arg(short = 't', long = "tty", help = "Allocate a pseudo-TTY")]
    pub tty: bool,

    #[arg(
        short = 'u',
        long = "user",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Username or UID (format: <name|uid>[:<group|gid>])"
    )]
    pub user: Option<String>,

    #[arg(
        short = 'w',
        long = "workdir",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Working directory inside the container"
    )]
    pub workdir: Option<String>,

    #[arg(value_name = "IMAGE", trailing_var_arg = true, num_args = 0..)]
    pub args: Vec<String>,
}

/// `weft exec`. Flags stop at CONTAINER: what follows it is the command, verbatim.
#[derive(Args, Debug)]
pub struct ExecArgs {
    #[arg(short = 'd', long = "detach", help = "Detached mode: run command in the background")]
    pub detach: bool,

    #[arg(
        short = 'e',
        long = "env",
        value_name = "list",
        allow_hyphen_values = true,
        help = "Set environment variables"
    )]
    pub env: Vec<String>,

    #[arg(short = 'i', long = "interactive", help = "Keep STDIN open even if not attached")]
    pub interactive: bool,

    #[arg(long = "privileged", help = "Give extended privileges to the command")]
    pub privileged: bool,

    #[arg(short = 't', long = "tty", help = "Allocate a pseudo-TTY")]
    pub tty: bool,

    #[arg(
        short = 'u',
        long = "user",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Username or UID (format: \"<name|uid>[:<group|gid>]\")"
    )]
    pub user: Option<String>,

    #[arg(
        short = 'w',
        long = "workdir",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Working directory inside the container"
    )]
    pub workdir: Option<String>,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "CONTAINER", trailing_var_arg = true, num_args = 0..)]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    #[arg(short = 'a', long = "all", help = "Show all containers (default shows just running)")]
    pub all: bool,

    #[arg(short = 'f', long = "filter", value_name = "filter", allow_hyphen_values = true, value_parser = parse_filter,
          help = "Filter output based on conditions provided")]
    pub filter: Vec<(String, String)>,

    #[arg(long = "format", value_name = "string", allow_hyphen_values = true, help = LIST_FORMAT_HELP)]
    pub format: Option<String>,

    #[arg(
        short = 'n',
        long = "last",
        value_name = "int",
        allow_hyphen_values = true,
        default_value = "-1",
        help = "Show n last created containers (includes all states)"
    )]
    pub last: i64,

    #[arg(short = 'l', long = "latest", help = "Show the latest created container (includes all states)")]
    pub latest: bool,

    #[arg(long = "no-trunc", help = "Don't truncate output")]
    pub no_trunc: bool,

    #[arg(short = 'q', long = "quiet", help = "Only display container IDs")]
    pub quiet: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ContainerRmArgs {
    #[arg(short = 'f', long = "force", help = "Force the removal of a running container (uses SIGKILL)")]
    pub force: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    #[arg(
        short = 's',
        long = "signal",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Signal to send to the container"
    )]
    pub signal: Option<String>,

    #[arg(
        short = 't',
        long = "timeout",
        value_name = "int",
        allow_hyphen_values = true,
        help = "Seconds to wait before killing the container"
    )]
    pub timeout: Option<i64>,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    #[arg(
        short = 's',
        long = "signal",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Signal to send to the container"
    )]
    pub signal: Option<String>,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PortArgs {
    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct WaitArgs {
    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    #[arg(short = 'f', long = "follow", help = "Follow log output")]
    pub follow: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "CONTAINER")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ContainerInspectArgs {
    #[arg(short = 'f', long = "format", value_name = "string", allow_hyphen_values = true, help = INSPECT_FORMAT_HELP)]
    pub format: Option<String>,

    #[arg(
        long = "type",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Only inspect objects of the given type"
    )]
    pub kind: Option<String>,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "NAME|ID")]
    pub args: Vec<String>,
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
pub struct CreateArgs {
    #[arg(long, help = "Enable manual container attachment")]
    pub attachable: bool,

    #[arg(
        long = "aux-address",
        value_name = "map",
        allow_hyphen_values = true,
        help = "Auxiliary IPv4 or IPv6 addresses used by Network driver"
    )]
    pub aux_address: Vec<String>,

    #[arg(
        long = "config-from",
        value_name = "string",
        allow_hyphen_values = true,
        help = "The network from which to copy the configuration"
    )]
    pub config_from: Option<String>,

    #[arg(long = "config-only", help = "Create a configuration only network")]
    pub config_only: bool,

    #[arg(
        short = 'd',
        long = "driver",
        value_name = "string",
        default_value = "bridge",
        allow_hyphen_values = true,
        help = "Driver to manage the Network"
    )]
    pub driver: String,

    #[arg(
        long = "gateway",
        value_name = "strings",
        allow_hyphen_values = true,
        help = "IPv4 or IPv6 Gateway for the master subnet"
    )]
    pub gateway: Vec<String>,

    #[arg(long, help = "Create swarm routing-mesh network")]
    pub ingress: bool,

    #[arg(long, help = "Restrict external access to the network")]
    pub internal: bool,

    #[arg(
        long = "ip-range",
        value_name = "strings",
        allow_hyphen_values = true,
        help = "Allocate container ip from a sub-range"
    )]
    pub ip_range: Vec<String>,

    #[arg(
        long = "ipam-driver",
        value_name = "string",
        default_value = "default",
        allow_hyphen_values = true,
        help = "IP Address Management Driver"
    )]
    pub ipam_driver: String,

    #[arg(
        long = "ipam-opt",
        value_name = "map",
        allow_hyphen_values = true,
        help = "Set IPAM driver specific options"
    )]
    pub ipam_opt: Vec<String>,

    // Unset unless given: the daemon decides (true), as with Docker; hence the default in the text.
    #[arg(long = "ipv4", help = "Enable or disable IPv4 address assignment (default true)")]
    pub ipv4: Option<bool>,

    #[arg(long = "ipv6", help = "Enable or disable IPv6 address assignment")]
    pub ipv6: Option<bool>,

    #[arg(long = "label", value_name = "list", allow_hyphen_values = true, value_parser = validate_label,
          help = "Set metadata on a network")]
    pub label: Vec<String>,

    #[arg(
        short = 'o',
        long = "opt",
        value_name = "map",
        allow_hyphen_values = true,
        help = "Set driver specific options"
    )]
    pub opt: Vec<String>,

    #[arg(long = "scope", value_name = "string", allow_hyphen_values = true, help = "Control the network's scope")]
    pub scope: Option<String>,

    #[arg(
        long = "subnet",
        value_name = "strings",
        allow_hyphen_values = true,
        help = "Subnet in CIDR format that represents a network segment"
    )]
    pub subnet: Vec<String>,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "NETWORK")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    #[arg(short = 'f', long = "format", value_name = "string", allow_hyphen_values = true, help = INSPECT_FORMAT_HELP)]
    pub format: Option<String>,

    #[arg(short = 'v', long = "verbose", help = "Verbose output for diagnostics")]
    pub verbose: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "NETWORK")]
    pub args: Vec<String>,
}

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

    #[arg(
        short = 'o',
        long = "opt",
        value_name = "map",
        allow_hyphen_values = true,
        help = "Set driver specific options"
    )]
    pub opt: Vec<String>,

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
pub struct ListArgs {
    #[arg(short = 'f', long = "filter", value_name = "filter", allow_hyphen_values = true, value_parser = parse_filter,
          help = "Provide filter values (e.g. \"driver=bridge\")")]
    pub filter: Vec<(String, String)>,

    #[arg(long = "format", value_name = "string", allow_hyphen_values = true, help = LIST_FORMAT_HELP)]
    pub format: Option<String>,

    #[arg(long = "no-trunc", help = "Do not truncate the output")]
    pub no_trunc: bool,

    #[arg(short = 'q', long = "quiet", help = "Only display network IDs")]
    pub quiet: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    #[arg(long = "filter", value_name = "filter", allow_hyphen_values = true, value_parser = parse_filter,
          help = "Provide filter values (e.g. \"until=<timestamp>\")")]
    pub filter: Vec<(String, String)>,

    #[arg(short = 'f', long = "force", help = "Do not prompt for confirmation")]
    pub force: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ConnectArgs {
    #[arg(
        long = "alias",
        value_name = "strings",
        value_delimiter = ',',
        allow_hyphen_values = true,
        help = "Add network-scoped alias for the container"
    )]
    pub alias: Vec<String>,

    #[arg(
        long = "ip",
        value_name = "string",
        allow_hyphen_values = true,
        help = "IPv4 address (e.g., \"172.30.100.104\")"
    )]
    pub ip: Option<String>,

    #[arg(
        long = "ip6",
        value_name = "string",
        allow_hyphen_values = true,
        help = "IPv6 address (e.g., \"2001:db8::33\")"
    )]
    pub ip6: Option<String>,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "NETWORK CONTAINER")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DisconnectArgs {
    #[arg(short = 'f', long = "force", help = "Force the container to disconnect from a network")]
    pub force: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "NETWORK CONTAINER")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RemoveArgs {
    #[arg(short = 'f', long = "force", help = "Do not error if the network does not exist")]
    pub force: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "NETWORK")]
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
