//! The template every lab instance is copied from: one instance laid out by `dscreate` once per
//! machine and 389-ds build (in the temp dir, named by the build), with its caches sized for a
//! lab (`nsslapd-cache-autosize: 0`, a 32 MB db cache: 39 MB RSS and a 16 MB db dir instead of
//! 100 MB, engine-labs/389ds §2). A lab instance is its configuration directory copied with every
//! path, the instance name and the port rewritten in `dse.ldif`; its database starts empty and
//! `DsLab::up` adds the suffix entry. A copy costs milliseconds where `dscreate` costs 5 s per
//! instance, and more when several run at once on 2 cores.
//!
//! The template is built in a directory of its own and renamed into place, so two labs created at
//! once never see half a template: the loser of the rename discards its copy.

use std::io::ErrorKind;

use super::*;

/// The template instance's name: `slapd-template` in every path of its `dse.ldif`.
const NAME: &str = "template";
/// Bumped when what a template holds changes, so an old one is not reused.
const FORMAT: u32 = 4;

pub(super) struct Template {
    /// The template's lab directory: `root/` (the prefix) and `dm.pw`.
    lab: DsLab,
}

impl Template {
    /// The template of this machine's 389-ds build, built first if there is none.
    pub(super) fn ensure() -> Result<Template, LabError> {
        // Short: ns-slapd refuses an LDAPI socket path of 104 bytes or more.
        let dir = std::env::temp_dir().join(format!("drctl-389ds-{}", key()?));
        if !dir.join("ready").is_file() {
            build(&dir)?;
        }
        Ok(Template { lab: at(&dir) })
    }

    /// The Directory Manager password the template's `dse.ldif` holds (hashed).
    pub(super) fn dm_password(&self) -> Result<String, LabError> {
        let p = self.lab.dir.join("dm.pw");
        std::fs::read_to_string(&p).map_err(io("read", &p))
    }

    /// The shared schema and config of the prefix (`etc/dirsrv/{schema,config}`).
    pub(super) fn etc(&self) -> PathBuf {
        self.lab.prefix().join("etc/dirsrv")
    }

    /// Copies the CA that signed every instance's certificate (dscreate's self-signed one).
    pub(super) fn copy_ca(&self, to: &Path) -> Result<(), LabError> {
        let ca = self.lab.config_dir(NAME).join("ca.crt");
        std::fs::copy(&ca, to).map(drop).map_err(io("copy", &ca))
    }

    /// Lays out `n` in `lab` as a copy of the template instance listening on `n.port`.
    pub(super) fn copy(&self, lab: &DsLab, n: &DsLabNode) -> Result<(), LabError> {
        let from = self.lab.config_dir(NAME);
        let to = lab.config_dir(&n.name);
        let old_prefix = self.lab.prefix().display().to_string();
        let new_prefix = lab.prefix().display().to_string();
        let rename = |text: &str| {
            text.replace(&old_prefix, &new_prefix)
                .replace(&format!("slapd-{NAME}"), &format!("slapd-{}", n.name))
        };
        copy_dir(&from, &to, &|file, bytes| match file {
            // Backups of the template's own config: ns-slapd writes its own at start.
            f if f.starts_with("dse.ldif.") => None,
            "dse.ldif" => {
                let text = String::from_utf8_lossy(bytes);
                let lines: Vec<String> = unfold(&text)
                    .iter()
                    .map(|l| match attribute(l).as_str() {
                        "nsslapd-port" => format!("nsslapd-port: {}", n.port),
                        // Written `nsslapd-securePort`.
                        "nsslapd-secureport" => format!("nsslapd-securePort: {}", n.secure_port),
                        _ => rename(l),
                    })
                    .collect();
                Some((lines.join("\n") + "\n").into_bytes())
            }
            "pkcs11.txt" => Some(rename(&String::from_utf8_lossy(bytes)).into_bytes()),
            _ => Some(bytes.to_vec()),
        })?;
        let prefix = lab.prefix();
        let inst = format!("slapd-{}", n.name);
        for d in [
            format!("var/lib/dirsrv/{inst}/db"),
            format!("var/lib/dirsrv/{inst}/bak"),
            format!("var/lib/dirsrv/{inst}/ldif"),
            format!("var/log/dirsrv/{inst}"),
            format!("run/lock/dirsrv/{inst}/server"),
            format!("run/lock/dirsrv/{inst}/exports"),
            format!("run/lock/dirsrv/{inst}/imports"),
        ] {
            let p = prefix.join(d);
            std::fs::create_dir_all(&p).map_err(io("create", &p))?;
        }
        Ok(())
    }
}

