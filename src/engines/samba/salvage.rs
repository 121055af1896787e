//! What a dead DC took that no other DC received, read from its own database on its host (its
//! samba stopped: killed, crashed, or stopped by drctl) and exported before the metadata
//! cleanup forgets it (`remove-instance`), or before `join` moves a zombie's databases aside
//! when the zombie could not be read over LDAP.
//!
//! A DC acknowledges a write before it replicates it (seconds later, on change notification),
//! so a DC killed right after a write holds changes no other DC has. They are on its disk: the
//! Samba Python bindings open its `sam.ldb` read-only through the cluster file's
//! `command_prefix` (`ssh dc1`, `ip netns exec sdc-dc1`), with its smb.conf. Which changes: the
//! entries and tombstones of each naming context with an attribute this DC wrote last (its
//! `replPropertyMetaData` names its invocation) at a USN above the highest of its invocation any
//! DC that answers took (their `replUpToDateVector`). What it received from others is not
//! exported: the others have it. Secret attributes (password hashes, trust secrets) are left
//! out of the export.
//!
//! A DC that does not answer is stopped first where the cluster file says how (`stop_command`):
//! a hung one holds its database's locks, and it must never serve again with this disk. Where
//! the host cannot be reached or the database cannot be read, the report says so and
//! that what the DC alone held, if anything, is not exported: the cleanup goes on (the seed's
//! "if it cannot be recovered"), the operator told.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

use super::ctx::SambaCtx;
use super::host::{command_on, host_output};
use super::probe;
use crate::engine::ProcError;

/// The reader, run as `/usr/bin/python3 - PHASE [FLOORS] [-s SMB_CONF]` with this on stdin.
/// It opens the naming contexts' files raw, with none of the directory's modules: a zombie that
/// pulled its own removal can no longer name its invocation or search its tombstones through
/// them ("Failed to find NTDS invocation ID", "Could not verify if Recycle Bin is enabled").
/// `whoami` prints the DC's own invocations (those its changes name that its
/// `replUpToDateVector` never took from another DC) and its naming contexts; `changes FLOORS`
/// (base64 of a JSON map NC → invocation → USN) prints the entries above the floors, as LDIF,
/// secrets left out.
const READER: &str = r#"
import sys, json, base64, os, re
from samba.param import LoadParm
import ldb
from samba.dcerpc import drsblobs, drsuapi
from samba.ndr import ndr_unpack
args = sys.argv[1:]
conf = None
if "-s" in args:
    i = args.index("-s"); conf = args[i + 1]; del args[i:i + 2]
lp = LoadParm()
if conf: lp.load(conf)
else: lp.load_default()
sam = lp.private_path("sam.ldb")
if not os.path.exists(sam):
    sys.exit("no database at " + sam)
flags = ldb.FLG_RDONLY | ldb.FLG_DONT_CREATE_DB
top = ldb.Ldb(url=sam, flags=flags, options=["modules:"])
part = top.search("@PARTITION", ldb.SCOPE_BASE)[0]
store = str(part["backendStore"][0]) if "backendStore" in part else "tdb"
parts = {}
# A join that stopped before it replicated leaves a database with no naming context.
for p in (part["partition"] if "partition" in part else []):
    dn, f = str(p).split(":", 1)
    parts[dn] = ldb.Ldb(url=store + "://" + os.path.join(os.path.dirname(sam), f),
                        flags=flags, options=["modules:"])
def metadata(m):
    if "replPropertyMetaData" not in m:
        return []
    return ndr_unpack(drsblobs.replPropertyMetaDataBlob, m["replPropertyMetaData"][0]).ctr.array
entries, taken, seen = {}, set(), set()
for nc, db in parts.items():
    head = db.search(nc, ldb.SCOPE_BASE, attrs=["replUpToDateVector"])
    if head and "replUpToDateVector" in head[0]:
        u = ndr_unpack(drsblobs.replUpToDateVectorBlob, head[0]["replUpToDateVector"][0])
        taken |= {str(c.source_dsa_invocation_id) for c in u.ctr.cursors}
    entries[nc] = [m for m in db.search(nc, ldb.SCOPE_SUBTREE, "(objectClass=*)",
                                        ["*", "replPropertyMetaData"])
                   if not str(m.dn).startswith("@")]
    for m in entries[nc]:
        seen |= {str(a.originating_invocation_id) for a in metadata(m)}
mine = sorted(seen - taken)
if args[0] == "whoami":
    print(json.dumps({"invocations": mine, "ncs": sorted(parts)}))
    sys.exit(0)
floors = json.loads(base64.b64decode(args[1]))
def own(m, nc, deleted):
    # Some attribute last written here (an own invocation), at a USN no partner took; for a
    # tombstone, the deletion itself (a deletion received from another DC leaves local stamps).
    floor = floors.get(nc, {})
    new = [a for a in metadata(m) if str(a.originating_invocation_id) in mine
           and a.originating_usn > floor.get(str(a.originating_invocation_id), 0)]
    if deleted:
        return any(a.attid == drsuapi.DRSUAPI_ATTID_isDeleted for a in new)
    return bool(new)
