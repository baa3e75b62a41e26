//! `weft plugin serve DRIVER --socket PATH`: one of weft's network drivers served over Docker's
//! plugin protocol, in the foreground and without weftd, so that dockerd (or any CNM
//! implementation) can use it as a remote network driver.
//!
//! The socket's file is this process's: a stale one is replaced, a live one is refused, and it is
//! removed when the server stops (SIGINT or SIGTERM).

use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Command;
use serde_json::{Map, Value};

use super::args::PluginServeArgs;
use super::console::Console;
use super::errors::{CliError, EXIT_FLAG_ERROR};
use super::help::help;
use super::plugin_drivers::load_driver;
use super::usage::{check_arity, Arity};

/// Runs `weft plugin serve` until it is told to stop.
pub fn run(console: &mut Console, root: &Command, a: PluginServeArgs) -> Result<(), CliError> {
    if a.help.help {
        console.out(&help(root, &["weft".into(), "plugin".into(), "serve".into()]));
        return Ok(());
    }
    check_arity(root, &["weft", "plugin", "serve"], &a.args, Arity::Exactly(1))?;
    let socket = match a.socket.as_deref() {
        Some(s) if !s.is_empty() => PathBuf::from(s.strip_prefix("unix://").unwrap_or(s)),
        _ => {
            return Err(CliError::with_code(
                EXIT_FLAG_ERROR,
                "weft plugin serve: --socket is required (Docker finds plugins at /run/docker/plugins/NAME.sock)",
            ))
        }
    };
    let options = parse_options(&a.driver_opts.opt)?;
    check_socket(&socket)?;
    let name = &a.args[0];
    let dirs: Vec<PathBuf> = a.driver_dirs.iter().map(PathBuf::from).collect();
    let driver = load_driver(name, &options, &dirs)?;
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failed(format!("cannot start the server's runtime: {e}")))?;
    let listener = runtime.block_on(async { bind(&socket) })?;
    let _remove = RemoveOnExit::of(&socket);
    console.err(&format!("serving the {name} driver on unix://{} (SIGINT or SIGTERM stops it)\n", socket.display()));
    let server = driver_remote::PluginServer::new(driver);
    let stopping = Arc::new(tokio::sync::Notify::new());
    let notify = stopping.clone();
    let shutdown = async move {
        stop_signal().await;
        notify.notify_one();
    };
    let served = runtime.block_on(async {
        tokio::select! {
            served = server.serve(listener, shutdown) => {
                served.map_err(|e| CliError::failed(format!("serving on {}: {e}", socket.display())))
            }
            // Calls in progress get a bounded time to end; a driver call stuck in the kernel does
            // not keep the process.
            () = async { stopping.notified().await; tokio::time::sleep(DRAIN).await } => {
                tracing::warn!("calls still in progress after {DRAIN:?}; stopping anyway");
                Ok(())
            }
        }
    });
    // Not the runtime's drop, which would wait for a driver call stuck in the kernel forever.
    runtime.shutdown_timeout(Duration::from_secs(1));
    served
}

/// How long calls in progress may take to end once the server is told to stop.
const DRAIN: Duration = Duration::from_secs(10);

/// `--opt key=value ...` as a JSON object of strings; a key given twice is an error.
fn parse_options(opts: &[String]) -> Result<Value, CliError> {
    let mut map = Map::new();
    for o in opts {
        let Some((k, v)) = o.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(CliError::with_code(
                EXIT_FLAG_ERROR,
                format!("invalid argument \"{o}\" for \"-o, --opt\" flag: expected key=value"),
            ));
        };
        if map.insert(k.to_string(), Value::String(v.to_string())).is_some() {
            return Err(CliError::with_code(EXIT_FLAG_ERROR, format!("option {k} is given more than once")));
        }
    }
    Ok(Value::Object(map))
}

/// Refuse a socket something listens on, or a path that is not a socket; remove a stale one.
/// Done before the driver is made, so a refusal changes nothing.
fn check_socket(path: &Path) -> Result<(), CliError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(CliError::failed(format!("cannot check {}: {e}", path.display()))),
    };
    if !meta.file_type().is_socket() {
        return Err(CliError::failed(format!(
            "{} exists and is not a socket: choose another --socket",
            path.display()
        )));
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(CliError::failed(format!(
            "something is already listening on {}: stop it, or choose another --socket",
            path.display()
        )));
    }
    std::fs::remove_file(path)
        .map_err(|e| CliError::failed(format!("cannot remove stale socket {}: {e}", path.display())))
}

/// Listen on `path` (its directory made if missing), readable and writable by root's group only.
fn bind(path: &Path) -> Result<tokio::net::UnixListener, CliError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| CliError::failed(format!("cannot create {}: {e}", dir.display())))?;
    }
    let listener = tokio::net::UnixListener::bind(path)
        .map_err(|e| CliError::failed(format!("cannot listen on {}: {e}", path.display())))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| CliError::failed(format!("cannot set the mode of {}: {e}", path.display())))?;
    Ok(listener)
}

/// Removes the socket file when serving ends, unless another server has replaced it since.
struct RemoveOnExit {
    path: PathBuf,
    inode: Option<(u64, u64)>,
}

impl RemoveOnExit {
    fn of(path: &Path) -> RemoveOnExit {
        let inode = std::fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()));
        RemoveOnExit { path: path.to_path_buf(), inode }
    }
}

impl Drop for RemoveOnExit {
    fn drop(&mut self) {
        let now = std::fs::symlink_metadata(&self.path).ok().map(|m| (m.dev(), m.ino()));
        if now.is_some() && now == self.inode {
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::warn!("cannot remove {}: {e}", self.path.display());
            }
        }
    }
}

/// Completes at the first SIGINT or SIGTERM.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        // Without signal handlers the default action (exit) still stops the server.
        _ => std::future::pending::<()>().await,
    }
    tracing::info!("stopping");
}

/// Driver errors and, with RUST_LOG, each call go to stderr. Through a descriptor of its own:
/// `weft`'s main thread holds the lock of `std::io::stderr()` while a command runs, and the
/// server's threads would wait for it forever.
fn init_logging() {
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else { return };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(std::fs::File::from(fd)))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_key_value_pairs() {
        let o = parse_options(&["userland-proxy=true".into(), "x=a=b".into()]).unwrap();
        assert_eq!(o, serde_json::json!({"userland-proxy": "true", "x": "a=b"}));
        let e = parse_options(&["novalue".into()]).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (125, "invalid argument \"novalue\" for \"-o, --opt\" flag: expected key=value")
        );
        assert_eq!(
            parse_options(&["a=1".into(), "a=2".into()]).unwrap_err().message,
            "option a is given more than once"
        );
    }

    #[test]
    fn a_live_socket_is_refused_and_a_stale_one_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.sock");
        let live = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let e = check_socket(&path).unwrap_err().message;
        assert_eq!(
            e,
            format!("something is already listening on {}: stop it, or choose another --socket", path.display())
        );
        drop(live);
        check_socket(&path).unwrap();
        assert!(!path.exists());
        std::fs::write(&path, b"x").unwrap();
        assert!(check_socket(&path)
            .unwrap_err()
            .message
            .ends_with("exists and is not a socket: choose another --socket"));
    }
}
