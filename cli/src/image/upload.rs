//! `weft image import` (a tarball, a directory, or stdin) and `weft image load` (a `docker save`
//! tarball, from a file or stdin): the archive is streamed to weftd as the request body.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::args::{ImportArgs, LoadArgs};
use crate::client::{encode_component, Client};
use crate::console::Console;
use crate::errors::CliError;

/// Where an archive comes from.
enum Source {
    Stdin,
    File(PathBuf),
    /// A directory, sent as a tar of its content (symlinks as links, owners and modes kept).
    Directory(PathBuf),
}

impl Source {
    fn of(arg: &str) -> Result<Source, CliError> {
        if arg == "-" {
            return Ok(Source::Stdin);
        }
        if arg.contains("://") {
            return Err(CliError::failed(format!(
                "weft does not download: give a file, a directory or - (stdin), not {arg}"
            )));
        }
        let path = PathBuf::from(arg);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => Ok(Source::Directory(path)),
            Ok(_) => Ok(Source::File(path)),
            Err(e) => Err(CliError::failed(format!("open {arg}: {e}"))),
        }
    }

    /// Write the archive to `out`.
    fn send(self, out: &mut dyn Write) -> std::io::Result<()> {
        match self {
            Source::Stdin => {
                // A duplicate of fd 0, not `io::stdin()`: the console holds the stdin lock.
                let fd = nix::unistd::dup(std::io::stdin()).map_err(std::io::Error::from)?;
                std::io::copy(&mut std::fs::File::from(fd), out).map(|_| ())
            }
            Source::File(path) => {
                let mut file = std::fs::File::open(&path).map_err(|e| named(&path, e))?;
                std::io::copy(&mut file, out).map(|_| ())
            }
            Source::Directory(path) => tar_directory(&path, out),
        }
    }
}

fn named(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// The content of `dir` as a tar stream, paths relative to it.
fn tar_directory(dir: &Path, out: &mut dyn Write) -> std::io::Result<()> {
    let mut builder = tar::Builder::new(out);
    // The image holds the links themselves; following one could pull in the host's files.
    builder.follow_symlinks(false);
    builder.append_dir_all(".", dir).map_err(|e| named(dir, e))?;
    builder.finish()
}

/// The `status`, `stream` or error of each line of a Docker JSON message stream.
fn messages(body: &[u8]) -> Result<Vec<String>, CliError> {
    let mut out = Vec::new();
    for line in body.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)) {
        let v: Value =
            serde_json::from_slice(line).map_err(|e| CliError::failed(format!("unexpected answer from weftd: {e}")))?;
        if let Some(e) = v.get("error").and_then(Value::as_str) {
            return Err(CliError::failed(e.to_string()));
        }
        if let Some(s) = v.get("status").and_then(Value::as_str) {
            out.push(format!("{s}\n"));
        }
        if let Some(s) = v.get("stream").and_then(Value::as_str) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

/// The import route for these arguments.
fn import_path(args: &ImportArgs) -> String {
    let mut path = "/images/create?fromSrc=-".to_string();
    if let Some(name) = args.args.get(1) {
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (repo, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], Some(&name[last_slash + i + 1..])),
            None => (name.as_str(), None),
        };
        path.push_str(&format!("&repo={}", encode_component(repo)));
        if let Some(tag) = tag {
            path.push_str(&format!("&tag={}", encode_component(tag)));
        }
    }
    if let Some(message) = &args.message {
        path.push_str(&format!("&message={}", encode_component(message)));
    }
    for change in &args.change {
        path.push_str(&format!("&changes={}", encode_component(change)));
    }
    path
}

pub fn import(console: &mut Console, client: &Client, args: &ImportArgs) -> Result<(), CliError> {
    let source = Source::of(&args.args[0])?;
    let answer = client.post_stream(&import_path(args), "application/x-tar", move |out| source.send(out))?;
    for m in messages(&answer)? {
        console.out(&m);
    }
    Ok(())
}

pub fn load(console: &mut Console, client: &Client, args: &LoadArgs) -> Result<(), CliError> {
    let source = match args.input.as_deref().filter(|i| !i.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            std::fs::File::open(&path).map_err(|e| CliError::failed(format!("open {}: {e}", path.display())))?;
            Source::File(path)
        }
        None if std::io::stdin().is_terminal() => {
            return Err(CliError::failed(
                "requested load from stdin, but stdin is empty: give a file with -i, or pipe a tarball in",
            ))
        }
        None => Source::Stdin,
    };
    let query = if args.quiet { "?quiet=1" } else { "?quiet=0" };
    let answer =
        client.post_stream(&format!("/images/load{query}"), "application/x-tar", move |out| source.send(out))?;
    for m in messages(&answer)? {
        console.out(&m);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn import_paths_split_repo_and_tag() {
        let args = |v: &[&str]| ImportArgs {
            change: vec!["CMD [\"sh\"]".into()],
            message: None,
            help: Default::default(),
            args: v.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(
            import_path(&args(&["-", "reg:5000/box:v1"])),
            "/images/create?fromSrc=-&repo=reg%3A5000%2Fbox&tag=v1&changes=CMD%20%5B%22sh%22%5D"
        );
        assert!(import_path(&args(&["-", "box"])).starts_with("/images/create?fromSrc=-&repo=box&changes="));
    }

    #[test]
    fn message_streams_print_as_docker() {
        let body = b"{\"status\":\"sha256:ab\"}\n{\"stream\":\"Loaded image: a:b\\n\"}\n";
        assert_eq!(messages(body).unwrap(), vec!["sha256:ab\n".to_string(), "Loaded image: a:b\n".to_string()]);
        assert!(messages(b"{\"error\":\"boom\"}\n").is_err());
    }

    #[test]
    fn directories_become_tars_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.path().join("l")).unwrap();
        let mut out = Vec::new();
        tar_directory(dir.path(), &mut out).unwrap();
        let mut archive = tar::Archive::new(&out[..]);
        let mut seen = Vec::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let mut text = String::new();
            e.read_to_string(&mut text).unwrap();
            seen.push((e.path().unwrap().display().to_string(), e.header().entry_type(), text));
        }
        assert!(seen.iter().any(|(p, k, t)| p == "f" && k.is_file() && t == "x"), "{seen:?}");
        assert!(seen.iter().any(|(p, k, _)| p == "l" && k.is_symlink()), "{seen:?}");
    }
}