secret = {a.lower() for a in ["unicodePwd", "dBCSPwd", "ntPwdHistory", "lmPwdHistory",
    "supplementalCredentials", "priorValue", "currentValue", "trustAuthIncoming",
    "trustAuthOutgoing", "initialAuthIncoming", "initialAuthOutgoing", "pekList",
    "msDS-ExecuteScriptPassword"]}
ext = re.compile(rb"^(<[A-Za-z_]+=[^>]*>;)+")
out = []
for nc, db in parts.items():
    for m in entries[nc]:
        deleted = "isDeleted" in m and str(m["isDeleted"][0]).upper() == "TRUE"
        if not own(m, nc, deleted):
            continue
        usn = int(str(m["uSNChanged"][0])) if "uSNChanged" in m else 0
        del m["replPropertyMetaData"]
        for a in [a for a in m.keys() if a.lower() != "dn"]:
            if a.lower() in secret:
                del m[a]
                continue
            # Stored DN values carry their GUID, SID and link metadata: plain DNs, as a client
            # would write them.
            vals = [bytes(v) for v in m[a]]
            if any(ext.match(v) for v in vals):
                m[a] = ldb.MessageElement([ext.sub(b"", v) for v in vals],
                                          ldb.FLAG_MOD_REPLACE, a)
        out.append({"dn": str(m.dn), "usn": usn, "deleted": deleted,
                    "ldif": db.write_ldif(m, ldb.CHANGETYPE_NONE)})
print(json.dumps(out))
"#;

/// How long one read of a stopped DC's database may take (a Python start and a search of
/// each naming context: about a second on the lab).
const BOUND: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
struct Whoami {
    /// Its own invocations (one, unless it was restored from a backup).
    invocations: Vec<String>,
    ncs: Vec<String>,
}

/// One change the domain lacks, as the DC's database holds it.
#[derive(Debug, Deserialize)]
pub(crate) struct Change {
    pub(crate) dn: String,
    pub(crate) usn: u64,
    pub(crate) deleted: bool,
    ldif: String,
}

