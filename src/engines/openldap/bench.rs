//! `drctl lab bench --kind openldap`: the forced failover and the managed switchover timed
//! through drctl (the bundled runbooks `drctl failover` and `drctl switchover --to node-2` run,
//! command to verified) and by hand, the cn=config sequence of `shared/OPENLDAP.md` typed with
//! ldapsearch and ldapmodify, first command to a probe write seen on every other node. The ratio
//! is by hand / drctl, of the medians: 3.0 reads "drctl is 3× faster".
//!
//! Every measurement runs on a lab of its own, made fresh (4 per round, one per measurement,
//! drctl and by hand alternating): a failover leaves node-1 dead and the others repointed, and
//! a fresh lab (slapadd, start, seed: well under a second) is cheaper and surer than undoing
//! it. Each lab takes 10 acknowledged writes on node-1, seen on every node, before its
//! measurement.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::lab::{LdapLab, ADMIN_DN, CONFIG_DN, REPL_DN, SUFFIX};
use super::lab_up::{self, as_admin};
use super::writes::{self, Acks};
use super::{LdapCluster, Openldap};
use crate::engine::{Verb, VerbArgs};
use crate::engines::bench::{fail, Phase, Procedure, Side, Timed};
use crate::lab::{LabError, Sig};

const DEADLINE: Duration = Duration::from_secs(30);
const SEED: u64 = 10;
const MDB: &str = "olcDatabase={1}mdb,cn=config";

#[derive(Debug, Clone, Serialize)]
pub(crate) struct BenchReport {
    pub(crate) nodes: u16,
    /// Each round, making its 4 fresh labs (create, up, seed writes): not measured.
    pub(crate) labs_ready_ms: Vec<u64>,
    pub(crate) failover: Procedure,
    pub(crate) switchover: Procedure,
}

/// Why the by-hand side cannot run here (the server's own check is `lab::missing_tools`).
pub(crate) fn missing_clients() -> Option<String> {
    let missing: Vec<&str> = ["/usr/bin/ldapsearch", "/usr/bin/ldapmodify"]
        .into_iter()
        .filter(|p| !Path::new(p).is_file())
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "the by-hand sequence needs {} (apt-get install ldap-utils)",
            missing.join(", ")
        )
    })
}

/// Runs `rounds` rounds in fresh labs under `dir`, removed afterwards.
pub(crate) async fn bench(
    dir: &Path,
    rounds: usize,
    say: &(dyn Fn(&str) + Sync),
) -> Result<BenchReport, LabError> {
    let r = run(dir, rounds, say).await;
    let _ = std::fs::remove_dir_all(dir);
    r
}

async fn run(
    dir: &Path,
    rounds: usize,
    say: &(dyn Fn(&str) + Sync),
) -> Result<BenchReport, LabError> {
    let (mut fo, mut fo_hand, mut so, mut so_hand) = Default::default();
    let mut ready = Vec::new();
    for i in 0..rounds {
        let t0 = Instant::now();
        let mut labs = Labs::fresh(&dir.join(format!("round-{}", i + 1))).await?;
        ready.push(t0.elapsed().as_millis() as u64);
        say(&format!(
            "round {}: 4 fresh labs of 3 slapd ready in {} ms",
            i + 1,
            ready[i]
        ));
        let (lab, cl) = labs.next();
        lab.signal("node-1", Sig::Kill)?;
        let a = Side::push(&mut fo, drctl(&lab, &cl, Verb::Failover, None).await?);
        lab.down(false)?;
        let (lab, _) = labs.next();
        lab.signal("node-1", Sig::Kill)?;
        let b = Side::push(&mut fo_hand, Hand::new(&lab)?.failover()?);
        lab.down(false)?;
        say(&format!(
            "round {}: failover: drctl {a} ms, by hand {b} ms",
            i + 1
        ));
        let (lab, cl) = labs.next();
        let a = Side::push(
            &mut so,
            drctl(&lab, &cl, Verb::Switchover, Some("node-2")).await?,
        );
        lab.down(false)?;
        let (lab, _) = labs.next();
        let b = Side::push(&mut so_hand, Hand::new(&lab)?.switchover("node-2")?);
        lab.down(false)?;
        say(&format!(
            "round {}: switchover: drctl {a} ms, by hand {b} ms",
            i + 1
        ));
    }
    Ok(BenchReport {
        nodes: 3,
        labs_ready_ms: ready,
        failover: Procedure::of(fo, fo_hand, None),
        switchover: Procedure::of(so, so_hand, None),
    })
}

