//! The fixed part of the bridge's firewall: weft's table, its chains, rules, sets and maps,
//! declared with the `nftables` crate's schema types and loaded with one `nft -j -f -` run
//! ([`super::BridgeFirewall::load`]).
//!
//! Nothing here changes with networks or ports: those are elements of the sets and maps below
//! (see [`super::elements`]). `docs/nftables-ruleset.txt` is the listing of this ruleset with
//! the elements of a reference setup, kept up to date by a test.
//!
//! ```text
//! table inet weft
//!   sets     bridges, internal (ifname), icc (ifname . ifname),
//!            subnets4, subnets6 (every network's), masq4, masq6 (those masqueraded): intervals
//!   maps     ports4_addr, ports4_port: inet_proto . ipv4_addr . inet_service : the container's
//!                address, its port ([`PortMaps`])
//!            ports4_any_addr, ports4_any_port: inet_proto . inet_service : ... (any host address)
//!            ports6_*, ports6_any_* likewise
//!   chains   prerouting (nat, dstnat), output (nat, -100): to a local address -> published
//!            (loaded for the userland proxy, [`LoadOptions`]: bridge traffic in prerouting, and
//!            127.0.0.0/8 and ::1 in output, return first and reach the proxy)
//!            published: DNAT through the port maps
//!            postrouting (nat, srcnat): hairpin, host loopback and egress masquerade
//!            forward (filter, filter): isolation, icc, internal networks
//! ```
//!
//! Why no `bridge` family table for icc=false: matching the bridge a frame crosses needs
//! `meta ibrname`, which needs the kernel's nft_meta_bridge (CONFIG_NFT_BRIDGE_META), and kernels
//! without it (this project's CI kernel is one) refuse the whole batch. Traffic between two
//! containers of one bridge is instead seen by the `inet` forward hook through br_netfilter, as
//! Docker does it (it loads br_netfilter for icc=false);
//! [`super::BridgeFirewall::add_network`] turns `bridge-nf-call-iptables` on for a network with
//! icc=false.

use std::borrow::Cow;

use libnet::osl::firewall::nftables;
use nftables::expr::{Expression, Fib, FibFlag, FibResult, Map, Meta, MetaKey, NamedExpression, Payload};
use nftables::expr::{PayloadField, Prefix, CT};
use nftables::schema::{self, Chain, NfListObject, Nftables, SetFlag, SetType, SetTypeValue, Table};
use nftables::stmt::{JumpTarget, Match, NATFamily, Operator, Statement, NAT};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};

/// The table's name (family `inet`: IPv4 and IPv6 in one).
pub const TABLE: &str = "weft";
/// Every weft bridge.
pub const SET_BRIDGES: &str = "bridges";
/// The bridges of `--internal` networks.
pub const SET_INTERNAL: &str = "internal";
/// `B . B` for each bridge B whose containers may talk to each other (icc on).
pub const SET_ICC: &str = "icc";
/// Every weft network's subnets (intervals): the sources of hairpin connections.
pub const SET_SUBNETS4: &str = "subnets4";
/// The same for IPv6.
pub const SET_SUBNETS6: &str = "subnets6";
/// Source subnets to masquerade on the way out (intervals).
pub const SET_MASQ4: &str = "masq4";
/// The same for IPv6.
pub const SET_MASQ6: &str = "masq6";

/// The two maps of one kind of published port, both keyed on `inet_proto . [address .]
/// inet_service`: one gives the container's address, the other its port.
///
/// One map to `address . inet_service` would be one lookup instead of two, but `nft` 1.0.6
/// (Debian 12's) crashes on a named map with concatenated data in a JSON nat statement (its
/// native syntax takes it). Both maps always change in the same netlink batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMaps {
    /// The map to the container's address.
    pub addr: &'static str,
    /// The map to the container's port.
    pub port: &'static str,
}

/// Published ports on one IPv4 host address.
pub const PORTS4: PortMaps = PortMaps { addr: "ports4_addr", port: "ports4_port" };
/// On every IPv4 address of the host (`host_ip` None).
pub const PORTS4_ANY: PortMaps = PortMaps { addr: "ports4_any_addr", port: "ports4_any_port" };
/// Published ports on one IPv6 host address.
pub const PORTS6: PortMaps = PortMaps { addr: "ports6_addr", port: "ports6_port" };
/// On every IPv6 address of the host.
pub const PORTS6_ANY: PortMaps = PortMaps { addr: "ports6_any_addr", port: "ports6_any_port" };

