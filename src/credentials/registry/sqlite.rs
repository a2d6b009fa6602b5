//! The embedded registry: one SQLite file (compiled in through `rusqlite`'s
//! `bundled` feature, so nothing needs installing).
//!
//! Tables: `hallmark_records` (one row per manifest), `hallmark_bindings`
//! (alg, value -> record), `hallmark_fp_index` (16 multi-index keys per
//! fingerprint, each row carrying the record id *and* the 32-byte hash, so
//! a nearest-neighbour probe is a contiguous range scan of that table and
//! never reads a record row), `hallmark_meta` (key/value). Triggers make
//! the record, binding and index tables append-only. The schema version is
//! `PRAGMA user_version` (2); a file of version 1 (the hash only in the
//! records table, behind the manifest bytes) is migrated on open, in one
//! transaction. The file runs in WAL mode (readers never wait for the
//! writer; `-wal`/`-shm` files sit beside it while it is open) with
//! `synchronous=FULL` (a committed record survives a power cut), a 64 MiB
//! page cache, statement journals in memory, and a 5-second busy timeout
//! (a writer waits that long for another's lock, then fails with "database
//! is locked").

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};

use super::workers::{Connector, Workers};
use super::{
    check_radius, index_keys, probe_keys, same_or_conflict, stored_fingerprint, Create, Neighbour,
    Registry, Stats, Stored,
};
use crate::credentials::fingerprint::Hash256;
use crate::credentials::record::{Binding, Record};
use crate::error::{Error, Result};

/// The schema this code writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 2;
const WORKERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Page cache per connection (KiB): a bulk insert touches pages all over
/// the multi-index; with SQLite's 2 MiB default a large transaction spills
/// dirty pages to the log before it commits and reads them back.
const CACHE_KIB: i64 = 64 * 1024;
/// Tables the triggers keep append-only.
const APPEND_ONLY: [&str; 3] = ["hallmark_records", "hallmark_bindings", "hallmark_fp_index"];

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hallmark_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hallmark_records (
    id INTEGER PRIMARY KEY,
    manifest_id TEXT NOT NULL UNIQUE,
    manifest_store BLOB NOT NULL,
    format TEXT NOT NULL,
    signer_subject TEXT NOT NULL,
    key_fingerprint TEXT,
    asset_sha256 TEXT NOT NULL,
    digital_source_type TEXT,
    created INTEGER NOT NULL,
    fp BLOB,
    fp_quality INTEGER,
    fp_grid BLOB
);
CREATE TABLE IF NOT EXISTS hallmark_bindings (
    alg TEXT NOT NULL,
    value BLOB NOT NULL,
    record INTEGER NOT NULL REFERENCES hallmark_records(id),
    PRIMARY KEY (alg, value, record)
) WITHOUT ROWID;
";

/// Schema 2's multi-index: the hash rides in every row.
const FP_INDEX_V2: &str = "
CREATE TABLE IF NOT EXISTS hallmark_fp_index (
    key INTEGER NOT NULL,
    record INTEGER NOT NULL REFERENCES hallmark_records(id),
    fp BLOB NOT NULL,
    PRIMARY KEY (key, record)
) WITHOUT ROWID;
";
/// Also new in schema 2: `stats` reads the time range from an index, not
/// from the record rows (whose manifest bytes it would have to walk).
const CREATED_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS hallmark_records_created ON hallmark_records (created);";

/// The embedded SQLite registry.
#[derive(Debug)]
pub struct SqliteRegistry {
    path: PathBuf,
    workers: Workers<Connection>,
}

struct Opener {
    path: PathBuf,
}

impl Connector<Connection> for Opener {
    fn connect(&self) -> Result<Connection> {
        connect(&self.path, false)
    }
    fn alive(&self, _conn: &mut Connection) -> bool {
        true
    }
}

fn loc(path: &Path) -> String {
    path.display().to_string()
}

