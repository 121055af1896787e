//! The schedule of one run, drawn from its seed: faults, operator procedures (some killed
//! part-way, some raced by a second operator) and delays. The same seed draws the same schedule;
//! which node "the primary" or "replica #k" is gets resolved when the run reaches the step.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Every fault the campaign can inject (`--faults`).
pub(crate) const FAULTS: &[&str] = &[
    "kill",
    "pause",
    "restart",
    "wipe",
    "drctl-kill",
    "race",
    "promoted-dies",
    "partition",
    "disk-full",
    "drctl-dies",
];
/// A fault only a test may ask for: it deletes an acknowledged write behind the client's back.
pub(crate) const TEST_FAULT: &str = "drop-acked";
/// Environment variable that must be `1` for [`TEST_FAULT`] to be accepted.
pub(crate) const TEST_FAULTS_ENV: &str = "DRCTL_CHAOS_TEST_FAULTS";
/// Every operator procedure the campaign can run (`--procedures`).
pub(crate) const PROCEDURES: &[&str] = &[
    "switchover",
    "failover",
    "demote",
    "repoint",
    "sync-on",
    "standalone",
    "join",
    "seize-roles",
    "removenode",
    "run",
];
/// The procedures added after the first campaigns: drawn from a side stream, so that a seed
/// drawn before they existed replays the same schedule (a campaign that came later draws every
/// procedure from the main stream).
pub(crate) const LATER: &[&str] = &["seize-roles", "removenode", "run"];

/// Which node a step acts on, resolved when the step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Pick {
    /// The node that is primary at the highest epoch (else the first node).
    Primary,
    /// The k-th (modulo their number) of the nodes that are not the primary, by name.
    Other(u8),
    /// A fenced node if there is one, else the k-th other node.
    FencedOr(u8),
}

impl Pick {
    /// The node this pick names on an engine: `primary` (its primary, or what stands for one,
    /// else its first node), the k-th of the other `names` in their order, or `fenced` (an old
    /// primary beside the current one) where there is one.
    pub(crate) fn among(
        self,
        primary: String,
        names: impl IntoIterator<Item = String>,
        fenced: Option<String>,
    ) -> String {
        let others: Vec<String> = names.into_iter().filter(|n| *n != primary).collect();
        match (self, fenced) {
            (Pick::FencedOr(_), Some(f)) => f,
            (Pick::Other(k) | Pick::FencedOr(k), _) if !others.is_empty() => {
                others[k as usize % others.len()].clone()
            }
            _ => primary,
        }
    }
}

/// An operator procedure, run as a `drctl` subprocess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "proc")]
pub(crate) enum Proc {
    Switchover {
        to: Pick,
    },
    Failover,
    Demote {
        node: Pick,
    },
    Repoint,
    SyncOn {
        node: Pick,
    },
    Standalone {
        node: Pick,
    },
    Join {
        node: Pick,
    },
    /// `seize-roles --to NODE` (transfer when the holder answers).
    SeizeRoles {
        to: Pick,
    },
    /// `removenode NODE` by name (refused for the primary or a role holder).
    Removenode {
        node: Pick,
    },
    /// `run managed-switchover --var to=NODE`: a bundled runbook through `drctl run`.
    Run {
        to: Pick,
    },
}

/// What happens after drctl was killed part-way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Then {
    Rerun,
    Resume,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "do")]
