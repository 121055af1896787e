//! The instance layout of a 389ds lab: lib389's prefix install without systemd (a private
//! `defaults.inf`, pitfall 1), each instance a copy of the template (one `dscreate from-file`
//! per machine), bound to loopback before its first real start (pitfall 3).

use super::template::{secret, write_secret, Template};
use super::*;

/// Why a 389ds lab cannot run here, if it cannot.
pub(crate) fn missing_tools() -> Option<String> {
    let missing: Vec<&str> = [
        "/usr/sbin/dscreate",
        "/usr/sbin/ns-slapd",
        "/usr/bin/certutil",
    ]
    .into_iter()
    .filter(|p| !Path::new(p).is_file())
    .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "389 Directory Server not installed ({} missing): apt-get install 389-ds-base",
            missing.join(", ")
        )
    })
}

/// The system `defaults.inf` with every path moved under `prefix` and systemd off.
fn defaults_inf(prefix: &Path) -> Result<String, LabError> {
    let sys = Path::new("/usr/share/dirsrv/inf/defaults.inf");
    let text = std::fs::read_to_string(sys).map_err(io("read", sys))?;
    let p = prefix.display().to_string();
    let moved = [
        ("with_systemd = 1", "with_systemd = 0".to_string()),
        ("sysconf_dir = /etc", format!("sysconf_dir = {p}/etc")),
        (
            "initconfig_dir = /etc/default",
            format!("initconfig_dir = {p}/etc/default"),
        ),
        (
            "config_dir = /etc/dirsrv",
            format!("config_dir = {p}/etc/dirsrv"),
        ),
        (
            "local_state_dir = /var",
            format!("local_state_dir = {p}/var"),
        ),
        ("run_dir = /run/dirsrv", format!("run_dir = {p}/run/dirsrv")),
        ("ldapi = /run/", format!("ldapi = {p}/run/")),
        (
            "pid_file = /run/dirsrv",
            format!("pid_file = {p}/run/dirsrv"),
        ),
        (
            "inst_dir = /usr/lib/x86_64-linux-gnu/dirsrv",
            format!("inst_dir = {p}/lib/dirsrv"),
        ),
        ("tmpfiles_d = /etc", format!("tmpfiles_d = {p}/etc")),
        (
            "schema_dir = /etc/dirsrv",
            format!("schema_dir = {p}/etc/dirsrv"),
        ),
        (
            "cert_dir = /etc/dirsrv",
            format!("cert_dir = {p}/etc/dirsrv"),
        ),
        ("lock_dir = /run/lock", format!("lock_dir = {p}/run/lock")),
        (
            "db_home_dir = /dev/shm/",
            format!("db_home_dir = {p}/var/lib/dirsrv/dbhome-"),
        ),
    ];
    Ok(text
        .lines()
        .map(|l| {
            let l = moved
                .iter()
                .find(|(from, _)| l.starts_with(from))
                .map(|(from, to)| l.replacen(from, to, 1))
                .unwrap_or_else(|| l.to_string());
            l.replace("= /var/log/dirsrv", &format!("= {p}/var/log/dirsrv"))
                .replace("= /var/lib/dirsrv", &format!("= {p}/var/lib/dirsrv"))
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n")
}

impl DsLab {
    /// Lays out N instances, each a copy of the template (built by `dscreate` the first time)
    /// and the cluster file; refuses over a running lab.
    pub(crate) fn create(dir: &Path, nodes: u16) -> Result<DsLab, LabError> {
        DsLab::create_with(dir, nodes, false)
    }

    /// As `create`; with `tls` the cluster file names each instance's LDAPS port, the lab's CA
    /// (`ca.pem`) and its plain LDAP port.
    pub(crate) fn create_with(dir: &Path, nodes: u16, tls: bool) -> Result<DsLab, LabError> {
        let dir = &crate::util::words::absolute(dir);
        if let Some(why) = missing_tools() {
            return Err(LabError::Unavailable(why));
        }
        if !(1..=9).contains(&nodes) {
            return Err(LabError::Failed(format!(
                "--nodes {nodes}: a 389ds lab has 1 to 9 instances"
            )));
        }
        if let Ok(old) = DsLab::open(dir) {
            let running: Vec<String> = old
                .nodes
                .iter()
                .filter(|n| old.pid(&n.name).is_some())
                .map(|n| n.name.clone())
                .collect();
            if !running.is_empty() {
                return Err(LabError::Running {
                    dir: dir.to_path_buf(),
                    running: running.join(", "),
                });
            }
        }
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let ports = crate::lab::process::free_ports(2 * nodes as usize)
            .map_err(io("choose ports in", dir))?;
        let lab = DsLab {
            dir: dir.to_path_buf(),
            nodes: (0..nodes as usize)
                .map(|i| DsLabNode {
                    name: format!("node-{}", i + 1),
                    port: ports[2 * i],
                    secure_port: ports[2 * i + 1],
                })
                .collect(),
            tls,
        };
        let template = Template::ensure()?;
        lab.lay_out(&template.etc())?;
        // The template's Directory Manager password (its dse.ldif holds the hash); a
        // replication password of the lab's own.
        write_secret(&dir.join("dm.pw"), &template.dm_password()?)?;
        secret(dir, "repl.pw")?;
        for n in &lab.nodes {
            template.copy(&lab, n)?;
        }
        template.copy_ca(&dir.join("ca.pem"))?;
        let drctl = std::env::current_exe().map_err(io("find the drctl binary for", dir))?;
        let lab_cmd = |verb: &str, node: &str| {
            format!(
                "'{}' --lab-dir '{}' lab {verb} {node}",
                drctl.display(),
                dir.display()
            )
        };
        let mut yaml = format!(
            "# Written by `drctl lab up --kind 389ds`. Use it with: export DRCTL_CLUSTER={}\ncluster: 389ds-lab\nnodes:\n",
            lab.cluster_file().display()
        );
        for n in &lab.nodes {
            // The certificate names 127.0.0.1 (see template.rs).
            let url = match tls {
                true => format!(
                    "ldaps://127.0.0.1:{}\n  ca_file: ca.pem\n  ldap_port: {}",
                    n.secure_port, n.port
                ),
                false => n.url(),
            };
            yaml.push_str(&format!(
                "- name: {}\n  kind: 389ds\n  url: {}\n  bind_dn: cn=Directory Manager\n  password_file: dm.pw\n  suffix: {SUFFIX}\n  replication_password_file: repl.pw\n  start_command: \"{}\"\n  stop_command: \"{}\"\n",
                n.name,
                url,
                lab_cmd("restart", &n.name),
                lab_cmd("stop", &n.name),
            ));
        }
        std::fs::write(lab.cluster_file(), yaml).map_err(io("write", &lab.cluster_file()))?;
        lab.save()?;
        Ok(lab)
    }

    /// The prefix install: its directories, the schema and config dscreate copies from
    /// `etc` (`/etc/dirsrv` or the template's), and the private `defaults.inf`.
    pub(super) fn lay_out(&self, etc: &Path) -> Result<(), LabError> {
        let prefix = self.prefix();
        for d in [
            "share/dirsrv/inf",
            "etc/dirsrv",
            "run/dirsrv",
            "run/lock/dirsrv",
            "var/log/dirsrv",
            "var/lib/dirsrv",
            "lib/dirsrv",
            "etc/default",
            "etc/tmpfiles.d",
        ] {
            let p = prefix.join(d);
            std::fs::create_dir_all(&p).map_err(io("create", &p))?;
        }
        let copied = Command::new("cp")
            .arg("-a")
            .args([etc.join("schema"), etc.join("config")])
            .arg(prefix.join("etc/dirsrv"))
            .status()
            .map_err(io("copy /etc/dirsrv into", &prefix))?;
        if !copied.success() {
            return Err(LabError::Failed(format!(
                "cannot copy {}/schema and config into {}",
                etc.display(),
                prefix.display()
            )));
        }
        let inf = prefix.join("share/dirsrv/inf/defaults.inf");
        std::fs::write(&inf, defaults_inf(&prefix)?).map_err(io("write", &inf))
    }

    /// One `dscreate from-file` (not started) with a self-signed CA and a server certificate
    /// for localhost in its NSS database, TLS on; then bound to loopback only.
    pub(super) fn dscreate(
        &self,
        n: &DsLabNode,
        secure_port: u16,
        dm: &str,
    ) -> Result<(), LabError> {
        let inf = self.dir.join(format!("{}.inf", n.name));
        let text = format!(
            "[general]\nfull_machine_name = localhost\nselinux = False\nsystemd = False\nstart = False\nstrict_host_checking = False\n\
             [slapd]\ninstance_name = {}\nport = {}\nsecure_port = {secure_port}\nroot_password = {dm}\nself_sign_cert = True\nuser = root\ngroup = root\n\
             [backend-userroot]\nsuffix = {SUFFIX}\ncreate_suffix_entry = True\nsample_entries = no\n",
            n.name, n.port
        );
        std::fs::write(&inf, text).map_err(io("write", &inf))?;
        std::fs::set_permissions(&inf, std::fs::Permissions::from_mode(0o600))
            .map_err(io("protect", &inf))?;
        let log = self.dir.join(format!("dscreate-{}.log", n.name));
        let out = Command::new("/usr/sbin/dscreate")
            .args(["-v", "from-file"])
            .arg(&inf)
            .env("PREFIX", self.prefix())
            .stdin(Stdio::null())
            .output()
            .map_err(io("run dscreate for", &inf))?;
        // The inf holds the Directory Manager password: gone once used.
        let _ = std::fs::remove_file(&inf);
        let _ = std::fs::write(&log, [&out.stdout[..], &out.stderr[..]].concat());
        if !out.status.success() {
            return Err(LabError::Failed(format!(
                "dscreate for {} failed ({}): see {}",
                n.name,
                out.status,
                log.display()
            )));
        }
        let dse = self.config_dir(&n.name).join("dse.ldif");
        let text = std::fs::read_to_string(&dse).map_err(io("read", &dse))?;
        if !text.contains("\nnsslapd-listenhost:") {
            let bound = text.replacen(
                "\nnsslapd-port:",
                "\nnsslapd-listenhost: 127.0.0.1\nnsslapd-securelistenhost: 127.0.0.1\nnsslapd-port:",
                1,
            );
            std::fs::write(&dse, bound).map_err(io("write", &dse))?;
        }
        Ok(())
    }
}
