//! The cluster lock as drctl takes it: one run (run id) in one drctl process holds it. Nodes are
//! locked one after another in name order, so of two racing runs exactly one proceeds (the
//! other is refused at the first node both reach, after releasing what it took). A lock whose
//! owner process is gone (same host, pid and start time checked in /proc) is taken over; a
//! holder on another host cannot be checked and keeps the lock until it expires or is broken.

use std::sync::Arc;
use std::time::Duration;

use crate::api::{ClientError, LockInfo, LockOwner, LockRequest};
use crate::engines::drnode::cluster::{probe, ClusterView, Reading, Target};
use crate::lab::owner::Owner;

use futures_util::future::join_all;

use super::{Cluster, ProcError};
use crate::engine::RunContext;

/// This host's name (as the kernel knows it).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The drctl process running now, as a lock names it.
pub fn this_process() -> LockOwner {
    let me = Owner::me();
    LockOwner {
        host: host_name(),
        pid: me.pid,
        start: me.start,
    }
}

/// What drctl can tell about a lock's owner from this host.
enum Holder {
    /// This very process.
    Me,
    /// A process on this host that is gone (or a reused pid): the lock may be taken over.
    Dead,
    /// A process on this host that still runs.
    Running,
    /// Another host, or an older drctl that did not say: cannot be checked.
    Unknown,
}

/// What is known of whether the holder of `l` still runs, for a refusal.
fn alive(l: &LockInfo, h: Holder) -> String {
    match h {
        Holder::Running => format!(
            " (that run's drctl, pid {}, is still running on this host)",
            l.owner.pid
        ),
        Holder::Unknown if l.owner.is_known() => format!(
            " (its drctl runs on {}: whether it is alive cannot be checked from here; \
             the lock stays until it expires unless broken)",
            l.owner.host
        ),
        _ => String::new(),
    }
}

fn judge(owner: &LockOwner, me: &LockOwner) -> Holder {
    if !owner.is_known() || owner.host != me.host {
        Holder::Unknown
    } else if owner == me {
        Holder::Me
    } else if (Owner {
        pid: owner.pid,
        start: owner.start,
    })
    .alive()
    {
        Holder::Running
    } else {
        Holder::Dead
    }
}

async fn held_by(t: &Target) -> Option<LockInfo> {
    tokio::time::timeout(Duration::from_secs(5), t.client.status())
        .await
        .ok()?
        .ok()?
        .lock
}

/// One node's part of taking the cluster lock.
enum Locked {
    /// Ours now; what was taken over from a run whose drctl is gone.
    Taken(Option<String>),
    Unreachable,
    /// Held by another run, or the node refused: why.
    Refused(String),
}

/// Takes (or renews) the lock `req` asks for on `t`, taking over that of a run whose drctl is
/// gone.
async fn lock_one(t: &Target, req: &LockRequest, me: &LockOwner) -> Locked {
    let err = match t.client.lock(req).await {
        Ok(_) => return Locked::Taken(None),
        Err(e) if e.is_unreachable() => return Locked::Unreachable,
        Err(e) => e,
    };
    let ClientError::Api { body, .. } = &err else {
        return Locked::Refused(format!("{}: cannot take the cluster lock: {err}", t.name));
    };
    if body.code != "locked" {
        return Locked::Refused(format!("{}: cannot take the cluster lock: {err}", t.name));
    }
    let info = held_by(t).await;
    if info.is_none() && t.client.lock(req).await.is_ok() {
        // The lock ended between the refusal and the look: it is ours now.
        return Locked::Taken(None);
    }
    let judged = info.as_ref().map(|l| (l, judge(&l.owner, me)));
    if let Some((l, Holder::Dead)) = &judged {
        let over = LockRequest {
            take_over: Some(l.run_id.clone()),
            ..req.clone()
        };
        return match t.client.lock(&over).await {
            Ok(_) => {
                let note = format!(
                    "{}: took over the cluster lock of run {} ({}, held by {}): its {} is gone",
                    t.name, l.run_id, l.reason, l.holder, l.owner
                );
                eprintln!("{note}");
                Locked::Taken(Some(note))
            }
            Err(e) if e.is_unreachable() => Locked::Unreachable,
            Err(e) => Locked::Refused(format!("{}: {e}", t.name)),
        };
    }
    let why = judged.map(|(l, h)| alive(l, h)).unwrap_or_default();
    Locked::Refused(format!("{}: {}{why}", t.name, body.message))
}

