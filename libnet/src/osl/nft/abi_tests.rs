//! The encoders against the kernel ABI as `nft` speaks it: messages captured from `nft -f` (with
//! `strace -e trace=sendmsg -e write=3`) for the same objects, compared attribute by attribute.
//!
//! The comparison is semantic: the message type, family and flags, and the attribute trees with
//! siblings of different types in any order (the kernel looks attributes up by type), lists kept
//! in their order. `nft` asks no per-message ACK; we do, so that flag is left out.

use netlink_packet_core::{NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLM_F_ACK};

use super::batch::seq_of;
use super::*;

/// `nft -f` of the redirect with UDP port 5353, in table ip weft-dns: (message type, flags, the
/// message after its netlink header).
const NFT_CHAIN_OUTPUT: (u16, u16, &str) = (
    0x0a03,
    0x0401,
    "020000000d000100776566742d646e73000000000b0003006f75747075740000080007006e61740008000500\
     0000000114000480080001000000000308000200ffffff9c",
);
const NFT_CHAIN_POSTROUTING: (u16, u16, &str) = (
    0x0a03,
    0x0401,
    "020000000d000100776566742d646e730000000010000300706f7374726f7574696e6700080007006e617400\
     08000500000000011400048008000100000000040800020000000064",
);
/// `ip daddr 127.0.0.11 udp dport 53 dnat to 127.0.0.11:5353`
const NFT_RULE_DNAT_UDP: (u16, u16, &str) = (
    0x0a06,
    0x0c01,
    "020000000d000100776566742d646e73000000000b0002006f75747075740000a4010480340001800c000100\
     7061796c6f6164002400028008000100000000010800020000000001080003000000001008000400000000\
     042c00018008000100636d700020000280080001000000000108000200000000000c000380080001007f00\
     000b24000180090001006d6574610000000014000280080002000000001008000100000000012c00018008\
     000100636d700020000280080001000000000108000200000000000c000380050001001100000034000180\
     0c0001007061796c6f616400240002800800010000000001080002000000000208000300000000020800040\
     0000000022c00018008000100636d700020000280080001000000000108000200000000000c00038006000100\
     003500002c0001800e000100696d6d6564696174650000001800028008000100000000010c00028008000100\
     7f00000b2c0001800e000100696d6d6564696174650000001800028008000100000000020c0002800600010014\
     e9000038000180080001006e6174002c0002800800010000000001080002000000000208000300000000010800\
     0500000000020800070000000002",
);
/// `ip saddr 127.0.0.11 udp sport 5353 snat to :53`
const NFT_RULE_SNAT_UDP: (u16, u16, &str) = (
    0x0a06,
    0x0c01,
    "020000000d000100776566742d646e730000000010000200706f7374726f7574696e67007001048034000180\
     0c0001007061796c6f6164002400028008000100000000010800020000000001080003000000000c08000400\
     000000042c00018008000100636d700020000280080001000000000108000200000000000c00038008000100\
     7f00000b24000180090001006d6574610000000014000280080002000000001008000100000000012c000180\
     08000100636d700020000280080001000000000108000200000000000c000380050001001100000034000180\
     0c0001007061796c6f6164002400028008000100000000010800020000000002080003000000000008000400\
     000000022c00018008000100636d700020000280080001000000000108000200000000000c00038006000100\
     14e900002c0001800e000100696d6d6564696174650000001800028008000100000000010c00028006000100\
     0035000030000180080001006e61740024000280080001000000000008000200000000020800050000000001\
     0800070000000002",
);
/// `add map inet t ports { type inet_proto . ipv4_addr . inet_service : ipv4_addr . inet_service; }`
const NFT_MAP_PORTS: (u16, u16, &str) = (
    0x0a09,
    0x0401,
    "0100000006000100740000000a000200706f7274730000000800030000000008080004000000c1cd08000500\
     0000000c08000600000001cd080007000000000808000a00000000022a000d00000400000000010400000000\
     030800040d0000000100040800040d00000001000604000000000000",
);

fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex digits"))
        .collect()
}

/// An attribute tree: (type, value) leaves and (type, children) nests.
#[derive(Debug, PartialEq, Eq)]
enum Node {
    Leaf(u16, Vec<u8>),
    Nest(u16, Vec<Node>),
}

impl Node {
    fn kind(&self) -> u16 {
        match self {
            Node::Leaf(kind, _) | Node::Nest(kind, _) => *kind,
        }
    }
}

/// Parse attributes; siblings sorted by type, stably, so lists (all of one type) keep their order.
fn tree(mut bytes: &[u8], skip: &[u16]) -> Vec<Node> {
    let mut nodes = Vec::new();
    while bytes.len() >= 4 {
        let len = u16::from_ne_bytes([bytes[0], bytes[1]]) as usize;
        let raw_kind = u16::from_ne_bytes([bytes[2], bytes[3]]);
        assert!(len >= 4 && len <= bytes.len(), "attribute length {len} in {bytes:02x?}");
        let kind = raw_kind & !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);
        let value = &bytes[4..len];
        if !skip.contains(&kind) {
            nodes.push(if raw_kind & NLA_F_NESTED != 0 {
                Node::Nest(kind, tree(value, &[]))
            } else {
                Node::Leaf(kind, value.to_vec())
            });
        }
        bytes = &bytes[len.next_multiple_of(4).min(bytes.len())..];
    }
    nodes.sort_by_key(Node::kind);
    nodes
}

