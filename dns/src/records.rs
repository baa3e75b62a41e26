//! The names the resolvers answer for: per network, each endpoint's container name, network
//! aliases and short container id (plain and as `name.network`) to its addresses, and each address
//! back to `container.network` for PTR; per sandbox, the networks it may see.
//!
//! Read-mostly: every query reads, only container start/stop/connect/disconnect writes. Writers
//! take a mutex over the endpoint list, rebuild the index of the network that changed, and publish
//! a new [`Snapshot`] through an `ArcSwap`. A reader's `load` is a few atomic operations with no
//! lock and no write to a shared cache line in the common case, so resolvers of many sandboxes on
//! both cores never contend with each other or wait behind a writer, and a change is seen by the
//! next query. A rebuild costs O(endpoints on that network + networks + sandboxes), which is cheap
//! next to the netlink work of the container operation that caused it.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwap, Guard};
use libnet::{EndpointId, NetworkId, SandboxId};

/// One endpoint as DNS sees it: who it is, where it is, and its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRecord {
    pub endpoint: EndpointId,
    /// The sandbox the endpoint is joined to.
    pub sandbox: SandboxId,
    pub network: NetworkId,
    pub network_name: String,
    /// An internal network: its sandboxes' queries are not forwarded to the host's servers.
    pub internal: bool,
    pub container_name: String,
    /// The first 12 hex digits of the container id.
    pub short_id: String,
    /// `--network-alias` / `connect --alias` on this network.
    pub aliases: Vec<String>,
    pub addrs: Vec<IpAddr>,
}

/// The answers of one network.
#[derive(Debug, Default)]
struct NetIndex {
    /// Lowercase name without the trailing dot, to every address it has on this network.
    names: HashMap<Box<str>, Vec<IpAddr>>,
    /// Address to `container.network.`.
    ptr: HashMap<IpAddr, Box<str>>,
    internal: bool,
}

impl NetIndex {
    fn build<'a>(endpoints: impl Iterator<Item = &'a EndpointRecord>) -> NetIndex {
        let mut index = NetIndex::default();
        for ep in endpoints {
            index.internal = ep.internal;
            let network = ep.network_name.to_ascii_lowercase();
            let plain = std::iter::once(&ep.container_name).chain(&ep.aliases).chain(std::iter::once(&ep.short_id));
            for name in plain.filter(|n| !n.is_empty()) {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                for key in [format!("{name}.{network}"), name] {
                    let addrs = index.names.entry(key.into_boxed_str()).or_default();
                    for a in &ep.addrs {
                        if !addrs.contains(a) {
                            addrs.push(*a);
                        }
                    }
                }
            }
            for a in &ep.addrs {
                index.ptr.entry(*a).or_insert_with(|| format!("{}.{}.", ep.container_name, ep.network_name).into());
            }
        }
        index
    }
}

/// What a sandbox sees.
#[derive(Debug, Clone, Default)]
struct SandboxNetworks {
    networks: Vec<NetworkId>,
}

/// One published state of the table; queries read it without locking.
#[derive(Debug, Default)]
pub struct Snapshot {
    networks: HashMap<NetworkId, Arc<NetIndex>>,
    sandboxes: HashMap<SandboxId, Arc<SandboxNetworks>>,
}

/// What a name is in a sandbox's view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameLookup<'a> {
    /// Not a name of any network the sandbox is on.
    Unknown,
    /// A local name: its addresses on every network the sandbox shares with it, in table order.
    Found(Vec<&'a [IpAddr]>),
}

/// The networks one sandbox sees in one snapshot, found once for a batch of its queries.
#[derive(Debug)]
pub struct View<'a> {
    indexes: Vec<&'a NetIndex>,
}

impl<'a> View<'a> {
    /// The addresses of `name` (lowercase, no trailing dot) on each of the sandbox's networks that
    /// has it, in the order of [`Snapshot::lookup`].
    pub fn lookup_sets<'b>(&'b self, name: &'b str) -> impl Iterator<Item = &'a [IpAddr]> + 'b {
        self.indexes.iter().filter_map(move |i| i.names.get(name)).map(|v| &v[..])
    }
}

