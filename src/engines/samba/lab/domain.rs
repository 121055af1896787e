//! How a Samba lab's domain is built: the private network (one namespace per DC on a bridge in
//! a namespace of its own, each DC's resolver), the provision of the first DC and the joins of
//! the others, the cluster files, and the replication settled to a full mesh (kcc, then a
//! DsReplicaSync of every partner), as `shared/engine-labs/samba-ad/lab.sh` does.

use super::*;

impl SambaLab {
    /// The lab client's resolver (what `ip netns exec` mounts over /etc/resolv.conf).
    pub(crate) fn client_resolv(&self) -> PathBuf {
        PathBuf::from("/etc/netns")
            .join(self.netns(CLIENT))
            .join("resolv.conf")
    }

    /// The lab client's Kerberos configuration (its `KRB5_CONFIG`).
    pub(crate) fn client_krb5(&self) -> PathBuf {
        self.dir.join("client/krb5.conf")
    }

    pub(super) fn write_resolv(&self, name: &str, ips: &[String]) -> Result<(), LabError> {
        let d = PathBuf::from("/etc/netns").join(self.netns(name));
        std::fs::create_dir_all(&d).map_err(io("create", &d))?;
        let mut text = format!("search {DNS_DOMAIN}\n");
        for ip in ips.iter().take(3) {
            text.push_str(&format!("nameserver {ip}\n"));
        }
        text.push_str("options timeout:1 attempts:2\n");
        let f = d.join("resolv.conf");
        std::fs::write(&f, text).map_err(io("write", &f))
    }

