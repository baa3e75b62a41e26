//! Driver libraries (issue 6): weftd loads bridge, host and null from `libweft_driver_*.so`; a
//! third party's driver (the example, built against `plugins` and `libnet` only) does real
//! networking; libraries that are not weft drivers, are of another interface version or miss a
//! symbol are refused by name; a driver's panic and hang are errors of one call, not of weftd.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use weft_tests::{bin_dir, wait_for, Host};

/// `weft plugin ls` as rows of cells.
fn plugin_rows(h: &Host) -> Vec<Vec<String>> {
    let ls = h.weft(&["plugin", "ls"]);
    ls.ok().lines().map(|l| l.split_whitespace().map(String::from).collect()).collect()
}

/// A driver directory of the test's own holding the built-in drivers (as links to the build's).
fn driver_dir(h: &Host) -> PathBuf {
    let dir = h.dir.path().join("drivers");
    std::fs::create_dir_all(&dir).expect("driver dir");
    for name in ["bridge", "host", "null"] {
        let lib = format!("libweft_driver_{name}.so");
        symlink(bin_dir().join(&lib), dir.join(&lib)).expect("link a driver");
    }
    dir
}

/// Compile a C shared library with gcc.
fn cc_shared(dir: &Path, name: &str, source: &str) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    std::fs::write(&c, source).expect("write C source");
    let out = dir.join(name);
    let st = Command::new("gcc").args(["-shared", "-fPIC", "-o"]).arg(&out).arg(&c).status().expect("run gcc");
    assert!(st.success(), "gcc failed on {name}");
    std::fs::remove_file(&c).expect("remove C source");
    out
}

#[test]
fn builtin_drivers_come_from_their_libraries() {
    let h = Host::new();
    let rows = plugin_rows(&h);
    // (An ERROR column follows when some remote plugin in Docker's directories cannot be used.)
    assert_eq!(rows[0][..5], ["NAME", "KIND", "IMPLEMENTS", "VERSION", "ADDRESS"]);
    for name in ["bridge", "host", "null"] {
        let row = rows.iter().find(|r| r[0] == name).unwrap_or_else(|| panic!("no {name} in {rows:?}"));
        assert_eq!(row[1..4], ["dylib", "NetworkDriver", plugins::INTERFACE_VERSION], "{row:?}");
        assert_eq!(Path::new(&row[4]), bin_dir().join(format!("libweft_driver_{name}.so")), "{row:?}");
        assert_eq!(row.len(), 5, "no error: {row:?}");
    }
    // The example driver is built beside them, under a name weftd does not load.
    assert!(bin_dir().join("libweft_example_driver.so").is_file());
    assert!(!rows.iter().any(|r| r[0] == "example"), "a plain weftd offers no example driver: {rows:?}");
    // Each of them at work: a user bridge network with traffic between two containers, host, none.
    h.weft(&["network", "create", "--subnet", "10.91.0.0/24", "a"]).ok();
    h.run_ok_server("srv", "a", Some("10.91.0.10"), &[]);
    assert_eq!(h.reach("a", "10.91.0.10", 50), "ok");
    let host_links = h.weft(&["run", "--rm", "--network", "host", "hostfs", "ip", "-o", "link", "show"]);
    assert!(host_links.ok().contains("wbr-"), "host mode sees the host's links: {}", host_links.stdout);
    let none = h.weft(&["run", "--rm", "--network", "none", "hostfs", "ip", "-o", "link", "show"]);
    assert_eq!(none.ok().lines().count(), 1, "only lo with --network none: {}", none.stdout);
    h.weft(&["rm", "-f", "srv"]).ok();
    h.weft(&["network", "rm", "a"]).ok();
    h.assert_no_networking_left();
    // The drivers' log lines land in weftd's log, under the target `driver`.
    assert!(h.log().contains("driver bridge loaded from"), "{}", h.log());
}

