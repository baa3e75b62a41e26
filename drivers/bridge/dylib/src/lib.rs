//! The bridge driver as a library: what weftd loads from `libweft_driver_bridge.so`.

plugins::export_network_driver!(name: driver_bridge::NAME, new: driver_bridge::BridgeDriver::from_options);
