//! The per-network and per-port part of the bridge's firewall: the elements of the ruleset's sets
//! and maps that a network or a published port stands for, checked before anything is sent.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use libnet::osl::firewall::SetElements;
use libnet::osl::nft::{Datum, Element};
use libnet::osl::{OslError, Result};

use super::ruleset::*;
use super::{NetworkRules, PortRule};

/// `IFNAMSIZ` less the terminating NUL.
const MAX_IFNAME_LEN: usize = 15;
/// `EINVAL` (asm-generic/errno-base.h, the same on every Linux architecture): what a network or
/// port the kernel could not take is refused with, before anything is sent.
const EINVAL: i32 = 22;

fn invalid(op: impl Into<String>, detail: impl Into<String>) -> OslError {
    OslError::new(op, Some(EINVAL), detail)
}

/// A bridge name the kernel could have: 1 to 15 bytes, no `/`, no NUL, no blank.
pub(super) fn check_bridge(op: &str, bridge: &str) -> Result<()> {
    let bad = bridge.is_empty()
        || bridge.len() > MAX_IFNAME_LEN
        || bridge.contains(['/', '\0'])
        || bridge.chars().any(char::is_whitespace);
    if bad {
        return Err(invalid(op, format!("`{bridge}` is not an interface name (1 to {MAX_IFNAME_LEN} bytes, no `/`)")));
    }
    Ok(())
}

/// The elements of network `n` as `add_network` adds them.
pub(super) fn network_elements(n: &NetworkRules) -> Result<SetElements> {
    check_bridge(&format!("add network bridge {} to the firewall", n.bridge), &n.bridge)?;
    let bridge = || Datum::Ifname(n.bridge.clone());
    let mut elements = SetElements::new();
    elements.push(SET_BRIDGES, Element::new(&[bridge()]));
    if n.internal {
        elements.push(SET_INTERNAL, Element::new(&[bridge()]));
    }
    if n.icc {
        elements.push(SET_ICC, Element::new(&[bridge(), bridge()]));
    }
    for subnet in &n.subnets {
        push_subnet(&mut elements, subnet, SET_SUBNETS4, SET_SUBNETS6);
    }
    // An internal network has no way out: nothing to masquerade.
    if n.masquerade && !n.internal {
        for subnet in &n.subnets {
            push_subnet(&mut elements, subnet, SET_MASQ4, SET_MASQ6);
        }
    }
    Ok(elements)
}

/// Every element network `n` may have put anywhere, whatever its flags said (they may have
/// changed since): what `remove_network` destroys.
pub(super) fn all_network_elements(n: &NetworkRules) -> Result<SetElements> {
    check_bridge(&format!("remove network bridge {} from the firewall", n.bridge), &n.bridge)?;
    let bridge = || Datum::Ifname(n.bridge.clone());
    let mut elements = SetElements::new();
    elements.push(SET_BRIDGES, Element::new(&[bridge()]));
    elements.push(SET_INTERNAL, Element::new(&[bridge()]));
    elements.push(SET_ICC, Element::new(&[bridge(), bridge()]));
    for subnet in &n.subnets {
        push_subnet(&mut elements, subnet, SET_SUBNETS4, SET_SUBNETS6);
        push_subnet(&mut elements, subnet, SET_MASQ4, SET_MASQ6);
    }
    Ok(elements)
}

/// A subnet in an interval set is two elements: its first address, and the first one after it
/// marked as the end (none when the subnet reaches the top of the address space).
fn push_subnet(elements: &mut SetElements, subnet: &IpNet, set4: &'static str, set6: &'static str) {
    match subnet.trunc() {
        IpNet::V4(net) => {
            elements.push(set4, Element::new(&[Datum::Ipv4(net.network())]));
            if let Some(end) = u32::from(net.broadcast()).checked_add(1) {
                elements.push(set4, Element::new(&[Datum::Ipv4(Ipv4Addr::from(end))]).interval_end());
            }
        }
        IpNet::V6(net) => {
            elements.push(set6, Element::new(&[Datum::Ipv6(net.network())]));
            if let Some(end) = u128::from(net.broadcast()).checked_add(1) {
                elements.push(set6, Element::new(&[Datum::Ipv6(Ipv6Addr::from(end))]).interval_end());
            }
        }
    }
}

