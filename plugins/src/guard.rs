//! Calls into a driver library on threads of their own, so a driver that hangs costs its caller a
//! timeout, not the daemon: the caller waits at most the timeout, and the stuck thread is left to
//! the driver. Idle threads are kept for the next call.

use std::fs::File;
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::sync::Mutex;
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;

/// The threads that run one library's calls.
pub struct Guard {
    /// Who is called, for thread names and messages.
    name: String,
    timeout: Duration,
    /// Threads waiting for a call, each behind its own channel.
    idle: Mutex<Vec<SyncSender<Job>>>,
    /// The network namespace of the thread that loaded the library: every call thread enters it,
    /// whichever thread (maybe one inside a sandbox's namespace) happened to start it.
    netns: Option<File>,
}

/// The call did not end within the timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut(pub Duration);

impl Guard {
    pub fn new(name: &str, timeout: Duration) -> Guard {
        let netns = File::open("/proc/thread-self/ns/net").ok();
        Guard { name: name.to_string(), timeout, idle: Mutex::new(Vec::new()), netns }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Run `f` on a call thread and wait for it at most the timeout.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, TimedOut> {
        let (answer_tx, answer_rx) = mpsc::sync_channel(1);
        let mut job: Job = Box::new(move || {
            let _ = answer_tx.send(f());
        });
        // A thread whose channel is closed has ended (it never does, but for a panic that escaped):
        // the job comes back and goes to the next one.
        let worker = loop {
            let worker = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let worker = match worker {
                Some(w) => w,
                None => self.spawn(),
            };
            match worker.send(job) {
                Ok(()) => break worker,
                Err(mpsc::SendError(back)) => job = back,
            }
        };
        match answer_rx.recv_timeout(self.timeout) {
            Ok(v) => {
                self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(worker);
                Ok(v)
            }
            // The thread stays with the call it is stuck in and is not used again; when the call
            // ever ends, its channel is gone and it exits.
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => Err(TimedOut(self.timeout)),
        }
    }

    fn spawn(&self) -> SyncSender<Job> {
        let (tx, rx) = mpsc::sync_channel::<Job>(1);
        let netns = self.netns.as_ref().and_then(|f| f.try_clone().ok());
        let spawned = std::thread::Builder::new().name(format!("driver-{}", self.name)).spawn(move || {
            if let Some(ns) = netns {
                if let Err(e) = nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET) {
                    tracing::warn!("driver call thread cannot enter weftd's network namespace: {e}");
                }
            }
            while let Ok(job) = rx.recv() {
                job();
            }
        });
        if let Err(e) = spawned {
            // Without a thread the job is dropped with its answer channel: the caller sees
            // Disconnected at once, reported as the timeout it would otherwise wait out.
            tracing::error!("cannot start a call thread for driver {}: {e}", self.name);
        }
        tx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn calls_answer_and_threads_are_reused() {
        let g = Guard::new("t", Duration::from_secs(5));
        let first = g.run(|| std::thread::current().id()).unwrap();
        let second = g.run(|| std::thread::current().id()).unwrap();
        assert_eq!(first, second);
        assert_ne!(first, std::thread::current().id());
        assert_eq!(g.run(|| 40 + 2), Ok(42));
    }

    #[test]
    fn a_hung_call_times_out_and_the_next_call_gets_a_new_thread() {
        let g = Guard::new("t", Duration::from_millis(100));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let start = Instant::now();
        let r = g.run(move || {
            // Hangs until the test lets it go (bounded: 10 s at most).
            let _ = release_rx.recv_timeout(Duration::from_secs(10));
            1
        });
        assert_eq!(r, Err(TimedOut(Duration::from_millis(100))));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(g.run(|| 2), Ok(2));
        let _ = release_tx.send(());
    }
}
