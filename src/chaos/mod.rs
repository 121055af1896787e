//! `drctl chaos`: seeded fault campaigns with an invariant checker. Each run is a fresh lab, a
//! write client, a schedule drawn from the run's seed (faults, procedures run through the real
//! drctl binary, drctl killed part-way, racing operators, delays), healing, an operator policy
//! that recovers the cluster, and the checker. A failed run's seed replays it:
//! `drctl chaos --seed S --runs 1`.
//!
//! The kind of cluster is one [`Kind`]: its lab, faults, procedures, write client and invariants.
//! drnode runs in `run.rs` (its context in `ctx.rs`); slapd (`--kind openldap`) in `ldap_run.rs`,
//! `ldap_ctx.rs`, `ldap_writer.rs`, `ldap_policy.rs` and `ldap_checker.rs`; etcd (`--kind etcd`)
//! in the `etcd_*` files of the same split; 389ds (`--kind 389ds`) in the `ds_*` files, with the
//! slapd write client; Samba AD (`--kind samba-ad`) in the `samba_*` files. What the contexts
//! share is in `operate.rs`; what the runs do around their own parts, in `harness.rs`.

pub(crate) mod checker;
mod ctx;
mod disk;
pub(crate) mod drctl;
pub(crate) mod ds_checker;
mod ds_ctx;
pub(crate) mod ds_policy;
pub(crate) mod ds_run;
pub(crate) mod etcd_checker;
mod etcd_ctx;
pub(crate) mod etcd_policy;
pub(crate) mod etcd_run;
pub(crate) mod etcd_writer;
mod harness;
mod keep;
pub(crate) mod ldap_checker;
mod ldap_ctx;
pub(crate) mod ldap_policy;
pub(crate) mod ldap_run;
pub(crate) mod ldap_writer;
pub(crate) mod mid;
pub(crate) mod operate;
pub(crate) mod policy;
pub(crate) mod report;
pub(crate) mod run;
pub(crate) mod samba_checker;
mod samba_ctx;
pub(crate) mod samba_policy;
pub(crate) mod samba_run;
pub(crate) mod samba_writer;
pub(crate) mod sampler;
pub(crate) mod schedule;
pub(crate) mod writer;

use std::path::{Path, PathBuf};

use futures_util::future::BoxFuture;
use std::time::{Duration, Instant};

pub(crate) use report::{RunReport, Summary};
use schedule::{Mix, Schedule};

#[derive(Debug, thiserror::Error)]
pub(crate) enum ChaosError {
    #[error("--kind {0}: {1}")]
    Unavailable(&'static str, String),
    #[error(
        "--kind {0}: chaos has no campaign for this engine yet (drnode, openldap, etcd, 389ds, \
         samba-ad)"
    )]
    Unsupported(String),
    #[error("--kind: {0}")]
    Kind(String),
    #[error("--nodes {0}: a {1} chaos lab has {n} nodes", n = if *.2 > 3 { format!("3 to {}", .2) } else { "3".into() })]
    Nodes(u16, &'static str, u16),
    #[error("--{what} {name}: unknown; choose from {known}")]
    Unknown {
        what: &'static str,
        name: String,
        known: String,
    },
    #[error(
        "--faults {0}: a test-only fault, accepted only with {env}=1",
        env = schedule::TEST_FAULTS_ENV
    )]
    TestOnly(String),
}

/// A campaign against one kind of cluster: the faults and procedures it draws from and how it
/// plays one run (its lab, write client, policy and invariants).
pub(crate) struct Campaign {
    /// The engine's kind, as `--kind` spells it.
    pub kind: &'static str,
    pub faults: &'static [&'static str],
    pub procedures: &'static [&'static str],
    /// The procedures its schedules draw from the side stream (`schedule::LATER`, or none).
    pub later: &'static [&'static str],
    /// The largest lab it runs (3 at least).
    pub max_nodes: u16,
    pub play: Play,
}

/// Plays one schedule in a fresh lab under `dir`.
impl std::fmt::Debug for Campaign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Campaign({})", self.kind)
    }
}

