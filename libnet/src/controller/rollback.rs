//! Undo steps for an operation that fails half-way: run in reverse order unless disarmed.

/// One undo action: what it undoes, and how.
type Step = (String, Box<dyn FnOnce() -> Result<(), String>>);

/// A stack of undo actions. Dropped while armed, it runs them newest first.
#[derive(Default)]
pub(crate) struct Rollback {
    steps: Vec<Step>,
}

impl Rollback {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Remember how to undo a step that just succeeded.
    pub(crate) fn push(&mut self, what: impl Into<String>, undo: impl FnOnce() -> Result<(), String> + 'static) {
        self.steps.push((what.into(), Box::new(undo)));
    }

    /// The operation succeeded: keep everything.
    pub(crate) fn disarm(mut self) {
        self.steps.clear();
    }
}

impl Drop for Rollback {
    fn drop(&mut self) {
        while let Some((what, undo)) = self.steps.pop() {
            if let Err(e) = undo() {
                tracing::warn!("undo of {what} failed: {e}");
            }
        }
    }
}