/// A SQLite error as the registry's one-line error.
fn db_err(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |e| {
        let hint = match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => {
                " (another process is writing to it; try again)"
            }
            Some(rusqlite::ErrorCode::NotADatabase) => {
                " (the registry file is corrupt or not a registry)"
            }
            Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
                " (the registry file is damaged; restore it from a backup)"
            }
            Some(rusqlite::ErrorCode::DiskFull) => " (no space left: nothing was recorded)",
            Some(rusqlite::ErrorCode::SystemIoFailure) => {
                " (a read or write failed: is the disk full or failing?)"
            }
            Some(rusqlite::ErrorCode::ReadOnly) | Some(rusqlite::ErrorCode::CannotOpen) => {
                " (check the file's permissions)"
            }
            _ => "",
        };
        Error::Registry(format!("{}: {e}{hint}", path.display()))
    }
}

fn connect(path: &Path, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(db_err(path))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err(path))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db_err(path))?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db_err(path))?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(db_err(path))?;
    conn.pragma_update(None, "cache_size", -CACHE_KIB)
        .map_err(db_err(path))?;
    // Statement journals (the undo of one statement inside a transaction,
    // never needed after a crash) stay in memory instead of spilling to a
    // temporary file page by page.
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(db_err(path))?;
    Ok(conn)
}

impl SqliteRegistry {
    /// Open (or with [`Create::IfMissing`], create) the registry file.
    pub fn open(path: &Path, create: Create) -> Result<SqliteRegistry> {
        let exists = path.exists();
        if !exists {
            if create == Create::Never {
                return Err(Error::Registry(format!(
                    "no registry at {} (record files with `hallmark registry add` or `hallmark sign --watermark --registry PATH`)",
                    path.display()
                )));
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
        } else if path.is_dir() {
            return Err(Error::Registry(format!(
                "{} is a folder; --registry wants a file (or a postgres:// URL)",
                path.display()
            )));
        }
        let mut conn = connect(path, !exists)?;
        setup(&mut conn, path)?;
        let workers = Workers::start(
            WORKERS,
            conn,
            Arc::new(Opener {
                path: path.to_path_buf(),
            }),
            loc(path),
        )?;
        Ok(SqliteRegistry {
            path: path.to_path_buf(),
            workers,
        })
    }

    fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Path) -> Result<T> + Send + 'static,
    {
        let path = self.path.clone();
        self.workers.run(move |c| f(c, &path))
    }
}

/// Create the tables in a new file, check an existing one is ours, and
/// migrate an older schema (all in one transaction).
fn setup(conn: &mut Connection, path: &Path) -> Result<()> {
    let e = db_err(path);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(&e)?;
    let tables: i64 = tx
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .map_err(&e)?;
    let ours: i64 = tx
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'hallmark_meta'",
            [],
            |r| r.get(0),
        )
        .map_err(&e)?;
    if tables > 0 && ours == 0 {
        return Err(Error::Registry(format!(
            "{} is a SQLite database but not a hallmark registry",
            path.display()
        )));
    }
    let version = if tables == 0 {
        SCHEMA_VERSION
    } else {
        stored_version(&tx, path)?
    };
    match version {
        SCHEMA_VERSION => {
            tx.execute_batch(SCHEMA).map_err(&e)?;
            tx.execute_batch(FP_INDEX_V2).map_err(&e)?;
            tx.execute_batch(CREATED_INDEX).map_err(&e)?;
        }
        1 => migrate_v1(&tx, path)?,
        v => {
            return Err(Error::Registry(format!(
                "{}: registry schema version {v} is not supported by this hallmark (it knows 1 and {SCHEMA_VERSION})",
                path.display()
            )))
        }
    }
    for table in APPEND_ONLY {
        for op in ["UPDATE", "DELETE"] {
            tx.execute_batch(&format!(
                "CREATE TRIGGER IF NOT EXISTS {table}_no_{op} BEFORE {op} ON {table} \
                 BEGIN SELECT RAISE(ABORT, 'the hallmark registry is append-only'); END;"
            ))
            .map_err(&e)?;
        }
    }
    tx.execute(
        "INSERT INTO hallmark_meta (key, value) VALUES ('schema', ?1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [SCHEMA_VERSION.to_string()],
    )
    .map_err(&e)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(&e)?;
    tx.commit().map_err(&e)
}

