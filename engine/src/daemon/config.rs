//! weftd's configuration: dockerd's flags and daemon.json keys, merged (a key in both is an error).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use ipam::PoolSpec;
use ipnet::IpNet;
use serde::Deserialize;

/// The default socket (the command line's default too), data root and exec root.
pub use weft_api::DEFAULT_HOST;
pub const DEFAULT_DATA_ROOT: &str = "/var/lib/weft";
pub const DEFAULT_EXEC_ROOT: &str = "/run/weft";
pub const DEFAULT_CONFIG_FILE: &str = "/etc/weft/daemon.json";
/// The default bridge's address, as Docker's docker0.
pub const DEFAULT_BIP: &str = "172.17.0.1/16";

/// weftd: the weft network daemon. Flags are dockerd's where dockerd has one.
#[derive(Debug, Parser, Default)]
#[command(name = "weftd", version, about = "weft's daemon: container networks over a Docker-compatible API")]
pub struct Flags {
    /// Root directory of persistent state
    #[arg(long, value_name = "PATH")]
    pub data_root: Option<PathBuf>,
    /// Root directory of runtime state (namespace mounts)
    #[arg(long, value_name = "PATH")]
    pub exec_root: Option<PathBuf>,
    /// Socket to listen on (unix:///path)
    #[arg(short = 'H', long = "host", value_name = "URL")]
    pub hosts: Vec<String>,
    /// Address and prefix of the default bridge weft0
    #[arg(long, value_name = "CIDR")]
    pub bip: Option<String>,
    /// Default address pools for new networks (base=<cidr>,size=<bits>); replaces the built-in ones
    #[arg(long = "default-address-pool", value_name = "POOL")]
    pub default_address_pools: Vec<String>,
    /// MTU of the default bridge's interfaces
    #[arg(long)]
    pub mtu: Option<u32>,
    /// Log level: debug, info, warn, error, fatal
    #[arg(short = 'l', long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// DNS server to forward containers' queries to (instead of the host's resolv.conf ones)
    #[arg(long = "dns", value_name = "IP")]
    pub dns: Vec<String>,
    /// Forwarded DNS queries in flight at most, over all containers
    #[arg(long, value_name = "N")]
    pub dns_max_concurrent: Option<usize>,
    /// Enable IP forwarding (net.ipv4.ip_forward, net.ipv6.conf.all.forwarding) at start
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub ip_forward: Option<bool>,
    /// Let containers of the default bridge talk to each other
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub icc: Option<bool>,
    /// Masquerade the traffic of the default bridge's containers leaving the host
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub ip_masq: Option<bool>,
    /// Serve published ports also with weft's in-process userland proxy (default false: weft's
    /// NAT rules already cover the host's loopback and hairpin; the proxy adds [::1])
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub userland_proxy: Option<bool>,
    /// Daemon configuration file (JSON, dockerd's daemon.json keys)
    #[arg(long, value_name = "PATH")]
    pub config_file: Option<PathBuf>,
    /// Directory of remote plugins (sockets, .spec and .json files), searched instead of Docker's
    /// /run/docker/plugins, /etc/docker/plugins and /usr/lib/docker/plugins; <exec-root>/plugins is always searched first
    #[arg(long = "plugin-dir", value_name = "PATH")]
    pub plugin_dirs: Vec<PathBuf>,
    /// Time limit of one call to a remote plugin, and of the retries to connect to it (like 30s or 500ms)
    #[arg(long, value_name = "DURATION")]
    pub plugin_timeout: Option<String>,
    /// Directory of driver libraries (libweft_driver_<name>.so), searched in the order given, instead
    /// of the drivers/ directory next to weftd, weftd's own directory and /usr/lib/weft/drivers
    #[arg(long = "driver-dir", value_name = "PATH")]
    pub driver_dirs: Vec<PathBuf>,
    /// Time limit of one call into a driver library (like 60s or 2s); a driver that does not answer
    /// in time fails that call and the daemon goes on
    #[arg(long, value_name = "DURATION")]
    pub driver_timeout: Option<String>,
    /// Path to weft-init, the pid 1 of every container (default: weft-init next to weftd)
    #[arg(long, value_name = "PATH")]
    pub init_path: Option<PathBuf>,
    /// Time an API client has to send a request's headers before its connection is closed (like 30s)
    #[arg(long, value_name = "DURATION")]
    pub api_header_timeout: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    data_root: Option<PathBuf>,
    exec_root: Option<PathBuf>,
    hosts: Option<Vec<String>>,
    bip: Option<String>,
    default_address_pools: Option<Vec<FilePool>>,
    mtu: Option<u32>,
    log_level: Option<String>,
    dns: Option<Vec<String>>,
    dns_max_concurrent: Option<usize>,
    ip_forward: Option<bool>,
    icc: Option<bool>,
    ip_masq: Option<bool>,
    userland_proxy: Option<bool>,
    plugin_dir: Option<Vec<PathBuf>>,
    plugin_timeout: Option<String>,
    driver_dir: Option<Vec<PathBuf>>,
    driver_timeout: Option<String>,
    init_path: Option<PathBuf>,
    api_header_timeout: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePool {
    base: String,
    size: u8,
}

/// The daemon's effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_root: PathBuf,
    pub exec_root: PathBuf,
    /// Unix socket path to listen on.
    pub socket: PathBuf,
    /// The default bridge's gateway with the subnet's prefix; `None` picks from the pools.
    pub bip: Option<IpNet>,
    /// `None` keeps IPAM's built-in pools.
    pub default_address_pools: Option<Vec<PoolSpec>>,
    pub mtu: u32,
    pub log_level: String,
    /// `--dns`: the embedded resolver's default upstreams; empty: the host's resolv.conf ones.
    pub dns: Vec<std::net::IpAddr>,
    /// `--dns-max-concurrent`.
    pub dns_max_concurrent: usize,
    /// `--ip-forward`: set the forwarding sysctls at start (Docker's default: yes).
    pub ip_forward: bool,
    /// `--icc`: the default bridge's enable_icc.
    pub icc: bool,
    /// `--ip-masq`: the default bridge's enable_ip_masquerade.
    pub ip_masq: bool,
    /// `--plugin-dir`: where remote plugins are looked for; `None`: Docker's directories.
    pub plugin_dirs: Option<Vec<PathBuf>>,
    /// `--plugin-timeout`: one plugin call's time limit (30 s by default).
    pub plugin_timeout: std::time::Duration,
    /// `--userland-proxy`: published ports served by the in-process proxy too (weft's default:
    /// no; dockerd's: yes).
    pub userland_proxy: bool,
    /// `--driver-dir`: where driver libraries are looked for; `None`: the default directories.
    pub driver_dirs: Option<Vec<PathBuf>>,
    /// `--driver-timeout`: one call into a driver library (60 s by default).
    pub driver_timeout: std::time::Duration,
    /// `--init-path`: `weft-init`, every container's pid 1.
    pub init_path: PathBuf,
    /// `--api-header-timeout`: how long a request's headers may take (30 s by default).
    pub api_header_timeout: std::time::Duration,
}