/// A round's labs, stopped and removed when dropped (a failed measurement leaves none running).
struct Labs(Vec<(LdapLab, LdapCluster)>);

impl Labs {
    /// 4 labs of 3 slapd in `dir`, up, with `SEED` writes seen on every node.
    async fn fresh(dir: &Path) -> Result<Labs, LabError> {
        let mut out = Labs(Vec::new());
        for k in 0..4 {
            let lab = LdapLab::create(&dir.join(format!("lab-{}", k + 1)), 3)?;
            match lab_up::up(&lab, DEADLINE).await {
                Ok(cl) => out.0.push((lab, cl)),
                Err(e) => {
                    let _ = lab.down(false);
                    return Err(e);
                }
            }
        }
        for (_, cl) in &out.0 {
            seed(cl).await?;
        }
        Ok(out)
    }

    fn next(&mut self) -> (LdapLab, LdapCluster) {
        self.0.remove(0)
    }
}

impl Drop for Labs {
    fn drop(&mut self) {
        for (lab, _) in self.0.drain(..) {
            let _ = lab.down(false);
        }
    }
}

/// `SEED` writes on node-1, waited for on every node (same data fingerprint everywhere).
async fn seed(cl: &LdapCluster) -> Result<(), LabError> {
    let provider = [as_admin(&cl.nodes[0])];
    writes::write(
        &provider,
        "seed",
        SEED,
        None,
        DEADLINE,
        Arc::new(Acks::default()),
    )
    .await
    .map_err(fail)?;
    crate::util::poll::within(DEADLINE, Duration::from_millis(20), || async {
        let view = cl.probe().await;
        let fps: std::collections::HashSet<String> = view
            .nodes
            .iter()
            .filter_map(|n| n.state.as_ref().ok().map(|s| s.fingerprint.clone()))
            .collect();
        if fps.len() == 1 && view.nodes.iter().all(|n| n.state.is_ok()) {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    })
    .await
    .map_err(|()| fail("the seed writes did not reach every node within 30 s"))
}

/// The bundled runbook of `verb`, as `drctl failover` / `drctl switchover --to TO` run it on the
/// lab's cluster (the same front, journal and host lock), command to verified.
async fn drctl(
    lab: &LdapLab,
    cl: &LdapCluster,
    verb: Verb,
    to: Option<&str>,
) -> Result<Timed, LabError> {
    let engine = Openldap::of(cl, "bench");
    let mut args = VerbArgs::new();
    match to {
        Some(to) => args.insert("to", to.to_string()),
        None => args.insert("force", "false".into()),
    };
    crate::engines::bench::drctl(engine, verb, &args, &lab.dir, &cl.name, DEADLINE).await
}

/// The operator at the keyboard: ldapsearch and ldapmodify, cn=config as its rootDN and the
/// suffix as its own (the lab's password file, `-y`), and a clock per phase.
struct Hand<'a> {
    lab: &'a LdapLab,
    pw: std::path::PathBuf,
    secret: String,
    t0: Instant,
    mark: Instant,
    phases: Vec<Phase>,
}