pub(crate) type Play = for<'a> fn(&'a Schedule, &'a Options, &'a Path) -> BoxFuture<'a, RunReport>;

/// The faults a slapd campaign draws from (no wipe: a lost replica is a reseed, not a fault):
/// [`DIR_FAULTS`], a slapd cut off the network (each slapd in a network namespace, as root) and
/// a slapd's disk full (its database on a tmpfs, as root).
pub(crate) const LDAP_FAULTS: &[&str] = &[
    "kill",
    "pause",
    "restart",
    "drctl-kill",
    "race",
    "partition",
    "disk-full",
];
/// The faults a 389ds, etcd or Samba campaign draws from.
pub(crate) const DIR_FAULTS: &[&str] = &["kill", "pause", "restart", "drctl-kill", "race"];
/// The OpenLDAP procedures.
pub(crate) const LDAP_PROCEDURES: &[&str] = &["switchover", "failover", "demote", "repoint"];

/// The 389ds procedures: OpenLDAP's, and `sync` (`sync full`: a consumer re-initialized from
/// the supplier now).
pub(crate) const DS_PROCEDURES: &[&str] = &["switchover", "failover", "demote", "repoint", "sync"];

/// The faults an etcd campaign draws from (no wipe: a member that lost its data is a rejoin,
/// which the campaign runs as a procedure).
pub(crate) const ETCD_FAULTS: &[&str] = DIR_FAULTS;
/// The etcd procedures: `rejoin` is the bundled runbook `etcd-rejoin-member`; `failover` is the
/// recovery after a lost quorum.
pub(crate) const ETCD_PROCEDURES: &[&str] = &["switchover", "removenode", "failover", "rejoin"];

/// The Samba AD procedures: `seize-roles`, `remove-instance`, `join` (of a DC removed from the
/// domain: the zombie's remedy; of one that is not: its pulls settled), `repoint` (the client),
/// `sync` (`sync full`: a pull now).
pub(crate) const SAMBA_PROCEDURES: &[&str] =
    &["seize-roles", "remove-instance", "join", "repoint", "sync"];

/// Every engine chaos has a campaign for: drnode in `run.rs` (its context in `ctx.rs`), slapd
/// in the `ldap_*` files, etcd in the `etcd_*` files.
pub(crate) const CAMPAIGNS: &[Campaign] = &[
    Campaign {
        kind: crate::engines::drnode::KIND,
        faults: schedule::FAULTS,
        procedures: schedule::PROCEDURES,
        later: schedule::LATER,
        max_nodes: 5,
        play: |s, o, d| Box::pin(run::run(s, o, d)),
    },
    Campaign {
        kind: crate::engines::openldap::KIND,
        faults: LDAP_FAULTS,
        procedures: LDAP_PROCEDURES,
        later: schedule::LATER,
        max_nodes: 5,
        play: |s, o, d| Box::pin(ldap_run::run(s, o, d)),
    },
    Campaign {
        kind: crate::engines::etcd::KIND,
        faults: ETCD_FAULTS,
        procedures: ETCD_PROCEDURES,
        later: schedule::LATER,
        max_nodes: 5,
        play: |s, o, d| Box::pin(etcd_run::run(s, o, d)),
    },
    Campaign {
        kind: crate::engines::ds389::KIND,
        faults: DIR_FAULTS,
        procedures: DS_PROCEDURES,
        later: schedule::LATER,
        max_nodes: 5,
        play: |s, o, d| Box::pin(ds_run::run(s, o, d)),
    },
    Campaign {
        kind: crate::engines::samba::KIND,
        faults: DIR_FAULTS,
        procedures: SAMBA_PROCEDURES,
        later: &[],
        max_nodes: 3,
        play: |s, o, d| Box::pin(samba_run::run(s, o, d)),
    },
];

/// The campaign of `--kind` (the default engine without it), if its lab can run here.
pub(crate) fn campaign_of(kind: Option<&str>) -> Result<&'static Campaign, ChaosError> {
    let engine = crate::engines::registry::find_or_default(kind).map_err(ChaosError::Kind)?;
    let campaign = CAMPAIGNS
        .iter()
        .find(|c| c.kind == engine.kind)
        .ok_or_else(|| ChaosError::Unsupported(engine.kind.to_string()))?;
    match engine.lab.and_then(|l| (l.unavailable)()) {
        Some(why) => Err(ChaosError::Unavailable(engine.kind, why)),
        None => Ok(campaign),
    }
}