/// The schema version of an existing registry: `PRAGMA user_version`, or
/// for files of version 1 (which left it at 0) the `schema` meta row.
fn stored_version(tx: &Transaction<'_>, path: &Path) -> Result<i64> {
    let e = db_err(path);
    let user: i64 = tx
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(&e)?;
    if user != 0 {
        return Ok(user);
    }
    let meta: Option<String> = tx
        .query_row(
            "SELECT value FROM hallmark_meta WHERE key = 'schema'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(&e)?;
    match meta.as_deref() {
        None => Ok(SCHEMA_VERSION), // the tables of a new file, not filled yet
        Some(v) => v.parse().map_err(|_| {
            Error::Registry(format!(
                "{}: registry schema version {v:?} is not supported by this hallmark",
                path.display()
            ))
        }),
    }
}

/// Schema 1 -> 2: the multi-index rows gain the hash. Each record's hash
/// is read once (a join would read it once per index row, each time
/// walking the record's overflow pages behind its manifest bytes), the
/// rows are rebuilt from it in key order, and the rebuilt set is checked
/// to be exactly the old one before the old table goes. Runs inside the
/// caller's transaction: a failure leaves the file at version 1.
fn migrate_v1(tx: &Transaction<'_>, path: &Path) -> Result<()> {
    let e = db_err(path);
    let old: i64 = tx
        .query_row("SELECT count(*) FROM hallmark_fp_index", [], |r| r.get(0))
        .map_err(&e)?;
    tx.execute_batch(&FP_INDEX_V2.replace("hallmark_fp_index", "hallmark_fp_index_v2"))
        .map_err(&e)?;
    let mut hashes: Vec<(i64, Hash256)> = Vec::new();
    {
        let mut st = tx
            .prepare("SELECT id, fp FROM hallmark_records WHERE fp IS NOT NULL")
            .map_err(&e)?;
        let mut rows = st.query([]).map_err(&e)?;
        while let Some(row) = rows.next().map_err(&e)? {
            let id: i64 = row.get(0).map_err(&e)?;
            let fp: Vec<u8> = row.get(1).map_err(&e)?;
            let hash = Hash256::from_slice(&fp).map_err(|err| {
                Error::Registry(format!("{}: record {id}: {err}", path.display()))
            })?;
            hashes.push((id, hash));
        }
    }
    let mut ins = tx
        .prepare("INSERT INTO hallmark_fp_index_v2 (key, record, fp) VALUES (?1, ?2, ?3)")
        .map_err(&e)?;
    // Chunk c's keys fill [c << 16, (c + 1) << 16): chunk by chunk, each
    // sorted, is the whole index in key order.
    for c in 0..16 {
        let mut rows: Vec<(i64, i64, &Hash256)> = hashes
            .iter()
            .map(|(id, h)| (index_keys(h)[c], *id, h))
            .collect();
        rows.sort_unstable_by_key(|r| (r.0, r.1));
        for (key, id, h) in rows {
            ins.execute(params![key, id, &h.0[..]]).map_err(&e)?;
        }
    }
    drop(ins);
    let (new, missing): (i64, i64) = tx
        .query_row(
            "SELECT (SELECT count(*) FROM hallmark_fp_index_v2), \
             (SELECT count(*) FROM hallmark_fp_index i WHERE NOT EXISTS \
              (SELECT 1 FROM hallmark_fp_index_v2 n WHERE n.key = i.key AND n.record = i.record))",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(&e)?;
    if new != old || missing != 0 {
        return Err(Error::Registry(format!(
            "{}: cannot migrate the registry to schema {SCHEMA_VERSION}: the fingerprint index has {old} rows, \
             {new} rebuilt from the records' hashes, {missing} of the old ones missing (the file is left as it was)",
            path.display()
        )));
    }
    tx.execute_batch(
        "DROP TABLE hallmark_fp_index;
         ALTER TABLE hallmark_fp_index_v2 RENAME TO hallmark_fp_index;",
    )
    .map_err(&e)?;
    tx.execute_batch(CREATED_INDEX).map_err(&e)
}

fn insert_one(tx: &Transaction<'_>, rec: &Record, path: &Path) -> Result<Stored> {
    let e = db_err(path);
    let (fp, quality, grid) = match &rec.fingerprint {
        Some(f) => (
            Some(f.hash.0.to_vec()),
            Some(i64::from(f.quality)),
            Some(f.grid.0.clone()),
        ),
        None => (None, None, None),
    };
    let n = tx
        .prepare_cached(
            "INSERT INTO hallmark_records (manifest_id, manifest_store, format, signer_subject, \
             key_fingerprint, asset_sha256, digital_source_type, created, fp, fp_quality, fp_grid) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (manifest_id) DO NOTHING",
        )
        .and_then(|mut st| {
            st.execute(params![
                rec.manifest_id,
                rec.manifest_store,
                rec.format,
                rec.signer_subject,
                rec.key_fingerprint,
                rec.asset_sha256,
                rec.digital_source_type,
                rec.created,
                fp,
                quality,
                grid
            ])
        })
        .map_err(&e)?;
    if n == 0 {
        let stored: Vec<u8> = tx
            .query_row(
                "SELECT manifest_store FROM hallmark_records WHERE manifest_id = ?1",
                [&rec.manifest_id],
                |r| r.get(0),
            )
            .map_err(&e)?;
        return same_or_conflict(&loc(path), &rec.manifest_id, &stored, &rec.manifest_store);
    }
    let id = tx.last_insert_rowid();
    {
        let mut b = tx
            .prepare_cached(
                "INSERT INTO hallmark_bindings (alg, value, record) VALUES (?1, ?2, ?3)",
            )
            .map_err(&e)?;
        for binding in &rec.bindings {
            b.execute(params![binding.alg, binding.value, id])
                .map_err(&e)?;
        }
    }
    if let Some(f) = &rec.fingerprint {
        let mut k = tx
            .prepare_cached("INSERT INTO hallmark_fp_index (key, record, fp) VALUES (?1, ?2, ?3)")
            .map_err(&e)?;
        for key in index_keys(&f.hash) {
            k.execute(params![key, id, &f.hash.0[..]]).map_err(&e)?;
        }
    }
    Ok(Stored::Added)
}

impl Registry for SqliteRegistry {
    fn location(&self) -> String {
        loc(&self.path)
    }

    fn insert(&self, record: &Record) -> Result<Stored> {
        let rec = record.clone();
        self.run(move |conn, path| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err(path))?;
            let stored = insert_one(&tx, &rec, path)?;
            tx.commit().map_err(db_err(path))?;
            Ok(stored)
        })
    }

    fn insert_many(&self, records: &[Record]) -> Result<usize> {
        let recs = records.to_vec();
        self.run(move |conn, path| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_err(path))?;
            let mut added = 0;
            for r in &recs {
                if insert_one(&tx, r, path)? == Stored::Added {
                    added += 1;
                }
            }
            tx.commit().map_err(db_err(path))?;
            Ok(added)
        })
    }

    fn get(&self, manifest_id: &str) -> Result<Option<Record>> {
        let id = manifest_id.to_string();
        self.run(move |conn, path| read_record(conn, path, &id))
    }

    fn by_binding(&self, alg: &str, value: &[u8]) -> Result<Vec<String>> {
        let (alg, value) = (alg.to_string(), value.to_vec());
        self.run(move |conn, path| {
            let e = db_err(path);
            let mut st = conn
                .prepare_cached(
                    "SELECT r.manifest_id FROM hallmark_bindings b JOIN hallmark_records r ON r.id = b.record \
                     WHERE b.alg = ?1 AND b.value = ?2 ORDER BY r.id",
                )
                .map_err(&e)?;
            let ids = st
                .query_map(params![alg, value], |r| r.get::<_, String>(0))
                .map_err(&e)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(&e)?;
            Ok(ids)
        })
    }

    fn nearest(&self, hash: &Hash256, radius: u32, limit: usize) -> Result<Vec<Neighbour>> {
        check_radius(radius)?;
        let q = *hash;
        self.run(move |conn, path| {
            let e = db_err(path);
            let keys = probe_keys(&q, radius);
            // One range scan of the index per key; each row carries the
            // hash, so no record is read until the few that are within
            // the radius are named.
            let marks = vec!["?"; keys.len()].join(",");
            let mut st = conn
                .prepare_cached(&format!(
                    "SELECT record, fp FROM hallmark_fp_index WHERE key IN ({marks})"
                ))
                .map_err(&e)?;
            let mut seen = std::collections::HashSet::new();
            let mut found: Vec<(u32, i64)> = Vec::new();
            let mut rows = st
                .query(rusqlite::params_from_iter(keys.iter()))
                .map_err(&e)?;
            while let Some(row) = rows.next().map_err(&e)? {
                let id: i64 = row.get(0).map_err(&e)?;
                if !seen.insert(id) {
                    continue;
                }
                let fp = row.get_ref(1).map_err(&e)?;
                let Ok(h) = fp
                    .as_blob()
                    .map_err(rusqlite::Error::from)
                    .map_err(&e)
                    .and_then(Hash256::from_slice)
                else {
                    continue;
                };
                let d = h.distance(&q);
                if d <= radius {
                    found.push((d, id));
                }
            }
            drop(rows);
            found.sort_unstable();
            found.truncate(limit);
            let mut name = conn
                .prepare_cached("SELECT manifest_id FROM hallmark_records WHERE id = ?1")
                .map_err(&e)?;
            found
                .into_iter()
                .map(|(distance, id)| {
                    Ok(Neighbour {
                        manifest_id: name.query_row([id], |r| r.get(0)).map_err(&e)?,
                        distance,
                    })
                })
                .collect()
        })
    }

    fn ping(&self) -> Result<()> {
        self.run(|conn, path| {
            conn.query_row("SELECT count(*) FROM hallmark_meta", [], |_| Ok(()))
                .map_err(db_err(path))
        })
    }

    fn stats(&self) -> Result<Stats> {
        self.run(move |conn, path| {
            let e = db_err(path);
            // Every fingerprint has exactly one index row in chunk 0; the
            // counts and times come from indexes, never from record rows.
            let (records, fingerprints, first, last): (i64, i64, Option<i64>, Option<i64>) = conn
                .query_row(
                    "SELECT (SELECT count(*) FROM hallmark_records), \
                     (SELECT count(*) FROM hallmark_fp_index WHERE key BETWEEN 0 AND 65535), \
                     (SELECT min(created) FROM hallmark_records), \
                     (SELECT max(created) FROM hallmark_records)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .map_err(&e)?;
            let mut st = conn
                .prepare("SELECT alg, count(*) FROM hallmark_bindings GROUP BY alg ORDER BY alg")
                .map_err(&e)?;
            let bindings = st
                .query_map([], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
                })
                .map_err(&e)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(&e)?;
            let bytes: i64 = conn
                .query_row(
                    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                    [],
                    |r| r.get(0),
                )
                .map_err(&e)?;
            Ok(Stats {
                backend: "sqlite".into(),
                location: loc(path),
                records: records as u64,
                fingerprints: fingerprints as u64,
                bindings,
                bytes: bytes as u64,
                created_range: first.zip(last),
            })
        })
    }
}

