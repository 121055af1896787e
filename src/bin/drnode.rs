//! drnode: the node daemon. Parses arguments, validates the config, runs `node::run`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use drctl::node::config::{NodeConfig, CONFIG_FILE};
use drctl::node::init::{init, InitOptions};
use drctl::util::logging::{LogFormat, Logging};

/// The drctl node daemon: a replicated configuration store with an HTTPS admin API.
#[derive(Parser)]
#[command(name = "drnode", version)]
struct Args {
    #[command(subcommand)]
    command: Command,
    /// Log lines as text (colours only on a terminal) or one JSON object per line. The level is
    /// DRNODE_LOG (default `info`; e.g. `debug`, `drnode=debug,warn`).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t,
        env = "DRNODE_LOG_FORMAT"
    )]
    log_format: LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Create a data directory: config, host_id, store, node state.
    Init(Box<InitArgs>),
    /// Run the node.
    Serve {
        /// The data directory `drnode init` made (its drnode.yaml is the config).
        #[arg(long, conflicts_with = "config", required_unless_present = "config")]
        data_dir: Option<PathBuf>,
        /// A config file elsewhere than in the data directory.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Shut down when process PID exits (a drill's lab ends with the drill, even a killed one).
        #[arg(long, value_name = "PID")]
        exit_with_pid: Option<u32>,
    },
    /// Validate a config file and say exactly what is wrong.
    CheckConfig {
        /// The config file to check.
        #[arg(
            long,
            conflicts_with = "data_dir",
            required_unless_present = "data_dir"
        )]
        config: Option<PathBuf>,
        /// Check the data directory's drnode.yaml.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Print the manual page (roff): `drnode man > drnode.1`.
    Man,
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args)]
struct InitArgs {
    /// Node name (a hostname label: letters, digits, '-').
    #[arg(long)]
    name: String,
    /// Cluster name (a hostname label).
    #[arg(long)]
    cluster: String,
    #[arg(long)]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7443")]
    listen: String,
    /// URL other nodes and drctl use to reach this node (default: https://LISTEN).
    #[arg(long)]
    advertise: Option<String>,
    /// Directory holding NAME.pem, NAME.key and ca.pem, as made by `drctl certs`.
    #[arg(long, conflicts_with_all = ["cert", "key"])]
    certs_dir: Option<PathBuf>,
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// CA certificate(s) to trust for peers.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Directory of peer certificates to trust (instead of or besides a CA).
    #[arg(long)]
    trust_dir: Option<PathBuf>,
    /// File holding the cluster passphrase (mode 0600).
    #[arg(long)]
    passphrase_file: PathBuf,
    /// Join an existing cluster: follow this primary and take a full copy of its data.
    #[arg(long)]
    join: Option<String>,
    /// Log records kept for partial sync.
    #[arg(long)]
    log_keep: Option<u64>,
    /// Failed pulls after which a replica's automatic sync suspends itself (default 30).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    sync_max_failures: Option<u32>,
}

fn config_path(config: Option<PathBuf>, data_dir: Option<PathBuf>) -> PathBuf {
    config.unwrap_or_else(|| data_dir.unwrap_or_default().join(CONFIG_FILE))
}

/// stderr that never fails: a log on a full disk (or a closed pipe) loses lines, never the node.
/// tracing's own fallback report (`eprintln!`) panicked on the same full disk.
struct LossyStderr;

impl std::io::Write for LossyStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

/// Prints a line to stderr or stdout, losing it rather than panicking when the stream fails.
fn say(to_stdout: bool, line: impl std::fmt::Display) {
    use std::io::Write;
    let _ = if to_stdout {
        writeln!(std::io::stdout(), "{line}")
    } else {
        writeln!(std::io::stderr(), "{line}")
    };
}

