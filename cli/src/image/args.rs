//! The grammar of `weft image ...` (and `weft images`, `weft rmi`, `weft import`, `weft load`),
//! with the conventions of [`crate::args`]; kept apart so the image commands are one room.

use clap::{Args, Subcommand};

use crate::args::{HelpFlag, INSPECT_FORMAT_HELP, LIST_FORMAT_HELP};

#[derive(Args, Debug)]
pub struct ImageArgs {
    #[command(flatten)]
    pub help: HelpFlag,
    #[command(subcommand)]
    pub command: Option<ImageCommand>,
}

#[derive(Subcommand, Debug)]
pub enum ImageCommand {
    /// Import the contents from a tarball or a directory to create a filesystem image
    #[command(override_usage = "weft image import [OPTIONS] file|directory|- [REPOSITORY[:TAG]]")]
    Import(ImportArgs),
    /// Display detailed information on one or more images
    #[command(override_usage = "weft image inspect [OPTIONS] IMAGE [IMAGE...]")]
    Inspect(ImageInspectArgs),
    /// Load an image from a tar archive or STDIN
    #[command(override_usage = "weft image load [OPTIONS]")]
    Load(LoadArgs),
    /// List images
    #[command(name = "ls", visible_alias = "list", override_usage = "weft image ls [OPTIONS] [REPOSITORY[:TAG]]")]
    Ls(ImagesArgs),
    /// Remove one or more images
    #[command(name = "rm", visible_alias = "remove", override_usage = "weft image rm [OPTIONS] IMAGE [IMAGE...]")]
    Rm(ImageRmArgs),
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[arg(
        short = 'c',
        long = "change",
        value_name = "list",
        allow_hyphen_values = true,
        help = "Apply Dockerfile instruction to the created image (CMD, ENTRYPOINT, ENV, WORKDIR)"
    )]
    pub change: Vec<String>,

    #[arg(
        short = 'm',
        long = "message",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Set commit message for imported image"
    )]
    pub message: Option<String>,

    #[command(flatten)]
    pub help: HelpFlag,

    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    #[arg(
        short = 'i',
        long = "input",
        value_name = "string",
        allow_hyphen_values = true,
        help = "Read from tar archive file, instead of STDIN"
    )]
    pub input: Option<String>,

    #[arg(short = 'q', long = "quiet", help = "Suppress the load output")]
    pub quiet: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImagesArgs {
    #[arg(long = "format", value_name = "string", allow_hyphen_values = true, help = LIST_FORMAT_HELP)]
    pub format: Option<String>,

    #[arg(long = "no-trunc", help = "Don't truncate output")]
    pub no_trunc: bool,

    #[arg(short = 'q', long = "quiet", help = "Only show image IDs")]
    pub quiet: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImageRmArgs {
    #[arg(short = 'f', long = "force", help = "Force removal of the image")]
    pub force: bool,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "IMAGE")]
    pub args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImageInspectArgs {
    #[arg(short = 'f', long = "format", value_name = "string", allow_hyphen_values = true, help = INSPECT_FORMAT_HELP)]
    pub format: Option<String>,

    #[command(flatten)]
    pub help: HelpFlag,

    #[arg(value_name = "IMAGE")]
    pub args: Vec<String>,
}
