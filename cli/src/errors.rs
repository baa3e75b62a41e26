//! Errors of the `weft` command line, and the exit codes Docker's CLI gives them.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Exit code of a flag the parser rejects (unknown flag, bad value, missing value), as Docker's.
pub const EXIT_FLAG_ERROR: i32 = 125;
/// Exit code of a Go template that does not parse, for `inspect` and `version`, as Docker's.
pub const EXIT_TEMPLATE_ERROR: i32 = 64;

/// A command that failed: `message` goes to stderr (nothing when empty), `code` is the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    pub message: String,
    pub code: i32,
}

impl CliError {
    /// A failure with exit code 1, the code of every error Docker does not classify.
    pub fn failed(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: 1 }
    }

    /// A failure with an explicit exit code.
    pub fn with_code(code: i32, message: impl Into<String>) -> Self {
        Self { message: message.into(), code }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Why a request to weftd failed.
#[derive(Debug)]
pub enum ClientError {
    /// The socket could not be connected: weftd is not running, or the path is wrong.
    Connect { socket: PathBuf, source: io::Error },
    /// weftd answered with an error status; `message` is its `{"message": ...}`.
    Daemon { status: u16, message: String },
    /// The exchange itself failed: a broken connection or an answer that is not HTTP or JSON.
    Protocol(String),
}

impl ClientError {
    /// True when weftd answered 404: the object named does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ClientError::Daemon { status: 404, .. })
    }

    /// True when weftd could not be reached at all: no later request would fare better.
    pub fn is_connect(&self) -> bool {
        matches!(self, ClientError::Connect { .. })
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Connect { socket, source } if source.kind() == io::ErrorKind::PermissionDenied => {
                write!(f, "permission denied while trying to connect to weftd at {}: {source}", socket.display())
            }
            ClientError::Connect { socket, .. } => {
                write!(f, "cannot connect to weftd at {}: is it running? start it with 'weftd'", socket.display())
            }
            ClientError::Daemon { message, .. } => {
                write!(f, "Error response from daemon: {message}")
            }
            ClientError::Protocol(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        CliError::failed(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_error_names_the_socket_and_the_fix() {
        let e = ClientError::Connect {
            socket: PathBuf::from("/run/weft/weft.sock"),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(
            e.to_string(),
            "cannot connect to weftd at /run/weft/weft.sock: is it running? start it with 'weftd'"
        );
    }

    #[test]
    fn daemon_error_is_prefixed_as_docker_does() {
        let e = ClientError::Daemon { status: 409, message: "network with name web already exists".into() };
        assert_eq!(e.to_string(), "Error response from daemon: network with name web already exists");
        assert!(!e.is_not_found());
    }
}
