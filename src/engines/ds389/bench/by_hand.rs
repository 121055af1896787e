//! The by-hand side of `lab bench --kind 389ds`: the commands an operator types from the vendor
//! lab notes (`shared/engine-labs/389ds/README.md` §4, §7, §11; `lib.sh`'s helpers), each phase
//! timed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::super::lab::{DsLab, SUFFIX};
use super::super::state::{identity_dn, mapping_tree_dn, replica_dn};
use super::{DEADLINE, DSCONF};
use crate::engines::bench::{fail, Phase, Timed};
use crate::lab::{LabError, Sig};

const BACKEND: &str = "cn=userroot,cn=ldbm database,cn=plugins,cn=config";
/// The replica id of the lab's supplier, node-1: the identity its consumers accept is
/// `cn=repl-1,cn=config`.
const OLD_RID: u16 = 1;

/// The operator at the keyboard: dsconf, ldapsearch and ldapmodify as Directory Manager (its
/// password from the lab's `dm.pw`), the lab's stop and start, and a clock per phase.
pub(super) struct Hand<'a> {
    lab: &'a DsLab,
    dm_pw: PathBuf,
    repl_pw: String,
    t0: Instant,
    mark: Instant,
    phases: Vec<Phase>,
}

impl<'a> Hand<'a> {
    pub(super) fn new(lab: &'a DsLab) -> Result<Hand<'a>, LabError> {
        let p = lab.dir.join("repl.pw");
        let repl_pw = std::fs::read_to_string(&p)
            .map_err(|e| fail(format!("read {}: {e}", p.display())))?
            .trim()
            .to_string();
        let now = Instant::now();
        Ok(Hand {
            lab,
            dm_pw: lab.dir.join("dm.pw"),
            repl_pw,
            t0: now,
            mark: now,
            phases: Vec::new(),
        })
    }

    fn url(&self, node: &str) -> Result<String, LabError> {
        Ok(self.lab.node(node)?.url())
    }

    fn port(&self, node: &str) -> Result<u16, LabError> {
        Ok(self.lab.node(node)?.port)
    }

    /// The time since the last phase, named.
    fn phase(&mut self, what: impl Into<String>) {
        let now = Instant::now();
        self.phases.push(Phase {
            what: what.into(),
            ms: (now - self.mark).as_millis() as u64,
        });
        self.mark = now;
    }

    fn done(self) -> Timed {
        Timed {
            ms: self.t0.elapsed().as_millis() as u64,
            phases: self.phases,
        }
    }

    /// Runs a client; its stdout, or an error with its stderr.
    fn client(&self, mut c: Command, stdin: Option<&str>, what: &str) -> Result<String, LabError> {
        let mut child = c
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| fail(format!("{what}: {e}")))?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A client that exits before reading says why on stderr.
            let _ = pipe.write_all(text.as_bytes());
        }
        let out = child
            .wait_with_output()
            .map_err(|e| fail(format!("{what}: {e}")))?;
        if !out.status.success() {
            return Err(fail(format!(
                "by hand: {what}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn ldap(&self, bin: &str, node: &str) -> Result<Command, LabError> {
        let mut c = Command::new(bin);
        c.args([
            "-x",
            "-H",
            &self.url(node)?,
            "-D",
            "cn=Directory Manager",
            "-y",
        ])
        .arg(&self.dm_pw);
        Ok(c)
    }

    fn search(
        &self,
        node: &str,
        base: &str,
        filter: &str,
        attrs: &[&str],
    ) -> Result<String, LabError> {
        let mut c = self.ldap("/usr/bin/ldapsearch", node)?;
        c.args(["-o", "ldif-wrap=no", "-LLL", "-b", base, filter])
            .args(attrs);
        self.client(c, None, &format!("ldapsearch on {node}"))
    }

    fn modify(&self, node: &str, ldif: &str) -> Result<(), LabError> {
        let c = self.ldap("/usr/bin/ldapmodify", node)?;
        self.client(c, Some(ldif), &format!("ldapmodify on {node}"))
            .map(drop)
    }

    fn dsconf(&self, node: &str, args: &[&str]) -> Result<String, LabError> {
        let mut c = Command::new(DSCONF);
        c.args(["-D", "cn=Directory Manager", "-y"])
            .arg(&self.dm_pw)
            .arg(self.url(node)?)
            .args(args);
        let what = format!("dsconf {} on {node}", args[..2.min(args.len())].join(" "));
        self.client(c, None, &what)
    }

    /// `lib.sh`'s `ruv_max`: the newest CSN `node` holds of replica `rid`'s changes.
    fn ruv_max(&self, node: &str, rid: u16) -> Result<Option<String>, LabError> {
        let out = self.search(node, &replica_dn(SUFFIX), "(objectClass=*)", &["nsds50ruv"])?;
        Ok(out.lines().find_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() >= 6 && w[1] == "{replica" && w[2] == rid.to_string())
                .then(|| w[5].to_string())
        }))
    }

