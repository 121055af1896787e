//! The cluster CA and node certificates (seed 002: a server carries both its own name and the
//! group's name; seed 003: every server trusts the others' certificates).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use crate::util::names::{validate_hostname, InvalidName};
use crate::util::secret::write_private_file;

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("{path} already exists; remove it or choose another --dir")]
    Exists { path: PathBuf },
    #[error("no CA in {dir}: run `drctl certs init --dir {dir}` first")]
    NoCa { dir: PathBuf },
    #[error("cannot {verb} {path}: {source}")]
    Io {
        verb: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error(transparent)]
    Name(#[from] InvalidName),
}

pub(crate) struct CaFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub(crate) struct NodeCertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub(crate) fn ca_paths(dir: &Path) -> CaFiles {
    CaFiles {
        cert: dir.join("ca.pem"),
        key: dir.join("ca.key"),
    }
}

fn io<'a>(verb: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> CertError + 'a {
    move |source| CertError::Io {
        verb,
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `ca.pem` and `ca.key` in `dir` for the cluster `cluster`.
pub(crate) fn init_ca(dir: &Path, cluster: &str) -> Result<CaFiles, CertError> {
    validate_hostname(cluster)?;
    let files = ca_paths(dir);
    for p in [&files.cert, &files.key] {
        if p.exists() {
            return Err(CertError::Exists { path: p.clone() });
        }
    }
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("drctl CA {cluster}"));
    dn.push(DnType::OrganizationName, cluster.to_string());
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(3650);
    let cert = params.self_signed(&key)?;
    write_private_file(&files.key, key.serialize_pem().as_bytes())
        .map_err(io("write", &files.key))?;
    std::fs::write(&files.cert, cert.pem()).map_err(io("write", &files.cert))?;
    Ok(files)
}

/// Issues `NAME.pem` / `NAME.key` in `dir`, signed by the CA there. The certificate names the
/// node and the cluster as subject alternative names, plus any `extra_sans` (host names or IPs).
pub(crate) fn issue(
    dir: &Path,
    node: &str,
    cluster: &str,
    extra_sans: &[String],
) -> Result<NodeCertFiles, CertError> {
    validate_hostname(node)?;
    validate_hostname(cluster)?;
    let ca = ca_paths(dir);
    if !ca.cert.exists() || !ca.key.exists() {
        return Err(CertError::NoCa {
            dir: dir.to_path_buf(),
        });
    }
    let ca_pem = std::fs::read_to_string(&ca.cert).map_err(io("read", &ca.cert))?;
    let ca_key_pem = std::fs::read_to_string(&ca.key).map_err(io("read", &ca.key))?;
    let ca_key = KeyPair::from_pem(&ca_key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key)?;

    let mut sans = vec![node.to_string(), cluster.to_string()];
    for s in extra_sans {
        if s.parse::<std::net::IpAddr>().is_err() {
            validate_hostname(s)?;
        }
        if !sans.contains(s) {
            sans.push(s.clone());
        }
    }
    let mut params = CertificateParams::default();
    params.subject_alt_names = sans
        .iter()
        .map(|s| match s.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => Ok(SanType::DnsName(s.clone().try_into()?)),
        })
        .collect::<Result<_, rcgen::Error>>()?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, node.to_string());
    dn.push(DnType::OrganizationName, cluster.to_string());
    params.distinguished_name = dn;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(825);
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    let files = NodeCertFiles {
        cert: dir.join(format!("{node}.pem")),
        key: dir.join(format!("{node}.key")),
    };
    write_private_file(&files.key, key.serialize_pem().as_bytes())
        .map_err(io("write", &files.key))?;
    std::fs::write(&files.cert, cert.pem()).map_err(io("write", &files.cert))?;
    Ok(files)
}
