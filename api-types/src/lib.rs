//! What weftd and the `weft` command line must agree on, in a crate small enough for the command
//! line to link without the daemon: the API's version, the default socket, and the checks of the
//! container settings both sides make (`weft` on its flags, weftd on the API's fields), with
//! Docker's error texts.

pub mod dns;
pub mod extra_host;
pub mod links;

/// The Docker Engine API version weft follows: the one weftd serves and `weft` speaks.
pub const API_VERSION: &str = "1.45";

/// Where weftd listens, and where `weft` looks for it, when neither `-H` nor `WEFT_HOST` says
/// otherwise.
pub const DEFAULT_HOST: &str = "unix:///run/weft/weft.sock";
