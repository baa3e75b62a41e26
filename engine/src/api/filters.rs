//! The `filters` query parameter of Docker's list and prune routes, and the network filters.

use std::collections::BTreeMap;

use libnet::Network;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::error::ApiError;

/// Filter name → accepted values.
pub type Filters = BTreeMap<String, Vec<String>>;

/// Parse `{"driver":{"bridge":true}}` (current) or `{"driver":["bridge"]}` (old clients).
pub fn parse(raw: Option<&str>) -> Result<Filters, ApiError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else { return Ok(Filters::new()) };
    let v: Value =
        serde_json::from_str(raw).map_err(|e| ApiError::bad_request(format!("invalid filters \"{raw}\": {e}")))?;
    let obj =
        v.as_object().ok_or_else(|| ApiError::bad_request(format!("invalid filters \"{raw}\": not a JSON object")))?;
    let mut out = Filters::new();
    for (k, vals) in obj {
        let list = match vals {
            Value::Object(m) => m.iter().filter(|(_, on)| on.as_bool() == Some(true)).map(|(v, _)| v.clone()).collect(),
            Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            _ => {
                return Err(ApiError::bad_request(format!("invalid filter '{k}': values must be an object or a list")))
            }
        };
        out.insert(k.clone(), list);
    }
    Ok(out)
}

/// Reject filters outside `allowed`, with Docker's message.
pub fn check(filters: &Filters, allowed: &[&str]) -> Result<(), ApiError> {
    for k in filters.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::bad_request(format!("invalid filter '{k}'")));
        }
    }
    if let Some(t) = filters.get("type") {
        if let Some(bad) = t.iter().find(|v| *v != "custom" && *v != "builtin") {
            return Err(ApiError::bad_request(format!("invalid filter: 'type'='{bad}'")));
        }
    }
    if let Some(d) = filters.get("dangling") {
        if let Some(bad) = d.iter().find(|v| !["true", "false", "1", "0"].contains(&v.as_str())) {
            return Err(ApiError::bad_request(format!("invalid filter 'dangling={bad}'")));
        }
    }
    Ok(())
}

/// Every label filter (`key` or `key=value`) matches.
pub fn labels_match(values: &[String], labels: &BTreeMap<String, String>) -> bool {
    values.iter().all(|f| match f.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
        None => labels.contains_key(f),
    })
}

/// Whether a network passes the filters (each filter: any of its values; all filters must pass).
pub fn network_matches(filters: &Filters, n: &Network, has_endpoints: bool) -> bool {
    filters.iter().all(|(k, vals)| {
        if vals.is_empty() {
            return true;
        }
        match k.as_str() {
            "driver" => vals.contains(&n.driver),
            "id" => vals.iter().any(|v| n.id.as_str().starts_with(v.as_str())),
            // Docker matches names by substring.
            "name" => vals.iter().any(|v| n.name.contains(v.as_str())),
            "scope" => vals.contains(&n.scope),
            "type" => vals.iter().any(|v| (v == "builtin") == n.predefined),
            "label" => labels_match(vals, &n.labels),
            "dangling" => vals.iter().any(|v| (v == "true" || v == "1") == (!has_endpoints && !n.predefined)),
            _ => false,
        }
    })
}

/// Docker's `until` filter value as a point in time: a Go duration before now (`24h`, `1h30m`,
/// `90s`), a Unix timestamp (`1700000000`, `1700000000.5`), or an RFC 3339 time or date.
pub fn parse_until(value: &str, now: SystemTime) -> Result<SystemTime, ApiError> {
    let bad = || {
        ApiError::bad_request(format!(
            "invalid filter 'until={value}': expected a duration like 24h, a Unix timestamp or an RFC 3339 time"
        ))
    };
    if let Some(d) = parse_go_duration(value) {
        return now.checked_sub(d).ok_or_else(bad);
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return UNIX_EPOCH.checked_add(Duration::from_secs_f64(secs)).ok_or_else(bad);
        }
    }
    if let Ok(t) = humantime::parse_rfc3339_weak(value) {
        return Ok(t);
    }
    // humantime reads only UTC; an offset like +02:00 is applied here.
    if let Some((local, sign, offset)) = split_offset(value) {
        let t = humantime::parse_rfc3339_weak(local).map_err(|_| bad())?;
        return if sign { t.checked_sub(offset) } else { t.checked_add(offset) }.ok_or_else(bad);
    }
    humantime::parse_rfc3339_weak(&format!("{value}T00:00:00")).map_err(|_| bad())
}

