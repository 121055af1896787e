//! drctl: parse arguments, run the command, map the error to an exit code.

use std::process::ExitCode;

use clap::Parser;

/// Whether a panic is `print!` failing on a closed stdout (`drctl … | head`).
fn is_broken_pipe(payload: &(dyn std::any::Any + Send)) -> bool {
    let text = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    text.starts_with("failed printing to stdout") && text.contains("Broken pipe")
}

fn main() -> ExitCode {
    // A reader that left early (`| head`) is not an error: end quietly with 0, as ripgrep does.
    // The output macros panic on EPIPE (Rust ignores SIGPIPE, and restoring it needs unsafe
    // code), so that one panic is turned into a quiet exit before it is printed.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if is_broken_pipe(info.payload()) {
            std::process::exit(0);
        }
        report(info)
    }));
    let cli = drctl::cli::Cli::parse();
    // Log lines pass the same redaction as every other output; colours only on a terminal.
    let logging = drctl::util::logging::Logging {
        level_var: "DRCTL_LOG",
        // A server that resets the connection is "does not answer" in the report: ldap3's own
        // warning about it (logged from the module its `drive!` expands in) is noise there.
        default_level: "warn,ldap3=error,drctl::engines::openldap::client=error,\
                        drctl::engines::samba::probe=error",
        format: cli.global.log_format,
        // A level asked for explicitly is a look inside: each line says when, since the start.
        time: if std::env::var_os("DRCTL_LOG").is_some_and(|v| !v.is_empty()) {
            drctl::util::logging::Timer::Uptime
        } else {
            drctl::util::logging::Timer::Off
        },
        terminal: drctl::util::logging::Logging::stderr_colours(),
    }
    .init(drctl::util::redact::Redacting::stderr);
    if let Err(e) = logging {
        eprintln!("drctl: {e}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("drctl: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(drctl::cli::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("drctl: {}", drctl::util::redact::redact(&e.to_string()));
            ExitCode::from(e.code())
        }
    }
}
