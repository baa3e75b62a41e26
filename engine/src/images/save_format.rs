//! Reading a `docker save` tarball: the classic layout (`manifest.json` naming each image's
//! `Config`, `RepoTags` and `Layers` by path) and the OCI layout Docker 25+ writes (`index.json`,
//! `blobs/sha256/<hex>`; Docker also writes a `manifest.json` there, which is read first).
//!
//! The tarball is a spooled file: a first pass notes where each member lies, then configs and
//! layers are read in place by offset, with no copy of a layer on disk.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ImageError;

/// Where one member of the outer tar lies.
#[derive(Debug, Clone)]
enum Member {
    File {
        offset: u64,
        size: u64,
    },
    /// A symlink (classic layouts link a repeated layer to its first copy); the target, relative
    /// to the archive's root.
    Link(PathBuf),
}

/// One image of the tarball.
#[derive(Debug)]
pub struct SavedImage {
    pub config: Vec<u8>,
    /// `sha256:<hex>` of the config: the image id.
    pub id: String,
    pub repo_tags: Vec<String>,
    /// The layers, bottom first.
    pub layers: Vec<LayerRef>,
}

#[derive(Debug, Clone)]
pub struct LayerRef {
    pub name: String,
    pub offset: u64,
    pub size: u64,
}

/// The members of the archive, by normalised path.
pub struct SavedArchive {
    members: HashMap<PathBuf, Member>,
}

fn bad(msg: impl Into<String>) -> ImageError {
    ImageError::BadArchive(msg.into())
}

/// A member path without `./`, leading `/` or trailing `/`; `..` resolved inside the archive.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(c) => out.push(c),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

