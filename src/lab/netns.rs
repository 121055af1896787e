//! A lab network where links can really be cut: each drnode in its own network namespace, one
//! veth per node to a bridge in the root namespace (which holds an address, so drctl reaches every
//! node), addresses in a private 10.x.y.0/24 unused on this host.
//!
//! A cut link is a /32 route to a "sink": a veth whose peer is down, with ARP off. Packets routed
//! there are dropped silently, as on a cut cable: the sender sees no error, only silence, and the
//! node on the other side receives nothing. Every name carries the owner (pid and start time), so
//! the leftovers of a killed drill can be told from a running one and swept.

use std::collections::{BTreeSet, HashSet};
use std::net::Ipv4Addr;
use std::process::Command;

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::owner::Owner;
use super::LabError;

/// The endpoint that stands for drctl itself (the root namespace) in a cut.
pub const DRCTL: &str = "drctl";
/// The port every node listens on, each at its own address.
pub const PORT: u16 = 7443;
const ALIAS: &str = "drctl-lab";
const NS_PREFIX: &str = "drctl-";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Net {
    pub id: String,
    pub owner: Owner,
    /// The /24 is 10.{0}.{1}.0.
    pub subnet: [u8; 2],
    pub bridge: String,
    pub sink: String,
    pub nodes: Vec<NetNode>,
    /// Cut links, each pair in name order.
    #[serde(default)]
    pub cuts: BTreeSet<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetNode {
    pub name: String,
    pub netns: String,
    pub veth: String,
    pub addr: Ipv4Addr,
}

fn failed(what: String) -> LabError {
    LabError::Failed(what)
}

/// Runs `ip ARGS`; the error names the command and what `ip` said.
fn ip(args: &[&str]) -> Result<String, LabError> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| failed(format!("cannot run `ip {}`: {e}", args.join(" "))))?;
    if !out.status.success() {
        return Err(failed(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Why this machine cannot build a namespaced lab, or None if it can (tried for real: a probe
/// namespace is made and deleted).
pub fn unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("needs root to make network namespaces (run the drill as root)".into());
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("needs `ip` (Debian: apt-get install iproute2)".into());
    }
    let probe = format!("{NS_PREFIX}{}-probe", Owner::me().tag());
    if let Err(e) = ip(&["netns", "add", &probe]) {
        return Some(format!("cannot make a network namespace here: {e}"));
    }
    let _ = ip(&["netns", "del", &probe]);
    None
}

/// The /24s (10.x.y) that addresses on this host already use.
fn used_subnets() -> Result<HashSet<[u8; 2]>, LabError> {
    let text = ip(&["-j", "-4", "addr", "show"])?;
    let links: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| failed(format!("cannot read `ip -j addr show`: {e}")))?;
    let mut used = HashSet::new();
    for link in links.as_array().into_iter().flatten() {
        for a in link["addr_info"].as_array().into_iter().flatten() {
            if let Some(addr) = a["local"].as_str().and_then(|s| s.parse::<Ipv4Addr>().ok()) {
                let o = addr.octets();
                if o[0] == 10 {
                    used.insert([o[1], o[2]]);
                }
            }
        }
    }
    Ok(used)
}

impl Net {
    /// Builds the network for `names` (node-1 gets .1, ...); removes what it made if it fails.
    pub fn create(owner: Owner, names: &[String]) -> Result<Net, LabError> {
        let id: String = format!("{:06x}", rand::rng().random_range(0..0x100_0000u32));
        let tag = owner.tag();
        let mut net = Net {
            bridge: format!("drb{id}"),
            sink: format!("drs{id}"),
            nodes: names
                .iter()
                .enumerate()
                .map(|(i, n)| NetNode {
                    name: n.clone(),
                    netns: format!("{NS_PREFIX}{tag}-{id}-{n}"),
                    veth: format!("drv{id}{}", i + 1),
                    addr: Ipv4Addr::UNSPECIFIED,
                })
                .collect(),
            id,
            owner,
            subnet: [0, 0],
            cuts: BTreeSet::new(),
        };
        match net.build() {
            Ok(()) => Ok(net),
            Err(e) => {
                let _ = net.delete();
                Err(e)
            }
        }
    }

    fn build(&mut self) -> Result<(), LabError> {
        let alias = format!("{ALIAS} {}", self.owner.tag());
        // Namespaces first: they carry the owner, and a bridge is swept only with its alias.
        for n in &self.nodes {
            ip(&["netns", "add", &n.netns])?;
        }
        ip(&["link", "add", &self.bridge, "type", "bridge"])?;
        ip(&["link", "set", &self.bridge, "alias", &alias])?;
        self.claim_subnet()?;
        ip(&["link", "set", &self.bridge, "up"])?;
        let peer = format!("drt{}", self.id);
        ip(&[
            "link", "add", &self.sink, "type", "veth", "peer", "name", &peer,
        ])?;
        ip(&["link", "set", &self.sink, "alias", &alias])?;
        ip(&["link", "set", &self.sink, "arp", "off", "up"])?;
        for (i, n) in self.nodes.iter_mut().enumerate() {
            n.addr = Ipv4Addr::new(10, self.subnet[0], self.subnet[1], i as u8 + 1);
            let inner = format!("drp{}{}", self.id, i + 1);
            let cidr = format!("{}/24", n.addr);
            ip(&[
                "link", "add", &n.veth, "type", "veth", "peer", "name", &inner,
            ])?;
            ip(&["link", "set", &n.veth, "alias", &alias])?;
            ip(&["link", "set", &inner, "netns", &n.netns, "name", "eth0"])?;
            ip(&["link", "set", &n.veth, "master", &self.bridge, "up"])?;
            let ns = n.netns.as_str();
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
            ip(&["-n", ns, "addr", "add", &cidr, "dev", "eth0"])?;
            ip(&["-n", ns, "link", "set", "eth0", "up"])?;
            ip(&[
                "-n", ns, "link", "add", "cut0", "type", "veth", "peer", "name", "cut1",
            ])?;
            ip(&["-n", ns, "link", "set", "cut0", "arp", "off", "up"])?;
        }
        Ok(())
    }

    /// Gives the bridge .254 of a random 10.x.y.0/24 no address on this host uses; if another
    /// lab took the same /24 at the same moment, one of them moves on.
    fn claim_subnet(&mut self) -> Result<(), LabError> {
        let mut rng = rand::rng();
        for _ in 0..64 {
            let s = [rng.random_range(128..=191u8), rng.random_range(0..=255u8)];
            if used_subnets()?.contains(&s) {
                continue;
            }
            let cidr = format!("10.{}.{}.254/24", s[0], s[1]);
            ip(&["addr", "add", &cidr, "dev", &self.bridge])?;
            let others = ip(&["-o", "-4", "addr", "show"])?;
            let prefix = format!(" 10.{}.{}.", s[0], s[1]);
            let holders = others
                .lines()
                .filter(|l| l.contains(&prefix) && !l.contains(&format!(" {} ", self.bridge)))
                .count();
            if holders == 0 {
                self.subnet = s;
                return Ok(());
            }
            ip(&["addr", "del", &cidr, "dev", &self.bridge])?;
        }
        Err(failed(
            "no free 10.x.y.0/24 for the lab network after 64 tries".into(),
        ))
    }

    /// drctl's address on the lab network (the bridge).
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, self.subnet[0], self.subnet[1], 254)
    }

    pub fn node(&self, name: &str) -> Option<&NetNode> {
        self.nodes.iter().find(|n| n.name == name)
    }

    fn addr_of(&self, end: &str) -> Result<Ipv4Addr, LabError> {
        if end == DRCTL {
            return Ok(self.gateway());
        }
        self.node(end)
            .map(|n| n.addr)
            .ok_or_else(|| failed(format!("no lab node {end}")))
    }

    /// The command prefix that runs a program inside the node's namespace (`ip` execs it, so the
    /// process started is the program itself).
    pub fn exec_prefix(&self, name: &str) -> Option<Vec<String>> {
        self.node(name).map(|n| {
            ["ip", "netns", "exec", n.netns.as_str()]
                .iter()
                .map(|s| s.to_string())
                .collect()
        })
    }

    /// Routes `end`'s packets for `to` into its sink (or back to the lab network).
    fn route(&self, end: &str, to: &str, cut: bool) -> Result<(), LabError> {
        let dest = format!("{}/32", self.addr_of(to)?);
        let verb = if cut { "replace" } else { "del" };
        let result = if end == DRCTL {
            ip(&["route", verb, &dest, "dev", &self.sink])
        } else {
            let ns = &self.node(end).expect("checked by addr_of").netns;
            ip(&["-n", ns, "route", verb, &dest, "dev", "cut0"])
        };
        match result {
            // Healing a link that is not cut is done already.
            Err(LabError::Failed(m)) if !cut && m.contains("No such process") => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Cuts the link between `a` and `b` (lab nodes or `drctl`) in both directions.
    pub fn cut(&mut self, a: &str, b: &str) -> Result<(), LabError> {
        self.addr_of(a)?;
        self.addr_of(b)?;
        if a == b {
            return Err(failed(format!("cannot cut {a} from itself")));
        }
        self.route(a, b, true)?;
        self.route(b, a, true)?;
        self.cuts.insert(pair(a, b));
        Ok(())
    }

    /// Restores the link between `a` and `b`.
    pub fn heal(&mut self, a: &str, b: &str) -> Result<(), LabError> {
        self.route(a, b, false)?;
        self.route(b, a, false)?;
        self.cuts.remove(&pair(a, b));
        Ok(())
    }

    /// Every endpoint other than `end`: the other nodes and drctl.
    pub fn others(&self, end: &str) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| n.name.clone())
            .chain([DRCTL.to_string()])
            .filter(|n| n != end)
            .collect()
    }

    /// Removes the namespaces (ending what still runs in them) and the links. Tries everything,
    /// then reports the first failure.
    pub fn delete(&self) -> Result<(), LabError> {
        let mut first = None;
        let existing = namespaces();
        for n in &self.nodes {
            if existing.contains(&n.netns) {
                if let Err(e) = delete_namespace(&n.netns) {
                    first.get_or_insert(e);
                }
            }
        }
        // A namespace lives on while something holds it (orphaned sockets of a cut node can, for
        // minutes), and its veth with it: the host ends are deleted by name.
        let veths = self.nodes.iter().map(|n| &n.veth);
        for link in veths.chain([&self.bridge, &self.sink]) {
            if let Err(e) = delete_link(link) {
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

fn pair(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.into(), b.into())
    } else {
        (b.into(), a.into())
    }
}

fn namespaces() -> Vec<String> {
    ip(&["netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

fn delete_namespace(ns: &str) -> Result<(), LabError> {
    // A process left inside would keep the namespace (and its veth) alive.
    for pid in ip(&["netns", "pids", ns]).unwrap_or_default().lines() {
        if let Ok(pid) = pid.trim().parse::<i32>() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    ip(&["netns", "del", ns]).map(|_| ())
}

fn delete_link(link: &str) -> Result<(), LabError> {
    match ip(&["link", "del", link]) {
        Err(LabError::Failed(m)) if m.contains("Cannot find device") => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Removes the namespaces and links of lab networks whose owner is gone; returns what it removed.
/// Does nothing (and says nothing) where `ip` cannot run.
pub fn sweep_stale() -> Vec<String> {
    let mut swept = Vec::new();
    // Links before namespaces: a lab makes its namespaces first, so a link seen here has its
    // namespaces listed below unless they are being deleted.
    let links = ip(&["-j", "link", "show"]).unwrap_or_default();
    let links: serde_json::Value = serde_json::from_str(&links).unwrap_or_default();
    for link in links.as_array().into_iter().flatten() {
        let (Some(name), Some(alias)) = (link["ifname"].as_str(), link["ifalias"].as_str()) else {
            continue;
        };
        let Some(owner) = alias
            .strip_prefix(ALIAS)
            .and_then(|t| Owner::parse_tag(t.trim()))
        else {
            continue;
        };
        if !owner.alive() && delete_link(name).is_ok() {
            swept.push(format!("link {name} (owner {owner} is gone)"));
        }
    }
    for ns in namespaces() {
        let Some(owner) = ns
            .strip_prefix(NS_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(Owner::parse_tag)
        else {
            continue;
        };
        if !owner.alive() && delete_namespace(&ns).is_ok() {
            swept.push(format!("network namespace {ns} (owner {owner} is gone)"));
        }
    }
    swept
}
