//! The errors of the default IPAM driver, and the [`ErrorKind`] each one maps to.

use std::net::IpAddr;

use ipnet::IpNet;
use libnet::{DriverError, ErrorKind};

/// Everything the default IPAM driver can refuse, with the value at fault in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpamError {
    /// A `--default-address-pool` value that does not parse.
    #[error("invalid default address pool \"{spec}\": {reason}; expected base=<cidr>,size=<bits>, like base=10.10.0.0/16,size=24")]
    InvalidPoolSpec { spec: String, reason: String },

    #[error("unknown address space \"{0}\": the default IPAM driver has LocalDefault and GlobalDefault")]
    UnknownAddressSpace(String),

    #[error("invalid subnet \"{value}\": {reason}")]
    InvalidSubnet { value: String, reason: String },

    #[error("invalid subnet {given}: it should be {network}")]
    SubnetHostBits { given: IpNet, network: IpNet },

    #[error("subnet {subnet} is {family}, but an {requested} pool was requested")]
    SubnetFamily { subnet: IpNet, family: &'static str, requested: &'static str },

    #[error("invalid ip-range \"{value}\": {reason}")]
    InvalidIpRange { value: String, reason: String },

    #[error("invalid ip-range {given}: it should be {network}")]
    IpRangeHostBits { given: IpNet, network: IpNet },

    #[error("ip-range {range} is not inside subnet {subnet}")]
    IpRangeOutsideSubnet { range: IpNet, subnet: IpNet },

    #[error("ip-range {0} needs a subnet: an ip-range cannot be given without one")]
    IpRangeWithoutSubnet(String),

    #[error("subnet {subnet} overlaps {existing}, already allocated in address space {space}")]
    PoolOverlap { subnet: IpNet, existing: IpNet, space: String },

    /// Every automatic candidate is taken (or none is configured); `detail` names the pools walked.
    #[error(
        "no available {family}address pool: {detail}; add one with --default-address-pool base=<cidr>,size=<bits>"
    )]
    NoAvailablePool { family: &'static str, detail: String },

    #[error(
        "invalid pool id \"{0}\": expected <address space>/<subnet>[/<ip-range>], like LocalDefault/172.18.0.0/16"
    )]
    InvalidPoolId(String),

    #[error("pool {0} is not allocated: it was never requested, or it was released")]
    UnknownPool(String),

    #[error("invalid address \"{value}\": {reason}")]
    InvalidAddress { value: String, reason: String },

    #[error("address {address} is not in subnet {subnet}")]
    AddressNotInSubnet { address: IpAddr, subnet: IpNet },

    #[error("address {address} is the network address of subnet {subnet} and cannot be assigned")]
    NetworkAddress { address: IpAddr, subnet: IpNet },

    #[error("address {address} is the broadcast address of subnet {subnet} and cannot be assigned")]
    BroadcastAddress { address: IpAddr, subnet: IpNet },

    #[error("address {0} is already in use")]
    AddressInUse(IpAddr),

    #[error("no available addresses in pool {subnet}")]
    PoolExhausted { subnet: IpNet },

    #[error("no available addresses in ip-range {range} of pool {subnet}")]
    IpRangeExhausted { range: IpNet, subnet: IpNet },
}

impl IpamError {
    /// The kind a caller (and the HTTP API) sees. Running out of pools or addresses is `Forbidden`:
    /// the request is well formed and names nothing missing, but cannot be granted until something
    /// is released or more pools are configured.
    pub fn kind(&self) -> ErrorKind {
        use IpamError::*;
        match self {
            InvalidPoolSpec { .. }
            | UnknownAddressSpace(_)
            | InvalidSubnet { .. }
            | SubnetHostBits { .. }
            | SubnetFamily { .. }
            | InvalidIpRange { .. }
            | IpRangeHostBits { .. }
            | IpRangeOutsideSubnet { .. }
            | IpRangeWithoutSubnet(_)
            | InvalidPoolId(_)
            | InvalidAddress { .. }
            | AddressNotInSubnet { .. }
            | NetworkAddress { .. }
            | BroadcastAddress { .. } => ErrorKind::InvalidParameter,
            UnknownPool(_) => ErrorKind::NotFound,
            // Docker answers an overlapping pool with 403.
            PoolOverlap { .. } => ErrorKind::Forbidden,
            AddressInUse(_) => ErrorKind::Conflict,
            NoAvailablePool { .. } | PoolExhausted { .. } | IpRangeExhausted { .. } => ErrorKind::Forbidden,
        }
    }
}

impl From<IpamError> for DriverError {
    fn from(e: IpamError) -> Self {
        DriverError::new(e.kind(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_with_kind_and_message() {
        let e: DriverError = IpamError::AddressInUse("10.1.0.5".parse().unwrap()).into();
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(e.message, "address 10.1.0.5 is already in use");
        let e: DriverError = IpamError::UnknownPool("LocalDefault/10.1.0.0/24".into()).into();
        assert_eq!(e.kind, ErrorKind::NotFound);
        let e: DriverError = IpamError::PoolExhausted { subnet: "10.1.0.0/24".parse().unwrap() }.into();
        assert_eq!(e.kind, ErrorKind::Forbidden);
        assert_eq!(e.message, "no available addresses in pool 10.1.0.0/24");
    }
}
