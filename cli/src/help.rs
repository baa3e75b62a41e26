//! Help pages laid out as Docker's (cobra's usage template, pflag's flag list).

use clap::{Arg, Command};

use super::usage::{find, use_line};

/// The width Docker wraps flag descriptions to when it knows no terminal width.
const HELP_WIDTH: usize = 80;
/// cobra's smallest width of a command name in a list of commands.
const MIN_NAME_PADDING: usize = 11;

fn visible_flags(cmd: &Command) -> Vec<&Arg> {
    let mut flags: Vec<&Arg> = cmd.get_arguments().filter(|a| !a.is_positional() && !a.is_hide_set()).collect();
    flags.sort_by_key(|a| a.get_long().unwrap_or_default());
    flags
}

/// Docker's help page of the command at `path`.
/// A command group (`weft network`, `weft container`, ...) as Docker runs one: with `--help` its
/// help goes to stdout; with no command, to stderr, and the group succeeds. The command to run,
/// if there is one.
pub fn group_command<T>(
    console: &mut super::console::Console,
    root: &Command,
    group: &str,
    wants_help: bool,
    command: Option<T>,
) -> Option<T> {
    let path = vec!["weft".to_string(), group.to_string()];
    if wants_help {
        console.out(&help(root, &path));
        return None;
    }
    if command.is_none() {
        console.err(&help(root, &path));
    }
    command
}

pub fn help(root: &Command, path: &[String]) -> String {
    let cmd = find(root, path);
    let path_text = path.join(" ");
    let subcommands: Vec<&Command> = {
        let mut subs: Vec<&Command> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
        subs.sort_by_key(|s| s.get_name());
        subs
    };
    let flags = visible_flags(cmd);
    let is_root = path.len() == 1;

    let mut out = String::from("Usage:  ");
    if subcommands.is_empty() {
        out.push_str(&use_line(cmd, path));
    } else {
        out.push_str(&path_text);
        if !flags.is_empty() {
            out.push_str(" [OPTIONS]");
        }
        out.push_str(" COMMAND");
    }
    out.push_str("\n\n");
    out.push_str(cmd.get_about().map(|a| a.to_string()).unwrap_or_default().trim());

    let aliases: Vec<&str> = cmd.get_visible_aliases().collect();
    if !aliases.is_empty() {
        let parent = path[..path.len() - 1].join(" ");
        let mut names = vec![path_text.clone()];
        names.extend(aliases.iter().map(|a| format!("{parent} {a}")));
        out.push_str("\n\nAliases:\n  ");
        out.push_str(&names.join(", "));
    }
    if !is_root && !flags.is_empty() {
        out.push_str("\n\nOptions:\n");
        out.push_str(flag_usages(&flags).trim_end());
    }
    if !subcommands.is_empty() {
        let padding = subcommands.iter().map(|s| s.get_name().len()).max().unwrap_or(0).max(MIN_NAME_PADDING);
        let line = |s: &Command| {
            let about = s.get_about().map(|a| a.to_string()).unwrap_or_default();
            format!("\n  {:<padding$} {about}", s.get_name())
        };
        let (groups, commands): (Vec<&Command>, Vec<&Command>) =
            subcommands.iter().partition(|s| is_root && s.has_subcommands());
        if !groups.is_empty() {
            out.push_str("\n\nManagement Commands:");
            groups.iter().for_each(|s| out.push_str(&line(s)));
        }
        if !commands.is_empty() {
            out.push_str("\n\nCommands:");
            commands.iter().for_each(|s| out.push_str(&line(s)));
        }
    }
    if is_root && !flags.is_empty() {
        out.push_str("\n\nGlobal Options:\n");
        out.push_str(flag_usages(&flags).trim_end());
    }
    if !subcommands.is_empty() {
        out.push_str(&format!("\n\nRun '{path_text} COMMAND --help' for more information on a command."));
    }
    out.push('\n');
    out
}

/// pflag's `FlagUsagesWrapped(79)`: `  -d, --driver string   Description (default "bridge")`.
fn flag_usages(flags: &[&Arg]) -> String {
    let mut lines = Vec::with_capacity(flags.len());
    let mut maxlen = 0;
    for flag in flags {
        let long = flag.get_long().unwrap_or_default();
        let mut head = match flag.get_short() {
            Some(short) => format!("  -{short}, --{long}"),
            None => format!("      --{long}"),
        };
        // Boolean flags (an optional `=value`) show no type.
        let boolean = flag.get_num_args().is_some_and(|n| n.min_values() == 0);
        let type_name = flag.get_value_names().and_then(|v| v.first()).filter(|_| !boolean).map(|v| v.to_string());
        if let Some(t) = &type_name {
            head.push(' ');
            head.push_str(t);
        }
        maxlen = maxlen.max(head.len() + 1);
        let mut text = flag.get_help().map(|h| h.to_string()).unwrap_or_default();
        match type_name.as_deref() {
            Some("string") => {
                if let Some(default) = flag.get_default_values().first().and_then(|d| d.to_str()) {
                    if !default.is_empty() {
                        text.push_str(&format!(" (default {default:?})"));
                    }
                }
            }
            // A pflag map flag prints its empty default.
            Some("map") => text.push_str(" (default map[])"),
            _ => {}
        }
        lines.push((head, text));
    }
    let mut out = String::new();
    for (head, text) in lines {
        let spacing = " ".repeat(maxlen - head.len());
        out.push_str(&format!("{head} {spacing} {}\n", wrap(maxlen + 2, HELP_WIDTH - 1, &text)));
    }
    out
}