impl Cluster {
    /// Another live run's lock, as the refusal the run would meet when it takes the lock:
    /// checked before any step is planned, so that the operator hears of the lock first and
    /// not of a precondition that other run's work broke (an upgrade's standalone nodes read
    /// as "no primary: fail over"). A lock whose drctl is gone is not in the way: taking the
    /// lock takes it over.
    /// Read from a probe of the whole cluster, returned with it.
    pub async fn lock_in_the_way(&self) -> (Option<String>, ClusterView) {
        let me = this_process();
        let view = self.probe().await;
        let held: Vec<LockInfo> = view
            .nodes
            .iter()
            .filter_map(|n| n.ok()?.lock.clone())
            .collect();
        let why = held.into_iter().find_map(|l| {
            let h = judge(&l.owner, &me);
            let other = l.run_id != self.run_id && matches!(h, Holder::Running | Holder::Unknown);
            other.then(|| {
                format!(
                    "the cluster lock is held by {} ({}, run {}, {}) for {} more{}; wait for that \
                     run to end, continue it with `drctl run --resume {}` if it was killed, or use \
                     --break-lock if it is dead",
                    l.holder,
                    l.reason,
                    l.run_id,
                    l.owner,
                    crate::util::duration::human(Duration::from_millis(l.expires_in_ms)),
                    alive(&l, h),
                    l.run_id
                )
            })
        });
        (why, view)
    }

    /// Takes (or renews) this run's lock on every node that answers; refuses, releasing what it
    /// took, when another run holds it. The first node that answers, in name order, is locked
    /// alone: two runs meet there, and the one refused touches no other node. The rest are
    /// locked at once. Either way no two runs both hold every node that answers, since each
    /// node's lock has one holder. Returns the nodes locked, and what was taken over from a run
    /// whose drctl is gone (also said on stderr). Each node that grants the lock records
    /// `started` (the run's start) as it does; if the run is refused after all, those nodes
    /// record that it did not start.
    pub async fn lock_nodes(
        &self,
        reason: &str,
        ttl: Duration,
        break_lock: bool,
        started: Option<&str>,
    ) -> Result<(Vec<String>, Vec<String>), ProcError> {
        let me = this_process();
        let req = LockRequest {
            holder: self.operator.clone(),
            reason: reason.to_string(),
            run_id: self.run_id.clone(),
            ttl_ms: ttl.as_millis() as u64,
            break_lock,
            owner: me.clone(),
            take_over: None,
            started: started.map(str::to_string),
        };
        let mut targets: Vec<&Target> = self.targets.iter().collect();
        targets.sort_by(|a, b| a.name.cmp(&b.name));
        let mut outcomes = Vec::new();
        let mut rest = targets.into_iter();
        for t in rest.by_ref() {
            let o = lock_one(t, &req, &me).await;
            let first = !matches!(o, Locked::Unreachable);
            outcomes.push((t, o));
            if first {
                break;
            }
        }
        if !outcomes
            .iter()
            .any(|(_, o)| matches!(o, Locked::Refused(_)))
        {
            let (req, me) = (&req, &me);
            let others = rest.map(|t| async move { (t, lock_one(t, req, me).await) });
            outcomes.extend(join_all(others).await);
        }
        let mut taken = Vec::new();
        let mut notes = Vec::new();
        let mut refusal = None;
        for (t, o) in outcomes {
            match o {
                Locked::Taken(note) => {
                    taken.push(t.name.clone());
                    notes.extend(note);
                }
                Locked::Unreachable => {}
                Locked::Refused(why) => {
                    refusal.get_or_insert(why);
                }
            }
        }
        if let Some(why) = refusal {
            if started.is_some() {
                let message = format!("{reason} did not start (run {}): {why}", self.run_id);
                self.record(&taken, "procedure", &message, Some(false))
                    .await;
            }
            self.unlock_nodes(&taken).await;
            return Err(ProcError::refused(why).unchanged());
        }
        if taken.is_empty() {
            return Err(ProcError::refused("no node answered").unchanged());
        }
        Ok((taken, notes))
    }

