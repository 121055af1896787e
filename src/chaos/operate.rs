//! What the engines' chaos contexts share: the steps that are only drctl calls (a procedure,
//! drctl SIGKILLed part-way then rerun or resumed, two operators racing) and delays, played
//! over a context that says how its engine spells a procedure; how a call ended, for the
//! timeline; whether a process is paused; which remedy a recovery policy tries next.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::drctl::{proc_args, Call, Drctl, Kill};
use super::schedule::{Proc, Step, Then};
use crate::engine::RunOutcomeKind;
use crate::lab::LabError;

/// One line of a run's timeline.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Event {
    pub at_ms: u64,
    pub what: String,
    pub result: String,
}

/// What a run's operators did: the timeline, the drctl calls, the faults injected.
#[derive(Debug)]
pub(crate) struct Tally {
    pub started: Instant,
    pub timeline: Vec<Event>,
    pub calls: Vec<Call>,
    pub faults: u64,
}

impl Tally {
    pub(crate) fn new(started: Instant) -> Tally {
        Tally {
            started,
            timeline: Vec::new(),
            calls: Vec::new(),
            faults: 0,
        }
    }

    /// Milliseconds since the run started.
    pub(crate) fn ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub(crate) fn note(&mut self, what: impl Into<String>, result: impl Into<String>) {
        let at_ms = self.ms();
        self.timeline.push(Event {
            at_ms,
            what: what.into(),
            result: result.into(),
        });
    }

    /// A finished call in the timeline, and among the calls.
    pub(crate) fn record(&mut self, operator: &str, call: Call, tag: &str) {
        self.note(
            format!("{operator}{tag}: drctl {}", call.args.join(" ")),
            ended(&call),
        );
        self.calls.push(call);
    }
}

/// A run's context as the shared steps see it.
pub(crate) trait Operate {
    fn operators(&self) -> &Drctl;
    fn tally(&mut self) -> &mut Tally;
    /// The procedure's drctl arguments on this engine (`None`: not one of its procedures).
    async fn args_of(&self, p: Proc) -> Option<Vec<String>>;
    /// Runs drctl as `operator`, recorded in the tally.
    async fn call(&mut self, operator: &str, args: Vec<String>, kill: Option<Kill>) -> Call;
    /// Plays one step of the schedule.
    async fn step(&mut self, s: &Step) -> Result<(), LabError>;
}

/// Who the recovery policy runs drctl as.
pub(crate) const POLICY: &str = "chaos-policy";

