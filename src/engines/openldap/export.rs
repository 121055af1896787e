//! Divergent entries (newer entryCSN, per serverID, than the authoritative provider holds; at
//! equal CSNs, any version the provider does not hold),
//! their export as LDIF that `ldapadd` replays, and the reseed of a diverged server: stop it,
//! wipe its database, start it again so it takes a full refresh.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ldap3::{Scope, SearchEntry};

use super::client::values;
use super::LdapCluster;
use crate::engine::ProcError;
use crate::util::poll;

/// One entry `node` holds that the provider never saw (in that version).
pub(super) struct Divergent {
    pub entry: SearchEntry,
    pub csn: String,
    /// The provider holds an entry with this DN (another version of it).
    pub on_provider: bool,
}

/// The divergent entries of `node` against `provider`, sorted by DN.
pub(super) async fn divergent(
    cl: &LdapCluster,
    node: &str,
    provider: &str,
) -> Result<Vec<Divergent>, ProcError> {
    let p = cl.state(provider).await?;
    // At equal CSNs every entry the provider does not hold in that version is one (by CSN alone
    // there would be none: see `NodeState::same_csns_other_data`).
    let same = cl.state(node).await?.same_csns_other_data(&p);
    let suffix = cl.node(node)?.suffix.clone();
    let mut s = cl.session(node).await?;
    let all = s
        .search(&suffix, Scope::Subtree, "(entryCSN=*)", &["*", "entryCSN"])
        .await
        .map_err(|e| ProcError::failed(e.to_string()));
    s.close().await;
    let mut out = Vec::new();
    for e in all? {
        let Some(c) = values(&e, "entryCSN").into_iter().next() else {
            continue;
        };
        let Some(sid) = super::csn::sid_of(&c) else {
            continue;
        };
        let other = same && p.entry_csns.get(&e.dn.to_ascii_lowercase()) != Some(&c);
        if other || p.csn.get(sid).is_none_or(|r| c.as_str() > r.as_str()) {
            out.push(Divergent {
                entry: e,
                csn: c,
                on_provider: false,
            });
        }
    }
    if !out.is_empty() {
        let mut ps = cl.session(provider).await?;
        for d in out.iter_mut() {
            d.on_provider = ps
                .read(&d.entry.dn, &["1.1"])
                .await
                .map_err(|e| ProcError::failed(e.to_string()))?
                .is_some();
        }
        ps.close().await;
    }
    out.sort_by(|a, b| a.entry.dn.cmp(&b.entry.dn));
    Ok(out)
}

/// The LDIF of the divergent entries (user attributes only), parents before children.
pub(super) fn to_ldif(node: &str, provider: &str, entries: &[Divergent]) -> String {
    let mut out = format!("# Entries {node} holds that {provider} never had (written by drctl).\n# Replay on the provider with: ldapadd -x -H URL -D DN -W -c -f THIS_FILE\n\n");
    let mut sorted: Vec<&Divergent> = entries.iter().collect();
    sorted.sort_by_key(|d| (d.entry.dn.matches(',').count(), d.entry.dn.clone()));
    for d in sorted {
        out.push_str(&format!("# entryCSN {}\n", d.csn));
        if d.on_provider {
            out.push_str(&format!("# {provider} holds another version of this entry: ldapadd reports it exists; merge it by hand\n"));
        }
        crate::util::ldif::line(&mut out, "dn", d.entry.dn.as_bytes());
        let attrs: BTreeMap<&String, &Vec<String>> = d.entry.attrs.iter().collect();
        for (k, vs) in attrs
            .into_iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("entryCSN"))
        {
            for v in vs {
                crate::util::ldif::line(&mut out, k, v.as_bytes());
            }
        }
        let bins: BTreeMap<&String, &Vec<Vec<u8>>> = d.entry.bin_attrs.iter().collect();
        for (k, vs) in bins {
            for v in vs {
                crate::util::ldif::line(&mut out, k, v);
            }
        }
        out.push('\n');
    }
    out
}

