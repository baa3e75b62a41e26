//! weftd: load the configuration, take the data root, build the controller with its drivers,
//! restore, make the predefined networks, and serve the API until SIGTERM or SIGINT.

pub mod config;
pub mod drivers;
pub mod kernel;
mod predefined;
mod serve;

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use axum::extract::Request;
use ipnet::IpNet;
use libnet::osl::Netlink;
use libnet::{Controller, ControllerConfig};
use nix::fcntl::{Flock, FlockArg};
use tokio::net::UnixListener;
use tower::ServiceExt as _;

use crate::api;
pub use config::{Config, Flags};

/// Make `dir` (and its parents) and keep it to root: the data root holds every container's
/// environment (its `-e` secrets) and logs, the exec root the containers' state. Docker's own
/// roots are 0710 and 0700; weft's are both 0700 (no user namespace remapping needs the x bit).
fn private_dir(dir: &Path, what: &str) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {what} {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("cannot make {what} {} private (mode 0700)", dir.display()))
}

/// Hold the data root's lock for the daemon's lifetime: two daemons on one store would corrupt it.
fn lock_data_root(data_root: &Path) -> Result<Flock<File>> {
    private_dir(data_root, "data root")?;
    let path = data_root.join("weftd.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|_| {
        anyhow!("another weftd is running with data root {} (it holds {})", data_root.display(), path.display())
    })
}

/// Bind the unix socket; a stale file is replaced, a live daemon on it is an error.
fn bind_socket(path: &Path) -> Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            bail!("another daemon is listening on {}", path.display());
        }
        std::fs::remove_file(path).with_context(|| format!("cannot remove stale socket {}", path.display()))?;
    }
    let listener = UnixListener::bind(path).with_context(|| format!("cannot listen on {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    Ok(listener)
}

/// Build the controller with the drivers of the driver libraries and the default IPAM; also
/// returns the libraries found, for `weft plugin ls`.
pub fn build_controller(config: &Config) -> Result<(Controller, Vec<drivers::Library>)> {
    let mut c = Controller::new(ControllerConfig::new(&config.data_root, &config.exec_root))?;
    let libraries = drivers::load(config, &mut c)?;
    let mut ipam_config = ipam::IpamConfig::default();
    if let Some(pools) = &config.default_address_pools {
        ipam_config.local_pools = pools.clone();
    }
    let routes = Mutex::new(Netlink::new()?);
    let host_routes: ipam::HostRoutes = Box::new(move |v6| {
        let Ok(mut nl) = routes.lock() else { return Vec::new() };
        match nl.routes_of(v6) {
            Ok(r) => r.into_iter().map(|r| r.destination).collect::<Vec<IpNet>>(),
            Err(e) => {
                tracing::warn!("cannot list the host's routes: {e}");
                Vec::new()
            }
        }
    });
    c.register_ipam(Arc::new(ipam::DefaultIpam::new(ipam_config, host_routes)));
    Ok((c, libraries))
}

/// The resolver of remote plugins: weft's own `<exec-root>/plugins` first, then `--plugin-dir`s or
/// Docker's directories.
pub fn plugin_resolver(config: &Config) -> Arc<driver_remote::RemoteResolver> {
    let dirs = match &config.plugin_dirs {
        Some(d) => driver_remote::PluginDirs::of(d.iter().cloned()),
        None => driver_remote::PluginDirs::docker(),
    };
    let dirs = dirs.with_first(config.exec_root.join("plugins"));
    let options = driver_remote::CallOptions { timeout: config.plugin_timeout, retry_for: config.plugin_timeout };
    Arc::new(driver_remote::RemoteResolver::new(dirs, options))
}

/// Run the daemon until it is told to stop.
/// Raise the soft limit of open descriptors (to the hard one, at most 65536): each running
/// container holds a few in weftd (its pidfd, its resolver's sockets). Containers inherit it.
fn raise_descriptor_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) if soft < hard.min(1 << 16) => {
            let want = hard.min(1 << 16);
            if let Err(e) = setrlimit(Resource::RLIMIT_NOFILE, want, hard) {
                tracing::warn!("cannot raise the open-file limit from {soft} to {want}: {e}");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("cannot read the open-file limit: {e}"),
    }
}