async fn read(ctx: &SambaCtx, dc: &str, args: &str) -> Result<String, ProcError> {
    let n = ctx.node(dc)?;
    let command = command_on(n, &format!("/usr/bin/python3 - {args}"));
    let out = host_output(
        dc,
        "read its database",
        &command,
        Some(READER.as_bytes()),
        BOUND,
    )
    .await?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The changes `dc`'s own database holds that no DC that answers took from it, in the order it
/// made them.
pub(crate) async fn taken(ctx: &SambaCtx, dc: &str) -> Result<Vec<Change>, ProcError> {
    let bad = |e: serde_json::Error| ProcError::failed(format!("{dc}: its database reader: {e}"));
    let who: Whoami = serde_json::from_str(read(ctx, dc, "whoami").await?.trim()).map_err(bad)?;
    // Per naming context and own invocation: the highest USN any other DC that answers took.
    let mut floors: BTreeMap<&String, BTreeMap<&String, u64>> = BTreeMap::new();
    for p in ctx
        .nodes
        .iter()
        .filter(|p| !p.name.eq_ignore_ascii_case(dc))
    {
        for nc in &who.ncs {
            for inv in &who.invocations {
                match probe::utd_of(p, ctx.timeout, nc, inv).await {
                    // Not in its vector: it took nothing of that invocation (floor 0).
                    Ok(usn) => {
                        let f = floors.entry(nc).or_default().entry(inv).or_default();
                        *f = (*f).max(usn.unwrap_or(0));
                    }
                    Err(_) => continue,
                }
            }
        }
    }
    // Without one partner's vector every own entry would count as lost.
    if let Some(nc) = who.ncs.iter().find(|nc| !floors.contains_key(nc)) {
        return Err(ProcError::failed(format!(
            "no other DC that answers gives its replUpToDateVector of {nc}"
        )));
    }
    let floors = base64::engine::general_purpose::STANDARD
        .encode(serde_json::to_vec(&floors).expect("a map of numbers"));
    let mut changes: Vec<Change> =
        serde_json::from_str(read(ctx, dc, &format!("changes {floors}")).await?.trim())
            .map_err(bad)?;
    changes.sort_by_key(|c| c.usn);
    Ok(changes)
}

/// The changes as LDIF, in the order the DC made them.
pub(crate) fn to_ldif(dc: &str, changes: &[Change]) -> String {
    let mut out = format!(
        "# Changes {dc} made that no other DC of the domain received, read from its own\n\
         # database by drctl before its removal from the domain or its join (secret\n\
         # attributes left out). Entries as {dc} held them: drop objectGUID, objectSid,\n\
         # uSN*, when*, instanceType and the other attributes the directory sets before\n\
         # adding one again (ldapadd over LDAPS); a deletion is a tombstone.\n\n"
    );
    for c in changes {
        out.push_str(&format!(
            "# uSNChanged {}{}\n{}\n",
            c.usn,
            if c.deleted { " (deleted)" } else { "" },
            c.ldif.trim_end()
        ));
        out.push('\n');
    }
    out
}

/// Reads `dc`'s database and exports what only it holds to `path`: what the report says. A
/// database that cannot be read is said, not an error (the DC's disk may be gone for good); an
/// export that cannot be written is an error.
pub(crate) async fn apply(ctx: &SambaCtx, dc: &str, path: &Path) -> Result<String, ProcError> {
    // A DC that does not answer may be hung (SIGSTOP) in the middle of a write, holding its
    // database's locks: it is stopped first (its stop_command, a no-op on a stopped DC). A host
    // that does not answer fails it; the read is tried anyway.
    let stop = match &ctx.node(dc)?.stop_command {
        Some(c) => match super::host::host_command(ctx, dc, "stop_command", c, None).await {
            Ok(_) => String::new(),
            Err(e) => format!(" (its stop_command failed: {e})"),
        },
        None => String::new(),
    };
    let c = match taken(ctx, dc).await {
        Ok(c) => c,
        Err(e) => {
            return Ok(format!(
                "WARNING: {dc}'s database could not be read on its host ({e}){stop}: what it \
                 took that no other DC received, if anything, is not exported"
            ))
        }
    };
    if c.is_empty() {
        return Ok(format!(
            "{dc}'s database holds no change the other DCs lack"
        ));
    }
    crate::export_file::write_new(path, to_ldif(dc, &c).as_bytes())?;
    let dns: Vec<&str> = c.iter().map(|c| c.dn.as_str()).collect();
    Ok(format!(
        "exported {} change(s) only {dc} held to {}: {}",
        c.len(),
        crate::util::words::absolute(path).display(),
        dns.join("; ")
    ))
}

/// The default export file of a removal or a join.
pub(crate) fn default_path(dir: &Path, verb: &str, dc: &str, run_id: &str) -> std::path::PathBuf {
    dir.join(format!("drctl-{verb}-{dc}-{run_id}.ldif"))
}

/// Salvaged once the export file exists, or once the step it came before has run (a rerun
/// reads nothing again): the cleanup (no DC that answers lists `dc`) or the join through `via`
/// (`via` lists `dc`). Read without running anything on the DC's host (a dry run runs nothing).
pub(super) async fn salvaged(
    ctx: &SambaCtx,
    dc: &str,
    path: &std::path::Path,
    via: Option<&str>,
) -> Result<Result<String, String>, ProcError> {
    if path.exists() {
        return Ok(Ok(format!(
            "exported to {}",
            crate::util::words::absolute(path).display()
        )));
    }
    let dcs = ctx.probe().await;
    let lists = |p: &super::assess::Probed| {
        p.view
            .as_ref()
            .is_ok_and(|v| v.dcs.iter().any(|x| x.eq_ignore_ascii_case(dc)))
    };
    Ok(match via {
        Some(via)
            if dcs
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(via) && lists(p)) =>
        {
            Ok(format!("{via} has the DC {dc} again"))
        }
        None if !dcs
            .iter()
            .any(|p| !p.name.eq_ignore_ascii_case(dc) && lists(p)) =>
        {
            Ok(format!("{dc} is no DC of the domain any more"))
        }
        _ => Err(format!("{dc}'s database not read yet")),
    })
}

/// The export at `path` is drctl's; none there is no failure: the note of `apply` says why
/// (nothing to export, or unreadable).
pub(super) fn exported(path: &std::path::Path) -> Result<Option<String>, ProcError> {
    match std::fs::read_to_string(path) {
        Ok(t) if t.starts_with("# Changes") => Ok(Some(format!(
            "{} holds the export",
            crate::util::words::absolute(path).display()
        ))),
        Ok(_) => Err(ProcError::failed(format!(
            "{} is not the export drctl wrote",
            path.display()
        ))),
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_names_each_change_in_usn_order_and_marks_deletions() {
        let c = vec![
            Change {
                dn: "CN=a,CN=Users,DC=sdc,DC=test".into(),
                usn: 4000,
                deleted: false,
                ldif: "dn: CN=a,CN=Users,DC=sdc,DC=test\ncn: a\n\n".into(),
            },
            Change {
                dn: "CN=b\\0ADEL:x,CN=Deleted Objects,DC=sdc,DC=test".into(),
                usn: 4001,
                deleted: true,
                ldif: "dn: CN=b\\0ADEL:x,CN=Deleted Objects,DC=sdc,DC=test\nisDeleted: TRUE\n"
                    .into(),
            },
        ];
        let text = to_ldif("dc3", &c);
        assert!(text.contains("# uSNChanged 4000\ndn: CN=a,CN=Users,DC=sdc,DC=test\ncn: a\n\n"));
        assert!(text.contains("# uSNChanged 4001 (deleted)\ndn: CN=b"));
        assert!(text.ends_with("isDeleted: TRUE\n\n"));
    }
}
