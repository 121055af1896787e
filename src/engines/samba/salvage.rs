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
/// `whoami` prints the DC's invocationId and naming contexts; `changes FLOORS` (base64 of a
/// JSON map NC → USN) prints the entries above each floor, as LDIF, secrets left out.
const READER: &str = r#"
import sys, json, base64
from samba.param import LoadParm
from samba.samdb import SamDB
from samba.auth import system_session
import ldb
from samba.dcerpc import drsblobs
from samba.ndr import ndr_unpack
args = sys.argv[1:]
conf = None
if "-s" in args:
    i = args.index("-s"); conf = args[i + 1]; del args[i:i + 2]
lp = LoadParm()
if conf: lp.load(conf)
else: lp.load_default()
db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp,
           flags=ldb.FLG_DONT_CREATE_DB | ldb.FLG_RDONLY)
conf_dn = str(db.get_config_basedn()); base = str(db.domain_dn())
root = str(db.get_root_basedn())
ncs = [conf_dn, "CN=Schema," + conf_dn, base, "DC=DomainDnsZones," + base, "DC=ForestDnsZones," + root]
if args[0] == "whoami":
    print(json.dumps({"invocation": str(db.get_invocation_id()), "ncs": ncs}))
    sys.exit(0)
floors = json.loads(base64.b64decode(args[1]))
me = str(db.get_invocation_id())
deleted_attid = db.get_attid_from_lDAPDisplayName("isDeleted")
def own(m, floor, deleted):
    # Some attribute last written here (this invocation), at a USN no partner took; for a
    # tombstone, the deletion itself (a deletion received from another DC leaves local stamps).
    if "replPropertyMetaData" not in m:
        return True
    md = ndr_unpack(drsblobs.replPropertyMetaDataBlob, m["replPropertyMetaData"][0])
    mine = [a for a in md.ctr.array
            if str(a.originating_invocation_id) == me and a.originating_usn > floor]
    if deleted:
        return any(a.attid == deleted_attid for a in mine)
    return bool(mine)
secret = {a.lower() for a in ["unicodePwd", "dBCSPwd", "ntPwdHistory", "lmPwdHistory",
    "supplementalCredentials", "priorValue", "currentValue", "trustAuthIncoming",
    "trustAuthOutgoing", "initialAuthIncoming", "initialAuthOutgoing", "pekList",
    "msDS-ExecuteScriptPassword"]}
out = []
for nc in ncs:
    if nc not in floors:
        continue
    res = db.search(base=nc, scope=ldb.SCOPE_SUBTREE,
                    expression="(uSNChanged>=%d)" % (floors[nc] + 1),
                    attrs=["*", "isDeleted", "uSNChanged", "replPropertyMetaData"],
                    controls=["show_deleted:1"])
    for m in res:
        dn = str(m.dn)
        own_nc = max((x for x in ncs if dn.lower().endswith(x.lower())), key=len, default=None)
        deleted = "isDeleted" in m and str(m["isDeleted"][0]).upper() == "TRUE"
        if own_nc != nc or not own(m, floors[nc], deleted):
            continue
        del m["replPropertyMetaData"]
        for a in list(m.keys()):
            if a.lower() in secret:
                del m[a]
        out.append({"dn": dn, "usn": int(str(m["uSNChanged"][0])), "deleted": deleted,
                    "ldif": db.write_ldif(m, ldb.CHANGETYPE_NONE)})
print(json.dumps(out))
"#;

/// How long one read of a stopped DC's database may take (a Python start and a search of
/// each naming context: about a second on the lab).
const BOUND: Duration = Duration::from_secs(60);

#[derive(Deserialize)]
struct Whoami {
    invocation: String,
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
    let mut floors: BTreeMap<&String, u64> = who.ncs.iter().map(|nc| (nc, 0)).collect();
    for p in ctx
        .nodes
        .iter()
        .filter(|p| !p.name.eq_ignore_ascii_case(dc))
    {
        for nc in &who.ncs {
            if let Ok(Some(usn)) = probe::utd_of(p, ctx.timeout, nc, &who.invocation).await {
                let f = floors.get_mut(nc).expect("every nc");
                *f = (*f).max(usn);
            }
        }
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
