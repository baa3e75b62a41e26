//! weft's null driver: the `none` network, whose containers have only a loopback interface.
//! It is the host driver's [`SingleNetworkDriver`] under the name `null`.

pub use driver_host::SingleNetworkDriver;

/// The `null` driver.
pub fn null_driver() -> SingleNetworkDriver {
    SingleNetworkDriver::new("null")
}

#[cfg(test)]
mod tests {
    use libnet::protocol::CreateNetworkRequest;
    use libnet::NetworkDriver;

    #[test]
    fn one_none_network_and_no_interfaces() {
        let d = super::null_driver();
        assert_eq!(d.name(), "null");
        d.create_network(CreateNetworkRequest { network_id: "a".into(), ..Default::default() }).unwrap();
        let e = d.create_network(CreateNetworkRequest { network_id: "b".into(), ..Default::default() }).unwrap_err();
        assert_eq!(e.message, "only one instance of \"null\" network is allowed");
    }
}
