//! Undo for an operation that fails half-way: each step that succeeded pushes how to undo it,
//! right after it; if the operation ends without [`Undo::commit`], the steps are undone newest
//! first. This is the one way weft undoes (the controller, the drivers, the engine); a driver of a
//! third party gets it with `libnet`.
//!
//! An undo that fails is logged with what it was undoing; nothing is dropped silently.
//!
//! ```
//! use libnet::undo::Undo;
//! # fn make(_: &str) -> Result<(), String> { Ok(()) }
//! # fn remove(_: &str) -> Result<(), String> { Ok(()) }
//! # fn configure() -> Result<(), String> { Err("refused".into()) }
//! fn create() -> Result<(), String> {
//!     let mut undo = Undo::new();
//!     make("link")?;
//!     undo.push("link", || remove("link"));
//!     configure()?; // fails: the link is removed when `undo` drops
//!     undo.commit();
//!     Ok(())
//! }
//! assert!(create().is_err());
//! ```

use std::fmt::Display;

/// One undo action: what it undoes, and how.
type Step<'a> = (String, Box<dyn FnOnce() -> Result<(), String> + 'a>);

/// A stack of undo actions. Dropped before [`Undo::commit`], it runs them newest first.
#[derive(Default)]
#[must_use = "an Undo dropped at once undoes nothing useful: keep it until the operation ends"]
pub struct Undo<'a> {
    steps: Vec<Step<'a>>,
}

impl<'a> Undo<'a> {
    /// An empty stack, to push on as the steps succeed.
    pub fn new() -> Self {
        Undo { steps: Vec::new() }
    }

    /// Remember how to undo `what`, a step that just succeeded.
    pub fn push<E: Display>(&mut self, what: impl Into<String>, undo: impl FnOnce() -> Result<(), E> + 'a) {
        self.steps.push((what.into(), Box::new(move || undo().map_err(|e| e.to_string()))));
    }

    /// The operation succeeded: keep everything.
    pub fn commit(mut self) {
        self.steps.clear();
    }

    /// Undo now, newest first, and return the failures as `undo of <what>: <error>` (each is
    /// logged too), for a caller that reports them.
    pub fn run(mut self) -> Vec<String> {
        self.undo_all()
    }

    fn undo_all(&mut self) -> Vec<String> {
        let mut failed = Vec::new();
        while let Some((what, undo)) = self.steps.pop() {
            if let Err(e) = undo() {
                tracing::warn!("undo of {what} failed: {e}");
                failed.push(format!("undo of {what}: {e}"));
            }
        }
        failed
    }
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        self.undo_all();
    }
}

/// An [`Undo`] whose steps act on an object the operation itself goes on changing (the
/// controller, which a step borrowed for good would lock out): each step is given it when the
/// steps run, by [`UndoWith::run`]. It cannot run on its own: dropped with steps left (a bug),
/// it logs each as not undone.
#[must_use = "run it on failure or commit it on success"]
pub struct UndoWith<'a, C: ?Sized> {
    steps: Vec<(String, ContextStep<'a, C>)>,
}

type ContextStep<'a, C> = Box<dyn FnOnce(&mut C) -> Result<(), String> + 'a>;

impl<'a, C: ?Sized> UndoWith<'a, C> {
    /// An empty stack, to push on as the steps succeed.
    pub fn new() -> Self {
        UndoWith { steps: Vec::new() }
    }

    /// Remember how to undo `what`, a step that just succeeded.
    pub fn push<E: Display>(&mut self, what: impl Into<String>, undo: impl FnOnce(&mut C) -> Result<(), E> + 'a) {
        self.steps.push((what.into(), Box::new(move |c: &mut C| undo(c).map_err(|e| e.to_string()))));
    }

    /// The operation succeeded: keep everything.
    pub fn commit(mut self) {
        self.steps.clear();
    }

    /// Undo now on `on`, newest first; each failure is logged and returned as in [`Undo::run`].
    pub fn run(mut self, on: &mut C) -> Vec<String> {
        let mut failed = Vec::new();
        while let Some((what, undo)) = self.steps.pop() {
            if let Err(e) = undo(on) {
                tracing::warn!("undo of {what} failed: {e}");
                failed.push(format!("undo of {what}: {e}"));
            }
        }
        failed
    }
}

impl<C: ?Sized> Default for UndoWith<'_, C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: ?Sized> Drop for UndoWith<'_, C> {
    fn drop(&mut self) {
        for (what, _) in self.steps.drain(..).rev() {
            tracing::error!("undo of {what} was not run: dropped without run() or commit()");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn steps_are_undone_newest_first_unless_committed() {
        let log = RefCell::new(Vec::new());
        {
            let mut undo = Undo::new();
            undo.push("a", || {
                log.borrow_mut().push("a");
                Ok::<_, String>(())
            });
            undo.push("b", || {
                log.borrow_mut().push("b");
                Err("b would not go")
            });
        }
        assert_eq!(*log.borrow(), ["b", "a"]);
        let mut undo = Undo::new();
        undo.push("c", || {
            log.borrow_mut().push("c");
            Ok::<_, String>(())
        });
        undo.commit();
        assert_eq!(log.borrow().len(), 2);
        let mut undo = Undo::new();
        undo.push("d", || Err::<(), _>("gone"));
        assert_eq!(undo.run(), ["undo of d: gone"]);
    }

    #[test]
    fn steps_with_a_context_get_it_when_they_run() {
        let mut list = vec![1];
        let mut undo = UndoWith::<Vec<i32>>::new();
        list.push(2);
        undo.push("the 2", |l: &mut Vec<i32>| l.pop().map(drop).ok_or("empty"));
        list.push(3); // the operation goes on changing what the steps act on
        undo.push("the 3", |l: &mut Vec<i32>| l.pop().map(drop).ok_or("empty"));
        assert!(undo.run(&mut list).is_empty());
        assert_eq!(list, [1]);
    }
}
