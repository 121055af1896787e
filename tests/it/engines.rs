//! The engine contract seen from outside: the kind is chosen once by the registry, a verb an
//! engine does not claim is refused before anything runs (exit 2, naming the engine), and the
//! skeleton engine, which claims none, shows that an engine is one folder plus one registry
//! line.

use crate::support::*;

fn cluster_file(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("c.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Every cluster command, with arguments that would be valid for an engine that claims it.
const COMMANDS: &[&[&str]] = &[
    &["status"],
    &["status", "--json"],
    &["check"],
    &["candidates"],
    &["switchover", "--to", "b", "--yes"],
    &["failover", "--yes"],
    &["failover", "--to", "b", "--yes"],
    &["repoint", "--primary", "b", "--yes"],
    &["repoint", "--list"],
    &["demote", "a", "--yes"],
    &["standalone", "a", "--yes"],
    &["join", "a", "--primary", "b", "--yes"],
    &["sync", "auto", "on", "a", "--yes"],
    &["sync", "full", "--from", "a", "--to", "b", "--yes"],
    &["seize-roles", "--to", "b", "--yes"],
    &["remove-instance", "a", "--yes"],
    &["removenode", "a", "--yes"],
    &["removenode", "status"],
    &["services", "start", "a", "--yes"],
    &["packages", "list"],
    &["packages", "sync", "--yes"],
    &["upgrade", "--exec", "true", "--yes"],
    &["hosts", "render"],
    &["entry", "get", "k"],
    &["events"],
    &["api", "GET", "/v1/status"],
];

#[test]
fn skeleton_engine_refuses_every_verb_naming_itself_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let file = cluster_file(
        tmp.path(),
        "cluster: bones\nnodes:\n- {name: a, kind: skeleton, url: 'https://127.0.0.1:1'}\n\
         - {name: b, kind: skeleton, url: 'https://127.0.0.1:2'}\n",
    );
    for args in COMMANDS {
        let mut c = command(drctl_bin(), tmp.path());
        c.arg("--cluster").arg(&file).args(*args);
        let out = run(c)
            .exit(2)
            .stderr_has("the skeleton engine does not support it");
        assert!(
            out.stderr().contains("nothing was changed"),
            "{args:?}: {}",
            out.stderr()
        );
    }
    // Refused before anything ran: no run was journaled.
    let runs = tmp.path().join(".state/drctl/runs");
    let journaled = std::fs::read_dir(&runs).map(|d| d.count()).unwrap_or(0);
    assert_eq!(journaled, 0, "journals in {}", runs.display());
}

#[test]
fn a_verb_the_engine_lacks_is_refused_naming_the_engine() {
    // OpenLDAP claims failover, switchover, repoint, demote; not standalone or seize-roles.
    let tmp = tempfile::tempdir().unwrap();
    let file = cluster_file(
        tmp.path(),
        "cluster: dir\nnodes:\n- {name: a, kind: openldap, url: 'ldap://127.0.0.1:1', bind_dn: 'cn=admin,cn=config', password_env: DIR_PW, suffix: 'dc=x'}\n",
    );
    for args in [
        &["standalone", "a", "--yes"][..],
        &["seize-roles", "--to", "a", "--yes"],
        &["entry", "get", "k"],
        &["repoint", "--list"],
    ] {
        let mut c = command(drctl_bin(), tmp.path());
        c.env("DIR_PW", "pw").arg("--cluster").arg(&file).args(args);
        run(c)
            .exit(2)
            .stderr_has("the openldap engine does not support it");
    }
}

#[test]
fn unknown_kinds_and_fields_are_named_with_their_place() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "cluster: x\nnodes:\n- {name: a, kind: openldapp, url: 'ldap://h:1'}\n",
            "nodes[0].kind: unknown kind 'openldapp' (kinds: drnode, openldap, etcd, 389ds, samba-ad, skeleton)",
        ),
        (
            "cluster: x\nnodes:\n- {name: a, url: 'https://h:1'}\n- {name: b, kind: skeleton, url: 'https://h:2', bind_dn: 'cn=x'}\n",
            "nodes[1].bind_dn: only for `kind: openldap` or `kind: 389ds` or `kind: samba-ad` nodes",
        ),
        (
            "cluster: x\nnodes:\n- {name: a, kind: skeleton, url: 'https://h:1', colour: red}\n",
            "nodes[0].colour: unknown field `colour`",
        ),
        (
            "cluster: x\nnodes:\n- {name: a}\n",
            "nodes[0].url: missing",
        ),
    ];
    for (text, needle) in cases {
        let file = cluster_file(tmp.path(), text);
        let mut c = command(drctl_bin(), tmp.path());
        c.arg("--cluster").arg(&file).arg("status");
        run(c).exit(2).stderr_has(needle);
    }
    let mut c = command(drctl_bin(), tmp.path());
    c.args(["--kind", "nosuch", "status"]);
    run(c).exit(2).stderr_has("nosuch");
}

