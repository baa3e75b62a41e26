//! `weft ps`: Docker's table of containers, or its `--format` and `--quiet` outputs.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gtmpl::Value;
use serde_json::Value as Json;

use crate::args::PsArgs;
use crate::client::Client;
use crate::console::Console;
use crate::errors::CliError;
use crate::filters::Filters;
use crate::format::gotime::GoTime;
use crate::format::template::{header_names, Dot, LABELS};
use crate::format::{write_list, TABLE};

/// Docker's default table.
const DEFAULT_TABLE: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

/// Column names of the header row, per field.
const HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("Networks", "NETWORKS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
];

/// Lists the containers: running ones, or all with `-a`.
pub fn run(console: &mut Console, client: &Client, args: &PsArgs) -> Result<(), CliError> {
    let answer = client.get(&list_path(args))?;
    let containers: Vec<Json> = serde_json::from_slice(&answer)
        .map_err(|e| CliError::failed(format!("unexpected answer from weftd to ps: {e}")))?;
    console.out(&render(&containers, args, SystemTime::now())?);
    Ok(())
}

fn list_path(args: &PsArgs) -> String {
    let filters = Filters::from_pairs(&args.filter).query();
    let mut query: Vec<String> = Vec::new();
    if args.all {
        query.push("all=1".into());
    }
    // `-l` is `-n 1`, as in Docker's CLI.
    let limit = if args.latest { 1 } else { args.last };
    if limit > 0 {
        query.push(format!("limit={limit}"));
    }
    if let Some(f) = filters.strip_prefix('?') {
        query.push(f.to_string());
    }
    if query.is_empty() {
        "/containers/json".to_string()
    } else {
        format!("/containers/json?{}", query.join("&"))
    }
}

fn render(containers: &[Json], args: &PsArgs, now: SystemTime) -> Result<String, CliError> {
    let format = match args.format.as_deref().unwrap_or("") {
        "" | TABLE if args.quiet => "{{.ID}}".to_string(),
        "" | TABLE => DEFAULT_TABLE.to_string(),
        other => other.to_string(),
    };
    let rows: Vec<Value> = containers.iter().map(|c| row(c, !args.no_trunc, now)).collect();
    write_list(&format, &rows, &header_names(HEADERS), Dot::NetworkRow)
}

/// Docker's `stringid.TruncateID`: 12 characters, after any `algo:` prefix.
fn truncate_id(id: &str) -> &str {
    let id = id.split_once(':').map_or(id, |(_, rest)| rest);
    id.char_indices().nth(12).map_or(id, |(i, _)| &id[..i])
}

/// go-units' `HumanDuration`.
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs_f64();
    let minutes = seconds / 60.0;
    let hours = minutes / 60.0;
    let rounded_hours = (hours + 0.5) as i64;
    if (seconds as i64) < 1 {
        "Less than a second".into()
    } else if seconds as i64 == 1 {
        "1 second".into()
    } else if seconds < 60.0 {
        format!("{} seconds", seconds as i64)
    } else if minutes as i64 == 1 {
        "About a minute".into()
    } else if minutes < 60.0 {
        format!("{} minutes", minutes as i64)
    } else if rounded_hours == 1 {
        "About an hour".into()
    } else if rounded_hours < 48 {
        format!("{rounded_hours} hours")
    } else if rounded_hours < 24 * 7 * 2 {
        format!("{} days", rounded_hours / 24)
    } else if rounded_hours < 24 * 30 * 2 {
        format!("{} weeks", rounded_hours / 24 / 7)
    } else if rounded_hours < 24 * 365 * 2 {
        format!("{} months", rounded_hours / 24 / 30)
    } else {
        format!("{} years", hours as i64 / 24 / 365)
    }
}

