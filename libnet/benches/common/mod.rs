//! What the benchmarks that need root share: a network namespace of their own for the run, made
//! under the temp dir and removed after it, and criterion's settings for kernel calls.

use std::path::Path;
use std::time::Duration;

use criterion::Criterion;
use libnet::osl::Netns;

/// Runs `bench` with a fresh network namespace and the path of its file (in a directory of this
/// run's own, where the benchmark may put other files), then removes both. Without the rights to
/// make a namespace it says that the benchmark `name` is skipped and runs nothing.
pub fn in_own_netns(name: &str, bench: impl FnOnce(&Netns, &Path)) {
    let dir = std::env::temp_dir().join(format!("weft-{name}-bench-{}", std::process::id()));
    let path = dir.join("ns");
    let ns = match Netns::create(&path) {
        Ok(ns) => ns,
        Err(e) => {
            eprintln!("skipping the {name} benchmark: {e} (it needs root)");
            return;
        }
    };
    bench(&ns, &path);
    drop(ns);
    let _ = Netns::delete(&path);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Short runs: 1 s of warm-up and 3 s of measuring per function.
pub fn criterion() -> Criterion {
    Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1))
}
