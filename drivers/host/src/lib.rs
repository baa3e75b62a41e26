//! weft host driver
