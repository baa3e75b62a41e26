//! `weft network ls`: Docker's table of networks, or its `--format` and `--quiet` outputs.

use std::cmp::Ordering;
use std::collections::HashMap;

use gtmpl::Value;
use serde_json::Value as Json;

use crate::args::ListArgs;
use crate::client::Client;
use crate::console::Console;
use crate::errors::CliError;
use crate::filters::Filters;
use crate::format::gotime::GoTime;
use crate::format::gotypes::{GO_TYPE, NETWORK_CONTEXT};
use crate::format::template::{header_names, Dot, LABELS};
use crate::format::{write_list, TABLE};

/// Docker's default table.
const DEFAULT_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
/// What `--quiet` prints.
const QUIET: &str = "{{.ID}}";

/// Column names of the header row, per field.
const HEADERS: &[(&str, &str)] = &[
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("IPv4", "IPV4"),
    ("IPv6", "IPV6"),
    ("Internal", "INTERNAL"),
    ("Labels", "LABELS"),
    ("CreatedAt", "CREATED AT"),
];

/// Lists the networks weftd has, filtered, sorted by name.
pub fn run(console: &mut Console, client: &Client, args: &ListArgs) -> Result<(), CliError> {
    let filters = Filters::from_pairs(&args.filter);
    let answer = client.get(&format!("/networks{}", filters.query()))?;
    let mut networks: Vec<Json> = serde_json::from_slice(&answer)
        .map_err(|e| CliError::failed(format!("unexpected answer from weftd to network ls: {e}")))?;
    networks.sort_by(|a, b| natural_cmp(name_of(a), name_of(b)));

    let format = resolve_format(args.format.as_deref().unwrap_or(""), args.quiet);
    let rows: Vec<Value> = networks.iter().map(|n| row(n, !args.no_trunc)).collect();
    console.out(&write_list(&format, &rows, &header_names(HEADERS), Dot::NetworkRow)?);
    Ok(())
}

fn name_of(n: &Json) -> &str {
    n.get("Name").and_then(Json::as_str).unwrap_or("")
}

/// docker/cli `network.NewFormat`: `table` (the default) and `raw` have fixed templates, which
/// `--quiet` replaces; any other format is used as given.
pub fn resolve_format(source: &str, quiet: bool) -> String {
    match source {
        "" | TABLE if quiet => QUIET.to_string(),
        "" | TABLE => DEFAULT_TABLE.to_string(),
        "raw" if quiet => "network_id: {{.ID}}".to_string(),
        "raw" => r"network_id: {{.ID}}\nname: {{.Name}}\ndriver: {{.Driver}}\nscope: {{.Scope}}\n".to_string(),
        other => other.to_string(),
    }
}

/// Docker's `stringid.TruncateID`: 12 characters, after any `algo:` prefix.
pub fn truncate_id(id: &str) -> &str {
    let id = id.split_once(':').map_or(id, |(_, rest)| rest);
    id.char_indices().nth(12).map_or(id, |(i, _)| &id[..i])
}

