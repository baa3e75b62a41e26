//! Pool ids: `<address space>/<subnet>[/<ip-range>]`, readable and enough to find the pool again.

use std::fmt;

use ipnet::IpNet;

use crate::error::IpamError;

/// What a pool id names: `LocalDefault/172.18.0.0/16` or `LocalDefault/172.18.0.0/16/172.18.5.0/24`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PoolId {
    pub space: String,
    pub subnet: IpNet,
    pub range: Option<IpNet>,
}

impl PoolId {
    /// Parses an id made by [`PoolId`]'s `Display`; anything else is [`IpamError::InvalidPoolId`].
    pub(crate) fn parse(id: &str) -> Result<PoolId, IpamError> {
        let invalid = || IpamError::InvalidPoolId(id.to_string());
        let parts: Vec<&str> = id.split('/').collect();
        let cidr = |addr: &str, len: &str| format!("{addr}/{len}").parse::<IpNet>().map_err(|_| invalid());
        let (space, subnet, range) = match parts.as_slice() {
            [space, a, l] => (space, cidr(a, l)?, None),
            [space, a, l, ra, rl] => (space, cidr(a, l)?, Some(cidr(ra, rl)?)),
            _ => return Err(invalid()),
        };
        if space.is_empty() {
            return Err(invalid());
        }
        Ok(PoolId { space: space.to_string(), subnet, range })
    }
}

impl fmt::Display for PoolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.space, self.subnet)?;
        if let Some(range) = self.range {
            write!(f, "/{range}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for id in [
            "LocalDefault/172.18.0.0/16",
            "LocalDefault/172.18.0.0/16/172.18.5.0/24",
            "GlobalDefault/fd00::/64/fd00::/80",
        ] {
            assert_eq!(PoolId::parse(id).unwrap().to_string(), id);
        }
        let p = PoolId::parse("LocalDefault/172.18.0.0/16/172.18.5.0/24").unwrap();
        assert_eq!(p.space, "LocalDefault");
        assert_eq!(p.range, Some("172.18.5.0/24".parse().unwrap()));
    }

    #[test]
    fn rejects_malformed_ids() {
        for id in [
            "",
            "LocalDefault",
            "LocalDefault/172.18.0.0",
            "/172.18.0.0/16",
            "LocalDefault/172.18.0.0/99",
            "LocalDefault/x/16",
            "a/10.0.0.0/8/10.0.0.0",
            "a/10.0.0.0/8/10.0.0.0/8/1",
        ] {
            let e = PoolId::parse(id).unwrap_err();
            assert_eq!(e, IpamError::InvalidPoolId(id.to_string()), "{id}");
        }
        assert_eq!(
            PoolId::parse("nope").unwrap_err().to_string(),
            "invalid pool id \"nope\": expected <address space>/<subnet>[/<ip-range>], like LocalDefault/172.18.0.0/16"
        );
    }
}
