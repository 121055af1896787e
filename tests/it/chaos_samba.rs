//! `drctl chaos --kind samba-ad` on real Samba AD DCs: a fixed-seed campaign keeps every Samba
//! invariant (each run provisions its own 3-DC domain: about half a minute of it), and options
//! the engine has not are refused. Skipped, saying why, where Samba or root is missing.

use std::path::Path;

use crate::support::*;

fn chaos(dir: &Path, args: &[&str]) -> Run {
    chaos_run(Some("samba-ad"), dir, &[], args)
}

/// Seeds 102-103 draw the PDC holder SIGSTOPped and removed while it hangs (what it had not
/// replicated read from its disk and exported), a removal SIGKILLed part-way and rerun, racing
/// operators refused by the host lock, a join of a hung DC (stopped for real first: it once
/// moved the databases from under it), and the policy's join of the zombie the healed DC
/// becomes; about four minutes on 2 cores.
#[test]
fn chaos_samba_fixed_seed_campaign_keeps_every_invariant() {
    if samba_missing() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("chaos.xml");
    let r = chaos(
        tmp.path(),
        &[
            "--seed",
            "102",
            "--runs",
            "2",
            "--json",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    let s = campaign_passed(
        &r,
        2,
        &[
            "acked-writes-kept",
            "one-holder-per-role",
            "converges",
            "no-panic",
            "exit-codes-match-outcomes",
        ],
        &junit,
    );
    let said: Vec<String> = s["reports"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["timeline"].as_array().unwrap())
        .map(|e| format!("{} -> {}", e["what"], e["result"]))
        .collect();
    assert!(said.iter().any(|l| l.contains("drctl join")), "{said:?}");
    chaos(tmp.path(), &["--procedures", "switchover"])
        .exit(2)
        .stderr_has("--procedures switchover: unknown");
    chaos(tmp.path(), &["--faults", "wipe"])
        .exit(2)
        .stderr_has("--faults wipe: unknown");
    chaos(tmp.path(), &["--nodes", "4"])
        .exit(2)
        .stderr_has("--nodes 4: a samba-ad chaos lab has 3 nodes");
}
