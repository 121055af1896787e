//! Commands on a DC's host: `samba-tool` (or any program) through the cluster file's
//! `command_prefix`, with the DC's smb.conf, bounded, a password only ever on stdin.

use std::time::Duration;

use super::ctx::SambaCtx;
use super::DcNode;
use crate::engine::ProcError;

/// The shell command that runs `samba-tool ARGS` on `n` against its own database.
pub(super) fn tool_command(n: &DcNode, args: &str) -> String {
    command_on(n, &format!("samba-tool {args}"))
}

/// The shell command that runs the shell code `shell` on `n`'s host (`sh -c`, quoted once more
/// where the prefix is `ssh`, which hands the remote shell one line to parse again).
pub(super) fn on_host(n: &DcNode, shell: &str) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let sh = format!("sh -c {}", quote(shell));
    match &n.command_prefix {
        Some(p) if p.split_whitespace().next() == Some("ssh") => format!("{p} {}", quote(&sh)),
        Some(p) => format!("{p} {sh}"),
        None => sh,
    }
}

/// Runs the shell command `command` on `dc`'s behalf (`what` names it in errors), bounded by
/// the step timeout (at least 60 s), with `input` on its stdin (a password: never on a command
/// line, never in a journal); what it printed last.
pub(super) async fn host_command(
    ctx: &SambaCtx,
    dc: &str,
    what: &str,
    command: &str,
    input: Option<&crate::util::secret::Passphrase>,
) -> Result<Option<String>, ProcError> {
    let bound = Duration::from_secs(60).max(ctx.step_timeout);
    let input = input.map(|p| format!("{}\n", p.expose()));
    let out = host_output(
        dc,
        what,
        command,
        input.as_deref().map(str::as_bytes),
        bound,
    )
    .await?;
    Ok(last_line(&out.stdout).or_else(|| last_line(&out.stderr)))
}

/// Runs the shell command `command` (`what` on `dc`) with `input` on its stdin, bounded by
/// `bound`; its output, or why it failed (its last line of complaint).
pub(super) async fn host_output(
    dc: &str,
    what: &str,
    command: &str,
    input: Option<&[u8]>,
    bound: Duration,
) -> Result<std::process::Output, ProcError> {
    use tokio::io::AsyncWriteExt;
    let what = format!("{dc}: {what}");
    let mut c = tokio::process::Command::new("sh");
    c.arg("-c")
        .arg(command)
        .kill_on_drop(true)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c
        .spawn()
        .map_err(|e| ProcError::failed(format!("{what}: {e}")))?;
    let mut stdin = child.stdin.take().expect("piped");
    let input = input.map(<[u8]>::to_vec);
    // Written beside the wait: a large input must not block on a full pipe.
    let feed = tokio::spawn(async move {
        if let Some(i) = input {
            let _ = stdin.write_all(&i).await;
        }
        drop(stdin);
    });
    let out = tokio::time::timeout(bound, child.wait_with_output())
        .await
        .map_err(|_| ProcError::timed_out(format!("{what} did not finish within {bound:?}")))?
        .map_err(|e| ProcError::failed(format!("{what}: {e}")))?;
    let _ = feed.await;
    if !out.status.success() {
        return Err(ProcError::failed(format!(
            "{what} failed ({}): {}",
            out.status,
            complaint(&out.stderr)
                .or_else(|| last_line(&out.stdout))
                .unwrap_or_default()
        )));
    }
    Ok(out)
}

/// Why a command failed: samba-tool's `ERROR(…): …` line (a traceback follows it), else its
/// last line that says something.
fn complaint(b: &[u8]) -> Option<String> {
    String::from_utf8_lossy(b)
        .lines()
        .rfind(|l| l.starts_with("ERROR"))
        .map(str::to_string)
        .or_else(|| last_line(b))
}

/// The last line of `b` that says something (Samba's setproctitle warnings say nothing).
fn last_line(b: &[u8]) -> Option<String> {
    String::from_utf8_lossy(b)
        .lines()
        .rfind(|l| !l.contains("setproctitle") && !l.trim().is_empty())
        .map(str::to_string)
}

/// The shell command that runs `PROGRAM ARGS` on `n` with its smb.conf.
pub(super) fn command_on(n: &DcNode, program_args: &str) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut c = String::new();
    if let Some(p) = &n.command_prefix {
        c.push_str(p);
        c.push(' ');
    }
    c.push_str(program_args);
    if let Some(conf) = &n.smb_conf {
        c.push_str(&format!(" -s {}", quote(&conf.to_string_lossy())));
    }
    c
}

/// Runs `samba-tool ARGS` on `dc`; what it printed last, or why it failed (not the proof:
/// the step's `verify` reads the DCs).
pub(super) async fn tool(
    ctx: &SambaCtx,
    dc: &str,
    args: &str,
) -> Result<Option<String>, ProcError> {
    let n = ctx.node(dc)?;
    run_on(
        ctx,
        dc,
        &format!("samba-tool {args}"),
        &tool_command(n, args),
    )
    .await
}

/// Runs the shell command `command` (`what` on `dc`).
pub(super) async fn run_on(
    ctx: &SambaCtx,
    dc: &str,
    what: &str,
    command: &str,
) -> Result<Option<String>, ProcError> {
    let bound = Duration::from_secs(60).max(ctx.step_timeout);
    let what = format!("{dc}: {what}");
    let out = crate::engines::etcd::rejoin::host(&what, command, &[], bound).await;
    Ok(match out {
        Ok(o) => o.lines().last().map(str::to_string),
        Err(e) => Some(format!("{e} (what the DCs say decides)")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seize_runs_on_the_dc_with_its_smb_conf_quoted() {
        let n = DcNode {
            name: "dc2".into(),
            url: "ldapi:///x".into(),
            access: super::super::Access::Ldapi {
                socket: "/x".into(),
            },
            realm: "SDC.TEST".into(),
            command_prefix: Some("ip netns exec sdc-dc2".into()),
            smb_conf: Some("/tmp/a b/smb.conf".into()),
            address: None,
            start_command: None,
            stop_command: None,
            data_dirs: Vec::new(),
            join_user: "Administrator".into(),
            join_password: None,
        };
        assert_eq!(
            tool_command(&n, "fsmo seize --role=pdc --force"),
            "ip netns exec sdc-dc2 samba-tool fsmo seize --role=pdc --force -s '/tmp/a b/smb.conf'"
        );
    }
}
