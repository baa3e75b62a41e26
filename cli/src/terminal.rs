//! The local terminal and signals of `weft run` and `weft exec`: raw mode (restored on every
//! way out), the window size sent to weftd at the start and on each SIGWINCH, and the signals a
//! foreground `weft run` passes on to its container (Docker's `--sig-proxy`).
//!
//! Signals are taken with sigwait on a thread of their own, after being blocked in the calling
//! thread before any other thread exists, so every thread of the CLI inherits the mask and none
//! is interrupted or killed by them.

use std::io::IsTerminal;
use std::path::PathBuf;

use nix::sys::signal::{SigSet, SigmaskHow, Signal};

use super::client::Client;

/// The signals a foreground run passes on (Docker's proxy passes all it can catch but SIGCHLD,
/// SIGPIPE, SIGURG and SIGWINCH; these are the ones a process in a container acts on).
const PROXIED: [Signal; 7] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGTERM,
    Signal::SIGALRM,
];

/// Whether the CLI's stdin is a terminal.
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}

/// The local terminal in raw mode until dropped (keys go to the container as typed: ^C is a
/// byte for the process in the container, not a signal for weft).
pub struct RawMode {
    saved: libc::termios,
}

impl RawMode {
    /// Raw mode on stdin, if it is a terminal.
    pub fn enter() -> Option<RawMode> {
        if !stdin_is_terminal() {
            return None;
        }
        // SAFETY: a zeroed termios is a valid out-argument; fd 0 is a terminal.
        unsafe {
            let mut saved: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(0, &mut saved) != 0 {
                return None;
            }
            let mut raw = saved;
            libc::cfmakeraw(&mut raw);
            if libc::tcsetattr(0, libc::TCSANOW, &raw) != 0 {
                return None;
            }
            Some(RawMode { saved })
        }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: `saved` is the termios read from fd 0 at enter.
        unsafe { libc::tcsetattr(0, libc::TCSANOW, &self.saved) };
    }
}

/// The local terminal's size (rows, columns): of stdout, else of stdin.
pub fn size() -> Option<(u16, u16)> {
    for fd in [1, 0] {
        let mut size = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: a valid out-pointer to a winsize.
        if unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0 && size.ws_row > 0 {
            return Some((size.ws_row, size.ws_col));
        }
    }
    None
}

/// Send the local terminal's size to `resize_path` (`/exec/{id}/resize` or
/// `/containers/{id}/resize`) now, and again on each SIGWINCH.
pub fn follow_size(socket: PathBuf, resize_path: String) {
    let send = move |client: &Client| {
        if let Some((h, w)) = size() {
            let _ = client.post(&format!("{resize_path}?h={h}&w={w}"), None);
        }
    };
    let Ok(client) = Client::new(socket) else { return };
    send(&client);
    on_signals(&[Signal::SIGWINCH], move |_| send(&client));
}

/// Block these signals now (call before starting other threads), and from here on pass each
/// one received to the container at `container_path` (`POST .../kill?signal=N`).
pub fn proxy_signals(socket: PathBuf, container_path: String) {
    let Ok(client) = Client::new(socket) else { return };
    on_signals(&PROXIED, move |signal| {
        let _ = client.post(&format!("{container_path}/kill?signal={}", signal as i32), None);
    });
}

/// Block `signals` in this thread (and the threads it starts later), and call `act` with each
/// one received, on a thread of its own that lives as long as the process.
fn on_signals(signals: &[Signal], act: impl Fn(Signal) + Send + 'static) {
    let mut set = SigSet::empty();
    for s in signals {
        set.add(*s);
    }
    if nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), None).is_err() {
        return;
    }
    let spawned = std::thread::Builder::new().name("signals".into()).spawn(move || loop {
        match set.wait() {
            Ok(signal) => act(signal),
            Err(_) => return,
        }
    });
    if let Err(e) = spawned {
        eprintln!("weft: cannot watch signals: {e}");
    }
}
