//! The image store: root filesystems made by `weft image import` (one tarball or directory) and
//! `weft image load` (a `docker save` tarball), kept under `<data-root>/images/<hex>/rootfs` with
//! the image config beside it (`config.json`), and their records (id, tags, created, size,
//! config) in `<data-root>/images.db`.
//!
//! An image's id is `sha256:` of its config JSON, as Docker's: for a load, the config of the
//! tarball; for an import, the config weft writes (which names the tar's DiffID and the time).
//!
//! An image is unpacked into a staging directory under `images/.tmp/`, then renamed into place,
//! then recorded: a failure at any step removes the staging directory, so no half-made image is
//! ever seen. [`Images::open`] clears what a killed daemon left in `.tmp`.
//!
//! Images are never written after that: a container's root is an overlay with the image as its
//! lower layer (see [`crate::runtime::Rootfs::Dir`]). The built-in `hostfs` image is not stored
//! here; the container manager knows it.

pub mod reference;
pub mod save_format;
mod store;
pub mod unpack;

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use libnet::undo::Undo;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use reference::Reference;
use store::ImageStore;

/// The name of weft's built-in image, which no stored image may take.
pub const BUILTIN: &str = "hostfs";

/// Why an image operation failed; each maps to the HTTP status Docker uses.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("No such image: {0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidReference(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadArchive(String),
    #[error("unsafe entry {entry} in the archive: {reason}")]
    Unsafe { entry: String, reason: String },
    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },
    #[error("image store: {0}")]
    Store(String),
}

impl ImageError {
    pub fn io(what: &str, source: io::Error) -> ImageError {
        ImageError::Io { what: what.to_string(), source }
    }
}

/// The part of an image config a container uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub working_dir: String,
}

impl ImageConfig {
    /// From the `config` object of an image config JSON (null fields are absent).
    pub fn from_json(v: &Value) -> ImageConfig {
        let list = |v: &Value| v.as_array().map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect());
        ImageConfig {
            env: list(&v["Env"]).unwrap_or_default(),
            cmd: list(&v["Cmd"]),
            entrypoint: list(&v["Entrypoint"]),
            working_dir: v["WorkingDir"].as_str().unwrap_or_default().to_string(),
        }
    }

    pub fn to_json(&self) -> Value {
        json!({"Env": self.env, "Cmd": self.cmd, "Entrypoint": self.entrypoint, "WorkingDir": self.working_dir})
    }
}

/// An image as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageRecord {
    /// `sha256:<hex>`.
    pub id: String,
    /// `repo:tag`, each on one image only.
    pub repo_tags: Vec<String>,
    pub created: SystemTime,
    /// Bytes of the unpacked root filesystem.
    pub size: u64,
    pub config: ImageConfig,
    #[serde(default)]
    pub comment: String,
    /// The DiffIDs of the layers, bottom first.
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

impl ImageRecord {
    pub fn hex(&self) -> &str {
        hex_of(&self.id)
    }
    pub fn short_id(&self) -> &str {
        &self.hex()[..12.min(self.hex().len())]
    }
}

fn hex_of(id: &str) -> &str {
    id.strip_prefix("sha256:").unwrap_or(id)
}

/// One line of the answer to a removal, as Docker's `[{"Untagged": ...}, {"Deleted": ...}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    Untagged(String),
    Deleted(String),
}

/// A container that uses an image: its id, and whether it runs.
pub struct User {
    pub container_id: String,
    pub running: bool,
}

struct Inner {
    store: ImageStore,
    records: BTreeMap<String, ImageRecord>,
}

/// The daemon's images.
pub struct Images {
    dir: PathBuf,
    inner: Mutex<Inner>,
}

