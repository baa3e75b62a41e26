//! The `filters` of `GET /containers/json` (`weft ps --filter`), as dockerd reads them: each
//! filter passes a container when any of its values matches, and all filters must pass.

use std::time::SystemTime;

use super::error::ApiError;
use super::filters::{labels_match, Filters};
use crate::containers::{ContainerRecord, Status};

/// The filters dockerd takes on its container list.
pub const ALLOWED: [&str; 15] = [
    "ancestor",
    "before",
    "expose",
    "exited",
    "health",
    "id",
    "isolation",
    "is-task",
    "label",
    "name",
    "network",
    "publish",
    "since",
    "status",
    "volume",
];
const STATUSES: [&str; 7] = ["created", "restarting", "running", "removing", "paused", "exited", "dead"];

/// What the filters compare that is not in the record itself.
pub struct Context {
    /// `before` and `since`: the creation time of the containers they name.
    pub before: Option<SystemTime>,
    pub since: Option<SystemTime>,
    /// The ids of the networks named by `network` (names are matched directly).
    pub network_ids: Vec<(String, String)>,
}

/// Refuse what dockerd refuses, before any container is looked at.
pub fn check(filters: &Filters) -> Result<(), ApiError> {
    super::filters::check(filters, &ALLOWED)?;
    for status in filters.get("status").into_iter().flatten() {
        if !STATUSES.contains(&status.as_str()) {
            return Err(ApiError::bad_request(format!("Unrecognised filter value for status: {status}")));
        }
    }
    for code in filters.get("exited").into_iter().flatten() {
        if code.parse::<i32>().is_err() {
            return Err(ApiError::bad_request(format!("invalid filter 'exited={code}'")));
        }
    }
    for port in filters.get("publish").into_iter().chain(filters.get("expose")).flatten() {
        ports_of(port).map_err(|e| ApiError::bad_request(format!("invalid filter '{port}': {e}")))?;
    }
    Ok(())
}

/// `80`, `80/udp`, `8000-8010/tcp` as port keys (`80/tcp`, ...).
fn ports_of(spec: &str) -> Result<Vec<String>, String> {
    let (range, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let (first, last) = range.split_once('-').unwrap_or((range, range));
    let bad = || format!("invalid port {spec:?}");
    let first: u16 = first.parse().map_err(|_| bad())?;
    let last: u16 = last.parse().map_err(|_| bad())?;
    if first == 0 || last < first || !matches!(proto, "tcp" | "udp" | "sctp") {
        return Err(bad());
    }
    Ok((first..=last).map(|p| format!("{p}/{proto}")).collect())
}

/// dockerd matches names as a regular expression on `/name`; the ones people write are a part of
/// the name, with `^` and `$` to anchor it: taken as such.
fn name_matches(pattern: &str, name: &str) -> bool {
    let start = pattern.starts_with('^');
    let end = pattern.ends_with('$') && pattern.len() > usize::from(start);
    let core = pattern.trim_start_matches('^').trim_end_matches('$');
    let core = if start { core.trim_start_matches('/') } else { core };
    let name = name.trim_start_matches('/');
    match (start, end) {
        (true, true) => name == core,
        (true, false) => name.starts_with(core),
        (false, true) => name.ends_with(core) || format!("/{name}").ends_with(core),
        (false, false) => name.contains(core) || format!("/{name}").contains(core),
    }
}

fn status_of(r: &ContainerRecord) -> &'static str {
    match r.state.status {
        Status::Created => "created",
        Status::Running => "running",
        Status::Exited => "exited",
    }
}

/// Whether `r` passes every filter.
pub fn matches(filters: &Filters, r: &ContainerRecord, ctx: &Context) -> bool {
    filters.iter().all(|(key, values)| {
        if values.is_empty() {
            return true;
        }
        let any = |f: &dyn Fn(&str) -> bool| values.iter().any(|v| f(v));
        match key.as_str() {
            "id" => any(&|v| r.id.starts_with(v)),
            "name" => any(&|v| name_matches(v, &r.name)),
            "status" => any(&|v| v == status_of(r)),
            "exited" => {
                r.state.status == Status::Exited && any(&|v| v.parse::<i32>().is_ok_and(|c| c == r.state.exit_code))
            }
            "label" => labels_match(values, &r.config.labels),
            "ancestor" => any(&|v| {
                let tagged = if v.contains(':') || v.contains('@') { v.to_string() } else { format!("{v}:latest") };
                r.config.image == v
                    || r.config.image == tagged
                    || (!r.image_id.is_empty() && r.image_id.starts_with(v.trim_start_matches("sha256:")))
            }),
            "before" => ctx.before.is_some_and(|t| r.created < t),
            "since" => ctx.since.is_some_and(|t| r.created > t),
            "network" => {
                any(&|v| {
                    r.config.endpoints.keys().chain(std::iter::once(&r.config.network_mode)).any(|net| {
                        net == v || ctx.network_ids.iter().any(|(name, id)| name == net && id.starts_with(v))
                    })
                })
            }
            "publish" => {
                any(&|v| ports_of(v).is_ok_and(|keys| keys.iter().any(|k| r.config.ports.bindings.contains_key(k))))
            }
            "expose" => any(&|v| {
                ports_of(v).is_ok_and(|keys| {
                    keys.iter().any(|k| r.config.ports.exposed.contains(k) || r.config.ports.bindings.contains_key(k))
                })
            }),
            // No health checks: every container's health is "none".
            "health" => any(&|v| v == "none"),
            "isolation" => any(&|v| v == "default"),
            "is-task" => any(&|v| v == "false"),
            // No volumes.
            "volume" => false,
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_as_dockers_regular_expressions_are_written() {
        assert!(name_matches("web", "my-web-1"));
        assert!(name_matches("^web$", "web"));
        assert!(!name_matches("^web$", "web2"));
        assert!(name_matches("^/web", "web2"));
        assert!(name_matches("^web", "web2"));
        assert!(!name_matches("^web", "a-web"));
        assert!(name_matches("1$", "web1"));
    }

    #[test]
    fn port_filters_expand_ranges() {
        assert_eq!(ports_of("80").unwrap(), ["80/tcp"]);
        assert_eq!(ports_of("53/udp").unwrap(), ["53/udp"]);
        assert_eq!(ports_of("8000-8002/tcp").unwrap(), ["8000/tcp", "8001/tcp", "8002/tcp"]);
        assert!(ports_of("x").is_err());
        assert!(ports_of("80/icmp").is_err());
    }
}
