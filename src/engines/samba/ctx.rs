//! What a Samba procedure acts on (`SambaCtx`: the DCs, the client's files, timeouts, where
//! exports go) and the steps it is made of (`SambaAction`), apart from how each step is done
//! (`steps.rs`), so the planners and the step modules depend on this file alone.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::assess::Probed;
use super::probe::{self, ProbeError};
use super::DcNode;
use crate::engine::{ProcError, RunContext};

/// The files of one client `repoint` manages, their paths resolved.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientFiles {
    pub(crate) resolv_conf: Option<PathBuf>,
    pub(crate) krb5_conf: Option<PathBuf>,
}

impl ClientFiles {
    pub(crate) fn of(inv: &crate::inventory::Inventory) -> Option<ClientFiles> {
        inv.file.clients.as_ref().map(|c| ClientFiles {
            resolv_conf: c.resolv_conf.as_ref().map(|p| inv.resolve_path(p)),
            krb5_conf: c.krb5_conf.as_ref().map(|p| inv.resolve_path(p)),
        })
    }
}

/// What a Samba procedure acts on.
pub(crate) struct SambaCtx {
    pub(crate) nodes: Vec<DcNode>,
    /// The cluster's name (the markers of the client files' blocks).
    pub(crate) cluster: String,
    /// The realm of the domain.
    pub(crate) realm: String,
    /// The client files `repoint` manages.
    pub(crate) clients: Option<ClientFiles>,
    pub(crate) run_id: String,
    /// Connect timeout per DC.
    pub(crate) timeout: Duration,
    /// How long a step's verification may wait.
    pub(crate) step_timeout: Duration,
    /// Where exported data goes unless the step names a file.
    pub(crate) export_dir: std::path::PathBuf,
    /// When each DC last let a probe wait out the whole timeout (hung: SIGSTOP, a full disk).
    pub(crate) silent: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
}

impl SambaCtx {
    pub(crate) fn node(&self, name: &str) -> Result<&DcNode, ProcError> {
        crate::util::names::lookup(&self.nodes, name, |n| &n.name).map_err(|known| {
            ProcError::usage(format!(
                "unknown node '{name}': the cluster's samba-ad DCs are {known}"
            ))
        })
    }

    /// The client files, or why there are none.
    pub(crate) fn clients(&self) -> Result<&ClientFiles, ProcError> {
        self.clients.as_ref().ok_or_else(|| {
            ProcError::usage(
                "the cluster file names no client files: add `clients: {resolv_conf: \
                 /etc/resolv.conf, krb5_conf: /etc/krb5.conf}` (the files of the client \
                 drctl points at the DCs)",
            )
        })
    }

    /// Every DC's view. A DC that let a probe of this step wait out the whole timeout is not
    /// asked again for 3 timeouts after: it is taken as silent at once, as the plan took it
    /// (its roles were planned as a hung holder's), rather than costing every check and
    /// verification of the step the timeout again (the seize-roles drill, dc1 SIGSTOPped:
    /// 2 s each, 6 times). A DC that refuses at once (stopped) is asked every time.
    pub(crate) async fn probe(&self) -> Vec<Probed> {
        let quiet = self.timeout * 3;
        let probes = self.nodes.iter().map(|n| async move {
            let since = self.silent_since(&n.name);
            let view = match since.filter(|at| at.elapsed() < quiet) {
                Some(at) => Err(ProbeError::Silent(format!(
                    "no answer within {} {} ago; not asked again until {} have passed",
                    crate::util::duration::human(self.timeout),
                    crate::util::duration::human(at.elapsed()),
                    crate::util::duration::human(quiet),
                ))),
                None => {
                    let started = std::time::Instant::now();
                    let view = probe::probe(n, self.timeout).await;
                    if matches!(view, Err(ProbeError::Silent(_)))
                        && started.elapsed() >= self.timeout
                    {
                        self.silent
                            .lock()
                            .expect("silent lock")
                            .insert(n.name.clone(), std::time::Instant::now());
                    }
                    view
                }
            };
            Probed {
                name: n.name.clone(),
                url: n.url.clone(),
                view,
            }
        });
        futures_util::future::join_all(probes).await
    }

    fn silent_since(&self, dc: &str) -> Option<std::time::Instant> {
        self.silent.lock().expect("silent lock").get(dc).copied()
    }
}

/// Samba runs take the host lock for the whole run (`Engine::run_lock`).
impl RunContext for SambaCtx {
    fn run_id(&self) -> &str {
        &self.run_id
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub(crate) enum SambaAction {
    /// `dc`'s own database names it the holder of each of `roles`, seized (their holders are
    /// silent): one `samba-tool fsmo seize --role=all` when they are every role (0.4 s; one
    /// seize per role costs as much each), else one per role.
    Seize { dc: String, roles: Vec<String> },
    /// The same, handed over by the holder `from`, which answers.
    Transfer {
        dc: String,
        role: String,
        from: String,
    },
    /// Every DC that answers names `dc` the holder of `roles`.
    Agreed { dc: String, roles: Vec<String> },
    /// `on`'s own database no longer has the DC `dc` (metadata cleanup: `samba-tool domain
    /// demote --remove-other-dead-server`).
    Cleanup { on: String, dc: String },
    /// No DC that answers has `dc`'s computer account, server object (with its NTDS Settings)
    /// or live DNS host record any more (replication of the cleanup).
    Forgotten { dc: String },
    /// The PDC's SRV record on `pdc` names `pdc` (a cleanup of the old PDC tombstones it:
    /// `samba_dnsupdate` makes it again, P16).
    PdcSrv { pdc: String },
    /// The client files list the DCs `dcs` (at `ips`, in that order) and nothing else.
    Clients { dcs: Vec<String>, ips: Vec<String> },
    /// What the stopped (or dead) `dc`'s own database holds that no other DC received, read on
    /// its host and written to `path` as LDIF, each entry named. Done once the step it comes
    /// before has run: the cleanup (no DC that answers lists `dc`) or, with `via`, the join
    /// (`via` lists `dc` again).
    Salvage {
        dc: String,
        path: std::path::PathBuf,
        via: Option<String>,
    },
    /// `dc` does not answer (its `stop_command`).
    Stop { dc: String },
    /// `dc`'s databases `dirs` are renamed to `*.{suffix}` on its host (done once `via` has
    /// the DC again: the join they were moved for took place).
    MoveAside {
        dc: String,
        via: String,
        dirs: Vec<std::path::PathBuf>,
        suffix: String,
    },
    /// `via`'s own database has the DC `dc` (`samba-tool domain join` on `dc`'s host).
    Join { dc: String, via: String },
    /// `dc` answers as itself (its `start_command`).
    Start { dc: String },
    /// No DC that answers has an object of `dc` renamed by a replication name conflict
    /// (`DC1\0ACNF:guid`: a server object with its NTDS Settings, a computer account, a DNS
    /// node): a join that stopped part-way made them on the DC it went through, and a join
    /// done again through another DC made them again.
    Conflicts { dc: String },
    /// No DC of the domain that answers shows a failing pull from another that answers (the
    /// rule `status` reads), after `dc` joined: a pull that failed after its own step was
    /// verified (a partner restarted for P14 drops the pulls in flight, P15) is done again.
    Settled { dc: String },
    /// `dst`'s own repsFrom shows a pull of every naming context from `src` that worked.
    /// With `since` (unix seconds on `dst`'s clock): each pull worked at or after it.
    Pulls {
        dst: String,
        src: String,
        since: Option<i64>,
    },
}
