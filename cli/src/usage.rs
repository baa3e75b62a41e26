//! Usage errors worded as Docker's CLI (cobra and pflag) words them, and the command paths they name.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, Command};

use super::errors::{CliError, EXIT_FLAG_ERROR};

/// The names of the commands from the root to the one `args` runs, e.g. `weft network ls`
/// (aliases resolved). Flags and their values are skipped; the first other word that is not a
/// subcommand ends the path.
pub fn command_path(root: &Command, args: &[String]) -> Vec<String> {
    let mut path = vec![root.get_name().to_string()];
    let mut current = root;
    let mut i = 1;
    while i < args.len() {
        let word = args[i].as_str();
        if word == "--" {
            break;
        }
        // A flag belongs to the command it follows: one that command lacks ends the path.
        if let Some(long) = word.strip_prefix("--") {
            let Some(flag) = find_long(current, long.split('=').next().unwrap_or(long)) else {
                break;
            };
            if !long.contains('=') && takes_separate_value(flag) {
                i += 1;
            }
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            let first = shorts.chars().next();
            if !current.get_arguments().any(|a| a.get_short().is_some() && a.get_short() == first) {
                break;
            }
            // In `-qf value`, the last flag of the cluster may take the next word.
            for (at, c) in shorts.char_indices() {
                if current.get_arguments().any(|a| a.get_short() == Some(c) && takes_separate_value(a)) {
                    if at + c.len_utf8() == shorts.len() {
                        i += 1;
                    }
                    break;
                }
            }
        } else {
            match current.find_subcommand(word) {
                Some(sub) => {
                    path.push(sub.get_name().to_string());
                    current = sub;
                }
                None => break,
            }
        }
        i += 1;
    }
    path
}

fn find_long<'a>(cmd: &'a Command, long: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| a.get_long() == Some(long))
}

fn takes_separate_value(arg: &Arg) -> bool {
    arg.get_action().takes_values() && !arg.is_require_equals_set() && !arg.is_positional()
}

/// The command at `path` (names from the root, root included).
pub fn find<'a>(root: &'a Command, path: &[String]) -> &'a Command {
    let mut current = root;
    for name in path.iter().skip(1) {
        match current.find_subcommand(name) {
            Some(sub) => current = sub,
            None => break,
        }
    }
    current
}

/// cobra's `UseLine`: the command's usage, as usage errors show it.
pub fn use_line(cmd: &Command, path: &[String]) -> String {
    match cmd.get_overridden_usage() {
        Some(usage) => usage.to_string(),
        None => path.join(" "),
    }
}

/// How many arguments a command accepts, as Docker's `cli.ExactArgs` and friends say it.
pub enum Arity {
    None,
    Exactly(usize),
    AtLeast(usize),
    /// From the first to the second, both included.
    Range(usize, usize),
}

/// Checks the number of positional arguments of the command at `path`; Docker's error otherwise
/// (exit code 1).
pub fn check_arity(root: &Command, path: &[&str], args: &[String], arity: Arity) -> Result<(), CliError> {
    let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    let cmd = find(root, &path);
    let bin = &path[0];
    let path_text = path.join(" ");
    let usage = use_line(cmd, &path);
    let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
    let message = match arity {
        Arity::None if !args.is_empty() => {
            format!("{bin}: '{path_text}' accepts no arguments\n\nUsage:  {usage}\n\nRun '{path_text} --help' for more information")
        }
        Arity::Exactly(n) if args.len() != n => format!(
            "{bin}: '{path_text}' requires {n} {}\n\nUsage:  {usage}\n\nRun '{path_text} --help' for more information",
            plural(n)
        ),
        Arity::AtLeast(n) if args.len() < n => format!(
            "{bin}: '{path_text}' requires at least {n} {}\n\nUsage:  {usage}\n\nSee '{path_text} --help' for more information",
            plural(n)
        ),
        Arity::Range(min, max) if args.len() < min || args.len() > max => format!(
            "{bin}: '{path_text}' requires at least {min} and at most {max} {}\n\nUsage:  {usage}\n\nRun '{path_text} --help' for more information",
            plural(max)
        ),
        _ => return Ok(()),
    };
    Err(CliError::failed(message))
}