/// A message as (type, flags without ACK, nfgenmsg, attribute tree).
fn canonical(kind: u16, flags: u16, body: &[u8], skip: &[u16]) -> (u16, u16, Vec<u8>, Vec<Node>) {
    (kind, flags & !NLM_F_ACK, body[..4].to_vec(), tree(&body[4..], skip))
}

/// The messages of an encoded batch: (type, flags, seq, body after the netlink header).
fn split(buf: &[u8]) -> Vec<(u16, u16, u32, Vec<u8>)> {
    let mut messages = Vec::new();
    let mut rest = buf;
    while rest.len() >= 16 {
        let len = u32::from_ne_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        let flags = u16::from_ne_bytes([rest[6], rest[7]]);
        let seq = u32::from_ne_bytes(rest[8..12].try_into().expect("4 bytes"));
        messages.push((kind, flags, seq, rest[16..len].to_vec()));
        rest = &rest[len.next_multiple_of(4).min(rest.len())..];
    }
    messages
}

fn assert_same(ours: &(u16, u16, u32, Vec<u8>), nft: (u16, u16, &str), skip: &[u16]) {
    let theirs = unhex(nft.2);
    assert_eq!(canonical(ours.0, ours.1, &ours.3, skip), canonical(nft.0, nft.1, &theirs, skip));
}

#[test]
fn the_dns_redirect_encodes_as_nft_does() {
    let batch = dns_redirect_batch(5353, 5354);
    let mut buf = Vec::new();
    batch.encode(100, &mut buf);
    let messages = split(&buf);
    assert_eq!(messages.len(), batch.len() + 2, "begin, the operations, end");

    // Begin and end: subsystem nftables in res_id (network order), no family.
    let (first, last) = (&messages[0], &messages[messages.len() - 1]);
    assert_eq!((first.0, first.2, first.3.as_slice()), (0x10, 100, &[0, 0, 0, 10][..]));
    assert_eq!((last.0, last.2, last.3.as_slice()), (0x11, seq_of(100, batch.len()), &[0, 0, 0, 10][..]));
    for (i, message) in messages[1..messages.len() - 1].iter().enumerate() {
        assert_eq!(message.2, seq_of(100, i), "operation {i}'s sequence number");
        assert_ne!(message.1 & NLM_F_ACK, 0, "operation {i} asks for an ACK");
    }

    // add, delete, add table; then the chains and rules (operations 3.., messages 4..).
    let kinds: Vec<u16> = messages[1..4].iter().map(|m| m.0).collect();
    assert_eq!(kinds, [0x0a00, 0x0a02, 0x0a00]);
    assert_same(&messages[4], NFT_CHAIN_OUTPUT, &[]);
    assert_same(&messages[5], NFT_CHAIN_POSTROUTING, &[]);
    assert_same(&messages[6], NFT_RULE_DNAT_UDP, &[]);
    assert_same(&messages[8], NFT_RULE_SNAT_UDP, &[]);
}

#[test]
fn a_concatenated_map_encodes_as_nft_does() {
    let table = Table::new(Family::Inet, "t");
    let map = Set::new("ports", &[DataType::InetProto, DataType::Ipv4Addr, DataType::InetService])
        .map_to(&[DataType::Ipv4Addr, DataType::InetService]);
    let mut batch = Batch::new();
    batch.add_set(&table, &map);
    let mut buf = Vec::new();
    batch.encode(1, &mut buf);
    // NFTA_SET_ID (10) is any number unique in the batch, NFTA_SET_USERDATA (13) is nft's own.
    assert_same(&split(&buf)[1], NFT_MAP_PORTS, &[10, 13]);
}

#[test]
fn concatenated_elements_take_whole_registers() {
    let element = Element::new(&[Datum::Proto(6), Datum::Ipv4([10, 0, 0, 1].into()), Datum::Port(8080)])
        .to(&[Datum::Ipv4([10, 1, 0, 2].into()), Datum::Port(80)]);
    let attributes = element.attributes();
    use netlink_packet_netfilter::nftables::{DataAttribute, SetElementAttribute};
    assert_eq!(
        attributes,
        vec![
            SetElementAttribute::Key(DataAttribute::Value(vec![6, 0, 0, 0, 10, 0, 0, 1, 0x1f, 0x90, 0, 0])),
            SetElementAttribute::Data(DataAttribute::Value(vec![10, 1, 0, 2, 0, 80, 0, 0])),
        ]
    );
    // A single field keeps its own length.
    let single = Element::new(&[Datum::Port(53)]).attributes();
    assert_eq!(single, vec![SetElementAttribute::Key(DataAttribute::Value(vec![0, 53]))]);
}
