//! Command-line types of the commands on a cluster's nodes: status, entries, events, the raw
//! API, packages, the hosts block and sync.

use clap::{Args, Subcommand, ValueEnum};

use super::ProcArgs;
use crate::util::duration::parse_duration;

/// How a reading command prints its result.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The columns that fit 80 columns.
    Table,
    /// Every column.
    Wide,
    Json,
    Yaml,
}

/// `-o FORMAT` and `--json`, which is `-o json`.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Print the result as JSON (the same as -o json).
    #[arg(long)]
    pub json: bool,
    /// Output format: table (fits 80 columns), wide (every column), json or yaml.
    #[arg(
        long,
        short = 'o',
        value_enum,
        value_name = "FORMAT",
        conflicts_with = "json"
    )]
    pub output: Option<Format>,
}

impl OutputArgs {
    pub fn format(&self) -> Format {
        match (self.json, self.output) {
            (true, _) => Format::Json,
            (false, f) => f.unwrap_or(Format::Table),
        }
    }
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub out: OutputArgs,
    /// Redraw every interval until interrupted.
    #[arg(long, short = 'w')]
    pub watch: bool,
    /// How often --watch redraws.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub interval: std::time::Duration,
}

#[derive(Subcommand, Debug)]
pub enum EntryCommand {
    /// Write KEY=VALUE through the primary (or --node).
    Put {
        /// The entry's key.
        key: String,
        /// The value to write.
        value: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print KEY's value as held by the primary (or --node).
    Get {
        /// The entry's key.
        key: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List entries.
    List {
        /// Only keys starting with this.
        #[arg(long)]
        prefix: Option<String>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete KEY.
    Rm {
        /// The key to delete.
        key: String,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    #[command(flatten)]
    pub out: OutputArgs,
    /// Only events since then: a duration back from now (10m, 1h30m) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only events whose KIND column is this (repeat for several), e.g. promote, sync, lock.
    /// (`--kind` is taken: it chooses the engine.)
    #[arg(long = "type", value_name = "KIND")]
    pub types: Vec<String>,
    /// Keep printing new events as they happen, one line each, until interrupted.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Show events after this id (per node).
    #[arg(long, default_value_t = 0)]
    pub after: u64,
    /// At most this many events per node (the newest).
    #[arg(long, default_value_t = 200)]
    pub limit: u64,
}

#[derive(Args, Debug)]
pub struct ApiArgs {
    /// HTTP method: GET, PUT, POST, DELETE.
    pub method: String,
    /// Path, e.g. /v1/node.
    pub path: String,
    /// JSON body, or - to read it from stdin.
    pub body: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum PackagesCommand {
    /// List a node's package files (default: the primary's).
    List {
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Upload FILE to a node (default: the primary).
    Put {
        /// The file to upload.
        file: std::path::PathBuf,
        /// The name on the node (default: the file's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove a package file from a node (default: the primary).
    Rm {
        /// The package file to remove.
        name: String,
    },
    /// Copy the primary's package files to every replica (checksummed); remove extras.
    Sync {
        #[command(flatten)]
        proc: ProcArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum HostsCommand {
    /// Print the hosts-file block: each node's unique name, then the alias (primary first).
    Render,
    /// Write the block into FILE between markers (idempotent).
    Apply {
        /// The hosts file to write the block into.
        #[arg(long)]
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum SyncCommand {
    /// Turn automatic (partial, record by record) replication to NODE on or off.
    Auto {
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        state: String,
        /// The replica.
        node: String,
        #[command(flatten)]
        proc: ProcArgs,
    },
    /// On-demand full sync: replace TO's replicated data with FROM's.
    Full {
        /// The node copied.
        #[arg(long)]
        from: String,
        /// The node overwritten (its replicated data is replaced).
        #[arg(long)]
        to: String,
        #[command(flatten)]
        proc: ProcArgs,
    },
}
