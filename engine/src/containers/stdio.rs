//! The standard streams of containers that have a stdin or a terminal, kept in weftd's memory
//! for one run: where attached clients' input goes (the write end of the stdin pipe, or the
//! terminal's master), the master for resizes, and the pump that copies a terminal's output to
//! the container's log, from which attached clients and `logs` read it.
//!
//! An attach may come before the start (`weft run -i` attaches first): it finds the run's entry
//! made, and waits on `input` until the start fills it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use tokio::sync::watch;

use super::{logs, ContainerError, ContainerRecord};
use crate::runtime;

/// One run's streams.
pub struct ContainerIo {
    input: watch::Sender<Option<Arc<File>>>,
    master: Mutex<Option<Arc<File>>>,
    /// A size asked for before the terminal existed, applied when it does.
    size: Mutex<Option<(u16, u16)>>,
    pump: Mutex<Option<JoinHandle<()>>>,
}

impl ContainerIo {
    fn new() -> ContainerIo {
        ContainerIo {
            input: watch::channel(None).0,
            master: Mutex::new(None),
            size: Mutex::new(None),
            pump: Mutex::new(None),
        }
    }

    /// Where input goes: `None` until the container runs with a stdin, and again once it is closed.
    pub fn input(&self) -> watch::Receiver<Option<Arc<File>>> {
        self.input.subscribe()
    }

    /// Close the container's stdin (a client's input ended and the container has `StdinOnce`):
    /// the command reads end of file once no one else writes.
    pub fn close_input(&self) {
        self.input.send_replace(None);
    }

    /// Set the terminal's size, now or when it exists.
    pub fn resize(&self, rows: u16, cols: u16) -> Result<(), ContainerError> {
        let master = self.master.lock().ok().and_then(|m| m.clone());
        match master {
            Some(m) => runtime::pty::resize(&m, rows, cols)
                .map_err(|e| ContainerError::Internal(format!("cannot resize the terminal: {e}"))),
            None => {
                if let Ok(mut s) = self.size.lock() {
                    *s = Some((rows, cols));
                }
                Ok(())
            }
        }
    }
}

/// Every container run that has streams, by container id.
#[derive(Default)]
pub struct IoTable {
    runs: Mutex<HashMap<String, Arc<ContainerIo>>>,
}

impl IoTable {
    /// The streams of the container's current (or next) run, made if need be.
    pub fn get_or_create(&self, id: &str) -> Arc<ContainerIo> {
        match self.runs.lock() {
            Ok(mut runs) => runs.entry(id.to_string()).or_insert_with(|| Arc::new(ContainerIo::new())).clone(),
            Err(_) => Arc::new(ContainerIo::new()),
        }
    }

    pub fn get(&self, id: &str) -> Option<Arc<ContainerIo>> {
        self.runs.lock().ok().and_then(|runs| runs.get(id).cloned())
    }

    /// The run is over (the container's processes are gone): wait until the terminal's output is
    /// all in the log, then drop the streams.
    pub fn end(&self, id: &str) {
        let Some(io) = self.runs.lock().ok().and_then(|mut runs| runs.remove(id)) else { return };
        io.close_input();
        let pump = io.pump.lock().ok().and_then(|mut p| p.take());
        if let Some(pump) = pump {
            let _ = pump.join();
        }
    }
}

/// The streams of one start, before the process exists.
pub struct Prepared {
    io: Option<Arc<ContainerIo>>,
    /// Our end of the stdin pipe.
    writer: Option<File>,
    /// The process's end of the stdin pipe.
    pub stdin: Option<File>,
    pub tty: bool,
}

/// Prepare the streams for a start of `rec`: a stdin pipe with `OpenStdin` and no terminal.
pub fn prepare(table: &IoTable, rec: &ContainerRecord) -> Result<Prepared, ContainerError> {
    let (open_stdin, tty) = (rec.config.open_stdin, rec.config.tty);
    if !open_stdin && !tty {
        return Ok(Prepared { io: None, writer: None, stdin: None, tty });
    }
    let io = table.get_or_create(&rec.id);
    let (stdin, writer) = if open_stdin && !tty {
        let (read, write) = pipe()?;
        (Some(read), Some(write))
    } else {
        (None, None)
    };
    Ok(Prepared { io: Some(io), writer, stdin, tty })
}

impl Prepared {
    /// The process runs: hand its input to attached clients, and pump its terminal to the log.
    pub fn started(self, container: &mut runtime::Container, open_stdin: bool, log_dir: &Path) {
        let Some(io) = self.io else { return };
        let Some(master) = container.take_console() else {
            io.input.send_replace(self.writer.map(Arc::new));
            return;
        };
        let master = Arc::new(master);
        if let Some((rows, cols)) = io.size.lock().ok().and_then(|mut s| s.take()) {
            let _ = runtime::pty::resize(&master, rows, cols);
        }
        if let Ok(mut m) = io.master.lock() {
            *m = Some(master.clone());
        }
        if open_stdin {
            io.input.send_replace(Some(master.clone()));
        }
        let log = log_dir.join(logs::STDOUT);
        let pump = std::thread::Builder::new().name("tty-pump".into()).spawn(move || pump(&master, &log));
        match pump {
            Ok(handle) => {
                if let Ok(mut p) = io.pump.lock() {
                    *p = Some(handle);
                }
            }
            Err(e) => tracing::error!("cannot start the terminal's output pump: {e}"),
        }
    }
}

/// Copy the terminal's output to the log until the terminal hangs up (EIO once every slave is
/// closed), as Docker logs a terminal: one raw stream on stdout.
fn pump(master: &File, log: &Path) {
    let mut file =
        match std::os::unix::fs::OpenOptionsExt::mode(File::options().create(true).append(true), 0o600).open(log) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!("open log {}: {e}", log.display());
                return;
            }
        };
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match (&*master).read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if let Err(e) = file.write_all(&buf[..n]) {
                    tracing::error!("write log {}: {e}", log.display());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// A close-on-exec pipe as (read, write) files.
pub fn pipe() -> Result<(File, File), ContainerError> {
    let (read, write): (OwnedFd, OwnedFd) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| ContainerError::Internal(format!("cannot create a pipe: {e}")))?;
    Ok((File::from(read), File::from(write)))
}

/// `/dev/null`, for a stream no one attached.
pub fn null() -> Result<File, ContainerError> {
    File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| ContainerError::Internal(format!("cannot open /dev/null: {e}")))
}

impl super::Manager {
    /// The streams of the container's current (or next) run, for an attach.
    pub fn container_io(&self, id: &str) -> Arc<ContainerIo> {
        self.inner.io.get_or_create(id)
    }

    /// Set the size of a running container's terminal (nothing without one).
    pub fn resize(&self, key: &str, rows: u16, cols: u16) -> Result<(), ContainerError> {
        let rec = self.get(key)?;
        if !rec.running() {
            return Err(ContainerError::Conflict(format!("Container {} is not running", rec.id)));
        }
        match self.inner.io.get(&rec.id) {
            Some(io) => io.resize(rows, cols),
            None => Ok(()),
        }
    }
}
