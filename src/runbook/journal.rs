//! The run journal: one JSON line per step event under `$XDG_STATE_HOME/drctl/runs/RUN_ID.jsonl`
//! (else `~/.local/state/drctl/runs/`), written as each event happens, so a run killed at any
//! point can be resumed after its last verified step. The lines are synced to disk by a thread of
//! the journal's own, off the run's path (a sync is about 0.5 ms, five of them were a quarter of a
//! forced failover): a killed drctl loses nothing (its lines are in the kernel), and the run
//! returns only once its last line is synced.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::RunbookError;
use super::run::RbStepOutcome;
use crate::engine::RunOutcomeKind;
pub use crate::util::state::runs_dir;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Entry {
    Start {
        run_id: String,
        /// The cluster it ran on: a resume refuses another one.
        #[serde(default)]
        cluster: String,
        runbook: String,
        source: String,
        /// The runbook as it ran, so a resume runs the same steps even if the file changed.
        text: String,
        vars: BTreeMap<String, String>,
        at_ms: u64,
    },
    Resume {
        at_ms: u64,
    },
    Step {
        index: usize,
        name: String,
        outcome: RbStepOutcome,
        ms: u64,
        note: Option<String>,
        #[serde(default)]
        outputs: BTreeMap<String, String>,
        #[serde(default)]
        changed: bool,
    },
    End {
        outcome: RunOutcomeKind,
        ms: u64,
        error: Option<String>,
    },
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub struct Journal {
    pub path: PathBuf,
    file: std::fs::File,
    /// Asks the syncer for a sync of what is written so far; dropped to end it.
    sync: Option<std::sync::mpsc::Sender<()>>,
    syncer: Option<std::thread::JoinHandle<()>>,
}

fn jerr(path: &Path, e: impl std::fmt::Display) -> RunbookError {
    RunbookError::Journal {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

impl Journal {
    /// Opens the journal of `run_id` for appending, `first` its first line here: a start
    /// creates it, whole with that line (renamed into place: a drctl killed at any moment
    /// leaves a journal that starts with its start, or none, chaos seed 46230); a resume
    /// appends to the journal that exists.
    pub fn open(dir: &Path, run_id: &str, first: &Entry) -> Result<Journal, RunbookError> {
        // Journals hold the runs' variables and notes: readable by their owner only, also when
        // the directory or the file was made earlier with a looser mode.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| jerr(dir, e))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| jerr(dir, e))?;
        let path = dir.join(format!("{run_id}.jsonl"));
        let line = Self::line(first);
        let file = if matches!(first, Entry::Start { .. }) {
            // Not synced here: the journal's thread syncs it off the run's path, and a
            // SIGKILLed drctl loses nothing the kernel holds.
            let mut tmp = tempfile::Builder::new()
                .prefix(&format!(".{run_id}."))
                .suffix(".tmp")
                .permissions(std::fs::Permissions::from_mode(0o600))
                .tempfile_in(dir)
                .map_err(|e| jerr(dir, e))?;
            tmp.write_all(line.as_bytes())
                .map_err(|e| jerr(tmp.path(), e))?;
            // Its next writes follow the line (one writer: no append mode needed).
            tmp.persist_noclobber(&path)
                .map_err(|e| jerr(&path, e.error))?
        } else {
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(|e| jerr(&path, e))?;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| jerr(&path, e))?;
            file.write_all(line.as_bytes())
                .map_err(|e| jerr(&path, e))?;
            file
        };
        let synced = file.try_clone().map_err(|e| jerr(&path, e))?;
        let (sync, asked) = std::sync::mpsc::channel::<()>();
        let shown = path.clone();
        // A new journal's directory entry is synced too, by the thread: off the run's path.
        let new_in = matches!(first, Entry::Start { .. }).then(|| dir.to_path_buf());
        let syncer = std::thread::Builder::new()
            .name("journal-sync".into())
            .spawn(move || {
                if let Some(d) = new_in {
                    if let Err(e) = std::fs::File::open(&d).and_then(|d| d.sync_all()) {
                        warn_unwritten(&shown, &e);
                    }
                }
                while asked.recv().is_ok() {
                    // The writes asked for meanwhile are covered by this one sync.
                    while asked.try_recv().is_ok() {}
                    if let Err(e) = synced.sync_data() {
                        warn_unwritten(&shown, &e);
                    }
                }
            })
            .map_err(|e| jerr(&path, e))?;
        // The first line.
        let _ = sync.send(());
        Ok(Journal {
            path,
            file,
            sync: Some(sync),
            syncer: Some(syncer),
        })
    }

    /// One event as its journal line: written with one call, so a kill leaves it whole or
    /// cut at its end (a cut last line is skipped when the journal is read).
    fn line(entry: &Entry) -> String {
        let mut line = serde_json::to_string(&redacted(entry)).expect("journal entries serialize");
        line.push('\n');
        line
    }

    /// Appends one event, then has it synced to disk (best effort: a full disk must not stop a
    /// recovery, but it is said).
    pub fn write(&mut self, entry: &Entry) {
        match self.file.write_all(Self::line(entry).as_bytes()) {
            Ok(()) => {
                if let Some(s) = &self.sync {
                    let _ = s.send(());
                }
            }
            Err(e) => warn_unwritten(&self.path, &e),
        }
    }
}

impl Drop for Journal {
    /// Waits for the last sync: a run's journal is on disk when the run returns.
    fn drop(&mut self) {
        drop(self.sync.take());
        if let Some(t) = self.syncer.take() {
            let _ = t.join();
        }
    }
}

fn warn_unwritten(path: &Path, e: &std::io::Error) {
    eprintln!("warning: cannot write the journal {}: {e}", path.display());
}

/// The entry with every secret hidden. The runbook text is kept as it is: it holds `{{ env.X }}`
/// references, not values, and a resume compiles it again.
fn redacted(entry: &Entry) -> Entry {
    use crate::util::redact::redact;
    let mut e = entry.clone();
    match &mut e {
        Entry::Start { vars, .. } => vars.values_mut().for_each(|v| *v = redact(v)),
        Entry::Resume { .. } => {}
        Entry::Step { note, outputs, .. } => {
            *note = note.as_deref().map(redact);
            outputs.values_mut().for_each(|v| *v = redact(v));
        }
        Entry::End { error, .. } => *error = error.as_deref().map(redact),
    }
    e
}

/// Reads a journal; a torn last line (the process was killed while writing) is ignored.
pub fn read(dir: &Path, run_id: &str) -> Result<Vec<Entry>, RunbookError> {
    if run_id.is_empty()
        || !run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(RunbookError::Usage {
            message: format!("'{run_id}' is not a run id"),
        });
    }
    let path = dir.join(format!("{run_id}.jsonl"));
    let text = std::fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            RunbookError::Usage {
                message: format!("no run {run_id}: {} does not exist", path.display()),
            }
        } else {
            jerr(&path, e)
        }
    })?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        match serde_json::from_str(l) {
            Ok(e) => out.push(e),
            Err(_) if i + 1 == lines.len() => {}
            Err(e) => return Err(jerr(&path, format!("line {}: {e}", i + 1))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(run_id: &str) -> Entry {
        Entry::Start {
            run_id: run_id.into(),
            cluster: "c".into(),
            runbook: "r".into(),
            source: "r.yaml".into(),
            text: "name: r".into(),
            vars: BTreeMap::new(),
            at_ms: 1,
        }
    }

    /// Chaos seed 46230: drctl SIGKILLed 10 ms in left an empty journal (created, its start
    /// not yet written), and `run --resume` of it failed on its input. The journal now comes
    /// into being with its start line: before any other write, it reads back as that start.
    #[test]
    fn a_journal_exists_only_with_its_start_line() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path(), "abc123", &start("abc123")).unwrap();
        let entries = super::read(dir.path(), "abc123").unwrap();
        assert!(
            matches!(entries.as_slice(), [Entry::Start { run_id, .. }] if run_id == "abc123"),
            "{entries:?}"
        );
        // Nothing else is left in the directory: the journal was renamed into place.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["abc123.jsonl"]);
        drop(j);
        // A second start of the same run never overwrites its journal; a resume appends.
        assert!(Journal::open(dir.path(), "abc123", &start("abc123")).is_err());
        drop(Journal::open(dir.path(), "abc123", &Entry::Resume { at_ms: 2 }).unwrap());
        assert_eq!(super::read(dir.path(), "abc123").unwrap().len(), 2);
        // A resume of no journal creates none.
        assert!(Journal::open(dir.path(), "zzz", &Entry::Resume { at_ms: 2 }).is_err());
    }
}
