//! weft's engine: the daemon `weftd`, its HTTP API, and the `weft` command line.

pub mod api;
pub mod cli;
pub mod containers;
pub mod daemon;
pub mod images;
pub mod runtime;