impl Snapshot {
    /// What `sandbox` sees, for several lookups.
    pub fn view(&self, sandbox: &SandboxId) -> View<'_> {
        View { indexes: self.indexes(sandbox).collect() }
    }

    fn indexes<'a>(&'a self, sandbox: &SandboxId) -> impl Iterator<Item = &'a NetIndex> + 'a {
        let nets = self.sandboxes.get(sandbox).map(|s| s.networks.as_slice()).unwrap_or(&[]);
        nets.iter().filter_map(|n| self.networks.get(n)).map(|i| i.as_ref())
    }

    /// Look up `name` (lowercase, no trailing dot) as `sandbox` sees it.
    pub fn lookup(&self, sandbox: &SandboxId, name: &str) -> NameLookup<'_> {
        let found: Vec<&[IpAddr]> = self.indexes(sandbox).filter_map(|i| i.names.get(name)).map(|v| &v[..]).collect();
        if found.is_empty() {
            NameLookup::Unknown
        } else {
            NameLookup::Found(found)
        }
    }

    /// The name of `addr` on a network `sandbox` is on: `container.network.`.
    pub fn reverse(&self, sandbox: &SandboxId, addr: IpAddr) -> Option<&str> {
        self.indexes(sandbox).find_map(|i| i.ptr.get(&addr)).map(|s| &**s)
    }

    /// Whether `sandbox` is on at least one network and all of them are internal: then nothing
    /// may be forwarded to the host's servers.
    pub fn internal_only(&self, sandbox: &SandboxId) -> bool {
        let mut any = false;
        for i in self.indexes(sandbox) {
            if !i.internal {
                return false;
            }
            any = true;
        }
        any
    }

    /// Whether the sandbox has any endpoint in the table.
    pub fn has_sandbox(&self, sandbox: &SandboxId) -> bool {
        self.sandboxes.contains_key(sandbox)
    }
}

/// The writers' side: every endpoint, grouped by network.
#[derive(Debug, Default)]
struct Endpoints {
    by_network: HashMap<NetworkId, BTreeMap<EndpointId, EndpointRecord>>,
    /// Endpoint to its network, to remove by endpoint id alone.
    network_of: HashMap<EndpointId, NetworkId>,
}

/// The table. Cheap to share (`Arc`); see the module docs for the locking.
#[derive(Debug, Default)]
pub struct Records {
    endpoints: Mutex<Endpoints>,
    published: ArcSwap<Snapshot>,
}

impl Records {
    pub fn new() -> Records {
        Records::default()
    }

    /// The current state, for one query.
    pub fn snapshot(&self) -> Guard<Arc<Snapshot>> {
        self.published.load()
    }

    /// Add an endpoint, or replace it (new aliases or addresses).
    pub fn upsert(&self, record: EndpointRecord) {
        let mut eps = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        let mut touched = vec![record.network.clone()];
        let mut sandboxes = vec![record.sandbox.clone()];
        if let Some(old_net) = eps.network_of.insert(record.endpoint.clone(), record.network.clone()) {
            if let Some(old) = eps.by_network.get_mut(&old_net).and_then(|m| m.remove(&record.endpoint)) {
                sandboxes.push(old.sandbox);
            }
            touched.push(old_net);
        }
        eps.by_network.entry(record.network.clone()).or_default().insert(record.endpoint.clone(), record);
        self.publish(&mut eps, &touched, &sandboxes);
    }

    /// Remove an endpoint; unknown ones are ignored.
    pub fn remove(&self, endpoint: &EndpointId) {
        let mut eps = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        let Some(net) = eps.network_of.remove(endpoint) else { return };
        let Some(old) = eps.by_network.get_mut(&net).and_then(|m| m.remove(endpoint)) else { return };
        self.publish(&mut eps, &[net], &[old.sandbox]);
    }

    /// Replace every endpoint of `sandbox` with `records` (all of that sandbox), in one update.
    pub fn set_sandbox(&self, sandbox: &SandboxId, records: Vec<EndpointRecord>) {
        let mut eps = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        let mut touched = Vec::new();
        for (net, members) in eps.by_network.iter_mut() {
            let before = members.len();
            members.retain(|_, r| &r.sandbox != sandbox);
            if members.len() != before {
                touched.push(net.clone());
            }
        }
        for mut r in records {
            r.sandbox = sandbox.clone();
            touched.push(r.network.clone());
            eps.network_of.insert(r.endpoint.clone(), r.network.clone());
            eps.by_network.entry(r.network.clone()).or_default().insert(r.endpoint.clone(), r);
        }
        let live: std::collections::HashSet<EndpointId> =
            eps.by_network.values().flat_map(|m| m.keys().cloned()).collect();
        eps.network_of.retain(|id, _| live.contains(id));
        touched.sort();
        touched.dedup();
        self.publish(&mut eps, &touched, std::slice::from_ref(sandbox));
    }

