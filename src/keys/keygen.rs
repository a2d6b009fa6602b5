//! `keygen`: make a signer's key, certificate chain and (optionally) a local CA.

use std::path::{Path, PathBuf};

use super::cert::{issue_leaf, make_root_ca, parse_pem_certs};
use super::keyfile::{fingerprint, public_key_pem, SecretKey};
use crate::atomic::{write_atomic_mode, Overwrite};
use crate::error::{Error, Result};

/// What to make.
#[derive(Debug, Clone)]
pub struct KeygenOptions {
    /// Signer name: letters, digits, `.`, `_` and `-`.
    pub name: String,
    /// Output folder (created if missing).
    pub out_dir: PathBuf,
    /// Issue the leaf from this existing CA secret key (its certificate is
    /// the `.crt` beside it) instead of making a new CA.
    pub ca_key: Option<PathBuf>,
    /// Replace existing files.
    pub force: bool,
}

/// What was written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeygenOutput {
    /// `NAME.key`.
    pub key: PathBuf,
    /// `NAME.pub`.
    pub public_key: PathBuf,
    /// `NAME.crt` (leaf, then issuing CA).
    pub certificate: PathBuf,
    /// The root CA certificate to trust (`NAME-ca.crt`, or the existing CA's).
    pub ca_certificate: PathBuf,
    /// `NAME-ca.key` when a new CA was made.
    pub ca_key: Option<PathBuf>,
    /// Public key fingerprint of the signer.
    pub fingerprint: String,
}

/// Validate a signer name so it makes safe file names.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "key name {name:?} must be 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
        )))
    }
}

/// The certificate that goes with a CA secret key: `X.key` -> `X.crt`.
pub fn cert_beside(key: &Path) -> PathBuf {
    key.with_extension("crt")
}

/// Make the files. Refuses to overwrite any of them unless `force`, and checks
/// all destinations before writing the first.
pub fn keygen(opts: &KeygenOptions) -> Result<KeygenOutput> {
    check_name(&opts.name)?;
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| Error::io(&opts.out_dir, e))?;
    let dir = &opts.out_dir;
    let key_path = dir.join(format!("{}.key", opts.name));
    let pub_path = dir.join(format!("{}.pub", opts.name));
    let crt_path = dir.join(format!("{}.crt", opts.name));
    let new_ca_key = dir.join(format!("{}-ca.key", opts.name));
    let new_ca_crt = dir.join(format!("{}-ca.crt", opts.name));

    let mut targets = vec![&key_path, &pub_path, &crt_path];
    if opts.ca_key.is_none() {
        targets.extend([&new_ca_key, &new_ca_crt]);
    }
    let overwrite = if opts.force {
        Overwrite::Allow
    } else {
        Overwrite::Refuse
    };
    if overwrite == Overwrite::Refuse {
        if let Some(existing) = targets.iter().find(|p| p.exists()) {
            return Err(Error::AlreadyExists((*existing).clone()));
        }
    }

    let leaf = SecretKey::generate();
    let (ca_key, ca_pem, ca_crt_path, made_ca) = match &opts.ca_key {
        Some(path) => {
            let ca_key = SecretKey::load(path)?;
            let ca_crt = cert_beside(path);
            let ca_pem = std::fs::read_to_string(&ca_crt).map_err(|e| Error::io(&ca_crt, e))?;
            (ca_key, ca_pem, ca_crt, false)
        }
        None => {
            let ca_key = SecretKey::generate();
            let ca_pem = make_root_ca(&opts.name, &ca_key)?;
            (ca_key, ca_pem, new_ca_crt.clone(), true)
        }
    };
    let leaf_pem = issue_leaf(&opts.name, &leaf, &ca_pem, &ca_key)?;
    // The chain a signer presents: leaf first, then the CA certificate(s).
    let ca_first = parse_pem_certs(&ca_pem)?;
    if ca_first.is_empty() {
        return Err(Error::Certificate(format!(
            "{}: no certificate found",
            ca_crt_path.display()
        )));
    }
    let chain = format!("{}{}", leaf_pem, ensure_newline(&ca_pem));

    if made_ca {
        write_atomic_mode(
            &new_ca_key,
            ca_key.to_pkcs8_pem()?.as_bytes(),
            overwrite,
            0o600,
        )?;
        write_atomic_mode(&new_ca_crt, ca_pem.as_bytes(), overwrite, 0o644)?;
    }
    write_atomic_mode(&key_path, leaf.to_pkcs8_pem()?.as_bytes(), overwrite, 0o600)?;
    write_atomic_mode(
        &pub_path,
        public_key_pem(&leaf.verifying_key())?.as_bytes(),
        overwrite,
        0o644,
    )?;
    write_atomic_mode(&crt_path, chain.as_bytes(), overwrite, 0o644)?;

    Ok(KeygenOutput {
        key: key_path,
        public_key: pub_path,
        certificate: crt_path,
        ca_certificate: ca_crt_path,
        ca_key: made_ca.then_some(new_ca_key),
        fingerprint: fingerprint(&leaf.verifying_key()),
    })
}

fn ensure_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for bad in ["", "../x", "a/b", ".hidden", "-x", "sp ace"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        for good in ["alice", "news-room_2", "a.b"] {
            assert!(check_name(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn refuses_overwrite_without_force_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let opts = KeygenOptions {
            name: "k".into(),
            out_dir: dir.path().into(),
            ca_key: None,
            force: false,
        };
        let first = keygen(&opts).unwrap();
        let before = std::fs::read(&first.key).unwrap();
        assert!(matches!(keygen(&opts), Err(Error::AlreadyExists(_))));
        assert_eq!(std::fs::read(&first.key).unwrap(), before);
        let forced = keygen(&KeygenOptions {
            force: true,
            ..opts
        })
        .unwrap();
        assert_ne!(std::fs::read(&forced.key).unwrap(), before);
    }

    #[test]
    fn issues_from_existing_ca() {
        let dir = tempfile::tempdir().unwrap();
        let base = keygen(&KeygenOptions {
            name: "desk".into(),
            out_dir: dir.path().into(),
            ca_key: None,
            force: false,
        })
        .unwrap();
        let ca_key = base.ca_key.clone().unwrap();
        let out = keygen(&KeygenOptions {
            name: "photographer".into(),
            out_dir: dir.path().into(),
            ca_key: Some(ca_key),
            force: false,
        })
        .unwrap();
        assert_eq!(out.ca_certificate, base.ca_certificate);
        assert!(out.ca_key.is_none());
        let chain = parse_pem_certs(&std::fs::read_to_string(&out.certificate).unwrap()).unwrap();
        let ca = parse_pem_certs(&std::fs::read_to_string(&base.ca_certificate).unwrap()).unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[1], ca[0]);
    }
}
