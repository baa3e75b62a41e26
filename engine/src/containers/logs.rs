//! Container logs: each stream appended to its own file under `<data-root>/containers/<id>/`, read
//! back as Docker's multiplexed stream (a frame per chunk: stream byte, three zeros, big-endian
//! length, payload), so output comes back in order within each stream.

use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use super::{Exits, Manager};

pub const STDOUT: &str = "stdout.log";
pub const STDERR: &str = "stderr.log";
/// How often a followed log looks for new output while the container runs and says nothing.
const FOLLOW_POLL: Duration = Duration::from_millis(20);
/// The largest payload of one frame.
const FRAME_MAX: usize = 32 * 1024;

/// Append `payload` to `out` as frames of stream `stream` (1 stdout, 2 stderr).
pub fn frame(out: &mut Vec<u8>, stream: u8, payload: &[u8]) {
    for chunk in payload.chunks(FRAME_MAX) {
        out.extend_from_slice(&[stream, 0, 0, 0]);
        out.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
        out.extend_from_slice(chunk);
    }
}

/// The open log files of one reader, each read from where the last read stopped.
pub struct LogReader {
    streams: Vec<(u8, tokio::fs::File)>,
    /// Send what was written as it is, not as frames (a container with a terminal).
    raw: bool,
}

impl LogReader {
    /// Open the chosen streams of a container's log directory (a missing file reads as empty).
    pub async fn open(dir: &Path, stdout: bool, stderr: bool) -> std::io::Result<LogReader> {
        let mut streams = Vec::new();
        for (want, stream, name) in [(stdout, 1u8, STDOUT), (stderr, 2u8, STDERR)] {
            if !want {
                continue;
            }
            let path = dir.join(name);
            let file = match tokio::fs::File::open(&path).await {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // Created empty, so a follower sees what a container started later writes.
                    tokio::fs::create_dir_all(dir).await?;
                    tokio::fs::OpenOptions::new().create(true).append(true).open(&path).await?;
                    tokio::fs::File::open(&path).await?
                }
                Err(e) => return Err(e),
            };
            streams.push((stream, file));
        }
        Ok(LogReader { streams, raw: false })
    }

    /// Read without frames from now on.
    pub fn raw(&mut self) {
        self.raw = true;
    }

    /// Skip what was written so far: the next read starts with what comes after (an attach).
    pub async fn skip_to_end(&mut self) -> std::io::Result<()> {
        use tokio::io::AsyncSeekExt;
        for (_, file) in &mut self.streams {
            file.seek(std::io::SeekFrom::End(0)).await?;
        }
        Ok(())
    }

    /// Whatever was written since the last read, as frames (empty if nothing).
    pub async fn read_new(&mut self) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        for (stream, file) in &mut self.streams {
            let mut buf = Vec::new();
            file.read_to_end(&mut buf).await?;
            if self.raw {
                out.extend_from_slice(&buf);
            } else {
                frame(&mut out, *stream, &buf);
            }
        }
        Ok(out)
    }
}

/// Follow a container's logs: yields frames as output appears, ends once the container is not
/// running and everything it wrote has been sent.
pub async fn follow_next(
    reader: &mut LogReader,
    manager: &Manager,
    id: &str,
    exits: &mut watch::Receiver<Exits>,
) -> Option<std::io::Result<Vec<u8>>> {
    loop {
        // Looked at before reading, so a container that ended has written all a read can see.
        let running = manager.is_running(id);
        match reader.read_new().await {
            Ok(data) if !data.is_empty() => return Some(Ok(data)),
            Ok(_) if !running => return None,
            Ok(_) => {}
            Err(e) => return Some(Err(e)),
        }
        // Wakes at once on exit; otherwise looks again after a short pause.
        let _ = tokio::time::timeout(FOLLOW_POLL, exits.changed()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_stream_and_big_endian_length() {
        let mut out = Vec::new();
        frame(&mut out, 2, b"hi\n");
        assert_eq!(out, [2, 0, 0, 0, 0, 0, 0, 3, b'h', b'i', b'\n']);
        let mut none = Vec::new();
        frame(&mut none, 1, b"");
        assert!(none.is_empty());
    }
}
