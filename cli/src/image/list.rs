//! `weft image ls` / `weft images`: Docker's table of images (a row per tag, `<none>` for an
//! untagged image), or its `--format` and `--quiet` outputs. The built-in `hostfs` image has no
//! files or id of its own and is not listed.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gtmpl::Value;
use serde_json::Value as Json;

use super::args::ImagesArgs;
use crate::client::Client;
use crate::console::Console;
use crate::container::ps::human_duration;
use crate::errors::CliError;
use crate::format::gotime::GoTime;
use crate::format::template::{header_names, Dot};
use crate::format::{write_list, TABLE};

const DEFAULT_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

const HEADERS: &[(&str, &str)] = &[
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("ID", "IMAGE ID"),
    ("Digest", "DIGEST"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("Containers", "CONTAINERS"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
    ("VirtualSize", "VIRTUAL SIZE"),
];

pub fn run(console: &mut Console, client: &Client, args: &ImagesArgs) -> Result<(), CliError> {
    let answer = client.get("/images/json")?;
    let images: Vec<Json> = serde_json::from_slice(&answer)
        .map_err(|e| CliError::failed(format!("unexpected answer from weftd to image ls: {e}")))?;
    console.out(&render(&images, args, SystemTime::now())?);
    Ok(())
}

fn render(images: &[Json], args: &ImagesArgs, now: SystemTime) -> Result<String, CliError> {
    let format = match args.format.as_deref().unwrap_or("") {
        "" | TABLE if args.quiet => "{{.ID}}".to_string(),
        "" | TABLE => DEFAULT_TABLE.to_string(),
        other => other.to_string(),
    };
    // `weft images REPOSITORY[:TAG]` keeps the rows of that repository (and tag).
    let wanted = args.args.first().map(|name| {
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        match name[last_slash..].rfind(':') {
            Some(i) => (name[..last_slash + i].to_string(), Some(name[last_slash + i + 1..].to_string())),
            None => (name.clone(), None),
        }
    });
    let mut rows = Vec::new();
    let mut quiet_seen = Vec::new();
    for image in images {
        let tags: Vec<(String, String)> = image
            .get("RepoTags")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).filter_map(split_tag).collect())
            .unwrap_or_default();
        let tags = if tags.is_empty() { vec![("<none>".to_string(), "<none>".to_string())] } else { tags };
        for (repo, tag) in tags {
            if let Some((want_repo, want_tag)) = &wanted {
                if repo != *want_repo || want_tag.as_ref().is_some_and(|t| *t != tag) {
                    continue;
                }
            }
            let row = row(image, &repo, &tag, !args.no_trunc, now);
            // As Docker's: -q lists each image once.
            if args.quiet && args.format.is_none() {
                let id = image.get("Id").and_then(Json::as_str).unwrap_or("").to_string();
                if quiet_seen.contains(&id) {
                    continue;
                }
                quiet_seen.push(id);
            }
            rows.push(row);
        }
    }
    write_list(&format, &rows, &header_names(HEADERS), Dot::NetworkRow)
}

fn split_tag(t: &str) -> Option<(String, String)> {
    let last_slash = t.rfind('/').map_or(0, |i| i + 1);
    let i = t[last_slash..].rfind(':')? + last_slash;
    Some((t[..i].to_string(), t[i + 1..].to_string()))
}

/// go-units' `HumanSizeWithPrecision(size, 3)`: decimal units, three significant digits.
pub fn human_size(size: f64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = size;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    // Go's %.3g: three significant digits, trailing zeros dropped.
    let int_digits = if size < 1.0 { 1 } else { (size.log10().floor() as i32 + 1).max(1) };
    let decimals = (3 - int_digits).max(0) as usize;
    let mut text = format!("{size:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{text}{}", UNITS[unit])
}

fn row(image: &Json, repo: &str, tag: &str, truncate: bool, now: SystemTime) -> Value {
    let id = image.get("Id").and_then(Json::as_str).unwrap_or("").to_string();
    let hex = id.strip_prefix("sha256:").unwrap_or(&id);
    let created = UNIX_EPOCH + Duration::from_secs(image.get("Created").and_then(Json::as_u64).unwrap_or(0));
    let size = image.get("Size").and_then(Json::as_f64).unwrap_or(0.0);
    let mut fields = HashMap::new();
    let mut put = |k: &str, v: String| {
        fields.insert(k.to_string(), Value::String(v));
    };
    put("ID", if truncate { hex.chars().take(12).collect() } else { id.clone() });
    put("Repository", repo.to_string());
    put("Tag", tag.to_string());
    put("Digest", "<none>".to_string());
    put("CreatedSince", format!("{} ago", human_duration(now.duration_since(created).unwrap_or_default())));
    put("CreatedAt", GoTime::parse(&humantime::format_rfc3339(created).to_string()).go_string());
    put("Size", human_size(size));
    put("VirtualSize", human_size(size));
    put("SharedSize", "N/A".to_string());
    put("UniqueSize", "N/A".to_string());
    put("Containers", "N/A".to_string());
    Value::Object(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(format: Option<&str>, quiet: bool) -> ImagesArgs {
        ImagesArgs {
            format: format.map(String::from),
            no_trunc: false,
            quiet,
            help: Default::default(),
            args: Vec::new(),
        }
    }

    #[test]
    fn sizes_as_go_units() {
        assert_eq!(human_size(0.0), "0B");
        assert_eq!(human_size(999.0), "999B");
        assert_eq!(human_size(1000.0), "1kB");
        assert_eq!(human_size(1_234_567.0), "1.23MB");
        assert_eq!(human_size(12_500.0), "12.5kB");
        assert_eq!(human_size(7_800_000_000.0), "7.8GB");
    }

    #[test]
    fn table_rows_per_tag_and_none_for_untagged() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hex = "0123456789abcdef".repeat(4);
        let images = vec![
            json!({"Id": format!("sha256:{hex}"), "RepoTags": ["mybox:latest", "reg:5000/x:v1"], "Created": 1_000_000 - 120, "Size": 1_234_567}),
            json!({"Id": format!("sha256:{}", "f".repeat(64)), "RepoTags": [], "Created": 1_000_000 - 7200, "Size": 0}),
        ];
        let text = render(&images, &args(None, false), now).unwrap();
        assert_eq!(
            text,
            "REPOSITORY   TAG       IMAGE ID       CREATED         SIZE\n\
             mybox        latest    0123456789ab   2 minutes ago   1.23MB\n\
             reg:5000/x   v1        0123456789ab   2 minutes ago   1.23MB\n\
             <none>       <none>    ffffffffffff   2 hours ago     0B\n"
        );
        assert_eq!(render(&images, &args(None, true), now).unwrap(), "0123456789ab\nffffffffffff\n");
        assert_eq!(
            render(&images[..1], &args(Some("{{.Repository}}:{{.Tag}}"), false), now).unwrap(),
            "mybox:latest\nreg:5000/x:v1\n"
        );
    }
}