/// The maps a published port goes to, and its key (without the value).
fn port_key(rule: &PortRule) -> std::result::Result<(PortMaps, Vec<Datum>), String> {
    if rule.host_port == 0 || rule.container_port == 0 {
        return Err(format!("port 0 in {}: ports are 1 to 65535", describe(rule)));
    }
    let proto = Datum::Proto(rule.proto.into());
    let port = Datum::Port(rule.host_port);
    // An unspecified host address (0.0.0.0, ::) means every address, as Docker prints it.
    let host_ip = rule.host_ip.filter(|ip| !ip.is_unspecified());
    match (host_ip, rule.container_ip) {
        (None, IpAddr::V4(_)) => Ok((PORTS4_ANY, vec![proto, port])),
        (None, IpAddr::V6(_)) => Ok((PORTS6_ANY, vec![proto, port])),
        (Some(IpAddr::V4(host)), IpAddr::V4(_)) => Ok((PORTS4, vec![proto, Datum::Ipv4(host), port])),
        (Some(IpAddr::V6(host)), IpAddr::V6(_)) => Ok((PORTS6, vec![proto, Datum::Ipv6(host), port])),
        (Some(_), _) => {
            Err(format!("{}: the host address and the container address are of different IP families", describe(rule)))
        }
    }
}

fn container_datum(ip: IpAddr) -> Datum {
    match ip {
        IpAddr::V4(ip) => Datum::Ipv4(ip),
        IpAddr::V6(ip) => Datum::Ipv6(ip),
    }
}