    fn read_only(&self, node: &str, on: bool) -> Result<(), LabError> {
        let v = if on { "on" } else { "off" };
        self.modify(
            node,
            &format!(
                "dn: {BACKEND}\nchangetype: modify\nreplace: nsslapd-readonly\nnsslapd-readonly: {v}\n"
            ),
        )
    }

    /// Promote as §4/§7 do: read-only, `dsconf replication promote`; then the clean restart
    /// (SIGTERM, waited for; ns-slapd started, answering), read-only off.
    fn promote(&mut self, node: &str, rid: u16) -> Result<(), LabError> {
        self.read_only(node, true)?;
        self.dsconf(
            node,
            &[
                "replication",
                "promote",
                "--suffix",
                SUFFIX,
                "--newrole",
                "supplier",
                "--replica-id",
                &rid.to_string(),
            ],
        )?;
        self.phase(format!(
            "{node} read-only (ldapmodify), dsconf replication promote --replica-id {rid}"
        ));
        self.lab.signal(node, Sig::Term)?;
        self.phase(format!("{node} clean stop (SIGTERM, waited for)"));
        self.lab.start(node)?;
        self.phase(format!("{node} start (ns-slapd, until it answers)"));
        self.read_only(node, false)?;
        self.phase(format!("{node} read-only off (ldapmodify)"));
        Ok(())
    }

    /// `lib.sh`'s `agmt_create`: `dsconf repl-agmt create`, then its flow control.
    fn agreement(&self, from: &str, to: &str) -> Result<String, LabError> {
        let name = format!("{from}-to-{to}");
        let port = self.port(to)?.to_string();
        self.dsconf(
            from,
            &[
                "repl-agmt",
                "create",
                "--suffix",
                SUFFIX,
                "--host",
                "127.0.0.1",
                "--port",
                &port,
                "--conn-protocol",
                "LDAP",
                "--bind-dn",
                &identity_dn(OLD_RID),
                "--bind-passwd",
                &self.repl_pw,
                "--bind-method",
                "SIMPLE",
                &name,
            ],
        )?;
        self.modify(
            from,
            &format!(
                "dn: cn={name},{}\nchangetype: modify\nreplace: nsds5ReplicaFlowControlWindow\n\
                 nsds5ReplicaFlowControlWindow: 20000\n-\nreplace: nsds5ReplicaFlowControlPause\n\
                 nsds5ReplicaFlowControlPause: 100\n",
                replica_dn(SUFFIX)
            ),
        )?;
        Ok(name)
    }

