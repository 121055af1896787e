//! The actions a runbook step can `use`: their parameters (checked when a runbook loads), the
//! values they output for later steps, and a one-line summary. Adding an action is one entry
//! here, one arm in `expand::build`, and (if it is a new kind of step) one `RunbookAction` variant.

/// A parameter of an action: name, required, what it is.
pub type Param = (&'static str, bool, &'static str);

#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [Param],
    /// Values later steps can read as `{{ steps.ID.NAME }}`.
    pub outputs: &'static [&'static str],
}

const NODE: Param = ("node", true, "the node acted on");
const LDAP_CONN: [Param; 4] = [
    ("url", true, "ldap:// or ldaps:// URL of the directory"),
    ("bind_dn", false, "DN to bind as (default: anonymous)"),
    (
        "password_env",
        false,
        "environment variable holding the bind password",
    ),
    (
        "ca",
        false,
        "PEM file of the CA to trust for ldaps/StartTLS",
    ),
];

macro_rules! ldap_params {
    ($($p:expr),* $(,)?) => {
        &[LDAP_CONN[0], LDAP_CONN[1], LDAP_CONN[2], LDAP_CONN[3], $($p),*]
    };
}

pub static ACTIONS: &[ActionSpec] = &[
    ActionSpec { name: "node.promote", summary: "make a node primary at the next epoch", params: &[NODE, ("force", false, "promote even if it does not hold the old primary's last record (a forced failover)"), ("caught_up_with", false, "only if the node holds this node's last record")], outputs: &["epoch"] },
    ActionSpec { name: "node.follow", summary: "make a node a replica of a primary (repoint it)", params: &[NODE, ("primary", true, "the primary to follow"), ("full_sync", false, "replace the node's data by a full sync")], outputs: &[] },
    ActionSpec { name: "node.repoint", summary: "point every replica and the replicated primary setting at the primary", params: &[("primary", true, "the primary")], outputs: &[] },
    ActionSpec { name: "node.drain", summary: "stop new writes on the primary; in-flight writes finish", params: &[NODE], outputs: &[] },
    ActionSpec { name: "node.resume-writes", summary: "take writes again after a drain", params: &[NODE], outputs: &[] },
    ActionSpec { name: "node.standalone", summary: "stop a node replicating; it keeps its data", params: &[NODE], outputs: &[] },
    ActionSpec { name: "node.join", summary: "join a node to a primary (its data is replaced)", params: &[NODE, ("primary", true, "the primary to join"), ("export", false, "file for the records the primary lacks (writes it took standalone), exported first")], outputs: &[] },
    ActionSpec { name: "node.fence", summary: "tell an old primary the cluster moved on, so it refuses writes", params: &[NODE, ("epoch", false, "the epoch to fence at (default: the cluster's)")], outputs: &[] },
    ActionSpec { name: "node.export-divergent", summary: "write the node's records the primary never had to a file", params: &[NODE, ("primary", true, "the primary to compare with"), ("path", true, "JSON-lines file to write")], outputs: &[] },
    ActionSpec { name: "node.sync-auto", summary: "automatic (partial) sync to a replica on or off", params: &[NODE, ("on", true, "true or false")], outputs: &[] },
    ActionSpec { name: "cluster.set-setting", summary: "set a replicated setting", params: &[("name", true, "setting name"), ("value", true, "value"), ("via", false, "node to write through (default: the primary)")], outputs: &[] },
    ActionSpec { name: "cluster.pick", summary: "read the current primary and the best promotion candidate", params: &[("exclude", false, "a node not to pick")], outputs: &["primary", "target"] },
    ActionSpec { name: "wait.caught-up", summary: "wait until every reachable replica follows the primary and holds all it had when the wait began", params: &[("primary", false, "the primary (default: the current one)")], outputs: &[] },
    ActionSpec { name: "wait.status", summary: "wait until a node reports a role, database status or primary", params: &[NODE, ("role", false, "standalone, primary, replica or fenced"), ("db_status", false, "down, initializing or up"), ("primary", false, "the primary setting it reports")], outputs: &[] },
    ActionSpec { name: "assert.converged", summary: "refuse unless every reachable node follows the primary and is caught up", params: &[("primary", true, "the primary")], outputs: &[] },
    ActionSpec { name: "assert.reachable", summary: "refuse unless the node answers", params: &[NODE], outputs: &[] },
    ActionSpec { name: "assert.unreachable", summary: "refuse unless the node does not answer", params: &[NODE], outputs: &[] },
    ActionSpec { name: "assert.primary-is", summary: "refuse unless the node is the primary at the cluster epoch", params: &[NODE], outputs: &["primary"] },
    ActionSpec { name: "assert.healthy", summary: "refuse unless the cluster is healthy (green)", params: &[], outputs: &[] },
    ActionSpec { name: "confirm", summary: "ask the operator (skipped with --yes)", params: &[("message", true, "the question")], outputs: &[] },
    ActionSpec { name: "exec", summary: "run a shell command; with `unless`, only when that guard command fails", params: &[("command", true, "sh -c command"), ("unless", false, "guard: exit 0 means already done")], outputs: &["stdout"] },
    ActionSpec { name: "http.request", summary: "call an HTTP(S) API (other vendors' admin APIs)", params: &[("method", false, "GET, POST, PUT, PATCH or DELETE (default GET)"), ("url", true, "the URL"), ("body", false, "JSON body"), ("headers", false, "map of headers"), ("expect_status", false, "the status meaning success (default: any 2xx)"), ("unless", false, "guard: {url, status}: a GET answering that status means already done"), ("ca", false, "PEM CA file to trust (default: the cluster CA)")], outputs: &["status", "body"] },
    ActionSpec { name: "ldap.search", summary: "search a directory (a read, done at check time); outputs the count and first DN", params: ldap_params![("base", true, "search base DN"), ("filter", false, "filter (default (objectClass=*))"), ("scope", false, "base, one or sub (default sub)"), ("attrs", false, "attributes to read"), ("expect_count", false, "refuse unless exactly this many entries match")], outputs: &["count", "dn"] },
    ActionSpec { name: "ldap.add", summary: "add an entry unless it exists", params: ldap_params![("dn", true, "the entry"), ("attrs", true, "map of attribute to value or list of values")], outputs: &[] },
    ActionSpec { name: "ldap.modify", summary: "replace attribute values unless they already hold", params: ldap_params![("dn", true, "the entry"), ("replace", true, "map of attribute to value or list of values")], outputs: &[] },
    ActionSpec { name: "ldap.delete", summary: "delete an entry (optionally its subtree) unless it is gone", params: ldap_params![("dn", true, "the entry"), ("tree", false, "delete the whole subtree (tree-delete control)")], outputs: &[] },
    ActionSpec { name: "procedure.switchover", summary: "managed switchover, the steps of `drctl switchover`", params: &[("to", true, "the node to make primary")], outputs: &["target"] },
    ActionSpec { name: "procedure.failover", summary: "forced failover, the steps of `drctl failover`", params: &[("to", false, "the replica to promote (default auto: the most advanced)"), ("force", false, "fail over even if the primary answers"), ("export_dir", false, "where exported records go")], outputs: &["target"] },
    ActionSpec { name: "procedure.repoint", summary: "the steps of `drctl repoint`", params: &[("primary", true, "the primary clients should use")], outputs: &[] },
    ActionSpec { name: "procedure.repoint-clients", summary: "samba-ad: point the cluster file's client (its resolv.conf and krb5.conf) at the DCs that answer, `primary` first", params: &[("primary", true, "the DC clients ask first")], outputs: &[] },
    ActionSpec { name: "procedure.demote", summary: "the steps of `drctl demote`: export divergent writes, resync as a replica", params: &[NODE, ("to", false, "the primary (default: the current one)"), ("export", false, "file for exported records")], outputs: &[] },
    ActionSpec { name: "procedure.join", summary: "the steps of `drctl join`: export what the primary lacks, then replace the node's data by a full sync", params: &[NODE, ("primary", true, "the primary to join"), ("export", false, "file for the records the primary lacks (writes it took standalone), exported first")], outputs: &[] },
    ActionSpec { name: "procedure.sync-auto", summary: "the steps of `drctl sync auto on|off`", params: &[NODE, ("on", true, "true or false")], outputs: &[] },
    ActionSpec { name: "procedure.sync-full", summary: "the steps of `drctl sync full`: replace `to`'s data with `from`'s (refused if `from` replicates from `to`)", params: &[("from", true, "the node copied"), ("to", true, "the node overwritten")], outputs: &[] },
    ActionSpec { name: "procedure.seize-roles", summary: "the steps of `drctl seize-roles`: transfer the operation-master roles, or seize them from a holder that does not answer", params: &[("to", true, "the new holder"), ("roles", false, "comma-separated (default: every one): schema-master, naming-master (drnode); schema, naming, pdc, rid, infrastructure, domaindns, forestdns (samba-ad)")], outputs: &[] },
    ActionSpec { name: "procedure.remove-instance", summary: "the steps of `drctl remove-instance`: standalone if running, then leaving, acknowledgements, removed", params: &[NODE, ("force", false, "samba-ad: remove a DC that answers (roles transferred, its own changes exported, stopped); other kinds refuse it")], outputs: &[] },
    ActionSpec { name: "procedure.removenode", summary: "the steps of `drctl removenode`: remove a member by host id (force: without missing acknowledgements)", params: &[("host_id", false, "the member's host id"), ("node", false, "or its name"), ("force", false, "complete without the missing acknowledgements")], outputs: &["host_id"] },
    ActionSpec { name: "procedure.rejoin", summary: "etcd: bring back a removed or wiped member: stop it, move its data directory aside, add it as a learner, start it, promote it", params: &[NODE], outputs: &[] },
    ActionSpec { name: "procedure.snapshot", summary: "etcd: save a snapshot of the leader (else the member with the highest raft index); a relative path is in the export directory", params: &[("path", true, "the snapshot file")], outputs: &["path"] },
    ActionSpec { name: "procedure.restore", summary: "etcd: restore every member from a snapshot into a new cluster (data directories moved aside)", params: &[("snapshot", true, "the snapshot file (relative: in the export directory)")], outputs: &[] },
    ActionSpec { name: "procedure.services", summary: "the steps of `drctl services start|stop`", params: &[NODE, ("running", true, "true or false")], outputs: &[] },
    ActionSpec { name: "procedure.packages-sync", summary: "the steps of `drctl packages sync`", params: &[], outputs: &[] },
    ActionSpec { name: "hosts.block", summary: "write the hosts-file block (each node's unique name, then the alias once per node, primary first) into a file, idempotently", params: &[("file", true, "the hosts file"), ("alias", false, "the cluster's DNS alias")], outputs: &[] },
    ActionSpec { name: "procedure.upgrade", summary: "the steps of `drctl upgrade`: maintenance, standalone, COMMAND per node, re-form, verify", params: &[("command", true, "run for each node; {node}, {url}, {data_dir} substituted"), ("id", false, "names the upgrade (default: a hash of the command)")], outputs: &[] },
    ActionSpec { name: "procedure.standalone", summary: "the steps of `drctl standalone`", params: &[NODE], outputs: &[] },
    ActionSpec { name: "openldap.failover", summary: "OpenLDAP forced failover, the steps of `drctl failover` on openldap nodes", params: &[("to", false, "the consumer to promote (default auto: the newest CSN of the lost provider)"), ("force", false, "promote `to` even if another consumer holds newer writes")], outputs: &["provider"] },
    ActionSpec { name: "openldap.switchover", summary: "OpenLDAP switchover, the steps of `drctl switchover` on openldap nodes", params: &[("to", true, "the consumer to make provider")], outputs: &["provider"] },
    ActionSpec { name: "openldap.repoint", summary: "the steps of `drctl repoint` on openldap nodes: every consumer follows the provider", params: &[("provider", true, "the provider")], outputs: &["provider"] },
    ActionSpec { name: "openldap.demote", summary: "the steps of `drctl demote` on openldap nodes: a provider that came back follows the provider; diverged entries are exported (LDIF), then it is reseeded", params: &[NODE, ("to", false, "the provider to follow (default: the one the consumers follow)"), ("export", false, "LDIF file for diverged entries (default: drctl-demote-NODE-RUN.ldif in the export directory)")], outputs: &["provider"] },
    ActionSpec { name: "openldap.wait-converged", summary: "wait until every reachable openldap node follows the provider with equal CSNs and data", params: &[("provider", false, "the provider (default: the one that answers)")], outputs: &["provider"] },
    ActionSpec { name: "openldap.assert-provider-is", summary: "refuse unless this openldap node is the provider", params: &[NODE], outputs: &["provider"] },
    ActionSpec { name: "openldap.assert-unreachable", summary: "refuse unless this openldap node does not answer (a lost provider)", params: &[NODE], outputs: &[] },
];