/// The regular chain the nat hooks jump to for packets to a local address.
const CHAIN_PUBLISHED: &str = "published";
/// nat priorities `dstnat`, `srcnat` and filter's `filter`; nat output's usual -100.
const PRIO_DSTNAT: i32 = -100;
const PRIO_SRCNAT: i32 = 100;
const PRIO_FILTER: i32 = 0;
const PRIO_NAT_OUTPUT: i32 = -100;

/// How the ruleset is loaded: what differs with the daemon's options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// `weftd --userland-proxy`: the host's loopback and containers reaching a published port
    /// through a host address go to the proxy listening on the port instead of being DNATed
    /// (Docker's split); traffic from other machines keeps the DNAT path.
    pub userland_proxy: bool,
}

/// The ruleset as `nft -j` input, in the default mode (no userland proxy).
pub fn ruleset() -> Nftables<'static> {
    ruleset_with(&LoadOptions::default())
}

/// The ruleset as `nft -j` input: weft's table replaced as a whole (add, delete, add: whether it
/// existed or not, no element from before survives), then everything in it.
pub fn ruleset_with(options: &LoadOptions) -> Nftables<'static> {
    let mut batch = nftables::batch::Batch::new();
    let table = || NfListObject::Table(Table { family: NfFamily::INet, name: TABLE.into(), handle: None });
    batch.add(table());
    batch.delete(table());
    batch.add(table());

    let sets: [(&str, SetTypeValue<'static>, bool); 7] = [
        (SET_BRIDGES, single(SetType::Ifname), false),
        (SET_INTERNAL, single(SetType::Ifname), false),
        (SET_ICC, concat(&[SetType::Ifname, SetType::Ifname]), false),
        (SET_SUBNETS4, single(SetType::Ipv4Addr), true),
        (SET_SUBNETS6, single(SetType::Ipv6Addr), true),
        (SET_MASQ4, single(SetType::Ipv4Addr), true),
        (SET_MASQ6, single(SetType::Ipv6Addr), true),
    ];
    for (name, set_type, interval) in sets {
        batch.add(NfListObject::Set(Box::new(schema::Set {
            family: NfFamily::INet,
            table: TABLE.into(),
            name: name.into(),
            set_type,
            flags: interval.then(|| [SetFlag::Interval].into_iter().collect()),
            ..Default::default()
        })));
    }
    let maps =
        [(PORTS4, Some(SetType::Ipv4Addr)), (PORTS4_ANY, None), (PORTS6, Some(SetType::Ipv6Addr)), (PORTS6_ANY, None)];
    for (maps, host_addr) in maps {
        let container_addr = if maps == PORTS4 || maps == PORTS4_ANY { SetType::Ipv4Addr } else { SetType::Ipv6Addr };
        let key = match host_addr {
            Some(addr) => concat(&[SetType::InetProto, addr, SetType::InetService]),
            None => concat(&[SetType::InetProto, SetType::InetService]),
        };
        for (name, data) in [(maps.addr, container_addr), (maps.port, SetType::InetService)] {
            batch.add(NfListObject::Map(Box::new(schema::Map {
                family: NfFamily::INet,
                table: TABLE.into(),
                name: name.into(),
                set_type: key.clone(),
                map: single(data),
                ..Default::default()
            })));
        }
    }

    for (name, base) in chains() {
        batch.add(NfListObject::Chain(chain(name, base)));
    }
    for (chain, exprs) in rules(options) {
        batch.add(NfListObject::Rule(schema::Rule {
            family: NfFamily::INet,
            table: TABLE.into(),
            chain: chain.into(),
            expr: exprs.into(),
            ..Default::default()
        }));
    }
    batch.to_nftables()
}

/// What makes a chain a base chain: its type, hook and priority.
type Base = (NfChainType, NfHook, i32);

