//! Named sets and maps, and their elements: the typed keys and values the firewall keeps its
//! per-port and per-network state in.

use std::net::{Ipv4Addr, Ipv6Addr};

use netlink_packet_netfilter::nftables::{DataAttribute, SetAttribute, SetElementAttribute, SetElementFlags, SetFlags};

use super::rule::ifname_bytes;
use super::Verdict;

/// The type of a key or value, with `nft`'s datatype numbers (its `enum datatypes`), which the
/// kernel stores for `nft list` to print the elements with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    /// `ipv4_addr`.
    Ipv4Addr,
    /// `ipv6_addr`.
    Ipv6Addr,
    /// `inet_proto`: one byte, `IPPROTO_*`.
    InetProto,
    /// `inet_service`: a port, network byte order.
    InetService,
    /// `ifname`: 16 bytes.
    Ifname,
    /// `mark`: 4 bytes.
    Mark,
}

/// `nft`'s concatenation shift (`TYPE_BITS`): a concatenated type is the field types in 6-bit slots.
const TYPE_BITS: u32 = 6;
/// `NFT_DATA_VERDICT` (linux/netfilter/nf_tables.h): the data type of a verdict map.
const NFT_DATA_VERDICT: u32 = 0xffff_ff00;
/// Verdicts are 16 bytes in a set (`sizeof(struct nft_verdict)` as the kernel counts it).
const VERDICT_LEN: u32 = 16;

impl DataType {
    fn id(self) -> u32 {
        match self {
            DataType::Ipv4Addr => 7,
            DataType::Ipv6Addr => 8,
            DataType::InetProto => 12,
            DataType::InetService => 13,
            DataType::Mark => 19,
            DataType::Ifname => 41,
        }
    }

    fn len(self) -> u32 {
        match self {
            DataType::Ipv4Addr | DataType::Mark => 4,
            DataType::Ipv6Addr | DataType::Ifname => 16,
            DataType::InetProto => 1,
            DataType::InetService => 2,
        }
    }
}

/// `nft`'s set userdata (libnftnl's `NFTNL_UDATA_SET_KEYBYTEORDER`, `..._DATABYTEORDER`, each a
/// type byte, a length byte and a host-order u32; `BYTEORDER_HOST_ENDIAN` = 1). The kernel keeps
/// it for `nft list`, which without it prints host-order keys such as interface names wrong.
const UDATA_SET_KEYBYTEORDER: u8 = 0;
const UDATA_SET_DATABYTEORDER: u8 = 1;
const BYTEORDER_HOST_ENDIAN: u32 = 1;

/// Whether a single-field key or value of these types is in host byte order (strings and marks).
fn host_order(fields: &[DataType]) -> bool {
    matches!(fields, [DataType::Ifname] | [DataType::Mark])
}

fn byteorder_udata(kind: u8) -> [u8; 6] {
    let [a, b, c, d] = BYTEORDER_HOST_ENDIAN.to_ne_bytes();
    [kind, 4, a, b, c, d]
}

/// One typed value of a key or of a map's data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Datum {
    /// An IPv4 address, for a [`DataType::Ipv4Addr`] field.
    Ipv4(Ipv4Addr),
    /// An IPv6 address, for a [`DataType::Ipv6Addr`] field.
    Ipv6(Ipv6Addr),
    /// An IP protocol number (`IPPROTO_TCP`...), for a [`DataType::InetProto`] field.
    Proto(u8),
    /// A port, for a [`DataType::InetService`] field.
    Port(u16),
    /// An interface name (at most 15 bytes), for a [`DataType::Ifname`] field.
    Ifname(String),
    /// A packet mark, for a [`DataType::Mark`] field.
    Mark(u32),
}

impl Datum {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Datum::Ipv4(addr) => addr.octets().to_vec(),
            Datum::Ipv6(addr) => addr.octets().to_vec(),
            Datum::Proto(proto) => vec![*proto],
            Datum::Port(port) => port.to_be_bytes().to_vec(),
            Datum::Ifname(name) => ifname_bytes(name),
            // The mark is compared in host order, as the kernel keeps it in the skb.
            Datum::Mark(mark) => mark.to_ne_bytes().to_vec(),
        }
    }
}

/// The type and length of a (possibly concatenated) key or value: one field is its natural length;
/// in a concatenation each field takes whole 4-byte registers.
fn composite(fields: &[DataType]) -> (u32, u32) {
    let id = fields.iter().fold(0, |id, field| (id << TYPE_BITS) | field.id());
    let len = match fields {
        [single] => single.len(),
        _ => fields.iter().map(|field| field.len().next_multiple_of(4)).sum(),
    };
    (id, len)
}

/// The bytes of a (possibly concatenated) key or value, laid out as [`composite`] says.
fn encode(values: &[Datum]) -> Vec<u8> {
    match values {
        [single] => single.bytes(),
        _ => values
            .iter()
            .flat_map(|value| {
                let mut bytes = value.bytes();
                bytes.resize(bytes.len().next_multiple_of(4), 0);
                bytes
            })
            .collect(),
    }
}

/// What a map's elements map to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapData {
    Values(Vec<DataType>),
    Verdict,
}

