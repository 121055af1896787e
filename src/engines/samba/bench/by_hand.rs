//! The by-hand side of `lab bench --kind samba-ad`: the commands an operator types from the lab
//! notes (`shared/engine-labs/samba-ad/README.md` §5.3, §6.1, P8, P16, P17; `lab.sh`'s `seize`,
//! `cleanup`, `st` and `priv`), each on the DC's host (the cluster file's `command_prefix`,
//! `ip netns exec`) with its smb.conf, ldapsearch on its root-only `ldap_priv/ldapi` socket,
//! `host` from the lab's client; each phase timed.

use std::ops::ControlFlow::{Break, Continue};
use std::process::Command;
use std::time::{Duration, Instant};

use super::super::host::command_on;
use super::super::lab::{SambaLab, CLIENT};
use super::super::{Access, DcNode};
use super::DEADLINE;
use crate::engines::bench::{fail, Phase, Timed};
use crate::lab::LabError;
use crate::util::poll;

/// The roles `samba-tool fsmo show` lists, one line each.
const ROLES: usize = super::super::probe::ROLES.len();

/// The operator at the keyboard, and a clock per phase.
pub(super) struct Hand {
    nodes: Vec<DcNode>,
    /// Where `host` runs: the lab's client.
    client: String,
    /// The DNS domain (`sdc.test`) and its DN (`DC=sdc,DC=test`).
    domain: String,
    base: String,
    started: Instant,
    lap_start: Instant,
    phases: Vec<Phase>,
}

impl Hand {
    pub(super) fn new(lab: &SambaLab) -> Result<Hand, LabError> {
        let nodes = lab.dc_nodes()?;
        let domain = nodes
            .first()
            .map(|n| n.realm.to_ascii_lowercase())
            .unwrap_or_default();
        let base = domain
            .split('.')
            .map(|p| format!("DC={p}"))
            .collect::<Vec<_>>()
            .join(",");
        let now = Instant::now();
        Ok(Hand {
            nodes,
            client: lab.netns(CLIENT),
            domain,
            base,
            started: now,
            lap_start: now,
            phases: Vec::new(),
        })
    }

    /// Ends the running phase, named.
    fn lap(&mut self, what: impl Into<String>) {
        let ms = self.lap_start.elapsed().as_millis() as u64;
        self.lap_start = Instant::now();
        self.phases.push(Phase {
            what: what.into(),
            ms,
        });
    }

    fn node(&self, dc: &str) -> Result<&DcNode, LabError> {
        self.nodes
            .iter()
            .find(|n| n.name == dc)
            .ok_or_else(|| fail(format!("by hand: no DC {dc} in the lab")))
    }

    /// The DCs other than `a` and `b`.
    fn others(&self, a: &str, b: &str) -> Vec<String> {
        let names = self.nodes.iter().map(|n| n.name.clone());
        names.filter(|n| n != a && n != b).collect()
    }

    /// Runs a shell command line as typed (bounded to 2 minutes); its stdout, or an error with
    /// its last complaint.
    fn sh(line: &str) -> Result<String, LabError> {
        let out = Command::new("timeout")
            .args(["120", "sh", "-c", line])
            .output()
            .map_err(|e| fail(format!("by hand: {line}: {e}")))?;
        let said = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        if out.status.success() {
            return Ok(said(&out.stdout));
        }
        let err = said(&out.stderr);
        let why = err
            .lines()
            .rfind(|l| !l.contains("setproctitle") && !l.trim().is_empty())
            .unwrap_or_default();
        Err(fail(format!("by hand: {line} ({}): {why}", out.status)))
    }

    /// `PROGRAM ARGS` on `dc`'s host with its smb.conf (`samba-tool fsmo show`).
    fn on(&self, dc: &str, program_args: &str) -> Result<String, LabError> {
        Self::sh(&command_on(self.node(dc)?, program_args))
    }

    /// Whether `dc`'s own `samba-tool fsmo show` names `holder` for the 7 roles.
    fn shows_holder(&self, dc: &str, holder: &str) -> Result<bool, LabError> {
        let out = self.on(dc, "samba-tool fsmo show")?.to_ascii_lowercase();
        let owner = format!(
            "owner: cn=ntds settings,cn={},",
            holder.to_ascii_lowercase()
        );
        Ok(out.lines().filter(|l| l.contains(&owner)).count() == ROLES)
    }

    /// `samba-tool drs replicate DST SRC NC` of every naming context, as lab.sh's sync does
    /// (through `dst`'s replication service, now rather than at its next notification).
    fn replicate(&mut self, dst: &str, src: &str) -> Result<(), LabError> {
        let base = self.base.clone();
        let config = format!("CN=Configuration,{base}");
        let ncs = [
            format!("CN=Schema,{config}"),
            config.clone(),
            base.clone(),
            format!("DC=DomainDnsZones,{base}"),
            format!("DC=ForestDnsZones,{base}"),
        ];
        for nc in &ncs {
            self.on(dst, &format!("samba-tool drs replicate {dst} {src} '{nc}'"))?;
        }
        self.lap(format!(
            "{dst}: samba-tool drs replicate {dst} {src} NC, each of the {} naming contexts",
            ncs.len()
        ));
        Ok(())
    }

    /// Until `holds`, asked every 100 ms for at most `DEADLINE`.
    fn until(
        &self,
        what: &str,
        mut holds: impl FnMut(&Hand) -> Result<bool, LabError>,
    ) -> Result<(), LabError> {
        poll::within_blocking(DEADLINE, Duration::from_millis(100), || match holds(self) {
            Ok(false) => Continue(()),
            done => Break(done.map(drop)),
        })
        .unwrap_or_else(|()| {
            Err(fail(format!(
                "by hand: {what}: not within {} s",
                DEADLINE.as_secs()
            )))
        })
    }

