//! The manifest registry: where durable credentials are kept so that a
//! stripped copy can be led back to its manifest.
//!
//! [`Registry`] is the storage contract; two backends implement it with the
//! same behaviour (one test suite runs against both):
//! - [`sqlite`]: embedded, a single SQLite file (the default, at
//!   [`default_location`]);
//! - `postgres` (cargo feature `postgres`, on by default): a PostgreSQL
//!   database shared by several machines (`postgres://...`).
//!
//! Rules every backend keeps:
//! - **Append-only.** A manifest id is never overwritten or deleted (the
//!   database refuses UPDATE and DELETE on its tables); recording the same
//!   manifest again is a no-op, recording different bytes under a known id
//!   is an error.
//! - **Verified before stored.** Only a [`Record`] can be stored, and a
//!   record can only be made from a manifest that verified.
//! - **Atomic.** A record, its bindings and its index entries are written
//!   in one transaction: a crash, a full disk or a lost connection leaves
//!   the record wholly there or wholly absent.
//! - **Thread-safe.** A registry is `Send + Sync`; calls block the calling
//!   thread only (no async runtime is started on it), so a server may call
//!   it from `spawn_blocking`.
//!
//! Fingerprint search uses multi-index hashing: the 256-bit hash is cut
//! into 16 chunks of 16 bits, each indexed; two hashes within distance 31
//! share at least one chunk within one bit, so a query looks up 16 x 17
//! keys and checks the full distance of the few records found (within
//! distance 15 they share one chunk exactly: 16 keys suffice). The index
//! rows carry the hash, so the check reads no record.

pub mod sqlite;
mod workers;

#[cfg(feature = "postgres")]
pub mod postgres;

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::fingerprint::{Fingerprint, Grid, Hash256};
use super::record::Record;
use crate::error::{Error, Result};

/// The largest radius [`Registry::nearest`] supports (multi-index hashing
/// with 16 chunks and one-bit flips).
pub const MAX_RADIUS: u32 = 31;

/// The result of storing a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stored {
    /// The record is new.
    Added,
    /// The same manifest was already recorded (nothing changed).
    AlreadyPresent,
}

/// A record near a fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Neighbour {
    /// The record's manifest id.
    pub manifest_id: String,
    /// Hamming distance between the fingerprints (0..=256).
    pub distance: u32,
}

/// What a registry holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The file, or the URL without its password.
    pub location: String,
    /// Number of records.
    pub records: u64,
    /// Records with a fingerprint.
    pub fingerprints: u64,
    /// Bindings per algorithm.
    pub bindings: Vec<(String, u64)>,
    /// Size of the store in bytes (file, or tables and indexes).
    pub bytes: u64,
    /// Creation time of the oldest and newest record (Unix seconds).
    pub created_range: Option<(i64, i64)>,
}

/// The storage contract of a manifest registry. See the module docs for the
/// rules every implementation keeps.
pub trait Registry: Send + Sync + std::fmt::Debug {
    /// Where it is (a file path, or a URL without its password).
    fn location(&self) -> String;

    /// Store one record (one transaction).
    fn insert(&self, record: &Record) -> Result<Stored>;

    /// Store many records in one transaction (bulk import); returns how
    /// many were new. All or nothing.
    fn insert_many(&self, records: &[Record]) -> Result<usize>;

    /// The record of a manifest id.
    fn get(&self, manifest_id: &str) -> Result<Option<Record>>;

    /// Manifest ids bound to exactly this `(alg, value)`, oldest first.
    fn by_binding(&self, alg: &str, value: &[u8]) -> Result<Vec<String>>;

    /// Records whose fingerprint is within `radius` (at most
    /// [`MAX_RADIUS`]) of `hash`, nearest first, at most `limit`.
    fn nearest(&self, hash: &Hash256, radius: u32, limit: usize) -> Result<Vec<Neighbour>>;

    /// Counts and sizes.
    fn stats(&self) -> Result<Stats>;

    /// A cheap round trip to the store (a readiness probe): `Ok` when it
    /// answers, the registry's error when it does not (file gone or
    /// corrupt, server unreachable).
    fn ping(&self) -> Result<()>;
}

/// Whether to create a registry that does not exist yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Create the file (and folders) or the tables when missing.
    IfMissing,
    /// Fail when there is no registry there.
    Never,
}

/// Open a registry: `postgres://...` / `postgresql://...` for PostgreSQL,
/// anything else is the path of a SQLite file.
pub fn open(spec: &str, create: Create) -> Result<Box<dyn Registry>> {
    if is_postgres_url(spec) {
        #[cfg(feature = "postgres")]
        {
            return Ok(Box::new(postgres::PgRegistry::open(spec)?));
        }
        #[cfg(not(feature = "postgres"))]
        {
            return Err(Error::Unsupported(
                "this build has no PostgreSQL support (cargo feature `postgres`)".into(),
            ));
        }
    }
    Ok(Box::new(sqlite::SqliteRegistry::open(
        Path::new(spec),
        create,
    )?))
}