/// A campaign's options, validated.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub campaign: &'static Campaign,
    pub runs: Option<u64>,
    pub duration: Option<Duration>,
    pub seed: u64,
    pub nodes: u16,
    pub mix: Mix,
    /// Writes per second of the write client.
    pub rate: f64,
    /// `sync.max_failures` of the lab's nodes.
    pub sync_give_up: u32,
    /// How long healing and recovery may take before `converges` fails.
    pub deadline: Duration,
    pub keep_failed: Option<PathBuf>,
}

/// Checks a list option against what the kind offers; `test_only` is accepted only when the
/// test environment variable says so.
pub(crate) fn parse_list(
    what: &'static str,
    given: Option<&str>,
    known: &[&str],
    test_only: Option<&str>,
) -> Result<Vec<String>, ChaosError> {
    let Some(given) = given else {
        return Ok(known.iter().map(|s| s.to_string()).collect());
    };
    let mut out = Vec::new();
    for name in given.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if Some(name) == test_only {
            if std::env::var(schedule::TEST_FAULTS_ENV).as_deref() != Ok("1") {
                return Err(ChaosError::TestOnly(name.into()));
            }
        } else if !known.contains(&name) {
            return Err(ChaosError::Unknown {
                what,
                name: name.into(),
                known: known.join(", "),
            });
        }
        out.push(name.to_string());
    }
    Ok(out)
}

impl Options {
    /// The schedule of the run with index `i`: seed `S + i`, so `--seed S+i --runs 1` replays it.
    pub(crate) fn schedule(&self, i: u64) -> Schedule {
        schedule::draw(self.seed.wrapping_add(i), self.nodes, &self.mix)
    }

    /// The command that draws and plays the run of `seed` again.
    pub(crate) fn replay(&self, seed: u64) -> String {
        format!(
            "drctl --kind {} chaos --seed {seed} --runs 1 --nodes {} --faults {} --procedures {} --steps {} \
             --max-delay {}ms --rate {} --sync-give-up {}",
            self.campaign.kind,
            self.nodes,
            self.mix.faults.join(","),
            self.mix.procedures.join(","),
            self.mix.steps,
            self.mix.max_delay_ms,
            self.rate,
            self.sync_give_up
        )
    }

    fn more(&self, done: u64, started: Instant) -> bool {
        match (self.runs, self.duration) {
            (Some(n), _) => done < n,
            (None, Some(d)) => started.elapsed() < d,
            (None, None) => done < 1,
        }
    }
}

/// Runs the campaign; `progress` gets one line per finished run (and the explanation of a
/// failed one).
pub(crate) async fn campaign(opts: &Options, progress: &(dyn Fn(&str) + Sync)) -> Summary {
    let started = Instant::now();
    let base = std::env::temp_dir();
    for swept in crate::lab::sweep::stale(&base, &crate::engines::registry::lab_kinds()) {
        progress(&format!("swept {swept}"));
    }
    let mut reports = Vec::new();
    let mut i = 0;
    while opts.more(i, started) {
        let sched = opts.schedule(i);
        let dir = crate::lab::sweep::drill_dir(&base, &format!("chaos{}", sched.seed));
        let mut r = (opts.campaign.play)(&sched, opts, &dir).await;
        r.replay = opts.replay(sched.seed);
        progress(&format!(
            "run {} seed {}: {} in {} ms ({} faults, {} procedures, {} writes acked, {} lost, {} exported)",
            i + 1,
            r.seed,
            if r.passed { "passed" } else { "FAILED" },
            r.ms,
            r.faults,
            r.procedures,
            r.writes_acknowledged,
            r.writes_lost,
            r.writes_exported
        ));
        if !r.passed {
            progress(&r.explain());
        }
        reports.push(r);
        i += 1;
    }
    report::summarize(opts.seed, reports, started.elapsed().as_millis() as u64)
}
