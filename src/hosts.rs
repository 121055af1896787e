//! Seed 004's hosts-file alternative to DNS: a managed block with each node's unique name, then
//! the cluster alias once per node (primary first), written idempotently between markers.

use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use crate::inventory::Inventory;
use crate::util::names::validate_hostname;

#[derive(Debug, thiserror::Error)]
pub(crate) enum HostsError {
    #[error("{0}")]
    Invalid(String),
    #[error("cannot resolve {host}: {detail}")]
    Resolve { host: String, detail: String },
    #[error("cannot {verb} {path}: {source}")]
    Io {
        verb: &'static str,
        path: String,
        source: std::io::Error,
    },
}

fn markers(cluster: &str) -> (String, String) {
    (
        format!(
            "# BEGIN drctl cluster {cluster} (managed by `drctl hosts apply`; edits are replaced)"
        ),
        format!("# END drctl cluster {cluster}"),
    )
}

/// The address of a node URL's host (an IP as is; a name resolved, IPv4 first).
pub(crate) fn address(url: &str) -> Result<IpAddr, HostsError> {
    let u = url::Url::parse(url).map_err(|e| HostsError::Invalid(format!("{url}: {e}")))?;
    let host = u
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_string();
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(ip);
    }
    let addrs: Vec<IpAddr> = (host.as_str(), u.port().unwrap_or(443))
        .to_socket_addrs()
        .map_err(|e| HostsError::Resolve {
            host: host.clone(),
            detail: e.to_string(),
        })?
        .map(|a| a.ip())
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or(HostsError::Resolve {
            host,
            detail: "no address".into(),
        })
}

/// Renders the block for a cluster file; `primary` (a node name) comes first among the alias
/// lines.
pub(crate) fn render(inv: &Inventory, primary: Option<&str>) -> Result<String, HostsError> {
    let nodes: Vec<(String, String)> = inv
        .file
        .nodes
        .iter()
        .map(|n| (n.name.clone(), n.url.clone()))
        .collect();
    render_nodes(
        &inv.file.cluster,
        &nodes,
        inv.file.alias.as_deref(),
        primary,
    )
}

/// Renders the block from node names and URLs.
pub(crate) fn render_nodes(
    cluster: &str,
    urls: &[(String, String)],
    alias: Option<&str>,
    primary: Option<&str>,
) -> Result<String, HostsError> {
    let (begin, end) = markers(cluster);
    let mut lines = vec![begin];
    let mut nodes: Vec<(String, IpAddr)> = Vec::new();
    for (name, url) in urls {
        validate_hostname(name).map_err(|e| HostsError::Invalid(e.to_string()))?;
        nodes.push((name.clone(), address(url)?));
    }
    for (name, ip) in &nodes {
        lines.push(format!("{ip} {name}"));
    }
    if let Some(alias) = alias {
        validate_hostname(alias).map_err(|e| HostsError::Invalid(e.to_string()))?;
        nodes.sort_by_key(|(name, _)| Some(name.as_str()) != primary);
        let mut seen = Vec::new();
        for (_, ip) in &nodes {
            if !seen.contains(ip) {
                seen.push(*ip);
                lines.push(format!("{ip} {alias}"));
            }
        }
    }
    lines.push(end);
    Ok(lines.join("\n") + "\n")
}

/// Whether `path` already holds exactly `block`.
pub(crate) fn holds(path: &Path, block: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|s| s.contains(block))
}

/// Writes `block` into `path` between its markers (appending it the first time). Returns
/// false when the file already holds exactly that block, and then writes nothing.
pub(crate) fn apply(path: &Path, cluster: &str, block: &str) -> Result<bool, HostsError> {
    let (begin, end) = markers(cluster);
    write_managed(path, |current| {
        splice(current, &begin, &end, block).ok_or_else(|| {
            HostsError::Invalid(format!(
                "{}: the drctl block for {cluster} is damaged (one marker without the other); fix it by hand",
                path.display()
            ))
        })
    })
}

