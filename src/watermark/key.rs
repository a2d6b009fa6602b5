//! Watermark keys. The key seeds the whole pattern (which tile
//! coefficients carry the pilot and the payload, their phases): without it
//! an image's mark can be neither read nor written.
//!
//! The **public key** ([`super::DEFAULT_KEY`], the default) is the same in
//! every copy of hallmark, so that anyone can detect hallmark marks; anyone
//! can therefore also forge one (embed a payload of their choice) or aim a
//! removal attack at the known pattern. A **secret key** is read from a
//! file holding at least [`MIN_SECRET_BYTES`] bytes of secret (e.g.
//! `openssl rand -hex 32 > wm.key`): the pattern seed is the first 64 bits
//! of SHA-256 of the file's contents (domain-separated), so only the key
//! holder can read or forge the mark. Limits: the seed is 64 bits, and an
//! adversary holding many images marked with the same key can estimate the
//! pattern by averaging them (the tile is the same in every image); rotate
//! keys if that matters.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Domain separation for secret keys.
const SECRET_DOMAIN: &[u8] = b"hallmark watermark key v1\0";
/// Shortest secret accepted, bytes.
pub const MIN_SECRET_BYTES: usize = 16;
/// Largest key file read, bytes.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// The pattern seed for secret bytes (at least [`MIN_SECRET_BYTES`];
/// leading and trailing ASCII whitespace, such as a text file's final
/// newline, is ignored).
pub fn key_from_secret(secret: &[u8]) -> Result<u64> {
    let s = secret.trim_ascii();
    if s.len() < MIN_SECRET_BYTES {
        return Err(Error::Key(format!(
            "a watermark key needs at least {MIN_SECRET_BYTES} bytes of secret, got {} \
             (make one with `openssl rand -hex 32 > wm.key`)",
            s.len()
        )));
    }
    let mut h = Sha256::new();
    h.update(SECRET_DOMAIN);
    h.update(s);
    let d = h.finalize();
    let mut seed = [0u8; 8];
    seed.copy_from_slice(&d[..8]);
    Ok(u64::from_le_bytes(seed))
}

/// The pattern seed for a secret key file (see [`key_from_secret`]).
pub fn key_from_file(path: &Path) -> Result<u64> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() || meta.len() > MAX_KEY_FILE {
        return Err(Error::Key(format!(
            "{} is not a watermark key file (a small file of secret bytes)",
            path.display()
        )));
    }
    let bytes = zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| Error::io(path, e))?);
    key_from_secret(&bytes).map_err(|e| Error::Key(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_differ_from_the_public_one() {
        let a = key_from_secret(b"0123456789abcdef0123\n").unwrap();
        let b = key_from_secret(b"0123456789abcdef0123").unwrap();
        let c = key_from_secret(b"0123456789abcdef0124").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, super::super::DEFAULT_KEY);
        assert!(key_from_secret(b"   short key   ").is_err());
    }
}