    pub(crate) async fn unlock_nodes(&self, held: &[String]) {
        futures_util::future::join_all(
            self.targets
                .iter()
                .filter(|t| held.contains(&t.name))
                .map(|t| t.client.unlock(&self.run_id)),
        )
        .await;
    }

    /// Releases this run's lock on every node when the run ends: the nodes this process locked,
    /// and, for a `resumed` run (a fresh run id is this process's alone), those still holding
    /// the lock of this run id from a process that is gone (a resumed run whose steps were all
    /// done took no lock itself). A live owner keeps its lock.
    pub async fn release_run_lock(&self, held: &[String], resumed: bool) -> Vec<String> {
        let me = this_process();
        let release = self.targets.iter().map(|t| {
            let me = &me;
            async move {
                if held.contains(&t.name) {
                    let _ = t.client.unlock(&self.run_id).await;
                    return None;
                }
                if !resumed {
                    return None;
                }
                let l = held_by(t).await.filter(|l| l.run_id == self.run_id)?;
                let note = match judge(&l.owner, me) {
                    Holder::Running => format!(
                        "{}: the lock of run {} stays: its drctl (pid {}) still runs",
                        t.name, l.run_id, l.owner.pid
                    ),
                    Holder::Unknown if l.owner.is_known() => format!(
                        "{}: the lock of run {} stays: its drctl runs on {} (release it with \
                         --break-lock once that process is gone, or let it expire)",
                        t.name, l.run_id, l.owner.host
                    ),
                    _ => {
                        let _ = t.client.unlock(&self.run_id).await;
                        format!(
                            "{}: released the lock run {} left behind ({})",
                            t.name, l.run_id, l.owner
                        )
                    }
                };
                eprintln!("{note}");
                Some(note)
            }
        });
        futures_util::future::join_all(release)
            .await
            .into_iter()
            .flatten()
            .collect()
    }
}

impl RunContext for Cluster {
    fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Takes the cluster lock (this run's, in this process) on every node that answers, in
    /// name order; refuses (releasing what it took) if another run holds it.
    async fn lock(
        &self,
        reason: &str,
        ttl: Duration,
        break_lock: bool,
    ) -> Result<Vec<String>, ProcError> {
        Ok(self.lock_nodes(reason, ttl, break_lock, None).await?.0)
    }

    /// The start travels in the lock requests: one round trip, not two.
    async fn lock_and_start(
        &self,
        reason: &str,
        ttl: Duration,
        break_lock: bool,
        started: &str,
    ) -> Result<Vec<String>, ProcError> {
        Ok(self
            .lock_nodes(reason, ttl, break_lock, Some(started))
            .await?
            .0)
    }

    async fn unlock(&self, held: &[String]) {
        self.unlock_nodes(held).await
    }

    /// Probes once (or takes what the plan was made from, [`Cluster::prepare`]);
    /// [`Cluster::probe`] and [`Cluster::status`] read that until
    /// [`RunContext::forget_reading`].
    async fn take_reading(&self) {
        let prepared = self.prepared.lock().expect("prepared lock").take();
        let reading = match prepared {
            Some(r) => r,
            None => Arc::new(Reading::of(&probe(&self.name, &self.targets).await)),
        };
        *self.reading.lock().expect("reading lock") = Some(reading);
        tracing::debug!("reading taken");
    }

    fn forget_reading(&self) {
        *self.reading.lock().expect("reading lock") = None;
    }

    /// Records a procedure event on the locked nodes (an event never fails a run).
    async fn record(&self, held: &[String], kind: &str, message: &str, success: Option<bool>) {
        join_all(
            self.targets
                .iter()
                .filter(|t| held.contains(&t.name))
                .map(|t| t.client.record_event(kind, message, success)),
        )
        .await;
    }
}
