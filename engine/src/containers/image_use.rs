//! Where containers meet images: a new container takes its image's defaults (Cmd, Entrypoint,
//! Env, WorkingDir) and root filesystem, and an image is removed only as its containers allow.
//! Both run under the container table's lock, so no container is created on an image being
//! removed (the lock order is always: container table, then the image store).

use std::collections::HashSet;

use super::{ContainerConfig, ContainerError, Manager, Table, HOSTFS_IMAGE};
use crate::images::{ImageError, Removed, User};

impl From<ImageError> for ContainerError {
    fn from(e: ImageError) -> Self {
        match e {
            ImageError::NotFound(name) => ContainerError::NoSuchImage(name),
            ImageError::InvalidReference(m) | ImageError::InvalidParameter(m) => ContainerError::InvalidParameter(m),
            ImageError::Conflict(m) => ContainerError::Conflict(m),
            other => ContainerError::Internal(other.to_string()),
        }
    }
}

/// Whether `image` names the built-in host image.
pub fn is_hostfs(image: &str) -> bool {
    image == HOSTFS_IMAGE || image == "hostfs:latest"
}

impl Manager {
    /// Resolve `config.image` and fill in its defaults; the image id, empty for `hostfs`.
    /// Called with the table locked.
    pub(super) fn apply_image(&self, _t: &Table, config: &mut ContainerConfig) -> Result<String, ContainerError> {
        if is_hostfs(&config.image) {
            return Ok(String::new());
        }
        let image = self.inner.images.resolve(&config.image)?;
        let defaults = &image.config;
        // As Docker: the user's command replaces the image's Cmd; the Entrypoint comes first.
        let cmd = if config.cmd.is_empty() { defaults.cmd.clone().unwrap_or_default() } else { config.cmd.clone() };
        config.cmd = defaults.entrypoint.clone().unwrap_or_default().into_iter().chain(cmd).collect();
        let key = |kv: &str| kv.split_once('=').map_or(kv, |(k, _)| k).to_string();
        let given: HashSet<String> = config.env.iter().map(|kv| key(kv)).collect();
        let mut env: Vec<String> = defaults.env.iter().filter(|kv| !given.contains(&key(kv))).cloned().collect();
        env.append(&mut config.env);
        config.env = env;
        if config.working_dir.is_empty() {
            config.working_dir = defaults.working_dir.clone();
        }
        Ok(image.id)
    }

    /// `DELETE /images/{name}`: see [`crate::images::Images::remove`].
    pub fn remove_image(&self, name: &str, force: bool) -> Result<Vec<Removed>, ContainerError> {
        let t = self.table()?;
        let users = |id: &str| {
            t.records
                .values()
                .filter(|r| r.image_id == id)
                .map(|r| User { container_id: r.id.clone(), running: r.running() || t.starting.contains(&r.id) })
                .collect()
        };
        Ok(self.inner.images.remove(name, force, &users)?)
    }

    /// Remove image directories that neither a record nor a container needs any more.
    pub(super) fn sweep_images(&self) {
        let in_use: HashSet<String> = match self.table() {
            Ok(t) => t.records.values().map(|r| r.image_id.clone()).filter(|id| !id.is_empty()).collect(),
            Err(_) => return,
        };
        self.inner.images.sweep(&in_use);
    }
}
