//! `weft network prune`: removes the networks no container uses, after asking.

use serde::Deserialize;

use crate::args::PruneArgs;
use crate::client::Client;
use crate::console::Console;
use crate::errors::CliError;
use crate::filters::Filters;

const WARNING: &str = "WARNING! This will remove all custom networks not used by at least one container.
Are you sure you want to continue?";

#[derive(Deserialize)]
struct PruneReport {
    #[serde(rename = "NetworksDeleted", default)]
    networks_deleted: Option<Vec<String>>,
}

/// Prunes, unless the user declines (which, as with Docker, is not an error).
pub fn run(console: &mut Console, client: &Client, args: &PruneArgs) -> Result<(), CliError> {
    if !args.force && !console.confirm(WARNING) {
        return Ok(());
    }
    let filters = Filters::from_pairs(&args.filter);
    let answer = client.post(&format!("/networks/prune{}", filters.query()), None)?;
    let report: PruneReport = serde_json::from_slice(&answer)
        .map_err(|e| CliError::failed(format!("unexpected answer from weftd to network prune: {e}")))?;
    console.out(&report_text(&report.networks_deleted.unwrap_or_default()));
    Ok(())
}

/// `Deleted Networks:` and the names, then the empty line Docker's `Println` adds; nothing when
/// nothing was deleted.
fn report_text(deleted: &[String]) -> String {
    if deleted.is_empty() {
        return String::new();
    }
    let mut out = String::from("Deleted Networks:\n");
    for name in deleted {
        out.push_str(name);
        out.push('\n');
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_as_docker() {
        assert_eq!(report_text(&["a".into(), "b".into()]), "Deleted Networks:\na\nb\n\n");
        assert_eq!(report_text(&[]), "");
    }
}
