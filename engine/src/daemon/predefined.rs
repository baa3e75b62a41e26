//! The networks every weftd has: `bridge` (weft0), `host` and `none`, made at first start.

use libnet::{Controller, IpamConfigRequest, NetworkCreate};

use super::config::Config;

/// The default bridge's options, as Docker shows them for docker0.
fn bridge_options(config: &Config) -> Vec<(&'static str, String)> {
    let mtu = config.mtu;
    vec![
        ("com.docker.network.bridge.default_bridge", "true".into()),
        ("com.docker.network.bridge.enable_icc", config.icc.to_string()),
        ("com.docker.network.bridge.enable_ip_masquerade", config.ip_masq.to_string()),
        ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0".into()),
        ("com.docker.network.bridge.name", libnet::marks::DEFAULT_BRIDGE.into()),
        ("com.docker.network.driver.mtu", mtu.to_string()),
    ]
}

/// Create whichever of the three is missing from the store.
pub fn ensure(controller: &mut Controller, config: &Config) -> libnet::Result<()> {
    let exists = |c: &Controller, name: &str| c.networks().iter().any(|n| n.name == name && n.predefined);
    if !exists(controller, "none") {
        let mut req = NetworkCreate::new("none");
        req.driver = "null".into();
        controller.create_predefined_network(req)?;
    }
    if !exists(controller, "host") {
        let mut req = NetworkCreate::new("host");
        req.driver = "host".into();
        controller.create_predefined_network(req)?;
    }
    if let Some(existing) = controller.networks().iter().find(|n| n.name == "bridge" && n.predefined) {
        if let (Some(bip), Some(pool)) = (config.bip, existing.ipv4.first()) {
            if pool.subnet != bip.trunc() || pool.gateway.map(|g| g.addr()) != Some(bip.addr()) {
                tracing::warn!(
                    "--bip {bip} differs from the default network's stored subnet {} (gateway {:?}); the stored one is kept",
                    pool.subnet,
                    pool.gateway
                );
            }
        }
        return Ok(());
    }
    let mut req = NetworkCreate::new("bridge");
    req.options = bridge_options(config).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    if let Some(bip) = config.bip {
        req.ipam_config.push(IpamConfigRequest {
            subnet: Some(bip.trunc().to_string()),
            gateway: Some(bip.addr().to_string()),
            ..Default::default()
        });
    }
    controller.create_predefined_network(req)?;
    Ok(())
}