/// A named set (or map, with `data`) of a table.
///
/// ```
/// use libnet::osl::nft::{DataType, Set};
/// // Published ports: (protocol, port) -> (container address, port).
/// let ports = Set::new("ports", &[DataType::InetProto, DataType::InetService])
///     .map_to(&[DataType::Ipv4Addr, DataType::InetService]);
/// assert_eq!(ports.name(), "ports");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Set {
    name: String,
    key: Vec<DataType>,
    data: Option<MapData>,
    interval: bool,
}

impl Set {
    /// A set of keys made of `key`'s fields (more than one: a concatenation, `a . b`).
    pub fn new(name: impl Into<String>, key: &[DataType]) -> Set {
        Set { name: name.into(), key: key.to_vec(), data: None, interval: false }
    }

    /// Make it a map to values of `data`'s fields.
    pub fn map_to(mut self, data: &[DataType]) -> Set {
        self.data = Some(MapData::Values(data.to_vec()));
        self
    }

    /// Make it a verdict map (`vmap`).
    pub fn verdict_map(mut self) -> Set {
        self.data = Some(MapData::Verdict);
        self
    }

    /// Make its keys ranges (`flags interval`): each element is then a start and an
    /// [`Element::interval_end`] (a single-field key only: the kernel's rbtree backend).
    pub fn interval(mut self) -> Set {
        self.interval = true;
        self
    }

    /// The set's name in its table, as rules and `nft list` name it.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn attributes(&self, table: &str, id: u32) -> Vec<SetAttribute> {
        let (key_type, key_len) = composite(&self.key);
        // No NFT_SET_CONCAT for a concatenated key: the kernel wants it only with intervals (and
        // then with each field's length), as `nft` sends it.
        let mut flags = if self.interval { SetFlags::Interval } else { SetFlags::empty() };
        let mut attributes = vec![
            SetAttribute::Table(table.to_string()),
            SetAttribute::Name(self.name.clone()),
            SetAttribute::KeyType(key_type),
            SetAttribute::KeyLen(key_len),
            SetAttribute::Id(id),
        ];
        match &self.data {
            None => {}
            Some(MapData::Values(fields)) => {
                let (data_type, data_len) = composite(fields);
                flags |= SetFlags::Map;
                attributes.push(SetAttribute::DataType(data_type));
                attributes.push(SetAttribute::DataLen(data_len));
            }
            Some(MapData::Verdict) => {
                flags |= SetFlags::Map;
                attributes.push(SetAttribute::DataType(NFT_DATA_VERDICT));
                attributes.push(SetAttribute::DataLen(VERDICT_LEN));
            }
        }
        attributes.push(SetAttribute::Flags(flags));
        let mut udata = Vec::new();
        if host_order(&self.key) {
            udata.extend(byteorder_udata(UDATA_SET_KEYBYTEORDER));
        }
        if matches!(&self.data, Some(MapData::Values(fields)) if host_order(fields)) {
            udata.extend(byteorder_udata(UDATA_SET_DATABYTEORDER));
        }
        if !udata.is_empty() {
            attributes.push(SetAttribute::UserData(udata));
        }
        attributes
    }
}

/// An element of a set, or of a map with its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    key: Vec<Datum>,
    data: Option<ElementData>,
    interval_end: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ElementData {
    Values(Vec<Datum>),
    Verdict(Verdict),
}

impl Element {
    /// An element whose key is `key`'s fields, in the set's order.
    pub fn new(key: &[Datum]) -> Element {
        Element { key: key.to_vec(), data: None, interval_end: false }
    }

    /// The value it maps to (in a map).
    pub fn to(mut self, data: &[Datum]) -> Element {
        self.data = Some(ElementData::Values(data.to_vec()));
        self
    }

    /// The verdict it maps to (in a verdict map).
    pub fn to_verdict(mut self, verdict: Verdict) -> Element {
        self.data = Some(ElementData::Verdict(verdict));
        self
    }

    /// Make it the end of a range in an interval set: the first key *after* the range, which the
    /// kernel keeps as an element of its own (`NFT_SET_ELEM_INTERVAL_END`), as `nft` sends it.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use libnet::osl::nft::{Datum, Element};
    /// // 10.1.0.0/16: from 10.1.0.0 up to (not including) 10.2.0.0.
    /// let range = [
    ///     Element::new(&[Datum::Ipv4(Ipv4Addr::new(10, 1, 0, 0))]),
    ///     Element::new(&[Datum::Ipv4(Ipv4Addr::new(10, 2, 0, 0))]).interval_end(),
    /// ];
    /// # let _ = range;
    /// ```
    pub fn interval_end(mut self) -> Element {
        self.interval_end = true;
        self
    }

    pub(super) fn attributes(&self) -> Vec<SetElementAttribute> {
        let mut attributes = vec![SetElementAttribute::Key(DataAttribute::Value(encode(&self.key)))];
        if self.interval_end {
            attributes.push(SetElementAttribute::Flags(SetElementFlags::IntervalEnd));
        }
        match &self.data {
            None => {}
            Some(ElementData::Values(values)) => {
                attributes.push(SetElementAttribute::Data(DataAttribute::Value(encode(values))))
            }
            Some(ElementData::Verdict(verdict)) => {
                attributes.push(SetElementAttribute::Data(DataAttribute::Verdict(verdict.attributes())))
            }
        }
        attributes
    }
}
