//! Trust stores: a folder of root certificates and public keys.
//!
//! A signer is trusted when any certificate of its chain is one of the
//! store's certificates (compared by the SHA-256 of the DER), or when its
//! public key is one of the store's `.pub` keys or the key of one of its
//! certificates. Files ending `.crt`, `.pem` or `.cer` may hold several
//! certificates; `.pub` files hold one Ed25519 public key. Secret-key files
//! in the folder are ignored, never read.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::cert::parse_pem_certs;
use super::keyfile::{public_key_from_pem, raw_key_fingerprint};
use crate::error::{Error, Result};

/// The per-user trust folder: `$XDG_CONFIG_HOME/hallmark/trust`, else
/// `$HOME/.config/hallmark/trust`. Never a folder found in the working
/// directory: running a check inside a downloaded folder must not trust
/// whatever `keys/` it ships.
pub fn user_trust_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("hallmark").join("trust"))
}

/// Certificates and keys a verifier trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    /// The folder it was loaded from, if any.
    pub source: Option<PathBuf>,
    cert_hashes: HashSet<[u8; 32]>,
    key_fingerprints: HashSet<String>,
    anchors_pem: String,
}

impl TrustStore {
    /// An empty store: nothing is trusted.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The trust store to use: `dir` when given (it must be readable), else
    /// the per-user folder ([`user_trust_dir`]) when it exists, else an
    /// empty store (nothing trusted).
    pub fn load(dir: Option<&Path>) -> Result<Self> {
        match dir {
            Some(d) => Self::load_dir(d),
            None => match user_trust_dir().filter(|d| d.is_dir()) {
                Some(d) => Self::load_dir(&d),
                None => Ok(Self::empty()),
            },
        }
    }

    /// Which store this is, for reports: its folder and size, or that
    /// nothing is trusted.
    pub fn describe(&self) -> String {
        match &self.source {
            Some(d) => format!("{} ({} certificates or keys)", d.display(), self.len()),
            None => "none (no --trust folder and no per-user trust folder: nothing is trusted)"
                .to_string(),
        }
    }

    /// Load every `.crt`/`.pem`/`.cer`/`.pub` file in `dir` (not recursive).
    pub fn load_dir(dir: &Path) -> Result<Self> {
        let mut store = TrustStore {
            source: Some(dir.to_path_buf()),
            ..Self::default()
        };
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_ascii_lowercase();
            match ext.as_str() {
                "crt" | "pem" | "cer" => {
                    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                    store.add_pem_certs(&text)?;
                }
                "pub" => {
                    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                    let key = public_key_from_pem(&text).map_err(|e| match e {
                        Error::Key(m) => Error::Key(format!("{}: {m}", path.display())),
                        other => other,
                    })?;
                    store
                        .key_fingerprints
                        .insert(raw_key_fingerprint(key.as_bytes()));
                }
                _ => {}
            }
        }
        Ok(store)
    }

    /// Add every certificate in a PEM text.
    pub fn add_pem_certs(&mut self, text: &str) -> Result<()> {
        for der in parse_pem_certs(text)? {
            self.add_cert_der(&der);
            let pem = pem::Pem::new("CERTIFICATE", der);
            self.anchors_pem.push_str(&pem::encode_config(
                &pem,
                pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
            ));
        }
        Ok(())
    }

    fn add_cert_der(&mut self, der: &[u8]) {
        self.cert_hashes.insert(Sha256::digest(der).into());
        if let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) {
            let raw = cert.public_key().subject_public_key.data.as_ref();
            self.key_fingerprints.insert(raw_key_fingerprint(raw));
        }
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.cert_hashes.is_empty() && self.key_fingerprints.is_empty()
    }

    /// Number of certificates and keys held.
    pub fn len(&self) -> usize {
        self.cert_hashes.len() + self.key_fingerprints.len()
    }

    /// All trusted certificates as one PEM text (for the C2PA SDK's trust
    /// anchors).
    pub fn anchors_pem(&self) -> &str {
        &self.anchors_pem
    }

    /// Whether a certificate (DER) is in the store.
    pub fn contains_cert(&self, der: &[u8]) -> bool {
        self.cert_hashes
            .contains(&<[u8; 32]>::from(Sha256::digest(der)))
    }

    /// Whether a raw public key (as in a certificate's SPKI) is in the store.
    pub fn contains_key(&self, raw_public_key: &[u8]) -> bool {
        self.key_fingerprints
            .contains(&raw_key_fingerprint(raw_public_key))
    }

    /// Whether any certificate of a chain (leaf first, DER), or any of their
    /// public keys, is trusted.
    pub fn trusts_chain(&self, chain: &[Vec<u8>]) -> bool {
        chain.iter().any(|der| {
            self.contains_cert(der)
                || x509_parser::parse_x509_certificate(der)
                    .map(|(_, c)| {
                        self.contains_key(c.public_key().subject_public_key.data.as_ref())
                    })
                    .unwrap_or(false)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{keygen, KeygenOptions};

    #[test]
    fn trusts_its_own_root_only() {
        let dir = tempfile::tempdir().unwrap();
        let mk = |name: &str| {
            keygen(&KeygenOptions {
                name: name.into(),
                out_dir: dir.path().join(name),
                ca_key: None,
                force: false,
            })
            .unwrap()
        };
        let a = mk("a");
        let b = mk("b");
        let trust_dir = tempfile::tempdir().unwrap();
        std::fs::copy(&a.ca_certificate, trust_dir.path().join("a-ca.crt")).unwrap();
        let store = TrustStore::load_dir(trust_dir.path()).unwrap();
        assert_eq!(store.len(), 2);
        let chain_a = parse_pem_certs(&std::fs::read_to_string(&a.certificate).unwrap()).unwrap();
        let chain_b = parse_pem_certs(&std::fs::read_to_string(&b.certificate).unwrap()).unwrap();
        assert!(store.trusts_chain(&chain_a));
        assert!(!store.trusts_chain(&chain_b));
        // The anchors PEM re-parses to the same certificate.
        let again = parse_pem_certs(store.anchors_pem()).unwrap();
        assert_eq!(again.len(), 1);
        assert!(store.contains_cert(&again[0]));
    }
}