/// Open the registry named on the command line, or the default one.
pub fn open_or_default(spec: Option<&str>, create: Create) -> Result<Box<dyn Registry>> {
    match spec {
        Some(s) => open(s, create),
        None => {
            let path = default_location()?;
            open(&path.to_string_lossy(), create)
        }
    }
}

/// Whether a registry spec is a PostgreSQL URL.
pub fn is_postgres_url(spec: &str) -> bool {
    spec.starts_with("postgres://") || spec.starts_with("postgresql://")
}

/// The environment variable that overrides the default registry.
pub const REGISTRY_ENV: &str = "HALLMARK_REGISTRY";

/// The default registry: `$HALLMARK_REGISTRY`, else `registry.sqlite` in
/// hallmark's folder of the user's data directory (on Linux
/// `~/.local/share/hallmark/`).
pub fn default_location() -> Result<PathBuf> {
    if let Some(v) = std::env::var_os(REGISTRY_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(v));
    }
    let base = dirs::data_dir().ok_or_else(|| {
        Error::Registry(format!(
            "no user data folder is known here; pass --registry PATH or set {REGISTRY_ENV}"
        ))
    })?;
    Ok(base.join("hallmark").join("registry.sqlite"))
}

/// The URL with any password replaced by `***` (for messages).
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((a, h)) => (a, h),
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Largest radius served by exact chunk keys only: two hashes within 15
/// bits agree exactly on at least one of the 16 chunks (pigeonhole).
pub(crate) const EXACT_RADIUS: u32 = 15;

/// The multi-index keys to look up for a search within `radius`, as
/// `chunk << 16 | value`: up to [`EXACT_RADIUS`], each chunk's own value
/// (16 keys); beyond (up to [`MAX_RADIUS`]), also its 16 one-bit
/// neighbours (16 x 17 = 272 keys, about 17 times the candidates).
pub(crate) fn probe_keys(hash: &Hash256, radius: u32) -> Vec<i64> {
    let flips = if radius <= EXACT_RADIUS { 0 } else { 16 };
    let mut keys = Vec::with_capacity(16 * (1 + flips));
    for c in 0..16 {
        let v = hash.chunk(c);
        let base = (c as i64) << 16;
        keys.push(base | i64::from(v));
        for b in 0..flips {
            keys.push(base | i64::from(v ^ (1 << b)));
        }
    }
    keys
}

/// The 16 keys a stored hash is indexed under.
pub(crate) fn index_keys(hash: &Hash256) -> [i64; 16] {
    let mut k = [0i64; 16];
    for (c, slot) in k.iter_mut().enumerate() {
        *slot = ((c as i64) << 16) | i64::from(hash.chunk(c));
    }
    k
}

/// Check a radius against [`MAX_RADIUS`].
pub(crate) fn check_radius(radius: u32) -> Result<()> {
    if radius > MAX_RADIUS {
        return Err(Error::InvalidInput(format!(
            "fingerprint radius {radius} is over the indexed maximum {MAX_RADIUS}"
        )));
    }
    Ok(())
}

/// Compare a stored record with one being inserted under the same id.
pub(crate) fn same_or_conflict(
    location: &str,
    id: &str,
    stored: &[u8],
    new: &[u8],
) -> Result<Stored> {
    if stored == new {
        Ok(Stored::AlreadyPresent)
    } else {
        Err(Error::Registry(format!(
            "{location}: manifest {id} is already recorded with different bytes; registry records are never overwritten"
        )))
    }
}

/// A fingerprint from its stored columns (all present, or none).
pub(crate) fn stored_fingerprint(
    fp: Option<Vec<u8>>,
    quality: Option<i64>,
    grid: Option<Vec<u8>>,
    location: &str,
    manifest_id: &str,
) -> Result<Option<Fingerprint>> {
    match (fp, quality, grid) {
        (Some(fp), Some(q), Some(g)) => {
            let bad = |e: Error| Error::Registry(format!("{location}: record {manifest_id}: {e}"));
            Ok(Some(Fingerprint {
                hash: Hash256::from_slice(&fp).map_err(bad)?,
                quality: u8::try_from(q).unwrap_or(0),
                grid: Grid::from_bytes(g).map_err(bad)?,
            }))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_keys_cover_every_one_bit_neighbour() {
        let h = Hash256([0xA5; 32]);
        let keys = probe_keys(&h, MAX_RADIUS);
        assert_eq!(keys.len(), 272);
        assert_eq!(probe_keys(&h, EXACT_RADIUS), index_keys(&h).to_vec());
        let idx = index_keys(&h);
        for k in idx {
            assert!(keys.contains(&k));
        }
        let mut g = h;
        g.0[5] ^= 0x10; // one bit in chunk 2
        assert!(keys.contains(&index_keys(&g)[2]));
    }

    #[test]
    fn urls_are_redacted_and_recognised() {
        assert_eq!(
            redact("postgres://u:secret@localhost:5432/db"),
            "postgres://u:***@localhost:5432/db"
        );
        assert_eq!(redact("postgres://localhost/db"), "postgres://localhost/db");
        assert!(is_postgres_url("postgresql://x/y"));
        assert!(!is_postgres_url("/tmp/r.sqlite"));
    }
}
