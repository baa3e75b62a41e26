//! weft's engine: the container engine, the daemon `weftd` and its HTTP API. (The `weft` command
//! line is the `weft-cli` crate, which does not link this one.)

pub mod api;
pub mod containers;
pub mod daemon;
pub mod images;
pub mod runtime;