/// `current` with `block` between the lines `begin` and `end` (in place of what was there,
/// or appended); None when only one marker is there.
pub(crate) fn splice(current: &str, begin: &str, end: &str, block: &str) -> Option<String> {
    Some(match (current.find(begin), current.find(end)) {
        (Some(b), Some(e)) if e > b => {
            let after = current[e + end.len()..].trim_start_matches('\n');
            format!("{}{block}{after}", &current[..b])
        }
        (Some(_), _) | (_, Some(_)) => return None,
        _ if current.is_empty() => block.to_string(),
        _ if current.ends_with('\n') => format!("{current}{block}"),
        _ => format!("{current}\n{block}"),
    })
}

/// Rewrites `path` (a missing file reads as empty) to what `next` makes of its text,
/// atomically; false, writing nothing, when that is what it holds.
pub(crate) fn write_managed(
    path: &Path,
    next: impl FnOnce(&str) -> Result<String, HostsError>,
) -> Result<bool, HostsError> {
    let io = |verb| {
        let path = path.display().to_string();
        move |source| HostsError::Io { verb, path, source }
    };
    // A symlinked file (a managed /etc/hosts) stays a link: its target is rewritten.
    let target = real_path(path).map_err(io("resolve"))?;
    let current = match std::fs::read_to_string(&target) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(io("read")(e)),
    };
    let next = next(&current)?;
    if next == current {
        return Ok(false);
    }
    replace(&target, next.as_bytes()).map_err(io("write"))?;
    Ok(true)
}

/// The file `path` names: itself, or the final target of a symlink (which must exist).
fn real_path(path: &Path) -> std::io::Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path),
        _ => Ok(path.to_path_buf()),
    }
}

/// Replaces `target` atomically: a tmp file with an unpredictable name, created exclusively in
/// the same directory (so nothing planted there is followed), with the old file's mode and
/// owner, synced, then renamed over it. On any failure the tmp file is removed.
fn replace(target: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".drctl-hosts-")
        .tempfile_in(dir)?;
    tmp.write_all(content)?;
    match std::fs::metadata(target) {
        Ok(meta) => {
            tmp.as_file().set_permissions(meta.permissions())?;
            // Root rewriting a file it does not own keeps the owner (best effort otherwise).
            let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
        }
        // A new hosts file is world-readable, as resolvers need.
        Err(_) => tmp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?,
    }
    tmp.as_file().sync_all()?;
    tmp.persist(target).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_and_apply_idempotently() {
        let inv = Inventory::parse(
            Path::new("c.yaml"),
            "cluster: prod\nalias: vhi-prod-sea\nnodes:\n  - {name: m1, url: 'https://10.0.0.1:7443'}\n  - {name: m2, url: 'https://10.0.0.2:7443'}\n",
            |_| Ok(()),
        )
        .unwrap();
        let block = render(&inv, Some("m2")).unwrap();
        let lines: Vec<&str> = block.lines().collect();
        assert_eq!(lines[1], "10.0.0.1 m1");
        assert_eq!(lines[3], "10.0.0.2 vhi-prod-sea", "primary first: {block}");
        assert_eq!(lines[4], "10.0.0.1 vhi-prod-sea");
        let dir = tempfile::tempdir().unwrap();
        let hosts = dir.path().join("hosts");
        std::fs::write(&hosts, "127.0.0.1 localhost\n").unwrap();
        assert!(apply(&hosts, "prod", &block).unwrap());
        assert!(!apply(&hosts, "prod", &block).unwrap());
        let text = std::fs::read_to_string(&hosts).unwrap();
        assert!(text.starts_with("127.0.0.1 localhost\n# BEGIN drctl cluster prod"));
        let other = render(&inv, Some("m1")).unwrap();
        assert!(apply(&hosts, "prod", &other).unwrap());
        assert_eq!(
            std::fs::read_to_string(&hosts)
                .unwrap()
                .matches("# BEGIN")
                .count(),
            1
        );
    }
}
