//! Plugin discovery as Docker does it: a unix socket `<name>.sock` (or `<name>/<name>.sock`) in a
//! socket directory, else a spec file `<name>.spec` (a URL) or `<name>.json` (Docker's JSON spec,
//! with TLS settings) in a spec directory. The first match wins.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;

/// Docker's directory of plugin sockets.
pub const DOCKER_SOCKET_DIR: &str = "/run/docker/plugins";
/// Docker's directories of spec files.
pub const DOCKER_SPEC_DIRS: [&str; 2] = ["/etc/docker/plugins", "/usr/lib/docker/plugins"];

/// Where plugins are looked for, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginDirs {
    /// Directories holding `<name>.sock` or `<name>/<name>.sock`.
    pub sockets: Vec<PathBuf>,
    /// Directories holding `<name>.spec` / `<name>.json`, or the same under `<name>/`.
    pub specs: Vec<PathBuf>,
}

impl PluginDirs {
    /// Docker's directories.
    pub fn docker() -> PluginDirs {
        PluginDirs {
            sockets: vec![PathBuf::from(DOCKER_SOCKET_DIR)],
            specs: DOCKER_SPEC_DIRS.iter().map(PathBuf::from).collect(),
        }
    }

    /// These directories, each searched for sockets and for spec files (tests, and weftd's
    /// `--plugin-dir`).
    pub fn of(dirs: impl IntoIterator<Item = PathBuf>) -> PluginDirs {
        let dirs: Vec<PathBuf> = dirs.into_iter().collect();
        PluginDirs { sockets: dirs.clone(), specs: dirs }
    }

    /// Search `dir` (for sockets and spec files) before the others.
    pub fn with_first(mut self, dir: PathBuf) -> PluginDirs {
        self.sockets.insert(0, dir.clone());
        self.specs.insert(0, dir);
        self
    }

    /// Find the plugin `name`. `Ok(None)` when no directory has it; an error when its spec file
    /// is unreadable or wrong.
    pub fn find(&self, name: &str) -> Result<Option<PluginSpec>, Error> {
        if !valid_name(name) {
            return Ok(None);
        }
        for dir in &self.sockets {
            for path in [dir.join(format!("{name}.sock")), dir.join(name).join(format!("{name}.sock"))] {
                if is_socket(&path) {
                    return Ok(Some(PluginSpec {
                        name: name.to_string(),
                        address: Address::Unix(path.clone()),
                        tls: None,
                        source: path,
                    }));
                }
            }
        }
        for dir in &self.specs {
            for ext in ["spec", "json"] {
                for path in [dir.join(format!("{name}.{ext}")), dir.join(name).join(format!("{name}.{ext}"))] {
                    if path.is_file() {
                        return read_spec(name, &path).map(Some);
                    }
                }
            }
        }
        Ok(None)
    }

    /// Every plugin name the directories hold, each with what [`PluginDirs::find`] makes of it.
    pub fn scan(&self) -> BTreeMap<String, Result<PluginSpec, Error>> {
        let mut names = Vec::new();
        let entries = |dir: &Path| -> Vec<(String, bool)> {
            std::fs::read_dir(dir)
                .map(|d| {
                    d.flatten().map(|e| (e.file_name().to_string_lossy().into_owned(), e.path().is_dir())).collect()
                })
                .unwrap_or_default()
        };
        for dir in self.sockets.iter().chain(self.specs.iter()) {
            for (file, is_dir) in entries(dir) {
                if is_dir {
                    names.push(file);
                    continue;
                }
                for ext in [".sock", ".spec", ".json"] {
                    if let Some(n) = file.strip_suffix(ext) {
                        names.push(n.to_string());
                    }
                }
            }
        }
        let mut out = BTreeMap::new();
        for n in names {
            if out.contains_key(&n) {
                continue;
            }
            match self.find(&n) {
                Ok(Some(spec)) => {
                    out.insert(n, Ok(spec));
                }
                Ok(None) => {}
                Err(e) => {
                    out.insert(n, Err(e));
                }
            }
        }
        out
    }
}

/// A plugin name is a file name: no path separators, no `.`/`..`.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

fn is_socket(path: &Path) -> bool {
    std::fs::metadata(path).map(|m| m.file_type().is_socket()).unwrap_or(false)
}

/// Where a plugin listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Unix(PathBuf),
    /// `host:port`.
    Tcp(String),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "unix://{}", p.display()),
            Address::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

/// The TLS settings of a `.json` spec (Docker's `TLSConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TlsSettings {
    #[serde(rename = "InsecureSkipVerify", default)]
    pub insecure_skip_verify: bool,
    #[serde(rename = "CAFile", default)]
    pub ca_file: String,
    #[serde(rename = "CertFile", default)]
    pub cert_file: String,
    #[serde(rename = "KeyFile", default)]
    pub key_file: String,
}

/// A plugin found: its name, its address, and the file that told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSpec {
    pub name: String,
    pub address: Address,
    /// Set when the plugin must be reached over TLS (an `https://` address).
    pub tls: Option<TlsSettings>,
    /// The socket or spec file it was found by.
    pub source: PathBuf,
}

#[derive(Deserialize)]
struct JsonSpec {
    #[serde(rename = "Name", default)]
    _name: String,
    #[serde(rename = "Addr")]
    addr: String,
    #[serde(rename = "TLSConfig", default)]
    tls: Option<TlsSettings>,
}