    /// The objects of `dead` `dc` has (ldapsearch on its `ldap_priv/ldapi`, anonymous: P6):
    /// its computer account, its server object, its live DNS host record.
    fn leftovers(&self, dc: &str, dead: &str) -> Result<usize, LabError> {
        let Access::Ldapi { socket } = &self.node(dc)?.access else {
            return Err(fail(format!("by hand: {dc} has no ldapi socket")));
        };
        let url = format!("ldapi://{}", socket.to_string_lossy().replace('/', "%2F"));
        let base = &self.base;
        let wanted = [
            (
                base.clone(),
                format!("(&(objectClass=computer)(cn={dead}))"),
            ),
            (
                format!("CN=Configuration,{base}"),
                format!("(&(objectClass=server)(cn={dead}))"),
            ),
            (
                format!("DC=DomainDnsZones,{base}"),
                format!("(&(objectClass=dnsNode)(name={dead})(!(dNSTombstoned=TRUE)))"),
            ),
        ];
        let mut found = 0;
        for (b, filter) in wanted {
            let out = Self::sh(&format!(
                "ldapsearch -x -LLL -o ldif-wrap=no -H '{url}' -b '{b}' '{filter}' 1.1"
            ))?;
            found += out.lines().filter(|l| l.starts_with("dn:")).count();
        }
        Ok(found)
    }

    /// Whether the PDC's SRV record, as `pdc`'s DNS server gives it, names `pdc`.
    fn srv_names(&self, pdc: &str) -> Result<bool, LabError> {
        let n = self.node(pdc)?;
        let server = n.address.clone().unwrap_or_default();
        let line = format!(
            "ip netns exec {} host -W 1 -t SRV _ldap._tcp.pdc._msdcs.{} {server}",
            self.client, self.domain
        );
        // NXDOMAIN (no record) exits 1: the record does not name it.
        let out = Self::sh(&line).unwrap_or_default();
        Ok(out.contains(&format!(" {pdc}.{}.", self.domain)))
    }

    /// The PDC's SRV record asked of its DNS server; if it does not name `pdc`, `samba_dnsupdate`
    /// on `pdc` (P16: Samba runs it only every 10 min), asked again until it does.
    fn pdc_srv(&mut self, pdc: &str) -> Result<(), LabError> {
        let record = format!("_ldap._tcp.pdc._msdcs.{}", self.domain);
        if self.srv_names(pdc)? {
            self.lap(format!("host -t SRV {record}: names {pdc}"));
            return Ok(());
        }
        self.lap(format!("host -t SRV {record}: does not name {pdc}"));
        // Its exit status says nothing of the records (P10): the record read back decides.
        let _ = self.on(pdc, "samba_dnsupdate");
        self.lap(format!("{pdc}: samba_dnsupdate (P16)"));
        self.until(&format!("{record} naming {pdc}"), |h| h.srv_names(pdc))?;
        self.lap(format!("host -t SRV {record} until it names {pdc}"));
        Ok(())
    }

    fn done(self) -> Timed {
        Timed {
            ms: self.started.elapsed().as_millis() as u64,
            phases: self.phases,
        }
    }

    /// `command` on `on`, then what it made true (`holds`, said as `seen`) read back there, and
    /// on every other DC once it pulled from `on` (it is not waited for by notification); then
    /// the PDC's SRV record.
    fn spread(
        mut self,
        dead: &str,
        on: &str,
        command: &str,
        seen: &str,
        holds: impl Fn(&Hand, &str) -> Result<bool, LabError>,
    ) -> Result<Timed, LabError> {
        self.on(on, command)?;
        self.lap(format!("{on}: {command}"));
        if !holds(&self, on)? {
            return Err(fail(format!("by hand: after {command}, {on} {seen}: no")));
        }
        self.lap(format!("{on} {seen}"));
        for other in self.others(dead, on) {
            self.replicate(&other, on)?;
            self.until(&format!("{other} {seen}"), |h| holds(h, &other))?;
            self.lap(format!("{other} {seen}, read until it does"));
        }
        self.pdc_srv(on)?;
        Ok(self.done())
    }

    /// §5.3 after `dead` was killed: every role seized on `to` against its own database (P8),
    /// `--force` (P17: the holder is known dead).
    pub(super) fn seize(self, dead: &str, to: &str) -> Result<Timed, LabError> {
        let seen = format!("names {to} for the {ROLES} roles (samba-tool fsmo show)");
        let command = "samba-tool fsmo seize --role=all --force";
        self.spread(dead, to, command, &seen, |h, dc| h.shows_holder(dc, to))
    }

    /// §6.1: `dead` removed on `on`, against its own database as the seize (the notes run it
    /// from the client with `-H ldap://dc2`, whose resolver names only the dead DC: P9).
    pub(super) fn remove(self, dead: &str, on: &str) -> Result<Timed, LabError> {
        let seen = format!(
            "has none of {dead}'s computer account, server object, DNS host record (ldapsearch)"
        );
        let command = format!(
            "samba-tool domain demote --remove-other-dead-server={}",
            dead.to_ascii_uppercase()
        );
        self.spread(dead, on, &command, &seen, |h, dc| {
            h.leftovers(dc, dead).map(|n| n == 0)
        })
    }
}