impl SavedArchive {
    /// Index the members of the tarball in `file`.
    pub fn index(file: &mut File) -> Result<SavedArchive, ImageError> {
        file.seek(SeekFrom::Start(0)).map_err(|e| ImageError::io("read the image archive", e))?;
        let mut archive = tar::Archive::new(&mut *file);
        let mut members = HashMap::new();
        let entries = archive.entries().map_err(|e| bad(format!("not a valid tar archive: {e}")))?;
        for entry in entries {
            let entry = entry.map_err(|e| bad(format!("not a valid tar archive: {e}")))?;
            let path = normal(&entry.path().map_err(|e| bad(format!("not a valid tar archive: {e}")))?);
            let header = entry.header();
            let member = match header.entry_type() {
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry.link_name().ok().flatten().map(|l| l.into_owned()).unwrap_or_default();
                    let base = if header.entry_type() == tar::EntryType::Symlink {
                        path.parent().unwrap_or(Path::new("")).join(target)
                    } else {
                        target
                    };
                    Member::Link(normal(&base))
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    Member::File { offset: entry.raw_file_position(), size: entry.size() }
                }
                _ => continue,
            };
            members.insert(path, member);
        }
        Ok(SavedArchive { members })
    }

    fn locate(&self, name: &str) -> Result<(u64, u64), ImageError> {
        let mut path = normal(Path::new(name));
        for _ in 0..8 {
            match self.members.get(&path) {
                Some(Member::File { offset, size }) => return Ok((*offset, *size)),
                Some(Member::Link(target)) => path = target.clone(),
                None => break,
            }
        }
        Err(bad(format!("the archive has no file {name}, which its manifest names")))
    }

    fn read(&self, file: &mut File, name: &str) -> Result<Vec<u8>, ImageError> {
        let (offset, size) = self.locate(name)?;
        if size > 64 << 20 {
            return Err(bad(format!("{name} is {size} bytes, too large for a manifest or config")));
        }
        file.seek(SeekFrom::Start(offset)).map_err(|e| ImageError::io("read the image archive", e))?;
        let mut buf = Vec::with_capacity(size as usize);
        file.take(size).read_to_end(&mut buf).map_err(|e| ImageError::io("read the image archive", e))?;
        Ok(buf)
    }

    fn has(&self, name: &str) -> bool {
        self.members.contains_key(Path::new(name))
    }

    /// The images the tarball holds, from `manifest.json`, else from `index.json`.
    pub fn images(&self, file: &mut File) -> Result<Vec<SavedImage>, ImageError> {
        let parse = |bytes: &[u8], what: &str| -> Result<Value, ImageError> {
            serde_json::from_slice(bytes).map_err(|e| bad(format!("{what} is not valid JSON: {e}")))
        };
        let mut out = Vec::new();
        if self.has("manifest.json") {
            let manifest = parse(&self.read(file, "manifest.json")?, "manifest.json")?;
            let list = manifest.as_array().ok_or_else(|| bad("manifest.json is not a list of images"))?;
            for m in list {
                let config = m["Config"].as_str().ok_or_else(|| bad("an image of manifest.json has no Config"))?;
                let layers = m["Layers"].as_array().ok_or_else(|| bad("an image of manifest.json has no Layers"))?;
                let names: Vec<String> = layers.iter().filter_map(Value::as_str).map(String::from).collect();
                let tags = m["RepoTags"].as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from);
                out.push(self.image(file, config, &names, tags.collect())?);
            }
        } else if self.has("index.json") {
            let index = parse(&self.read(file, "index.json")?, "index.json")?;
            for m in index["manifests"].as_array().into_iter().flatten() {
                let digest = m["digest"].as_str().ok_or_else(|| bad("a manifest of index.json has no digest"))?;
                let manifest = parse(&self.read(file, &blob_path(digest)?)?, digest)?;
                if manifest["manifests"].is_array() {
                    return Err(bad("index.json names a nested index (a multi-platform image); save one platform"));
                }
                let config = manifest["config"]["digest"].as_str().ok_or_else(|| bad("a manifest has no config"))?;
                let mut names = Vec::new();
                for l in manifest["layers"].as_array().into_iter().flatten() {
                    names.push(blob_path(l["digest"].as_str().ok_or_else(|| bad("a layer has no digest"))?)?);
                }
                let annotations = &m["annotations"];
                let tags = annotations["io.containerd.image.name"]
                    .as_str()
                    .or_else(|| annotations["org.opencontainers.image.ref.name"].as_str().filter(|r| r.contains(':')))
                    .map(|t| vec![t.to_string()])
                    .unwrap_or_default();
                out.push(self.image(file, &blob_path(config)?, &names, tags)?);
            }
        } else {
            return Err(bad("the archive has neither manifest.json nor index.json: not a `docker save` tarball"));
        }
        if out.is_empty() {
            return Err(bad("the archive holds no image"));
        }
        Ok(out)
    }

    fn image(
        &self,
        file: &mut File,
        config_path: &str,
        layers: &[String],
        repo_tags: Vec<String>,
    ) -> Result<SavedImage, ImageError> {
        let config = self.read(file, config_path)?;
        let hex = format!("{:x}", Sha256::digest(&config));
        // A content-addressed name must match its content.
        let stem = Path::new(config_path).file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if config_path.starts_with("blobs/sha256/") && stem != hex {
            return Err(bad(format!("config {config_path} does not match its digest (sha256:{hex})")));
        }
        let layers = layers
            .iter()
            .map(|name| self.locate(name).map(|(offset, size)| LayerRef { name: name.clone(), offset, size }))
            .collect::<Result<_, _>>()?;
        Ok(SavedImage { config, id: format!("sha256:{hex}"), repo_tags, layers })
    }
}

fn blob_path(digest: &str) -> Result<String, ImageError> {
    match digest.split_once(':') {
        Some(("sha256", hex)) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(format!("blobs/sha256/{hex}"))
        }
        _ => Err(bad(format!("unsupported digest {digest}"))),
    }
}

/// A reader of one layer inside the spooled archive.
pub fn layer_reader<'a>(file: &'a mut File, layer: &LayerRef) -> Result<impl Read + 'a, ImageError> {
    file.seek(SeekFrom::Start(layer.offset)).map_err(|e| ImageError::io("read the image archive", e))?;
    Ok(file.take(layer.size))
}
