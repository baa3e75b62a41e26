//! Images end to end: `weft image import` (a directory, a gzip tarball), `weft image load` (a
//! `docker save` tarball with whiteouts), `weft run` on them (writes go to the container's own
//! layer), `weft image ls|rm|inspect`, and bad archives that must leave nothing behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use weft_tests::{bin, Host};

const MARKER: &str = "weft image marker 7f3a";

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(cmd).output().expect("run sh");
    assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Copy `from` (following links) to the same path under `root`.
fn copy_in(root: &Path, from: &str) {
    let to = root.join(from.trim_start_matches('/'));
    std::fs::create_dir_all(to.parent().expect("a parent")).expect("mkdir");
    std::fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {from}: {e}"));
}

/// A root filesystem of the host's dash, cat, ls and sleep with their shared libraries, and a
/// marker file the host does not have.
fn tiny_rootfs(root: &Path) {
    for tool in ["sh", "cat", "ls", "sleep"] {
        let path = sh(&format!("command -v {tool}")).trim().to_string();
        let dest = root.join("bin").join(tool);
        std::fs::create_dir_all(root.join("bin")).expect("mkdir bin");
        std::fs::copy(&path, &dest).unwrap_or_else(|e| panic!("copy {path}: {e}"));
        for line in sh(&format!("ldd {path}")).lines() {
            // `libc.so.6 => /lib/.../libc.so.6 (0x...)` or `/lib64/ld-linux-x86-64.so.2 (0x...)`.
            let lib = line.split("=>").last().unwrap_or("").split_whitespace().next().unwrap_or("");
            if lib.starts_with('/') && !root.join(lib.trim_start_matches('/')).exists() {
                copy_in(root, lib);
            }
        }
    }
    std::fs::create_dir_all(root.join("etc")).expect("mkdir etc");
    std::fs::write(root.join("etc/weft-marker"), format!("{MARKER}\n")).expect("write marker");
}

fn image_id(h: &Host, name: &str) -> String {
    h.weft(&["image", "inspect", "--format", "{{.Id}}", name]).ok().trim().to_string()
}

fn image_dir(h: &Host, id: &str) -> PathBuf {
    h.data_root().join("images").join(id.trim_start_matches("sha256:"))
}

/// The image directories and leftovers of the store: none after a failed import.
fn stored_dirs(h: &Host) -> Vec<String> {
    let mut names = Vec::new();
    for dir in [h.data_root().join("images"), h.data_root().join("images/.tmp")] {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name != ".tmp" {
                names.push(name);
            }
        }
    }
    names
}

