//! Keys, certificates and trust stores, all as plain files.
//!
//! `keygen` writes, for a signer called NAME:
//!
//! | file | content | mode |
//! |---|---|---|
//! | `NAME.key` | Ed25519 secret key, PKCS#8 PEM | 0600 |
//! | `NAME.pub` | Ed25519 public key, SubjectPublicKeyInfo PEM | 0644 |
//! | `NAME.crt` | leaf certificate followed by its issuing CA certificate (the chain a signer presents) | 0644 |
//! | `NAME-ca.key` | the local CA's Ed25519 secret key (only when a new CA is made) | 0600 |
//! | `NAME-ca.crt` | the local CA's self-signed root certificate: put it in a verifier's trust folder | 0644 |
//!
//! C2PA validators refuse a self-signed signing certificate, hence the small
//! CA. A trust store ([`trust::TrustStore`]) is a folder of root certificates
//! and public keys.

pub mod cert;
pub mod keyfile;
pub mod keygen;
pub mod trust;

pub use keyfile::SecretKey;
pub use keygen::{keygen, KeygenOptions, KeygenOutput};
pub use trust::TrustStore;
