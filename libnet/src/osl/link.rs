//! Links: list, bridges, veth pairs, delete, up/down, MTU, master, name, MAC, move to a namespace.

use std::os::fd::{AsFd, AsRawFd};

use netlink_packet_core::{NlasIterator, ParseableParametrized, NLM_F_CREATE, NLM_F_ECHO, NLM_F_EXCL};
use netlink_packet_route::link::{
    InfoBridgePort, InfoData, InfoKind, InfoPortData, InfoPortKind, InfoVeth, LinkAttribute, LinkExtentMask, LinkFlags,
    LinkHeader, LinkInfo as NlLinkInfo, LinkMessage,
};
use netlink_packet_route::RouteNetlinkMessage;
use nix::libc;

use super::netlink::Nack;
use super::{Netlink, Netns, Result};

/// Kernel ABI numbers the reply parser picks attributes by (linux/rtnetlink.h, if_link.h).
const RTM_NEWLINK: u16 = 16;
const LINK_HEADER_LEN: usize = 16;
const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_IFALIAS: u16 = 20;
const IFLA_LINK_NETNSID: u16 = 37;
/// Longest interface name the kernel takes (IFNAMSIZ less the NUL).
const MAX_IFNAME_LEN: usize = 15;

/// What weft needs to know of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    /// The interface index (ifindex), unique in its namespace and kept across renames.
    pub index: u32,
    /// The interface name, as `eth0` (at most 15 bytes).
    pub name: String,
    /// `bridge`, `veth`, ... (IFLA_INFO_KIND), if the link has one.
    pub kind: Option<String>,
    /// The MTU in bytes.
    pub mtu: u32,
    /// Administratively up (IFF_UP).
    pub up: bool,
    /// Index of the master (bridge) the link is enslaved to.
    pub master: Option<u32>,
    /// The hardware address (IFLA_ADDRESS), if the link has a 6-byte (Ethernet) one.
    pub mac: Option<[u8; 6]>,
    /// The link's alias (IFLA_IFALIAS): weft marks the links it owns with it.
    pub alias: Option<String>,
    /// For a link with a peer (a veth), the id of the namespace its peer is in, when that is not
    /// this one (IFLA_LINK_NETNSID).
    pub peer_netnsid: Option<i32>,
}

impl Netlink {
    /// All links of the socket's namespace.
    pub fn links(&mut self) -> Result<Vec<LinkInfo>> {
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        self.dump(RouteNetlinkMessage::GetLink(msg), parse_link).map_err(|nack| nack.at("list links"))
    }

