//! Test support: a network namespace of a test's own, for tests that change the kernel (they need
//! root). Built for libnet's own tests and, with the cargo feature `testing`, for other crates'
//! tests (the bridge driver's enables it in its dev-dependencies); never part of weftd.
//!
//! Its methods panic on failure, as a test's setup should: the panic is the test's failure report.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::{get_sysctl, Netlink, Netns};

/// A network namespace of the test's own, with its loopback up, bind-mounted in a directory of
/// its own under the temp dir; deleted with the directory on drop, even when the test fails.
///
/// ```no_run
/// use libnet::osl::testing::TestNetns;
/// let ns = TestNetns::new("example");
/// let listener = ns.run(|| std::net::TcpListener::bind("127.0.0.1:0"));
/// println!("{}", ns.nft(&["list", "ruleset"]));
/// ```
#[derive(Debug)]
pub struct TestNetns {
    dir: PathBuf,
    path: PathBuf,
    ns: Netns,
}

impl TestNetns {
    /// A new namespace for test `test`; the name of its directory holds `test`, the process id
    /// and a random number, so tests running at the same time never share one.
    ///
    /// # Panics
    ///
    /// When the namespace cannot be made or its loopback brought up (not root, say).
    pub fn new(test: &str) -> TestNetns {
        let name = format!("weft-test-{}-{test}-{:08x}", std::process::id(), rand::random::<u32>());
        let dir = std::env::temp_dir().join(name);
        let path = dir.join("ns");
        let ns = Netns::create(&path).unwrap_or_else(|e| panic!("{e}"));
        // Made first, so the guard removes the namespace should the rest fail.
        let test_ns = TestNetns { dir, path, ns };
        let mut nl = test_ns.netlink();
        let lo = nl.link_by_name("lo").unwrap_or_else(|e| panic!("{e}"));
        let lo = lo.unwrap_or_else(|| panic!("no loopback in {}", test_ns.path.display()));
        nl.set_up(lo.index).unwrap_or_else(|e| panic!("{e}"));
        test_ns
    }

    /// The namespace.
    pub fn netns(&self) -> &Netns {
        &self.ns
    }

    /// Where the namespace is bind-mounted (for `nsenter --net=PATH`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A netlink socket in the namespace.
    ///
    /// # Panics
    ///
    /// When the socket cannot be opened.
    pub fn netlink(&self) -> Netlink {
        Netlink::in_netns(&self.ns).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Run `f` inside the namespace (sockets made there stay there).
    ///
    /// # Panics
    ///
    /// When the namespace cannot be entered.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        self.ns.run(f).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The value of sysctl `key` (as `net/ipv4/ip_forward`) inside the namespace.
    ///
    /// # Panics
    ///
    /// When it cannot be read.
    pub fn sysctl(&self, key: &str) -> String {
        let key = key.to_string();
        self.run(move || get_sysctl(&key)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// `nft ARGS` inside the namespace: its standard output. (Tests read back what weft made with
    /// the `nft` binary, a reader independent of weft's own netlink code.)
    ///
    /// # Panics
    ///
    /// When `nft` cannot be run or fails.
    pub fn nft(&self, args: &[&str]) -> String {
        let net = format!("--net={}", self.path.display());
        let out = Command::new("nsenter")
            .arg(net)
            .arg("nft")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run nsenter nft: {e}"));
        assert!(out.status.success(), "nft {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `nft -j ARGS` inside the namespace, parsed.
    ///
    /// # Panics
    ///
    /// As [`TestNetns::nft`], and when the output is not JSON.
    pub fn nft_json(&self, args: &[&str]) -> Value {
        let out = self.nft(&[&["-j"], args].concat());
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("nft -j {args:?} printed no JSON: {e}"))
    }

    /// The sets and maps of table `family` `table` by name, as `nft -j` shows them.
    ///
    /// # Panics
    ///
    /// As [`TestNetns::nft_json`] (a table that is not there makes `nft` fail).
    pub fn sets(&self, family: &str, table: &str) -> Vec<(String, Value)> {
        let listed = self.nft_json(&["list", "table", family, table]);
        let items = listed["nftables"].as_array().cloned().unwrap_or_default();
        items
            .into_iter()
            .filter_map(|item| item.get("set").or_else(|| item.get("map")).cloned())
            .map(|set| (set["name"].as_str().unwrap_or_default().to_string(), set))
            .collect()
    }

    /// The elements of every set and map of table `family` `table` that has some, by name, each
    /// list sorted (the kernel's order is not the order they were added in).
    ///
    /// # Panics
    ///
    /// As [`TestNetns::sets`].
    pub fn elements(&self, family: &str, table: &str) -> Vec<(String, Value)> {
        self.sets(family, table)
            .into_iter()
            .filter_map(|(name, set)| {
                let mut elements = set.get("elem")?.as_array()?.clone();
                elements.sort_by_key(|e| e.to_string());
                Some((name, Value::Array(elements)))
            })
            .collect()
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        if let Err(e) = Netns::delete(&self.path) {
            eprintln!("cleanup: {e}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
