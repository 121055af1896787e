//! Integration tests: real drnode processes and the real drctl binary. One test binary (so the
//! binaries build once), with a lab fixture that kills, pauses and restarts nodes and waits on
//! conditions with deadlines, never on bare sleeps.

mod support;

mod it {
    mod admin;
    mod architecture;
    mod chaos;
    mod chaos_ds389;
    mod chaos_etcd;
    mod chaos_ldap;
    mod chaos_samba;
    mod cli;
    mod divergence;
    mod ds389;
    mod ds389_promotion;
    mod engines;
    mod epochs;
    mod etcd;
    mod file_safety;
    mod late;
    mod lock;
    mod logging;
    mod metrics;
    mod node_safety;
    mod openldap;
    mod partition;
    mod paused;
    mod procedures;
    mod replication;
    mod runbook;
    mod runbook_ldap;
    mod runbook_openldap;
    mod samba;
    mod secrets;
    mod security;
    mod service;
}