impl<'a> Hand<'a> {
    fn new(lab: &'a LdapLab) -> Result<Hand<'a>, LabError> {
        let now = Instant::now();
        Ok(Hand {
            lab,
            pw: lab.dir.join("password"),
            secret: lab.password()?,
            t0: now,
            mark: now,
            phases: Vec::new(),
        })
    }

    fn url(&self, node: &str) -> Result<String, LabError> {
        Ok(format!("ldap://127.0.0.1:{}", self.lab.node(node)?.port))
    }

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

    /// Runs ldapsearch or ldapmodify against `node` bound as `dn`; its stdout.
    fn client(
        &self,
        bin: &str,
        node: &str,
        dn: &str,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Result<String, LabError> {
        use std::io::Write;
        let what = format!("{bin} on {node}");
        let mut child = Command::new(format!("/usr/bin/{bin}"))
            .args(["-x", "-H", &self.url(node)?, "-D", dn, "-y"])
            .arg(&self.pw)
            .args(args)
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

    fn search(
        &self,
        node: &str,
        base: &str,
        filter: &str,
        attrs: &[&str],
    ) -> Result<String, LabError> {
        let mut a = vec!["-LLL", "-o", "ldif-wrap=no", "-b", base, filter];
        a.extend_from_slice(attrs);
        self.client("ldapsearch", node, CONFIG_DN, &a, None)
    }

    fn config(&self, node: &str, ldif: &str) -> Result<(), LabError> {
        self.client("ldapmodify", node, CONFIG_DN, &[], Some(ldif))
            .map(drop)
    }

    /// The values of `attr` in ldapsearch's LDIF.
    fn values(ldif: &str, attr: &str) -> Vec<String> {
        let tag = format!("{attr}: ");
        ldif.lines()
            .filter_map(|l| l.strip_prefix(&tag).map(str::to_string))
            .collect()
    }

    fn syncrepl(&self, provider: &str) -> Result<String, LabError> {
        Ok(format!(
            "{{0}}rid=001 provider={} bindmethod=simple binddn=\"{REPL_DN}\" credentials={} searchbase=\"{SUFFIX}\" scope=sub type=refreshAndPersist retry=\"1 +\" network-timeout=3 keepalive=30:3:5",
            self.url(provider)?,
            self.secret
        ))
    }

    /// Promote `node` as OPENLDAP.md says: the syncprov overlay first (if absent), then delete
    /// olcUpdateRef and olcSyncrepl in one modify.
    fn promote(&mut self, node: &str) -> Result<(), LabError> {
        let overlays = self.search(node, MDB, "(objectClass=olcSyncProvConfig)", &["1.1"])?;
        if overlays.trim().is_empty() {
            self.config(node, &format!(
                "dn: olcOverlay=syncprov,{MDB}\nchangetype: add\nobjectClass: olcOverlayConfig\nobjectClass: olcSyncProvConfig\nolcOverlay: syncprov\nolcSpCheckpoint: 1 1\nolcSpSessionlog: 1000\n"))?;
        }
        self.phase(format!(
            "{node}: syncprov overlay looked for, added (ldapsearch, ldapmodify)"
        ));
        self.config(
            node,
            &format!(
                "dn: {MDB}\nchangetype: modify\ndelete: olcUpdateRef\n-\ndelete: olcSyncrepl\n"
            ),
        )?;
        self.phase(format!(
            "{node}: delete olcUpdateRef, olcSyncrepl (ldapmodify)"
        ));
        Ok(())
    }

    /// Repoint `node` to `provider`: replace olcSyncrepl (same rid), then olcUpdateRef.
    fn repoint(&mut self, node: &str, provider: &str) -> Result<(), LabError> {
        let ldif = format!(
            "dn: {MDB}\nchangetype: modify\nreplace: olcSyncrepl\nolcSyncrepl: {}\n-\nreplace: olcUpdateRef\nolcUpdateRef: {}\n",
            self.syncrepl(provider)?,
            self.url(provider)?
        );
        self.config(node, &ldif)?;
        self.phase(format!("{node}: repointed to {provider} (ldapmodify)"));
        Ok(())
    }

    /// A probe write on `provider`, then ldapsearch on each of `others` until they hold it.
    fn probe(&mut self, provider: &str, others: &[&str]) -> Result<(), LabError> {
        let value = format!("bench probe {}", uuid::Uuid::new_v4().simple());
        let ou = format!("ou=people,{SUFFIX}");
        let ldif =
            format!("dn: {ou}\nchangetype: modify\nreplace: description\ndescription: {value}\n");
        self.client("ldapmodify", provider, ADMIN_DN, &[], Some(&ldif))?;
        self.phase(format!("probe write on {provider} (ldapmodify)"));
        for n in others {
            let t0 = Instant::now();
            loop {
                let got = self.client(
                    "ldapsearch",
                    n,
                    ADMIN_DN,
                    &[
                        "-LLL",
                        "-o",
                        "ldif-wrap=no",
                        "-s",
                        "base",
                        "-b",
                        &ou,
                        "description",
                    ],
                    None,
                )?;
                if Self::values(&got, "description").contains(&value) {
                    break;
                }
                if t0.elapsed() > DEADLINE {
                    return Err(fail(format!(
                        "by hand: the probe write did not reach {n} within 30 s"
                    )));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.phase(format!(
            "probe seen on {} (ldapsearch until it is)",
            others.join(", ")
        ));
        Ok(())
    }

    /// node-1 is dead: pick the consumer with the newest CSN for its SID (max of contextCSN and
    /// entryCSN), promote it, repoint the other, probe.
    fn failover(mut self) -> Result<Timed, LabError> {
        let mut best: Option<(String, &str)> = None;
        for n in ["node-2", "node-3"] {
            let out = self.search(n, SUFFIX, "(objectClass=*)", &["contextCSN", "entryCSN"])?;
            let newest = Self::values(&out, "contextCSN")
                .into_iter()
                .chain(Self::values(&out, "entryCSN"))
                .filter(|c| c.split('#').nth(2) == Some("001"))
                .max()
                .unwrap_or_default();
            if best.as_ref().is_none_or(|(b, _)| newest > *b) {
                best = Some((newest, n));
            }
        }
        let target = best.map(|(_, n)| n).unwrap_or("node-2");
        let other = if target == "node-2" {
            "node-3"
        } else {
            "node-2"
        };
        self.phase("candidate: contextCSN, entryCSN of node-2, node-3 (ldapsearch)");
        self.promote(target)?;
        self.repoint(other, target)?;
        self.probe(target, &[other])?;
        Ok(self.done())
    }

    /// Freeze node-1, wait for equal contextCSN, promote `to`, repoint the third, demote
    /// node-1 in one modify, probe.
    fn switchover(mut self, to: &str) -> Result<Timed, LabError> {
        let other = if to == "node-2" { "node-3" } else { "node-2" };
        self.config(
            "node-1",
            &format!("dn: {MDB}\nchangetype: modify\nreplace: olcReadOnly\nolcReadOnly: TRUE\n"),
        )?;
        self.phase("node-1: olcReadOnly TRUE (ldapmodify)");
        let t0 = Instant::now();
        loop {
            let csns: Vec<Vec<String>> = ["node-1", to, other]
                .iter()
                .map(|n| {
                    let out = self.search(n, SUFFIX, "(objectClass=*)", &["contextCSN"])?;
                    let mut v = Self::values(&out, "contextCSN");
                    v.sort();
                    Ok(v)
                })
                .collect::<Result<_, LabError>>()?;
            if !csns[0].is_empty() && csns.iter().all(|c| *c == csns[0]) {
                break;
            }
            if t0.elapsed() > DEADLINE {
                return Err(fail("by hand: contextCSN not equal within 30 s"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.phase("equal contextCSN on the 3 nodes (ldapsearch until it is)");
        self.promote(to)?;
        self.repoint(other, to)?;
        let ldif = format!(
            "dn: {MDB}\nchangetype: modify\nadd: olcSyncrepl\nolcSyncrepl: {}\n-\nadd: olcUpdateRef\nolcUpdateRef: {}\n-\ndelete: olcReadOnly\n",
            self.syncrepl(to)?,
            self.url(to)?
        );
        self.config("node-1", &ldif)?;
        self.phase(format!(
            "node-1: add olcSyncrepl, olcUpdateRef to {to}, delete olcReadOnly (ldapmodify)"
        ));
        self.probe(to, &["node-1", other])?;
        Ok(self.done())
    }
}
