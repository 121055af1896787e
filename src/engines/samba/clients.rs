//! Pointing the clients at DCs that answer (`drctl repoint --primary DC`, seed 000's first step,
//! lab P9: a client whose resolver and KDC list name only the dead DC cannot even resolve the
//! others, and one that lists a zombie gets KDC errors instead of a failover).
//!
//! The cluster file's `clients:` names a client's `resolv.conf` and `krb5.conf`. Each gets a
//! managed block, like `drctl hosts apply`: the DCs that answer, the named one first (glibc reads
//! 3 nameservers; Kerberos tries its KDCs in order). What still points the client elsewhere
//! outside the block (a `nameserver` line; the realm's own stanza in `[realms]`) is commented out
//! with a marker, not deleted, so the file says what it used to say. A DC that does not answer,
//! cannot be read or was removed from the domain (a zombie) is left out, and the plan says so.
//! Rewriting a file that already says exactly this writes nothing.

use std::net::IpAddr;
use std::path::Path;

use super::assess::{assess, Probed};
use super::ctx::{SambaAction, SambaCtx};
use super::DcNode;
use crate::engine::{Plan, ProcError, Step};
use crate::hosts::{splice, write_managed, HostsError};

use super::ctx::ClientFiles;

/// glibc reads the first 3 `nameserver` lines.
const MAX_NAMESERVERS: usize = 3;

fn markers(cluster: &str) -> (String, String) {
    (
        format!("# BEGIN drctl cluster {cluster} (managed by `drctl repoint`; edits are replaced)"),
        format!("# END drctl cluster {cluster}"),
    )
}

/// What a line outside the block that pointed the client elsewhere becomes.
fn taken_over(cluster: &str) -> String {
    format!("# drctl repoint (cluster {cluster}) took over: ")
}

/// One managed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum File {
    Resolv,
    Krb5,
}

impl File {
    fn name(self) -> &'static str {
        match self {
            File::Resolv => "resolv.conf",
            File::Krb5 => "krb5.conf",
        }
    }

    fn block(self, cluster: &str, realm: &str, ips: &[String]) -> String {
        let (begin, end) = markers(cluster);
        let mut lines = vec![begin];
        match self {
            File::Resolv => lines.extend(
                ips.iter()
                    .take(MAX_NAMESERVERS)
                    .map(|ip| format!("nameserver {ip}")),
            ),
            File::Krb5 => {
                lines.push("[realms]".into());
                lines.push(format!("\t{realm} = {{"));
                lines.extend(ips.iter().map(|ip| format!("\t\tkdc = {ip}")));
                lines.push("\t}".into());
            }
        }
        lines.push(end);
        lines.join("\n") + "\n"
    }

    /// `text` with its lines outside the block that point the client elsewhere commented out,
    /// and those lines.
    fn take_over(self, text: &str, cluster: &str, realm: &str) -> (String, Vec<String>) {
        let (begin, end) = markers(cluster);
        let mark = taken_over(cluster);
        let (mut inside, mut section, mut depth) = (false, String::new(), 0i32);
        let mut taken = Vec::new();
        let mut out = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            let t = line.trim();
            if t == begin {
                inside = true;
            }
            if t.starts_with('[') && t.ends_with(']') && depth == 0 {
                section = t[1..t.len() - 1].trim().to_ascii_lowercase();
            }
            let foreign = !inside
                && !t.starts_with('#')
                && !t.starts_with(';')
                && match self {
                    File::Resolv => t
                        .strip_prefix("nameserver")
                        .is_some_and(|r| r.starts_with(char::is_whitespace)),
                    File::Krb5 => {
                        let opens = depth == 0
                            && section == "realms"
                            && t.split_once('=').is_some_and(|(tag, rest)| {
                                tag.trim() == realm && rest.trim_start().starts_with('{')
                            });
                        if opens || depth > 0 {
                            depth += t.matches('{').count() as i32 - t.matches('}').count() as i32;
                            depth = depth.max(0);
                            true
                        } else {
                            false
                        }
                    }
                };
            if foreign {
                taken.push(t.to_string());
                out.push_str(&mark);
                out.push_str(line.trim_start());
            } else {
                out.push_str(line);
            }
            if t == end {
                inside = false;
            }
        }
        (out, taken)
    }

    /// What the file becomes: foreign lines commented out, the block in place. None when its
    /// block is damaged (one marker without the other).
    pub(crate) fn rewrite(
        self,
        current: &str,
        cluster: &str,
        realm: &str,
        ips: &[String],
    ) -> Option<(String, Vec<String>)> {
        let (begin, end) = markers(cluster);
        let (rest, taken) = self.take_over(current, cluster, realm);
        let block = self.block(cluster, realm, ips);
        splice(&rest, &begin, &end, &block).map(|t| (t, taken))
    }
}

