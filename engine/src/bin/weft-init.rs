//! weft-init: the pid 1 of every container weftd starts (see `engine::runtime::init_main`).
//! weftd execs it with `weft-init -- <command>...` and the container's environment; it is not
//! meant to be run by hand.

#![no_main]

use std::ffi::{c_char, c_int};

// A C `main`, not Rust's: its command line and environment are taken as the kernel gave them,
// with no runtime set up first (std would ignore SIGPIPE, which the command would inherit).
#[unsafe(no_mangle)]
extern "C" fn main(argc: c_int, argv: *const *const c_char, envp: *const *const c_char) -> c_int {
    // SAFETY: the kernel passes `argc` valid pointers in `argv`, then a null one.
    let argv = unsafe { std::slice::from_raw_parts(argv, argc as usize + 1) };
    engine::runtime::init_main(argv, envp)
}
