//! The life of a container's process: start, the waiter's work at its end, wait, signal, stop,
//! remove, and the daemon's shutdown.

use libnet::undo::Undo;

use super::*;

impl Manager {
    /// Start a container: networking, then the process, then its waiter. `Ok(false)` if it was
    /// already running. Blocking.
    pub fn start(&self, key: &str) -> Result<bool, ContainerError> {
        let rec = {
            let mut t = self.table()?;
            let rec = t.find(key)?.clone();
            if t.shutting_down {
                return Err(ContainerError::Conflict(format!(
                    "cannot start container \"/{}\": weftd is shutting down",
                    rec.name
                )));
            }
            if rec.running() {
                return Ok(false);
            }
            if !t.starting.insert(rec.id.clone()) {
                return Err(ContainerError::Conflict(format!("container {} is already starting", rec.id)));
            }
            rec
        };
        let result = self
            .release_leftover(&rec.id)
            .map_err(|e| ContainerError::Internal(format!("cannot start container \"/{}\": {e}", rec.name)))
            .and_then(|()| self.start_unmarked(rec.clone()));
        if let Ok(mut t) = self.table() {
            t.starting.remove(&rec.id);
        }
        self.inner.start_ended.notify_waiters();
        result.map(|()| true)
    }

    /// The namespace of the container a `container:<id>` mode shares: it must be running.
    /// `None` inside means the host's (the other container runs in host mode).
    pub(super) fn shared_netns(&self, rec: &ContainerRecord, other: &str) -> Result<Option<PathBuf>, ContainerError> {
        let t = self.table()?;
        let other = t.find(other)?;
        if other.id == rec.id {
            return Err(ContainerError::InvalidParameter("cannot join own network namespace".into()));
        }
        // A pid of 0: it has ended and its waiter is releasing its namespace.
        let netns = match (other.running() && other.state.pid != 0, &other.attachment) {
            (true, Some(att)) => att.netns.clone(),
            _ => {
                return Err(ContainerError::Conflict(format!(
                    "cannot join network namespace of a non running container: {}",
                    other.name
                )))
            }
        };
        Ok(netns)
    }