/// Plays a schedule (after a moment in which writes land, so there is something to lose),
/// then stops the write client; the error that cut the schedule short, if one did.
pub(crate) async fn play_schedule<O: Operate>(
    o: &mut O,
    steps: &[Step],
    stop: &AtomicBool,
) -> Option<LabError> {
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut failed = None;
    for step in steps {
        if let Err(e) = o.step(step).await {
            failed = Some(e);
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    failed
}

/// Plays `s` if it is drctl calls or a delay; false for a step the context plays itself.
pub(crate) async fn play<O: Operate>(o: &mut O, s: &Step) -> bool {
    match s {
        Step::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            o.tally().note(s.to_string(), "done");
        }
        Step::Proc { proc } => {
            if let Some(args) = o.args_of(*proc).await {
                o.call("chaos-a", args, None).await;
            }
        }
        Step::KillDrctl {
            proc,
            after_ms,
            then,
            on_change,
        } => {
            let Some(args) = o.args_of(*proc).await else {
                return true;
            };
            o.tally().faults += 1;
            let before = o.operators().journal_ids();
            let c = o
                .call(
                    "chaos-a",
                    args.clone(),
                    Some(Kill::of(*after_ms, *on_change)),
                )
                .await;
            if !c.killed {
                return true;
            }
            let new: Vec<String> = o
                .operators()
                .journal_ids()
                .into_iter()
                .filter(|id| !before.contains(id))
                .collect();
            let again = match (then, new.first()) {
                (Then::Resume, Some(id)) => proc_args(&["run", "--resume", id]),
                _ => args,
            };
            o.call("chaos-a", again, None).await;
        }
        Step::Race { a, b, .. } => {
            let (Some(aa), Some(ba)) = (o.args_of(*a).await, o.args_of(*b).await) else {
                return true;
            };
            o.tally().faults += 1;
            let (d, d2) = (o.operators().clone(), o.operators().clone());
            let (ca, cb) =
                tokio::join!(d.call("chaos-a", &aa, None), d2.call("chaos-b", &ba, None));
            for (op, c) in [("chaos-a", ca), ("chaos-b", cb)] {
                o.tally().record(op, c, " (racing)");
            }
        }
        _ => return false,
    }
    true
}

/// How a call ended, as the timeline says it.
pub(crate) fn ended(call: &Call) -> String {
    match (call.killed, call.exit) {
        (true, _) => "SIGKILLed".to_string(),
        (false, Some(c)) => format!(
            "exit {c}{}{}",
            call.outcome
                .as_ref()
                .map(|o| format!(" ({o})"))
                .unwrap_or_default(),
            if c == 0 {
                String::new()
            } else {
                format!(": {}", call.stderr.lines().last().unwrap_or(""))
            }
        ),
        (false, None) => format!("no exit code: {}", call.stderr),
    }
}

/// The `nth` acknowledged write (modulo their number), if there is one: what the test-only
/// fault deletes.
pub(crate) fn nth_ack<A: Clone>(acks: &Mutex<Vec<A>>, nth: u32) -> Option<A> {
    let acks = acks.lock().expect("acks lock");
    (!acks.is_empty()).then(|| acks[nth as usize % acks.len()].clone())
}

/// What `drctl check --json` said is wrong: its problems, else its error.
pub(crate) fn problems(check: &Call) -> String {
    serde_json::from_str::<serde_json::Value>(&check.stdout)
        .ok()
        .and_then(|v| v.get("problems").cloned())
        .map(|p| p.to_string())
        .unwrap_or_else(|| check.stderr.clone())
}

/// How the write client ended, when not as asked.
pub(crate) fn writer_ended(
    r: Result<Result<u64, String>, tokio::task::JoinError>,
) -> Option<String> {
    match r {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(format!("stopped: {e}")),
        Err(e) => Some(format!("panicked: {e}")),
    }
}

/// Whether the process is stopped (SIGSTOP): state `T` in /proc.
pub(crate) fn paused(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .and_then(|(_, r)| r.trim_start().chars().next())
            == Some('T')
    })
}

/// The remedies a policy tried that failed, or found nothing to do while the cluster is still
/// unwell: after two such answers the next remedy is tried. A remedy that changed something
/// makes the ones given up on worth another try, as an operator would see it: Samba seed 103
/// failed CI when `sync full --from dc1 --to dc2`, which `check` still advised, was given up on
/// for good though pulls between the other DCs had worked since.
#[derive(Debug, Default)]
pub(crate) struct Tried(BTreeMap<String, u32>);

impl Tried {
    /// Starts the servers a step killed part-way left stopped, as the operator would, before
    /// the policy looks again; what was refused while they were down is worth a try again
    /// (389ds seed 7011: a switchover refused twice while its target was stopped was given up
    /// on for good, and the group never converged).
    pub(crate) fn start_stopped<O: Operate>(&mut self, o: &mut O, lab: &impl Procs, what: &str) {
        let what = format!("policy: start stopped {what}");
        match heal(lab, true, true) {
            Ok(t) if !t.is_empty() => {
                o.tally().note(what, format!("{t:?}"));
                *self = Tried::default();
            }
            Ok(_) => {}
            Err(e) => o.tally().note(what, format!("failed: {e}")),
        }
    }

    /// The first remedy not given up on.
    fn next(&self, remedies: Vec<Vec<String>>) -> Option<Vec<String>> {
        remedies
            .into_iter()
            .find(|r| self.0.get(&r.join(" ")).copied().unwrap_or(0) < 2)
    }

    /// Runs the first remedy not given up on as the policy, bounded by what is left until
    /// `until`; with none left, waits a moment (an election, a catch-up).
    pub(crate) async fn remedy<O: Operate>(
        &mut self,
        o: &mut O,
        remedies: Vec<Vec<String>>,
        until: Instant,
    ) {
        let Some(a) = self.next(remedies) else {
            tokio::time::sleep(Duration::from_millis(300)).await;
            return;
        };
        let left = until.saturating_duration_since(Instant::now());
        let c = o
            .call(
                POLICY,
                a.clone(),
                Some(Kill::After(left + Duration::from_secs(5))),
            )
            .await;
        if c.exit != Some(0) || c.outcome == Some(RunOutcomeKind::AlreadyDone) {
            *self.0.entry(a.join(" ")).or_default() += 1;
        } else {
            self.0.clear();
        }
    }
}