fn main() -> ExitCode {
    let args = Args::parse();
    // Text for people and packagers, before any logging or config.
    match &args.command {
        Command::Man => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            if let Err(e) = clap_mangen::Man::new(Args::command()).render(&mut out) {
                say(
                    false,
                    format_args!("drnode: cannot render the manual page: {e}"),
                );
                return ExitCode::from(1);
            }
            use std::io::Write;
            let _ = std::io::stdout().write_all(&out);
            return ExitCode::SUCCESS;
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                *shell,
                &mut Args::command(),
                "drnode",
                &mut std::io::stdout(),
            );
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let logging = Logging {
        level_var: "DRNODE_LOG",
        default_level: "info",
        format: args.log_format,
        time: drctl::util::logging::Timer::Wall,
        terminal: Logging::stderr_colours(),
    };
    // No log statement prints the passphrase; the writer makes sure no future one does.
    // A failing stderr (a full disk) loses the line instead of panicking.
    if let Err(e) = logging.init(|| drctl::util::redact::Redacting(LossyStderr)) {
        say(false, format_args!("drnode: {e}"));
        return ExitCode::from(2);
    }
    match args.command {
        Command::Init(args) => {
            let InitArgs {
                name,
                cluster,
                data_dir,
                listen,
                advertise,
                certs_dir,
                cert,
                key,
                ca,
                trust_dir,
                passphrase_file,
                join,
                log_keep,
                sync_max_failures,
            } = *args;
            let (cert, key, ca) = match (certs_dir, cert, key) {
                (Some(d), _, _) => (
                    d.join(format!("{name}.pem")),
                    d.join(format!("{name}.key")),
                    ca.or_else(|| Some(d.join("ca.pem"))),
                ),
                (None, Some(c), Some(k)) => (c, k, ca),
                _ => {
                    say(
                        false,
                        format_args!("drnode init: give --certs-dir, or --cert and --key"),
                    );
                    return ExitCode::from(2);
                }
            };
            let opts = InitOptions {
                name,
                cluster,
                data_dir,
                listen,
                advertise,
                cert,
                key,
                ca,
                trust_dir,
                passphrase_file,
                join,
                log_keep,
                sync_max_failures,
            };
            match init(&opts) {
                Ok(path) => {
                    say(true, format_args!("{}", path.display()));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    say(false, format_args!("drnode init: {e}"));
                    ExitCode::from(2)
                }
            }
        }
        Command::Man | Command::Completions { .. } => ExitCode::SUCCESS,
        Command::CheckConfig { config, data_dir } => {
            let path = config_path(config, data_dir);
            match NodeConfig::load(&path) {
                Ok(c) => {
                    say(
                        true,
                        format_args!(
                            "{}: ok (node {} of cluster {}, listening on {}, advertised as {})",
                            path.display(),
                            c.name,
                            c.cluster,
                            c.listen,
                            c.advertise
                        ),
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    say(false, format_args!("{e}"));
                    ExitCode::from(2)
                }
            }
        }
        Command::Serve {
            data_dir,
            config,
            exit_with_pid,
        } => {
            let path = config_path(config, data_dir);
            let config = match NodeConfig::load(&path) {
                Ok(c) => c,
                Err(e) => {
                    say(false, format_args!("{e}"));
                    return ExitCode::from(2);
                }
            };
            drctl::util::redact::register(config.passphrase.expose());
            if let Some(token) = &config.metrics_token {
                drctl::util::redact::register(token.expose());
            }
            let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
            runtime.block_on(async move {
                let fail = |e: drctl::node::NodeError| {
                    say(false, drctl::util::redact::redact(&format!("drnode: {e}")));
                    ExitCode::from(if e.is_setup() { 2 } else { 1 })
                };
                let node = match drctl::node::Node::open(config) {
                    Ok(n) => n,
                    Err(e) => return fail(e),
                };
                let listen = node.config.listen;
                let listener = match std::net::TcpListener::bind(listen) {
                    Ok(l) => l,
                    Err(e) => {
                        say(
                            false,
                            format_args!("drnode: cannot listen on {listen}: {e}"),
                        );
                        return ExitCode::from(1);
                    }
                };
                tracing::info!(name = %node.config.name, %listen, "drnode serving");
                // Type=notify: ready once the data directory is locked and the port bound
                // (connections queue until the server accepts them). No-op outside systemd.
                let status = format!("serving {} on {listen}", node.config.name);
                if let Err(e) = sd_notify::notify(&[
                    sd_notify::NotifyState::Ready,
                    sd_notify::NotifyState::Status(&status),
                ]) {
                    tracing::warn!(error = %e, "cannot tell the service manager drnode is ready");
                }
                match drctl::node::serve(node, listener, shutdown_signal(exit_with_pid)).await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(e),
                }
            })
        }
    }
}

async fn shutdown_signal(exit_with: Option<u32>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => stopping("interrupted"),
        _ = term.recv() => stopping("SIGTERM"),
        _ = owner_gone(exit_with) => {
            tracing::warn!(pid = exit_with, "the process this node belongs to is gone: shutting down");
            // The graceful shutdown waits 2 s for connections; never outlive the owner for long.
            std::thread::spawn(|| {
                std::thread::sleep(std::time::Duration::from_secs(5));
                std::process::exit(1);
            });
        }
    }
}

fn stopping(why: &str) {
    tracing::info!(signal = why, "drnode stopping");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
}

/// Completes when process `pid` (as it was when this node started) is gone; never without a pid.
/// Polled, not PR_SET_PDEATHSIG: that fires when the spawning *thread* exits, which a tokio
/// worker of the parent does long before the parent does.
async fn owner_gone(pid: Option<u32>) {
    let Some(pid) = pid else {
        return std::future::pending().await;
    };
    let Some(owner) = drctl::lab::Owner::of(pid) else {
        return;
    };
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        if !owner.alive() {
            return;
        }
    }
}
