//! The domain as a whole from every DC's answer: who holds each role (as the DCs that answer
//! see it), and the problems with their fix, each starting with the DC it is about.

use std::collections::BTreeMap;
use std::time::Duration;

use super::probe::{self, DcView, ProbeError, ROLES};
use super::DcNode;

/// One DC probed.
pub(crate) struct Probed {
    pub(crate) name: String,
    pub(crate) url: String,
    /// Its view, or why it gave none.
    pub(crate) view: Result<DcView, ProbeError>,
}

impl Probed {
    /// Whether the DC answered at all (a refused bind is an answer; a refused or silent
    /// connection is not).
    pub(crate) fn answers(&self) -> bool {
        !matches!(self.view, Err(ProbeError::Silent(_)))
    }
}

/// Every DC of the cluster file, probed at once.
pub(crate) async fn probe_all(nodes: &[DcNode], timeout: Duration) -> Vec<Probed> {
    let probes = nodes.iter().map(|n| async move {
        Probed {
            name: n.name.clone(),
            url: n.url.clone(),
            view: probe::probe(n, timeout).await,
        }
    });
    futures_util::future::join_all(probes).await
}

/// What the DCs say together.
#[derive(Debug, Default)]
pub(crate) struct Assessment {
    /// Each role's holder as the DCs that answer see it (the most common answer).
    pub(crate) roles: BTreeMap<&'static str, Option<String>>,
    pub(crate) problems: Vec<String>,
    pub(crate) healthy: bool,
    /// Where the roles of a DC that does not answer should go: a DC that answers, the one
    /// holding most roles already, then by name.
    pub(crate) seize_to: Option<String>,
    /// The pulls named as failing, each pair once: (the DC that pulls, the partner).
    pub(crate) failing_pulls: Vec<(String, String)>,
}

impl Assessment {
    /// Why `dc` is no DC of the domain any more (the problem naming it), if it was removed.
    pub(crate) fn removed(&self, dc: &str) -> Option<&String> {
        let prefix = format!("{dc}: not a DC of the domain");
        self.problems.iter().find(|p| p.starts_with(&prefix))
    }

    /// The roles `dc` holds (case-insensitive).
    pub(crate) fn held_by(&self, dc: &str) -> Vec<String> {
        self.roles
            .iter()
            .filter(|(_, h)| h.as_deref().is_some_and(|h| h.eq_ignore_ascii_case(dc)))
            .map(|(r, _)| r.to_string())
            .collect()
    }
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Unix seconds as RFC 3339.
pub(crate) fn unix_time(t: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.max(0) as u64);
    humantime::format_rfc3339_seconds(at).to_string()
}

/// Why the other DCs that answer say `d` was removed from the domain, if they do: one of them
/// holds its own NTDS Settings object (by objectGUID, as `d` reads itself) deleted, so a single
/// DC that has not replicated the cleanup yet cannot hide it; or, where `d` cannot be read (a
/// zombie breaks itself once it pulls its own removal) or the tombstones are gone (180 days),
/// most of them no longer list it.
fn removed_by_others(d: &Probed, views: &[(&str, &DcView)]) -> Option<String> {
    let others: Vec<(&str, &DcView)> = views
        .iter()
        .filter(|(name, _)| !same(name, &d.name))
        .copied()
        .collect();
    let own = d
        .view
        .as_ref()
        .ok()
        .and_then(|v| v.guids.get(&v.dsa.to_ascii_lowercase()));
    if let Some(g) = own {
        let deleted: Vec<&str> = others
            .iter()
            .filter(|(_, v)| v.deleted.iter().any(|x| x.eq_ignore_ascii_case(g)))
            .map(|(name, _)| *name)
            .collect();
        if !deleted.is_empty() {
            return Some(format!(
                "its NTDS Settings object {g} is deleted on {}",
                deleted.join(", ")
            ));
        }
    }
    let lacking = others
        .iter()
        .filter(|(_, v)| !v.dcs.iter().any(|x| same(x, &d.name)))
        .count();
    (!others.is_empty() && 2 * lacking > others.len()).then(|| {
        format!(
            "no NTDS Settings object on {lacking} of the {} other DCs that answer",
            others.len()
        )
    })
}

