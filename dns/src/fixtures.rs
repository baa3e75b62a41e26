//! Record tables that the fuzz target, the mutation test (`tests/request_mutations.rs`) and the
//! request benchmark build their queries against. Public only so that those crates can reach it;
//! not part of the resolver's API.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libnet::{EndpointId, NetworkId, SandboxId};

use crate::{EndpointRecord, Records};

/// One container per name on the network `app` (id `n`): the `i`th (from 0) is endpoint `e{i}` in
/// sandbox `s{i}` with short id `{i:012}` and the addresses 10.0.(i / 250).(i % 250 + 2) and
/// fd00::(i + 2); the first three also have the alias `pool`. Names past the 65536th are left out.
pub fn app_table(names: impl IntoIterator<Item = String>) -> Records {
    let r = Records::new();
    for (i, name) in (0u16..).zip(names) {
        // 10.0.0.0 plus (i / 250) in the third byte and (i % 250 + 2) in the fourth.
        let v4 = Ipv4Addr::from(0x0a00_0000 | u32::from(i / 250) << 8 | u32::from(i % 250 + 2));
        let v6 = Ipv6Addr::from(0xfd00 << 112 | (u128::from(i) + 2));
        r.upsert(EndpointRecord {
            endpoint: EndpointId::from_string(format!("e{i}")),
            sandbox: SandboxId::from_string(format!("s{i}")),
            network: NetworkId::from_string("n"),
            network_name: "app".into(),
            internal: false,
            container_name: name,
            short_id: format!("{i:012}"),
            aliases: if i < 3 { vec!["pool".into()] } else { vec![] },
            addrs: vec![IpAddr::V4(v4), IpAddr::V6(v6)],
        });
    }
    r
}
