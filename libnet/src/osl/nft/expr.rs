//! Rule expressions (load a field, compare, load a constant, nat, ...) and their encoding as the
//! kernel's `NFTA_EXPR_*` attributes.
//!
//! meta, payload, cmp, immediate and lookup use `netlink-packet-netfilter`'s types; nat, redir,
//! masq and counter are not in that crate and are encoded here, with their attribute numbers from
//! linux/netfilter/nf_tables.h (`enum nft_nat_attributes` etc.).

use netlink_packet_core::DefaultNla;
use netlink_packet_netfilter::nftables::{
    Cmp, DataAttribute, ExpressionAttribute, Expressions, Immediate, ListAttribute, Lookup, Meta, MetaKey as NlMetaKey,
    Operator, Payload, Register, Verdict as NlVerdict, VerdictAttribute,
};

use super::Family;

/// A 16-byte data register (`NFT_REG_1` .. `NFT_REG_4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reg {
    /// `NFT_REG_1`: the `Rule` shorthands load and compare in this one.
    R1,
    /// `NFT_REG_2`.
    R2,
    /// `NFT_REG_3`.
    R3,
    /// `NFT_REG_4`.
    R4,
}

impl Reg {
    fn nl(self) -> Register {
        match self {
            Reg::R1 => Register::Reg1,
            Reg::R2 => Register::Reg2,
            Reg::R3 => Register::Reg3,
            Reg::R4 => Register::Reg4,
        }
    }

    fn number(self) -> u32 {
        self.nl().into()
    }
}

/// Where a payload offset counts from (`enum nft_payload_bases`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadBase {
    /// The link-layer (Ethernet) header.
    Link,
    /// The network header (IPv4, IPv6).
    Network,
    /// The transport header (TCP, UDP...).
    Transport,
}

/// The packet metadata a meta expression loads (`enum nft_meta_keys`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaKey {
    /// The layer-3 protocol family (`NFPROTO_IPV4`...), one byte.
    NfProto,
    /// The layer-4 protocol (`IPPROTO_UDP`...), one byte.
    L4Proto,
    /// The input interface's name, 16 bytes.
    Iifname,
    /// The output interface's name, 16 bytes.
    Oifname,
    /// The packet mark, 4 bytes.
    Mark,
}

/// A comparison (`enum nft_cmp_ops`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// Equal (`==`).
    Eq,
    /// Not equal (`!=`).
    Ne,
    /// Less than (`<`), comparing the bytes as a big-endian number.
    Lt,
    /// Less than or equal (`<=`).
    Le,
    /// Greater than (`>`).
    Gt,
    /// Greater than or equal (`>=`).
    Ge,
}

/// Which address a nat expression rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatKind {
    /// Rewrite the source (`snat`).
    Snat,
    /// Rewrite the destination (`dnat`).
    Dnat,
}

/// What a rule decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `accept`: stop here and let the packet through this base chain.
    Accept,
    /// `drop`: stop here and drop the packet.
    Drop,
    /// `return`: go on after the rule that jumped here (in a base chain: the policy decides).
    Return,
    /// `jump CHAIN`: run the named chain of the same table, then come back.
    Jump(String),
    /// `goto CHAIN`: run the named chain of the same table and do not come back.
    Goto(String),
}

impl Verdict {
    pub(super) fn attributes(&self) -> Vec<VerdictAttribute> {
        // NF_DROP and NF_ACCEPT (linux/netfilter.h); the crate names only nf_tables' own codes.
        match self {
            Verdict::Accept => vec![VerdictAttribute::Code(NlVerdict::Other(1))],
            Verdict::Drop => vec![VerdictAttribute::Code(NlVerdict::Other(0))],
            Verdict::Return => vec![VerdictAttribute::Code(NlVerdict::Return)],
            Verdict::Jump(chain) => {
                vec![VerdictAttribute::Code(NlVerdict::Jump), VerdictAttribute::Chain(chain.clone())]
            }
            Verdict::Goto(chain) => {
                vec![VerdictAttribute::Code(NlVerdict::Goto), VerdictAttribute::Chain(chain.clone())]
            }
        }
    }
}