/// `2024-05-01T10:00:00+02:00` → (`2024-05-01T10:00:00`, east of UTC, 2 h).
fn split_offset(value: &str) -> Option<(&str, bool, Duration)> {
    let (local, tail) = value.split_at(value.len().checked_sub(6)?);
    let sign = match tail.as_bytes().first()? {
        b'+' => true,
        b'-' => false,
        _ => return None,
    };
    let (h, m) = tail[1..].split_once(':')?;
    let secs = h.parse::<u64>().ok()? * 3600 + m.parse::<u64>().ok()? * 60;
    local.contains('T').then_some((local, sign, Duration::from_secs(secs)))
}

/// `1h30m`, `90s`, `250ms`: Go's time.ParseDuration for the units Docker users write.
fn parse_go_duration(s: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let (num, tail) = rest.split_at(digits);
        let n: f64 = num.parse().ok()?;
        let unit = tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len());
        let (u, next) = tail.split_at(unit);
        let secs = match u {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += Duration::try_from_secs_f64(n * secs).ok()?;
        rest = next;
    }
    Some(total)
}

/// Whether a network was created before every `until` time given.
pub fn created_before(created: &str, untils: &[SystemTime]) -> bool {
    match humantime::parse_rfc3339_weak(created.trim_end_matches('Z')) {
        Ok(t) => untils.iter().all(|u| t < *u),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_takes_durations_timestamps_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(parse_until("1h30m", now).unwrap(), now - Duration::from_secs(5400));
        assert_eq!(parse_until("90s", now).unwrap(), now - Duration::from_secs(90));
        assert_eq!(parse_until("500", now).unwrap(), UNIX_EPOCH + Duration::from_secs(500));
        assert_eq!(parse_until("1970-01-02", now).unwrap(), UNIX_EPOCH + Duration::from_secs(86400));
        assert_eq!(parse_until("1970-01-01T00:01:00Z", now).unwrap(), UNIX_EPOCH + Duration::from_secs(60));
        assert_eq!(parse_until("1970-01-01T02:01:00+02:00", now).unwrap(), UNIX_EPOCH + Duration::from_secs(60));
        assert!(parse_until("soon", now).is_err());
        assert!(parse_until("5y", now).is_err());
        assert!(created_before("1970-01-01T00:00:30.5Z", &[UNIX_EPOCH + Duration::from_secs(60)]));
        assert!(!created_before("1970-01-01T00:02:00Z", &[UNIX_EPOCH + Duration::from_secs(60)]));
    }

    #[test]
    fn parses_both_shapes_and_rejects_unknown() {
        let f = parse(Some(r#"{"driver":{"bridge":true},"label":["team=web"]}"#)).unwrap();
        assert_eq!(f["driver"], vec!["bridge"]);
        assert_eq!(f["label"], vec!["team=web"]);
        assert!(check(&f, &["driver", "label"]).is_ok());
        assert_eq!(check(&f, &["driver"]).unwrap_err().message, "invalid filter 'label'");
        assert!(parse(Some("not json")).is_err());
        let mut labels = BTreeMap::new();
        labels.insert("team".to_string(), "web".to_string());
        assert!(labels_match(&["team".into()], &labels));
        assert!(labels_match(&["team=web".into()], &labels));
        assert!(!labels_match(&["team=db".into()], &labels));
    }
}
