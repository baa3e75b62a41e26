//! `--subnet`, `--ip-range`, `--gateway` and `--aux-address` grouped into IPAM configs, as
//! Docker's CLI groups them: each range, gateway and auxiliary address belongs to the subnet that
//! contains it (docker/cli `createIPAMConfig`, with its error messages).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;
use serde_json::{json, Map, Value};

/// One entry of the request's `IPAM.Config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpamConfig {
    pub subnet: String,
    pub ip_range: Option<String>,
    pub gateway: Option<String>,
    pub aux_addresses: BTreeMap<String, String>,
}

impl IpamConfig {
    /// The API's JSON, empty fields left out as Docker's `omitempty` leaves them out.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("Subnet".into(), json!(self.subnet));
        if let Some(r) = &self.ip_range {
            m.insert("IPRange".into(), json!(r));
        }
        if let Some(g) = &self.gateway {
            m.insert("Gateway".into(), json!(g));
        }
        if !self.aux_addresses.is_empty() {
            m.insert("AuxiliaryAddresses".into(), json!(self.aux_addresses));
        }
        Value::Object(m)
    }
}

/// Go's `net.ParseCIDR`, with its error text.
fn parse_cidr(s: &str) -> Result<IpNet, String> {
    IpNet::from_str(s).map_err(|_| format!("invalid CIDR address: {s}"))
}

/// docker/cli `subnetMatches`: whether `data` (an address, or a CIDR whose address is taken) is in
/// `subnet`. An unreadable address is in no subnet; an unreadable subnet is an error.
fn subnet_matches(subnet: &str, data: &str) -> Result<bool, String> {
    let net = parse_cidr(subnet).map_err(|e| format!("invalid subnet: {e}"))?;
    let ip: Option<IpAddr> = if data.contains('/') { Some(parse_cidr(data)?.addr()) } else { data.parse().ok() };
    Ok(ip.is_some_and(|ip| net.contains(&ip)))
}

