//! Logging for both binaries: tracing to a writer (stderr), as text or one JSON object per line,
//! at the level an environment variable gives (`DRNODE_LOG`, `DRCTL_LOG`), every line through
//! the redaction. Colours only on a terminal: a log file, a pipe or journald gets plain text.

use std::io::IsTerminal;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event (colours only on a terminal, never with NO_COLOR).
    #[default]
    Text,
    /// One JSON object per line: timestamp, level, target, fields.
    Json,
}

impl LogFormat {
    /// Reads a format from an environment variable; unset or empty is `text`.
    pub fn from_env(var: &str) -> Result<LogFormat, String> {
        match std::env::var(var) {
            Ok(v) if !v.is_empty() => <LogFormat as clap::ValueEnum>::from_str(&v, true)
                .map_err(|_| format!("{var}: '{v}' is not a log format (text or json)")),
            _ => Ok(LogFormat::Text),
        }
    }
}

/// The stamp on each log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// None: a CLI's warnings read as sentences.
    Off,
    /// The wall clock (a daemon's log).
    Wall,
    /// Seconds since the process started: where a command's time goes (`DRCTL_LOG=debug`).
    Uptime,
}

/// What a binary logs and how.
pub struct Logging {
    /// The variable holding the level filter (`info`, `drnode=debug,warn`, ...).
    pub level_var: &'static str,
    pub default_level: &'static str,
    pub format: LogFormat,
    /// What each line is stamped with.
    pub time: Timer,
    /// Whether the writer is a terminal (only then may text carry colours).
    pub terminal: bool,
}

impl Logging {
    /// Whether stderr is a terminal and NO_COLOR is unset or empty.
    pub fn stderr_colours() -> bool {
        std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
    }

    /// Installs the global subscriber. A level variable that does not parse is an error naming
    /// it, not silently the default.
    pub fn init<W>(self, writer: W) -> Result<(), String>
    where
        W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
    {
        let filter = match std::env::var(self.level_var) {
            Ok(v) if !v.trim().is_empty() => EnvFilter::try_new(&v)
                .map_err(|e| format!("{}: '{v}' is not a log level filter: {e}", self.level_var))?,
            _ => EnvFilter::new(self.default_level),
        };
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(writer)
            .with_ansi(self.format == LogFormat::Text && self.terminal)
            // A failing writer (a full disk) loses the line; tracing's own report of it panicked.
            .log_internal_errors(false);
        let uptime = tracing_subscriber::fmt::time::uptime();
        let layer = match (self.format, self.time) {
            (LogFormat::Json, Timer::Wall) => fmt.json().boxed(),
            (LogFormat::Json, Timer::Uptime) => fmt.json().with_timer(uptime).boxed(),
            (LogFormat::Json, Timer::Off) => fmt.json().without_time().boxed(),
            (LogFormat::Text, Timer::Wall) => fmt.boxed(),
            (LogFormat::Text, Timer::Uptime) => fmt.with_timer(uptime).boxed(),
            (LogFormat::Text, Timer::Off) => fmt.without_time().boxed(),
        };
        tracing_subscriber::registry()
            .with(layer.with_filter(filter))
            .try_init()
            .map_err(|e| format!("cannot start logging: {e}"))
    }
}
