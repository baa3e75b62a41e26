//! A container's generated `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`, as Docker makes
//! them: the text (pure functions over the container's names, addresses and DNS flags) and writing
//! the files in place. The checks of `--add-host`, `--dns` and `--dns-search` values are
//! `weft_api`'s, which the command line makes too; they are re-exported here.
//!
//! The files live in the container's data directory and are bind-mounted over the container's
//! own; they are rewritten by truncating, never by renaming, so a bind mount keeps showing them.
//! Only text is made here: nothing sends a DNS query.

use std::io::Write;
use std::net::IpAddr;
use std::path::Path;

pub use weft_api::dns::{parse_dns_server, validate_dns_search};
pub use weft_api::extra_host::{parse_extra_host, ExtraHost, HostAddr, HOST_GATEWAY};

use crate::runtime::FileBind;

/// The files, by their name in the container's data directory and their path in the container.
pub const HOSTS: &str = "hosts";
pub const HOSTNAME: &str = "hostname";
pub const RESOLV_CONF: &str = "resolv.conf";
const FILES: [(&str, &str); 3] =
    [(HOSTS, "/etc/hosts"), (HOSTNAME, "/etc/hostname"), (RESOLV_CONF, "/etc/resolv.conf")];

/// Docker's nameservers for a container left with none.
const DEFAULT_NAMESERVERS_V4: [&str; 2] = ["8.8.8.8", "8.8.4.4"];
const DEFAULT_NAMESERVERS_V6: [&str; 2] = ["2001:4860:4860::8888", "2001:4860:4860::8844"];

/// Docker's start of every container's hosts file.
const DEFAULT_HOSTS: [(&str, &str); 6] = [
    ("127.0.0.1", "localhost"),
    ("::1", "localhost ip6-localhost ip6-loopback"),
    ("fe00::0", "ip6-localnet"),
    ("ff00::0", "ip6-mcastprefix"),
    ("ff02::1", "ip6-allnodes"),
    ("ff02::2", "ip6-allrouters"),
];

/// One line of a hosts file: an address and its names, space-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRecord {
    pub addr: IpAddr,
    pub names: String,
}

/// What a container's `/etc/hosts` is made of.
#[derive(Debug, Clone, Default)]
pub struct HostsInput<'a> {
    /// The host's own `/etc/hosts`, for a container on the host's network.
    pub host_network: Option<&'a str>,
    /// `--add-host`, with `host-gateway` already resolved.
    pub extra: Vec<HostRecord>,
    /// Legacy links: `alias hostname name` of each linked container.
    pub links: Vec<HostRecord>,
    /// The container's own addresses, on every network it is attached to.
    pub own: Vec<IpAddr>,
    pub hostname: &'a str,
}

/// The text of `/etc/hosts`. On the host's network it is the host's file; with `--add-host` there,
/// Docker's default file plus the extra hosts instead, so that they can override the host's names.
pub fn hosts(input: &HostsInput<'_>) -> String {
    if let Some(host) = input.host_network {
        if input.extra.is_empty() {
            return host.to_string();
        }
    }
    let mut out = String::new();
    for (addr, names) in DEFAULT_HOSTS {
        out.push_str(&format!("{addr}\t{names}\n"));
    }
    for r in input.extra.iter().chain(&input.links) {
        out.push_str(&format!("{}\t{}\n", r.addr, r.names));
    }
    // A fully qualified hostname gets its first label as a name too.
    let names = match input.hostname.split_once('.') {
        Some((short, _)) if !short.is_empty() => format!("{} {short}", input.hostname),
        _ => input.hostname.to_string(),
    };
    for addr in &input.own {
        out.push_str(&format!("{addr}\t{names}\n"));
    }
    out
}

/// The text of `/etc/hostname`.
pub fn hostname(name: &str) -> String {
    format!("{name}\n")
}

