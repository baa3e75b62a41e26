//! The request path with arbitrary bytes, over UDP and TCP, against a table with a few names: it
//! must never panic, and whatever it answers must be a response no larger than the client takes.
#![no_main]

use std::sync::OnceLock;

use dns::answer::{respond, Outcome, Transport};
use dns::{EndpointRecord, Records};
use libfuzzer_sys::fuzz_target;
use libnet::{EndpointId, NetworkId, SandboxId};

fn table() -> &'static Records {
    static TABLE: OnceLock<Records> = OnceLock::new();
    TABLE.get_or_init(|| {
        let r = Records::new();
        for (i, name) in ["db", "web", "cache"].iter().enumerate() {
            r.upsert(EndpointRecord {
                endpoint: EndpointId::from_string(format!("e{i}")),
                sandbox: SandboxId::from_string(format!("s{i}")),
                network: NetworkId::from_string("n"),
                network_name: "app".into(),
                internal: false,
                container_name: name.to_string(),
                short_id: format!("{i:012}"),
                aliases: vec!["pool".into()],
                addrs: vec![format!("10.0.0.{}", i + 2).parse().unwrap(), format!("fd00::{}", i + 2).parse().unwrap()],
            });
        }
        r
    })
}

fuzz_target!(|data: &[u8]| {
    let snapshot = table().snapshot();
    let sandbox = SandboxId::from_string("s0");
    for (transport, limit) in [(Transport::Udp, 4096), (Transport::Tcp, 65535)] {
        if let Outcome::Reply(bytes) = respond(data, &snapshot, &sandbox, transport, data.len()) {
            assert!(bytes.len() >= 12 && bytes[2] & 0x80 != 0);
            assert!(bytes.len() <= limit);
        }
    }
});
