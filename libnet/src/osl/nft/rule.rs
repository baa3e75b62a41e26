//! A rule: a label for messages and its expressions, with shorthands for the matches and actions
//! weft uses, written out the way `nft` compiles them.

use std::net::Ipv4Addr;

use super::expr::{CmpOp, Expr, MetaKey, NatKind, PayloadBase, Reg, Verdict};
use super::Family;

/// `IPPROTO_UDP` (netinet/in.h).
pub const IPPROTO_UDP: u8 = 17;
/// `IPPROTO_TCP` (netinet/in.h).
pub const IPPROTO_TCP: u8 = 6;

/// Offsets in the IPv4 header (RFC 791) and the UDP/TCP header (ports first in both).
const IPV4_SADDR: u32 = 12;
const IPV4_DADDR: u32 = 16;
const TH_SPORT: u32 = 0;
const TH_DPORT: u32 = 2;

/// A rule under construction. The label names it in errors (`add rule "dns udp" to ip weft-dns
/// output`); the kernel never sees it.
///
/// ```
/// use std::net::Ipv4Addr;
/// use libnet::osl::nft::{Rule, IPPROTO_UDP};
/// let rule = Rule::new("dns").ip_daddr(Ipv4Addr::new(127, 0, 0, 11)).udp_dport(53).accept();
/// assert_eq!(rule.exprs().len(), 7);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    label: String,
    exprs: Vec<Expr>,
}

impl Rule {
    /// An empty rule (it matches every packet) called `label` in errors.
    pub fn new(label: impl Into<String>) -> Rule {
        Rule { label: label.into(), exprs: Vec::new() }
    }

    /// The words that name the rule in errors.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Its expressions, in the order the kernel runs them.
    pub fn exprs(&self) -> &[Expr] {
        &self.exprs
    }

    /// Append any expression.
    pub fn expr(mut self, expr: Expr) -> Rule {
        self.exprs.push(expr);
        self
    }

    fn load_cmp(self, load: Expr, data: Vec<u8>) -> Rule {
        self.expr(load).expr(Expr::Cmp { sreg: Reg::R1, op: CmpOp::Eq, data })
    }

    /// `ip saddr ADDR` (an IPv4 table).
    pub fn ip_saddr(self, addr: Ipv4Addr) -> Rule {
        let load = Expr::Payload { base: PayloadBase::Network, offset: IPV4_SADDR, len: 4, dreg: Reg::R1 };
        self.load_cmp(load, addr.octets().to_vec())
    }

    /// `ip daddr ADDR` (an IPv4 table).
    pub fn ip_daddr(self, addr: Ipv4Addr) -> Rule {
        let load = Expr::Payload { base: PayloadBase::Network, offset: IPV4_DADDR, len: 4, dreg: Reg::R1 };
        self.load_cmp(load, addr.octets().to_vec())
    }

    /// `meta l4proto PROTO`.
    pub fn l4proto(self, proto: u8) -> Rule {
        self.load_cmp(Expr::Meta { key: MetaKey::L4Proto, dreg: Reg::R1 }, vec![proto])
    }

    /// `iifname NAME`.
    pub fn iifname(self, name: &str) -> Rule {
        self.load_cmp(Expr::Meta { key: MetaKey::Iifname, dreg: Reg::R1 }, ifname_bytes(name))
    }

    /// `oifname NAME`.
    pub fn oifname(self, name: &str) -> Rule {
        self.load_cmp(Expr::Meta { key: MetaKey::Oifname, dreg: Reg::R1 }, ifname_bytes(name))
    }

    fn port(self, proto: u8, offset: u32, port: u16) -> Rule {
        let load = Expr::Payload { base: PayloadBase::Transport, offset, len: 2, dreg: Reg::R1 };
        self.l4proto(proto).load_cmp(load, port.to_be_bytes().to_vec())
    }

    /// `udp sport PORT` (with its `meta l4proto udp`).
    pub fn udp_sport(self, port: u16) -> Rule {
        self.port(IPPROTO_UDP, TH_SPORT, port)
    }

    /// `udp dport PORT` (with its `meta l4proto udp`).
    pub fn udp_dport(self, port: u16) -> Rule {
        self.port(IPPROTO_UDP, TH_DPORT, port)
    }

    /// `tcp sport PORT` (with its `meta l4proto tcp`).
    pub fn tcp_sport(self, port: u16) -> Rule {
        self.port(IPPROTO_TCP, TH_SPORT, port)
    }

    /// `tcp dport PORT` (with its `meta l4proto tcp`).
    pub fn tcp_dport(self, port: u16) -> Rule {
        self.port(IPPROTO_TCP, TH_DPORT, port)
    }

    /// `counter`.
    pub fn counter(self) -> Rule {
        self.expr(Expr::Counter)
    }

    fn nat(self, kind: NatKind, addr: Option<Ipv4Addr>, port: Option<u16>) -> Rule {
        // Registers as `nft` uses them: the address in 1, the port in the next one.
        let addr_reg = addr.map(|addr| (Reg::R1, addr));
        let port_reg = port.map(|port| (if addr.is_some() { Reg::R2 } else { Reg::R1 }, port));
        let mut rule = self;
        if let Some((reg, addr)) = addr_reg {
            rule = rule.expr(Expr::Immediate { dreg: reg, data: addr.octets().to_vec() });
        }
        if let Some((reg, port)) = port_reg {
            rule = rule.expr(Expr::Immediate { dreg: reg, data: port.to_be_bytes().to_vec() });
        }
        rule.expr(Expr::Nat {
            kind,
            family: Family::Ip,
            addr: addr_reg.map(|(reg, _)| reg),
            port: port_reg.map(|(reg, _)| reg),
        })
    }

    /// `dnat to ADDR:PORT` (IPv4); either part may be left as it is.
    pub fn dnat(self, addr: Option<Ipv4Addr>, port: Option<u16>) -> Rule {
        self.nat(NatKind::Dnat, addr, port)
    }

    /// `snat to ADDR:PORT` (IPv4); either part may be left as it is.
    pub fn snat(self, addr: Option<Ipv4Addr>, port: Option<u16>) -> Rule {
        self.nat(NatKind::Snat, addr, port)
    }

    /// `redirect to :PORT`.
    pub fn redirect(self, port: u16) -> Rule {
        self.expr(Expr::Immediate { dreg: Reg::R1, data: port.to_be_bytes().to_vec() })
            .expr(Expr::Redirect { port: Some(Reg::R1) })
    }

    /// `masquerade`.
    pub fn masquerade(self) -> Rule {
        self.expr(Expr::Masquerade)
    }

    /// `accept`.
    pub fn accept(self) -> Rule {
        self.expr(Expr::Verdict(Verdict::Accept))
    }

    /// `drop`.
    pub fn drop(self) -> Rule {
        self.expr(Expr::Verdict(Verdict::Drop))
    }

    /// `jump CHAIN`.
    pub fn jump(self, chain: &str) -> Rule {
        self.expr(Expr::Verdict(Verdict::Jump(chain.to_string())))
    }
}

/// An interface name as the kernel compares it: `IFNAMSIZ` bytes, NUL-padded (the kernel's names
/// have at most 15 bytes, so the last is always a NUL).
pub(super) fn ifname_bytes(name: &str) -> Vec<u8> {
    let mut bytes = name.as_bytes().to_vec();
    bytes.resize(16, 0);
    bytes
}
