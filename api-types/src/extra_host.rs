//! `--add-host` values (`HostConfig.ExtraHosts`): Docker's `ValidateExtraHost`.

use std::net::IpAddr;

/// The address `--add-host name:host-gateway` stands for.
pub const HOST_GATEWAY: &str = "host-gateway";

/// One `--add-host` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraHost {
    pub name: String,
    pub addr: HostAddr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostAddr {
    Ip(IpAddr),
    /// `host-gateway`: the gateway of the default bridge.
    HostGateway,
}

impl ExtraHost {
    /// The form the API carries (`name:ip`), which is also what Docker's CLI sends.
    pub fn api_form(&self) -> String {
        match self.addr {
            HostAddr::Ip(ip) => format!("{}:{ip}", self.name),
            HostAddr::HostGateway => format!("{}:{HOST_GATEWAY}", self.name),
        }
    }
}

/// Docker's `ValidateExtraHost`: `name:ip` or `name=ip`, the address in brackets or not,
/// `host-gateway` for the bridge's gateway. The error is Docker's text.
pub fn parse_extra_host(value: &str) -> Result<ExtraHost, String> {
    let split = value.split_once('=').or_else(|| value.split_once(':'));
    let Some((name, addr)) = split.filter(|(name, _)| !name.is_empty() && !name.contains(':')) else {
        return Err(format!("bad format for add-host: {value:?}"));
    };
    if addr == HOST_GATEWAY {
        return Ok(ExtraHost { name: name.to_string(), addr: HostAddr::HostGateway });
    }
    let bare = addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')).filter(|a| !a.is_empty()).unwrap_or(addr);
    let ip = bare.parse().map_err(|_| format!("invalid IP address in add-host: {bare:?}"))?;
    Ok(ExtraHost { name: name.to_string(), addr: HostAddr::Ip(ip) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn add_host_values_parse_as_dockers() {
        let h = parse_extra_host("a.test:10.9.8.7").unwrap();
        assert_eq!((h.name.as_str(), h.addr), ("a.test", HostAddr::Ip(ip("10.9.8.7"))));
        assert_eq!(parse_extra_host("b=[::1]").unwrap().addr, HostAddr::Ip(ip("::1")));
        assert_eq!(parse_extra_host("b=::1").unwrap().api_form(), "b:::1");
        assert_eq!(parse_extra_host("c:2001:db8::1").unwrap().addr, HostAddr::Ip(ip("2001:db8::1")));
        assert_eq!(parse_extra_host("gw:host-gateway").unwrap().addr, HostAddr::HostGateway);
        assert_eq!(parse_extra_host("x"), Err("bad format for add-host: \"x\"".to_string()));
        assert_eq!(parse_extra_host(":1.2.3.4"), Err("bad format for add-host: \":1.2.3.4\"".to_string()));
        assert_eq!(parse_extra_host("a:1.2.3.4.5"), Err("invalid IP address in add-host: \"1.2.3.4.5\"".to_string()));
        assert!(parse_extra_host("a=[]").is_err());
    }
}
