//! `--filter name=value` flags and the `filters` query parameter the API reads them from.

use std::collections::BTreeMap;

use super::client::encode_component;

/// One `--filter` value, checked as Docker's `FilterOpt` checks it (the clap value parser).
/// An empty value is accepted and ignored, as Docker ignores it.
pub fn parse_filter(value: &str) -> Result<(String, String), String> {
    if value.is_empty() {
        return Ok((String::new(), String::new()));
    }
    let Some((name, value)) = value.split_once('=') else {
        return Err("bad format of filter (expected name=value)".to_string());
    };
    Ok((name.trim().to_lowercase(), value.trim().to_string()))
}

/// The filters of a command: for each name, the set of values asked for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Filters(BTreeMap<String, BTreeMap<String, bool>>);

impl Filters {
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut filters = Filters::default();
        for (name, value) in pairs.iter().filter(|(n, v)| !(n.is_empty() && v.is_empty())) {
            filters.0.entry(name.clone()).or_default().insert(value.clone(), true);
        }
        filters
    }

    /// The API's encoding: `{"driver":{"bridge":true},"label":{"team=web":true}}`, keys sorted.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "{}".to_string())
    }

    /// `?filters=...` for a URL, or nothing when there are no filters (Docker sends none then).
    pub fn query(&self) -> String {
        if self.0.is_empty() {
            String::new()
        } else {
            format!("?filters={}", encode_component(&self.to_json()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(values: &[&str]) -> Vec<(String, String)> {
        values.iter().filter_map(|v| parse_filter(v).ok()).collect()
    }

    #[test]
    fn filters_encode_as_the_api_expects() {
        let f = Filters::from_pairs(&pairs(&["driver=bridge", "label=team=web", "Label = env=prod ", "driver=bridge"]));
        assert_eq!(f.to_json(), r#"{"driver":{"bridge":true},"label":{"env=prod":true,"team=web":true}}"#);
        assert_eq!(
            f.query(),
            "?filters=%7B%22driver%22%3A%7B%22bridge%22%3Atrue%7D%2C%22label%22%3A%7B%22env%3Dprod%22%3Atrue%2C%22team%3Dweb%22%3Atrue%7D%7D"
        );
        assert_eq!(Filters::default().query(), "");
    }

    #[test]
    fn a_filter_needs_a_name_and_value() {
        assert_eq!(parse_filter("foo"), Err("bad format of filter (expected name=value)".to_string()));
        assert_eq!(parse_filter("name="), Ok(("name".into(), "".into())));
        assert_eq!(Filters::from_pairs(&pairs(&[""])), Filters::default());
    }
}