pub(crate) enum Step {
    Kill {
        node: Pick,
    },
    Pause {
        node: Pick,
    },
    /// The node cut off from every other node and from drctl and the write client (a lab of
    /// network namespaces): a primary that looks dead but runs.
    Partition {
        node: Pick,
    },
    /// The node's disk full while it runs (its data directory on a tmpfs, shrunk to what it
    /// holds).
    DiskFull {
        node: Pick,
    },
    /// SIGCONT every paused node, restore every cut link, give every full disk its room back.
    Resume,
    Restart,
    Wipe {
        node: Pick,
    },
    Proc {
        proc: Proc,
    },
    /// drctl killed (SIGKILL) `after_ms` into the procedure, or the moment its journal records
    /// a step that changed something (`on_change`), then rerun or resumed.
    KillDrctl {
        proc: Proc,
        after_ms: u64,
        then: Then,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        on_change: bool,
    },
    /// Two operators at once; with `same_operator`, the same `$USER` in two shells.
    Race {
        a: Proc,
        b: Proc,
        #[serde(default)]
        same_operator: bool,
    },
    /// A switchover or failover whose newly promoted node dies (SIGKILL, or SIGSTOP with
    /// `pause`) the moment it reports primary at the new epoch: the node that dies
    /// mid-procedure, past the point of no return.
    DiesOnPromotion {
        proc: Proc,
        pause: bool,
    },
    /// A pause between failure and recovery.
    Delay {
        ms: u64,
    },
    /// Test only: delete the `nth` acknowledged write (modulo their number).
    DropAcked {
        nth: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Schedule {
    pub seed: u64,
    pub nodes: u16,
    pub steps: Vec<Step>,
}

/// What a campaign may draw from.
#[derive(Debug, Clone)]
pub(crate) struct Mix {
    pub faults: Vec<String>,
    pub procedures: Vec<String>,
    pub max_delay_ms: u64,
    pub steps: u32,
    /// The procedures drawn from the side stream ([`LATER`], or none).
    pub later: &'static [&'static str],
}

fn pick(rng: &mut StdRng) -> Pick {
    match rng.random_range(0..3) {
        0 => Pick::Primary,
        _ => Pick::Other(rng.random_range(0..4)),
    }
}

fn procedure(rng: &mut StdRng, mix: &Mix) -> Option<Proc> {
    let first: Vec<&String> = mix
        .procedures
        .iter()
        .filter(|p| !mix.later.contains(&p.as_str()))
        .collect();
    if first.is_empty() {
        return later(rng, mix);
    }
    let name = first[rng.random_range(0..first.len())];
    Some(match name.as_str() {
        "switchover" => Proc::Switchover {
            to: Pick::Other(rng.random_range(0..4)),
        },
        "failover" => Proc::Failover,
        "demote" => Proc::Demote {
            node: Pick::FencedOr(rng.random_range(0..4)),
        },
        "repoint" => Proc::Repoint,
        "standalone" => Proc::Standalone {
            node: Pick::Other(rng.random_range(0..4)),
        },
        // etcd's rejoin of a removed or fenced member is its join.
        "join" | "rejoin" => Proc::Join {
            node: Pick::Other(rng.random_range(0..4)),
        },
        // Main-stream names of the campaigns that came after [`LATER`] (Samba AD): a removal
        // may pick the PDC emulator's holder.
        "seize-roles" => Proc::SeizeRoles {
            to: Pick::Other(rng.random_range(0..4)),
        },
        "removenode" | "remove-instance" => Proc::Removenode { node: pick(rng) },
        _ => Proc::SyncOn {
            node: Pick::Other(rng.random_range(0..4)),
        },
    })
}

/// One of the [`LATER`] procedures the mix has, if any.
fn later(rng: &mut StdRng, mix: &Mix) -> Option<Proc> {
    let names: Vec<&String> = mix
        .procedures
        .iter()
        .filter(|p| mix.later.contains(&p.as_str()))
        .collect();
    if names.is_empty() {
        return None;
    }
    let name = names[rng.random_range(0..names.len())];
    let other = Pick::Other(rng.random_range(0..4));
    Some(match name.as_str() {
        "seize-roles" => Proc::SeizeRoles { to: other },
        "removenode" => Proc::Removenode { node: other },
        _ => Proc::Run { to: other },
    })
}

/// The procedure drawn from the main stream, replaced one time in four by a [`LATER`] one drawn
/// from the side stream (the main stream is consumed as before either way).
fn procedure_or_later(rng: &mut StdRng, side: &mut StdRng, mix: &Mix) -> Option<Proc> {
    let drawn = procedure(rng, mix);
    if drawn.is_some() && side.random_bool(0.25) {
        return later(side, mix).or(drawn);
    }
    drawn
}

/// Draws the schedule of the run with this seed.
pub(crate) fn draw(seed: u64, nodes: u16, mix: &Mix) -> Schedule {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut steps = Vec::new();
    let has = |f: &str| mix.faults.iter().any(|x| x == f);
    for i in 0..mix.steps {
        // Drawn from a side stream, so that adding this fault left every other schedule as it
        // was (a seed in a bug report still replays the same run).
        let mut side = StdRng::seed_from_u64(seed.rotate_left(17) ^ (0x9e37_79b9 + u64::from(i)));
        let roll = rng.random_range(0..10);
        let delay = |rng: &mut StdRng| Step::Delay {
            ms: rng.random_range(0..=mix.max_delay_ms),
        };
        match roll {
            0..=1 if has("kill") => {
                steps.push(Step::Kill {
                    node: pick(&mut rng),
                });
                steps.push(delay(&mut rng));
            }
            2 if has("pause") || has("partition") => {
                let node = pick(&mut rng);
                // A partition in place of a pause one time in three, drawn from the side
                // stream: the main stream, and so every schedule without it, is as before.
                let cut = has("partition") && (!has("pause") || side.random_bool(1.0 / 3.0));
                steps.push(if cut {
                    Step::Partition { node }
                } else {
                    Step::Pause { node }
                });
                steps.push(delay(&mut rng));
            }
            3 if has("restart") => steps.push(Step::Restart),
            3 if has("pause") || has("partition") => steps.push(Step::Resume),
            4 if has("wipe") || has("disk-full") => {
                let node = Pick::Other(rng.random_range(0..4));
                // A full disk in place of a wipe one time in three, from the side stream as
                // the partition is; a full disk may be the primary's.
                let full = has("disk-full") && (!has("wipe") || side.random_bool(1.0 / 3.0));
                steps.push(if full {
                    Step::DiskFull {
                        node: if side.random_bool(0.5) {
                            Pick::Primary
                        } else {
                            node
                        },
                    }
                } else {
                    Step::Wipe { node }
                });
            }
            5 if has("drctl-kill") || has("drctl-dies") => {
                if let Some(proc) = procedure_or_later(&mut rng, &mut side, mix) {
                    let after_ms = rng.random_range(50..=1500);
                    // A drnode procedure ends within 20 to 60 ms: a kill drawn at 50 ms or
                    // later mostly found it ended. Half the kills land in its first
                    // milliseconds instead (from the side stream: the main one, and so every
                    // other step of a schedule, is as before).
                    let after_ms = if side.random_bool(0.5) {
                        side.random_range(3..=50)
                    } else {
                        after_ms
                    };
                    let then = if rng.random_bool(0.5) {
                        Then::Resume
                    } else {
                        Then::Rerun
                    };
                    // drctl dies the moment its procedure took effect: after the change, before
                    // the checks after it and before the run's lock is released, a window of a
                    // few milliseconds a drawn time seldom finds. From the side stream, drawn
                    // last: a schedule without `drctl-dies` is as before.
                    let on_change =
                        has("drctl-dies") && (!has("drctl-kill") || side.random_bool(0.5));
                    steps.push(Step::KillDrctl {
                        proc,
                        after_ms,
                        then,
                        on_change,
                    });
                }
            }
            6 if has("race") => {
                if let (Some(a), Some(b)) = (procedure(&mut rng, mix), procedure(&mut rng, mix)) {
                    steps.push(Step::Race {
                        a,
                        b,
                        same_operator: side.random_bool(0.5),
                    });
                }
            }
            _ => match procedure_or_later(&mut rng, &mut side, mix) {
                Some(proc @ (Proc::Switchover { .. } | Proc::Failover))
                    if has("promoted-dies") && side.random_bool(0.5) =>
                {
                    steps.push(Step::DiesOnPromotion {
                        proc,
                        pause: side.random_bool(0.5),
                    })
                }
                Some(proc) => steps.push(Step::Proc { proc }),
                None => {}
            },
        }
        if has(TEST_FAULT) && rng.random_bool(0.5) {
            steps.push(Step::DropAcked {
                nth: rng.random_range(0..1000),
            });
        }
    }
    if has(TEST_FAULT) && !steps.iter().any(|s| matches!(s, Step::DropAcked { .. })) {
        steps.push(Step::DropAcked { nth: 0 });
    }
    Schedule { seed, nodes, steps }
}

impl std::fmt::Display for Pick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Pick::Primary => write!(f, "the primary"),
            Pick::Other(k) => write!(f, "other node #{k}"),
            Pick::FencedOr(k) => write!(f, "a fenced node (else other #{k})"),
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Kill { node } => write!(f, "kill -9 {node}"),
            Step::Pause { node } => write!(f, "SIGSTOP {node}"),
            Step::Partition { node } => write!(f, "cut {node} off the network"),
            Step::DiskFull { node } => write!(f, "fill the disk of {node}"),
            Step::Resume => write!(
                f,
                "SIGCONT every paused node, restore every cut link and full disk"
            ),
            Step::Restart => write!(f, "restart every killed node"),
            Step::Wipe { node } => write!(f, "wipe the data of {node}"),
            Step::Proc { proc } => write!(f, "drctl {proc:?}"),
            Step::KillDrctl {
                proc,
                then,
                on_change: true,
                ..
            } => write!(
                f,
                "drctl {proc:?}, SIGKILLed once its journal records a change, then {then:?}"
            ),
            Step::KillDrctl {
                proc,
                after_ms,
                then,
                ..
            } => write!(
                f,
                "drctl {proc:?}, SIGKILLed after {after_ms} ms, then {then:?}"
            ),
            Step::Race {
                a,
                b,
                same_operator,
            } => write!(
                f,
                "two {} at once: {a:?} and {b:?}",
                if *same_operator {
                    "shells of one operator"
                } else {
                    "operators"
                }
            ),
            Step::DiesOnPromotion { proc, pause } => write!(
                f,
                "drctl {proc:?}, the promoted node {} on its promotion",
                if *pause { "SIGSTOPped" } else { "SIGKILLed" }
            ),
            Step::Delay { ms } => write!(f, "wait {ms} ms"),
            Step::DropAcked { nth } => write!(f, "TEST: delete acknowledged write #{nth}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pick;

    fn names() -> [String; 3] {
        ["n1", "n2", "n3"].map(String::from)
    }

    #[test]
    fn a_pick_names_the_primary_another_node_by_number_or_the_fenced_one() {
        let among =
            |p: Pick, fenced: Option<&str>| p.among("n2".into(), names(), fenced.map(String::from));
        assert_eq!(among(Pick::Primary, Some("n3")), "n2");
        assert_eq!(among(Pick::Other(0), None), "n1");
        assert_eq!(among(Pick::Other(1), Some("n1")), "n3");
        assert_eq!(among(Pick::Other(2), None), "n1");
        assert_eq!(among(Pick::FencedOr(1), Some("n1")), "n1");
        assert_eq!(among(Pick::FencedOr(1), None), "n3");
        // A group of one: every pick is that node (no panic on an empty list of others).
        for p in [Pick::Other(1), Pick::FencedOr(0)] {
            assert_eq!(p.among("n1".into(), ["n1".to_string()], None), "n1");
        }
    }
}