/// Groups the addresses of the flags by subnet. The configs keep the order of `--subnet`.
pub fn consolidate(
    subnets: &[String],
    ranges: &[String],
    gateways: &[String],
    aux_addresses: &BTreeMap<String, String>,
) -> Result<Vec<IpamConfig>, String> {
    if subnets.len() < ranges.len() || subnets.len() < gateways.len() {
        return Err("every ip-range or gateway must have a corresponding subnet".into());
    }
    let mut configs: Vec<IpamConfig> = Vec::with_capacity(subnets.len());
    for s in subnets {
        for known in &configs {
            if subnet_matches(s, &known.subnet)? || subnet_matches(&known.subnet, s)? {
                return Err("multiple overlapping subnet configuration is not supported".into());
            }
        }
        configs.push(IpamConfig { subnet: s.clone(), ip_range: None, gateway: None, aux_addresses: BTreeMap::new() });
    }

    for r in ranges {
        let mut matched = false;
        for config in configs.iter_mut() {
            parse_cidr(r)?;
            if !subnet_matches(&config.subnet, r)? {
                continue;
            }
            if let Some(existing) = &config.ip_range {
                return Err(format!(
                    "cannot configure multiple ranges ({r}, {existing}) on the same subnet ({})",
                    config.subnet
                ));
            }
            config.ip_range = Some(r.clone());
            matched = true;
        }
        if !matched {
            return Err(format!("no matching subnet for range {r}"));
        }
    }

    for g in gateways {
        let mut matched = false;
        for config in configs.iter_mut() {
            if !subnet_matches(&config.subnet, g)? {
                continue;
            }
            if let Some(existing) = &config.gateway {
                return Err(format!(
                    "cannot configure multiple gateways ({g}, {existing}) for the same subnet ({})",
                    config.subnet
                ));
            }
            config.gateway = Some(g.clone());
            matched = true;
        }
        if !matched {
            return Err(format!("no matching subnet for gateway {g}"));
        }
    }

    for (name, address) in aux_addresses {
        let mut matched = false;
        for config in configs.iter_mut() {
            if subnet_matches(&config.subnet, address)? {
                config.aux_addresses.insert(name.clone(), address.clone());
                matched = true;
            }
        }
        if !matched {
            return Err(format!("no matching subnet for aux-address {address}"));
        }
    }
    Ok(configs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn aux(v: &[(&str, &str)]) -> BTreeMap<String, String> {
        v.iter().map(|(k, a)| (k.to_string(), a.to_string())).collect()
    }

    #[test]
    fn ranges_gateways_and_aux_go_to_their_subnet() {
        let configs = consolidate(
            &strings(&["10.1.0.0/16", "192.168.100.0/24"]),
            &strings(&["192.168.100.128/25"]),
            &strings(&["192.168.100.1", "10.1.0.254"]),
            &aux(&[("router", "192.168.100.5"), ("dns", "10.1.0.53")]),
        );
        let Ok(configs) = configs else { panic!("{configs:?}") };
        assert_eq!(
            configs.iter().map(IpamConfig::to_json).collect::<Vec<_>>(),
            vec![
                json!({"Subnet": "10.1.0.0/16", "Gateway": "10.1.0.254", "AuxiliaryAddresses": {"dns": "10.1.0.53"}}),
                json!({"Subnet": "192.168.100.0/24", "IPRange": "192.168.100.128/25", "Gateway": "192.168.100.1",
                       "AuxiliaryAddresses": {"router": "192.168.100.5"}}),
            ]
        );
    }

    #[test]
    fn ipv6_subnets_too() {
        let configs = consolidate(&strings(&["fd00:1::/64"]), &[], &strings(&["fd00:1::1"]), &BTreeMap::new());
        assert_eq!(configs.map(|c| c[0].gateway.clone()), Ok(Some("fd00:1::1".to_string())));
    }

    #[test]
    fn dockers_errors() {
        let none = BTreeMap::new();
        let e = |s: &[&str], r: &[&str], g: &[&str], a: &BTreeMap<String, String>| {
            consolidate(&strings(s), &strings(r), &strings(g), a).err().unwrap_or_default()
        };
        assert_eq!(e(&["10.0.0.0/8"], &[], &["11.0.0.1"], &none), "no matching subnet for gateway 11.0.0.1");
        assert_eq!(e(&[], &["10.0.0.0/24"], &[], &none), "every ip-range or gateway must have a corresponding subnet");
        assert_eq!(
            e(&["10.0.0.0/8"], &[], &["10.0.0.1", "10.0.0.2"], &none),
            "every ip-range or gateway must have a corresponding subnet"
        );
        assert_eq!(
            e(&["10.0.0.0/8", "10.1.0.0/16"], &[], &[], &none),
            "multiple overlapping subnet configuration is not supported"
        );
        assert_eq!(
            e(&["10.0.0.0/8", "11.0.0.0/8"], &["10.1.0.0/16", "10.2.0.0/16"], &[], &none),
            "cannot configure multiple ranges (10.2.0.0/16, 10.1.0.0/16) on the same subnet (10.0.0.0/8)"
        );
        assert_eq!(
            e(&["10.0.0.0/8"], &[], &[], &aux(&[("a", "10.0.0.3"), ("b", "11.0.0.3")])),
            "no matching subnet for aux-address 11.0.0.3"
        );
        assert_eq!(e(&[], &[], &[], &aux(&[("a", "")])), "no matching subnet for aux-address ");
        assert_eq!(e(&["10.0.0.0/8"], &[], &["bad"], &none), "no matching subnet for gateway bad");
        assert_eq!(e(&["bad"], &[], &["10.0.0.1"], &none), "invalid subnet: invalid CIDR address: bad");
        assert_eq!(e(&["10.0.0.0/8"], &["x/y"], &[], &none), "invalid CIDR address: x/y");
    }

    #[test]
    fn a_lone_subnet_is_passed_as_given() {
        // Docker checks a subnet only against other subnets: the daemon judges a lone one.
        let configs = consolidate(&strings(&["bad"]), &[], &[], &BTreeMap::new());
        assert_eq!(configs.map(|c| c[0].subnet.clone()), Ok("bad".to_string()));
    }
}
