//! A batch of nf_tables operations, each with the words that name it in an error, and its encoding
//! as one `NFNL_MSG_BATCH_BEGIN` ... `NFNL_MSG_BATCH_END` datagram.

use netlink_packet_core::{
    DefaultNla, NetlinkHeader, NetlinkMessage, NetlinkPayload, Nla, NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_netfilter::nftables::{
    ChainAttribute, ChainMessage, Hook as NlHook, HookNumber, NfTablesMessage, RuleAttribute, RuleMessage,
    SetElementList, SetElementMessage, SetMessage, TableAttribute, TableMessage,
};
use netlink_packet_netfilter::none::ControlMessage;
use netlink_packet_netfilter::{NetfilterHeader, NetfilterMessage, NetfilterProtoFamily};

use super::{BaseChain, Element, Policy, Rule, Set, Table};

/// `NFNL_SUBSYS_NFTABLES` (linux/netfilter/nfnetlink.h): the batch's `res_id`.
const NFNL_SUBSYS_NFTABLES: u16 = 10;
/// `NFT_MSG_DESTROYSETELEM` (linux/netfilter/nf_tables.h, Linux 6.3): delete elements, those
/// not there being no error. netlink-packet-netfilter 0.4 has no variant for it.
const NFT_MSG_DESTROYSETELEM: u8 = 30;
/// `NF_DROP`, `NF_ACCEPT` (linux/netfilter.h): a base chain's policy.
const NF_DROP: u32 = 0;
const NF_ACCEPT: u32 = 1;

/// One operation: what it is called in messages, the table family, the message and its flags.
#[derive(Debug, Clone)]
struct Op {
    what: String,
    family: NetfilterProtoFamily,
    message: NfTablesMessage,
    flags: u16,
}

/// Operations the kernel applies all together or not at all ([`Nftables::commit`]).
///
/// Operations are applied in order; a later one sees what an earlier one made or removed, so
/// "add table, delete table, add table ..." replaces a table whether it existed or not.
///
/// [`Nftables::commit`]: super::Nftables::commit
#[derive(Debug, Clone, Default)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Batch {
        Batch::default()
    }

    /// How many operations it holds.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether it holds no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The words naming operation `index` (as errors name it).
    pub fn describe(&self, index: usize) -> Option<&str> {
        self.ops.get(index).map(|op| op.what.as_str())
    }

    fn push(&mut self, what: String, table: &Table, message: NfTablesMessage, flags: u16) -> &mut Batch {
        self.ops.push(Op { what, family: table.family.proto(), message, flags });
        self
    }

    /// Add `table`; one that exists already is left as it is (`nft add table`).
    pub fn add_table(&mut self, table: &Table) -> &mut Batch {
        let message =
            NfTablesMessage::NewTable(TableMessage { attributes: vec![TableAttribute::Name(table.name.clone())] });
        self.push(format!("add table {table}"), table, message, NLM_F_CREATE)
    }

    /// Add `table`, refused (EEXIST) if it exists (`nft create table`).
    pub fn create_table(&mut self, table: &Table) -> &mut Batch {
        let message =
            NfTablesMessage::NewTable(TableMessage { attributes: vec![TableAttribute::Name(table.name.clone())] });
        self.push(format!("create table {table}"), table, message, NLM_F_CREATE | NLM_F_EXCL)
    }

    /// Delete `table` with everything in it; the kernel refuses (ENOENT) if it does not exist, so
    /// to delete one that may not, add it first in the same batch.
    pub fn delete_table(&mut self, table: &Table) -> &mut Batch {
        let message =
            NfTablesMessage::DeleteTable(TableMessage { attributes: vec![TableAttribute::Name(table.name.clone())] });
        self.push(format!("delete table {table}"), table, message, 0)
    }

    /// Replace `table` by an empty one, whether it existed or not (add, delete, add).
    pub fn recreate_table(&mut self, table: &Table) -> &mut Batch {
        self.add_table(table).delete_table(table).add_table(table)
    }

    /// Add the chain `name` to `table`: a regular chain, or a base chain with `base`.
    pub fn add_chain(&mut self, table: &Table, name: &str, base: Option<&BaseChain>) -> &mut Batch {
        let mut attributes = vec![ChainAttribute::Table(table.name.clone()), ChainAttribute::Name(name.to_string())];
        if let Some(base) = base {
            attributes.push(ChainAttribute::Hook(vec![
                NlHook::Number(HookNumber::Other(base.hook.number())),
                // The kernel reads the priority as a signed 32-bit number.
                NlHook::Priority(base.priority as u32),
            ]));
            attributes.push(ChainAttribute::Policy(match base.policy {
                Policy::Accept => NF_ACCEPT,
                Policy::Drop => NF_DROP,
            }));
            attributes.push(ChainAttribute::Type(base.kind.name().to_string()));
        }
        let message = NfTablesMessage::NewChain(ChainMessage { attributes });
        self.push(format!("add chain {table} {name}"), table, message, NLM_F_CREATE)
    }

    /// Append `rule` to the chain `chain` of `table`.
    pub fn add_rule(&mut self, table: &Table, chain: &str, rule: &Rule) -> &mut Batch {
        let expressions = rule.exprs().iter().map(|expr| expr.encode()).collect();
        let message = NfTablesMessage::NewRule(RuleMessage {
            attributes: vec![
                RuleAttribute::Table(table.name.clone()),
                RuleAttribute::Chain(chain.to_string()),
                RuleAttribute::Expressions(expressions),
            ],
        });
        let what = format!("add rule \"{}\" to chain {table} {chain}", rule.label());
        self.push(what, table, message, NLM_F_CREATE | NLM_F_APPEND)
    }

    /// Add the set or map `set` to `table`.
    pub fn add_set(&mut self, table: &Table, set: &Set) -> &mut Batch {
        // The kernel requires a set an id unique in the batch (`NFTA_SET_ID`, for rules of the same
        // batch to refer to it before it has a handle); the operation's position is one.
        let id = self.ops.len() as u32 + 1;
        let message = NfTablesMessage::NewSet(SetMessage { attributes: set.attributes(&table.name, id) });
        self.push(format!("add set {table} {}", set.name()), table, message, NLM_F_CREATE)
    }

    /// Add `elements` to the set `set` of `table`, in one message; an element already there is
    /// left as it is.
    pub fn add_elements(&mut self, table: &Table, set: &str, elements: &[Element]) -> &mut Batch {
        let message = NfTablesMessage::NewSetElement(element_message(table, set, elements));
        let what = format!("add {} element(s) to set {table} {set}", elements.len());
        self.push(what, table, message, NLM_F_CREATE)
    }

    /// Delete `elements` from the set `set` of `table`; the kernel refuses (ENOENT) if one is not
    /// there, and then deletes none.
    pub fn delete_elements(&mut self, table: &Table, set: &str, elements: &[Element]) -> &mut Batch {
        let message = NfTablesMessage::DeleteSetElement(element_message(table, set, elements));
        let what = format!("delete {} element(s) from set {table} {set}", elements.len());
        self.push(what, table, message, 0)
    }

    /// Delete `elements` from the set `set` of `table`, those not there being no error (the
    /// kernel's `destroy`, Linux 6.3 and later; older kernels refuse the message with
    /// EOPNOTSUPP). With it, a removal need not know what is still there.
    pub fn destroy_elements(&mut self, table: &Table, set: &str, elements: &[Element]) -> &mut Batch {
        // The attributes are those of a deletion, carried as opaque ones under the message type
        // the crate does not know.
        let attributes = element_message(table, set, elements)
            .attributes
            .iter()
            .map(|attribute| {
                let mut value = vec![0; attribute.value_len()];
                attribute.emit_value(&mut value);
                DefaultNla::new(attribute.kind(), value)
            })
            .collect();
        let message = NfTablesMessage::Other { message_type: NFT_MSG_DESTROYSETELEM, attributes };
        let what = format!("destroy {} element(s) of set {table} {set}", elements.len());
        self.push(what, table, message, 0)
    }

    /// Encode the batch into `buf`, its messages numbered from `first_seq` on: the batch begin
    /// takes `first_seq`, operation `i` takes `first_seq + 1 + i`, the end the next one.
    pub(super) fn encode(&self, first_seq: u32, buf: &mut Vec<u8>) {
        buf.clear();
        let control = |message: ControlMessage| {
            // The batch's header names the subsystem in `res_id`, in network byte order.
            let header = NetfilterHeader::new(NetfilterProtoFamily::Unspec, 0, NFNL_SUBSYS_NFTABLES);
            NetfilterMessage::new(header, message)
        };
        append(buf, control(ControlMessage::BatchBegin), first_seq, NLM_F_REQUEST);
        for (i, op) in self.ops.iter().enumerate() {
            let message = NetfilterMessage::new(NetfilterHeader::new(op.family, 0, 0), op.message.clone());
            append(buf, message, seq_of(first_seq, i), NLM_F_REQUEST | NLM_F_ACK | op.flags);
        }
        append(buf, control(ControlMessage::BatchEnd), seq_of(first_seq, self.ops.len()), NLM_F_REQUEST);
    }
}

/// The sequence number of operation `index` in a batch numbered from `first_seq`.
pub(super) fn seq_of(first_seq: u32, index: usize) -> u32 {
    first_seq.wrapping_add(1).wrapping_add(index as u32)
}

fn element_message(table: &Table, set: &str, elements: &[Element]) -> SetElementMessage {
    use netlink_packet_netfilter::nftables::ListAttribute;
    let list = elements.iter().map(|element| ListAttribute::Element(element.attributes())).collect();
    SetElementMessage {
        attributes: vec![
            SetElementList::Table(table.name.clone()),
            SetElementList::Set(set.to_string()),
            SetElementList::Elements(list),
        ],
    }
}

/// Append one netlink message (4-byte aligned, as messages in a datagram are).
fn append(buf: &mut Vec<u8>, message: NetfilterMessage, seq: u32, flags: u16) {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
    packet.finalize();
    let start = buf.len();
    let len = packet.buffer_len();
    buf.resize(start + len.next_multiple_of(4), 0);
    packet.serialize(&mut buf[start..start + len]);
}