/// The address clients reach a DC at: its `address`, else its URL's host (resolved).
fn address(n: &DcNode) -> Result<String, String> {
    if let Some(a) = &n.address {
        return Ok(a.clone());
    }
    let host = url::Url::parse(&n.url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_matches(['[', ']']).to_string()))
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            format!(
                "{}: address: required for `drctl repoint` (its url has no host clients reach)",
                n.name
            )
        })?;
    crate::hosts::address(&n.url)
        .map(|ip| ip.to_string())
        .map_err(|e| format!("{}: {e} (set address:, {host})", n.name))
}

/// The addresses a client reads from a file's text, in order, as its resolver (the first 3
/// `nameserver` lines) or its Kerberos library (every `kdc` of the realm's stanzas in
/// `[realms]`) does: not from drctl's block, from every line that is not a comment.
pub(crate) fn listed(file: File, text: &str, realm: &str) -> Vec<String> {
    let (mut section, mut depth, mut in_realm) = (String::new(), 0i32, false);
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        match file {
            File::Resolv => {
                if let Some(ip) = t.strip_prefix("nameserver").map(str::trim) {
                    if out.len() < MAX_NAMESERVERS && !ip.is_empty() {
                        out.push(ip.to_string());
                    }
                }
            }
            File::Krb5 => {
                if depth == 0 && t.starts_with('[') && t.ends_with(']') {
                    section = t[1..t.len() - 1].trim().to_ascii_lowercase();
                    continue;
                }
                if depth == 0 && section == "realms" {
                    in_realm = t
                        .split_once('=')
                        .is_some_and(|(tag, _)| tag.trim() == realm);
                }
                if in_realm && depth == 1 {
                    if let Some((tag, v)) = t.split_once('=') {
                        if tag.trim() == "kdc" {
                            out.push(v.trim().to_string());
                        }
                    }
                }
                depth += t.matches('{').count() as i32 - t.matches('}').count() as i32;
                depth = depth.max(0);
            }
        }
    }
    out
}

/// The client's files naming a DC that does not answer or was removed (a zombie), as problems
/// with their fix (`repoint` to a DC that answers); `a` turns unhealthy. Read from the files as
/// the client reads them, without resolving any name.
pub(crate) fn problems(
    c: &ClientFiles,
    nodes: &[DcNode],
    dcs: &[Probed],
    a: &mut super::assess::Assessment,
) {
    let removed = |name: &str, a: &super::assess::Assessment| a.removed(name).is_some();
    let usable: Vec<&str> = dcs
        .iter()
        .filter(|d| d.view.is_ok() && !removed(&d.name, a))
        .map(|d| d.name.as_str())
        .collect();
    let realm = nodes.first().map(|n| n.realm.as_str()).unwrap_or("");
    let literal = |n: &DcNode| {
        n.address.clone().or_else(|| {
            url::Url::parse(&n.url)
                .ok()?
                .host_str()?
                .trim_matches(['[', ']'])
                .parse::<IpAddr>()
                .ok()
                .map(|ip| ip.to_string())
        })
    };
    let mut found = Vec::new();
    for (file, path) in files(c) {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let listed = listed(file, &text, realm);
        let names: Vec<&str> = listed
            .iter()
            .filter_map(|ip| nodes.iter().find(|n| literal(n).as_deref() == Some(ip)))
            .map(|n| n.name.as_str())
            .collect();
        let fix = usable
            .iter()
            .find(|u| names.contains(u))
            .or(usable.first())
            .map(|to| format!("drctl repoint --primary {to}"))
            .unwrap_or_else(|| "no DC answers to point it at".into());
        for name in names {
            let why = match dcs.iter().find(|d| d.name == name) {
                Some(d) if !d.answers() => "does not answer",
                Some(d) if d.view.is_err() => "cannot be read",
                _ if removed(name, a) => "was removed from the domain (a zombie)",
                _ => continue,
            };
            found.push(format!(
                "client: {} ({}) names {name}, which {why}: {fix}",
                path.display(),
                file.name()
            ));
        }
    }
    if !found.is_empty() {
        a.healthy = false;
        a.problems.extend(found);
    }
}