    /// The link called `name`, if there is one (one RTM_GETLINK, not a dump).
    pub fn link_by_name(&mut self, name: &str) -> Result<Option<LinkInfo>> {
        if check_name(name).is_err() {
            // No link can carry a name the kernel would refuse.
            return Ok(None);
        }
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_string()));
        self.get_link(msg).map_err(|nack| nack.at(format!("look up link {name}")))
    }

    /// The link with this index, if there is one.
    pub fn link_by_index(&mut self, index: u32) -> Result<Option<LinkInfo>> {
        let msg = link_message(index, Vec::new());
        self.get_link(msg).map_err(|nack| nack.at(format!("look up link #{index}")))
    }

    /// Create a bridge, down, with the given MTU; returns its index.
    pub fn create_bridge(&mut self, name: &str, mtu: Option<u32>) -> Result<u32> {
        let op = || format!("create bridge {name}");
        check_name(name).map_err(|nack| nack.at(op()))?;
        let mut attributes = vec![LinkAttribute::IfName(name.to_string())];
        attributes.extend(mtu.map(LinkAttribute::Mtu));
        attributes.push(LinkAttribute::LinkInfo(vec![NlLinkInfo::Kind(InfoKind::Bridge)]));
        let msg = RouteNetlinkMessage::NewLink(link_message(0, attributes));
        // NLM_F_ECHO has the kernel send the new link back (Linux 6.3 and later), which saves a
        // lookup; older kernels ignore it and the index is looked up by name.
        let mut index = None;
        self.request(msg, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ECHO, |kind, payload| {
            if let Some(link) = parse_link(kind, payload).filter(|link| link.name == name) {
                index = Some(link.index);
            }
        })
        .map_err(|nack| nack.at(op()))?;
        if let Some(index) = index {
            return Ok(index);
        }
        match self.link_by_name(name)? {
            Some(link) => Ok(link.index),
            None => Err(Nack {
                errno: Some(libc::ENODEV),
                detail: "created, then gone before it could be looked up".into(),
            }
            .at(op())),
        }
    }

    /// Create a veth pair `host` <-> `peer`, both down, with the MTU and the peer's MAC if given.
    pub fn create_veth(&mut self, host: &str, peer: &str, mtu: Option<u32>, peer_mac: Option<[u8; 6]>) -> Result<()> {
        self.create_veth_into(host, peer, mtu, peer_mac, None)
    }

    /// Create a veth pair whose `peer` end is made directly inside `peer_ns` (when given): cheaper
    /// than making it here and moving it, which costs the kernel a second unregister/register.
    pub fn create_veth_into(
        &mut self,
        host: &str,
        peer: &str,
        mtu: Option<u32>,
        peer_mac: Option<[u8; 6]>,
        peer_ns: Option<&Netns>,
    ) -> Result<()> {
        let op = || format!("create veth pair {host} <-> {peer}");
        check_name(host).and_then(|()| check_name(peer)).map_err(|nack| nack.at(op()))?;
        let mut peer_attributes = vec![LinkAttribute::IfName(peer.to_string())];
        peer_attributes.extend(peer_ns.map(|ns| LinkAttribute::NetNsFd(ns.as_fd().as_raw_fd())));
        peer_attributes.extend(mtu.map(LinkAttribute::Mtu));
        peer_attributes.extend(peer_mac.map(|mac| LinkAttribute::Address(mac.to_vec())));
        let mut attributes = vec![LinkAttribute::IfName(host.to_string())];
        attributes.extend(mtu.map(LinkAttribute::Mtu));
        attributes.push(LinkAttribute::LinkInfo(vec![
            NlLinkInfo::Kind(InfoKind::Veth),
            NlLinkInfo::Data(InfoData::Veth(InfoVeth::Peer(link_message(0, peer_attributes)))),
        ]));
        let msg = RouteNetlinkMessage::NewLink(link_message(0, attributes));
        self.request(msg, NLM_F_CREATE | NLM_F_EXCL, |_, _| {}).map_err(|nack| nack.at(op()))
    }

    /// Delete a link by name (for a veth, both ends go).
    pub fn delete_link(&mut self, name: &str) -> Result<()> {
        let op = || format!("delete link {name}");
        check_name(name).map_err(|nack| nack.at(op()))?;
        let msg = link_message(0, vec![LinkAttribute::IfName(name.to_string())]);
        self.request(RouteNetlinkMessage::DelLink(msg), 0, |_, _| {}).map_err(|nack| nack.at(op()))
    }

    /// Delete a link by index (for a veth, both ends go).
    pub fn delete_index(&mut self, index: u32) -> Result<()> {
        let msg = link_message(index, Vec::new());
        self.request(RouteNetlinkMessage::DelLink(msg), 0, |_, _| {})
            .map_err(|nack| nack.at(format!("delete link {}", self.label(index))))
    }

    /// Bring the link up (IFF_UP).
    pub fn set_up(&mut self, index: u32) -> Result<()> {
        self.set_flags(index, LinkFlags::Up).map_err(|(nack, link)| nack.at(format!("set link {link} up")))
    }

    /// Take the link down.
    pub fn set_down(&mut self, index: u32) -> Result<()> {
        self.set_flags(index, LinkFlags::empty()).map_err(|(nack, link)| nack.at(format!("set link {link} down")))
    }

    /// Set the link's MTU.
    pub fn set_mtu(&mut self, index: u32, mtu: u32) -> Result<()> {
        self.set_link(index, LinkAttribute::Mtu(mtu))
            .map_err(|(nack, link)| nack.at(format!("set the MTU of link {link} to {mtu}")))
    }

    /// Enslave the link to `master` (a bridge); master 0 releases it from its master.
    pub fn set_master(&mut self, index: u32, master: u32) -> Result<()> {
        self.set_link(index, LinkAttribute::Controller(master)).map_err(|(nack, link)| {
            if master == 0 {
                nack.at(format!("release link {link} from its master"))
            } else {
                let master = self.label(master);
                nack.at(format!("attach link {link} to {master}"))
            }
        })
    }

    /// Turn a bridge port's hairpin mode on or off: with it on, the bridge may send a frame back
    /// out of the port it came in by (a container reaching its own published port through the
    /// host's address, when br_netfilter sends bridged traffic through the IP hooks).
    pub fn set_hairpin(&mut self, index: u32, on: bool) -> Result<()> {
        let info = vec![
            NlLinkInfo::PortKind(InfoPortKind::Bridge),
            NlLinkInfo::PortData(InfoPortData::BridgePort(vec![InfoBridgePort::HairpinMode(on)])),
        ];
        // RTM_SETLINK ignores IFLA_LINKINFO without a word: a port's options go in RTM_NEWLINK,
        // without NLM_F_CREATE, which changes the existing link.
        let msg = link_message(index, vec![LinkAttribute::LinkInfo(info)]);
        self.request(RouteNetlinkMessage::NewLink(msg), 0, |_, _| {}).map_err(|nack| {
            let link = self.label(index);
            nack.at(format!("set hairpin mode of bridge port {link} to {on}"))
        })
    }

    /// Rename the link (the kernel refuses this while the link is up).
    pub fn set_name(&mut self, index: u32, name: &str) -> Result<()> {
        if let Err(nack) = check_name(name) {
            let link = self.label(index);
            return Err(nack.at(format!("rename link {link} to {name}")));
        }
        self.set_link(index, LinkAttribute::IfName(name.to_string()))
            .map_err(|(nack, link)| nack.at(format!("rename link {link} to {name}")))
    }

    /// Set the link's MAC address.
    pub fn set_mac(&mut self, index: u32, mac: [u8; 6]) -> Result<()> {
        self.set_link(index, LinkAttribute::Address(mac.to_vec()))
            .map_err(|(nack, link)| nack.at(format!("set the MAC address of link {link} to {}", format_mac(&mac))))
    }

    /// Set the link's alias (IFLA_IFALIAS), a free-text label the kernel keeps with the link.
    pub fn set_alias(&mut self, index: u32, alias: &str) -> Result<()> {
        self.set_link(index, LinkAttribute::IfAlias(alias.to_string()))
            .map_err(|(nack, link)| nack.at(format!("set the alias of link {link} to {alias}")))
    }

    /// Move a link into another namespace (IFLA_NET_NS_FD).
    pub fn move_to_netns(&mut self, index: u32, ns: &Netns) -> Result<()> {
        self.set_link(index, LinkAttribute::NetNsFd(ns.as_fd().as_raw_fd()))
            .map_err(|(nack, link)| nack.at(format!("move link {link} to namespace {}", ns.label())))
    }

    /// One RTM_GETLINK for one link; ENODEV is "no such link".
    fn get_link(&mut self, mut msg: LinkMessage) -> std::result::Result<Option<LinkInfo>, Nack> {
        msg.attributes.push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
        let mut found = None;
        match self.request(RouteNetlinkMessage::GetLink(msg), 0, |kind, payload| {
            if let Some(link) = parse_link(kind, payload) {
                found = Some(link);
            }
        }) {
            Ok(()) => Ok(found),
            Err(nack) if nack.errno == Some(libc::ENODEV) => Ok(None),
            Err(nack) => Err(nack),
        }
    }

    /// RTM_SETLINK of one attribute; on failure, also the link's name for the message.
    fn set_link(&mut self, index: u32, attribute: LinkAttribute) -> std::result::Result<(), (Nack, String)> {
        let msg = link_message(index, vec![attribute]);
        self.request(RouteNetlinkMessage::SetLink(msg), 0, |_, _| {}).map_err(|nack| (nack, self.label(index)))
    }

    /// RTM_SETLINK of the IFF_UP flag to `flags`' value.
    fn set_flags(&mut self, index: u32, flags: LinkFlags) -> std::result::Result<(), (Nack, String)> {
        let mut msg = link_message(index, Vec::new());
        msg.header.flags = flags;
        msg.header.change_mask = LinkFlags::Up;
        self.request(RouteNetlinkMessage::SetLink(msg), 0, |_, _| {}).map_err(|nack| (nack, self.label(index)))
    }

    /// A link's name for an error message (one extra round trip, on the error path only).
    pub(super) fn label(&mut self, index: u32) -> String {
        match self.link_by_index(index) {
            Ok(Some(link)) => link.name,
            _ => format!("#{index}"),
        }
    }
}