fn at(dir: &Path) -> DsLab {
    DsLab {
        dir: dir.to_path_buf(),
        nodes: vec![DsLabNode {
            name: NAME.into(),
            port: 0,
            secure_port: 0,
        }],
        tls: false,
    }
}

/// What names the build: drctl's template format and the 389-ds files `dscreate` lays out from.
fn key() -> Result<String, LabError> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (FORMAT, env!("CARGO_PKG_VERSION")).hash(&mut h);
    for f in [
        "/usr/sbin/ns-slapd",
        "/usr/sbin/dscreate",
        "/usr/share/dirsrv/inf/defaults.inf",
        "/usr/share/dirsrv/data/template-dse.ldif",
    ] {
        let p = Path::new(f);
        match std::fs::metadata(p) {
            Ok(m) => (f, m.len(), m.modified().ok()).hash(&mut h),
            Err(e) if e.kind() == ErrorKind::NotFound => (f, "absent").hash(&mut h),
            Err(e) => return Err(io("read", p)(e)),
        }
    }
    Ok(format!("{:012x}", h.finish() >> 16))
}

/// Builds the template in a directory of its own, then renames it to `dir`.
fn build(dir: &Path) -> Result<(), LabError> {
    let tmp = dir.with_extension(&uuid::Uuid::new_v4().simple().to_string()[..8]);
    let r = (|| {
        std::fs::create_dir_all(&tmp).map_err(io("create", &tmp))?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o700))
            .map_err(io("protect", &tmp))?;
        let mut lab = at(&tmp);
        let ports = crate::lab::process::free_ports(2).map_err(io("choose ports in", &tmp))?;
        lab.nodes[0].port = ports[0];
        lab.lay_out(Path::new("/etc/dirsrv"))?;
        let dm = secret(&tmp, "dm.pw")?;
        lab.dscreate(&lab.nodes[0], ports[1], &dm)?;
        reissue_server_cert(&lab)?;
        // Its paths are written as they will be once renamed into place.
        let (built, placed) = (
            lab.prefix().display().to_string(),
            at(dir).prefix().display().to_string(),
        );
        let dse = lab.config_dir(NAME).join("dse.ldif");
        let text = std::fs::read_to_string(&dse).map_err(io("read", &dse))?;
        let sized: Vec<String> = unfold(&text)
            .into_iter()
            .map(|l| match attribute(&l).as_str() {
                "nsslapd-cache-autosize" => "nsslapd-cache-autosize: 0".into(),
                "nsslapd-dbcachesize" => "nsslapd-dbcachesize: 33554432".into(),
                _ => l.replace(&built, &placed),
            })
            .collect();
        std::fs::write(&dse, sized.join("\n") + "\n").map_err(io("write", &dse))?;
        let pkcs = lab.config_dir(NAME).join("pkcs11.txt");
        let text = std::fs::read_to_string(&pkcs).map_err(io("read", &pkcs))?;
        std::fs::write(&pkcs, text.replace(&built, &placed)).map_err(io("write", &pkcs))?;
        // The template's own database and logs are never copied.
        for d in ["var/lib/dirsrv", "var/log/dirsrv"] {
            let p = lab.prefix().join(d);
            let _ = std::fs::remove_dir_all(&p);
        }
        let ready = tmp.join("ready");
        std::fs::write(&ready, b"").map_err(io("write", &ready))
    })();
    // A failed build is kept: the error names its dscreate log.
    r?;
    match std::fs::rename(&tmp, dir) {
        Ok(()) => Ok(()),
        // Another lab built it at the same time.
        Err(_) if dir.join("ready").is_file() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(io("move the template into", dir)(e))
        }
    }
}