    pub(super) fn start_unmarked(&self, mut rec: ContainerRecord) -> Result<(), ContainerError> {
        // Undone on a failure below, where this function holds no lock: the networking step
        // takes the controller's (see `Table::live` for the order).
        let mut undo = Undo::new();
        let (attachment, netns) = match network::shared_container(&rec.config.network_mode) {
            Some(other) => (None, self.shared_netns(&rec, other)?),
            None => {
                let networks: Vec<(String, EndpointConfig)> =
                    network::join_order(&rec.config.network_mode, &rec.config.endpoints)
                        .into_iter()
                        .map(|n| {
                            let ep = rec.config.endpoints.get(&n).cloned().unwrap_or_default();
                            (n, ep)
                        })
                        .collect();
                let options = rec.config.ports.endpoint_options();
                let attached = network::attach(&mut *self.controller()?, &rec.id, &rec.name, &networks, &options);
                let att = attached.map_err(|e| self.name_port_holder(e))?;
                let netns = att.netns.clone();
                (Some(att), netns)
            }
        };
        if let Some(att) = attachment.clone() {
            // Its resolver, which `dns_sync` starts, goes in the same step: whether its sockets
            // closed decides how the namespace goes (as in `finish`).
            undo.push(format!("the networking of container {}", rec.name), move || {
                let closed = self.dns_release(&att);
                network::detach(&mut *self.controller()?, &att, closed).map_err(ContainerError::from)
            });
        }
        if let Some(att) = &attachment {
            self.dns_sync(&rec, att)?;
        }
        let etc = self.write_etc_files(&rec, attachment.as_ref())?;
        // Pushed before the spawn: a failed spawn may leave what it made in the state directory.
        let state_dir = self.state_dir(&rec.id);
        undo.push(format!("the runtime state of container {}", rec.name), move || runtime::cleanup(&state_dir));
        let container = self.spawn_process(&rec, netns, etc)?;
        // From here the waiter releases the networking and the runtime state when the process
        // ends, even if the record below fails.
        undo.commit();
        rec.state = ContainerState {
            status: Status::Running,
            pid: container.pid(),
            pid_start_time: proc_start_time(container.pid()).unwrap_or(0),
            exit_code: 0,
            started_at: Some(SystemTime::now()),
            finished_at: None,
        };
        rec.attachment = attachment.clone();
        let id = rec.id.clone();
        let live = Arc::new(Mutex::new(attachment));
        let committed = {
            let mut undo = Undo::new();
            // By the pid we hold, not the record's: the process is ours and not yet reaped.
            undo.push(format!("the process of container {}", rec.name), || container.kill(Signal::SIGKILL));
            let committed = self.table().and_then(|mut t| {
                if !t.records.contains_key(&id) {
                    Err(ContainerError::NotFound(id.clone()))
                } else {
                    t.exits_of(&id);
                    t.live.insert(id.clone(), live.clone());
                    t.put(rec)
                }
            });
            if committed.is_ok() {
                undo.commit();
            }
            committed
        };
        // The waiter owns the process and its networking from here, even if the record failed:
        // it releases all.
        let m = self.clone();
        let waiter_id = id.clone();
        // A task, not a thread, per container: see `runtime::Container::exited`.
        let wait = async move {
            let ended = container.exited().await;
            let finished = tokio::task::spawn_blocking(move || {
                match ended {
                    // Ended but not reaped: from here no signal may use its pid, then it is reaped.
                    Ok(()) => m.forget_pid(&waiter_id),
                    // No pidfd (out of descriptors, say): wait for it on this thread instead.
                    Err(e) => tracing::warn!("{e}: waiting for container {waiter_id} on a thread"),
                }
                let code = match container.wait() {
                    Ok(code) => code,
                    Err(e) => {
                        tracing::error!("{e}");
                        255
                    }
                };
                // Its terminal's output all in the log before the exit is announced.
                m.inner.io.end(&waiter_id);
                m.finish(&waiter_id, code, &live);
            });
            if let Err(e) = finished.await {
                tracing::error!("the end of a container failed: {e}");
            }
        };
        let spawned = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(wait);
                Ok(())
            }
            // Outside a runtime (the manager driven from plain threads): a thread of its own.
            Err(_) => std::thread::Builder::new()
                .name(format!("wait-{}", &id[..12]))
                .spawn(move || match tokio::runtime::Builder::new_current_thread().enable_io().build() {
                    Ok(rt) => rt.block_on(wait),
                    Err(e) => tracing::error!("cannot wait for a container: {e}"),
                })
                .map(|_| ()),
        };
        if let Err(e) = spawned {
            return Err(ContainerError::Internal(format!("cannot start the waiter: {e}")));
        }
        committed?;
        tracing::info!(container = %id, "container started");
        Ok(())
    }

    pub(super) fn spawn_process(
        &self,
        rec: &ContainerRecord,
        netns: Option<PathBuf>,
        etc: etcsetup::EtcSetup,
    ) -> Result<runtime::Container, ContainerError> {
        let logs = self.log_dir(&rec.id);
        std::fs::create_dir_all(&logs)
            .map_err(|e| ContainerError::Internal(format!("create log directory {}: {e}", logs.display())))?;
        let open = |name: &str| {
            let p = logs.join(name);
            // Root's only, as Docker's json-file logs: a container's output may hold secrets.
            std::os::unix::fs::OpenOptionsExt::mode(std::fs::File::options().create(true).append(true), 0o600)
                .open(&p)
                .map_err(|e| ContainerError::Internal(format!("open log {}: {e}", p.display())))
        };
        let split = |kv: &String| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv.clone(), String::new()),
        };
        let own: Vec<(String, String)> = rec.config.env.iter().map(split).collect();
        // Link variables first; the container's own win, as in Docker.
        let mut env: Vec<(String, String)> =
            etc.link_env.iter().map(split).filter(|(k, _)| !own.iter().any(|(o, _)| o == k)).collect();
        env.extend(own);
        let rootfs = match rec.image_id.as_str() {
            "" => Rootfs::Hostfs,
            // The writable layer next to the logs: kept across stop and start, gone with `rm`.
            id => Rootfs::Dir { image: self.inner.images.rootfs(id), layer: self.log_dir(&rec.id).join("layer") },
        };
        let (confinement, home) = self.confinement(rec)?;
        if let Some(home) = home.filter(|_| !env.iter().any(|(k, _)| k == "HOME")) {
            env.push(("HOME".into(), home));
        }
        let mut streams = stdio::prepare(&self.inner.io, rec)?;
        let spec = ContainerSpec {
            rootfs,
            state_dir: self.state_dir(&rec.id),
            netns,
            hostname: rec.hostname(),
            argv: rec.config.cmd.clone(),
            env,
            workdir: Some(rec.config.working_dir.clone()).filter(|w| !w.is_empty()),
            stdin: streams.stdin.take(),
            stdout: open(logs::STDOUT)?,
            stderr: open(logs::STDERR)?,
            file_binds: etc.binds,
            tty: streams.tty,
            confinement,
            init: self.inner.init.clone(),
            mount_template: self.inner.mount_template.clone(),
        };
        let mut container = runtime::spawn(spec)?;
        streams.started(&mut container, rec.config.open_stdin, &logs);
        Ok(container)
    }

    /// Where a container's `/etc/passwd` is read: its image, or the host's root for hostfs.
    pub(super) fn user_root(&self, rec: &ContainerRecord) -> PathBuf {
        match rec.image_id.as_str() {
            "" => PathBuf::from("/"),
            id => self.inner.images.rootfs(id),
        }
    }

    /// The container's confinement for a start, and the home directory of its user. A hostfs
    /// container does not see weftd's own data and exec roots.
    pub(super) fn confinement(
        &self,
        rec: &ContainerRecord,
    ) -> Result<(runtime::Confinement, Option<String>), ContainerError> {
        let hidden: Vec<String> = if rec.image_id.is_empty() {
            [&self.inner.data_root, &self.inner.exec_root].iter().map(|p| p.display().to_string()).collect()
        } else {
            Vec::new()
        };
        rec.config.security.confinement(&self.user_root(rec), &hidden).map_err(ContainerError::InvalidParameter)
    }

    /// The limits of a process `exec`'d in `rec` (see [`security::SecurityConfig::exec_limits`]).
    pub(crate) fn exec_limits(
        &self,
        rec: &ContainerRecord,
        user: Option<&str>,
        privileged: bool,
    ) -> Result<runtime::ProcessLimits, ContainerError> {
        rec.config
            .security
            .exec_limits(&self.user_root(rec), user, privileged)
            .map_err(ContainerError::InvalidParameter)
    }

    /// No signal may use a container's pid any more: it has ended (and is about to be reaped).
    pub(super) fn forget_pid(&self, id: &str) {
        if let Ok(mut t) = self.table() {
            if let Some(r) = t.records.get_mut(id) {
                r.state.pid = 0;
            }
        }
    }

    /// The waiter's work once the process has ended (see the module docs).
    pub(super) fn finish(&self, id: &str, code: i32, live: &Mutex<Option<Attachment>>) {
        // The process is reaped: its pid may be recycled, so no signal may use it any more. From
        // here no container can join its namespace (see `shared_netns`): if none shares it now,
        // no process is left in it and its interfaces can go with it.
        let mut shared = true;
        if let Ok(mut t) = self.table() {
            if let Some(r) = t.records.get_mut(id) {
                r.state.pid = 0;
            }
            shared = t.netns_shared(id);
        }
        // Taken under its lock, so a connect or disconnect under way ends first and none follows.
        // What cannot be released stays on the record, for `rm` and `start` to try again.
        let mut unreleased = None;
        let mut slot = live.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(attachment) = slot.take() {
            // A resolver whose sockets did not close may still hold the namespace: then its
            // interfaces are taken out one by one rather than left to the namespace's end.
            let closed = self.dns_release(&attachment);
            if let Err(e) = self.detach(&attachment, !shared && closed) {
                tracing::error!("container {id}: {e}");
                unreleased = Some(attachment);
            }
        }
        drop(slot);
        if let Err(e) = runtime::cleanup(&self.state_dir(id)) {
            tracing::error!("{e}");
        }
        let Ok(mut t) = self.table() else { return };
        t.live.remove(id);
        let Some(mut rec) = t.records.get(id).cloned() else { return };
        rec.state.status = Status::Exited;
        rec.state.exit_code = code;
        rec.state.pid = 0;
        rec.state.pid_start_time = 0;
        rec.state.finished_at = Some(SystemTime::now());
        rec.attachment = unreleased;
        let auto_remove = rec.config.auto_remove;
        if let Err(e) = t.put(rec) {
            tracing::error!("record the exit of container {id}: {e}");
        }
        t.exits_of(id).send_modify(|e| {
            e.count += 1;
            e.code = code;
        });
        tracing::info!(container = %id, exit_code = code, "container exited");
        if auto_remove {
            let removed = Self::remove_record(&mut t, id);
            drop(t);
            self.inner.execs.drop_container(id);
            match removed {
                Ok(()) => {
                    // Not an undo: the container is gone, and logs that would not go are only
                    // disk space no command reads any more.
                    let _ = std::fs::remove_dir_all(self.log_dir(id));
                }
                Err(e) => tracing::error!("auto-remove of container {id}: {e}"),
            }
        }
    }

    /// Forget a container; its log directory is the caller's to remove, outside the table lock.
    pub(super) fn remove_record(t: &mut Table, id: &str) -> Result<(), ContainerError> {
        t.store.delete(id)?;
        t.records.remove(id);
        t.exits.remove(id);
        Ok(())
    }

    /// Wait for the container to stop; its exit code.
    pub async fn wait(&self, key: &str, condition: WaitCondition) -> Result<i32, ContainerError> {
        let (rec, mut rx) = self.subscribe(key)?;
        if condition == WaitCondition::NotRunning && !rec.running() {
            return Ok(rec.state.exit_code);
        }
        rx.changed().await.map_err(|_| ContainerError::NotFound(key.to_string()))?;
        let code = rx.borrow().code;
        Ok(code)
    }

    /// Send a signal to a running container.
    pub fn signal(&self, key: &str, signal: Signal) -> Result<(), ContainerError> {
        let t = self.table()?;
        let rec = t.find(key)?;
        if !rec.running() || rec.state.pid == 0 {
            return Err(ContainerError::Conflict(format!("Container {} is not running", rec.id)));
        }
        nix::sys::signal::kill(Pid::from_raw(rec.state.pid as i32), signal)
            .map_err(|e| ContainerError::Internal(format!("cannot send {signal} to container {}: {e}", rec.name)))
    }

    /// Stop a container: SIGTERM, SIGKILL after `timeout` (`None`: wait forever). `Ok(false)` if it
    /// was not running. Returns once it has exited and its networking is released.
    pub async fn stop(&self, key: &str, timeout: Option<Duration>) -> Result<bool, ContainerError> {
        self.stop_with(key, timeout, Signal::SIGTERM).await
    }

    /// [`Manager::stop`] with `signal` first instead of SIGTERM (Docker's `stop --signal`).
    pub async fn stop_with(
        &self,
        key: &str,
        timeout: Option<Duration>,
        signal: Signal,
    ) -> Result<bool, ContainerError> {
        let (rec, mut rx) = self.subscribe(key)?;
        if !rec.running() {
            return Ok(false);
        }
        let gone = |_| ContainerError::Internal(format!("container {} vanished while stopping", rec.name));
        if self.signal(&rec.id, signal).is_err() {
            // It is ending already (its waiter reaped it): return once its networking is released.
            let _ = rx.changed().await;
            return Ok(true);
        }
        let exited = match timeout {
            Some(t) => tokio::time::timeout(t, rx.changed()).await.ok(),
            None => Some(rx.changed().await),
        };
        match exited {
            Some(r) => r.map_err(gone)?,
            None => {
                // It fails only once the container has ended, which `rx` announces.
                let _ = self.signal(&rec.id, Signal::SIGKILL);
                rx.changed().await.map_err(gone)?;
            }
        }
        Ok(true)
    }

    /// Remove a container; a running one only with `force` (killed first, then removed once its
    /// networking is released).
    pub async fn remove(&self, key: &str, force: bool) -> Result<(), ContainerError> {
        enum Step {
            Removed(String, String),
            AwaitExit(watch::Receiver<Exits>),
            Release(String, String),
        }
        let mut killed = false;
        loop {
            let key = key.to_string();
            // The starting and running checks and the removal under one lock, so no start slips
            // in between.
            let step = self
                .blocking(move |m| {
                    let mut t = m.table()?;
                    let rec = match t.find(&key) {
                        Ok(r) => r.clone(),
                        // Gone while we waited for it to die (auto-remove): done.
                        Err(ContainerError::NotFound(_)) if killed => return Ok(None),
                        Err(e) => return Err(e),
                    };
                    if t.starting.contains(&rec.id) {
                        return Err(ContainerError::Conflict(format!(
                            "cannot remove container \"/{}\": container is starting",
                            rec.name
                        )));
                    }
                    if rec.running() {
                        if !force {
                            return Err(ContainerError::Conflict(format!(
                                "cannot remove container \"/{}\": container is running: stop the container before removing or force remove",
                                rec.name
                            )));
                        }
                        let rx = t.exits_of(&rec.id).subscribe();
                        // A pid of 0: its waiter reaped it already and is releasing it.
                        if rec.state.pid != 0 {
                            // Not an undo: the init is not reaped while its pid is recorded, so
                            // the signal reaches it; `rx` announces its end.
                            let _ = nix::sys::signal::kill(Pid::from_raw(rec.state.pid as i32), Signal::SIGKILL);
                        }
                        return Ok(Some(Step::AwaitExit(rx)));
                    }
                    if rec.attachment.is_some() {
                        return Ok(Some(Step::Release(rec.id, rec.name)));
                    }
                    Self::remove_record(&mut t, &rec.id)?;
                    Ok(Some(Step::Removed(rec.id, rec.name)))
                })
                .await?;
            match step {
                None => return Ok(()),
                Some(Step::AwaitExit(mut rx)) => {
                    killed = true;
                    let _ = rx.changed().await;
                }
                Some(Step::Release(id, name)) => {
                    let released = self.blocking(move |m| m.release_leftover(&id)).await;
                    released
                        .map_err(|e| ContainerError::Internal(format!("cannot remove container \"/{name}\": {e}")))?;
                }
                Some(Step::Removed(id, name)) => {
                    self.inner.execs.drop_container(&id);
                    let dir = self.log_dir(&id);
                    let m = self.clone();
                    // Not an undo: the record is gone, and logs that would not go are only disk
                    // space no command reads any more.
                    let _ = tokio::task::spawn_blocking(move || {
                        let _ = std::fs::remove_dir_all(dir);
                        // The files of an image removed with -f while this container used it.
                        m.sweep_images();
                    })
                    .await;
                    tracing::info!(container = %name, "container removed");
                    return Ok(());
                }
            }
        }
    }

    /// Refuse new starts, wait for those under way, then stop every running container (SIGTERM,
    /// SIGKILL after 2 s) and wait until their waiters have released their networking: weftd's
    /// shutdown.
    pub async fn shutdown(&self) {
        if let Ok(mut t) = self.table() {
            t.shutting_down = true;
        }
        // A start under way may still commit a running container: wait for every one to end.
        loop {
            let ended = self.inner.start_ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if self.table().map(|t| t.starting.is_empty()).unwrap_or(true) {
                break;
            }
            ended.await;
        }
        let running: Vec<String> =
            self.list().unwrap_or_default().into_iter().filter(|r| r.running()).map(|r| r.id).collect();
        let mut stops = tokio::task::JoinSet::new();
        for id in running {
            let m = self.clone();
            stops.spawn(async move {
                if let Err(e) = m.stop(&id, Some(SHUTDOWN_GRACE)).await {
                    tracing::warn!("shutdown: stop container {id}: {e}");
                }
            });
        }
        while stops.join_next().await.is_some() {}
    }
}