/// An old name, the step it is now, and its parameters renamed (old, new).
pub type Alias = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Older names of engine steps, still accepted: the name, the step it is now, and its
/// parameters renamed (old, new). Every engine plans the new names.
pub static ALIASES: &[Alias] = &[
    ("openldap.failover", "procedure.failover", &[]),
    ("openldap.switchover", "procedure.switchover", &[]),
    (
        "openldap.repoint",
        "procedure.repoint",
        &[("provider", "primary")],
    ),
    ("openldap.demote", "procedure.demote", &[]),
    (
        "openldap.wait-converged",
        "wait.caught-up",
        &[("provider", "primary")],
    ),
    ("openldap.assert-provider-is", "assert.primary-is", &[]),
    ("openldap.assert-unreachable", "assert.unreachable", &[]),
];

/// The step an action name stands for now, and how its parameters are renamed.
pub fn canonical(name: &str) -> (&str, &'static [(&'static str, &'static str)]) {
    match ALIASES.iter().find(|(old, _, _)| *old == name) {
        Some((_, new, renames)) => (new, renames),
        None => (name, &[]),
    }
}

pub fn find(name: &str) -> Option<&'static ActionSpec> {
    ACTIONS.iter().find(|a| a.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    ACTIONS.iter().map(|a| a.name)
}