#[test]
fn import_a_directory_and_a_tarball_then_run_on_them() {
    let h = Host::new();
    let work = tempfile::tempdir().expect("temp dir");
    let root = work.path().join("rootfs");
    tiny_rootfs(&root);

    let out = h.weft(&["image", "import", root.to_str().unwrap_or_default(), "mybox"]);
    let id = out.ok().trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    assert_eq!(image_id(&h, "mybox"), id);
    let ls = h.weft(&["image", "ls"]);
    let lines: Vec<&str> = ls.ok().lines().collect();
    assert!(lines[0].starts_with("REPOSITORY   TAG       IMAGE ID       CREATED"), "{lines:?}");
    let row: Vec<&str> = lines.iter().find(|l| l.starts_with("mybox ")).expect("a mybox row").split("   ").collect();
    assert!(row.iter().any(|c| c.trim() == &id[7..19]), "{row:?}");
    assert_eq!(h.weft(&["images", "-q"]).ok(), format!("{}\n", &id[7..19]));

    // The marker comes from the image, not from the host.
    assert!(!Path::new("/etc/weft-marker").exists());
    let cat = h.weft(&["run", "--rm", "mybox", "/bin/sh", "-c", "cat /etc/weft-marker"]);
    assert_eq!(cat.ok(), format!("{MARKER}\n"));

    // Writes land in the container's own layer: not in the image, not in the next container.
    let writer = "cat /newfile 2>/dev/null || echo first; echo x > /newfile";
    let w = h.weft(&["run", "--name", "writer", "mybox", "/bin/sh", "-c", writer]);
    assert_eq!(w.ok(), "first\n");
    assert!(image_dir(&h, &id).join("rootfs/etc/weft-marker").is_file());
    assert!(!image_dir(&h, &id).join("rootfs/newfile").exists());
    let second = h.weft(&["run", "--rm", "mybox", "/bin/sh", "-c", "test -e /newfile && echo seen || echo unseen"]);
    assert_eq!(second.ok(), "unseen\n");
    let ps = h.weft(&["ps", "-a", "--format", "{{.Image}}"]);
    assert_eq!(ps.ok(), "mybox\n");
    // The container's own writes outlive a stop, as Docker keeps a container's layer until rm.
    h.weft(&["start", "writer"]).ok();
    assert_eq!(h.weft(&["wait", "writer"]).ok(), "0\n");
    assert_eq!(h.weft(&["logs", "writer"]).ok(), "first\nx\n");

    // A stopped container holds the image: by id, by tag; removed after the container is.
    let short_cid = h.weft(&["inspect", "--format", "{{.Id}}", "writer"]).ok()[..12].to_string();
    h.weft(&["image", "rm", &id[7..19]]).fails_with(
        1,
        &format!(
            "Error response from daemon: conflict: unable to delete {} (must be forced) - image is being used by stopped container {short_cid}",
            &id[7..19]
        ),
    );
    h.weft(&["rmi", "mybox"]).fails_with(1, "unable to remove repository reference \"mybox\" (must force)");
    // A running one refuses even -f.
    let running = h.weft(&["run", "-d", "mybox", "/bin/sleep", "300"]);
    let running_id = running.ok().trim().to_string();
    h.weft(&["rmi", "-f", &id])
        .fails_with(1, &format!("(cannot be forced) - image is being used by running container {}", &running_id[..12]));
    h.weft(&["rm", "-f", &running_id, "writer"]).ok();
    let removed = h.weft(&["image", "rm", "mybox"]);
    assert_eq!(removed.ok(), format!("Untagged: mybox:latest\nDeleted: {id}\n"));
    assert!(!image_dir(&h, &id).exists());
    assert_eq!(h.weft(&["images", "-q"]).ok(), "");

    // A gzip tarball, with a --change for the command.
    let tgz = work.path().join("rootfs.tgz");
    sh(&format!("tar -C {} -czf {} .", root.display(), tgz.display()));
    let imported = h.weft(&[
        "import",
        "-c",
        "CMD [\"/bin/cat\", \"/etc/weft-marker\"]",
        tgz.to_str().unwrap_or_default(),
        "other:v2",
    ]);
    let other = imported.ok().trim().to_string();
    assert_eq!(h.weft(&["run", "--rm", "other:v2"]).ok(), format!("{MARKER}\n"));
    h.weft(&["rmi", "other:v2"]).ok();
    assert!(!image_dir(&h, &other).exists());

    // Unknown images.
    h.weft(&["run", "--rm", "nosuch"]).fails_with(125, "No such image: nosuch:latest");
    h.weft(&["rmi", "nosuch"]).fails_with(1, "Error response from daemon: No such image: nosuch:latest");
    h.weft(&["rmi", "hostfs"]).fails_with(1, "built-in image");
}

/// `sha256sum` of a file, hex.
fn sha256(path: &Path) -> String {
    sh(&format!("sha256sum {}", path.display())).split_whitespace().next().unwrap_or_default().to_string()
}