impl Images {
    /// Open the store under `data_root`, clearing what an interrupted import or load left.
    pub fn open(data_root: &Path) -> Result<Images, ImageError> {
        let dir = data_root.join("images");
        let tmp = dir.join(".tmp");
        // Not an undo: what an interrupted import, load or removal left, if anything; a
        // directory that would not go makes the create below fail.
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| ImageError::io(&format!("create {}", tmp.display()), e))?;
        let store = ImageStore::open(&data_root.join("images.db"))?;
        let records = store.all()?.into_iter().map(|r| (r.id.clone(), r)).collect();
        Ok(Images { dir, inner: Mutex::new(Inner { store, records }) })
    }

    fn inner(&self) -> Result<MutexGuard<'_, Inner>, ImageError> {
        self.inner.lock().map_err(|_| ImageError::Store("the image store is poisoned by an earlier panic".into()))
    }

    /// The root filesystem of image `id`.
    pub fn rootfs(&self, id: &str) -> PathBuf {
        self.dir.join(hex_of(id)).join("rootfs")
    }

    /// A fresh staging directory (same file system as the images, so a rename moves it in).
    pub fn staging(&self) -> Result<PathBuf, ImageError> {
        let path = self.dir.join(".tmp").join(libnet::ids::random_hex_id());
        std::fs::create_dir_all(path.join("rootfs"))
            .map_err(|e| ImageError::io(&format!("create {}", path.display()), e))?;
        Ok(path)
    }

    /// A fresh path under `.tmp` for a request body to be spooled to (removed by the caller,
    /// or by [`Images::open`] after a crash).
    pub fn spool_path(&self) -> PathBuf {
        self.dir.join(".tmp").join(format!("upload-{}", libnet::ids::random_hex_id()))
    }

    /// Every image, newest first.
    pub fn list(&self) -> Result<Vec<ImageRecord>, ImageError> {
        let mut v: Vec<ImageRecord> = self.inner()?.records.values().cloned().collect();
        v.sort_by_key(|r| std::cmp::Reverse(r.created));
        Ok(v)
    }

    /// Find an image by `repo[:tag]`, full id (`sha256:` optional) or unique id prefix.
    pub fn resolve(&self, name: &str) -> Result<ImageRecord, ImageError> {
        find(&self.inner()?.records, name).cloned()
    }

    /// Record an image unpacked in `staging` with config JSON `config`; it takes `tags` from any
    /// image that had them. An image with this id already stored keeps its files and gains the tags.
    pub fn install(
        &self,
        staging: &Path,
        config: &[u8],
        mut rec: ImageRecord,
        tags: &[Reference],
    ) -> Result<(ImageRecord, Vec<String>), ImageError> {
        std::fs::write(staging.join("config.json"), config).map_err(|e| ImageError::io("write the image config", e))?;
        let mut inner = self.inner()?;
        let target = self.dir.join(rec.hex());
        // After the lock, so it undoes before the lock goes: no other install or sweep may see
        // the directory meanwhile.
        let mut undo = Undo::new();
        let mut moved = false;
        if let Some(existing) = inner.records.get(&rec.id) {
            rec = existing.clone();
        } else if !target.exists() {
            std::fs::rename(staging, &target)
                .map_err(|e| ImageError::io(&format!("move the image into {}", target.display()), e))?;
            undo.push(format!("image directory {}", target.display()), || std::fs::remove_dir_all(&target));
            moved = true;
        }
        // Tags move from whichever image had them.
        let mut changed: Vec<ImageRecord> = Vec::new();
        let mut untagged = Vec::new();
        for tag in tags.iter().map(Reference::to_string) {
            for other in inner.records.values().filter(|o| o.id != rec.id && o.repo_tags.contains(&tag)) {
                let mut o = changed.iter().find(|c| c.id == other.id).cloned().unwrap_or_else(|| other.clone());
                o.repo_tags.retain(|t| *t != tag);
                changed.retain(|c| c.id != o.id);
                changed.push(o);
                untagged.push(tag.clone());
            }
            if !rec.repo_tags.contains(&tag) {
                rec.repo_tags.push(tag);
            }
        }
        let mut put: Vec<&ImageRecord> = changed.iter().collect();
        put.push(&rec);
        inner.store.commit(&put, &[])?;
        undo.commit();
        for c in changed {
            inner.records.insert(c.id.clone(), c);
        }
        inner.records.insert(rec.id.clone(), rec.clone());
        drop(inner);
        if !moved {
            // Not an undo: the image was stored already, so this copy is not needed; what would
            // not go stays in `.tmp`, which `open` clears.
            let _ = std::fs::remove_dir_all(staging);
        }
        Ok((rec, untagged))
    }

    /// Remove `name` as Docker's `image rm`: a tag of an image with other tags is only untagged;
    /// otherwise the image is deleted, unless a container uses it (a running one always refuses;
    /// a stopped one unless `force`). `users` lists the containers of an image id; the caller
    /// holds the container table so that none is created meanwhile. The directory of an image a
    /// stopped container still uses stays until [`Images::sweep`] finds it unused.
    pub fn remove(
        &self,
        name: &str,
        force: bool,
        users: &dyn Fn(&str) -> Vec<User>,
    ) -> Result<Vec<Removed>, ImageError> {
        if name == BUILTIN || name == "hostfs:latest" {
            return Err(ImageError::Conflict(
                "conflict: hostfs is weft's built-in image (the host's root, read-only) and cannot be removed".into(),
            ));
        }
        let mut inner = self.inner()?;
        let rec = find(&inner.records, name)?.clone();
        let by_tag = Reference::parse(name).ok().map(|r| r.to_string()).filter(|t| rec.repo_tags.contains(t));
        let short = rec.short_id().to_string();
        let users = users(&rec.id);
        let mut out = Vec::new();
        let mut kept = rec.clone();
        if let Some(tag) = &by_tag {
            if rec.repo_tags.len() > 1 {
                kept.repo_tags.retain(|t| t != tag);
                inner.store.commit(&[&kept], &[])?;
                inner.records.insert(kept.id.clone(), kept);
                return Ok(vec![Removed::Untagged(tag.clone())]);
            }
        } else if rec.repo_tags.len() > 1 && !force {
            return Err(ImageError::Conflict(format!(
                "conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories"
            )));
        }
        if let Some(u) = users.iter().find(|u| u.running) {
            return Err(ImageError::Conflict(format!(
                "conflict: unable to delete {short} (cannot be forced) - image is being used by running container {}",
                &u.container_id[..12.min(u.container_id.len())]
            )));
        }
        if let (Some(u), false) = (users.first(), force) {
            let cid = &u.container_id[..12.min(u.container_id.len())];
            return Err(ImageError::Conflict(match &by_tag {
                Some(_) => format!(
                    "conflict: unable to remove repository reference \"{}\" (must force) - container {cid} is using its referenced image {short}",
                    name
                ),
                None => format!(
                    "conflict: unable to delete {short} (must be forced) - image is being used by stopped container {cid}"
                ),
            }));
        }
        inner.store.commit(&[], &[&rec.id])?;
        inner.records.remove(&rec.id);
        drop(inner);
        out.extend(rec.repo_tags.iter().cloned().map(Removed::Untagged));
        out.push(Removed::Deleted(rec.id.clone()));
        if users.is_empty() {
            self.delete_dir(&rec.id);
        }
        Ok(out)
    }

    /// Remove the directories of images no record and no container (`in_use`, ids) names.
    pub fn sweep(&self, in_use: &HashSet<String>) {
        let Ok(inner) = self.inner() else { return };
        // The store stays locked until done: an install must not reuse a directory being removed.
        let known: HashSet<String> =
            inner.records.keys().chain(in_use.iter()).map(|id| hex_of(id).to_string()).collect();
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) && !known.contains(&name) {
                self.delete_dir(&name);
            }
        }
        drop(inner);
    }

    fn delete_dir(&self, id: &str) {
        let dir = self.dir.join(hex_of(id));
        // Renamed first so that a crash half-way leaves only .tmp content, which open clears.
        let trash = self.dir.join(".tmp").join(format!("rm-{}", libnet::ids::random_hex_id()));
        let target = if std::fs::rename(&dir, &trash).is_ok() { trash } else { dir };
        if let Err(e) = std::fs::remove_dir_all(&target) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!("remove image directory {}: {e}", target.display());
            }
        }
    }

    /// Import one tarball (plain or gzip) as a single-layer image.
    pub fn import(
        &self,
        tarball: &mut File,
        tag: Option<&Reference>,
        changes: &[String],
        comment: &str,
    ) -> Result<ImageRecord, ImageError> {
        let mut config = ImageConfig::default();
        reference::apply_changes(&mut config, changes)?;
        let staging = self.staging()?;
        let mut undo = Undo::new();
        undo.push(format!("staging directory {}", staging.display()), || remove_all(&staging));
        let root = staging.join("rootfs").canonicalize().map_err(|e| ImageError::io("open the staging dir", e))?;
        let applied = unpack::apply_layer(&root, &mut *tarball)?;
        if applied.entries == 0 {
            return Err(ImageError::BadArchive("the archive holds no files".into()));
        }
        let created = SystemTime::now();
        let config_json = serde_json::to_vec(&json!({
            "architecture": std::env::consts::ARCH,
            "os": "linux",
            "created": humantime::format_rfc3339_nanos(created).to_string(),
            "comment": comment,
            "config": config.to_json(),
            "rootfs": {"type": "layers", "diff_ids": [applied.diff_id]},
        }))
        .map_err(|e| ImageError::Store(e.to_string()))?;
        let rec = ImageRecord {
            id: format!("sha256:{:x}", Sha256::digest(&config_json)),
            repo_tags: Vec::new(),
            created,
            size: unpack::disk_size(&root),
            config,
            comment: comment.to_string(),
            diff_ids: vec![applied.diff_id],
        };
        let tags: Vec<Reference> = tag.cloned().into_iter().collect();
        // The staging directory is the image's directory now, or removed by `install`.
        let (rec, _) = self.install(&staging, &config_json, rec, &tags)?;
        undo.commit();
        Ok(rec)
    }

    /// Load every image of a `docker save` tarball; the lines Docker prints for each.
    pub fn load(&self, tarball: &mut File) -> Result<Vec<String>, ImageError> {
        let archive = save_format::SavedArchive::index(tarball)?;
        let images = archive.images(tarball)?;
        let mut lines = Vec::new();
        for image in images {
            let config: Value = serde_json::from_slice(&image.config)
                .map_err(|e| ImageError::BadArchive(format!("the config of image {} is not JSON: {e}", image.id)))?;
            let tags = image.repo_tags.iter().map(|t| Reference::parse(t)).collect::<Result<Vec<_>, _>>()?;
            check_not_builtin(&tags)?;
            let (rec, untagged) = self.load_image(tarball, &image, &config, &tags)?;
            for tag in untagged {
                lines.push(format!(
                    "The image {tag} already exists, renaming the old one with ID {} to empty string",
                    rec.id
                ));
            }
            if tags.is_empty() {
                lines.push(format!("Loaded image ID: {}", rec.id));
            }
            for t in tags {
                lines.push(format!("Loaded image: {t}"));
            }
        }
        Ok(lines)
    }

    /// Unpack and install one image of a `docker save` tarball (see [`Images::install`]).
    fn load_image(
        &self,
        tarball: &mut File,
        image: &save_format::SavedImage,
        config: &Value,
        tags: &[Reference],
    ) -> Result<(ImageRecord, Vec<String>), ImageError> {
        let staging = self.staging()?;
        let mut undo = Undo::new();
        undo.push(format!("staging directory {}", staging.display()), || remove_all(&staging));
        let root = staging.join("rootfs").canonicalize().map_err(|e| ImageError::io("open the staging dir", e))?;
        let want: Vec<&str> =
            config["rootfs"]["diff_ids"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let mut diff_ids = Vec::new();
        for (i, layer) in image.layers.iter().enumerate() {
            let applied = unpack::apply_layer(&root, save_format::layer_reader(tarball, layer)?)?;
            if want.len() == image.layers.len() && want[i] != applied.diff_id {
                return Err(ImageError::BadArchive(format!(
                    "layer {} of image {} does not match its config (DiffID {}, config says {})",
                    layer.name, image.id, applied.diff_id, want[i]
                )));
            }
            diff_ids.push(applied.diff_id);
        }
        let created = config["created"]
            .as_str()
            .and_then(|c| humantime::parse_rfc3339_weak(c).ok())
            .unwrap_or_else(SystemTime::now);
        let rec = ImageRecord {
            id: image.id.clone(),
            repo_tags: Vec::new(),
            created,
            size: unpack::disk_size(&root),
            config: ImageConfig::from_json(&config["config"]),
            comment: config["comment"].as_str().unwrap_or_default().to_string(),
            diff_ids,
        };
        // The staging directory is the image's directory now, or removed by `install`.
        let installed = self.install(&staging, &image.config, rec, tags)?;
        undo.commit();
        Ok(installed)
    }
}

