//! the weft command line (to be written)