/// `0.0.0.0:8080->10.1.0.2:80/tcp`, as in messages.
pub(super) fn describe(rule: &PortRule) -> String {
    let host = match rule.host_ip {
        Some(IpAddr::V6(ip)) => format!("[{ip}]"),
        Some(ip) => ip.to_string(),
        None if rule.container_ip.is_ipv6() => "[::]".to_string(),
        None => "0.0.0.0".to_string(),
    };
    let container = match rule.container_ip {
        IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("{host}:{}->{container}:{}/{}", rule.host_port, rule.container_port, rule.proto)
}

/// The elements of `rules` as `add_ports` adds them: every rule checked first, and two rules
/// publishing one host port to different places refused, so that a bad batch installs nothing.
pub(super) fn port_elements(rules: &[PortRule]) -> Result<SetElements> {
    let op = || format!("publish {} port(s)", rules.len());
    let mut seen: HashMap<(&'static str, Vec<Datum>), &PortRule> = HashMap::new();
    let mut elements = SetElements::new();
    for rule in rules {
        let (map, key) = port_key(rule).map_err(|detail| invalid(op(), detail))?;
        if let Some(other) = seen.get(&(map.addr, key.clone())) {
            if (other.container_ip, other.container_port) != (rule.container_ip, rule.container_port) {
                return Err(invalid(
                    op(),
                    format!("{} and {} publish the same host port", describe(other), describe(rule)),
                ));
            }
            continue;
        }
        elements.push(map.addr, Element::new(&key).to(&[container_datum(rule.container_ip)]));
        elements.push(map.port, Element::new(&key).to(&[Datum::Port(rule.container_port)]));
        seen.insert((map.addr, key), rule);
    }
    Ok(elements)
}

/// The keys of `rules` for `remove_ports`: a port is removed by its key alone, so whatever it
/// maps to goes.
pub(super) fn port_keys(rules: &[PortRule]) -> Result<SetElements> {
    let op = || format!("unpublish {} port(s)", rules.len());
    let mut elements = SetElements::new();
    for rule in rules {
        let (map, key) = port_key(rule).map_err(|detail| invalid(op(), detail))?;
        elements.push(map.addr, Element::new(&key));
        elements.push(map.port, Element::new(&key));
    }
    Ok(elements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use libnet::portmap::Proto;

    fn network(bridge: &str, subnets: &[&str], internal: bool, icc: bool) -> NetworkRules {
        NetworkRules {
            bridge: bridge.into(),
            subnets: subnets.iter().map(|s| s.parse().expect("a subnet")).collect(),
            internal,
            icc,
            masquerade: true,
        }
    }

    fn port(host_ip: Option<&str>, host_port: u16, container_ip: &str, container_port: u16) -> PortRule {
        PortRule {
            proto: Proto::Tcp,
            host_ip: host_ip.map(|ip| ip.parse().expect("an address")),
            host_port,
            container_ip: container_ip.parse().expect("an address"),
            container_port,
        }
    }

    #[test]
    fn a_network_is_its_bridge_icc_pair_and_subnet_ranges() {
        let n = network("wbr-a", &["10.1.0.0/16", "fd00:1::/64"], false, true);
        let elements = network_elements(&n).expect("valid");
        assert_eq!(
            elements.sets(),
            vec![(SET_BRIDGES, 1), (SET_ICC, 1), (SET_SUBNETS4, 2), (SET_SUBNETS6, 2), (SET_MASQ4, 2), (SET_MASQ6, 2)]
        );
        let masq4 = elements.of(SET_MASQ4);
        assert_eq!(masq4[0], Element::new(&[Datum::Ipv4(Ipv4Addr::new(10, 1, 0, 0))]));
        assert_eq!(masq4[1], Element::new(&[Datum::Ipv4(Ipv4Addr::new(10, 2, 0, 0))]).interval_end());
    }

    #[test]
    fn an_internal_network_is_not_masqueraded() {
        let elements = network_elements(&network("wbr-i", &["10.2.0.0/16"], true, false)).expect("valid");
        assert_eq!(elements.sets(), vec![(SET_BRIDGES, 1), (SET_INTERNAL, 1), (SET_SUBNETS4, 2)]);
    }

    #[test]
    fn a_subnet_at_the_top_has_no_end_element() {
        let elements = network_elements(&network("wbr-t", &["255.255.255.0/24"], false, false)).expect("valid");
        assert_eq!(elements.sets(), vec![(SET_BRIDGES, 1), (SET_SUBNETS4, 1), (SET_MASQ4, 1)]);
        // Host bits are ignored: the range is the subnet's.
        let elements = network_elements(&network("wbr-t", &["10.3.4.5/16"], false, false)).expect("valid");
        assert_eq!(elements.of(SET_SUBNETS4)[0], Element::new(&[Datum::Ipv4(Ipv4Addr::new(10, 3, 0, 0))]));
    }

    #[test]
    fn removal_names_every_set_whatever_the_flags() {
        let elements = all_network_elements(&network("wbr-a", &["10.1.0.0/16"], false, false)).expect("valid");
        assert_eq!(
            elements.sets(),
            vec![(SET_BRIDGES, 1), (SET_INTERNAL, 1), (SET_ICC, 1), (SET_SUBNETS4, 2), (SET_MASQ4, 2)]
        );
    }

    #[test]
    fn bad_bridge_names_are_refused() {
        for name in ["", "a-very-long-bridge-name", "a/b", "a b"] {
            let err = network_elements(&network(name, &[], false, true)).expect_err(name);
            assert!(err.to_string().contains("is not an interface name"), "{err}");
        }
    }

    #[test]
    fn ports_go_to_the_map_of_their_family_and_address() {
        let rules = [
            port(None, 8080, "10.1.0.2", 80),
            port(Some("0.0.0.0"), 8081, "10.1.0.2", 81),
            port(Some("127.0.0.1"), 5000, "10.1.0.2", 5000),
            port(None, 8080, "fd00::2", 80),
            port(Some("::1"), 8080, "fd00::2", 80),
        ];
        let elements = port_elements(&rules).expect("valid");
        let sets = elements.sets();
        let count = |name: &str| sets.iter().find(|(set, _)| *set == name).map(|(_, n)| *n);
        for (maps, n) in [(PORTS4_ANY, 2), (PORTS4, 1), (PORTS6_ANY, 1), (PORTS6, 1)] {
            assert_eq!((count(maps.addr), count(maps.port)), (Some(n), Some(n)), "{maps:?}");
        }
        assert_eq!(sets.len(), 8);
        let key = [Datum::Proto(6), Datum::Ipv4(Ipv4Addr::LOCALHOST), Datum::Port(5000)];
        let addr = elements.of(PORTS4.addr).first().cloned();
        assert_eq!(addr, Some(Element::new(&key).to(&[Datum::Ipv4(Ipv4Addr::new(10, 1, 0, 2))])));
        let port = elements.of(PORTS4.port).first().cloned();
        assert_eq!(port, Some(Element::new(&key).to(&[Datum::Port(5000)])));
    }

    #[test]
    fn bad_ports_are_refused_with_the_port_named() {
        let cases = [
            (vec![port(None, 0, "10.1.0.2", 80)], "port 0 in 0.0.0.0:0->10.1.0.2:80/tcp"),
            (vec![port(Some("::1"), 80, "10.1.0.2", 80)], "[::1]:80->10.1.0.2:80/tcp: the host address and"),
            (
                vec![port(None, 80, "10.1.0.2", 80), port(None, 80, "10.1.0.3", 80)],
                "0.0.0.0:80->10.1.0.2:80/tcp and 0.0.0.0:80->10.1.0.3:80/tcp publish the same host port",
            ),
        ];
        for (rules, needle) in cases {
            let err = port_elements(&rules).expect_err(needle);
            assert!(err.to_string().contains(needle), "{err}");
        }
        // The same port twice to the same place is one element.
        let twice = [port(None, 80, "10.1.0.2", 80), port(None, 80, "10.1.0.2", 80)];
        assert_eq!(port_elements(&twice).expect("valid").sets(), vec![(PORTS4_ANY.addr, 1), (PORTS4_ANY.port, 1)]);
    }
}
