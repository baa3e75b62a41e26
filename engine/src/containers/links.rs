//! Legacy links (`--link name[:alias]`) as Docker keeps them on the default bridge: a hosts entry
//! `IP\talias hostname name` and environment variables naming the linked container.
//!
//! Docker registers links only for containers that are not on a user-defined network: there a
//! link is a DNS alias served by the embedded resolver, with no hosts entry and no variables. weft
//! does the same (the alias waits for the embedded DNS). On the host's network links are refused.
//! The `<ALIAS>_PORT_...` variables need exposed ports, which weft does not have: none are set.

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

/// Whether `network_mode` takes links with hosts entries and variables: Docker's default bridge
/// (and `none`, where they come to nothing), not user-defined networks.
pub fn registers_links(network_mode: &str) -> bool {
    matches!(network_mode, "" | "default" | "bridge" | "none")
}

/// How Docker shows a link in `HostConfig.Links`: `/<linked>:/<this>/<alias>`.
pub fn inspect_form(link: &Link, this: &str) -> String {
    format!("/{}:/{this}/{}", link.container, link.alias)
}

/// The names a linked container has in the hosts file: its alias, its hostname, and its name when
/// the alias is not its name.
pub fn host_names(link: &Link, hostname: &str, name: &str) -> String {
    let mut names = format!("{} {hostname}", link.alias);
    if link.alias != name {
        names.push(' ');
        names.push_str(name);
    }
    names
}

/// The variables a link sets: `<ALIAS>_NAME=/<this>/<alias>` and `<ALIAS>_ENV_<K>=<V>` for each
/// variable of the linked container but HOME and PATH. The alias is upper-cased with `-` as `_`,
/// as Docker writes it.
pub fn env(link: &Link, this: &str, linked_env: &[String]) -> Vec<String> {
    let prefix = link.alias.to_uppercase().replace('-', "_");
    let mut out = vec![format!("{prefix}_NAME=/{this}/{}", link.alias)];
    for kv in linked_env {
        let Some((k, v)) = kv.split_once('=') else { continue };
        if k != "HOME" && k != "PATH" {
            out.push(format!("{prefix}_ENV_{k}={v}"));
        }
    }
    out
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

    #[test]
    fn link_hosts_entries_and_variables() {
        assert_eq!(host_names(&link("db", "database"), "dbhost", "db"), "database dbhost db");
        assert_eq!(host_names(&link("db", "db"), "dbhost", "db"), "db dbhost");
        let env =
            env(&link("db", "my-db"), "web", &["X=1".into(), "PATH=/bin".into(), "HOME=/".into(), "Y=a=b".into()]);
        assert_eq!(env, ["MY_DB_NAME=/web/my-db", "MY_DB_ENV_X=1", "MY_DB_ENV_Y=a=b"]);
        assert!(registers_links("default") && registers_links("bridge") && !registers_links("mynet"));
    }
}
