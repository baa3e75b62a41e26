//! Legacy links (`--link name[:alias]`) as Docker keeps them on the default bridge: a hosts entry
//! `IP\talias hostname name` and environment variables naming the linked container.
//!
//! Docker registers links only for containers that are not on a user-defined network: there a
//! link is a DNS alias served by the embedded resolver, with no hosts entry and no variables. weft
//! does the same (the alias waits for the embedded DNS). On the host's network links are refused.
//! The `<ALIAS>_PORT_...` variables need exposed ports, which weft does not have: none are set.
//! Reading a link (`--link`, `HostConfig.Links`) is `weft_api`'s, which the command line does too.

pub use weft_api::links::{inspect_form, parse_link, Link};

/// Whether `network_mode` takes links with hosts entries and variables: Docker's default bridge
/// (and `none`, where they come to nothing), not user-defined networks.
pub fn registers_links(network_mode: &str) -> bool {
    matches!(network_mode, "" | "default" | "bridge" | "none")
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
    fn link_hosts_entries_and_variables() {
        assert_eq!(host_names(&link("db", "database"), "dbhost", "db"), "database dbhost db");
        assert_eq!(host_names(&link("db", "db"), "dbhost", "db"), "db dbhost");
        let env =
            env(&link("db", "my-db"), "web", &["X=1".into(), "PATH=/bin".into(), "HOME=/".into(), "Y=a=b".into()]);
        assert_eq!(env, ["MY_DB_NAME=/web/my-db", "MY_DB_ENV_X=1", "MY_DB_ENV_Y=a=b"]);
        assert!(registers_links("default") && registers_links("bridge") && !registers_links("mynet"));
    }
}
