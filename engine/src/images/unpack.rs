//! Applying one layer tarball onto an image's root directory, safely: no entry may reach outside
//! the root (no `..`, absolute paths are taken as relative to the root, symlinks are resolved as
//! if the root were `/`), device nodes are skipped, owners, modes and times are kept, hard links
//! stay inside the root, and the whiteouts of the image layer format (`.wh.<name>` deletes a
//! lower file, `.wh..wh..opq` hides a directory's lower content) are applied.

use std::collections::{HashSet, VecDeque};
use std::ffi::OsString;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use nix::sys::stat::{utimensat, UtimensatFlags};
use nix::sys::time::TimeSpec;
use sha2::{Digest, Sha256};
use tar::EntryType;

use super::ImageError;

/// The prefix of a whiteout file's name.
const WHITEOUT: &str = ".wh.";
/// The name of the marker that makes its directory opaque.
const OPAQUE: &str = ".wh..wh..opq";
/// How many symlinks one path may go through before it is refused (as the kernel's ELOOP).
const MAX_LINKS: usize = 40;

/// What applying a layer found.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// `sha256:<hex>` of the uncompressed tar stream: the layer's DiffID.
    pub diff_id: String,
    /// How many entries the tar held.
    pub entries: usize,
    /// Device nodes not made (the container gets its own /dev).
    pub skipped_devices: usize,
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// `reader` uncompressed: gzip is recognised by its magic bytes; other compressions are refused
/// by name, and anything else is read as a plain tar.
pub fn decompressed<'a>(reader: impl Read + 'a) -> Result<Box<dyn Read + 'a>, ImageError> {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    let head = buffered.fill_buf().map_err(|e| ImageError::io("read the archive", e))?;
    let named = |what: &str| {
        Err(ImageError::BadArchive(format!("the archive is {what}-compressed; weft reads plain or gzip tar archives")))
    };
    if head.starts_with(&[0x1f, 0x8b]) {
        return Ok(Box::new(flate2::read::MultiGzDecoder::new(buffered)));
    }
    if head.starts_with(b"BZh") {
        return named("bzip2");
    }
    if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        return named("xz");
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return named("zstd");
    }
    Ok(Box::new(buffered))
}

/// Apply the layer in `reader` (plain or gzip tar) onto `root`, which must be a canonical path.
pub fn apply_layer(root: &Path, reader: impl Read) -> Result<Applied, ImageError> {
    let mut hashing = Hashing { inner: decompressed(reader)?, hash: Sha256::new() };
    let mut applied = Applied::default();
    let mut layer = Layer { root, written: HashSet::new(), dir_times: Vec::new() };
    {
        let mut archive = tar::Archive::new(&mut hashing);
        let entries = archive.entries().map_err(|e| not_tar(&e))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| not_tar(&e))?;
            applied.entries += 1;
            if !layer.apply(&mut entry)? {
                applied.skipped_devices += 1;
            }
        }
    }
    // The tar reader stops at the end-of-archive blocks; the DiffID covers the whole stream.
    io::copy(&mut hashing, &mut io::sink()).map_err(|e| ImageError::io("read the archive", e))?;
    // Directory times last: every entry written into a directory changed its mtime.
    for (path, mtime) in layer.dir_times.iter().rev() {
        set_mtime(path, *mtime);
    }
    applied.diff_id = format!("sha256:{:x}", hashing.hash.finalize());
    Ok(applied)
}

fn not_tar(e: &io::Error) -> ImageError {
    ImageError::BadArchive(format!("not a valid tar archive: {e}"))
}

/// The state of one layer being applied.
struct Layer<'a> {
    root: &'a Path,
    /// The entries of this layer so far (relative paths), which an opaque marker keeps.
    written: HashSet<PathBuf>,
    dir_times: Vec<(PathBuf, u64)>,
}

