//! `--link name[:alias]` values (`HostConfig.Links`): Docker's `ParseLink`, and the form Docker's
//! inspect shows a link in.

/// One link, as given: the linked container and the alias it is known by here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub container: String,
    pub alias: String,
}

/// Docker's `ParseLink`: `name` or `name:alias`; the `/name:/this/alias` form Docker's own
/// inspect shows is taken too.
pub fn parse_link(value: &str) -> Result<Link, String> {
    if value.is_empty() {
        return Err("empty string specified for links".to_string());
    }
    let parts: Vec<&str> = value.split(':').collect();
    match parts.as_slice() {
        [name] => Ok(Link { container: name.trim_start_matches('/').to_string(), alias: name.to_string() }),
        [name, alias] if name.starts_with('/') => {
            Ok(Link { container: name[1..].to_string(), alias: alias.rsplit('/').next().unwrap_or(alias).to_string() })
        }
        [name, alias] if !name.is_empty() && !alias.is_empty() => {
            Ok(Link { container: name.to_string(), alias: alias.to_string() })
        }
        _ => Err(format!("bad format for links: {value}")),
    }
}

/// How Docker shows a link in `HostConfig.Links`: `/<linked>:/<this>/<alias>`.
pub fn inspect_form(link: &Link, this: &str) -> String {
    format!("/{}:/{this}/{}", link.container, link.alias)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(c: &str, a: &str) -> Link {
        Link { container: c.into(), alias: a.into() }
    }

    #[test]
    fn links_parse_as_dockers() {
        assert_eq!(parse_link("db"), Ok(link("db", "db")));
        assert_eq!(parse_link("db:database"), Ok(link("db", "database")));
        assert_eq!(parse_link("/db:/web/database"), Ok(link("db", "database")));
        assert_eq!(parse_link("a:b:c"), Err("bad format for links: a:b:c".to_string()));
        assert_eq!(parse_link(""), Err("empty string specified for links".to_string()));
        assert!(parse_link("db:").is_err());
        assert_eq!(inspect_form(&link("db", "database"), "web"), "/db:/web/database");
    }
}