    /// Remove every endpoint of a sandbox; the endpoint ids removed.
    pub fn remove_sandbox(&self, sandbox: &SandboxId) -> Vec<EndpointId> {
        let mut eps = self.endpoints.lock().unwrap_or_else(|p| p.into_inner());
        let mut removed = Vec::new();
        let mut touched = Vec::new();
        for (net, members) in eps.by_network.iter_mut() {
            let before = members.len();
            members.retain(|id, r| {
                let keep = &r.sandbox != sandbox;
                if !keep {
                    removed.push(id.clone());
                }
                keep
            });
            if members.len() != before {
                touched.push(net.clone());
            }
        }
        for id in &removed {
            eps.network_of.remove(id);
        }
        if !removed.is_empty() {
            self.publish(&mut eps, &touched, std::slice::from_ref(sandbox));
        }
        removed
    }

    /// Rebuild the indexes of `networks` and the views of `sandboxes`, and publish.
    fn publish(&self, eps: &mut Endpoints, networks: &[NetworkId], sandboxes: &[SandboxId]) {
        let old = self.published.load_full();
        let mut next = Snapshot { networks: old.networks.clone(), sandboxes: old.sandboxes.clone() };
        for net in networks {
            match eps.by_network.get(net) {
                Some(members) if !members.is_empty() => {
                    next.networks.insert(net.clone(), Arc::new(NetIndex::build(members.values())));
                }
                _ => {
                    eps.by_network.remove(net);
                    next.networks.remove(net);
                }
            }
        }
        for sb in sandboxes {
            let mut networks: Vec<NetworkId> = eps
                .by_network
                .iter()
                .filter(|(_, m)| m.values().any(|r| &r.sandbox == sb))
                .map(|(n, _)| n.clone())
                .collect();
            networks.sort();
            if networks.is_empty() {
                next.sandboxes.remove(sb);
            } else {
                next.sandboxes.insert(sb.clone(), Arc::new(SandboxNetworks { networks }));
            }
        }
        self.published.store(Arc::new(next));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    pub(crate) fn record(
        ep: &str,
        sb: &str,
        net: &str,
        name: &str,
        aliases: &[&str],
        addrs: &[&str],
    ) -> EndpointRecord {
        EndpointRecord {
            endpoint: EndpointId::from_string(ep),
            sandbox: SandboxId::from_string(sb),
            network: NetworkId::from_string(format!("id-{net}")),
            network_name: net.to_string(),
            internal: false,
            container_name: name.to_string(),
            short_id: format!("{name:0>12}").chars().take(12).collect(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            addrs: addrs.iter().map(|a| ip(a)).collect(),
        }
    }

    fn addrs(s: &Snapshot, sb: &str, name: &str) -> Option<Vec<IpAddr>> {
        match s.lookup(&SandboxId::from_string(sb), name) {
            NameLookup::Unknown => None,
            NameLookup::Found(v) => Some(v.into_iter().flatten().copied().collect()),
        }
    }

    #[test]
    fn names_aliases_short_ids_and_network_suffix() {
        let r = Records::new();
        r.upsert(record("e1", "s1", "app", "DB", &["database"], &["10.0.0.2", "fd00::2"]));
        r.upsert(record("e2", "s2", "app", "web", &[], &["10.0.0.3"]));
        let s = r.snapshot();
        let both = Some(vec![ip("10.0.0.2"), ip("fd00::2")]);
        assert_eq!(addrs(&s, "s2", "db"), both);
        assert_eq!(addrs(&s, "s2", "database"), both);
        assert_eq!(addrs(&s, "s2", "db.app"), both);
        assert_eq!(addrs(&s, "s2", "database.app"), both);
        assert_eq!(addrs(&s, "s2", "0000000000db"), both, "short id");
        assert_eq!(addrs(&s, "s1", "web"), Some(vec![ip("10.0.0.3")]), "the other way too");
        assert_eq!(addrs(&s, "s1", "nope"), None);
        assert_eq!(s.reverse(&SandboxId::from_string("s2"), ip("fd00::2")), Some("DB.app."));
    }

    #[test]
    fn a_sandbox_sees_only_its_networks() {
        let r = Records::new();
        r.upsert(record("e1", "s1", "front", "a", &[], &["10.1.0.2"]));
        r.upsert(record("e2", "s2", "back", "b", &[], &["10.2.0.2"]));
        r.upsert(record("e3", "s3", "front", "c", &[], &["10.1.0.3"]));
        r.upsert(record("e4", "s3", "back", "c", &[], &["10.2.0.3"]));
        let s = r.snapshot();
        assert_eq!(addrs(&s, "s1", "b"), None);
        assert_eq!(s.reverse(&SandboxId::from_string("s1"), ip("10.2.0.2")), None);
        assert_eq!(addrs(&s, "s3", "b"), Some(vec![ip("10.2.0.2")]));
        // c is on both of s3's networks; s1 shares only front with it.
        assert_eq!(addrs(&s, "s1", "c"), Some(vec![ip("10.1.0.3")]));
        assert_eq!(addrs(&s, "s9", "a"), None, "an unknown sandbox sees nothing");
    }

    #[test]
    fn updates_are_seen_at_once() {
        let r = Records::new();
        r.upsert(record("e1", "s1", "app", "a", &["x"], &["10.0.0.2"]));
        r.upsert(record("e2", "s2", "app", "b", &["x"], &["10.0.0.3"]));
        assert_eq!(addrs(&r.snapshot(), "s1", "x").map(|v| v.len()), Some(2));
        r.upsert(record("e2", "s2", "app", "b", &["y"], &["10.0.0.3"]));
        assert_eq!(addrs(&r.snapshot(), "s1", "x"), Some(vec![ip("10.0.0.2")]));
        assert_eq!(addrs(&r.snapshot(), "s1", "y"), Some(vec![ip("10.0.0.3")]));
        r.remove(&EndpointId::from_string("e2"));
        assert_eq!(addrs(&r.snapshot(), "s1", "b"), None);
        assert!(!r.snapshot().has_sandbox(&SandboxId::from_string("s2")));
        assert_eq!(r.remove_sandbox(&SandboxId::from_string("s1")), vec![EndpointId::from_string("e1")]);
        let s = r.snapshot();
        assert!(s.networks.is_empty() && s.sandboxes.is_empty(), "nothing left: {s:?}");
    }

    #[test]
    fn a_sandbox_is_replaced_whole() {
        let r = Records::new();
        r.upsert(record("e1", "s1", "front", "a", &[], &["10.1.0.2"]));
        r.upsert(record("e2", "s1", "back", "a", &[], &["10.2.0.2"]));
        r.upsert(record("e3", "s2", "back", "b", &[], &["10.2.0.3"]));
        r.set_sandbox(&SandboxId::from_string("s1"), vec![record("e1", "s1", "front", "a", &["x"], &["10.1.0.2"])]);
        let s = r.snapshot();
        assert_eq!(addrs(&s, "s2", "a"), None, "gone from back");
        assert_eq!(addrs(&s, "s1", "x"), Some(vec![ip("10.1.0.2")]));
        assert_eq!(addrs(&s, "s1", "b"), None, "s1 left back");
        r.set_sandbox(&SandboxId::from_string("s1"), vec![]);
        assert!(!r.snapshot().has_sandbox(&SandboxId::from_string("s1")));
        assert!(r.snapshot().has_sandbox(&SandboxId::from_string("s2")));
    }

    #[test]
    fn internal_only_needs_every_network_internal() {
        let r = Records::new();
        let mut a = record("e1", "s1", "int", "a", &[], &["10.0.0.2"]);
        a.internal = true;
        r.upsert(a);
        assert!(r.snapshot().internal_only(&SandboxId::from_string("s1")));
        r.upsert(record("e2", "s1", "ext", "a", &[], &["10.1.0.2"]));
        assert!(!r.snapshot().internal_only(&SandboxId::from_string("s1")));
        assert!(!r.snapshot().internal_only(&SandboxId::from_string("s9")));
    }
}
