//! TLS configuration with one crypto provider (ring) for the whole build: the node's server
//! config, and the client config that trusts a cluster CA file or a directory of certificates.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no PEM {what}")]
    Empty { what: &'static str, path: PathBuf },
    #[error("{path} is not a valid PEM {what}: {source}")]
    BadPem {
        what: &'static str,
        path: PathBuf,
        source: pem::Error,
    },
    #[error("certificate in {path} cannot be trusted as a root: {source}")]
    BadRoot {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("cannot use the certificate {cert} with key {key}: {source}")]
    BadPair {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
    #[error("no trust configured: give a CA file or a trust directory")]
    NoTrust,
}

/// The crypto provider every rustls config in drctl uses.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Where trusted certificates come from: a CA bundle, a directory of peer certificates, or both.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub ca: Option<PathBuf>,
    pub trust_dir: Option<PathBuf>,
}

pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::Read {
        what: "certificate file",
        path: path.to_path_buf(),
        source,
    })?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|source| TlsError::BadPem {
            what: "certificate",
            path: path.to_path_buf(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::Empty {
            what: "certificate",
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::Read {
        what: "key file",
        path: path.to_path_buf(),
        source,
    })?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|source| match source {
        pem::Error::NoItemsFound => TlsError::Empty {
            what: "private key",
            path: path.to_path_buf(),
        },
        source => TlsError::BadPem {
            what: "private key",
            path: path.to_path_buf(),
            source,
        },
    })
}

pub fn root_store(trust: &Trust) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    let mut files = Vec::new();
    if let Some(ca) = &trust.ca {
        files.push(ca.clone());
    }
    if let Some(dir) = &trust.trust_dir {
        let entries = std::fs::read_dir(dir).map_err(|source| TlsError::Read {
            what: "trust directory",
            path: dir.clone(),
            source,
        })?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("pem" | "crt" | "cer")
                )
            })
            .collect();
        found.sort();
        files.extend(found);
    }
    if files.is_empty() {
        return Err(TlsError::NoTrust);
    }
    for file in files {
        for cert in load_certs(&file)? {
            roots.add(cert).map_err(|source| TlsError::BadRoot {
                path: file.clone(),
                source,
            })?;
        }
    }
    Ok(roots)
}

pub fn client_config(trust: &Trust) -> Result<ClientConfig, TlsError> {
    let roots = root_store(trust)?;
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

pub fn server_config(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let chain = load_certs(cert)?;
    let private = load_key(key)?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|source| TlsError::BadPair {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            source,
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        path
    }

    #[test]
    fn a_generated_pair_loads_and_makes_a_server_config() {
        let dir = tempfile::tempdir().unwrap();
        let cert = rcgen::generate_simple_self_signed(vec!["node-1".into()]).unwrap();
        let cert_path = write(dir.path(), "node.crt", &cert.cert.pem());
        let key_path = write(dir.path(), "node.key", &cert.signing_key.serialize_pem());
        assert_eq!(load_certs(&cert_path).unwrap().len(), 1);
        server_config(&cert_path, &key_path).unwrap();
        let trust = Trust {
            ca: Some(cert_path),
            trust_dir: None,
        };
        assert_eq!(root_store(&trust).unwrap().len(), 1);
    }

    #[test]
    fn a_file_without_pem_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let empty = write(dir.path(), "empty.pem", "not a certificate\n");
        let err = load_certs(&empty).unwrap_err().to_string();
        assert!(
            err.contains("empty.pem") && err.contains("no PEM certificate"),
            "{err}"
        );
        let err = load_key(&empty).unwrap_err().to_string();
        assert!(
            err.contains("empty.pem") && err.contains("no PEM private key"),
            "{err}"
        );
    }

    #[test]
    fn a_broken_pem_section_is_refused_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let broken = write(
            dir.path(),
            "broken.crt",
            "-----BEGIN CERTIFICATE-----\nMIIB\n",
        );
        let err = load_certs(&broken).unwrap_err().to_string();
        assert!(
            err.contains("broken.crt") && err.contains("not a valid PEM"),
            "{err}"
        );
        let missing = dir.path().join("missing.key");
        let err = load_key(&missing).unwrap_err().to_string();
        assert!(err.contains("missing.key"), "{err}");
    }
}