/// The base chains and the regular one.
fn chains() -> [(&'static str, Option<Base>); 5] {
    [
        (CHAIN_PUBLISHED, None),
        ("prerouting", Some((NfChainType::NAT, NfHook::Prerouting, PRIO_DSTNAT))),
        ("output", Some((NfChainType::NAT, NfHook::Output, PRIO_NAT_OUTPUT))),
        ("postrouting", Some((NfChainType::NAT, NfHook::Postrouting, PRIO_SRCNAT))),
        ("forward", Some((NfChainType::Filter, NfHook::Forward, PRIO_FILTER))),
    ]
}

fn chain(name: &'static str, base: Option<Base>) -> Chain<'static> {
    let (kind, hook, prio) = match base {
        Some((kind, hook, prio)) => (Some(kind), Some(hook), Some(prio)),
        None => (None, None, None),
    };
    Chain {
        family: NfFamily::INet,
        table: TABLE.into(),
        name: name.into(),
        _type: kind,
        hook,
        prio,
        policy: base.map(|_| NfChainPolicy::Accept),
        ..Default::default()
    }
}

/// Every rule, by chain, in order.
fn rules(options: &LoadOptions) -> Vec<(&'static str, Vec<Statement<'static>>)> {
    let local = || is(fib_daddr_type(), str("local"));
    // With the userland proxy, what it serves is left alone here and reaches the socket listening
    // on the host port: from the host's loopback (IPv4's 127.0.0.0/8, and ::1, which DNAT cannot
    // serve at all since the kernel never routes it off lo), and from containers (hairpin).
    let proxied: Vec<(&'static str, Vec<Statement<'static>>)> = match options.userland_proxy {
        false => Vec::new(),
        true => vec![
            ("prerouting", vec![in_set(meta(MetaKey::Iifname), SET_BRIDGES, Operator::EQ), ret()]),
            ("output", vec![is(payload("ip", "daddr"), prefix("127.0.0.0", 8)), ret()]),
            ("output", vec![is(payload("ip6", "daddr"), str("::1")), ret()]),
        ],
    };
    let mut rules = vec![
        // Published ports. A lookup that finds nothing ends the rule, and the next one is tried:
        // a port on one host address first, then one on every address of its family. The `_any`
        // maps have no address in their key, so the family is matched explicitly (`ip daddr`
        // brings that match along by itself).
        (CHAIN_PUBLISHED, vec![dnat(NATFamily::IP, &[l4proto(), payload("ip", "daddr"), th_dport()], PORTS4)]),
        (
            CHAIN_PUBLISHED,
            vec![is(meta(MetaKey::Nfproto), str("ipv4")), dnat(NATFamily::IP, &[l4proto(), th_dport()], PORTS4_ANY)],
        ),
        (CHAIN_PUBLISHED, vec![dnat(NATFamily::IP6, &[l4proto(), payload("ip6", "daddr"), th_dport()], PORTS6)]),
        (
            CHAIN_PUBLISHED,
            vec![is(meta(MetaKey::Nfproto), str("ipv6")), dnat(NATFamily::IP6, &[l4proto(), th_dport()], PORTS6_ANY)],
        ),
    ];
    rules.extend(proxied);
    rules.extend(vec![
        // From outside, from containers (hairpin) and, in output, from the host itself: only
        // packets to one of the host's own addresses are published ports.
        ("prerouting", vec![local(), jump(CHAIN_PUBLISHED)]),
        ("output", vec![local(), jump(CHAIN_PUBLISHED)]),
        // Hairpin: a container reaching a published port through the host's address, DNATed back
        // onto a bridge. Without the masquerade the answer of a neighbour on the same bridge (or
        // of the container itself) would not come back through the host, from the address the
        // client asked. The source is matched by address, not by `iifname @bridges`: with
        // br_netfilter a same-bridge hairpin is bridged, and the bridge-level postrouting hook
        // has no input interface.
        (
            "postrouting",
            vec![
                ct_status_dnat(),
                in_set(meta(MetaKey::Oifname), SET_BRIDGES, Operator::EQ),
                in_set(payload("ip", "saddr"), SET_SUBNETS4, Operator::EQ),
                Statement::Masquerade(None),
            ],
        ),
        (
            "postrouting",
            vec![
                ct_status_dnat(),
                in_set(meta(MetaKey::Oifname), SET_BRIDGES, Operator::EQ),
                in_set(payload("ip6", "saddr"), SET_SUBNETS6, Operator::EQ),
                Statement::Masquerade(None),
            ],
        ),
        // The host's loopback to a published port: 127.0.0.1 may not leave the host, so it takes
        // the bridge's address (with route_localnet on the bridge for it to be routed at all).
        (
            "postrouting",
            vec![
                in_set(meta(MetaKey::Oifname), SET_BRIDGES, Operator::EQ),
                is(payload("ip", "saddr"), prefix("127.0.0.0", 8)),
                Statement::Masquerade(None),
            ],
        ),
        // Egress of networks with masquerade on, to anywhere but another weft bridge.
        (
            "postrouting",
            vec![
                in_set(payload("ip", "saddr"), SET_MASQ4, Operator::EQ),
                in_set(meta(MetaKey::Oifname), SET_BRIDGES, Operator::NEQ),
                Statement::Masquerade(None),
            ],
        ),
        (
            "postrouting",
            vec![
                in_set(payload("ip6", "saddr"), SET_MASQ6, Operator::EQ),
                in_set(meta(MetaKey::Oifname), SET_BRIDGES, Operator::NEQ),
                Statement::Masquerade(None),
            ],
        ),
        // Forwarding: only drops and the accepts that must come before them, since an accept
        // here does not stop another table's drop (and the host's own forward policy stays the
        // host's). Container to container on one bridge is seen here only through br_netfilter
        // (iifname and oifname are then the bridge): allowed when icc is on.
        (
            "forward",
            vec![
                in_set(
                    Expression::Named(NamedExpression::Concat(vec![meta(MetaKey::Iifname), meta(MetaKey::Oifname)])),
                    SET_ICC,
                    Operator::EQ,
                ),
                accept(),
            ],
        ),
        // Internal networks: no way in or out of their bridge.
        ("forward", vec![in_set(meta(MetaKey::Iifname), SET_INTERNAL, Operator::EQ), drop()]),
        ("forward", vec![in_set(meta(MetaKey::Oifname), SET_INTERNAL, Operator::EQ), drop()]),
        // Into a bridge: answers, and published ports (DNATed in prerouting)...
        (
            "forward",
            vec![
                in_set(meta(MetaKey::Oifname), SET_BRIDGES, Operator::EQ),
                Statement::Match(Match {
                    left: ct("state"),
                    right: Expression::List(vec![str("established"), str("related")]),
                    op: Operator::IN,
                }),
                accept(),
            ],
        ),
        ("forward", vec![in_set(meta(MetaKey::Oifname), SET_BRIDGES, Operator::EQ), ct_status_dnat(), accept()]),
        // ...and nothing else: not another network's containers, not a routed packet from
        // outside to a container's address, not icc=false neighbours.
        ("forward", vec![in_set(meta(MetaKey::Oifname), SET_BRIDGES, Operator::EQ), drop()]),
    ]);
    rules
}

fn single(set_type: SetType) -> SetTypeValue<'static> {
    SetTypeValue::Single(set_type)
}

fn concat(types: &[SetType]) -> SetTypeValue<'static> {
    SetTypeValue::Concatenated(Cow::Owned(types.to_vec()))
}

