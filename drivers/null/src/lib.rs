//! weft null driver
