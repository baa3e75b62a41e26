//! The `filters` query parameter of Docker's list and prune routes, and the network filters.

use std::collections::BTreeMap;

use libnet::Network;
use serde_json::Value;

use super::error::ApiError;

/// Filter name → accepted values.
pub type Filters = BTreeMap<String, Vec<String>>;

/// Parse `{"driver":{"bridge":true}}` (current) or `{"driver":["bridge"]}` (old clients).
pub fn parse(raw: Option<&str>) -> Result<Filters, ApiError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else { return Ok(Filters::new()) };
    let v: Value = serde_json::from_str(raw).map_err(|e| ApiError::bad_request(format!("invalid filters \"{raw}\": {e}")))?;
    let obj = v.as_object().ok_or_else(|| ApiError::bad_request(format!("invalid filters \"{raw}\": not a JSON object")))?;
    let mut out = Filters::new();
    for (k, vals) in obj {
        let list = match vals {
            Value::Object(m) => m.iter().filter(|(_, on)| on.as_bool() == Some(true)).map(|(v, _)| v.clone()).collect(),
            Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            _ => return Err(ApiError::bad_request(format!("invalid filter '{k}': values must be an object or a list"))),
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
            "driver" => vals.iter().any(|v| *v == n.driver),
            "id" => vals.iter().any(|v| n.id.as_str().starts_with(v.as_str())),
            // Docker matches names by substring.
            "name" => vals.iter().any(|v| n.name.contains(v.as_str())),
            "scope" => vals.iter().any(|v| *v == n.scope),
            "type" => vals.iter().any(|v| (v == "builtin") == n.predefined),
            "label" => labels_match(vals, &n.labels),
            "dangling" => vals.iter().any(|v| (v == "true" || v == "1") == (!has_endpoints && !n.predefined)),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
