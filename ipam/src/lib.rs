//! weft default IPAM (to be written)