/// The processes of a directory lab (slapd, ns-slapd) a chaos context signals, by node name.
pub(crate) trait Procs {
    fn names(&self) -> Vec<String>;
    fn pid(&self, node: &str) -> Option<u32>;
    fn signal(&self, node: &str, sig: crate::lab::Sig) -> Result<Option<u32>, LabError>;
    fn start(&self, node: &str) -> Result<(), LabError>;
}

/// SIGCONT to paused servers (`cont`), start killed ones (`start`); the names touched.
pub(crate) fn heal(lab: &impl Procs, start: bool, cont: bool) -> Result<Vec<String>, LabError> {
    let mut touched = Vec::new();
    for n in lab.names() {
        match lab.pid(&n) {
            Some(pid) if cont && paused(pid) => drop(lab.signal(&n, crate::lab::Sig::Cont)?),
            None if start => lab.start(&n)?,
            _ => continue,
        }
        touched.push(n);
    }
    Ok(touched)
}

/// The process steps of a directory schedule: kill -9 or SIGSTOP of `name` (skipped when it
/// does not run, or is paused already), SIGCONT or a start of every server; each noted.
pub(crate) fn process_step(
    tally: &mut Tally,
    lab: &impl Procs,
    s: &Step,
    name: &str,
) -> Result<(), LabError> {
    use crate::lab::Sig;
    match s {
        Step::Kill { .. } | Step::Pause { .. } => {
            match lab.pid(name) {
                None => {
                    tally.note(format!("{s}: {name}"), "skipped (not running)");
                    return Ok(());
                }
                Some(pid) if paused(pid) && matches!(s, Step::Pause { .. }) => {
                    tally.note(format!("{s}: {name}"), "skipped (paused)");
                    return Ok(());
                }
                Some(_) => {}
            }
            tally.faults += 1;
            let sig = if matches!(s, Step::Kill { .. }) {
                Sig::Kill
            } else {
                Sig::Stop
            };
            lab.signal(name, sig)?;
            tally.note(format!("{s}: {name}"), "done");
        }
        _ => {
            let restart = matches!(s, Step::Restart);
            let names = heal(lab, restart, !restart)?;
            tally.note(s.to_string(), format!("{names:?}"));
        }
    }
    Ok(())
}

/// A step on an engine whose only faults are its servers' processes (kill -9, SIGSTOP/SIGCONT,
/// restart), `name` the server a kill or pause resolved to; a fault the engine does not draw
/// is noted as skipped, and the steps [`play`] plays are left to it.
pub(crate) fn process_fault(
    tally: &mut Tally,
    lab: &impl Procs,
    s: &Step,
    name: Option<&str>,
    kind: &str,
) -> Result<(), LabError> {
    match s {
        Step::Kill { .. } | Step::Pause { .. } | Step::Resume | Step::Restart => {
            process_step(tally, lab, s, name.unwrap_or_default())
        }
        Step::Delay { .. } | Step::Proc { .. } | Step::KillDrctl { .. } | Step::Race { .. } => {
            Ok(())
        }
        Step::DiesOnPromotion { .. }
        | Step::Wipe { .. }
        | Step::DropAcked { .. }
        | Step::Partition { .. }
        | Step::DiskFull { .. } => {
            tally.note(s.to_string(), format!("skipped (not a {kind} fault)"));
            Ok(())
        }
    }
}

impl Procs for crate::engines::openldap::lab::LdapLab {
    fn names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }
    fn pid(&self, node: &str) -> Option<u32> {
        crate::engines::openldap::lab::LdapLab::pid(self, node)
    }
    fn signal(&self, node: &str, sig: crate::lab::Sig) -> Result<Option<u32>, LabError> {
        crate::engines::openldap::lab::LdapLab::signal(self, node, sig)
    }
    fn start(&self, node: &str) -> Result<(), LabError> {
        crate::engines::openldap::lab::LdapLab::start(self, node)
    }
}

impl Procs for crate::engines::ds389::lab::DsLab {
    fn names(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }
    fn pid(&self, node: &str) -> Option<u32> {
        crate::engines::ds389::lab::DsLab::pid(self, node)
    }
    fn signal(&self, node: &str, sig: crate::lab::Sig) -> Result<Option<u32>, LabError> {
        crate::engines::ds389::lab::DsLab::signal(self, node, sig)
    }
    fn start(&self, node: &str) -> Result<(), LabError> {
        crate::engines::ds389::lab::DsLab::start(self, node).map(drop)
    }
}