/// The files, each with what it is.
pub(crate) fn files(c: &ClientFiles) -> Vec<(File, &Path)> {
    [
        (File::Resolv, c.resolv_conf.as_deref()),
        (File::Krb5, c.krb5_conf.as_deref()),
    ]
    .into_iter()
    .filter_map(|(f, p)| p.map(|p| (f, p)))
    .collect()
}

fn read(p: &Path) -> Result<String, ProcError> {
    match std::fs::read_to_string(p) {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(ProcError::failed(format!(
            "cannot read {}: {e}",
            p.display()
        ))),
    }
}

fn damaged(p: &Path, cluster: &str) -> ProcError {
    ProcError::refused(format!(
        "{}: the drctl block for {cluster} is damaged (one marker without the other); fix it by \
         hand",
        p.display()
    ))
    .unchanged()
}

/// Whether every file says exactly that (Ok), or what differs (Err).
pub(crate) fn holds(ctx: &SambaCtx, ips: &[String]) -> Result<Result<String, String>, ProcError> {
    let c = ctx.clients()?;
    let mut differ = Vec::new();
    for (f, p) in files(c) {
        let current = read(p)?;
        let (next, taken) = f
            .rewrite(&current, &ctx.cluster, &ctx.realm, ips)
            .ok_or_else(|| damaged(p, &ctx.cluster))?;
        if next != current {
            differ.push(if taken.is_empty() {
                format!("{} does not list {}", p.display(), ips.join(", "))
            } else {
                format!("{} still has {}", p.display(), taken.join("; "))
            });
        }
    }
    Ok(if differ.is_empty() {
        Ok(format!("the clients use {}", ips.join(", ")))
    } else {
        Err(differ.join("; "))
    })
}

/// Writes every file; what it changed.
pub(crate) fn apply(ctx: &SambaCtx, ips: &[String]) -> Result<Option<String>, ProcError> {
    let c = ctx.clients()?;
    let mut wrote = Vec::new();
    for (f, p) in files(c) {
        let changed = write_managed(p, |current| {
            f.rewrite(current, &ctx.cluster, &ctx.realm, ips)
                .map(|(t, _)| t)
                .ok_or_else(|| HostsError::Invalid("damaged".into()))
        })
        .map_err(|e| match e {
            HostsError::Invalid(_) => damaged(p, &ctx.cluster),
            e => ProcError::failed(e.to_string()),
        })?;
        if changed {
            wrote.push(p.display().to_string());
        }
    }
    Ok((!wrote.is_empty()).then(|| format!("wrote {}", wrote.join(", "))))
}

