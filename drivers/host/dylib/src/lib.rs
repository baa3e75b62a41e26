//! The host driver as a library: what weftd loads from `libweft_driver_host.so`.

fn new(_options: &serde_json::Value) -> Result<driver_host::SingleNetworkDriver, String> {
    Ok(driver_host::host_driver())
}

plugins::export_network_driver!(name: "host", new: new);