fn read_spec(name: &str, path: &Path) -> Result<PluginSpec, Error> {
    let bad = |reason: String| Error::Spec { path: path.to_path_buf(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let (url, tls) = if path.extension().is_some_and(|e| e == "json") {
        let spec: JsonSpec = serde_json::from_str(&text).map_err(|e| bad(format!("invalid JSON spec: {e}")))?;
        (spec.addr, spec.tls)
    } else {
        (text.trim().to_string(), None)
    };
    let (address, tls) = parse_url(&url, tls).map_err(bad)?;
    Ok(PluginSpec { name: name.to_string(), address, tls, source: path.to_path_buf() })
}

/// A spec's URL: `unix:///path`, or `tcp://host:port` (also `http://`); `https://` asks for TLS.
/// Like Docker, the TLS settings are used only for an `https` URL.
fn parse_url(url: &str, tls: Option<TlsSettings>) -> Result<(Address, Option<TlsSettings>), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("\"{url}\" is not a URL: expected unix:///path or tcp://host:port"));
    };
    match scheme {
        "unix" if rest.starts_with('/') => Ok((Address::Unix(PathBuf::from(rest)), None)),
        "unix" => Err(format!("\"{url}\": the socket path must be absolute")),
        "tcp" | "http" | "https" => {
            let host = rest.split('/').next().unwrap_or("");
            if !host.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok()) {
                return Err(format!("\"{url}\": expected host:port after {scheme}://"));
            }
            let tls = (scheme == "https").then(|| tls.unwrap_or_default());
            Ok((Address::Tcp(host.to_string()), tls))
        }
        other => Err(format!("\"{url}\": unsupported protocol \"{other}\" (use unix:// or tcp://)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn sockets_first_then_spec_files_in_order() {
        let t = tempfile::tempdir().unwrap();
        let (socks, specs1, specs2) = (t.path().join("run"), t.path().join("etc"), t.path().join("lib"));
        for d in [&socks, &specs1, &specs2, &socks.join("nested")] {
            std::fs::create_dir_all(d).unwrap();
        }
        let _a = UnixListener::bind(socks.join("flat.sock")).unwrap();
        let _b = UnixListener::bind(socks.join("nested").join("nested.sock")).unwrap();
        std::fs::write(specs1.join("flat.spec"), "tcp://10.0.0.1:80").unwrap();
        std::fs::write(specs1.join("viaspec.spec"), " unix:///run/x.sock\n").unwrap();
        std::fs::write(specs2.join("viaspec.spec"), "tcp://127.0.0.1:1").unwrap();
        std::fs::write(specs2.join("tcp.spec"), "tcp://127.0.0.1:8080").unwrap();
        std::fs::write(
            specs2.join("secure.json"),
            r#"{"Name":"secure","Addr":"https://example.test:443","TLSConfig":{"InsecureSkipVerify":true,"CAFile":"/ca.pem"}}"#,
        )
        .unwrap();
        std::fs::write(
            specs2.join("plainjson.json"),
            r#"{"Name":"plainjson","Addr":"tcp://127.0.0.1:9","TLSConfig":{"CAFile":"/ca.pem"}}"#,
        )
        .unwrap();
        std::fs::write(specs2.join("ftp.spec"), "ftp://x:1").unwrap();
        let dirs = PluginDirs { sockets: vec![socks.clone()], specs: vec![specs1.clone(), specs2.clone()] };

        let f = dirs.find("flat").unwrap().unwrap();
        assert_eq!(f.address, Address::Unix(socks.join("flat.sock")));
        assert_eq!(
            dirs.find("nested").unwrap().unwrap().address.to_string(),
            format!("unix://{}/nested/nested.sock", socks.display())
        );
        assert_eq!(dirs.find("viaspec").unwrap().unwrap().address, Address::Unix("/run/x.sock".into()));
        assert_eq!(dirs.find("tcp").unwrap().unwrap().address, Address::Tcp("127.0.0.1:8080".into()));
        let s = dirs.find("secure").unwrap().unwrap();
        assert_eq!(s.address, Address::Tcp("example.test:443".into()));
        assert!(s.tls.as_ref().is_some_and(|t| t.insecure_skip_verify && t.ca_file == "/ca.pem"));
        assert_eq!(dirs.find("plainjson").unwrap().unwrap().tls, None);
        let e = dirs.find("ftp").unwrap_err().to_string();
        assert!(e.contains("ftp.spec") && e.contains("unsupported protocol \"ftp\""), "{e}");
        assert_eq!(dirs.find("absent").unwrap(), None);
        assert_eq!(dirs.find("../etc/flat").unwrap(), None);

        let all = dirs.scan();
        let names: Vec<&str> = all.keys().map(String::as_str).collect();
        assert_eq!(names, ["flat", "ftp", "nested", "plainjson", "secure", "tcp", "viaspec"]);
        assert!(all["ftp"].is_err());
    }

    #[test]
    fn urls_are_checked() {
        assert!(parse_url("unix://relative.sock", None).unwrap_err().contains("absolute"));
        assert!(parse_url("tcp://nohost", None).unwrap_err().contains("host:port"));
        assert!(parse_url("/just/a/path", None).unwrap_err().contains("not a URL"));
        assert_eq!(parse_url("http://h:1/x", None).unwrap().0, Address::Tcp("h:1".into()));
    }
}