/// One expression of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Load packet metadata into `dreg`.
    Meta {
        /// What to load.
        key: MetaKey,
        /// The register it goes to.
        dreg: Reg,
    },
    /// Load `len` bytes at `offset` from `base` into `dreg`.
    Payload {
        /// The header the offset counts from.
        base: PayloadBase,
        /// The offset in bytes from the start of that header.
        offset: u32,
        /// How many bytes to load (at most 16).
        len: u32,
        /// The register they go to.
        dreg: Reg,
    },
    /// Compare `sreg` with `data` (network byte order, as the packet has it); the rule stops here
    /// if it does not hold.
    Cmp {
        /// The register compared.
        sreg: Reg,
        /// How it is compared.
        op: CmpOp,
        /// The bytes it is compared with, as long as what was loaded.
        data: Vec<u8>,
    },
    /// Load the constant `data` into `dreg`.
    Immediate {
        /// The register loaded.
        dreg: Reg,
        /// The bytes loaded (at most 16), as the expression that reads them expects them.
        data: Vec<u8>,
    },
    /// Decide: accept, drop, jump...
    Verdict(Verdict),
    /// Look `sreg` up in the set `set`: the rule goes on if found (not found with `invert`); for a
    /// map, the value lands in `dreg` (`Reg` for data, `None` with a verdict map jumps).
    Lookup {
        /// The name of a set or map of the rule's table.
        set: String,
        /// The register holding the key (a concatenated key starts here and takes the next ones).
        sreg: Reg,
        /// For a map, the register the element's value is loaded into.
        dreg: Option<Reg>,
        /// Match when the key is *not* in the set.
        invert: bool,
    },
    /// Source or destination nat to the address in `addr` and the port in `port` (registers loaded
    /// by `Immediate`s before); `None` keeps that part.
    Nat {
        /// Source or destination nat.
        kind: NatKind,
        /// The family of the address: [`Family::Ip`] for IPv4, [`Family::Ip6`] for IPv6.
        family: Family,
        /// The register holding the new address (4 bytes for IPv4, 16 for IPv6).
        addr: Option<Reg>,
        /// The register holding the new port, two bytes in network byte order.
        port: Option<Reg>,
    },
    /// Redirect to the local machine, to the port in `port` if given.
    Redirect {
        /// The register holding the new port, two bytes in network byte order; `None` keeps the
        /// port.
        port: Option<Reg>,
    },
    /// Source nat to the address of the output interface.
    Masquerade,
    /// Count packets and bytes.
    Counter,
}

// linux/netfilter/nf_tables.h: enum nft_nat_types, enum nft_nat_attributes.
const NFT_NAT_SNAT: u32 = 0;
const NFT_NAT_DNAT: u32 = 1;
const NFTA_NAT_TYPE: u16 = 1;
const NFTA_NAT_FAMILY: u16 = 2;
const NFTA_NAT_REG_ADDR_MIN: u16 = 3;
const NFTA_NAT_REG_PROTO_MIN: u16 = 5;
const NFTA_NAT_FLAGS: u16 = 7;
// linux/netfilter/nf_tables.h: enum nft_redir_attributes.
const NFTA_REDIR_REG_PROTO_MIN: u16 = 1;
const NFTA_REDIR_FLAGS: u16 = 3;
// linux/netfilter/nf_tables.h: enum nft_counter_attributes.
const NFTA_COUNTER_BYTES: u16 = 1;
const NFTA_COUNTER_PACKETS: u16 = 2;
// linux/netfilter/nf_nat.h: a range flag, sent as `nft` does (the kernel sets NF_NAT_RANGE_MAP_IPS
// itself when an address register is given).
const NF_NAT_RANGE_PROTO_SPECIFIED: u32 = 2;
// linux/netfilter/nf_tables.h: enum nft_lookup_flags.
const NFT_LOOKUP_F_INV: u32 = 1;
// linux/netfilter/nf_tables.h: enum nft_registers.
const NFT_REG_VERDICT: Register = Register::Verdict;

fn u32_attr(kind: u16, value: u32) -> DefaultNla {
    DefaultNla::new(kind, value.to_be_bytes().to_vec())
}

fn other(name: &str, attributes: Vec<DefaultNla>) -> Expressions {
    Expressions::Other { expression_type: name.to_string(), attributes }
}

