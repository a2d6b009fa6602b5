//! Ed25519 key files: generation, PEM encoding and loading.
//!
//! Secret keys are held in [`SecretKey`], whose `Debug` never shows key
//! material and whose bytes are zeroized on drop (ed25519-dalek's
//! `SigningKey` does both; the PEM text is held in `Zeroizing`).

use std::fmt;
use std::path::Path;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::KeypairBytes;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// An Ed25519 secret key. Never printed; zeroized on drop.
pub struct SecretKey {
    inner: SigningKey,
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretKey")
            .field("public_fingerprint", &fingerprint(&self.verifying_key()))
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        SecretKey {
            inner: SigningKey::generate(&mut rand_core::OsRng),
        }
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.inner.verifying_key()
    }

    /// The underlying dalek key (for signing).
    pub fn signing_key(&self) -> &SigningKey {
        &self.inner
    }

    /// PKCS#8 v1 (RFC 8410 `OneAsymmetricKey` without the optional public
    /// key), the form OpenSSL 3.0 and every C2PA tool read; zeroized on drop.
    fn keypair_bytes(&self) -> KeypairBytes {
        KeypairBytes {
            secret_key: self.inner.to_bytes(),
            public_key: None,
        }
    }

    /// PKCS#8 v1 DER, zeroized on drop.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        let doc = self
            .keypair_bytes()
            .to_pkcs8_der()
            .map_err(|e| Error::Key(format!("cannot encode key: {e}")))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
    }

    /// PKCS#8 v1 PEM text, zeroized on drop.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>> {
        self.keypair_bytes()
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Key(format!("cannot encode key: {e}")))
    }

    /// Parse PKCS#8 PEM text.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        SigningKey::from_pkcs8_pem(pem)
            .map(|inner| SecretKey { inner })
            .map_err(|e| Error::Key(format!("not an Ed25519 PKCS#8 PEM private key ({e})")))
    }

    /// Load a `NAME.key` file. Warns nothing and prints nothing: callers decide.
    pub fn load(path: &Path) -> Result<Self> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?);
        Self::from_pkcs8_pem(&text).map_err(|e| match e {
            Error::Key(m) => Error::Key(format!("{}: {m}", path.display())),
            other => other,
        })
    }
}

/// SubjectPublicKeyInfo PEM for a public key.
pub fn public_key_pem(key: &VerifyingKey) -> Result<String> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| Error::Key(format!("cannot encode public key: {e}")))
}

/// Parse a SubjectPublicKeyInfo PEM Ed25519 public key.
pub fn public_key_from_pem(pem: &str) -> Result<VerifyingKey> {
    VerifyingKey::from_public_key_pem(pem)
        .map_err(|e| Error::Key(format!("not an Ed25519 public key PEM ({e})")))
}

/// The key fingerprint hallmark prints: `SHA256:` and the hex SHA-256 of the
/// 32 raw public-key bytes.
pub fn fingerprint(key: &VerifyingKey) -> String {
    raw_key_fingerprint(key.as_bytes())
}

/// Fingerprint of raw public-key bytes (as carried in a certificate's SPKI).
pub fn raw_key_fingerprint(raw: &[u8]) -> String {
    format!("SHA256:{}", hex::encode(Sha256::digest(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_and_debug_hides_secret() {
        let k = SecretKey::generate();
        let pem = k.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = SecretKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(back.verifying_key(), k.verifying_key());
        let dbg = format!("{k:?}");
        let secret_hex = hex::encode(k.signing_key().to_bytes());
        assert!(!dbg.contains(&secret_hex));
        assert!(!dbg.contains("PRIVATE"));
        assert!(dbg.contains("SHA256:"));
    }

    #[test]
    fn public_pem_round_trip() {
        let k = SecretKey::generate();
        let pem = public_key_pem(&k.verifying_key()).unwrap();
        assert_eq!(public_key_from_pem(&pem).unwrap(), k.verifying_key());
    }

    #[test]
    fn garbage_is_a_key_error() {
        assert!(matches!(
            SecretKey::from_pkcs8_pem("nope"),
            Err(Error::Key(_))
        ));
    }
}