    /// The bridge namespace and one namespace per DC, each with eth0 on the bridge.
    pub(super) fn net_up(&self) -> Result<(), LabError> {
        let br = self.bridge_ns();
        ip(&["netns", "add", &br])?;
        ip(&["-n", &br, "link", "set", "lo", "up"])?;
        ip(&["-n", &br, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &br, "link", "set", "br0", "up"])?;
        for (i, name) in self.nodes.iter().enumerate() {
            let ns = self.netns(name);
            let peer = format!("v{}", i + 1);
            let cidr = format!("{}/24", Self::addr(i + 1));
            ip(&["netns", "add", &ns])?;
            ip(&[
                "link", "add", "name", "eth0", "netns", &ns, "type", "veth", "peer", "name", &peer,
                "netns", &br,
            ])?;
            ip(&["-n", &br, "link", "set", &peer, "master", "br0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ip(&["-n", &ns, "addr", "add", &cidr, "dev", "eth0"])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            // Samba's RPC endpoints bind ports from 49152 up, inside Linux's default range of
            // ports for outgoing connections (32768-60999): a connection out of this DC that
            // took one of them first made samba exit with NT_STATUS_ADDRESS_ALREADY_ASSOCIATED.
            // The range is per network namespace; keep this DC's outgoing ports below 49152.
            ip(&[
                "netns",
                "exec",
                &ns,
                "sh",
                "-c",
                "echo '32768 49151' > /proc/sys/net/ipv4/ip_local_port_range",
            ])?;
            // Until it runs itself, a DC resolves the domain through DC1.
            self.write_resolv(name, &[Self::addr(1)])?;
        }
        // The client (10.99.53.10), set up against DC1 alone: its resolver and its KDC list
        // name only DC1 until `drctl repoint` points it elsewhere (P9).
        let ns = self.netns(CLIENT);
        ip(&["netns", "add", &ns])?;
        ip(&[
            "link", "add", "name", "eth0", "netns", &ns, "type", "veth", "peer", "name", "v0",
            "netns", &br,
        ])?;
        ip(&["-n", &br, "link", "set", "v0", "master", "br0", "up"])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        let cidr = format!("{}/24", Self::addr(0));
        ip(&["-n", &ns, "addr", "add", &cidr, "dev", "eth0"])?;
        ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
        self.write_resolv(CLIENT, &[Self::addr(1)])?;
        let krb5 = self.client_krb5();
        if let Some(d) = krb5.parent() {
            std::fs::create_dir_all(d).map_err(io("create", d))?;
        }
        let text = format!(
            "[libdefaults]\n\tdefault_realm = {REALM}\n\tdns_lookup_realm = false\n\t\
             dns_lookup_kdc = false\n\trdns = false\n\tdns_canonicalize_hostname = false\n\
             [realms]\n\t{REALM} = {{\n\t\tkdc = {}\n\t}}\n[domain_realm]\n\t.{DNS_DOMAIN} = \
             {REALM}\n\t{DNS_DOMAIN} = {REALM}\n",
            Self::addr(1)
        );
        std::fs::write(&krb5, text).map_err(io("write", &krb5))
    }

    /// Removes the namespaces (ending what still runs in them) and their resolv.conf files.
    pub(super) fn net_down(&self) {
        for name in self.nodes.iter().map(String::as_str).chain([CLIENT]) {
            let ns = self.netns(name);
            for pid in self.pids(name) {
                let _ = crate::lab::process::send(pid, Sig::Kill);
            }
            let _ = ip(&["netns", "del", &ns]);
            let _ = std::fs::remove_dir_all(PathBuf::from("/etc/netns").join(&ns));
        }
        let _ = ip(&["netns", "del", &self.bridge_ns()]);
        let _ = std::fs::remove_dir(Path::new("/etc/netns"));
    }

    /// The per-DC paths (P3) and the DC's interfaces only.
    pub(super) fn options(&self, name: &str) -> Vec<String> {
        let d = self.dc_dir(name).display().to_string();
        [
            "interfaces=lo eth0".to_string(),
            "bind interfaces only=yes".into(),
            format!("pid directory={d}/run"),
            format!("ncalrpc dir={d}/run/ncalrpc"),
            format!("winbindd socket directory={d}/run/winbindd"),
            format!("ntp signd socket directory={d}/run/ntp_signd"),
            format!("log file={d}/log/log.%m"),
        ]
        .into_iter()
        .map(|o| format!("--option={o}"))
        .collect()
    }

    /// A fresh DC directory with an empty smb.conf (P3: provision and join copy the one they
    /// are given).
    pub(super) fn fresh_dir(&self, name: &str) -> Result<(), LabError> {
        let d = self.dc_dir(name);
        let _ = std::fs::remove_dir_all(&d);
        for sub in ["etc", "run", "log"] {
            std::fs::create_dir_all(d.join(sub)).map_err(io("create", &d))?;
        }
        std::fs::write(self.smb_conf(name), "").map_err(io("write", &self.smb_conf(name)))
    }

    pub(super) fn logged(&self, what: &str, name: &str, cmd: &mut Command) -> Result<(), LabError> {
        let log = self.dir.join(format!("{what}-{name}.log"));
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| failed(format!("cannot run samba-tool {what} for {name}: {e}")))?;
        let _ = std::fs::write(&log, [&out.stdout[..], &out.stderr[..]].concat());
        if !out.status.success() {
            return Err(failed(format!(
                "samba-tool domain {what} of {name} failed ({}): see {}",
                out.status,
                log.display()
            )));
        }
        Ok(())
    }

    pub(super) fn provision(&self, name: &str, password: &str) -> Result<(), LabError> {
        self.fresh_dir(name)?;
        let d = self.dc_dir(name);
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.netns(name), SAMBA_TOOL])
            .args(["domain", "provision", "-s"])
            .arg(self.smb_conf(name))
            .args([
                &format!("--realm={REALM}"),
                &format!("--domain={DOMAIN}"),
                "--server-role=dc",
                "--dns-backend=SAMBA_INTERNAL",
                &format!("--adminpass={password}"),
                &format!("--host-name={name}"),
                &format!("--host-ip={}", Self::addr(self.index(name)?)),
                &format!("--targetdir={}", d.display()),
                // P4: not itself (the first nameserver of its resolv.conf).
                "--option=dns forwarder=",
            ])
            .args(self.options(name));
        self.logged("provision", name, &mut cmd)
    }

    pub(super) fn join(&self, name: &str, via: &str, password: &str) -> Result<(), LabError> {
        self.fresh_dir(name)?;
        self.write_resolv(name, &[Self::addr(self.index(via)?)])?;
        let d = self.dc_dir(name);
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.netns(name), SAMBA_TOOL])
            .args(["domain", "join", DNS_DOMAIN, "DC", "-s"])
            .arg(self.smb_conf(name))
            .args([
                "-U",
                "Administrator",
                &format!("--password={password}"),
                &format!("--server={via}.{DNS_DOMAIN}"),
                "--dns-backend=SAMBA_INTERNAL",
                &format!("--targetdir={}", d.display()),
                &format!("--option=netbios name={}", name.to_uppercase()),
            ])
            .args(self.options(name));
        self.logged("join", name, &mut cmd)
    }

    pub(super) fn joined(&self, name: &str) -> bool {
        self.dc_dir(name).join("private/sam.ldb").exists()
    }

    /// Lays out the network, provisions DC1 and writes the cluster file; refuses over a
    /// running lab. The network is removed again if this fails.
    pub(crate) fn create(dir: &Path, nodes: u16) -> Result<SambaLab, LabError> {
        let dir = &crate::util::words::absolute(dir);
        if let Some(why) = missing_tools() {
            return Err(LabError::Unavailable(why));
        }
        if !(2..=3).contains(&nodes) {
            return Err(failed(format!(
                "--nodes {nodes}: a samba-ad lab has 2 or 3 DCs"
            )));
        }
        if let Ok(old) = SambaLab::open(dir) {
            let running: Vec<String> = old
                .nodes
                .iter()
                .filter(|n| old.pid(n).is_some())
                .cloned()
                .collect();
            if !running.is_empty() {
                return Err(LabError::Running {
                    dir: dir.to_path_buf(),
                    running: running.join(", "),
                });
            }
            old.net_down();
        }
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
        let lab = SambaLab {
            dir: dir.to_path_buf(),
            id: format!("{:06x}", rand::random::<u32>() & 0xff_ffff),
            nodes: (1..=nodes).map(|i| format!("dc{i}")).collect(),
        };
        // Upper, lower, digit and symbol: the domain's password policy.
        let password = format!("Lab.{}9", uuid::Uuid::new_v4().simple());
        let pw = dir.join("admin.pw");
        std::fs::write(&pw, &password).map_err(io("write", &pw))?;
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600))
            .map_err(io("protect", &pw))?;
        lab.save()?;
        let made = lab
            .net_up()
            .and_then(|()| lab.provision(&lab.nodes[0], &password))
            .and_then(|()| lab.write_cluster_file());
        if let Err(e) = made {
            lab.net_down();
            return Err(e);
        }
        Ok(lab)
    }

    pub(super) fn write_cluster_file(&self) -> Result<(), LabError> {
        let mut yaml = format!(
            "# Written by `drctl lab up --kind samba-ad`. Use it with: export DRCTL_CLUSTER={}\n\
             # drctl reads each DC through its root-only ldapi socket (run it as root on this host).\n\
             cluster: samba-ad-lab\n\
             # The lab client's files (`ip netns exec {}` runs a command as that client).\n\
             clients:\n  resolv_conf: \"{}\"\n  krb5_conf: \"{}\"\nnodes:\n",
            self.cluster_file().display(),
            self.netns(CLIENT),
            self.client_resolv().display(),
            self.client_krb5().display(),
        );
        for n in &self.nodes {
            let ns = self.netns(n);
            let d = self.dc_dir(n);
            yaml.push_str(&format!(
                "- name: {n}\n  kind: samba-ad\n  url: \"ldapi://{}\"\n  address: {}\n  \
                 realm: {REALM}\n  command_prefix: \"ip netns exec {ns}\"\n  smb_conf: \"{}\"\n  \
                 start_command: 'setsid ip netns exec {ns} {SAMBA} -s {} </dev/null >/dev/null 2>&1'\n  \
                 stop_command: 'ns={ns}; ip netns pids $ns | xargs -r kill -CONT; ip netns pids $ns \
                 | xargs -r kill; for i in $(seq 100); do [ -z \"$(ip netns pids $ns)\" ] && exit 0; \
                 sleep 0.2; done; ip netns pids $ns | xargs -r kill -9'\n  \
                 data_dirs: [{}]\n  join_password_file: admin.pw\n",
                self.socket(n).display(),
                Self::addr(self.index(n).map_err(|e| failed(e.to_string()))?),
                self.smb_conf(n).display(),
                self.smb_conf(n).display(),
                ["private", "state", "cache", "bind-dns"]
                    .map(|s| format!("\"{}\"", d.join(s).display()))
                    .join(", "),
            ));
        }
        std::fs::write(self.cluster_file(), yaml).map_err(io("write", &self.cluster_file()))?;
        // The same DCs over LDAPS, as a host on the lab network reaches them (`ip netns exec
        // sdc<id>-dc2 drctl --cluster cluster-ldaps.yaml status`): Samba's autogenerated
        // certificate names no host, so the lab trusts any.
        let mut yaml = format!(
            "# Written by `drctl lab up --kind samba-ad`: the DCs over LDAPS, for use inside the \
             lab network (`{} drctl --cluster {} status`).\ncluster: samba-ad-lab\nnodes:\n",
            self.nodes
                .get(1)
                .map(|n| format!("ip netns exec {}", self.netns(n)))
                .unwrap_or_default(),
            self.dir.join(LDAPS_FILE).display()
        );
        for n in &self.nodes {
            yaml.push_str(&format!(
                "- name: {n}\n  kind: samba-ad\n  url: ldaps://{n}.{DNS_DOMAIN}\n  \
                 bind_dn: Administrator@{DNS_DOMAIN}\n  password_file: admin.pw\n  realm: {REALM}\n  \
                 danger_accept_invalid_certs: true\n  command_prefix: \"ip netns exec {}\"\n  \
                 smb_conf: \"{}\"\n",
                self.netns(n),
                self.smb_conf(n).display(),
            ));
        }
        let p = self.dir.join(LDAPS_FILE);
        std::fs::write(&p, yaml).map_err(io("write", &p))
    }

    /// `samba-tool drs kcc` on a DC, each call bounded to 5 s (P12: one that meets the startup
    /// KCC run blocks for 60 s), tried again each second for up to 30 s: a DC still starting
    /// refuses the DRS connection at once, and three quick tries all met that (a drill's lab
    /// did not come up in CI: "DRS connection to dc3 failed").
    pub(super) fn kcc(&self, name: &str) -> Result<(), LabError> {
        crate::util::poll::within_blocking(Duration::from_secs(30), Duration::from_secs(1), || {
            match run(Command::new("timeout")
                .args(["5", "ip", "netns", "exec", &self.netns(name), SAMBA_TOOL])
                .args(["drs", "kcc", "-s"])
                .arg(self.smb_conf(name)))
            {
                Ok(_) => std::ops::ControlFlow::Break(()),
                Err(e) => std::ops::ControlFlow::Continue(e),
            }
        })
    }

    pub(super) fn mesh_sync(&self, password: &str) -> Result<(), LabError> {
        let first = &self.nodes[0];
        run(Command::new("timeout")
            .args(["120", "ip", "netns", "exec", &self.netns(first)])
            .args(["/usr/bin/python3", "-c", MESH_SYNC])
            .args(&self.nodes)
            .env("LAB_CONF", self.smb_conf(first))
            .env("LAB_PASS", password))
        .map(drop)
    }

    /// P7: full-mesh replication now, not at the next KCC run (300 s).
    pub(super) fn settle(&self, password: &str) -> Result<(), LabError> {
        for round in 0..2 {
            for n in &self.nodes {
                self.kcc(n)?;
            }
            if let Err(e) = self.mesh_sync(password) {
                if round == 1 {
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}