impl Expr {
    /// The kernel's name of the expression (`NFTA_EXPR_NAME`).
    pub fn name(&self) -> &'static str {
        match self {
            Expr::Meta { .. } => "meta",
            Expr::Payload { .. } => "payload",
            Expr::Cmp { .. } => "cmp",
            Expr::Immediate { .. } | Expr::Verdict(_) => "immediate",
            Expr::Lookup { .. } => "lookup",
            Expr::Nat { .. } => "nat",
            Expr::Redirect { .. } => "redir",
            Expr::Masquerade => "masq",
            Expr::Counter => "counter",
        }
    }

    /// The expression as one element of a rule's `NFTA_RULE_EXPRESSIONS` list.
    pub(super) fn encode(&self) -> ListAttribute<ExpressionAttribute> {
        let data = match self {
            Expr::Meta { key, dreg } => {
                let key = match key {
                    MetaKey::NfProto => NlMetaKey::Nfproto,
                    MetaKey::L4Proto => NlMetaKey::L4Proto,
                    MetaKey::Iifname => NlMetaKey::Iifname,
                    MetaKey::Oifname => NlMetaKey::Oifname,
                    MetaKey::Mark => NlMetaKey::Mark,
                };
                Expressions::Meta(vec![Meta::Key(key), Meta::DestinationRegister(dreg.nl())])
            }
            Expr::Payload { base, offset, len, dreg } => {
                let base = match base {
                    PayloadBase::Link => 0,
                    PayloadBase::Network => 1,
                    PayloadBase::Transport => 2,
                };
                Expressions::Payload(vec![
                    Payload::DestinationRegister(dreg.nl()),
                    Payload::Base(base),
                    Payload::Offset(*offset),
                    Payload::Len(*len),
                ])
            }
            Expr::Cmp { sreg, op, data } => {
                let op = match op {
                    CmpOp::Eq => Operator::Equal,
                    CmpOp::Ne => Operator::NotEqual,
                    CmpOp::Lt => Operator::LessThan,
                    CmpOp::Le => Operator::LessThanEqual,
                    CmpOp::Gt => Operator::GreaterThan,
                    CmpOp::Ge => Operator::GreatherThanEqual,
                };
                Expressions::Cmp(vec![
                    Cmp::SourceRegister(sreg.nl()),
                    Cmp::Op(op),
                    Cmp::Data(DataAttribute::Value(data.clone())),
                ])
            }
            Expr::Immediate { dreg, data } => Expressions::Immediate(vec![
                Immediate::DestinationRegister(dreg.nl()),
                Immediate::Data(DataAttribute::Value(data.clone())),
            ]),
            Expr::Verdict(verdict) => Expressions::Immediate(vec![
                Immediate::DestinationRegister(NFT_REG_VERDICT),
                Immediate::Data(DataAttribute::Verdict(verdict.attributes())),
            ]),
            Expr::Lookup { set, sreg, dreg, invert } => {
                let mut attributes = vec![Lookup::Set(set.clone()), Lookup::SourceRegister(sreg.nl())];
                if let Some(dreg) = dreg {
                    attributes.push(Lookup::DestinationRegister(dreg.nl()));
                }
                if *invert {
                    attributes.push(Lookup::Flags(NFT_LOOKUP_F_INV));
                }
                Expressions::Lookup(attributes)
            }
            Expr::Nat { kind, family, addr, port } => {
                let kind = match kind {
                    NatKind::Snat => NFT_NAT_SNAT,
                    NatKind::Dnat => NFT_NAT_DNAT,
                };
                let mut attributes = vec![u32_attr(NFTA_NAT_TYPE, kind), u32_attr(NFTA_NAT_FAMILY, family.number())];
                if let Some(addr) = addr {
                    attributes.push(u32_attr(NFTA_NAT_REG_ADDR_MIN, addr.number()));
                }
                if let Some(port) = port {
                    attributes.push(u32_attr(NFTA_NAT_REG_PROTO_MIN, port.number()));
                    attributes.push(u32_attr(NFTA_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED));
                }
                other("nat", attributes)
            }
            Expr::Redirect { port } => {
                let attributes = match port {
                    Some(port) => vec![
                        u32_attr(NFTA_REDIR_REG_PROTO_MIN, port.number()),
                        u32_attr(NFTA_REDIR_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED),
                    ],
                    None => Vec::new(),
                };
                other("redir", attributes)
            }
            Expr::Masquerade => other("masq", Vec::new()),
            Expr::Counter => other(
                "counter",
                vec![
                    DefaultNla::new(NFTA_COUNTER_BYTES, 0u64.to_be_bytes().to_vec()),
                    DefaultNla::new(NFTA_COUNTER_PACKETS, 0u64.to_be_bytes().to_vec()),
                ],
            ),
        };
        ListAttribute::Element(vec![
            ExpressionAttribute::Name(self.name().to_string()),
            ExpressionAttribute::Data(data),
        ])
    }
}
