//! What an earlier weftd left: the containers it ran are stopped and their networking released
//! when weftd starts again (see the module docs of [`crate::containers`]).

use super::*;

impl Manager {
    /// Stop-and-clean-up of containers a previous daemon left running.
    pub(super) fn reconcile(&self) -> Result<(), ContainerError> {
        let leftovers: Vec<ContainerRecord> =
            self.table()?.records.values().filter(|r| r.running() || r.attachment.is_some()).cloned().collect();
        // Their state directories are cleaned up together at the end, with one read of the
        // mount table.
        let mut state_dirs = Vec::new();
        // The inits still alive hold their container's init lock, recorded or not (a daemon
        // killed between the start and the commit of the pid leaves one no record knows).
        let mut inits: HashMap<String, u32> = HashMap::new();
        if let Ok(dir) = std::fs::read_dir(self.inner.exec_root.join("containers")) {
            for entry in dir.flatten() {
                if let Some(pid) = runtime::leftover_init(&entry.path()) {
                    inits.insert(entry.file_name().to_string_lossy().into_owned(), pid);
                }
            }
        }
        let kill = |pid: u32| nix::sys::signal::kill(Pid::from_raw(pid as i32), Signal::SIGKILL).is_ok();
        for mut rec in leftovers {
            let mut code = 255;
            if let Some(pid) = inits.remove(&rec.id) {
                if kill(pid) && rec.running() {
                    code = 137;
                }
            }
            if let Some(att) = rec.attachment.take() {
                if let Err(e) = network::detach(&mut *self.controller()?, &att, true) {
                    tracing::error!("restore: release networking of container {}: {e}", rec.name);
                }
            }
            state_dirs.push(self.state_dir(&rec.id));
            if rec.running() {
                rec.state = ContainerState {
                    status: Status::Exited,
                    pid: 0,
                    pid_start_time: 0,
                    exit_code: code,
                    started_at: rec.state.started_at,
                    finished_at: Some(SystemTime::now()),
                };
            }
            tracing::info!(container = %rec.name, exit_code = rec.state.exit_code, "restore: container stopped");
            let mut t = self.table()?;
            if rec.config.auto_remove {
                t.store.delete(&rec.id)?;
                t.records.remove(&rec.id);
                // Not an undo: the record is gone, and logs that would not go are only disk
                // space no command reads any more.
                let _ = std::fs::remove_dir_all(self.log_dir(&rec.id));
            } else {
                t.put(rec)?;
            }
        }
        for (id, pid) in inits {
            if kill(pid) {
                tracing::info!("restore: killed the init {pid} of container {id}, left by an earlier weftd");
            }
        }
        // Sandboxes of no running container: a daemon killed between attach and the record.
        let mut c = self.controller()?;
        for container in network::release_orphans(&mut c, |_| false) {
            tracing::info!("restore: released the networking of container {container}");
        }
        // Endpoints outside any sandbox: the engine joins each one as soon as it is made, so
        // these are from a daemon killed in between.
        for endpoint in network::delete_unjoined(&mut c) {
            tracing::info!("restore: deleted endpoint {endpoint}, never joined");
        }
        drop(c);
        if let Ok(dir) = std::fs::read_dir(self.inner.exec_root.join("containers")) {
            state_dirs.extend(dir.flatten().map(|e| e.path()));
        }
        state_dirs.sort();
        state_dirs.dedup();
        for err in runtime::cleanup_all(&state_dirs) {
            tracing::warn!("restore: {err}");
        }
        Ok(())
    }
}