/// Remove a directory and what it holds; one already gone is fine (an install that moved it
/// into place, then failed to record it, removed it under its new name).
fn remove_all(path: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        done => done,
    }
}

/// No stored image may be named `hostfs`: that name is the built-in image's.
pub fn check_not_builtin(tags: &[Reference]) -> Result<(), ImageError> {
    if tags.iter().any(|t| t.repo == BUILTIN) {
        return Err(ImageError::InvalidParameter(
            "the name hostfs is weft's built-in image (the host's root); choose another repository name".into(),
        ));
    }
    Ok(())
}

/// An image by tag, full id or unique id prefix (`sha256:` optional).
fn find<'a>(records: &'a BTreeMap<String, ImageRecord>, name: &str) -> Result<&'a ImageRecord, ImageError> {
    let reference = Reference::parse(name).ok();
    let not_found =
        || ImageError::NotFound(reference.as_ref().map(|r| r.to_string()).unwrap_or_else(|| name.to_string()));
    if name.is_empty() {
        return Err(not_found());
    }
    if let Some(tag) = reference.as_ref().map(Reference::to_string) {
        if let Some(r) = records.values().find(|r| r.repo_tags.contains(&tag)) {
            return Ok(r);
        }
    }
    let hex = hex_of(name);
    if !hex.is_empty() && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut by_prefix = records.values().filter(|r| r.hex().starts_with(&hex.to_ascii_lowercase()));
        match (by_prefix.next(), by_prefix.next()) {
            (Some(r), None) => return Ok(r),
            (Some(_), Some(_)) => {
                return Err(ImageError::InvalidParameter(format!("multiple images found with prefix {name}")))
            }
            _ => {}
        }
    }
    Err(not_found())
}