fn str(s: &'static str) -> Expression<'static> {
    Expression::String(s.into())
}

fn meta(key: MetaKey) -> Expression<'static> {
    Expression::Named(NamedExpression::Meta(Meta { key }))
}

fn payload(protocol: &'static str, field: &'static str) -> Expression<'static> {
    Expression::Named(NamedExpression::Payload(Payload::PayloadField(PayloadField {
        protocol: protocol.into(),
        field: field.into(),
    })))
}

fn l4proto() -> Expression<'static> {
    meta(MetaKey::L4proto)
}

/// The destination port of whatever transport header (`th dport`): TCP, UDP and SCTP alike.
fn th_dport() -> Expression<'static> {
    payload("th", "dport")
}

fn ct(key: &'static str) -> Expression<'static> {
    Expression::Named(NamedExpression::CT(CT { key: key.into(), family: None, dir: None }))
}

fn fib_daddr_type() -> Expression<'static> {
    Expression::Named(NamedExpression::Fib(Fib {
        result: FibResult::Type,
        flags: [FibFlag::Daddr].into_iter().collect(),
    }))
}

fn prefix(addr: &'static str, len: u32) -> Expression<'static> {
    Expression::Named(NamedExpression::Prefix(Prefix { addr: Box::new(str(addr)), len }))
}

/// `left == right`.
fn is(left: Expression<'static>, right: Expression<'static>) -> Statement<'static> {
    Statement::Match(Match { left, right, op: Operator::EQ })
}