/// `weft network bogus`: Docker's words for an unknown command (exit code 1).
fn unknown_command(root: &Command, path: &[String], word: &str) -> CliError {
    let bin = &path[0];
    let path_text = path.join(" ");
    if path.len() == 1 {
        return CliError::failed(format!(
            "{bin}: unknown command: {path_text} {word}\n\nRun '{path_text} --help' for more information"
        ));
    }
    let usage = use_line(find(root, path), path);
    CliError::failed(format!(
        "{bin}: unknown command: {path_text} {word}\n\nUsage:  {usage}\n\nRun '{path_text} --help' for more information"
    ))
}

fn context(err: &clap::Error, kind: ContextKind) -> Option<String> {
    err.get(kind).map(|v| match v {
        ContextValue::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// A clap parse error in Docker's words: `unknown flag: --bogus` and the command's usage, with
/// exit code 125; an unknown command with exit code 1.
pub fn parse_error(root: &Command, args: &[String], err: &clap::Error) -> CliError {
    let path = command_path(root, args);
    let cmd = find(root, &path);
    let invalid_arg = context(err, ContextKind::InvalidArg).unwrap_or_default();
    // clap names a flag `--filter <filter>` or `--ipv4[=<IPV4>]`: the flag comes first.
    let flag_word = invalid_arg.split([' ', '[', '=']).next().unwrap_or_default().to_string();
    let arg = flag_word.strip_prefix("--").and_then(|long| find_long(cmd, long));
    let flag_name = |arg: Option<&Arg>| match arg {
        Some(a) => match (a.get_short(), a.get_long()) {
            (Some(s), Some(l)) => format!("-{s}, --{l}"),
            (None, Some(l)) => format!("--{l}"),
            (Some(s), None) => format!("-{s}"),
            (None, None) => flag_word.clone(),
        },
        None => flag_word.clone(),
    };

    let message = match err.kind() {
        ErrorKind::InvalidSubcommand => {
            let word = context(err, ContextKind::InvalidSubcommand).unwrap_or_default();
            return unknown_command(root, &path, &word);
        }
        ErrorKind::UnknownArgument => {
            if let Some(long) = invalid_arg.strip_prefix("--") {
                format!("unknown flag: --{}", long.split('=').next().unwrap_or(long))
            } else if let Some(shorts) = invalid_arg.strip_prefix('-') {
                let c = shorts.chars().next().unwrap_or('-');
                format!("unknown shorthand flag: '{c}' in -{shorts}")
            } else {
                return unknown_command(root, &path, &invalid_arg);
            }
        }
        ErrorKind::InvalidValue if context(err, ContextKind::InvalidValue).unwrap_or_default().is_empty() => {
            // A flag at the end of the line, without its value.
            let typed_short = args
                .iter()
                .rev()
                .find(|a| a.starts_with('-') && a.as_str() != "--")
                .is_some_and(|a| !a.starts_with("--"));
            match (arg.and_then(Arg::get_short), typed_short) {
                (Some(c), true) => format!("flag needs an argument: '{c}' in -{c}"),
                _ => format!("flag needs an argument: {flag_word}"),
            }
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = context(err, ContextKind::InvalidValue).unwrap_or_default();
            let reason = std::error::Error::source(err).map(|s| s.to_string()).unwrap_or_default();
            format!("invalid argument \"{value}\" for \"{}\" flag: {reason}", flag_name(arg))
        }
        _ => {
            let text = err.to_string();
            let first = text.lines().next().unwrap_or_default();
            first.strip_prefix("error: ").unwrap_or(first).to_string()
        }
    };
    let path_text = path.join(" ");
    CliError::with_code(
        EXIT_FLAG_ERROR,
        format!("{message}\n\nUsage:  {}\n\nRun '{path_text} --help' for more information", use_line(cmd, &path)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Cli;
    use clap::{CommandFactory, Parser};

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    fn error_of(line: &str) -> CliError {
        let args = words(line);
        match Cli::try_parse_from(&args) {
            Ok(_) => CliError::failed("parsed"),
            Err(e) => parse_error(&Cli::command(), &args, &e),
        }
    }

    #[test]
    fn paths_skip_flags_and_resolve_aliases() {
        let root = Cli::command();
        assert_eq!(command_path(&root, &words("weft -H unix:///x network list -q")), words("weft network ls"));
        assert_eq!(command_path(&root, &words("weft network create -d network x")), words("weft network create"));
        assert_eq!(command_path(&root, &words("weft --host=network network")), words("weft network"));
    }

    #[test]
    fn unknown_flags_as_docker() {
        let e = error_of("weft network ls --bogus");
        assert_eq!(e.code, 125);
        assert_eq!(
            e.message,
            "unknown flag: --bogus\n\nUsage:  weft network ls [OPTIONS]\n\nRun 'weft network ls --help' for more information"
        );
        assert!(error_of("weft network ls -qx").message.starts_with("unknown shorthand flag: 'x' in -x\n"));
        let e = error_of("weft --bogus network ls");
        assert_eq!(
            e.message,
            "unknown flag: --bogus\n\nUsage:  weft [OPTIONS] COMMAND [ARG...]\n\nRun 'weft --help' for more information"
        );
    }

    #[test]
    fn missing_and_bad_values_as_docker() {
        assert!(error_of("weft network create -d").message.starts_with("flag needs an argument: 'd' in -d\n"));
        assert!(error_of("weft network ls --format").message.starts_with("flag needs an argument: --format\n"));
        let e = error_of("weft network ls -f foo");
        assert_eq!(e.code, 125);
        assert!(e.message.starts_with(
            "invalid argument \"foo\" for \"-f, --filter\" flag: bad format of filter (expected name=value)\n\nUsage:  weft network ls [OPTIONS]"
        ));
        assert!(error_of("weft network create --ipv4=foo x").message.starts_with(
            "invalid argument \"foo\" for \"--ipv4\" flag: strconv.ParseBool: parsing \"foo\": invalid syntax\n"
        ));
        assert!(error_of("weft network create --label= x")
            .message
            .starts_with("invalid argument \"\" for \"--label\" flag: invalid label '': empty name\n"));
    }

    #[test]
    fn unknown_commands_as_docker() {
        let e = error_of("weft network bogus");
        assert_eq!(
            (e.code, e.message.as_str()),
            (1, "weft: unknown command: weft network bogus\n\nUsage:  weft network\n\nRun 'weft network --help' for more information")
        );
        let e = error_of("weft bogus");
        assert_eq!(e.message, "weft: unknown command: weft bogus\n\nRun 'weft --help' for more information");
    }

    #[test]
    fn argument_counts_as_docker() {
        let root = Cli::command();
        let e = check_arity(&root, &["weft", "network", "create"], &[], Arity::Exactly(1)).err();
        assert_eq!(
            e.map(|e| (e.code, e.message)),
            Some((1, "weft: 'weft network create' requires 1 argument\n\nUsage:  weft network create [OPTIONS] NETWORK\n\nRun 'weft network create --help' for more information".to_string()))
        );
        let e = check_arity(&root, &["weft", "network", "rm"], &[], Arity::AtLeast(1)).err();
        assert_eq!(
            e.map(|e| e.message),
            Some("weft: 'weft network rm' requires at least 1 argument\n\nUsage:  weft network rm NETWORK [NETWORK...]\n\nSee 'weft network rm --help' for more information".to_string())
        );
        let e = check_arity(&root, &["weft", "network", "ls"], &words("x"), Arity::None).err();
        assert_eq!(
            e.map(|e| e.message),
            Some("weft: 'weft network ls' accepts no arguments\n\nUsage:  weft network ls [OPTIONS]\n\nRun 'weft network ls --help' for more information".to_string())
        );
    }
}