/// Whether `path` already holds exactly these entries (a rerun need not write it again).
pub(super) fn exported(path: &Path, entries: &[Divergent]) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let mut in_file: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("dn: "))
        .collect();
    let mut want: Vec<&str> = entries.iter().map(|d| d.entry.dn.as_str()).collect();
    in_file.sort();
    want.sort();
    in_file == want
}

/// Writes the export and names every entry in the note.
pub(super) async fn export(
    cl: &LdapCluster,
    node: &str,
    provider: &str,
    path: &Path,
) -> Result<String, ProcError> {
    let d = divergent(cl, node, provider).await?;
    crate::export_file::write_new(path, to_ldif(node, provider, &d).as_bytes())?;
    let names: Vec<&str> = d.iter().map(|d| d.entry.dn.as_str()).collect();
    Ok(format!(
        "exported {} entr{} to {}: {}",
        d.len(),
        if d.len() == 1 { "y" } else { "ies" },
        path.display(),
        names.join("; ")
    ))
}

fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !matches!(
            s.rsplit_once(')')
                .and_then(|(_, r)| r.trim_start().chars().next()),
            Some('Z') | Some('X')
        )
    })
}

/// Stops, wipes and restarts `node`: through its `reseed_command`, or through its `data_dir`
/// and the command line slapd recorded in its olcArgsFile.
pub(super) async fn reseed(cl: &LdapCluster, node: &str) -> Result<String, ProcError> {
    let n = cl.node(node)?.clone();
    let fail = |m: String| ProcError::failed(format!("reseed {node}: {m}"));
    if let Some(cmd) = &n.reseed_command {
        let out = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .env("DRCTL_NODE", node)
            .env("DRCTL_DATA_DIR", n.data_dir.clone().unwrap_or_default())
            .output()
            .await
            .map_err(|e| fail(format!("cannot run reseed_command: {e}")))?;
        if !out.status.success() {
            return Err(fail(format!(
                "reseed_command exited {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        return Ok(format!("{node} reseeded by its reseed_command"));
    }
    let dir = n
        .data_dir
        .clone()
        .ok_or_else(|| fail("no data_dir or reseed_command in the cluster file".into()))?;
    let st = cl.config(node).await?;
    let (pid_file, args_file) = st
        .pid_file
        .zip(st.args_file)
        .ok_or_else(|| fail("cn=config has no olcPidFile/olcArgsFile".into()))?;
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| {
            fail(format!(
                "cannot read the pid from {pid_file} (is slapd on this host?)"
            ))
        })?;
    let args: Vec<String> = std::fs::read_to_string(&args_file)
        .map_err(|e| fail(format!("{args_file}: {e}")))?
        .split_whitespace()
        .map(String::from)
        .collect();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    if !args.first().is_some_and(|a| a.ends_with("slapd"))
        || !String::from_utf8_lossy(&cmdline).contains("slapd")
    {
        return Err(fail(format!(
            "pid {pid} from {pid_file} is not the slapd of {args_file}"
        )));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGTERM,
    )
    .map_err(|e| fail(format!("SIGTERM {pid}: {e}")))?;
    poll::within(
        Duration::from_secs(30),
        Duration::from_millis(10),
        || async { poll::holds(!pid_alive(pid)) },
    )
    .await
    .map_err(|()| fail(format!("slapd {pid} did not stop within 30 s")))?;
    let mut wiped = Vec::new();
    for e in std::fs::read_dir(&dir)
        .map_err(|e| fail(format!("{}: {e}", dir.display())))?
        .flatten()
    {
        let p: PathBuf = e.path();
        if p.extension().is_some_and(|x| x == "mdb") {
            std::fs::remove_file(&p).map_err(|e| fail(format!("rm {}: {e}", p.display())))?;
            wiped.push(p.display().to_string());
        }
    }
    let log_path = Path::new(&args_file).with_file_name("slapd.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| fail(format!("{}: {e}", log_path.display())))?;
    use std::os::unix::process::CommandExt;
    std::process::Command::new(&args[0])
        .args(&args[1..])
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().map_err(|e| fail(e.to_string()))?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| fail(format!("cannot start {}: {e}", args[0])))?;
    Ok(format!(
        "stopped slapd {pid}, removed {}, started it again",
        wiped.join(", ")
    ))
}