fn socket_path(host: &str) -> Result<PathBuf> {
    match host.strip_prefix("unix://") {
        Some(p) if p.starts_with('/') => Ok(PathBuf::from(p)),
        Some(p) => bail!("invalid host \"{host}\": the unix socket path \"{p}\" must be absolute"),
        None => bail!("invalid host \"{host}\": weftd listens on unix sockets only (unix:///path)"),
    }
}

fn pick<T>(flag: Option<T>, file: Option<T>, key: &str, both: &mut Vec<String>) -> Option<T> {
    match (flag, file) {
        (Some(_), Some(_)) => {
            both.push(key.to_string());
            None
        }
        (Some(v), None) | (None, Some(v)) => Some(v),
        (None, None) => None,
    }
}

impl Config {
    /// Merge the flags with the configuration file (given, or the default one if it exists).
    pub fn load(flags: Flags) -> Result<Config> {
        let (file, file_path) = match &flags.config_file {
            Some(p) => (read_file(p)?, Some(p.clone())),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                (read_file(Path::new(DEFAULT_CONFIG_FILE))?, Some(PathBuf::from(DEFAULT_CONFIG_FILE)))
            }
            None => (FileConfig::default(), None),
        };
        let mut both = Vec::new();
        let flag_hosts = (!flags.hosts.is_empty()).then_some(flags.hosts);
        let flag_pools = (!flags.default_address_pools.is_empty()).then_some(flags.default_address_pools);
        let file_pools = file
            .default_address_pools
            .map(|v| v.into_iter().map(|p| format!("base={},size={}", p.base, p.size)).collect::<Vec<_>>());
        let data_root = pick(flags.data_root, file.data_root, "data-root", &mut both);
        let exec_root = pick(flags.exec_root, file.exec_root, "exec-root", &mut both);
        let hosts = pick(flag_hosts, file.hosts, "hosts", &mut both);
        let bip = pick(flags.bip, file.bip, "bip", &mut both);
        let pools = pick(flag_pools, file_pools, "default-address-pools", &mut both);
        let mtu = pick(flags.mtu, file.mtu, "mtu", &mut both);
        let log_level = pick(flags.log_level, file.log_level, "log-level", &mut both);
        let flag_dns = (!flags.dns.is_empty()).then_some(flags.dns);
        let dns = pick(flag_dns, file.dns, "dns", &mut both).unwrap_or_default();
        let dns_max_concurrent =
            pick(flags.dns_max_concurrent, file.dns_max_concurrent, "dns-max-concurrent", &mut both);
        let ip_forward = pick(flags.ip_forward, file.ip_forward, "ip-forward", &mut both).unwrap_or(true);
        let icc = pick(flags.icc, file.icc, "icc", &mut both).unwrap_or(true);
        let ip_masq = pick(flags.ip_masq, file.ip_masq, "ip-masq", &mut both).unwrap_or(true);
        let userland_proxy =
            pick(flags.userland_proxy, file.userland_proxy, "userland-proxy", &mut both).unwrap_or(false);
        let flag_plugin_dirs = (!flags.plugin_dirs.is_empty()).then_some(flags.plugin_dirs);
        let plugin_dirs = pick(flag_plugin_dirs, file.plugin_dir, "plugin-dir", &mut both);
        let plugin_timeout = pick(flags.plugin_timeout, file.plugin_timeout, "plugin-timeout", &mut both);
        let flag_driver_dirs = (!flags.driver_dirs.is_empty()).then_some(flags.driver_dirs);
        let driver_dirs = pick(flag_driver_dirs, file.driver_dir, "driver-dir", &mut both);
        let driver_timeout = pick(flags.driver_timeout, file.driver_timeout, "driver-timeout", &mut both);
        let init_path = pick(flags.init_path, file.init_path, "init-path", &mut both);
        let api_header_timeout =
            pick(flags.api_header_timeout, file.api_header_timeout, "api-header-timeout", &mut both);
        if !both.is_empty() {
            bail!(
                "the following directives are specified both as a flag and in the configuration file {}: {}",
                file_path.map(|p| p.display().to_string()).unwrap_or_default(),
                both.join(", ")
            );
        }
        let hosts = hosts.unwrap_or_else(|| vec![DEFAULT_HOST.to_string()]);
        if hosts.len() != 1 {
            bail!("weftd listens on one socket; {} were given", hosts.len());
        }
        let socket = socket_path(&hosts[0])?;
        let default_address_pools = pools
            .map(|v| {
                v.iter()
                    .map(|s| s.parse::<PoolSpec>().map_err(|e| anyhow!("invalid --default-address-pool \"{s}\": {e}")))
                    .collect()
            })
            .transpose()?;
        let bip = match bip {
            Some(b) => Some(b.parse::<IpNet>().map_err(|_| {
                anyhow!("invalid --bip \"{b}\": expected an address with a prefix length, like 172.17.0.1/16")
            })?),
            None if default_address_pools.is_some() => None,
            None => Some(DEFAULT_BIP.parse::<IpNet>()?),
        };
        if let Some(b) = bip {
            if b.addr() == b.network() {
                bail!(
                    "invalid --bip {b}: it is the subnet's own address; give the bridge's address, like {}",
                    DEFAULT_BIP
                );
            }
        }
        let mtu = mtu.unwrap_or(1500);
        if !(68..=65535).contains(&mtu) {
            bail!("invalid --mtu {mtu}: must be from 68 to 65535");
        }
        let log_level = log_level.unwrap_or_else(|| "info".into());
        if !["debug", "info", "warn", "error", "fatal"].contains(&log_level.as_str()) {
            bail!("invalid --log-level \"{log_level}\": use debug, info, warn, error or fatal");
        }
        let dns = dns
            .iter()
            .map(|d| d.trim().parse().map_err(|_| anyhow!("invalid --dns \"{d}\": not an IP address")))
            .collect::<Result<Vec<std::net::IpAddr>>>()?;
        let dns_max_concurrent = dns_max_concurrent.unwrap_or(dns::DnsConfig::default().max_concurrent);
        if dns_max_concurrent == 0 {
            bail!("invalid --dns-max-concurrent 0: allow at least one forwarded query");
        }
        let plugin_timeout = duration("plugin-timeout", plugin_timeout, 30)?;
        let driver_timeout = duration("driver-timeout", driver_timeout, 60)?;
        let api_header_timeout = duration("api-header-timeout", api_header_timeout, 30)?;
        let init_path = match init_path {
            Some(p) => p,
            None => std::env::current_exe()
                .context("cannot find weftd's own path, to find weft-init next to it: give --init-path")?
                .with_file_name(crate::runtime::INIT_PROGRAM),
        };
        Ok(Config {
            data_root: data_root.unwrap_or_else(|| DEFAULT_DATA_ROOT.into()),
            exec_root: exec_root.unwrap_or_else(|| DEFAULT_EXEC_ROOT.into()),
            socket,
            bip,
            default_address_pools,
            mtu,
            log_level,
            dns,
            dns_max_concurrent,
            ip_forward,
            icc,
            ip_masq,
            plugin_dirs,
            plugin_timeout,
            userland_proxy,
            driver_dirs,
            driver_timeout,
            init_path,
            api_header_timeout,
        })
    }
}