#[test]
fn the_example_driver_attaches_containers_to_the_operators_bridge() {
    // Installed as a third party's driver is: in a driver directory, under the name weftd loads.
    let mut h = Host::bare();
    let dir = driver_dir(&h);
    symlink(bin_dir().join("libweft_example_driver.so"), dir.join("libweft_driver_example.so")).expect("link example");
    h.start_with_args(&["--driver-dir", &dir.display().to_string()]);
    // The operator's bridge, with the gateway address on it.
    h.ip(&["link", "add", "exbr0", "type", "bridge"]).ok();
    h.ip(&["addr", "add", "10.93.0.1/24", "dev", "exbr0"]).ok();
    h.ip(&["link", "set", "exbr0", "up"]).ok();

    // Bad input first: no bridge named, a bridge that does not exist, a link that is no bridge.
    let before = h.snapshot();
    h.weft(&["network", "create", "-d", "example", "--subnet", "10.93.0.0/24", "x"]).fails_with(1, "-o bridge=<name>");
    h.weft(&["network", "create", "-d", "example", "-o", "bridge=nobr", "--subnet", "10.93.0.0/24", "x"])
        .fails_with(1, "bridge nobr does not exist: create it first (ip link add nobr type bridge)");
    h.weft(&["network", "create", "-d", "example", "-o", "bridge=lo", "--subnet", "10.93.0.0/24", "x"])
        .fails_with(1, "lo is not a bridge");
    assert_eq!(h.snapshot(), before);

    let args = ["network", "create", "-d", "example", "-o", "bridge=exbr0", "--subnet", "10.93.0.0/24"];
    h.weft(&[&args[..], &["--gateway", "10.93.0.1", "ex"]].concat()).ok();
    assert_eq!(h.inspect("ex")["Driver"], "example");
    h.run_ok_server("srv", "ex", Some("10.93.0.10"), &[]);
    // The container's veth is on the operator's bridge.
    let on_bridge = h.ip(&["-o", "link", "show", "master", "exbr0"]);
    assert_eq!(on_bridge.ok().lines().count(), 1, "{}", on_bridge.stdout);
    assert!(on_bridge.stdout.contains(": wv"), "{}", on_bridge.stdout);
    // A second container reaches it over the bridge, and the host reaches it through the
    // bridge's own address.
    assert_eq!(h.reach("ex", "10.93.0.10", 50), "ok");
    let from_host = Command::new("ip")
        .args(["netns", "exec", &h.netns, "python3", "-c"])
        .arg("import socket; print(socket.create_connection(('10.93.0.10', 80), timeout=3).recv(16).decode())")
        .output()
        .expect("connect from the host");
    assert_eq!(String::from_utf8_lossy(&from_host.stdout).trim(), "ok", "{from_host:?}");

    h.weft(&["rm", "-f", "srv"]).ok();
    h.weft(&["network", "rm", "ex"]).ok();
    // Its veths are gone; the operator's bridge stays, with its address.
    assert!(wait_for(Duration::from_secs(10), || h.ip(&["-o", "link", "show", "master", "exbr0"]).ok().is_empty()));
    assert_eq!(h.addresses("exbr0"), ["10.93.0.1/24"]);
    h.assert_no_networking_left();
    h.ip(&["link", "del", "exbr0"]).ok();
}

#[test]
fn libraries_that_are_not_drivers_of_this_interface_are_refused_by_name() {
    let mut h = Host::bare();
    let dir = driver_dir(&h);
    std::fs::write(dir.join("libweft_driver_text.so"), "not a library\n").expect("write");
    cc_shared(&dir, "libweft_driver_plain.so", "int weft_plain(void) { return 1; }\n");
    cc_shared(&dir, "libweft_driver_missing.so", "void weft_absent(void);\nvoid call_it(void) { weft_absent(); }\n");
    symlink(bin_dir().join("libweft_fixture_v2.so"), dir.join("libweft_driver_v2.so")).expect("link v2");
    h.start_with_args(&["--driver-dir", &dir.display().to_string()]);
    let rows = plugin_rows(&h);
    assert_eq!(rows[0], ["NAME", "KIND", "IMPLEMENTS", "VERSION", "ADDRESS", "ERROR"]);
    let ls = h.weft(&["plugin", "ls"]).ok().to_string();
    let line = |name: &str| ls.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_default().to_string();
    let path = |name: &str| dir.join(format!("libweft_driver_{name}.so")).display().to_string();
    assert!(line("bridge").contains("dylib") && line("bridge").contains(&path("bridge")), "{ls}");
    // Each refusal names the file and says why.
    let cases = [
        ("text", "cannot load the library".to_string()),
        ("plain", "is not a weft driver: it has no weft driver module".to_string()),
        ("missing", "undefined symbol: weft_absent".to_string()),
        (
            "v2",
            format!(
                "is a weft driver for interface version 2.0.0; this weftd loads interface version {}",
                plugins::INTERFACE_VERSION
            ),
        ),
    ];
    for (name, why) in &cases {
        assert!(line(name).contains(&path(name)) && line(name).contains(why.as_str()), "{name}: {ls}");
        assert!(h.log().contains(&path(name)), "the log names {name}: {}", h.log());
        // Asking for the driver says why it is not there.
        h.weft(&["network", "create", "-d", name, "x"])
            .fails_with(1, &format!("driver {name} could not be loaded: {}", path(name)));
    }
    h.weft(&["network", "create", "-d", "v2", "x"]).fails_with(1, &cases[3].1);
    // And the built-in drivers still work.
    h.weft(&["network", "create", "y"]).ok();
    h.weft(&["network", "rm", "y"]).ok();
}

