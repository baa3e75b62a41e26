//! The null driver as a library: what weftd loads from `libweft_driver_null.so`.

fn new(_options: &serde_json::Value) -> Result<driver_null::SingleNetworkDriver, String> {
    Ok(driver_null::null_driver())
}

plugins::export_network_driver!(name: "null", new: new);