/// Each pull of a DC of the domain that answers (`counted`) whose last attempt failed, from a
/// partner that answers and is no zombie, with the DC that pulls.
fn failing<'a>(
    dcs: &[Probed],
    counted: &[(&'a str, &'a DcView)],
    zombies: &BTreeMap<&str, String>,
) -> Vec<(&'a str, &'a super::reps::Rep)> {
    counted
        .iter()
        .flat_map(|(name, v)| v.reps.iter().map(move |r| (*name, r)))
        .filter(|(_, r)| r.failures > 0)
        .filter(|(_, r)| {
            dcs.iter().any(|d| same(&d.name, &r.from) && d.view.is_ok())
                && !zombies.keys().any(|z| same(z, &r.from))
        })
        .collect()
}

pub(crate) fn assess(dcs: &[Probed]) -> Assessment {
    let mut a = Assessment::default();
    let views: Vec<(&str, &DcView)> = dcs
        .iter()
        .filter_map(|d| d.view.as_ref().ok().map(|v| (d.name.as_str(), v)))
        .collect();
    for d in dcs {
        match &d.view {
            Err(e) if d.answers() => a
                .problems
                .push(format!("{}: answers but cannot be read: {e}", d.name)),
            Err(e) => a
                .problems
                .push(format!("{}: does not answer ({e})", d.name)),
            Ok(v) if !same(&v.dsa, &d.name) => a.problems.push(format!(
                "{}: {} answers as DC '{}', not '{}': fix its url in the cluster file",
                d.name, d.url, v.dsa, d.name
            )),
            Ok(_) => {}
        }
    }
    // A DC removed from the domain (metadata cleanup) that answers again with its old disk
    // still lists itself and claims its roles for a while, taking writes that are lost. Found
    // first, so that its claims count for nothing.
    let zombies: BTreeMap<&str, String> = dcs
        .iter()
        .filter_map(|d| removed_by_others(d, &views).map(|why| (d.name.as_str(), why)))
        .collect();
    let counted: Vec<(&str, &DcView)> = views
        .iter()
        .filter(|(name, _)| !zombies.contains_key(name))
        .copied()
        .collect();
    // Each role's holder: the most common answer of the DCs of the domain (ties: the last in
    // name order).
    for role in ROLES {
        let mut counts: BTreeMap<Option<String>, usize> = BTreeMap::new();
        for (_, v) in &counted {
            *counts.entry(v.roles[role].clone()).or_default() += 1;
        }
        let holder = counts
            .iter()
            .max_by_key(|(_, c)| **c)
            .and_then(|(h, _)| h.clone());
        for (name, v) in &counted {
            if v.roles[role] != holder {
                a.problems.push(format!(
                    "{name}: sees the {role} role held by {}, the others by {} \
                     (replication has not converged)",
                    v.roles[role].as_deref().unwrap_or("nobody"),
                    holder.as_deref().unwrap_or("nobody"),
                ));
            }
        }
        a.roles.insert(role, holder);
    }
    // The DCs of the domain, as every DC that answers lists them.
    let domain: Vec<String> = {
        let mut all: Vec<String> = counted.iter().flat_map(|(_, v)| v.dcs.clone()).collect();
        all.sort();
        all.dedup();
        all
    };
    for dc in &domain {
        if let Some(base) = super::probe::conflict_of(dc) {
            a.problems.push(format!(
                "{base}: a second server object ({dc}): a join of {base} stopped part-way and \
                 was done again through another DC (a replication name conflict): `drctl join \
                 {base} --primary DC` once more deletes it"
            ));
            continue;
        }
        if !dcs.iter().any(|d| same(&d.name, dc)) {
            a.problems.push(format!(
                "{dc}: a DC of the domain (it has NTDS Settings) that the cluster file does not list"
            ));
        }
    }
    for (name, why) in &zombies {
        let claims: Vec<&str> = views
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| {
                v.roles
                    .iter()
                    .filter(|(_, h)| h.as_deref().is_some_and(|h| same(h, name)))
                    .map(|(r, _)| *r)
                    .collect()
            })
            .unwrap_or_default();
        let claims = if claims.is_empty() {
            String::new()
        } else {
            format!(", yet claims the roles {}", claims.join(", "))
        };
        a.problems.push(format!(
            "{name}: not a DC of the domain ({why}){claims}: removed from the domain, it must \
             not be used: `drctl join {name} --primary DC` stops it, moves its databases aside \
             and joins it again"
        ));
    }
    // Inbound replication that fails from a partner that answers (from a silent one it fails
    // anyway, and that DC is named already; P11: success is never read as liveness).
    // A zombie's pulls, and pulls from it, fail for good (its machine account is gone): its
    // fix is `join`, named above.
    for (name, r) in failing(dcs, &counted, &zombies) {
        let pair = (name.to_string(), r.from.clone());
        if !a.failing_pulls.contains(&pair) {
            a.failing_pulls.push(pair);
        }
        let since = r
            .last_success
            .map(|t| format!("last success {}", unix_time(t)))
            .unwrap_or_else(|| "never succeeded".into());
        a.problems.push(format!(
            "{name}: pulling {} from {} failed {} time(s) in a row (WERROR 0x{:08x}, {since}): \
             `drctl sync full --from {} --to {name}` pulls it now (and restarts {name} if its \
             pull fails: a DC rejoined under its old name leaves its partners with stale \
             tickets, P14); `samba-tool drs showrepl` on {name} says why",
            r.nc, r.from, r.failures, r.result, r.from
        ));
    }
    // The DC the roles of a silent holder go to.
    let mut targets: Vec<(&str, usize)> = dcs
        .iter()
        .filter(|d| d.view.is_ok())
        .map(|d| (d.name.as_str(), a.held_by(&d.name).len()))
        .collect();
    targets.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
    a.seize_to = targets.first().map(|(n, _)| n.to_string());
    // Roles held by a DC that does not answer, or by one the file does not list.
    let mut by_holder: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (role, h) in &a.roles {
        match h {
            Some(h) => by_holder.entry(h.clone()).or_default().push(role),
            None if !views.is_empty() => a
                .problems
                .push(format!("{role}: no DC holds the {role} role")),
            None => {}
        }
    }
    for (holder, roles) in by_holder {
        let Some(d) = dcs.iter().find(|d| same(&d.name, &holder)) else {
            a.problems.push(format!(
                "{holder}: holds the roles {} but is not in the cluster file",
                roles.join(", ")
            ));
            continue;
        };
        if d.answers() {
            continue;
        }
        let fix = match &a.seize_to {
            Some(to) => format!("drctl seize-roles --to {to}"),
            None => "no DC answers to take them".to_string(),
        };
        a.problems.push(format!(
            "{}: holds the roles {} and does not answer: {fix}",
            d.name,
            roles.join(", ")
        ));
    }
    a.healthy = a.problems.is_empty() && !views.is_empty();
    if views.is_empty() && a.problems.is_empty() {
        a.problems.push("no DC answers".into());
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(dsa: &str, holder: &str, dcs: &[&str]) -> Result<DcView, ProbeError> {
        Ok(DcView {
            dsa: dsa.into(),
            roles: ROLES.iter().map(|r| (*r, Some(holder.into()))).collect(),
            dcs: dcs.iter().map(|d| d.to_string()).collect(),
            ncs: BTreeMap::new(),
            guids: dcs
                .iter()
                .map(|d| (d.to_string(), format!("guid-{d}")))
                .collect(),
            servers: BTreeMap::new(),
            dsas: Vec::new(),
            deleted: Vec::new(),
            reps: Vec::new(),
        })
    }

    fn dc(name: &str, view: Result<DcView, ProbeError>) -> Probed {
        Probed {
            name: name.into(),
            url: format!("ldapi:///{name}"),
            view,
        }
    }

    const ALL: &[&str] = &["dc1", "dc2", "dc3"];

    #[test]
    fn a_silent_holder_is_named_with_the_seize_remedy_and_a_refusing_one_is_not() {
        let silent = ProbeError::Silent("cannot connect".into());
        let dcs = [
            dc("dc1", Err(silent)),
            dc("dc2", view("dc2", "dc1", ALL)),
            dc("dc3", view("dc3", "dc1", ALL)),
        ];
        let a = assess(&dcs);
        assert!(!a.healthy);
        assert_eq!(a.seize_to.as_deref(), Some("dc2"));
        assert!(
            a.problems
                .iter()
                .any(|p| p.starts_with("dc1: holds the roles")
                    && p.ends_with("drctl seize-roles --to dc2")),
            "{:?}",
            a.problems
        );
        let refused = ProbeError::Answered("bind as x: rc=49".into());
        let dcs = [dc("dc1", Err(refused)), dc("dc2", view("dc2", "dc1", ALL))];
        let a = assess(&dcs);
        assert!(
            a.problems.iter().all(|p| !p.contains("seize-roles")),
            "{:?}",
            a.problems
        );
    }

    #[test]
    fn failing_pulls_are_those_status_names_between_dcs_that_answer() {
        let rep = |nc: &str, from: &str, failures| super::super::reps::Rep {
            nc: nc.into(),
            from: from.into(),
            failures,
            last_success: Some(1),
            last_attempt: Some(2),
            result: if failures > 0 { 0x40 } else { 0 },
        };
        let mut dc2 = view("dc2", "dc2", ALL).unwrap();
        dc2.reps = vec![
            rep("DC=x", "dc3", 1),
            rep("CN=Configuration,DC=x", "dc3", 2),
            rep("DC=x", "dc1", 0),
            // From a DC that does not answer: named as silent, not as a failing pull.
            rep("DC=x", "dc4", 3),
        ];
        let mut dc3 = view("dc3", "dc2", ALL).unwrap();
        dc3.reps = vec![rep("DC=x", "dc2", 0)];
        let dcs = [
            dc("dc1", view("dc1", "dc2", ALL)),
            dc("dc2", Ok(dc2)),
            dc("dc3", Ok(dc3)),
            dc("dc4", Err(ProbeError::Silent("cannot connect".into()))),
        ];
        let a = assess(&dcs);
        assert_eq!(a.failing_pulls, [("dc2".to_string(), "dc3".to_string())]);
        let named: Vec<&String> = a.problems.iter().filter(|p| p.contains("failed")).collect();
        assert_eq!(named.len(), 2, "{:?}", a.problems);
        assert!(named
            .iter()
            .all(|p| p.starts_with("dc2: pulling") && p.contains("from dc3")));
    }

    #[test]
    fn a_dc_the_others_no_longer_list_is_no_dc_even_while_it_claims_the_roles() {
        let dcs = [
            dc("dc1", view("dc1", "dc1", ALL)),
            dc("dc2", view("dc2", "dc2", &["dc2", "dc3"])),
            dc("dc3", view("dc3", "dc2", &["dc2", "dc3"])),
        ];
        let a = assess(&dcs);
        assert_eq!(
            a.roles["pdc"].as_deref(),
            Some("dc2"),
            "the majority's holder"
        );
        assert!(a.problems.iter().any(
            |p| p.starts_with("dc1: not a DC of the domain (no NTDS Settings object on 2 of the 2")
        ));
        // Its claims count for nothing: no "not converged" noise, they are named with it.
        assert!(
            a.problems.iter().all(|p| !p.starts_with("dc1: sees the")),
            "{:?}",
            a.problems
        );
        assert!(a.problems.iter().any(|p| p.contains(
            "yet claims the roles domaindns, forestdns, infrastructure, naming, pdc, rid, schema"
        )));
        // One DC that has not yet replicated a join is no majority.
        let dcs = [
            dc("dc1", view("dc1", "dc1", ALL)),
            dc("dc2", view("dc2", "dc1", ALL)),
            dc("dc3", view("dc3", "dc1", ALL)),
        ];
        assert!(assess(&dcs).healthy);
    }

    #[test]
    fn a_zombie_one_stale_dc_still_lists_is_flagged_by_the_tombstone_of_its_ntds_settings() {
        // dc3 was down during the cleanup and still lists dc1: no majority lacks it (chaos
        // seed 103). dc2 holds dc1's own NTDS Settings object deleted.
        let mut dc2 = view("dc2", "dc2", &["dc2", "dc3"]).unwrap();
        dc2.deleted = vec!["guid-dc1".into()];
        let dcs = [
            dc("dc1", view("dc1", "dc1", ALL)),
            dc("dc2", Ok(dc2)),
            dc("dc3", view("dc3", "dc1", ALL)),
        ];
        let a = assess(&dcs);
        assert!(
            a.removed("dc1")
                .is_some_and(|p| p.contains("its NTDS Settings object guid-dc1 is deleted on dc2")),
            "{:?}",
            a.problems
        );
        // A DC rejoined under the same name has a new NTDS Settings object: not a zombie.
        let mut dc1 = view("dc1", "dc2", ALL).unwrap();
        dc1.guids.insert("dc1".into(), "guid-dc1-new".into());
        let mut dc2 = view("dc2", "dc2", ALL).unwrap();
        dc2.deleted = vec!["guid-dc1".into()];
        let dcs = [
            dc("dc1", Ok(dc1)),
            dc("dc2", Ok(dc2)),
            dc("dc3", view("dc3", "dc2", &["dc2", "dc3"])),
        ];
        let a = assess(&dcs);
        assert!(a.removed("dc1").is_none(), "{:?}", a.problems);
    }

    #[test]
    fn a_zombie_never_wins_the_role_majority_in_a_tie() {
        // Two DCs: the zombie dc2 claims every role, dc1 holds them. By name order alone the
        // tie would go to dc2 (the last of the most common answers).
        let mut dc1 = view("dc1", "dc1", &["dc1"]).unwrap();
        dc1.deleted = vec!["guid-dc2".into()];
        let dcs = [
            dc("dc1", Ok(dc1)),
            dc("dc2", view("dc2", "dc2", &["dc1", "dc2"])),
        ];
        let a = assess(&dcs);
        assert_eq!(a.roles["pdc"].as_deref(), Some("dc1"), "{:?}", a.problems);
        assert!(a.removed("dc2").is_some());
    }

    #[test]
    fn a_second_server_object_of_a_dc_is_named_with_the_rerun_of_its_join() {
        let cnf = "dc1\\0acnf:800cdeff-bac8-4543-b83b-201121ff6d4a";
        assert_eq!(crate::engines::samba::probe::conflict_of(cnf), Some("dc1"));
        assert_eq!(crate::engines::samba::probe::conflict_of("dc1"), None);
        let with = &["dc1", cnf, "dc2", "dc3"];
        let dcs = [
            dc("dc1", view("dc1", "dc2", with)),
            dc("dc2", view("dc2", "dc2", with)),
            dc("dc3", view("dc3", "dc2", with)),
        ];
        let a = assess(&dcs);
        assert_eq!(a.problems.len(), 1, "{:?}", a.problems);
        assert!(
            a.problems[0].starts_with("dc1: a second server object (dc1\\0acnf:")
                && a.problems[0].ends_with("`drctl join dc1 --primary DC` once more deletes it"),
            "{:?}",
            a.problems
        );
    }

    #[test]
    fn a_url_that_reaches_another_dc_and_no_answer_at_all_are_problems() {
        let dcs = [
            dc("dc1", view("dc2", "dc1", &["dc1", "dc2"])),
            dc("dc2", view("dc2", "dc1", &["dc1", "dc2"])),
        ];
        assert!(assess(&dcs)
            .problems
            .iter()
            .any(|p| p.contains("answers as DC 'dc2', not 'dc1'")));
        let none = [dc("dc1", Err(ProbeError::Silent("x".into())))];
        let a = assess(&none);
        assert!(!a.healthy && !a.problems.is_empty());
    }
}
