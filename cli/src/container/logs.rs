//! `weft logs`, and the demultiplexer of Docker's log streams that `weft run` uses too.
//!
//! A stream without a terminal is a sequence of frames: one byte naming the stream (0 stdin,
//! 1 stdout, 2 stderr, 3 an error of the daemon), three zero bytes, the payload's length as a
//! big-endian u32, then the payload. Frames may arrive split across reads in any way.

use crate::args::LogsArgs;
use crate::client::{encode_component, Client};
use crate::console::Console;
use crate::errors::{CliError, ClientError};

const HEADER: usize = 8;

/// Where a frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
    /// The daemon's own error (stream 3), which ends the copy, as with Docker's `StdCopy`.
    System,
}

/// Splits a multiplexed stream into its frames, whatever the pieces it comes in.
#[derive(Default)]
pub struct Demuxer {
    pending: Vec<u8>,
    /// The stream is not multiplexed (a container with a terminal): passed through to stdout.
    raw: bool,
}

impl Demuxer {
    /// Feeds one piece of the stream; `emit` gets each complete frame's payload, in order.
    pub fn push(&mut self, data: &[u8], emit: &mut dyn FnMut(Stream, &[u8])) {
        if self.raw {
            emit(Stream::Stdout, data);
            return;
        }
        self.pending.extend_from_slice(data);
        let mut at = 0;
        while self.pending.len() - at >= HEADER {
            let head = &self.pending[at..at + HEADER];
            if head[0] > 3 || head[1..4] != [0, 0, 0] {
                // Not a frame header: a raw stream. What is pending is its start.
                self.raw = true;
                let rest = self.pending.split_off(at);
                self.pending.clear();
                emit(Stream::Stdout, &rest);
                return;
            }
            let length = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
            if self.pending.len() - at - HEADER < length {
                break;
            }
            let stream = match head[0] {
                2 => Stream::Stderr,
                3 => Stream::System,
                _ => Stream::Stdout,
            };
            emit(stream, &self.pending[at + HEADER..at + HEADER + length]);
            at += HEADER + length;
        }
        self.pending.drain(..at);
    }

    /// The end of the stream: a short start that is no frame header is raw output, given to
    /// `emit`. True when a frame was cut short.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Stream, &[u8])) -> bool {
        if self.raw || self.pending.is_empty() {
            return false;
        }
        let looks_like_header = self.pending[0] <= 3 && self.pending.iter().skip(1).take(3).all(|b| *b == 0);
        if looks_like_header {
            return true;
        }
        emit(Stream::Stdout, &self.pending);
        self.pending.clear();
        false
    }
}

/// Copies the log stream at `path` to stdout and stderr as it arrives; an error frame of the
/// daemon is an error.
pub fn copy_stream(console: &mut Console, client: &Client, path: &str) -> Result<(), ClientError> {
    let mut demuxer = Demuxer::default();
    let mut system = Vec::new();
    client.get_stream(path, &mut |data| {
        demuxer.push(data, &mut |stream, payload| match stream {
            Stream::Stdout => console.out_bytes(payload),
            Stream::Stderr => console.err_bytes(payload),
            Stream::System => system.extend_from_slice(payload),
        })
    })?;
    let incomplete = demuxer.finish(&mut |_, payload| console.out_bytes(payload));
    if !system.is_empty() {
        return Err(ClientError::Protocol(String::from_utf8_lossy(&system).trim_end().to_string()));
    }
    if incomplete {
        return Err(ClientError::Protocol("unexpected EOF".to_string()));
    }
    Ok(())
}

/// The logs route of a container, with or without `follow`.
pub fn logs_path(name: &str, follow: bool) -> String {
    let follow = if follow { "&follow=1" } else { "" };
    format!("/containers/{}/logs?stdout=1&stderr=1{follow}", encode_component(name))
}

/// `weft logs [-f] CONTAINER`.
pub fn run(console: &mut Console, client: &Client, args: &LogsArgs) -> Result<(), CliError> {
    copy_stream(console, client, &logs_path(&args.args[0], args.follow)).map_err(CliError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![stream, 0, 0, 0];
        f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn demux(pieces: &[&[u8]]) -> (Vec<(Stream, Vec<u8>)>, bool) {
        let mut d = Demuxer::default();
        let mut out = Vec::new();
        for p in pieces {
            d.push(p, &mut |s, data| out.push((s, data.to_vec())));
        }
        let incomplete = d.finish(&mut |s, data| out.push((s, data.to_vec())));
        (out, incomplete)
    }

    #[test]
    fn frames_in_one_piece() {
        let mut all = frame(1, b"hello\n");
        all.extend(frame(2, b"oops\n"));
        all.extend(frame(1, b""));
        let (out, incomplete) = demux(&[&all]);
        assert_eq!(
            out,
            vec![(Stream::Stdout, b"hello\n".to_vec()), (Stream::Stderr, b"oops\n".to_vec()), (Stream::Stdout, vec![])]
        );
        assert!(!incomplete);
    }

    #[test]
    fn frames_split_across_reads_at_every_byte() {
        let mut all = frame(1, b"first line\n");
        all.extend(frame(2, b"to stderr\n"));
        all.extend(frame(1, &[0xff, 0x00, 0xfe]));
        for size in 1..all.len() {
            let pieces: Vec<&[u8]> = all.chunks(size).collect();
            let (out, incomplete) = demux(&pieces);
            assert_eq!(
                out,
                vec![
                    (Stream::Stdout, b"first line\n".to_vec()),
                    (Stream::Stderr, b"to stderr\n".to_vec()),
                    (Stream::Stdout, vec![0xff, 0x00, 0xfe])
                ],
                "pieces of {size}"
            );
            assert!(!incomplete);
        }
    }

    #[test]
    fn a_cut_frame_is_incomplete() {
        let all = frame(1, b"hello");
        let (out, incomplete) = demux(&[&all[..10]]);
        assert!(out.is_empty());
        assert!(incomplete);
    }

    #[test]
    fn raw_streams_pass_through() {
        let (out, incomplete) = demux(&[b"plain text ", b"from a tty\n"]);
        assert_eq!(out, vec![(Stream::Stdout, b"plain text ".to_vec()), (Stream::Stdout, b"from a tty\n".to_vec())]);
        assert!(!incomplete);
    }

    #[test]
    fn short_raw_streams_pass_through() {
        let (out, incomplete) = demux(&[b"hi\n"]);
        assert_eq!(out, vec![(Stream::Stdout, b"hi\n".to_vec())]);
        assert!(!incomplete);
    }

    #[test]
    fn system_errors_are_their_own_stream() {
        let (out, _) = demux(&[&frame(3, b"boom")]);
        assert_eq!(out, vec![(Stream::System, b"boom".to_vec())]);
    }
}