/// Replaces dscreate's server certificate (for `full_machine_name` alone) by one of the same CA
/// for `localhost` and `127.0.0.1`: ns-slapd's LDAP client checks an agreement's target against
/// the machine's hostname when the target is `localhost`, so lab agreements over TLS name
/// 127.0.0.1, and so does the cluster file.
fn reissue_server_cert(lab: &DsLab) -> Result<(), LabError> {
    let inst = lab.config_dir(NAME);
    let ssca = lab.prefix().join("etc/dirsrv/ssca");
    let (csr, crt) = (lab.dir.join("server.csr"), lab.dir.join("server.crt"));
    let san = "dns:localhost,ip:127.0.0.1";
    let db = |d: &Path| format!("sql:{}", d.display());
    let steps: [(&str, Vec<std::ffi::OsString>); 4] = [
        (
            "make a key and request",
            vec![
                "-R".into(),
                "-d".into(),
                db(&inst).into(),
                "-f".into(),
                inst.join("pwdfile.txt").into(),
                "-z".into(),
                inst.join("noise.txt").into(),
                "-k".into(),
                "rsa".into(),
                "-g".into(),
                "2048".into(),
                "-s".into(),
                "CN=localhost,O=drctl lab".into(),
                "--extSAN".into(),
                san.into(),
                "-a".into(),
                "-o".into(),
                csr.clone().into(),
            ],
        ),
        (
            "sign it with the lab CA",
            vec![
                "-C".into(),
                "-d".into(),
                db(&ssca).into(),
                "-f".into(),
                ssca.join("pwdfile.txt").into(),
                "-c".into(),
                "Self-Signed-CA".into(),
                "-i".into(),
                csr.clone().into(),
                "-a".into(),
                "-o".into(),
                crt.clone().into(),
                "-m".into(),
                "1001".into(),
                "-v".into(),
                "120".into(),
                "--extSAN".into(),
                san.into(),
                "--keyUsage".into(),
                "digitalSignature,keyEncipherment".into(),
                "--extKeyUsage".into(),
                "serverAuth".into(),
            ],
        ),
        (
            "remove dscreate's certificate",
            vec![
                "-D".into(),
                "-d".into(),
                db(&inst).into(),
                "-n".into(),
                "Server-Cert".into(),
            ],
        ),
        (
            "import the new one",
            vec![
                "-A".into(),
                "-d".into(),
                db(&inst).into(),
                "-n".into(),
                "Server-Cert".into(),
                "-t".into(),
                ",,".into(),
                "-a".into(),
                "-i".into(),
                crt.into(),
                "-f".into(),
                inst.join("pwdfile.txt").into(),
            ],
        ),
    ];
    for (what, args) in steps {
        let out = Command::new("certutil")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| LabError::Failed(format!("certutil (to {what}): {e}")))?;
        if !out.status.success() {
            return Err(LabError::Failed(format!(
                "certutil could not {what} for the lab's server certificate: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
    }
    Ok(())
}

/// A random secret in `dir/file`, mode 600.
pub(super) fn secret(dir: &Path, file: &str) -> Result<String, LabError> {
    let value = uuid::Uuid::new_v4().simple().to_string();
    write_secret(&dir.join(file), &value)?;
    Ok(value)
}

pub(super) fn write_secret(p: &Path, value: &str) -> Result<(), LabError> {
    std::fs::write(p, value).map_err(io("write", p))?;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).map_err(io("protect", p))
}

/// The attribute an LDIF line sets, lowercase ("" for none).
fn attribute(line: &str) -> String {
    line.split_once(':')
        .map(|(a, _)| a.to_ascii_lowercase())
        .unwrap_or_default()
}

/// LDIF lines with their continuations joined (ns-slapd folds `dse.ldif` at 78 columns, in the
/// middle of a path too); an unfolded `dse.ldif` is read back the same.
fn unfold(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in text.lines() {
        match (l.strip_prefix(' '), out.last_mut()) {
            (Some(rest), Some(prev)) => prev.push_str(rest),
            _ => out.push(l.to_string()),
        }
    }
    out
}

/// A file's new bytes, given its name and bytes; None leaves it out.
type Rewrite<'a> = &'a dyn Fn(&str, &[u8]) -> Option<Vec<u8>>;

/// Copies a directory tree, each file's bytes through `map`, keeping modes.
fn copy_dir(from: &Path, to: &Path, map: Rewrite<'_>) -> Result<(), LabError> {
    std::fs::create_dir_all(to).map_err(io("create", to))?;
    let mode = std::fs::metadata(from)
        .map_err(io("read", from))?
        .permissions();
    std::fs::set_permissions(to, mode).map_err(io("protect", to))?;
    for e in std::fs::read_dir(from).map_err(io("read", from))? {
        let e = e.map_err(io("read", from))?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().map_err(io("read", &src))?.is_dir() {
            copy_dir(&src, &dst, map)?;
            continue;
        }
        let bytes = std::fs::read(&src).map_err(io("read", &src))?;
        let Some(out) = map(&e.file_name().to_string_lossy(), &bytes) else {
            continue;
        };
        std::fs::write(&dst, out).map_err(io("write", &dst))?;
        let mode = e.metadata().map_err(io("read", &src))?.permissions();
        std::fs::set_permissions(&dst, mode).map_err(io("protect", &dst))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::unfold;

    #[test]
    fn unfold_joins_continuations_split_inside_a_path() {
        let text =
            "dn: cn=x\nnsslapd-pluginarg0: /tmp/a/etc/slapd-collations.con\n f\naci: a\n b\n c\n";
        assert_eq!(
            unfold(text),
            [
                "dn: cn=x",
                "nsslapd-pluginarg0: /tmp/a/etc/slapd-collations.conf",
                "aci: abc"
            ]
        );
    }
}
