//! weftd on a kernel that lacks what it needs: it refuses to start and names what is missing.
//!
//! A missing feature is made real where the kernel has it as a module (Debian's kernel, in the VM
//! of `tests/vm`): the module is taken out and the kernel's module loader pointed at nothing, so
//! the kernel cannot load it on demand. Where the feature is built in (this project's host kernel)
//! it cannot be taken away, and the test is skipped, visibly.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use weft_tests::{run_bounded, skip, wait_for, Host};

const MODPROBE: &str = "/proc/sys/kernel/modprobe";

/// Points the kernel's module loader at a program that does not exist, and back on drop.
struct NoModuleLoading(String);

impl NoModuleLoading {
    fn new() -> NoModuleLoading {
        let before = std::fs::read_to_string(MODPROBE).expect("read kernel.modprobe");
        std::fs::write(MODPROBE, "/nonexistent/weft-test-modprobe\n").expect("set kernel.modprobe");
        NoModuleLoading(before)
    }
}

impl Drop for NoModuleLoading {
    fn drop(&mut self) {
        let _ = std::fs::write(MODPROBE, &self.0);
    }
}

fn veth_is_a_module() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let dep = Path::new("/lib/modules").join(release.trim()).join("modules.dep");
    std::fs::read_to_string(dep).is_ok_and(|dep| dep.lines().any(|l| l.contains("/veth.ko")))
}

/// Take the veth module out of the kernel; veths of earlier tests' namespaces may still be going
/// away (the kernel frees a namespace in the background), so a busy module is tried again.
fn unload_veth() {
    let name = std::ffi::CString::new("veth").expect("module name");
    let mut last = None;
    let gone = wait_for(Duration::from_secs(20), || {
        match nix::kmod::delete_module(&name, nix::kmod::DeleteModuleFlags::O_NONBLOCK) {
            Ok(()) | Err(nix::errno::Errno::ENOENT) => true,
            Err(e) => {
                last = Some(e);
                false
            }
        }
    });
    assert!(gone, "cannot unload veth: {last:?}");
}

#[test]
fn weftd_refuses_a_kernel_without_veth_and_names_it() {
    if !veth_is_a_module() {
        skip("veth is built into this kernel and cannot be taken away; this runs in the VM (scripts/test-vm)");
        return;
    }
    let mut h = Host::bare();
    {
        let _guard = NoModuleLoading::new();
        unload_veth();
        let mut cmd = h.daemon_command();
        cmd.stdin(Stdio::null());
        let run = run_bounded(&mut cmd, Duration::from_secs(60));
        run.fails_with(1, "lacks what weftd needs: veth (CONFIG_VETH: containers' links)");
        assert!(!h.socket().exists(), "a refused weftd made no socket");
    }
    // With module loading back, the kernel loads veth when weftd's check makes one, and weftd runs.
    h.start();
    h.weft(&["run", "--rm", "hostfs", "true"]).ok();
}