/// `left == @set` (or `!=`: not in it).
fn in_set(left: Expression<'static>, set: &'static str, op: Operator) -> Statement<'static> {
    Statement::Match(Match { left, right: Expression::String(format!("@{set}").into()), op })
}

/// `ct status dnat`: the connection's destination was translated (a published port).
fn ct_status_dnat() -> Statement<'static> {
    Statement::Match(Match { left: ct("status"), right: str("dnat"), op: Operator::IN })
}

/// `dnat FAMILY to KEY map @ADDR_MAP : KEY map @PORT_MAP`.
fn dnat(family: NATFamily, key: &[Expression<'static>], maps: PortMaps) -> Statement<'static> {
    let lookup = |map: &str| {
        Expression::Named(NamedExpression::Map(Box::new(Map {
            key: Expression::Named(NamedExpression::Concat(key.to_vec())),
            data: Expression::String(format!("@{map}").into()),
        })))
    };
    Statement::DNAT(Some(NAT {
        addr: Some(lookup(maps.addr)),
        family: Some(family),
        port: Some(lookup(maps.port)),
        flags: None,
    }))
}

fn jump(target: &'static str) -> Statement<'static> {
    Statement::Jump(JumpTarget { target: target.into() })
}

fn ret() -> Statement<'static> {
    Statement::Return(None)
}

fn accept() -> Statement<'static> {
    Statement::Accept(None)
}

fn drop() -> Statement<'static> {
    Statement::Drop(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ruleset_replaces_the_table_first() {
        let json = serde_json::to_value(ruleset()).expect("serializable");
        let items = json["nftables"].as_array().cloned().unwrap_or_default();
        let table = serde_json::json!({"table": {"family": "inet", "name": "weft"}});
        assert_eq!(items[0]["add"], table);
        assert_eq!(items[1]["delete"], table);
        assert_eq!(items[2]["add"], table);
        let count = |kind: &str| items.iter().filter(|item| item["add"].get(kind).is_some()).count();
        assert_eq!((count("set"), count("map"), count("chain"), count("rule")), (7, 8, 5, 17));
    }

    #[test]
    fn the_proxy_mode_returns_loopback_and_bridge_traffic_before_the_jump() {
        let json = serde_json::to_value(ruleset_with(&LoadOptions { userland_proxy: true })).expect("serializable");
        let items = json["nftables"].as_array().cloned().unwrap_or_default();
        let chain_rules = |chain: &str| -> Vec<String> {
            items
                .iter()
                .filter_map(|item| item["add"].get("rule"))
                .filter(|rule| rule["chain"] == chain)
                .map(|rule| rule["expr"].to_string())
                .collect()
        };
        let output = chain_rules("output");
        assert_eq!(output.len(), 3, "{output:?}");
        assert!(output[0].contains("127.0.0.0") && output[0].contains("return"), "{}", output[0]);
        assert!(output[1].contains("::1") && output[1].contains("return"), "{}", output[1]);
        assert!(output[2].contains("jump"), "{}", output[2]);
        let prerouting = chain_rules("prerouting");
        assert_eq!(prerouting.len(), 2, "{prerouting:?}");
        assert!(prerouting[0].contains("@bridges") && prerouting[0].contains("return"), "{}", prerouting[0]);
        assert!(prerouting[1].contains("jump"), "{}", prerouting[1]);
    }

    #[test]
    fn the_interval_sets_are_the_subnet_ones() {
        let json = serde_json::to_value(ruleset()).expect("serializable");
        let items = json["nftables"].as_array().cloned().unwrap_or_default();
        let interval: Vec<_> = items
            .iter()
            .filter_map(|item| item["add"].get("set"))
            .filter(|set| set["flags"] == serde_json::json!(["interval"]))
            .map(|set| set["name"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(interval, vec![SET_SUBNETS4, SET_SUBNETS6, SET_MASQ4, SET_MASQ6]);
    }
}
