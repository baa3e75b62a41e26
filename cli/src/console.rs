//! The standard streams of a command, passed in so that a command can run on any of them.

use std::io::{BufRead, Write};

/// Where a command writes its output and errors, and reads its answers.
pub struct Console<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    input: &'a mut dyn BufRead,
}

impl<'a> Console<'a> {
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write, input: &'a mut dyn BufRead) -> Self {
        Self { out, err, input }
    }

    /// Writes to stdout. As with Docker's CLI, a closed stdout (`weft network ls | head -1`) is
    /// not an error.
    pub fn out(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes()).and_then(|_| self.out.flush());
    }

    /// Writes to stderr.
    pub fn err(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes()).and_then(|_| self.err.flush());
    }

    /// Writes bytes to stdout as they come (a container's output need not be text).
    pub fn out_bytes(&mut self, data: &[u8]) {
        let _ = self.out.write_all(data).and_then(|_| self.out.flush());
    }

    /// Writes bytes to stderr as they come.
    pub fn err_bytes(&mut self, data: &[u8]) {
        let _ = self.err.write_all(data).and_then(|_| self.err.flush());
    }

    /// Docker's confirmation: `message [y/N] ` on stdout, then one line of input; only `y` or
    /// `Y` is a yes, and the end of input is a no.
    pub fn confirm(&mut self, message: &str) -> bool {
        self.out(&format!("{message} [y/N] "));
        let mut line = String::new();
        match self.input.read_line(&mut line) {
            Ok(0) | Err(_) => false,
            Ok(_) => line.trim().eq_ignore_ascii_case("y"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(input: &str) -> (bool, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut input = input.as_bytes();
        let yes = Console::new(&mut out, &mut err, &mut input).confirm("Sure?");
        (yes, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn only_y_is_yes() {
        assert_eq!(answer("y\n"), (true, "Sure? [y/N] ".to_string()));
        assert!(answer(" Y \n").0);
        assert!(!answer("yes\n").0);
        assert!(!answer("").0);
    }
}
