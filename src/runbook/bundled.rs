//! The bundled runbooks, embedded in the binary (the same files are in `runbooks/`, usable with
//! `drctl run runbooks/NAME.yaml` and as templates for your own).

/// Name → YAML text, in the order `drctl runbook list` shows them.
pub static BUNDLED: &[(&str, &str)] = &[
    (
        "managed-switchover",
        include_str!("../../runbooks/managed-switchover.yaml"),
    ),
    (
        "forced-failover",
        include_str!("../../runbooks/forced-failover.yaml"),
    ),
    (
        "partitioned-primary",
        include_str!("../../runbooks/partitioned-primary.yaml"),
    ),
    (
        "repoint-primary",
        include_str!("../../runbooks/repoint-primary.yaml"),
    ),
    (
        "repoint-clients",
        include_str!("../../runbooks/repoint-clients.yaml"),
    ),
    (
        "samba-rejoin-dc",
        include_str!("../../runbooks/samba-rejoin-dc.yaml"),
    ),
    (
        "samba-replicate",
        include_str!("../../runbooks/samba-replicate.yaml"),
    ),
    (
        "ds389-reinit",
        include_str!("../../runbooks/ds389-reinit.yaml"),
    ),
    (
        "demote-old-primary",
        include_str!("../../runbooks/demote-old-primary.yaml"),
    ),
    (
        "full-resync",
        include_str!("../../runbooks/full-resync.yaml"),
    ),
    ("failback", include_str!("../../runbooks/failback.yaml")),
    (
        "late-failover",
        include_str!("../../runbooks/late-failover.yaml"),
    ),
    (
        "late-failback",
        include_str!("../../runbooks/late-failback.yaml"),
    ),
    (
        "late-demote",
        include_str!("../../runbooks/late-demote.yaml"),
    ),
    ("standalone", include_str!("../../runbooks/standalone.yaml")),
    ("join", include_str!("../../runbooks/join.yaml")),
    ("sync-auto", include_str!("../../runbooks/sync-auto.yaml")),
    ("sync-full", include_str!("../../runbooks/sync-full.yaml")),
    ("services", include_str!("../../runbooks/services.yaml")),
    (
        "packages-sync",
        include_str!("../../runbooks/packages-sync.yaml"),
    ),
    (
        "seize-roles",
        include_str!("../../runbooks/seize-roles.yaml"),
    ),
    (
        "remove-failed-instance",
        include_str!("../../runbooks/remove-failed-instance.yaml"),
    ),
    ("removenode", include_str!("../../runbooks/removenode.yaml")),
    (
        "removenode-force",
        include_str!("../../runbooks/removenode-force.yaml"),
    ),
    (
        "etcd-rejoin-member",
        include_str!("../../runbooks/etcd-rejoin-member.yaml"),
    ),
    (
        "etcd-snapshot",
        include_str!("../../runbooks/etcd-snapshot.yaml"),
    ),
    (
        "etcd-restore-snapshot",
        include_str!("../../runbooks/etcd-restore-snapshot.yaml"),
    ),
    (
        "upgrade-standalone",
        include_str!("../../runbooks/upgrade-standalone.yaml"),
    ),
    (
        "rejoin-removed-node",
        include_str!("../../runbooks/rejoin-removed-node.yaml"),
    ),
    (
        "adlds-seize-roles",
        include_str!("../../runbooks/adlds-seize-roles.yaml"),
    ),
    (
        "adlds-metadata-cleanup",
        include_str!("../../runbooks/adlds-metadata-cleanup.yaml"),
    ),
];

pub fn get(name: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    BUNDLED.iter().map(|(n, _)| *n)
}