/// The row a template sees for one network (docker/cli `networkContext`): every field a string.
fn row(network: &Json, truncate: bool) -> Value {
    let text = |key: &str| network.get(key).and_then(Json::as_str).unwrap_or("").to_string();
    let flag = |key: &str| network.get(key).and_then(Json::as_bool).unwrap_or(false).to_string();
    let id = text("Id");
    let labels: Vec<(String, String)> = network
        .get("Labels")
        .and_then(Json::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
        .unwrap_or_default();

    let mut fields = HashMap::new();
    fields.insert(GO_TYPE.to_string(), Value::String(NETWORK_CONTEXT.name.to_string()));
    fields.insert("ID".into(), Value::String(if truncate { truncate_id(&id).to_string() } else { id.clone() }));
    fields.insert("Name".into(), Value::String(text("Name")));
    fields.insert("Driver".into(), Value::String(text("Driver")));
    fields.insert("Scope".into(), Value::String(text("Scope")));
    fields.insert("IPv4".into(), Value::String(flag("EnableIPv4")));
    fields.insert("IPv6".into(), Value::String(flag("EnableIPv6")));
    fields.insert("Internal".into(), Value::String(flag("Internal")));
    // Docker joins the labels in Go's map order, which is random; sorted here.
    fields.insert(
        "Labels".into(),
        Value::String(labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")),
    );
    fields.insert("CreatedAt".into(), Value::String(GoTime::parse(&text("Created")).go_string()));
    fields.insert(LABELS.into(), Value::Map(labels.into_iter().map(|(k, v)| (k, Value::String(v))).collect()));
    Value::Object(fields)
}

/// `sortorder.NaturalLess`, as a total order: runs of digits compare as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        match (da, db) {
            // Digits sort before other characters.
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {
                if a[i] != b[j] {
                    return a[i].cmp(&b[j]);
                }
                i += 1;
                j += 1;
            }
            (true, true) => {
                while i < a.len() && a[i] == b'0' {
                    i += 1;
                }
                while j < b.len() && b[j] == b'0' {
                    j += 1;
                }
                let (start_a, start_b) = (i, j);
                while i < a.len() && a[i].is_ascii_digit() {
                    i += 1;
                }
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let (na, nb) = (&a[start_a..i], &b[start_b..j]);
                // A longer number (without leading zeros) is larger; then digit by digit;
                // then the one with fewer leading zeros first.
                let by_value = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if by_value != Ordering::Equal {
                    return by_value;
                }
                if start_a != start_b {
                    return start_a.cmp(&start_b);
                }
            }
        }
    }
    // Equal so far and one has ended: the shorter first.
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(networks: &[Json], format: &str, quiet: bool, trunc: bool) -> String {
        let mut networks = networks.to_vec();
        networks.sort_by(|a, b| natural_cmp(name_of(a), name_of(b)));
        let rows: Vec<Value> = networks.iter().map(|n| row(n, trunc)).collect();
        write_list(&resolve_format(format, quiet), &rows, &header_names(HEADERS), Dot::NetworkRow)
            .unwrap_or_else(|e| e.message)
    }

    fn networks() -> Vec<Json> {
        vec![
            json!({"Name": "none", "Id": "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2", "Driver": "null", "Scope": "local",
                   "Created": "2024-05-06T07:08:09.5Z"}),
            json!({"Name": "bridge", "Id": "3c8e1b2a9f003c8e1b2a9f003c8e1b2a9f003c8e1b2a9f003c8e1b2a9f003c8e", "Driver": "bridge", "Scope": "local",
                   "EnableIPv4": true, "Labels": {"team": "web", "env": "prod"}}),
            json!({"Name": "host", "Id": "7d2f9a0c11ee7d2f9a0c11ee7d2f9a0c11ee7d2f9a0c11ee7d2f9a0c11ee7d2f", "Driver": "host", "Scope": "local"}),
        ]
    }

    #[test]
    fn default_table_as_docker() {
        assert_eq!(
            table(&networks(), "", false, true),
            "NETWORK ID     NAME      DRIVER    SCOPE\n\
             3c8e1b2a9f00   bridge    bridge    local\n\
             7d2f9a0c11ee   host      host      local\n\
             a1b2c3d4e5f6   none      null      local\n"
        );
        let no_trunc = table(&networks(), "table", false, false);
        assert!(no_trunc.starts_with(
            "NETWORK ID                                                         NAME      DRIVER    SCOPE\n\
             3c8e1b2a9f003c8e1b2a9f003c8e1b2a9f003c8e1b2a9f003c8e1b2a9f003c8e   bridge    bridge    local\n"
        ));
    }

    #[test]
    fn empty_list_prints_the_header() {
        assert_eq!(table(&[], "", false, true), "NETWORK ID   NAME      DRIVER    SCOPE\n");
        assert_eq!(table(&[], "", true, true), "");
    }

    #[test]
    fn quiet_and_templates() {
        assert_eq!(table(&networks(), "", true, true), "3c8e1b2a9f00\n7d2f9a0c11ee\na1b2c3d4e5f6\n");
        assert_eq!(table(&networks(), "{{.Name}} {{.Driver}}", true, true), "bridge bridge\nhost host\nnone null\n");
        assert_eq!(table(&networks(), "table {{.Name}}", false, true), "NAME\nbridge\nhost\nnone\n");
        assert_eq!(
            table(&networks(), r#"{{.Name}}: {{.Labels}} [{{.Label "team"}}] {{.IPv4}} {{.Internal}}"#, false, true),
            "bridge: env=prod,team=web [web] true false\nhost:  [] false false\nnone:  [] false false\n"
        );
        assert_eq!(
            table(&networks(), r#"table {{.Name}}\t{{.Label "com.example.team"}}"#, false, true),
            "NAME      team\nbridge    \nhost      \nnone      \n"
        );
        assert_eq!(table(&networks()[..1], "{{.CreatedAt}}", false, true), "2024-05-06 07:08:09.5 +0000 UTC\n");
    }

    #[test]
    fn json_rows_as_docker() {
        assert_eq!(
            table(&networks()[..1], "json", false, true),
            "{\"CreatedAt\":\"2024-05-06 07:08:09.5 +0000 UTC\",\"Driver\":\"null\",\"ID\":\"a1b2c3d4e5f6\",\"IPv4\":\"false\",\"IPv6\":\"false\",\"Internal\":\"false\",\"Labels\":\"\",\"Name\":\"none\",\"Scope\":\"local\"}\n"
        );
    }

    #[test]
    fn raw_format_as_docker() {
        assert_eq!(
            table(&networks()[2..], "raw", false, true),
            "network_id: 7d2f9a0c11ee\nname: host\ndriver: host\nscope: local\n\n"
        );
    }

    #[test]
    fn natural_order_as_docker() {
        let mut names = vec!["network-10-foo", "network-2-foo", "network-1-foo", "a", "a01", "a1", "B"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, vec!["B", "a", "a1", "a01", "network-1-foo", "network-2-foo", "network-10-foo"]);
    }

    #[test]
    fn ids_truncate_to_twelve() {
        assert_eq!(truncate_id("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(truncate_id("short"), "short");
    }
}