/// The plan from one probe: the DCs clients should use, `primary` first, and the files to
/// point at them. Refused while `primary` gives no view or is no DC of the domain.
pub(crate) fn plan(
    ctx: &SambaCtx,
    dcs: &[Probed],
    primary: &str,
) -> Result<Plan<SambaAction>, ProcError> {
    let c = ctx.clients()?;
    let node = ctx.node(primary)?;
    let primary = node.name.clone();
    let refuse = |m: String| Err(ProcError::refused(m).unchanged());
    let a = assess(dcs);
    let zombie = |name: &str| a.removed(name);
    match dcs.iter().find(|d| d.name == primary).map(|d| &d.view) {
        Some(Ok(_)) => {}
        Some(Err(e)) => return refuse(format!("clients cannot use {primary}: {e}")),
        None => return refuse(format!("{primary} was not probed")),
    }
    if let Some(p) = zombie(&primary) {
        return refuse(format!("clients must not use {primary}: {p}"));
    }
    let mut plan = Plan::new("samba-ad repoint");
    let mut chosen: Vec<&DcNode> = vec![node];
    for d in dcs.iter().filter(|d| d.name != primary) {
        let n = ctx.node(&d.name)?;
        match (&d.view, zombie(&d.name)) {
            (Err(e), _) => {
                plan.note(format!("{} is left out: {e}", d.name));
            }
            (Ok(_), Some(_)) => {
                plan.note(format!(
                    "{} is left out: removed from the domain, it answers as a zombie",
                    d.name
                ));
            }
            (Ok(_), None) => chosen.push(n),
        }
    }
    let mut ips = Vec::new();
    for n in &chosen {
        ips.push(address(n).map_err(ProcError::usage)?);
    }
    let names: Vec<String> = chosen.iter().map(|n| n.name.clone()).collect();
    if files(c).iter().any(|(f, _)| *f == File::Resolv) && ips.len() > MAX_NAMESERVERS {
        plan.note(format!(
            "resolv.conf lists the first {MAX_NAMESERVERS} (a resolver reads no more)"
        ));
    }
    for (f, p) in files(c) {
        let current = read(p)?;
        let (_, taken) = f
            .rewrite(&current, &ctx.cluster, &ctx.realm, &ips)
            .ok_or_else(|| damaged(p, &ctx.cluster))?;
        for line in taken {
            plan.note(format!(
                "{} ({}): '{line}' is commented out",
                p.display(),
                f.name()
            ));
        }
    }
    plan.step(Step::new(SambaAction::Clients { dcs: names, ips }));
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL_KRB5: &str = "[libdefaults]\n  default_realm = SDC.TEST\n  dns_lookup_kdc = false\n\
        [realms]\n  SDC.TEST = {\n    kdc = 10.99.53.11\n    auth_to_local = {\n      RULE:x\n    }\n  }\n\
        \x20 OTHER.TEST = {\n    kdc = 10.0.0.1\n  }\n[domain_realm]\n  .sdc.test = SDC.TEST\n";

    #[test]
    fn krb5_conf_loses_only_the_realms_own_stanza_and_takes_the_block() {
        let ips = vec!["10.99.53.12".to_string(), "10.99.53.13".to_string()];
        let (next, taken) = File::Krb5
            .rewrite(ORIGINAL_KRB5, "lab", "SDC.TEST", &ips)
            .unwrap();
        assert_eq!(taken.len(), 6, "{taken:?}");
        assert!(next.contains("# drctl repoint (cluster lab) took over: SDC.TEST = {"));
        assert!(next.contains("# drctl repoint (cluster lab) took over: }"));
        assert!(next.contains("  OTHER.TEST = {\n    kdc = 10.0.0.1\n  }\n"));
        assert!(next.contains("[domain_realm]\n  .sdc.test = SDC.TEST\n"));
        assert!(next.ends_with(
            "[realms]\n\tSDC.TEST = {\n\t\tkdc = 10.99.53.12\n\t\tkdc = 10.99.53.13\n\t}\n\
             # END drctl cluster lab\n"
        ));
        // Idempotent: a second rewrite changes nothing; a new list replaces the block in place.
        let (again, taken) = File::Krb5.rewrite(&next, "lab", "SDC.TEST", &ips).unwrap();
        assert_eq!((again.as_str(), taken.len()), (next.as_str(), 0));
        let (moved, _) = File::Krb5
            .rewrite(&next, "lab", "SDC.TEST", &ips[1..])
            .unwrap();
        assert!(moved.contains("kdc = 10.99.53.13\n\t}") && !moved.contains("kdc = 10.99.53.12"));
    }

    #[test]
    fn resolv_conf_keeps_three_nameservers_and_its_search_line() {
        let ips: Vec<String> = (2..=5).map(|i| format!("10.99.53.1{i}")).collect();
        let (next, taken) = File::Resolv
            .rewrite(
                "search sdc.test\nnameserver 10.99.53.11\n# nameserver 9.9.9.9\n",
                "lab",
                "SDC.TEST",
                &ips,
            )
            .unwrap();
        assert_eq!(taken, vec!["nameserver 10.99.53.11".to_string()]);
        assert_eq!(
            next,
            "search sdc.test\n# drctl repoint (cluster lab) took over: nameserver 10.99.53.11\n\
             # nameserver 9.9.9.9\n# BEGIN drctl cluster lab (managed by `drctl repoint`; edits \
             are replaced)\nnameserver 10.99.53.12\nnameserver 10.99.53.13\nnameserver \
             10.99.53.14\n# END drctl cluster lab\n"
        );
    }

    #[test]
    fn a_client_reads_the_kdcs_of_its_realm_wherever_they_are() {
        let ips = vec!["10.99.53.12".to_string()];
        assert_eq!(
            listed(File::Krb5, ORIGINAL_KRB5, "SDC.TEST"),
            vec!["10.99.53.11"]
        );
        let (next, _) = File::Krb5
            .rewrite(ORIGINAL_KRB5, "lab", "SDC.TEST", &ips)
            .unwrap();
        assert_eq!(listed(File::Krb5, &next, "SDC.TEST"), ips);
        assert_eq!(listed(File::Krb5, &next, "OTHER.TEST"), vec!["10.0.0.1"]);
    }

    #[test]
    fn a_block_missing_its_end_marker_is_not_rewritten() {
        let text = "# BEGIN drctl cluster lab (managed by `drctl repoint`; edits are replaced)\n\
                    nameserver 1.1.1.1\n";
        assert!(File::Resolv
            .rewrite(text, "lab", "SDC.TEST", &["10.0.0.1".into()])
            .is_none());
    }
}