/// The conformance rule: a bundled runbook is proven on every engine that supports its
/// procedures. For each `procedure.X` step, every registered engine claiming X has a drill of its
/// own kind in that runbook (and `every_bundled_drill_passes_in_a_lab_of_its_own` runs them all).
#[test]
fn every_engine_claiming_a_bundled_runbooks_verbs_has_a_drill_in_it() {
    use drctl::engines::registry::ENGINES;
    let mut checked = 0;
    for name in drctl::runbook::bundled::names() {
        let rb = drctl::runbook::load(name).unwrap();
        // A runbook whose every drill names its kind is a scenario of those engines only
        // (late-failover waits for drnode's sync give-up); the others are every engine's.
        if rb.drills.iter().all(|d| d.kind.is_some()) {
            continue;
        }
        let kinds: Vec<&str> = rb
            .drill_runs()
            .iter()
            .map(|r| r.drill_kind().to_string())
            .map(|k| ENGINES.iter().find(|e| e.kind == k).unwrap().kind)
            .collect();
        for step in &rb.steps {
            let Some(verb) = drctl::runbook::verb_of(&step.uses) else {
                continue;
            };
            // An engine that performs the verb with a runbook of its own is proven there.
            for engine in ENGINES.iter().filter(|e| {
                e.supports(verb) && !e.own_runbooks.iter().any(|(v, r)| *v == verb && *r != name)
            }) {
                assert!(
                    kinds.contains(&engine.kind),
                    "{name}: the {} engine supports {verb} but the runbook has no {} drill",
                    engine.kind,
                    engine.kind
                );
                checked += 1;
            }
        }
    }
    // And each engine's own runbook carries a drill of its kind.
    for engine in ENGINES.iter() {
        for (verb, name) in engine.own_runbooks {
            assert!(engine.supports(*verb), "{}: claims no {verb}", engine.kind);
            let rb = drctl::runbook::load(name).unwrap();
            assert!(
                rb.drill_runs()
                    .iter()
                    .any(|r| r.drill_kind() == engine.kind),
                "{name}: the {} engine's own runbook for {verb} has no {} drill",
                engine.kind,
                engine.kind
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 20,
        "only {checked} (runbook, verb, engine) triples"
    );
}

#[test]
fn a_runbook_step_the_bound_engine_lacks_is_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let file = cluster_file(
        tmp.path(),
        "cluster: dir\nnodes:\n- {name: a, kind: openldap, url: 'ldap://127.0.0.1:1', bind_dn: 'cn=admin,cn=config', password_env: DIR_PW, suffix: 'dc=x'}\n",
    );
    let mut c = command(drctl_bin(), tmp.path());
    c.env("DIR_PW", "pw").arg("--cluster").arg(&file).args([
        "run",
        "seize-roles",
        "--var",
        "to=a",
        "--yes",
    ]);
    run(c).exit(2).stderr_has(
        "steps[1].uses: procedure.seize-roles: the openldap engine does not support seize-roles",
    );
    let bones = cluster_file(
        tmp.path(),
        "cluster: bones\nnodes:\n- {name: a, kind: skeleton, url: 'https://127.0.0.1:1'}\n",
    );
    let mut c = command(drctl_bin(), tmp.path());
    c.arg("--cluster")
        .arg(&bones)
        .args(["run", "forced-failover", "--yes"]);
    run(c)
        .exit(2)
        .stderr_has("procedure.failover: the skeleton engine does not support failover");
    let journaled = std::fs::read_dir(tmp.path().join(".state/drctl/runs"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(journaled, 0, "a refused run was journaled");
}

/// An engine without a lab says so, and names the engines that have one.
#[test]
fn lab_up_of_an_engine_without_a_lab_is_refused_naming_the_labs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = command(drctl_bin(), tmp.path());
    c.arg("--lab-dir").arg(tmp.path().join("lab"));
    c.args(["--kind", "skeleton", "lab", "up"]);
    run(c)
        .exit(3)
        .stderr_has("the skeleton engine has no lab")
        .stderr_has("drnode, openldap");
    assert!(
        !tmp.path().join("lab").exists(),
        "a refusal made the lab directory"
    );
}