impl Layer<'_> {
    /// Apply one entry; `false` when it was a device node, skipped.
    fn apply<R: Read>(&mut self, entry: &mut tar::Entry<R>) -> Result<bool, ImageError> {
        let raw = entry.path().map_err(|e| not_tar(&e))?.into_owned();
        let shown = raw.display().to_string();
        let Some(rel) = clean(&raw).map_err(|reason| ImageError::Unsafe { entry: shown.clone(), reason })? else {
            // The root itself: the image root keeps its own owner and mode.
            return Ok(true);
        };
        let name = rel.file_name().map(OsString::from).unwrap_or_default();
        let name_text = name.to_string_lossy();
        let parent_rel = rel.parent().unwrap_or(Path::new(""));
        let parent =
            resolve(self.root, parent_rel).map_err(|reason| ImageError::Unsafe { entry: shown.clone(), reason })?;
        let io_err = |what: &str, e: io::Error| ImageError::io(&format!("{what} {shown}"), e);

        if name_text == OPAQUE {
            if parent.is_dir() {
                self.make_opaque(&parent, parent_rel).map_err(|e| io_err("apply the opaque marker", e))?;
            }
            return Ok(true);
        }
        if let Some(hidden) = name_text.strip_prefix(WHITEOUT) {
            // `.wh..wh.*` other than the opaque marker is aufs bookkeeping: nothing to apply.
            if !hidden.starts_with(WHITEOUT) && !hidden.is_empty() && hidden != "." && hidden != ".." {
                remove_any(&parent.join(hidden)).map_err(|e| io_err("apply the whiteout", e))?;
            }
            return Ok(true);
        }

        let header = entry.header();
        let kind = header.entry_type();
        if matches!(kind, EntryType::Char | EntryType::Block) {
            tracing::debug!("image layer: device node {shown} skipped");
            return Ok(false);
        }
        let mode = header.mode().map_err(|e| not_tar(&e))? & 0o7777;
        let uid = header.uid().map_err(|e| not_tar(&e))? as u32;
        let gid = header.gid().map_err(|e| not_tar(&e))? as u32;
        let mtime = header.mtime().unwrap_or(0);
        fs::create_dir_all(&parent).map_err(|e| io_err("create the parent directory of", e))?;
        let target = parent.join(&name);
        self.written.insert(rel.clone());

        match kind {
            EntryType::Directory => {
                let is_dir = fs::symlink_metadata(&target).map(|m| m.is_dir()).unwrap_or(false);
                if !is_dir {
                    remove_any(&target).map_err(|e| io_err("replace", e))?;
                    fs::create_dir(&target).map_err(|e| io_err("create directory", e))?;
                }
                own(&target, uid, gid, Some(mode)).map_err(|e| io_err("set the owner and mode of", e))?;
                self.dir_times.push((target, mtime));
            }
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                remove_any(&target).map_err(|e| io_err("replace", e))?;
                // create_new: O_EXCL, so the final component is never a symlink followed.
                let mut file = fs::File::options()
                    .write(true)
                    .create_new(true)
                    .open(&target)
                    .map_err(|e| io_err("create file", e))?;
                io::copy(entry, &mut file).map_err(|e| io_err("write file", e))?;
                drop(file);
                own(&target, uid, gid, Some(mode)).map_err(|e| io_err("set the owner and mode of", e))?;
                set_mtime(&target, mtime);
            }
            EntryType::Symlink => {
                let link = entry.link_name().map_err(|e| not_tar(&e))?.ok_or_else(|| ImageError::Unsafe {
                    entry: shown.clone(),
                    reason: "a symlink without a target".into(),
                })?;
                remove_any(&target).map_err(|e| io_err("replace", e))?;
                // The target is stored as given: it is only ever resolved inside the root.
                std::os::unix::fs::symlink(&link, &target).map_err(|e| io_err("create symlink", e))?;
                own(&target, uid, gid, None).map_err(|e| io_err("set the owner of", e))?;
                set_mtime(&target, mtime);
            }
            EntryType::Link => {
                let link = entry.link_name().map_err(|e| not_tar(&e))?.ok_or_else(|| ImageError::Unsafe {
                    entry: shown.clone(),
                    reason: "a hard link without a target".into(),
                })?;
                let unsafe_link = |reason: String| ImageError::Unsafe { entry: shown.clone(), reason };
                let link_rel = clean(&link).map_err(unsafe_link)?.ok_or_else(|| ImageError::Unsafe {
                    entry: shown.clone(),
                    reason: "a hard link to the root".into(),
                })?;
                let link_parent = resolve(self.root, link_rel.parent().unwrap_or(Path::new("")))
                    .map_err(|reason| ImageError::Unsafe { entry: shown.clone(), reason })?;
                let source = link_parent.join(link_rel.file_name().unwrap_or_default());
                match fs::symlink_metadata(&source) {
                    Ok(m) if !m.is_dir() => {}
                    _ => {
                        return Err(ImageError::Unsafe {
                            entry: shown.clone(),
                            reason: format!("a hard link to {}, which is not a file of the image", link.display()),
                        })
                    }
                }
                if source != target {
                    remove_any(&target).map_err(|e| io_err("replace", e))?;
                    fs::hard_link(&source, &target).map_err(|e| io_err("create hard link", e))?;
                }
            }
            EntryType::Fifo => {
                remove_any(&target).map_err(|e| io_err("replace", e))?;
                nix::unistd::mkfifo(&target, nix::sys::stat::Mode::from_bits_truncate(mode))
                    .map_err(|e| io_err("create fifo", io::Error::from(e)))?;
                own(&target, uid, gid, Some(mode)).map_err(|e| io_err("set the owner and mode of", e))?;
            }
            other => {
                tracing::debug!("image layer: entry {shown} of type {other:?} skipped");
                self.written.remove(&rel);
            }
        }
        Ok(true)
    }

    /// Remove what lower layers put under `dir`, keeping what this layer wrote there.
    fn make_opaque(&self, dir: &Path, dir_rel: &Path) -> io::Result<()> {
        for child in fs::read_dir(dir)? {
            let child = child?;
            let rel = dir_rel.join(child.file_name());
            if !self.written.contains(&rel) {
                remove_any(&child.path())?;
            } else if child.file_type()?.is_dir() {
                self.make_opaque(&child.path(), &rel)?;
            }
        }
        Ok(())
    }
}

