//! Signing credentials: an Ed25519 key from `keygen` and its certificate
//! chain, checked before the C2PA SDK sees them.
//!
//! Checks made here, each with a plain error: the key is Ed25519 PKCS#8, the
//! chain file holds at least a leaf, the leaf carries the key's public half
//! (otherwise every signature would fail verification), and the leaf is
//! inside its validity period (a manifest signed with an expired certificate
//! is invalid for every verifier).

use std::path::{Path, PathBuf};

use c2pa::{BoxedSigner, SigningAlg};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::keys::cert::parse_pem_certs;
use crate::keys::keygen::cert_beside;
use crate::keys::SecretKey;

/// A loaded signer with the facts about it that callers print.
pub struct Credentials {
    /// The SDK signer (holds the key; never printed).
    pub signer: BoxedSigner,
    /// The certificate chain file used.
    pub cert_path: PathBuf,
    /// Subject of the leaf certificate.
    pub subject: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("cert_path", &self.cert_path)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Load `key` and its chain (`cert`, default: the `.crt` beside the key).
pub fn load(key: &Path, cert: Option<&Path>) -> Result<Credentials> {
    let secret = SecretKey::load(key)?;
    let cert_path = cert
        .map(Path::to_path_buf)
        .unwrap_or_else(|| cert_beside(key));
    let chain_pem = std::fs::read_to_string(&cert_path).map_err(|e| Error::io(&cert_path, e))?;
    let chain = parse_pem_certs(&chain_pem)
        .map_err(|e| Error::Certificate(format!("{}: {e}", cert_path.display())))?;
    let leaf_der = chain.first().ok_or_else(|| {
        Error::Certificate(format!(
            "{}: no certificate in the file",
            cert_path.display()
        ))
    })?;
    let (_, leaf) = x509_parser::parse_x509_certificate(leaf_der).map_err(|e| {
        Error::Certificate(format!(
            "{}: cannot parse the certificate: {e}",
            cert_path.display()
        ))
    })?;
    if leaf.public_key().subject_public_key.data.as_ref() != secret.verifying_key().as_bytes() {
        return Err(Error::Key(format!(
            "{} does not belong to the certificate {}",
            key.display(),
            cert_path.display()
        )));
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let validity = leaf.validity();
    if now > validity.not_after.timestamp() {
        return Err(Error::Certificate(format!(
            "{}: the certificate expired on {}",
            cert_path.display(),
            validity.not_after
        )));
    }
    if now < validity.not_before.timestamp() {
        return Err(Error::Certificate(format!(
            "{}: the certificate is not valid before {}",
            cert_path.display(),
            validity.not_before
        )));
    }
    let subject = leaf.subject().to_string();
    let key_pem: Zeroizing<String> = secret.to_pkcs8_pem()?;
    let signer = c2pa::create_signer::from_keys(
        chain_pem.as_bytes(),
        key_pem.as_bytes(),
        SigningAlg::Ed25519,
        None,
    )
    .map_err(|e| Error::Key(format!("the C2PA SDK refused the key or chain: {e}")))?;
    Ok(Credentials {
        signer,
        cert_path,
        subject,
    })
}