/// Which nameserver a container's `resolv.conf` points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolver {
    /// The host's network: the host's nameservers, loopback ones included, as they are.
    Host,
    /// No resolver of weft's in the sandbox (the default bridge, `none`, and user-defined
    /// networks until the embedded DNS exists): the host's nameservers minus the loopback ones,
    /// which would answer only in the host's namespace, or Docker's defaults when none are left.
    Upstream,
    /// weft's embedded resolver at this address (127.0.0.11 on user-defined networks).
    Embedded(IpAddr),
}

/// The resolver for a container's network mode, when its sandbox has no embedded resolver (see
/// `Manager::resolver_for` in containers/dns.rs, which gives `Resolver::Embedded(127.0.0.11)` to
/// sandboxes on user-defined networks).
pub fn resolver_for_mode(network_mode: &str) -> Resolver {
    match super::network::network_of_mode(network_mode) {
        "host" => Resolver::Host,
        _ => Resolver::Upstream,
    }
}

/// The DNS settings given with `--dns`, `--dns-search` and `--dns-option`; an empty list keeps the
/// host's.
#[derive(Debug, Clone, Copy, Default)]
pub struct DnsOverrides<'a> {
    pub servers: &'a [IpAddr],
    pub search: &'a [String],
    pub options: &'a [String],
}

/// A resolv.conf, read into the directives that matter here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ResolvConf {
    nameservers: Vec<IpAddr>,
    search: Vec<String>,
    options: Vec<String>,
    /// Directives kept as they are (`sortlist`, `lookup`, ...).
    other: Vec<String>,
}

