//! The grammar of `weft container ...` and of its top-level forms (`weft run`, `weft ps`, ...):
//! the commands and their flags, as Docker's (see [`crate::args`] for the conventions).

use clap::{Args, Subcommand};

use crate::args::{
    parse_sysctl, validate_add_host, validate_dns, validate_dns_search, validate_link, HelpFlag, INSPECT_FORMAT_HELP,
    LIST_FORMAT_HELP,
};
use crate::filters::parse_filter;

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

    #[arg(
        short = 'u',
        long = "user",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Username or UID (format: <name|uid>[:<group|gid>])"
    )]
    pub user: Option<String>,

    #[command(flatten)]
    pub process: ProcessFlags,

    #[arg(value_name = "IMAGE", trailing_var_arg = true, num_args = 0..)]
    pub args: Vec<String>,
}

/// `weft exec`. Flags stop at CONTAINER: what follows it is the command, verbatim.
#[derive(Args, Debug)]
pub struct ExecArgs {
    #[arg(short = 'd', long = "detach", help = "Detached mode: run command in the background")]
    pub detach: bool,

    #[arg(long = "privileged", help = "Give extended privileges to the command")]
    pub privileged: bool,

    #[arg(
        short = 'u',
        long = "user",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Username or UID (format: \"<name|uid>[:<group|gid>]\")"
    )]
    pub user: Option<String>,

    #[command(flatten)]
    pub process: ProcessFlags,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "CONTAINER", trailing_var_arg = true, num_args = 0..)]
    pub args: Vec<String>,
}

/// The flags of the process `run` and `exec` start in a container, the same on both.
#[derive(Args, Debug)]
pub struct ProcessFlags {
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

    #[arg(short = 't', long = "tty", help = "Allocate a pseudo-TTY")]
    pub tty: bool,

    #[arg(
        short = 'w',
        long = "workdir",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Working directory inside the container"
    )]
    pub workdir: Option<String>,
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