#[test]
fn load_a_docker_save_tarball_with_whiteouts() {
    let h = Host::new();
    let work = tempfile::tempdir().expect("temp dir");
    let w = work.path();
    // Layer 1: the tiny root, a file to delete and a directory to make opaque.
    let base = w.join("base");
    tiny_rootfs(&base);
    std::fs::write(base.join("etc/gone"), "lower").expect("write");
    std::fs::create_dir_all(base.join("opq")).expect("mkdir");
    std::fs::write(base.join("opq/old"), "lower").expect("write");
    // Layer 2: the whiteout, the opaque marker, and a new file in the opaque directory.
    let upper = w.join("upper");
    std::fs::create_dir_all(upper.join("etc")).expect("mkdir");
    std::fs::create_dir_all(upper.join("opq")).expect("mkdir");
    std::fs::write(upper.join("etc/.wh.gone"), "").expect("write");
    std::fs::write(upper.join("opq/.wh..wh..opq"), "").expect("write");
    std::fs::write(upper.join("opq/new"), "upper").expect("write");

    let save = w.join("save");
    std::fs::create_dir_all(save.join("l1")).expect("mkdir");
    std::fs::create_dir_all(save.join("l2")).expect("mkdir");
    sh(&format!("tar -C {} -cf {}/l1/layer.tar .", base.display(), save.display()));
    sh(&format!("tar -C {} -cf {}/l2/layer.tar .", upper.display(), save.display()));
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2024-05-06T07:08:09Z",
        "config": {
            "Cmd": ["/bin/sh", "-c", "cat /etc/weft-marker; ls /opq; test -e /etc/gone && echo present || echo absent; echo $GREETING; pwd"],
            "Env": ["GREETING=hi", "PATH=/bin"], "WorkingDir": "/opq",
        },
        "rootfs": {"type": "layers", "diff_ids": [
            format!("sha256:{}", sha256(&save.join("l1/layer.tar"))),
            format!("sha256:{}", sha256(&save.join("l2/layer.tar"))),
        ]},
    });
    let config_path = save.join("config.json");
    std::fs::write(&config_path, config.to_string()).expect("write");
    let config_hex = sha256(&config_path);
    std::fs::rename(&config_path, save.join(format!("{config_hex}.json"))).expect("rename");
    let manifest = |tags: serde_json::Value| serde_json::json!([{"Config": format!("{config_hex}.json"), "RepoTags": tags, "Layers": ["l1/layer.tar", "l2/layer.tar"]}]);
    std::fs::write(save.join("manifest.json"), manifest(serde_json::json!(["saved:v1"])).to_string()).expect("write");
    let tarball = w.join("saved.tar");
    sh(&format!("tar -C {} -cf {} .", save.display(), tarball.display()));

    assert_eq!(h.weft(&["image", "load", "-i", tarball.to_str().unwrap_or_default()]).ok(), "Loaded image: saved:v1\n");
    assert_eq!(image_id(&h, "saved:v1"), format!("sha256:{config_hex}"));
    // The image's Cmd, Env and WorkingDir; the whiteout and the opaque directory applied.
    let out = h.weft(&["run", "--rm", "saved:v1"]);
    assert_eq!(out.ok(), format!("{MARKER}\nnew\nabsent\nhi\n/opq\n"));
    // The user's environment wins over the image's.
    let env = h.weft(&["run", "--rm", "-e", "GREETING=yo", "saved:v1", "/bin/sh", "-c", "echo $GREETING"]);
    assert_eq!(env.ok(), "yo\n");

    // From stdin, untagged: the same image, by id.
    std::fs::write(save.join("manifest.json"), manifest(serde_json::Value::Null).to_string()).expect("write");
    let untagged = w.join("untagged.tar");
    sh(&format!("tar -C {} -cf {} .", save.display(), untagged.display()));
    let out = Command::new(bin("weft"))
        .arg("-H")
        .arg(format!("unix://{}", h.socket().display()))
        .args(["load"])
        .stdin(Stdio::from(std::fs::File::open(&untagged).expect("open")))
        .output()
        .expect("run weft load");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("Loaded image ID: sha256:{config_hex}\n"));
    h.weft(&["rmi", "saved:v1"]).ok();
}

#[test]
fn bad_archives_are_refused_and_leave_nothing() {
    let h = Host::new();
    let work = tempfile::tempdir().expect("temp dir");
    let w = work.path();
    let junk = w.join("junk.tar");
    std::fs::write(&junk, "this is not a tar archive\n".repeat(100)).expect("write");
    h.weft(&["image", "import", junk.to_str().unwrap_or_default(), "junk"]).fails_with(1, "not a valid tar archive");
    h.weft(&["image", "load", "-i", junk.to_str().unwrap_or_default()]).fails_with(1, "not a valid tar archive");

    // `../escape` kept as a member name (-P): refused, and nothing written outside.
    std::fs::create_dir_all(w.join("inner")).expect("mkdir");
    std::fs::write(w.join("inner/ok"), "fine").expect("write");
    std::fs::write(w.join("escape"), "outside").expect("write");
    let evil = w.join("evil.tar");
    sh(&format!("tar -C {} -P -cf {} ./ok ../escape", w.join("inner").display(), evil.display()));
    assert!(sh(&format!("tar -tPf {}", evil.display())).contains("../escape"));
    h.weft(&["image", "import", evil.to_str().unwrap_or_default(), "evil"])
        .fails_with(1, "unsafe entry ../escape in the archive");
    assert!(!h.data_root().join("escape").exists());
    assert!(!h.data_root().join("images/escape").exists());
    assert!(!h.data_root().join("images/.tmp/escape").exists());

    assert_eq!(stored_dirs(&h), Vec::<String>::new(), "no half-made image");
    assert_eq!(h.weft(&["images", "-q"]).ok(), "");
    h.weft(&["image", "import", "/nonexistent/rootfs.tar"]).fails_with(1, "open /nonexistent/rootfs.tar");
    h.weft(&["image", "import", junk.to_str().unwrap_or_default(), "Bad"]).fails_with(1, "must be lowercase");
    // Refused before the body is read: the daemon still reads it all, so the client gets the
    // refusal rather than a broken pipe, however large the upload.
    let big = w.join("big.tar");
    std::fs::write(&big, vec![0u8; 16 << 20]).expect("write");
    h.weft(&["image", "import", big.to_str().unwrap_or_default(), "Bad"]).fails_with(1, "must be lowercase");
}