fn read_record(conn: &mut Connection, path: &Path, manifest_id: &str) -> Result<Option<Record>> {
    let e = db_err(path);
    type Row = (
        i64,
        Vec<u8>,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        i64,
        Option<Vec<u8>>,
        Option<i64>,
        Option<Vec<u8>>,
    );
    let row: Option<Row> = conn
        .query_row(
            "SELECT id, manifest_store, format, signer_subject, key_fingerprint, asset_sha256, \
             digital_source_type, created, fp, fp_quality, fp_grid FROM hallmark_records WHERE manifest_id = ?1",
            [manifest_id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                    r.get(10)?,
                ))
            },
        )
        .optional()
        .map_err(&e)?;
    let Some((id, store, format, signer, keyfp, sha, dst, created, fp, quality, grid)) = row else {
        return Ok(None);
    };
    let mut st = conn
        .prepare_cached("SELECT alg, value FROM hallmark_bindings WHERE record = ?1 ORDER BY alg")
        .map_err(&e)?;
    let bindings = st
        .query_map([id], |r| {
            Ok(Binding {
                alg: r.get(0)?,
                value: r.get(1)?,
            })
        })
        .map_err(&e)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(&e)?;
    let fingerprint = stored_fingerprint(fp, quality, grid, &loc(path), manifest_id)?;
    Ok(Some(Record::from_storage(
        manifest_id.to_string(),
        store,
        format,
        bindings,
        fingerprint,
        signer,
        keyfp,
        sha,
        dst,
        created,
    )))
}