/// pflag's `wrap`: `s` wrapped to width `w`, continuation lines indented by `i`.
fn wrap(i: usize, w: usize, s: &str) -> String {
    let mut indent = i;
    let mut width = w.saturating_sub(i);
    let mut out = String::new();
    if width < 24 {
        indent = 16;
        width = w.saturating_sub(indent);
        out.push('\n');
        out.push_str(&" ".repeat(indent));
    }
    let pad = format!("\n{}", " ".repeat(indent));
    if width < 24 {
        return s.replace('\n', &pad);
    }
    // A little slop lets a short last word stay on its line.
    let slop = 5;
    let width = width - slop;
    let (first, mut rest) = wrap_n(width, slop, s);
    out.push_str(&first.replace('\n', &pad));
    while !rest.is_empty() {
        let (line, more) = wrap_n(width, slop, rest);
        out.push_str(&pad);
        out.push_str(&line.replace('\n', &pad));
        rest = more;
    }
    out
}

/// pflag's `wrapN`: the first line of at most `i` bytes (plus `slop`), and the rest.
fn wrap_n(i: usize, slop: usize, s: &str) -> (&str, &str) {
    if i + slop > s.len() {
        return (s, "");
    }
    let mut end = i;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let head = &s[..end];
    let Some(w) = head.rfind([' ', '\t', '\n']).filter(|&w| w > 0) else {
        return (s, "");
    };
    if let Some(nl) = head.rfind('\n').filter(|&nl| nl > 0 && nl < w) {
        return (&s[..nl], &s[nl + 1..]);
    }
    (&s[..w], &s[w + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Cli;
    use clap::CommandFactory;

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    /// `docker network create --help` with `docker` replaced by `weft` (Docker 28.2).
    #[test]
    fn create_help_is_dockers() {
        let want = r#"Usage:  weft network create [OPTIONS] NETWORK

Create a network

Options:
      --attachable           Enable manual container attachment
      --aux-address map      Auxiliary IPv4 or IPv6 addresses used by
                             Network driver (default map[])
      --config-from string   The network from which to copy the configuration
      --config-only          Create a configuration only network
  -d, --driver string        Driver to manage the Network (default "bridge")
      --gateway strings      IPv4 or IPv6 Gateway for the master subnet
      --ingress              Create swarm routing-mesh network
      --internal             Restrict external access to the network
      --ip-range strings     Allocate container ip from a sub-range
      --ipam-driver string   IP Address Management Driver (default "default")
      --ipam-opt map         Set IPAM driver specific options (default map[])
      --ipv4                 Enable or disable IPv4 address assignment
                             (default true)
      --ipv6                 Enable or disable IPv6 address assignment
      --label list           Set metadata on a network
  -o, --opt map              Set driver specific options (default map[])
      --scope string         Control the network's scope
      --subnet strings       Subnet in CIDR format that represents a
                             network segment
"#;
        assert_eq!(help(&Cli::command(), &words("weft network create")), want);
    }

    /// `docker network ls --help` with `docker` replaced by `weft` (Docker 28.2).
    #[test]
    fn list_help_is_dockers() {
        let want = r#"Usage:  weft network ls [OPTIONS]

List networks

Aliases:
  weft network ls, weft network list

Options:
  -f, --filter filter   Provide filter values (e.g. "driver=bridge")
      --format string   Format output using a custom template:
                        'table':            Print output in table format
                        with column headers (default)
                        'table TEMPLATE':   Print output in table format
                        using the given Go template
                        'json':             Print in JSON format
                        'TEMPLATE':         Print output using the given
                        Go template.
                        Refer to https://docs.docker.com/go/formatting/
                        for more information about formatting output with
                        templates
      --no-trunc        Do not truncate the output
  -q, --quiet           Only display network IDs
"#;
        assert_eq!(help(&Cli::command(), &words("weft network ls")), want);
    }

    #[test]
    fn network_help_lists_commands() {
        let want = "Usage:  weft network COMMAND\n\nManage networks\n\nCommands:\n  connect     Connect a container to a network\n  create      Create a network\n  disconnect  Disconnect a container from a network\n  inspect     Display detailed information on one or more networks\n  ls          List networks\n  prune       Remove all unused networks\n  rm          Remove one or more networks\n\nRun 'weft network COMMAND --help' for more information on a command.\n";
        assert_eq!(help(&Cli::command(), &words("weft network")), want);
    }
}
