//! Exec instances (`weft exec`): made by `POST /containers/{id}/exec`, started once, inspected
//! for their exit code. As in Docker they live in weftd's memory only, and go with their
//! container.

use std::collections::HashMap;
use std::fs::File;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::{lock, stdio, ContainerError, Manager};
use crate::runtime;

/// What a client asks for at `POST /containers/{id}/exec`.
#[derive(Debug, Clone, Default)]
pub struct ExecConfig {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub tty: bool,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    /// `User`: `user[:group]` to run as instead of the container's user.
    pub user: String,
    /// `Privileged`: every capability for this process.
    pub privileged: bool,
}

/// Where an exec instance is in its life.
#[derive(Debug, Clone, Default)]
pub struct ExecStatus {
    pub started: bool,
    pub running: bool,
    pub exit_code: Option<i32>,
    pub pid: u32,
}

/// One exec instance.
pub struct ExecInstance {
    pub id: String,
    pub container_id: String,
    pub config: ExecConfig,
    status: Mutex<ExecStatus>,
    master: Mutex<Option<Arc<File>>>,
    /// The exit code, once the process has ended.
    done: watch::Sender<Option<i32>>,
}

impl ExecInstance {
    pub fn status(&self) -> ExecStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Set the window size of the process's terminal.
    pub fn resize(&self, rows: u16, cols: u16) -> Result<(), ContainerError> {
        let master = self.master.lock().ok().and_then(|m| m.clone());
        let Some(master) = master else {
            return Err(ContainerError::Conflict(format!("exec {} has no terminal to resize", self.id)));
        };
        runtime::pty::resize(&master, rows, cols)
            .map_err(|e| ContainerError::Internal(format!("cannot resize the terminal of exec {}: {e}", self.id)))
    }
}

/// The streams of a started exec: `output` is (stream, pipe), stream 0 for a terminal's raw
/// output, 1 stdout, 2 stderr; `done` gets the exit code.
pub struct ExecStreams {
    pub input: Option<File>,
    pub output: Vec<(u8, File)>,
    pub done: watch::Receiver<Option<i32>>,
}

/// The exec instances of every container.
#[derive(Default)]
pub struct Registry {
    execs: Mutex<HashMap<String, Arc<ExecInstance>>>,
}

impl Registry {
    /// Forget the exec instances of a removed container.
    pub fn drop_container(&self, container_id: &str) {
        if let Ok(mut execs) = self.execs.lock() {
            execs.retain(|_, e| e.container_id != container_id);
        }
    }
}

fn not_running(id: &str) -> ContainerError {
    ContainerError::Conflict(format!("container {id} is not running"))
}

impl Manager {
    /// Make an exec instance in a running container; its id.
    pub fn exec_create(&self, container: &str, config: ExecConfig) -> Result<String, ContainerError> {
        let rec = self.get(container)?;
        if !rec.running() {
            return Err(not_running(&rec.id));
        }
        if config.cmd.is_empty() || config.cmd[0].is_empty() {
            return Err(ContainerError::InvalidParameter("No exec command specified".into()));
        }
        let id = libnet::ids::random_hex_id();
        let exec = ExecInstance {
            id: id.clone(),
            container_id: rec.id,
            config,
            status: Mutex::new(ExecStatus::default()),
            master: Mutex::new(None),
            done: watch::channel(None).0,
        };
        lock(&self.inner.execs.execs)?.insert(id.clone(), Arc::new(exec));
        Ok(id)
    }

    /// The exec instance `id`.
    pub fn exec_get(&self, id: &str) -> Result<Arc<ExecInstance>, ContainerError> {
        lock(&self.inner.execs.execs)?.get(id).cloned().ok_or_else(|| ContainerError::NoSuchExec(id.to_string()))
    }