pub async fn run(config: Config) -> Result<()> {
    kernel::check()?;
    if !config.init_path.is_file() {
        bail!(
            "invalid --init-path {}: no such program (weft-init, every container's pid 1, is built and installed next to weftd)",
            config.init_path.display()
        );
    }
    let _lock = lock_data_root(&config.data_root)?;
    private_dir(&config.exec_root, "exec root")?;
    raise_descriptor_limit();
    if config.ip_forward {
        // Docker's --ip-forward: containers reach beyond the host only if the host routes.
        let changed = libnet::osl::firewall::enable_ip_forward(true).context("cannot enable IP forwarding")?;
        for c in changed {
            tracing::info!("--ip-forward: set {c}");
        }
    }
    if config.userland_proxy {
        tracing::info!("--userland-proxy: the host's loopback and containers reach published ports through the proxy");
    }
    let (mut controller, libraries) = build_controller(&config)?;
    let plugins = plugin_resolver(&config);
    controller.set_driver_resolver(Arc::new(drivers::Resolver::new(&libraries, plugins.clone())));
    let report = controller.restore().context("cannot restore the store")?;
    for f in &report.failed {
        tracing::error!("restore: {f}");
    }
    for r in &report.removed {
        tracing::info!("restore removed {r}, which the store does not know");
    }
    tracing::info!(
        networks = report.networks,
        endpoints = report.endpoints,
        sandboxes = report.sandboxes,
        "store restored"
    );
    predefined::ensure(&mut controller, &config).context("cannot create the predefined networks")?;
    let listener = bind_socket(&config.socket)?;
    let controller = Arc::new(Mutex::new(controller));
    let (data_root, exec_root, init) = (config.data_root.clone(), config.exec_root.clone(), config.init_path.clone());
    let c2 = controller.clone();
    // Stops what an earlier daemon left running and releases its networking (see containers).
    let containers =
        tokio::task::spawn_blocking(move || crate::containers::Manager::new(c2, &data_root, &exec_root, &init))
            .await?
            .context("cannot restore the containers")?;
    let dns_config = dns::DnsConfig { max_concurrent: config.dns_max_concurrent, ..Default::default() };
    let dns = Arc::new(dns::DnsService::new(dns_config, tokio::runtime::Handle::current()));
    containers.set_dns(crate::containers::DnsWiring { service: dns.clone(), default_servers: config.dns.clone() });
    let state = api::AppState::new(controller, containers.clone()).with_plugins(plugins).with_libraries(libraries);
    let router = api::router(state);
    // Docker clients prefix paths with /v1.NN; strip it before routing.
    let service = tower::service_fn(move |req: Request| {
        let router = router.clone();
        async move {
            match api::strip_version(req) {
                Ok(req) => router.oneshot(req).await,
                Err(resp) => Ok(*resp),
            }
        }
    });
    tracing::info!(socket = %config.socket.display(), "weftd is listening");
    let shutdown = async move {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return,
        };
        tokio::select! {
            _ = term.recv() => {},
            _ = tokio::signal::ctrl_c() => {},
        }
        tracing::info!("shutting down");
        // Before the server drains its connections: waits and followed logs end when their
        // containers do, so stopping the containers first lets the drain finish.
        containers.shutdown().await;
    };
    serve::serve(listener, service, config.api_header_timeout, shutdown).await?;
    let _ = std::fs::remove_file(&config.socket);
    // Every container has stopped and released its resolver; this is for any left by a failure.
    let _ = tokio::task::spawn_blocking(move || dns.stop_all()).await;
    Ok(())
}