/// The path of a tar entry as relative components; `None` for the root. Leading `/` and `.` are
/// dropped (tar's own rule); `..` is refused.
fn clean(path: &Path) -> Result<Option<PathBuf>, String> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(c) => out.push(c),
            Component::ParentDir => return Err("the path has a \"..\" component, which could leave the image".into()),
            Component::Prefix(_) => return Err("the path has a prefix".into()),
        }
    }
    Ok(if out.as_os_str().is_empty() { None } else { Some(out) })
}

/// The host path of `rel` under `root`, every symlink on the way resolved as if `root` were `/`
/// (an absolute target starts again at `root`, `..` stops at it), so the result is always under
/// `root`. Components that do not exist yet are taken as they are.
pub fn resolve(root: &Path, rel: &Path) -> Result<PathBuf, String> {
    let mut resolved = PathBuf::new();
    let mut queue: VecDeque<OsString> = rel.iter().map(OsString::from).collect();
    let mut links = 0;
    while let Some(c) = queue.pop_front() {
        if c == "/" || c == "." || c.is_empty() {
            continue;
        }
        if c == ".." {
            resolved.pop();
            continue;
        }
        let candidate = resolved.join(&c);
        match fs::symlink_metadata(root.join(&candidate)) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(format!("too many levels of symlinks at {}", candidate.display()));
                }
                let target = fs::read_link(root.join(&candidate)).map_err(|e| e.to_string())?;
                if target.is_absolute() {
                    resolved = PathBuf::new();
                }
                for part in target.iter().rev() {
                    queue.push_front(OsString::from(part));
                }
            }
            _ => resolved = candidate,
        }
    }
    Ok(root.join(resolved))
}

