//! `--dns` and `--dns-search` values (`HostConfig.Dns`, `HostConfig.DnsSearch`): Docker's
//! `ValidateIPAddress` and `ValidateDNSSearch`.

use std::net::IpAddr;

/// Docker's `ValidateIPAddress` for `--dns`.
pub fn parse_dns_server(value: &str) -> Result<IpAddr, String> {
    value.trim().parse().map_err(|_| format!("IP address is not correctly formatted: {value}"))
}

/// Docker's `ValidateDNSSearch`: `.` (no search list) or a domain name.
pub fn validate_dns_search(value: &str) -> Result<(), String> {
    if value == "." {
        return Ok(());
    }
    let bad = || format!("{value} is not a valid domain");
    let domain = value.strip_suffix('.').unwrap_or(value);
    if domain.is_empty() || domain.len() > 255 {
        return Err(bad());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    // The last label must start with a letter, as in Docker's pattern.
    let last_ok = labels.last().is_some_and(|l| l.starts_with(|c: char| c.is_ascii_alphabetic()));
    if labels.iter().all(|l| label_ok(l)) && last_ok {
        Ok(())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_values_are_checked() {
        assert_eq!(parse_dns_server("10.0.0.53"), Ok("10.0.0.53".parse().unwrap()));
        assert_eq!(parse_dns_server("x"), Err("IP address is not correctly formatted: x".to_string()));
        for ok in [".", "example.test", "example.test.", "a-b.c1.org", "local"] {
            assert_eq!(validate_dns_search(ok), Ok(()), "{ok}");
        }
        for bad in ["-bad", "a..b", "", "x.1com", "bad-.test"] {
            assert_eq!(validate_dns_search(bad), Err(format!("{bad} is not a valid domain")), "{bad}");
        }
    }
}