    /// `dsconf repl-agmt init`, then `repl-agmt init-status` until it ends.
    fn total_init(&self, from: &str, agreement: &str) -> Result<(), LabError> {
        let args = |verb| ["repl-agmt", verb, "--suffix", SUFFIX, agreement];
        self.dsconf(from, &args("init"))?;
        let until = Instant::now() + DEADLINE;
        loop {
            let s = self.dsconf(from, &args("init-status"))?;
            if s.contains("successfully initialized") {
                return Ok(());
            }
            if !s.contains("progress") && !s.contains("started") {
                return Err(fail(format!(
                    "by hand: total init {agreement}: {}",
                    s.trim()
                )));
            }
            if Instant::now() > until {
                return Err(fail(format!(
                    "by hand: total init {agreement}: not done in 60 s"
                )));
            }
        }
    }

    /// A probe entry added on `supplier`, polled (every 20 ms, as `lib.sh`'s `wait_entry`)
    /// until every one of `consumers` holds it.
    fn probe(&mut self, supplier: &str, consumers: &[&str]) -> Result<(), LabError> {
        let uid = format!("probe-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let c = self.ldap("/usr/bin/ldapadd", supplier)?;
        self.client(
            c,
            Some(&format!(
                "dn: uid={uid},{SUFFIX}\nobjectClass: top\nobjectClass: account\nuid: {uid}\n"
            )),
            &format!("ldapadd on {supplier}"),
        )?;
        let until = Instant::now() + DEADLINE;
        for n in consumers {
            while !self
                .search(n, SUFFIX, &format!("(uid={uid})"), &["1.1"])?
                .contains("dn:")
            {
                if Instant::now() > until {
                    return Err(fail(format!(
                        "by hand: the probe write on {supplier} is not on {n} after 60 s"
                    )));
                }
                sleep(Duration::from_millis(20));
            }
        }
        self.phase(format!(
            "probe write on {supplier} (ldapadd), polled until on {}",
            consumers.join(", ")
        ));
        Ok(())
    }

    /// §4/§11 after node-1 was killed: the most advanced consumer promoted with a new replica
    /// id, restarted, an agreement to every other consumer, a total init of each one behind it.
    pub(super) fn failover(mut self) -> Result<Timed, LabError> {
        let survivors: Vec<String> = self
            .lab
            .nodes
            .iter()
            .skip(1)
            .map(|n| n.name.clone())
            .collect();
        let mut held = BTreeMap::new();
        for n in &survivors {
            held.insert(n.clone(), self.ruv_max(n, OLD_RID)?);
        }
        // The highest CSN of the dead supplier's id; the first such on a tie.
        let best = survivors
            .iter()
            .max_by(|a, b| held[*a].cmp(&held[*b]).then(b.cmp(a)))
            .expect("a lab has consumers")
            .clone();
        self.phase(format!(
            "most advanced consumer: {best} (ldapsearch nsds50ruv on {})",
            survivors.join(", ")
        ));
        let rid = self
            .lab
            .nodes
            .iter()
            .position(|n| n.name == best)
            .unwrap_or(1) as u16
            + 1;
        self.promote(&best, rid)?;
        let others: Vec<&str> = survivors
            .iter()
            .filter(|n| **n != best)
            .map(String::as_str)
            .collect();
        for c in &others {
            let name = self.agreement(&best, c)?;
            self.phase(format!(
                "dsconf repl-agmt create {name} (and its flow control)"
            ));
            let behind = self.ruv_max(c, OLD_RID)? < held[&best];
            if behind {
                self.total_init(&best, &name)?;
                self.phase(format!(
                    "{c} behind {best}: dsconf repl-agmt init, init-status"
                ));
            } else {
                self.phase(format!(
                    "{c} not behind {best} (ldapsearch nsds50ruv): no init"
                ));
            }
        }
        self.probe(&best, &others)?;
        Ok(self.done())
    }

    /// §7: the supplier read-only and drained, `to` promoted and restarted, the old supplier's
    /// agreements deleted, demoted, referred to `to` and writable, agreements from `to`, a total
    /// init of the demoted supplier (and of any consumer behind `to`).
    pub(super) fn switchover(mut self, to: &str) -> Result<Timed, LabError> {
        let old = self.lab.nodes[0].name.clone();
        self.read_only(&old, true)?;
        self.phase(format!("{old} read-only (ldapmodify)"));
        self.drained(&old)?;
        self.phase(format!(
            "wait until {old}'s agreements replayed its newest CSN (ldapsearch nsds5agmtmaxcsn)"
        ));
        let rid = self
            .lab
            .nodes
            .iter()
            .position(|n| n.name == to)
            .unwrap_or(1) as u16
            + 1;
        self.promote(to, rid)?;
        let listed = self.dsconf(&old, &["repl-agmt", "list", "--suffix", SUFFIX])?;
        let agreements: Vec<&str> = listed
            .lines()
            .filter_map(|l| l.strip_prefix("cn: "))
            .collect();
        for a in &agreements {
            self.dsconf(&old, &["repl-agmt", "delete", "--suffix", SUFFIX, a])?;
        }
        self.phase(format!(
            "{old}: dsconf repl-agmt list, delete x{}",
            agreements.len()
        ));
        self.dsconf(
            &old,
            &[
                "replication",
                "demote",
                "--suffix",
                SUFFIX,
                "--newrole",
                "consumer",
            ],
        )?;
        self.phase(format!(
            "{old}: dsconf replication demote --newrole consumer"
        ));
        let referral = format!(
            "ldap://127.0.0.1:{}/{}",
            self.port(to)?,
            SUFFIX.replace('=', "%3D").replace(',', "%2C")
        );
        self.modify(
            &old,
            &format!(
                "dn: {}\nchangetype: modify\nreplace: nsslapd-state\nnsslapd-state: referral on \
                 update\n-\nreplace: nsslapd-referral\nnsslapd-referral: {referral}\n",
                mapping_tree_dn(SUFFIX)
            ),
        )?;
        self.read_only(&old, false)?;
        self.phase(format!(
            "{old}: referral to {to}, read-only off (ldapmodify)"
        ));
        let held = self.ruv_max(to, OLD_RID)?;
        let consumers: Vec<String> = self
            .lab
            .nodes
            .iter()
            .filter(|n| n.name != to)
            .map(|n| n.name.clone())
            .collect();
        for c in &consumers {
            let name = self.agreement(to, c)?;
            self.phase(format!(
                "dsconf repl-agmt create {name} (and its flow control)"
            ));
            if *c == old || self.ruv_max(c, OLD_RID)? < held {
                self.total_init(to, &name)?;
                self.phase(format!(
                    "total init of {c}: dsconf repl-agmt init, init-status"
                ));
            } else {
                self.phase(format!(
                    "{c} not behind {to} (ldapsearch nsds50ruv): no init"
                ));
            }
        }
        let consumers: Vec<&str> = consumers.iter().map(String::as_str).collect();
        self.probe(to, &consumers)?;
        Ok(self.done())
    }

    /// `lib.sh`'s `wait_agmts_synced`: every agreement's `nsds5agmtmaxcsn` is the supplier's
    /// newest CSN of its own id.
    fn drained(&self, supplier: &str) -> Result<(), LabError> {
        let until = Instant::now() + DEADLINE;
        loop {
            let max = self.ruv_max(supplier, OLD_RID)?;
            let out = self.search(
                supplier,
                SUFFIX,
                "(&(nsuniqueid=ffffffff-ffffffff-ffffffff-ffffffff)(objectclass=nstombstone))",
                &["nsds5agmtmaxcsn"],
            )?;
            let replayed: Vec<&str> = out
                .lines()
                .filter_map(|l| l.strip_prefix("nsds5agmtmaxcsn: "))
                .filter_map(|v| v.rsplit(';').next())
                .collect();
            let every = replayed.len() + 1 >= self.lab.nodes.len();
            if every && replayed.iter().all(|c| Some(*c) == max.as_deref()) {
                return Ok(());
            }
            if Instant::now() > until {
                return Err(fail(format!(
                    "by hand: {supplier}'s agreements did not replay its newest CSN in 60 s"
                )));
            }
            sleep(Duration::from_millis(50));
        }
    }
}
