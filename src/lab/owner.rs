//! Who owns a temporary lab: a process named by its pid and its start time (so a reused pid is
//! never mistaken for the owner). A drill lab whose owner is gone is stale and may be swept.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    pub pid: u32,
    /// Clock ticks after boot at which the process started (`/proc/PID/stat`, field 22).
    pub start: u64,
}

impl Owner {
    /// This process.
    pub fn me() -> Owner {
        let pid = std::process::id();
        Owner {
            pid,
            start: start_time(pid).unwrap_or(0),
        }
    }

    /// The process `pid` as it is now, if it runs.
    pub fn of(pid: u32) -> Option<Owner> {
        start_time(pid).map(|start| Owner { pid, start })
    }

    /// Whether the very process (same pid, same start) still runs (zombies count as gone).
    pub fn alive(&self) -> bool {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) else {
            return false;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            return false;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let state = fields.first().copied().unwrap_or("X");
        let start = fields.get(19).and_then(|s| s.parse::<u64>().ok());
        !matches!(state, "Z" | "X") && start == Some(self.start)
    }

    /// `p<pid>s<start>`: the form names of labs, namespaces and links carry.
    pub fn tag(&self) -> String {
        format!("p{}s{}", self.pid, self.start)
    }

    pub fn parse_tag(s: &str) -> Option<Owner> {
        let (pid, start) = s.strip_prefix('p')?.split_once('s')?;
        Some(Owner {
            pid: pid.parse().ok()?,
            start: start.parse().ok()?,
        })
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {}", self.pid)
    }
}

/// Field 22 of `/proc/PID/stat` (after the parenthesised command name, which may hold spaces).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_its_tag_round_trips() {
        let me = Owner::me();
        assert!(me.start > 0);
        assert!(me.alive());
        assert_eq!(Owner::parse_tag(&me.tag()), Some(me));
        let reused = Owner {
            start: me.start + 1,
            ..me
        };
        assert!(
            !reused.alive(),
            "a pid with another start time is not the owner"
        );
        assert_eq!(Owner::parse_tag("p12x"), None);
        assert_eq!(Owner::parse_tag("node-1"), None);
    }
}
