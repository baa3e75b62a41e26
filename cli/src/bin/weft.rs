//! weft: the command line of weftd, with Docker's `network` commands.

fn main() {
    std::process::exit(weft_cli::main());
}
