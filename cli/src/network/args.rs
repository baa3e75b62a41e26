//! The grammar of `weft network ...`: the commands and their flags, as Docker's (see
//! [`crate::args`] for the conventions).

use clap::{Args, Subcommand};

use crate::args::{validate_label, DriverOptsFlag, HelpFlag, INSPECT_FORMAT_HELP, LIST_FORMAT_HELP};
use crate::filters::parse_filter;

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

    #[command(flatten)]
    pub driver_opts: DriverOptsFlag,

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