impl ResolvConf {
    /// As the resolver reads it: comments and blank lines dropped, the last `search` (or
    /// `domain`) wins, options add up, unparsable nameservers are skipped.
    fn parse(text: &str) -> ResolvConf {
        let mut rc = ResolvConf::default();
        for line in text.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let Some(first) = fields.first() else { continue };
            if first.starts_with('#') || first.starts_with(';') {
                continue;
            }
            match *first {
                "nameserver" => {
                    if let Some(Ok(ip)) = fields.get(1).map(|a| a.parse::<IpAddr>()) {
                        rc.nameservers.push(ip);
                    }
                }
                "search" | "domain" if fields.len() > 1 => {
                    rc.search = fields[1..].iter().map(|s| s.to_string()).collect();
                }
                "options" => rc.options.extend(fields[1..].iter().map(|s| s.to_string())),
                "search" | "domain" => {}
                _ => rc.other.push(line.to_string()),
            }
        }
        rc
    }

    fn render(&self) -> String {
        let mut out = String::from("# Generated by weft for this container, again at each start.\n\n");
        for ns in &self.nameservers {
            out.push_str(&format!("nameserver {ns}\n"));
        }
        if !self.search.is_empty() {
            out.push_str(&format!("search {}\n", self.search.join(" ")));
        }
        if !self.options.is_empty() {
            out.push_str(&format!("options {}\n", self.options.join(" ")));
        }
        for line in &self.other {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

/// The text of `/etc/resolv.conf` from the host's file: the flags replace the host's nameservers,
/// search list (`.` alone: none) and options, then `resolver` decides the nameservers (see
/// [`Resolver`]). `ipv6`: whether the container has an IPv6 address; without one, IPv6
/// nameservers taken from the host are dropped.
pub fn resolv_conf(host_file: &str, overrides: DnsOverrides<'_>, resolver: Resolver, ipv6: bool) -> String {
    let mut rc = ResolvConf::parse(host_file);
    if !overrides.servers.is_empty() {
        rc.nameservers = overrides.servers.to_vec();
    }
    if !overrides.search.is_empty() {
        rc.search = overrides.search.iter().filter(|s| s.as_str() != ".").cloned().collect();
    }
    if !overrides.options.is_empty() {
        rc.options = overrides.options.to_vec();
    }
    match resolver {
        Resolver::Host => {}
        // Servers given with --dns are the user's choice and kept as given, as Docker does.
        Resolver::Upstream if overrides.servers.is_empty() => {
            rc.nameservers.retain(|ns| !ns.is_loopback() && (ipv6 || ns.is_ipv4()));
            if rc.nameservers.is_empty() {
                let defaults = DEFAULT_NAMESERVERS_V4.iter().chain(DEFAULT_NAMESERVERS_V6.iter().filter(|_| ipv6));
                rc.nameservers = defaults.filter_map(|ns| ns.parse().ok()).collect();
            }
        }
        Resolver::Upstream => {}
        Resolver::Embedded(addr) => {
            rc.nameservers = vec![addr];
            // The embedded resolver answers single-label names itself, without the search list first.
            if !rc.options.iter().any(|o| o.split(':').next() == Some("ndots")) {
                rc.options.push("ndots:0".to_string());
            }
        }
    }
    rc.render()
}

/// Write `content` to `path` in place: truncate and write, so a bind mount of the file keeps
/// showing it (a rename would leave the mount on the old inode).
pub fn write_in_place(path: &Path, content: &str) -> std::io::Result<()> {
    let mut f = std::fs::File::options().write(true).create(true).truncate(true).open(path)?;
    f.write_all(content.as_bytes())?;
    f.sync_data()
}

/// The binds of the three files of the data directory `dir` over the container's own.
pub fn binds(dir: &Path) -> Vec<FileBind> {
    FILES.iter().map(|(name, target)| FileBind { source: dir.join(name), target: (*target).into() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn hosts_has_dockers_layout() {
        let text = hosts(&HostsInput {
            extra: vec![HostRecord { addr: ip("10.9.8.7"), names: "a.test".into() }],
            links: vec![HostRecord { addr: ip("172.17.0.2"), names: "database dbhost db".into() }],
            own: vec![ip("172.17.0.3"), ip("fd00::3")],
            hostname: "web1",
            ..Default::default()
        });
        assert_eq!(
            text,
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n\
             ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n\
             10.9.8.7\ta.test\n172.17.0.2\tdatabase dbhost db\n172.17.0.3\tweb1\nfd00::3\tweb1\n"
        );
        // No network: no address of its own. A dotted hostname gets its short name too.
        let none = hosts(&HostsInput { hostname: "db1.example.test", ..Default::default() });
        assert_eq!(none.lines().count(), 6);
        let dotted =
            hosts(&HostsInput { own: vec![ip("10.0.0.2")], hostname: "db1.example.test", ..Default::default() });
        assert!(dotted.ends_with("10.0.0.2\tdb1.example.test db1\n"), "{dotted}");
    }

    #[test]
    fn hosts_on_the_host_network_is_the_hosts_unless_extra_hosts_override() {
        let host = "127.0.0.1 localhost\n10.1.1.1 build\n";
        let input = HostsInput { host_network: Some(host), hostname: "h", ..Default::default() };
        assert_eq!(hosts(&input), host);
        let extra = vec![HostRecord { addr: ip("10.2.2.2"), names: "build".into() }];
        let with_extra = hosts(&HostsInput { extra, ..input });
        assert!(!with_extra.contains("10.1.1.1"), "{with_extra}");
        assert!(with_extra.starts_with("127.0.0.1\tlocalhost\n") && with_extra.ends_with("10.2.2.2\tbuild\n"));
    }

    #[test]
    fn hostname_is_one_line() {
        assert_eq!(hostname("db1"), "db1\n");
    }

    const HOST_RESOLV: &str = "# comment\nnameserver 127.0.0.53\nnameserver 10.255.255.53\nnameserver ::1\n\
                               nameserver fd00::53\nsearch corp.test\ndomain old.test\noptions edns0\n\
                               options trust-ad\nsortlist 10.0.0.0/8\n";

    fn body(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect()
    }

    #[test]
    fn resolv_conf_drops_loopback_nameservers_on_container_networks() {
        let text = resolv_conf(HOST_RESOLV, DnsOverrides::default(), Resolver::Upstream, false);
        assert!(text.starts_with("# Generated by weft"), "{text}");
        assert_eq!(
            body(&text),
            ["nameserver 10.255.255.53", "search old.test", "options edns0 trust-ad", "sortlist 10.0.0.0/8"]
        );
        let v6 = resolv_conf(HOST_RESOLV, DnsOverrides::default(), Resolver::Upstream, true);
        assert_eq!(body(&v6)[..2], ["nameserver 10.255.255.53", "nameserver fd00::53"]);
    }

    #[test]
    fn resolv_conf_falls_back_to_dockers_defaults() {
        let only_loopback = "nameserver 127.0.0.53\n";
        let v4 = resolv_conf(only_loopback, DnsOverrides::default(), Resolver::Upstream, false);
        assert_eq!(body(&v4), ["nameserver 8.8.8.8", "nameserver 8.8.4.4"]);
        let v6 = resolv_conf("", DnsOverrides::default(), Resolver::Upstream, true);
        assert_eq!(
            body(&v6),
            [
                "nameserver 8.8.8.8",
                "nameserver 8.8.4.4",
                "nameserver 2001:4860:4860::8888",
                "nameserver 2001:4860:4860::8844"
            ]
        );
    }

    #[test]
    fn resolv_conf_flags_replace_the_hosts_settings() {
        let servers = [ip("10.0.0.53"), ip("127.0.0.1")];
        let search = ["example.test".to_string()];
        let options = ["ndots:2".to_string()];
        let o = DnsOverrides { servers: &servers, search: &search, options: &options };
        let text = resolv_conf(HOST_RESOLV, o, Resolver::Upstream, false);
        assert_eq!(
            body(&text),
            [
                "nameserver 10.0.0.53",
                "nameserver 127.0.0.1",
                "search example.test",
                "options ndots:2",
                "sortlist 10.0.0.0/8"
            ]
        );
        let dot = [".".to_string()];
        let text =
            resolv_conf(HOST_RESOLV, DnsOverrides { search: &dot, ..Default::default() }, Resolver::Upstream, false);
        assert!(!text.contains("search"), "{text}");
    }

    #[test]
    fn resolv_conf_on_the_host_network_keeps_the_hosts_nameservers() {
        let text = resolv_conf(HOST_RESOLV, DnsOverrides::default(), Resolver::Host, false);
        assert_eq!(
            body(&text)[..4],
            ["nameserver 127.0.0.53", "nameserver 10.255.255.53", "nameserver ::1", "nameserver fd00::53"]
        );
    }

    #[test]
    fn resolv_conf_for_an_embedded_resolver_points_at_it() {
        let text = resolv_conf(HOST_RESOLV, DnsOverrides::default(), Resolver::Embedded(ip("127.0.0.11")), false);
        assert_eq!(body(&text)[..3], ["nameserver 127.0.0.11", "search old.test", "options edns0 trust-ad ndots:0"]);
        let options = ["ndots:3".to_string()];
        let o = DnsOverrides { options: &options, ..Default::default() };
        let text = resolv_conf("", o, Resolver::Embedded(ip("127.0.0.11")), false);
        assert_eq!(body(&text), ["nameserver 127.0.0.11", "options ndots:3"]);
        assert_eq!(resolver_for_mode("host"), Resolver::Host);
        assert_eq!(resolver_for_mode("default"), Resolver::Upstream);
    }

    #[test]
    fn files_are_rewritten_in_place() {
        let dir = std::env::temp_dir().join(format!("weft-etcfiles-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(HOSTS);
        write_in_place(&path, "a long first version\n").unwrap();
        let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).unwrap());
        let before = inode(&path);
        write_in_place(&path, "short\n").unwrap();
        let (after, text) = (inode(&path), std::fs::read_to_string(&path).unwrap());
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!((after, text.as_str()), (before, "short\n"));
        let targets: Vec<String> = binds(&dir).iter().map(|b| b.target.display().to_string()).collect();
        assert_eq!(targets, ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"]);
    }
}
