//! weft bridge driver