/// Docker's `formatter.Ellipsis`: at most `max` characters, the last one `…` when cut.
fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Go's `strconv.Quote`, for the printable text of a command line.
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Docker's `DisplayablePorts`: the list's `Ports` as `0.0.0.0:8080->80/tcp, 22/tcp`. Ports in
/// order; a run of ports published on the same port numbers of one address (or not published)
/// shown as one range (`8000-8002/tcp`, `0.0.0.0:8000-8002->8000-8002/tcp`); mappings to other
/// numbers listed last, one by one.
fn displayable_ports(ports: &[Json]) -> String {
    struct Port {
        ip: String,
        private: u64,
        public: u64,
        kind: String,
    }
    let mut ports: Vec<Port> = ports
        .iter()
        .map(|p| Port {
            ip: p.get("IP").and_then(Json::as_str).unwrap_or("").to_string(),
            private: p.get("PrivatePort").and_then(Json::as_u64).unwrap_or(0),
            public: p.get("PublicPort").and_then(Json::as_u64).unwrap_or(0),
            kind: p.get("Type").and_then(Json::as_str).unwrap_or("").to_string(),
        })
        .collect();
    ports.sort_by(|a, b| (a.private, &a.ip, a.public, &a.kind).cmp(&(b.private, &b.ip, b.public, &b.kind)));
    let host = |ip: &str, port: String| super::port::join_host_port(ip, &port);
    let group = |(ip, kind): &(String, String), first: u64, last: u64| {
        let span = if first == last { first.to_string() } else { format!("{first}-{last}") };
        if ip.is_empty() {
            format!("{span}/{kind}")
        } else {
            format!("{}->{span}/{kind}", host(ip, span.clone()))
        }
    };
    // Groups in the order they were first seen, each with its current run.
    let mut groups: Vec<((String, String), u64, u64)> = Vec::new();
    let mut result = Vec::new();
    let mut mappings = Vec::new();
    for p in ports {
        if !p.ip.is_empty() && p.public != p.private {
            mappings.push(format!("{}->{}/{}", host(&p.ip, p.public.to_string()), p.private, p.kind));
            continue;
        }
        let key = (p.ip, p.kind);
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            None => groups.push((key, p.private, p.private)),
            Some((_, _, last)) if p.private == *last + 1 => *last = p.private,
            Some((k, first, last)) => {
                result.push(group(k, *first, *last));
                (*first, *last) = (p.private, p.private);
            }
        }
    }
    result.extend(groups.iter().map(|(k, first, last)| group(k, *first, *last)));
    result.extend(mappings);
    result.join(", ")
}