#[test]
fn weftd_refuses_to_start_without_the_bridge_driver() {
    let h = Host::bare();
    let empty = h.dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let out = h.daemon_command().arg("--driver-dir").arg(&empty).stdin(Stdio::null()).output().expect("run weftd");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let want = format!(
        "cannot start without the bridge driver: no libweft_driver_bridge.so in {} (give the directory with --driver-dir)",
        empty.display()
    );
    assert!(stderr.contains(&want), "{stderr}");
}

#[test]
fn a_drivers_panic_or_hang_fails_that_call_and_weftd_goes_on() {
    let mut h = Host::bare();
    let dir = driver_dir(&h);
    symlink(bin_dir().join("libweft_fixture_faulty.so"), dir.join("libweft_driver_faulty.so")).expect("link faulty");
    h.start_with_args(&["--driver-dir", &dir.display().to_string(), "--driver-timeout", "2s"]);

    let before = h.snapshot();
    h.weft(&["network", "create", "-d", "faulty", "-o", "mode=panic", "p"])
        .fails_with(1, "driver faulty panicked in NetworkDriver.CreateNetwork: faulty was asked to panic");
    h.weft(&["network", "create", "-d", "faulty", "-o", "mode=fail", "f"]).fails_with(1, "faulty refuses this network");
    h.weft(&["network", "create", "-d", "faulty", "-o", "mode=hang", "hung"])
        .fails_with(1, "driver faulty: NetworkDriver.CreateNetwork did not answer within 2s");
    // Nothing was half-made, and weftd and the driver still answer.
    assert_eq!(h.snapshot(), before);
    h.weft(&["network", "create", "-d", "faulty", "fine"]).ok();
    h.weft(&["network", "rm", "fine"]).ok();
    h.weft(&["network", "create", "ok"]).ok();
    h.weft(&["network", "rm", "ok"]).ok();
    // The panic's message is in weftd's log too.
    assert!(h.log().contains("faulty was asked to panic"), "{}", h.log());

    // A call that succeeds after its caller gave up is undone: the bridge it made late is
    // deleted again with DeleteNetwork.
    h.weft(&["network", "create", "-d", "faulty", "-o", "mode=slow", "late"])
        .fails_with(1, "driver faulty: NetworkDriver.CreateNetwork did not answer within 2s");
    let undone = "driver faulty: NetworkDriver.CreateNetwork succeeded after its caller gave up; undone with NetworkDriver.DeleteNetwork";
    assert!(wait_for(Duration::from_secs(10), || h.log().contains(undone)), "{}", h.log());
    assert!(!h.link_names().iter().any(|l| l.starts_with("fslow-")), "{:?}", h.link_names());
    assert_eq!(h.snapshot(), before);
}

#[test]
fn an_ipam_driver_from_a_library_hands_out_the_addresses() {
    let mut h = Host::bare();
    let dir = driver_dir(&h);
    symlink(bin_dir().join("libweft_fixture_seq_ipam.so"), dir.join("libweft_driver_seq.so")).expect("link seq");
    h.start_with_args(&["--driver-dir", &dir.display().to_string()]);
    let rows = plugin_rows(&h);
    let seq = rows.iter().find(|r| r[0] == "seq").unwrap_or_else(|| panic!("no seq in {rows:?}"));
    assert_eq!(seq[1..4], ["dylib", "IpamDriver", plugins::INTERFACE_VERSION], "{seq:?}");

    // The driver's own refusal reaches the user; nothing is made.
    let before = h.snapshot();
    h.weft(&["network", "create", "--ipam-driver", "seq", "s"])
        .fails_with(1, "seq hands out IPv4 subnets the user gives: use --subnet");
    assert_eq!(h.snapshot(), before);

    h.weft(&["network", "create", "--ipam-driver", "seq", "--subnet", "10.95.0.0/24", "s"]).ok();
    let net = h.inspect("s");
    assert_eq!(net["IPAM"]["Driver"], "seq");
    assert_eq!(net["IPAM"]["Config"][0]["Gateway"], "10.95.0.1", "{net}");
    h.run_ok_server("srv", "s", None, &[]);
    let ip = h.weft(&["inspect", "-f", "{{.NetworkSettings.Networks.s.IPAddress}}", "srv"]);
    assert_eq!(ip.ok().trim(), "10.95.0.2", "the first address after the gateway");
    assert_eq!(h.reach("s", "10.95.0.2", 50), "ok");
    h.weft(&["rm", "-f", "srv"]).ok();
    h.weft(&["network", "rm", "s"]).ok();
    // The pool went back: the same subnet can be had again.
    h.weft(&["network", "create", "--ipam-driver", "seq", "--subnet", "10.95.0.0/24", "s2"]).ok();
    h.weft(&["network", "rm", "s2"]).ok();
    h.assert_no_networking_left();
}