/// Remove whatever is at `path` (a directory with its content), without following a symlink.
fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Owner first, then the mode: chown clears the setuid and setgid bits.
fn own(path: &Path, uid: u32, gid: u32, mode: Option<u32>) -> io::Result<()> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
    if let Some(mode) = mode {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Best effort: a time that cannot be set is not worth failing an image for.
fn set_mtime(path: &Path, mtime: u64) {
    let t = TimeSpec::new(i64::try_from(mtime).unwrap_or(0), 0);
    let _ = utimensat(nix::fcntl::AT_FDCWD, path, &t, &t, UtimensatFlags::NoFollowSymlink);
}

/// The bytes of the files under `root`, each hard-linked file counted once.
pub fn disk_size(root: &Path) -> u64 {
    let mut seen = HashSet::new();
    let mut total = 0;
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let Ok(m) = fs::symlink_metadata(e.path()) else { continue };
            if m.is_dir() {
                stack.push(e.path());
            } else if m.nlink() <= 1 || seen.insert((m.dev(), m.ino())) {
                total += m.len();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar made with the crate's raw headers, so paths the builder would refuse can be written.
    struct TarMaker {
        builder: tar::Builder<Vec<u8>>,
    }

    impl TarMaker {
        fn new() -> Self {
            Self { builder: tar::Builder::new(Vec::new()) }
        }
        fn entry(mut self, path: &str, kind: EntryType, data: &[u8], link: Option<&str>) -> Self {
            let mut h = tar::Header::new_gnu();
            // Written raw, bypassing the crate's checks: the point is to feed hostile names.
            let name = &mut h.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_entry_type(kind);
            h.set_mode(if kind == EntryType::Directory { 0o755 } else { 0o644 });
            h.set_size(data.len() as u64);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(1_700_000_000);
            if let Some(l) = link {
                h.set_link_name(l).unwrap();
            }
            h.set_cksum();
            self.builder.append(&h, data).unwrap();
            self
        }
        fn file(self, path: &str, data: &str) -> Self {
            self.entry(path, EntryType::Regular, data.as_bytes(), None)
        }
        fn dir(self, path: &str) -> Self {
            self.entry(path, EntryType::Directory, b"", None)
        }
        fn symlink(self, path: &str, target: &str) -> Self {
            self.entry(path, EntryType::Symlink, b"", Some(target))
        }
        fn bytes(self) -> Vec<u8> {
            self.builder.into_inner().unwrap()
        }
    }

    fn root() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("rootfs");
        fs::create_dir(&root).unwrap();
        let root = root.canonicalize().unwrap();
        (dir, root)
    }

    #[test]
    fn files_dirs_links_and_modes() {
        let (_d, root) = root();
        let tar = TarMaker::new()
            .dir("./etc/")
            .file("etc/marker", "from the image\n")
            .symlink("etc/alias", "marker")
            .entry("etc/hard", EntryType::Link, b"", Some("etc/marker"))
            .file("/abs/file", "absolute is relative to the root")
            .bytes();
        let applied = apply_layer(&root, &tar[..]).unwrap();
        assert_eq!(applied.entries, 5);
        assert!(applied.diff_id.starts_with("sha256:") && applied.diff_id.len() == 71);
        assert_eq!(fs::read_to_string(root.join("etc/marker")).unwrap(), "from the image\n");
        assert_eq!(fs::read_link(root.join("etc/alias")).unwrap(), PathBuf::from("marker"));
        assert_eq!(
            fs::metadata(root.join("etc/hard")).unwrap().ino(),
            fs::metadata(root.join("etc/marker")).unwrap().ino()
        );
        assert_eq!(fs::metadata(root.join("etc/marker")).unwrap().permissions().mode() & 0o777, 0o644);
        assert!(root.join("abs/file").is_file());
    }

    #[test]
    fn gzip_layers_and_diff_id_of_the_plain_stream() {
        let (_d, root) = root();
        let tar = TarMaker::new().file("a", "x").bytes();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &tar).unwrap();
        let applied = apply_layer(&root, &gz.finish().unwrap()[..]).unwrap();
        assert_eq!(applied.diff_id, format!("sha256:{:x}", Sha256::digest(&tar)));
        assert_eq!(fs::read_to_string(root.join("a")).unwrap(), "x");
    }

    #[test]
    fn whiteouts_and_opaque_directories() {
        let (_d, root) = root();
        let lower = TarMaker::new()
            .file("gone", "1")
            .dir("keep")
            .file("keep/old", "2")
            .dir("opq")
            .file("opq/old", "3")
            .dir("opq/sub")
            .file("opq/sub/old", "4")
            .bytes();
        apply_layer(&root, &lower[..]).unwrap();
        // The new file comes before the marker in the tar: the marker must not remove it.
        let upper = TarMaker::new()
            .file(".wh.gone", "")
            .dir("opq")
            .file("opq/new", "5")
            .dir("opq/sub")
            .file("opq/.wh..wh..opq", "")
            .file("keep/.wh.nothere", "")
            .bytes();
        apply_layer(&root, &upper[..]).unwrap();
        assert!(!root.join("gone").exists());
        assert!(!root.join(".wh.gone").exists());
        assert!(root.join("keep/old").exists());
        assert!(!root.join("opq/old").exists());
        assert!(!root.join("opq/sub/old").exists(), "lower content under an opaque dir is hidden too");
        assert!(root.join("opq/sub").is_dir());
        assert_eq!(fs::read_to_string(root.join("opq/new")).unwrap(), "5");
        assert!(!root.join("opq/.wh..wh..opq").exists());
    }

    #[test]
    fn dot_dot_is_refused_and_nothing_written_outside() {
        let (dir, root) = root();
        let tar = TarMaker::new().file("../escape", "x").bytes();
        let err = apply_layer(&root, &tar[..]).unwrap_err();
        assert!(matches!(err, ImageError::Unsafe { .. }), "{err}");
        assert!(err.to_string().contains("../escape"), "{err}");
        assert!(!dir.path().join("escape").exists());
    }

    #[test]
    fn symlinks_out_of_the_root_stay_inside() {
        let (dir, root) = root();
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        let tar = TarMaker::new()
            .symlink("abs", outside.to_str().unwrap())
            .symlink("rel", "../../../../../../outside")
            .file("abs/through-abs", "x")
            .file("rel/through-rel", "y")
            .bytes();
        apply_layer(&root, &tar[..]).unwrap();
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0, "nothing written outside the root");
        // Resolved inside the root: the targets as paths under it.
        assert!(root.join(outside.strip_prefix("/").unwrap()).join("through-abs").is_file());
        assert!(root.join("outside/through-rel").is_file());
    }

    #[test]
    fn hard_links_out_of_the_root_are_refused() {
        let (_d, root) = root();
        let tar = TarMaker::new().entry("h", EntryType::Link, b"", Some("../../etc/passwd")).bytes();
        assert!(matches!(apply_layer(&root, &tar[..]), Err(ImageError::Unsafe { .. })));
        let tar = TarMaker::new().entry("h", EntryType::Link, b"", Some("/etc/passwd")).bytes();
        // Taken inside the root, where there is no such file.
        assert!(matches!(apply_layer(&root, &tar[..]), Err(ImageError::Unsafe { .. })));
    }

    #[test]
    fn devices_are_skipped_and_garbage_refused() {
        let (_d, root) = root();
        let tar = TarMaker::new().entry("null", EntryType::Char, b"", None).file("f", "").bytes();
        let applied = apply_layer(&root, &tar[..]).unwrap();
        assert_eq!(applied.skipped_devices, 1);
        assert!(!root.join("null").exists());
        let garbage = vec![b'x'; 2048];
        assert!(matches!(apply_layer(&root, &garbage[..]), Err(ImageError::BadArchive(_))));
        assert!(matches!(apply_layer(&root, &b"BZh91AY"[..]), Err(ImageError::BadArchive(_))));
    }

    #[test]
    fn resolve_clamps_at_the_root() {
        let (_d, root) = root();
        std::os::unix::fs::symlink("/../..", root.join("up")).unwrap();
        assert_eq!(resolve(&root, Path::new("up/x")).unwrap(), root.join("x"));
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        assert!(resolve(&root, Path::new("loop/x")).is_err());
    }
}