/// The row a template sees for one container (docker/cli `ContainerContext`): every field a string.
fn row(c: &Json, truncate: bool, now: SystemTime) -> Value {
    let text = |key: &str| c.get(key).and_then(Json::as_str).unwrap_or("").to_string();
    let id = text("Id");
    let command = if truncate { ellipsis(&text("Command"), 20) } else { text("Command") };
    // Names come as `/name`; links as `/other/alias`, which the truncated table leaves out.
    let names: Vec<String> = c
        .get("Names")
        .and_then(Json::as_array)
        .map(|a| a.iter().filter_map(Json::as_str).map(|n| n.trim_start_matches('/').to_string()).collect())
        .unwrap_or_default();
    let names: Vec<String> = if truncate { names.into_iter().filter(|n| !n.contains('/')).collect() } else { names };
    let created = c.get("Created").and_then(Json::as_i64).unwrap_or(0);
    let created_at = UNIX_EPOCH + Duration::from_secs(u64::try_from(created).unwrap_or(0));
    let running_for = format!("{} ago", human_duration(now.duration_since(created_at).unwrap_or_default()));
    let created_text = GoTime::parse(&humantime::format_rfc3339(created_at).to_string()).go_string();
    let labels: Vec<(String, String)> = c
        .get("Labels")
        .and_then(Json::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string())).collect())
        .unwrap_or_default();
    let mut networks: Vec<String> = c
        .pointer("/NetworkSettings/Networks")
        .and_then(Json::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    networks.sort();

    let mut fields = HashMap::new();
    let mut set = |k: &str, v: String| {
        fields.insert(k.to_string(), Value::String(v));
    };
    set("ID", if truncate { truncate_id(&id).to_string() } else { id.clone() });
    set("Image", text("Image"));
    set("Command", go_quote(&command));
    set("CreatedAt", created_text);
    set("RunningFor", running_for);
    set("Ports", displayable_ports(c.get("Ports").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default()));
    set("State", text("State"));
    set("Status", text("Status"));
    set("Size", "0B".to_string());
    set("Names", names.join(","));
    set("Labels", labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","));
    set("Mounts", String::new());
    set("Networks", networks.join(","));
    set("LocalVolumes", "0".to_string());
    fields.insert(LABELS.into(), Value::Map(labels.into_iter().map(|(k, v)| (k, Value::String(v))).collect()));
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn containers() -> Vec<Json> {
        vec![
            json!({"Id": ID, "Names": ["/web"], "Image": "hostfs", "Command": "sh -c 'echo hello; sleep 1000'",
                   "Created": 1_000_000_000 - 5, "State": "running", "Status": "Up 4 seconds",
                   "Labels": {"team": "web"}, "NetworkSettings": {"Networks": {"localnet": {}, "bridge": {}}}}),
            json!({"Id": "0123456789abcdef", "Names": ["/db", "/web/database"], "Image": "hostfs", "Command": "true",
                   "Created": 1_000_000_000 - 7200, "State": "exited", "Status": "Exited (0) 2 hours ago"}),
        ]
    }

    fn ps(format: Option<&str>, quiet: bool, no_trunc: bool) -> String {
        let args = PsArgs {
            all: true,
            filter: vec![],
            last: -1,
            latest: false,
            format: format.map(String::from),
            no_trunc,
            quiet,
            help: Default::default(),
            args: vec![],
        };
        render(&containers(), &args, UNIX_EPOCH + Duration::from_secs(1_000_000_000)).unwrap_or_else(|e| e.message)
    }

    #[test]
    fn default_table_as_docker() {
        assert_eq!(
            ps(None, false, false),
            "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS                   PORTS     NAMES\n\
             9f86d081884c   hostfs    \"sh -c 'echo hello; …\"   5 seconds ago   Up 4 seconds                       web\n\
             0123456789ab   hostfs    \"true\"                   2 hours ago     Exited (0) 2 hours ago             db\n"
        );
        let wide = ps(None, false, true);
        assert!(wide.contains(&format!("{ID}   hostfs    \"sh -c 'echo hello; sleep 1000'\"")), "{wide}");
        assert!(wide.ends_with("db,web/database\n"), "{wide}");
    }

    #[test]
    fn empty_list_prints_the_header() {
        let args = PsArgs {
            all: false,
            filter: vec![],
            last: -1,
            latest: false,
            format: None,
            no_trunc: false,
            quiet: false,
            help: Default::default(),
            args: vec![],
        };
        assert_eq!(
            render(&[], &args, SystemTime::now()).unwrap_or_default(),
            "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
        );
    }

    #[test]
    fn quiet_and_templates() {
        assert_eq!(ps(None, true, false), "9f86d081884c\n0123456789ab\n");
        assert_eq!(ps(None, true, true), format!("{ID}\n0123456789abcdef\n"));
        assert_eq!(
            ps(Some("{{.Names}} {{.State}} {{.Networks}} {{.Label \"team\"}}"), false, false),
            "web running bridge,localnet web\ndb exited  \n"
        );
        assert_eq!(ps(Some("{{.CreatedAt}}"), false, false).lines().next(), Some("2001-09-09 01:46:35 +0000 UTC"));
        assert_eq!(ps(Some("table {{.Names}}"), false, false), "NAMES\nweb\ndb\n");
    }

    #[test]
    fn ports_as_docker_shows_them() {
        let p = |ip: &str, private: u16, public: u16, kind: &str| {
            if ip.is_empty() {
                json!({"PrivatePort": private, "Type": kind})
            } else {
                json!({"IP": ip, "PrivatePort": private, "PublicPort": public, "Type": kind})
            }
        };
        assert_eq!(displayable_ports(&[]), "");
        assert_eq!(
            displayable_ports(&[p("", 22, 0, "tcp"), p("0.0.0.0", 80, 8080, "tcp")]),
            "22/tcp, 0.0.0.0:8080->80/tcp"
        );
        assert_eq!(
            displayable_ports(&[
                p("0.0.0.0", 8001, 8001, "tcp"),
                p("0.0.0.0", 8000, 8000, "tcp"),
                p("0.0.0.0", 8002, 8002, "tcp"),
                p("", 20, 0, "tcp"),
                p("", 21, 0, "tcp"),
                p("", 53, 0, "udp"),
                p("::", 80, 32768, "tcp"),
            ]),
            "20-21/tcp, 53/udp, 0.0.0.0:8000-8002->8000-8002/tcp, [::]:32768->80/tcp"
        );
        assert_eq!(displayable_ports(&[p("", 1, 0, "tcp"), p("", 3, 0, "tcp")]), "1/tcp, 3/tcp");
        let row = row(&json!({"Ports": [p("0.0.0.0", 80, 8080, "tcp")]}), true, UNIX_EPOCH);
        let Value::Object(fields) = row else { panic!("not an object") };
        assert_eq!(fields.get("Ports"), Some(&Value::String("0.0.0.0:8080->80/tcp".into())));
    }

    #[test]
    fn durations_as_go_units() {
        let d = Duration::from_secs;
        assert_eq!(human_duration(Duration::from_millis(300)), "Less than a second");
        assert_eq!(human_duration(d(1)), "1 second");
        assert_eq!(human_duration(d(59)), "59 seconds");
        assert_eq!(human_duration(d(90)), "About a minute");
        assert_eq!(human_duration(d(45 * 60)), "45 minutes");
        assert_eq!(human_duration(d(3600)), "About an hour");
        assert_eq!(human_duration(d(5 * 3600)), "5 hours");
        assert_eq!(human_duration(d(3 * 86400)), "3 days");
        assert_eq!(human_duration(d(20 * 86400)), "2 weeks");
    }

    #[test]
    fn commands_quote_as_go() {
        assert_eq!(go_quote("sh -c \"a\\b\""), r#""sh -c \"a\\b\"""#);
        assert_eq!(ellipsis("abcdef", 4), "abc…");
        assert_eq!(ellipsis("abc", 4), "abc");
    }
}