fn link_message(index: u32, attributes: Vec<LinkAttribute>) -> LinkMessage {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    msg.attributes = attributes;
    msg
}

/// The kernel refuses names longer than 15 bytes, empty ones, and ones with '/', ':', or blanks.
fn check_name(name: &str) -> std::result::Result<(), Nack> {
    if name.is_empty() || name.len() > MAX_IFNAME_LEN {
        return Err(Nack::invalid(format!(
            "an interface name has 1 to {MAX_IFNAME_LEN} bytes, `{name}` has {}",
            name.len()
        )));
    }
    if name == "." || name == ".." || name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace() || c == '\0') {
        return Err(Nack::invalid(format!("`{name}` is not a valid interface name")));
    }
    Ok(())
}

/// A link of an RTM_NEWLINK reply. Only the attributes weft reads are decoded, each on its own, so
/// an attribute this library version cannot decode does not lose the link.
pub(super) fn parse_link(kind: u16, payload: &[u8]) -> Option<LinkInfo> {
    if kind != RTM_NEWLINK {
        return None;
    }
    let header = LinkHeader::parse(payload).ok()?;
    let mut link = LinkInfo {
        index: header.index,
        name: String::new(),
        kind: None,
        mtu: 0,
        up: header.flags.contains(LinkFlags::Up),
        master: None,
        mac: None,
        alias: None,
        peer_netnsid: None,
    };
    for nla in NlasIterator::new(payload.get(LINK_HEADER_LEN..)?) {
        let Ok(nla) = nla else { break };
        if !matches!(
            nla.kind(),
            IFLA_ADDRESS | IFLA_IFNAME | IFLA_MTU | IFLA_MASTER | IFLA_LINKINFO | IFLA_IFALIAS | IFLA_LINK_NETNSID
        ) {
            continue;
        }
        let Ok(attribute) = LinkAttribute::parse_with_param(&nla, header.interface_family) else { continue };
        match attribute {
            LinkAttribute::IfName(name) => link.name = name,
            LinkAttribute::Mtu(mtu) => link.mtu = mtu,
            LinkAttribute::Controller(master) => link.master = (master != 0).then_some(master),
            LinkAttribute::Address(mac) => link.mac = <[u8; 6]>::try_from(mac.as_slice()).ok(),
            LinkAttribute::IfAlias(alias) => link.alias = Some(alias).filter(|a| !a.is_empty()),
            LinkAttribute::LinkNetNsId(id) => link.peer_netnsid = Some(id),
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    if let NlLinkInfo::Kind(kind) = info {
                        link.kind = Some(kind.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    Some(link)
}

pub(super) fn format_mac(mac: &[u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}