    /// Start exec instance `id`; `detach` sends its output nowhere. Blocking.
    pub fn exec_start(&self, id: &str, detach: bool) -> Result<ExecStreams, ContainerError> {
        let exec = self.exec_get(id)?;
        {
            let mut status = lock(&exec.status)?;
            if status.running {
                return Err(ContainerError::Conflict(format!("Error: Exec command {id} is already running")));
            }
            if status.started {
                return Err(ContainerError::Conflict(format!("Error: Exec command {id} has already run")));
            }
            status.started = true;
        }
        let rec = self.get(&exec.container_id)?;
        if !rec.running() || rec.state.pid == 0 {
            return Err(not_running(&rec.id));
        }
        let c = &exec.config;
        let mut env: Vec<(String, String)> = Vec::new();
        for kv in rec.config.env.iter().chain(&c.env) {
            let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
            env.retain(|(key, _)| key != k);
            env.push((k.to_string(), v.to_string()));
        }
        let mut input = None;
        let mut output = Vec::new();
        let (stdin, stdout, stderr, master) = if c.tty {
            let ptmx = std::ffi::CString::new(format!("/proc/{}/root/dev/pts/ptmx", rec.state.pid))
                .map_err(|e| ContainerError::Internal(e.to_string()))?;
            let (master, slave) = runtime::pty::open(&ptmx).map_err(|e| {
                ContainerError::Internal(format!("cannot open a terminal in container {}: {e}", rec.name))
            })?;
            let clone = |f: &File| {
                f.try_clone().map_err(|e| ContainerError::Internal(format!("cannot duplicate the terminal: {e}")))
            };
            if c.attach_stdin && !detach {
                input = Some(clone(&master)?);
            }
            output.push((0, clone(&master)?));
            (Some(clone(&slave)?), clone(&slave)?, slave, Some(Arc::new(master)))
        } else {
            let stdin = if c.attach_stdin && !detach {
                let (read, write) = stdio::pipe()?;
                input = Some(write);
                Some(read)
            } else {
                None
            };
            let mut stream = |wanted: bool, n: u8| -> Result<File, ContainerError> {
                if !wanted || detach {
                    return stdio::null();
                }
                let (read, write) = stdio::pipe()?;
                output.push((n, read));
                Ok(write)
            };
            let stdout = stream(c.attach_stdout, 1)?;
            let stderr = stream(c.attach_stderr, 2)?;
            (stdin, stdout, stderr, None)
        };
        let limits = self.exec_limits(&rec, Some(c.user.as_str()).filter(|u| !u.is_empty()), c.privileged)?;
        let spec = runtime::ExecSpec {
            limits,
            init_pid: rec.state.pid,
            argv: c.cmd.clone(),
            env,
            hostname: rec.hostname(),
            workdir: Some(if c.working_dir.is_empty() {
                rec.config.working_dir.clone()
            } else {
                c.working_dir.clone()
            }),
            stdin,
            stdout,
            stderr,
            tty: c.tty,
        };
        let process = match runtime::exec(spec) {
            Ok(p) => p,
            Err(e) => {
                // The container may have ended meanwhile: say so as Docker does.
                if !self.is_running(&rec.id) {
                    return Err(not_running(&rec.id));
                }
                return Err(e.into());
            }
        };
        {
            let mut status = lock(&exec.status)?;
            status.running = true;
            status.pid = process.pid();
        }
        *lock(&exec.master)? = master;
        let done = exec.done.subscribe();
        let waiter = exec.clone();
        let spawned = std::thread::Builder::new().name(format!("exec-{}", &id[..12.min(id.len())])).spawn(move || {
            let code = process.wait().unwrap_or_else(|e| {
                tracing::error!("{e}");
                255
            });
            if let Ok(mut status) = waiter.status.lock() {
                status.running = false;
                status.exit_code = Some(code);
            }
            if let Ok(mut m) = waiter.master.lock() {
                m.take();
            }
            waiter.done.send_replace(Some(code));
        });
        if let Err(e) = spawned {
            return Err(ContainerError::Internal(format!("cannot start the exec waiter thread: {e}")));
        }
        Ok(ExecStreams { input, output, done })
    }
}