/// A duration flag's value (`30s`, `500ms`), or its default in seconds.
fn duration(flag: &str, value: Option<String>, default_secs: u64) -> Result<std::time::Duration> {
    match &value {
        Some(t) => match humantime::parse_duration(t) {
            Ok(d) if !d.is_zero() => Ok(d),
            _ => bail!("invalid --{flag} \"{t}\": expected a duration like 30s or 500ms"),
        },
        None => Ok(std::time::Duration::from_secs(default_secs)),
    }
}

fn read_file(path: &Path) -> Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read configuration file {}", path.display()))?;
    if text.trim().is_empty() {
        return Ok(FileConfig::default());
    }
    serde_json::from_str(&text).with_context(|| format!("invalid configuration file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(args: &[&str]) -> Flags {
        Flags::parse_from(std::iter::once("weftd").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_are_dockers() {
        let c = Config::load(flags(&["--config-file", "/dev/null/none"])).err();
        assert!(c.is_some(), "an unreadable config file is an error");
        let c = Config::load(Flags { config_file: None, ..flags(&[]) });
        // The machine may have /etc/weft/daemon.json; only check when it does not.
        if !Path::new(DEFAULT_CONFIG_FILE).exists() {
            let c = c.unwrap();
            assert_eq!(c.socket, PathBuf::from("/run/weft/weft.sock"));
            assert_eq!(c.data_root, PathBuf::from("/var/lib/weft"));
            assert_eq!(c.bip, Some("172.17.0.1/16".parse().unwrap()));
            assert_eq!(c.mtu, 1500);
            assert!(c.ip_forward && c.icc && c.ip_masq);
        }
        let c = Config::load(flags(&["--config-file", "/dev/null", "--ip-forward=false", "--icc=false"])).unwrap();
        assert!(!c.ip_forward && !c.icc && c.ip_masq);
        let dir = std::env::temp_dir().join(format!("weftd-plugin-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("daemon.json");
        std::fs::write(&f, r#"{"plugin-dir": ["/srv/plugins"], "plugin-timeout": "2s"}"#).unwrap();
        let c = Config::load(flags(&["--config-file", f.to_str().unwrap()])).unwrap();
        assert_eq!(c.plugin_dirs, Some(vec![PathBuf::from("/srv/plugins")]));
        assert_eq!(c.plugin_timeout, std::time::Duration::from_secs(2));
        let e = Config::load(flags(&["--config-file", f.to_str().unwrap(), "--plugin-timeout", "1s"])).unwrap_err();
        assert!(e.to_string().contains("plugin-timeout"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!c.userland_proxy, "weft's default: no userland proxy");
        let c = Config::load(flags(&["--config-file", "/dev/null", "--userland-proxy"])).unwrap();
        assert!(c.userland_proxy);
        let c = Config::load(flags(&["--config-file", "/dev/null", "--userland-proxy=false"])).unwrap();
        assert!(!c.userland_proxy);
    }

    #[test]
    fn file_and_flag_conflict_and_unknown_keys() {
        let dir = std::env::temp_dir().join(format!("weftd-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("daemon.json");
        std::fs::write(&f, r#"{"mtu": 1400, "default-address-pools": [{"base": "10.10.0.0/16", "size": 24}]}"#)
            .unwrap();
        let p = f.to_str().unwrap();
        let c = Config::load(flags(&["--config-file", p])).unwrap();
        assert_eq!(c.mtu, 1400);
        assert_eq!(c.bip, None);
        assert_eq!(c.default_address_pools.unwrap().len(), 1);
        let e = Config::load(flags(&["--config-file", p, "--mtu", "1300"])).unwrap_err().to_string();
        assert!(e.contains("both as a flag and in the configuration file") && e.contains("mtu"), "{e}");
        std::fs::write(&f, r#"{"bogus": 1}"#).unwrap();
        let e = format!("{:#}", Config::load(flags(&["--config-file", p])).unwrap_err());
        assert!(e.contains("unknown field `bogus`"), "{e}");
        let e = Config::load(flags(&["--config-file", "/nonexistent", "-H", "tcp://0.0.0.0:2375"]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read configuration file"), "{e}");
        std::fs::write(&f, "{}").unwrap();
        let e = Config::load(flags(&["--config-file", p, "-H", "tcp://0.0.0.0:2375"])).unwrap_err().to_string();
        assert!(e.contains("unix sockets only"), "{e}");
        std::fs::write(&f, r#"{"dns": ["127.0.0.1"], "dns-max-concurrent": 7}"#).unwrap();
        let c = Config::load(flags(&["--config-file", p])).unwrap();
        assert_eq!((c.dns, c.dns_max_concurrent), (vec!["127.0.0.1".parse::<std::net::IpAddr>().unwrap()], 7));
        let e = Config::load(flags(&["--config-file", p, "--dns", "nope"])).unwrap_err().to_string();
        assert!(e.contains("both as a flag") && e.contains("dns"), "{e}");
        std::fs::write(&f, r#"{"userland-proxy": true}"#).unwrap();
        assert!(Config::load(flags(&["--config-file", p])).unwrap().userland_proxy);
        let e = Config::load(flags(&["--config-file", p, "--userland-proxy=false"])).unwrap_err().to_string();
        assert!(e.contains("both as a flag") && e.contains("userland-proxy"), "{e}");
        std::fs::write(&f, "{}").unwrap();
        let e = Config::load(flags(&["--config-file", p, "--dns", "nope"])).unwrap_err().to_string();
        assert!(e.contains("invalid --dns \"nope\""), "{e}");
        let e = Config::load(flags(&["--config-file", p, "--dns-max-concurrent", "0"])).unwrap_err().to_string();
        assert!(e.contains("--dns-max-concurrent 0"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
