//! The request path with arbitrary bytes, over UDP and TCP, against a table with a few names: it
//! must never panic; whatever it answers must be a response to the packet (its id), no larger than
//! the client takes; and the listener's path (the fast path for common local queries, then
//! hickory's messages) must give the same outcome and the same bytes as hickory's path alone.
#![no_main]

use std::sync::OnceLock;

use dns::answer::{respond, respond_into, Action, Outcome, Transport};
use dns::Records;
use libfuzzer_sys::fuzz_target;
use libnet::SandboxId;

fn table() -> &'static Records {
    static TABLE: OnceLock<Records> = OnceLock::new();
    TABLE.get_or_init(|| dns::fixtures::app_table(["db", "web", "cache"].map(String::from)))
}

fuzz_target!(|data: &[u8]| {
    let snapshot = table().snapshot();
    let sandbox = SandboxId::from_string("s0");
    let view = snapshot.view(&sandbox);
    let mut out = Vec::new();
    for (transport, limit) in [(Transport::Udp, 4096), (Transport::Tcp, 65535)] {
        let general = respond(data, &snapshot, &sandbox, transport, data.len());
        let action = respond_into(data, &snapshot, &view, &sandbox, transport, data.len(), &mut out);
        match (general, action) {
            (Outcome::Reply(bytes), Action::Replied) => {
                assert_eq!(bytes, out, "the fast path and hickory's differ");
                assert!(bytes.len() >= 12 && bytes[2] & 0x80 != 0 && bytes[..2] == data[..2]);
                assert!(bytes.len() <= limit);
            }
            (Outcome::Forward(_), Action::Forward(_)) | (Outcome::Drop, Action::Drop) => {}
            (g, a) => panic!("the paths disagree: {g:?} / {a:?}"),
        }
    }
});
