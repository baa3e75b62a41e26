//! Calls into a driver library on threads of their own, so a driver that hangs costs its caller a
//! timeout, not the daemon: the caller waits at most the timeout, and the stuck thread is left to
//! the driver. A call that ends after its caller gave up is handed to an undo, so what it made
//! late is not left behind. Idle threads are kept for the next call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use libnet::osl::Netns;

type Job = Box<dyn FnOnce() + Send>;

/// How long a caller looks for the answer before it sleeps until it comes.
const SPIN: Duration = Duration::from_micros(50);

/// At most this many calls may be stuck in one driver; beyond, calls fail at once instead of each
/// leaving one more thread behind.
pub const MAX_STUCK: usize = 8;

/// The threads that run one library's calls.
pub struct Guard {
    /// Who is called, for thread names and messages.
    name: String,
    timeout: Duration,
    /// Threads waiting for a call, each behind its own channel.
    idle: Mutex<Vec<SyncSender<Job>>>,
    /// The network namespace of the thread that loaded the library: every call thread enters it,
    /// whichever thread (maybe one inside a sandbox's namespace) happened to start it.
    netns: Option<Netns>,
    /// Calls abandoned at their timeout that have not ended yet.
    stuck: Arc<AtomicUsize>,
}

/// Why a call has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// It did not end within the timeout.
    TimedOut(Duration),
    /// No thread could be started to run it.
    NoThread(String),
    /// Too many earlier calls are still stuck in the driver ([`MAX_STUCK`]).
    Stuck(usize),
}

/// Where a call's answer meets its caller.
enum Slot<T> {
    Pending,
    Answered(T),
    /// The caller gave up; a late answer goes to the undo.
    Abandoned,
}

type Meeting<T> = Arc<(Mutex<Slot<T>>, Condvar)>;

impl Guard {
    pub fn new(name: &str, timeout: Duration) -> Guard {
        let netns = Netns::current().ok();
        Guard { name: name.to_string(), timeout, idle: Mutex::new(Vec::new()), netns, stuck: Arc::default() }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Run `f` on a call thread and wait for it at most the timeout.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, CallError> {
        self.run_or_undo(f, |_late| {})
    }

    /// Like [`Guard::run`]; if `f` ends after the caller gave up, its answer goes to `undo`, on the
    /// call's thread.
    pub fn run_or_undo<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
        undo: impl FnOnce(T) + Send + 'static,
    ) -> Result<T, CallError> {
        let stuck = self.stuck.load(Ordering::SeqCst);
        if stuck >= MAX_STUCK {
            return Err(CallError::Stuck(stuck));
        }
        let meeting: Meeting<T> = Arc::new((Mutex::new(Slot::Pending), Condvar::new()));
        let theirs = Arc::clone(&meeting);
        let stuck = Arc::clone(&self.stuck);
        let mut job: Job = Box::new(move || {
            let answer = f();
            let (slot, answered) = &*theirs;
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            if matches!(*slot, Slot::Abandoned) {
                drop(slot);
                stuck.fetch_sub(1, Ordering::SeqCst);
                undo(answer);
            } else {
                *slot = Slot::Answered(answer);
                answered.notify_one();
            }
        });
        // A thread whose channel is closed has ended: the job comes back and goes to the next one.
        let worker = loop {
            let worker = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            let worker = match worker {
                Some(w) => w,
                None => self.spawn()?,
            };
            match worker.send(job) {
                Ok(()) => break worker,
                Err(mpsc::SendError(back)) => job = back,
            }
        };
        let (slot, answered) = &*meeting;
        let deadline = Instant::now() + self.timeout;
        // A quick call's answer is often there within microseconds: look for it a short while
        // before sleeping, which saves the caller's own wake-up (tens of µs on an idle VM).
        let spin_until = Instant::now() + SPIN;
        while Instant::now() < spin_until {
            if slot.try_lock().is_ok_and(|s| matches!(*s, Slot::Answered(_))) {
                break;
            }
            std::hint::spin_loop();
        }
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Slot::Answered(_) = *slot {
                let Slot::Answered(answer) = std::mem::replace(&mut *slot, Slot::Pending) else { unreachable!() };
                drop(slot);
                self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(worker);
                return Ok(answer);
            }
            let now = Instant::now();
            if now >= deadline {
                // The thread stays with the call it is stuck in and is not used again; when the
                // call ever ends, the undo runs and the thread exits (its channel is gone).
                *slot = Slot::Abandoned;
                self.stuck.fetch_add(1, Ordering::SeqCst);
                return Err(CallError::TimedOut(self.timeout));
            }
            slot = answered.wait_timeout(slot, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    fn spawn(&self) -> Result<SyncSender<Job>, CallError> {
        let (tx, rx) = mpsc::sync_channel::<Job>(1);
        let serve = move || {
            while let Ok(job) = rx.recv() {
                job();
            }
        };
        let builder = std::thread::Builder::new().name(format!("driver-{}", self.name));
        let spawned = match &self.netns {
            Some(ns) => ns.spawn(builder, move |entered| {
                if let Err(e) = entered {
                    tracing::warn!("driver call thread cannot enter weftd's network namespace: {e}");
                }
                serve()
            }),
            None => builder.spawn(serve),
        };
        match spawned {
            Ok(_) => Ok(tx),
            Err(e) => Err(CallError::NoThread(format!("cannot start a call thread for driver {}: {e}", self.name))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(r, Err(CallError::TimedOut(Duration::from_millis(100))));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(g.run(|| 2), Ok(2));
        let _ = release_tx.send(());
    }

    #[test]
    fn calls_fail_at_once_while_too_many_are_stuck() {
        let g = Guard::new("t", Duration::from_millis(20));
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        for _ in 0..MAX_STUCK {
            let rx = Arc::clone(&release_rx);
            let hang = move || {
                let _ = rx.lock().map(|r| r.recv_timeout(Duration::from_secs(10)));
            };
            assert_eq!(g.run(hang), Err(CallError::TimedOut(Duration::from_millis(20))));
        }
        assert_eq!(g.run(|| 1), Err(CallError::Stuck(MAX_STUCK)));
        // One ends: calls go through again.
        release_tx.send(()).unwrap();
        assert!(wait(|| g.stuck.load(Ordering::SeqCst) < MAX_STUCK));
        assert_eq!(g.run(|| 1), Ok(1));
        for _ in 1..MAX_STUCK {
            let _ = release_tx.send(());
        }
    }

    /// Poll `f` for up to 5 s.
    fn wait(f: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn a_late_answer_goes_to_the_undo_and_a_timely_one_does_not() {
        let g = Guard::new("t", Duration::from_millis(100));
        let (undone_tx, undone_rx) = mpsc::channel::<u32>();
        let tx = undone_tx.clone();
        let r = g.run_or_undo(
            || {
                std::thread::sleep(Duration::from_millis(300));
                7
            },
            move |late| {
                let _ = tx.send(late);
            },
        );
        assert_eq!(r, Err(CallError::TimedOut(Duration::from_millis(100))));
        assert_eq!(undone_rx.recv_timeout(Duration::from_secs(5)), Ok(7));
        let r = g.run_or_undo(
            || 8,
            move |late| {
                let _ = undone_tx.send(late);
            },
        );
        assert_eq!(r, Ok(8));
        assert!(undone_rx.recv_timeout(Duration::from_millis(200)).is_err());
    }
}
