//! The Sandbox object: one container's network stack, a namespace bind-mounted under the exec root.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::ids::{EndpointId, SandboxId};

/// What a caller asks for when creating a sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SandboxCreate {
    /// The container the sandbox belongs to (free text for the controller).
    pub container_id: String,
    /// Share the host's namespace (`--network host`) instead of making one.
    pub host_mode: bool,
}

/// A sandbox, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sandbox {
    /// The sandbox's id, 64 hex digits (Docker's `SandboxID`).
    pub id: SandboxId,
    /// The container the sandbox belongs to, as its creator gave it (free text for the
    /// controller).
    pub container_id: String,
    /// Path of the namespace (`<exec-root>/netns/<id12>`); `None` in host mode.
    pub key: Option<PathBuf>,
    /// Joined endpoints, in join order.
    pub endpoints: Vec<EndpointId>,
    /// The endpoint whose gateway is the sandbox's default route.
    #[serde(default)]
    pub gateway_endpoint: Option<EndpointId>,
}
