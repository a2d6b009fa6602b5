//! The shared registry: a PostgreSQL database (13 or newer: `bit_count`),
//! through the synchronous `postgres` client, without TLS (use it on a
//! private network or through a tunnel).
//!
//! Same tables as the embedded store, with the fingerprint kept as
//! `bit(256)` so that the distance is computed in SQL
//! (`bit_count(fp # query)`) on the rows the multi-index keys select. The
//! hash rides in each multi-index row (schema 2, covered by the primary
//! key's index), so a search reads no record row until it names the few
//! within the radius; a schema-1 database is migrated on open, in one
//! transaction. Inserts go in multi-row statements (`unnest` of arrays):
//! three statements for a whole batch, not three per record.
//! Triggers make the tables append-only (UPDATE, DELETE and TRUNCATE
//! raise). Each client lives on one of the registry's own worker threads
//! (see `workers.rs`): the client's internal Tokio runtime is never
//! started or dropped on a caller's thread. A lost connection fails the
//! call in progress (its transaction is rolled back by the server) and the
//! worker reconnects on the next call.

use std::sync::Arc;
use std::time::Duration;

use postgres::{Client, Config, NoTls, Transaction};

use super::workers::{Connector, Workers};
use super::{
    check_radius, index_keys, probe_keys, redact, same_or_conflict, Neighbour, Registry, Stats,
    Stored,
};
use crate::credentials::fingerprint::Hash256;
use crate::credentials::record::{Binding, Record};
use crate::error::{Error, Result};

const WORKERS: usize = 4;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Advisory lock key serialising schema creation between processes.
const SCHEMA_LOCK: i64 = 0x4841_4C4C_4D41_524B;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hallmark_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hallmark_records (
    id BIGSERIAL PRIMARY KEY,
    manifest_id TEXT NOT NULL UNIQUE,
    manifest_store BYTEA NOT NULL,
    format TEXT NOT NULL,
    signer_subject TEXT NOT NULL,
    key_fingerprint TEXT,
    asset_sha256 TEXT NOT NULL,
    digital_source_type TEXT,
    created BIGINT NOT NULL,
    fp BIT(256),
    fp_quality SMALLINT,
    fp_grid BYTEA
);
CREATE TABLE IF NOT EXISTS hallmark_bindings (
    alg TEXT NOT NULL,
    value BYTEA NOT NULL,
    record BIGINT NOT NULL REFERENCES hallmark_records(id),
    PRIMARY KEY (alg, value, record)
);
CREATE OR REPLACE FUNCTION hallmark_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the hallmark registry is append-only'; END $$ LANGUAGE plpgsql;
";

/// The schema this code writes (the `schema` row of `hallmark_meta`).
const SCHEMA_VERSION: &str = "2";
/// Schema 2's multi-index: the hash in every row, covered by the key's index.
const FP_INDEX_V2: &str = "
CREATE TABLE IF NOT EXISTS hallmark_fp_index (
    key INTEGER NOT NULL,
    record BIGINT NOT NULL REFERENCES hallmark_records(id),
    fp BIT(256) NOT NULL,
    PRIMARY KEY (key, record) INCLUDE (fp)
);
";
/// The nearest-neighbour query: `$1` the probe keys (`int[]`), `$2` the
/// hash as 256 `0`/`1` characters, `$3` the radius, `$4` the limit. The
/// distances are computed on the index rows (which carry the hash); only
/// the rows within the radius reach a record, for its manifest id.
/// Public for `examples/bench_registry` (which shows its plan).
#[doc(hidden)]
pub const NEAREST_SQL: &str = "SELECT r.manifest_id, s.d FROM (SELECT DISTINCT i.record, \
     bit_count(i.fp # ($2::text)::bit(256))::int AS d FROM hallmark_fp_index i \
     WHERE i.key = ANY($1) AND bit_count(i.fp # ($2::text)::bit(256)) <= $3::int) s \
     JOIN hallmark_records r ON r.id = s.record ORDER BY s.d, s.record LIMIT $4";

/// Records per multi-row statement of a batch (bounds one message's size).
const ROWS_PER_STATEMENT: usize = 500;

/// The PostgreSQL registry.
#[derive(Debug)]
pub struct PgRegistry {
    location: String,
    workers: Workers<Client>,
}

struct Opener {
    config: Config,
    location: String,
}

impl Connector<Client> for Opener {
    fn connect(&self) -> Result<Client> {
        self.config.connect(NoTls).map_err(pg_err(&self.location))
    }
    fn alive(&self, conn: &mut Client) -> bool {
        !conn.is_closed()
    }
}

/// A PostgreSQL error as the registry's one-line error.
fn pg_err(location: &str) -> impl Fn(postgres::Error) -> Error + '_ {
    move |e| {
        let text = match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => {
                let mut s = e.to_string();
                let mut src = std::error::Error::source(&e);
                while let Some(c) = src {
                    s = format!("{s}: {c}");
                    src = c.source();
                }
                s
            }
        };
        Error::Registry(format!("{location}: {text}"))
    }
}

fn bits(h: &Hash256) -> String {
    h.0.iter().map(|b| format!("{b:08b}")).collect()
}

fn from_bits(s: &str) -> Option<Hash256> {
    if s.len() != 256 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, c) in s.bytes().enumerate() {
        match c {
            b'1' => out[i / 8] |= 0x80 >> (i % 8),
            b'0' => {}
            _ => return None,
        }
    }
    Some(Hash256(out))
}

impl PgRegistry {
    /// Connect, create the tables if needed (under an advisory lock), and
    /// start the workers.
    pub fn open(url: &str) -> Result<PgRegistry> {
        let location = redact(url);
        let mut config: Config = url
            .parse()
            .map_err(|e| Error::Registry(format!("{location}: bad PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("hallmark");
        let opener = Arc::new(Opener {
            config,
            location: location.clone(),
        });
        // Connect and set up on a worker-style thread of our own: the
        // client's runtime must not start on the caller's thread.
        let setup_opener = Arc::clone(&opener);
        let first = std::thread::spawn(move || -> Result<Client> {
            let mut c = setup_opener.connect()?;
            setup(&mut c, &setup_opener.location)?;
            Ok(c)
        })
        .join()
        .map_err(|_| Error::Registry(format!("{location}: setup thread failed")))??;
        let workers = Workers::start(WORKERS, first, opener, location.clone())?;
        Ok(PgRegistry { location, workers })
    }

    fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Client, &str) -> Result<T> + Send + 'static,
    {
        let location = self.location.clone();
        self.workers.run(move |c| f(c, &location))
    }
}

fn setup(c: &mut Client, location: &str) -> Result<()> {
    let e = pg_err(location);
    let mut tx = c.transaction().map_err(&e)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(&e)?;
    tx.batch_execute(SCHEMA).map_err(&e)?;
    let v: Option<String> = tx
        .query_opt("SELECT value FROM hallmark_meta WHERE key = 'schema'", &[])
        .map_err(&e)?
        .map(|r| r.get(0));
    match v.as_deref() {
        None | Some(SCHEMA_VERSION) => tx.batch_execute(FP_INDEX_V2).map_err(&e)?,
        Some("1") => migrate_v1(&mut tx, location)?,
        Some(v) => {
            return Err(Error::Registry(format!(
                "{location}: registry schema version {v} is not supported by this hallmark (it knows 1 and {SCHEMA_VERSION})"
            )))
        }
    }
    for table in ["hallmark_records", "hallmark_bindings", "hallmark_fp_index"] {
        tx.batch_execute(&format!(
            "CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} \
             FOR EACH ROW EXECUTE FUNCTION hallmark_append_only(); \
             CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} \
             FOR EACH STATEMENT EXECUTE FUNCTION hallmark_append_only();"
        ))
        .map_err(&e)?;
    }
    tx.execute(
        "INSERT INTO hallmark_meta (key, value) VALUES ('schema', $1) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&SCHEMA_VERSION],
    )
    .map_err(&e)?;
    tx.commit().map_err(&e)
}

/// Schema 1 -> 2 inside the caller's transaction: the multi-index rows
/// gain the hash, copied from the records.
fn migrate_v1(tx: &mut Transaction<'_>, location: &str) -> Result<()> {
    let e = pg_err(location);
    let old: i64 = tx
        .query_one("SELECT count(*) FROM hallmark_fp_index", &[])
        .map_err(&e)?
        .get(0);
    tx.batch_execute(&format!(
        "{}
         INSERT INTO hallmark_fp_index_v2 (key, record, fp)
             SELECT i.key, i.record, r.fp FROM hallmark_fp_index i
             JOIN hallmark_records r ON r.id = i.record WHERE r.fp IS NOT NULL;
         DROP TABLE hallmark_fp_index;
         ALTER TABLE hallmark_fp_index_v2 RENAME TO hallmark_fp_index;
         ALTER TABLE hallmark_fp_index RENAME CONSTRAINT hallmark_fp_index_v2_pkey TO hallmark_fp_index_pkey;
         ALTER TABLE hallmark_fp_index RENAME CONSTRAINT hallmark_fp_index_v2_record_fkey TO hallmark_fp_index_record_fkey;",
        FP_INDEX_V2.replace("hallmark_fp_index", "hallmark_fp_index_v2")
    ))
    .map_err(&e)?;
    let new: i64 = tx
        .query_one("SELECT count(*) FROM hallmark_fp_index", &[])
        .map_err(&e)?
        .get(0);
    if new != old {
        return Err(Error::Registry(format!(
            "{location}: cannot migrate the registry to schema {SCHEMA_VERSION}: {old} fingerprint index rows, {new} with a hash (nothing was changed)"
        )));
    }
    Ok(())
}

/// Insert a batch with three multi-row statements (records, bindings,
/// index rows) per [`ROWS_PER_STATEMENT`] records, inside `tx`. Returns
/// what happened to each record, in order; a record that conflicts with a
/// stored one (or one earlier in the batch) fails the whole call.
fn insert_batch(tx: &mut Transaction<'_>, recs: &[Record], location: &str) -> Result<Vec<Stored>> {
    use std::collections::HashMap;
    let e = pg_err(location);
    // Ids this call added, by manifest id, and the first record of each.
    let mut added: HashMap<String, i64> = HashMap::new();
    let mut first: HashMap<&str, usize> = HashMap::new();
    for chunk in recs.chunks(ROWS_PER_STATEMENT) {
        let col = |f: fn(&Record) -> Option<&str>| chunk.iter().map(f).collect::<Vec<_>>();
        let stores: Vec<&[u8]> = chunk.iter().map(|r| r.manifest_store.as_slice()).collect();
        let created: Vec<i64> = chunk.iter().map(|r| r.created).collect();
        let fps: Vec<Option<String>> = chunk
            .iter()
            .map(|r| r.fingerprint.as_ref().map(|f| bits(&f.hash)))
            .collect();
        let quality: Vec<Option<i16>> = chunk
            .iter()
            .map(|r| r.fingerprint.as_ref().map(|f| i16::from(f.quality)))
            .collect();
        let grids: Vec<Option<&[u8]>> = chunk
            .iter()
            .map(|r| r.fingerprint.as_ref().map(|f| f.grid.0.as_slice()))
            .collect();
        let rows = tx
            .query(
                "INSERT INTO hallmark_records (manifest_id, manifest_store, format, signer_subject, \
                 key_fingerprint, asset_sha256, digital_source_type, created, fp, fp_quality, fp_grid) \
                 SELECT m, s, f, sg, k, a, d, c, (fp::text)::bit(256), q, g FROM unnest($1::text[], \
                 $2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int8[], \
                 $9::text[], $10::int2[], $11::bytea[]) WITH ORDINALITY AS t(m, s, f, sg, k, a, d, c, fp, q, g, n) \
                 ORDER BY n ON CONFLICT (manifest_id) DO NOTHING RETURNING id, manifest_id",
                &[
                    &col(|r| Some(r.manifest_id.as_str())),
                    &stores,
                    &col(|r| Some(r.format.as_str())),
                    &col(|r| Some(r.signer_subject.as_str())),
                    &col(|r| r.key_fingerprint.as_deref()),
                    &col(|r| Some(r.asset_sha256.as_str())),
                    &col(|r| r.digital_source_type.as_deref()),
                    &created,
                    &fps,
                    &quality,
                    &grids,
                ],
            )
            .map_err(&e)?;
        let mut new: Vec<(i64, &Record)> = Vec::with_capacity(rows.len());
        let mut ids: HashMap<String, i64> = rows
            .iter()
            .map(|r| (r.get::<_, String>(1), r.get::<_, i64>(0)))
            .collect();
        for r in chunk {
            if let Some(id) = ids.remove(&r.manifest_id) {
                new.push((id, r));
                added.insert(r.manifest_id.clone(), id);
            }
        }
        let (mut b_alg, mut b_val, mut b_rec) = (Vec::new(), Vec::new(), Vec::new());
        let (mut k_key, mut k_rec, mut k_fp) = (Vec::new(), Vec::new(), Vec::new());
        for (id, r) in &new {
            for b in &r.bindings {
                b_alg.push(b.alg.as_str());
                b_val.push(b.value.as_slice());
                b_rec.push(*id);
            }
            if let Some(f) = &r.fingerprint {
                let h = bits(&f.hash);
                for k in index_keys(&f.hash) {
                    k_key.push(k as i32);
                    k_rec.push(*id);
                    k_fp.push(h.clone());
                }
            }
        }
        if !b_rec.is_empty() {
            tx.execute(
                "INSERT INTO hallmark_bindings (alg, value, record) \
                 SELECT * FROM unnest($1::text[], $2::bytea[], $3::int8[])",
                &[&b_alg, &b_val, &b_rec],
            )
            .map_err(&e)?;
        }
        if !k_rec.is_empty() {
            tx.execute(
                "INSERT INTO hallmark_fp_index (key, record, fp) \
                 SELECT k, r, (f::text)::bit(256) FROM unnest($1::int4[], $2::int8[], $3::text[]) AS t(k, r, f)",
                &[&k_key, &k_rec, &k_fp],
            )
            .map_err(&e)?;
        }
    }
    // Those not added: already stored (same bytes) or a conflict.
    let others: Vec<&str> = recs
        .iter()
        .map(|r| r.manifest_id.as_str())
        .filter(|id| !added.contains_key(*id))
        .collect();
    let stored: HashMap<String, Vec<u8>> = if others.is_empty() {
        HashMap::new()
    } else {
        tx.query(
            "SELECT manifest_id, manifest_store FROM hallmark_records WHERE manifest_id = ANY($1)",
            &[&others],
        )
        .map_err(&e)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
    };
    let mut out = Vec::with_capacity(recs.len());
    for (i, r) in recs.iter().enumerate() {
        let id = r.manifest_id.as_str();
        let earlier = *first.entry(id).or_insert(i);
        if added.contains_key(id) {
            if earlier == i {
                out.push(Stored::Added);
            } else {
                let before = &recs[earlier].manifest_store;
                out.push(same_or_conflict(location, id, before, &r.manifest_store)?);
            }
        } else {
            let before = stored.get(id).ok_or_else(|| {
                Error::Registry(format!(
                    "{location}: manifest {id} was neither added nor found"
                ))
            })?;
            out.push(same_or_conflict(location, id, before, &r.manifest_store)?);
        }
    }
    Ok(out)
}

impl Registry for PgRegistry {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn insert(&self, record: &Record) -> Result<Stored> {
        self.insert_many_stored(vec![record.clone()])
            .map(|v| v.first().copied().unwrap_or(Stored::AlreadyPresent))
    }

    fn insert_many(&self, records: &[Record]) -> Result<usize> {
        self.insert_many_stored(records.to_vec())
            .map(|v| v.iter().filter(|s| **s == Stored::Added).count())
    }

    fn get(&self, manifest_id: &str) -> Result<Option<Record>> {
        let id = manifest_id.to_string();
        self.run(move |c, location| {
            let e = pg_err(location);
            let Some(r) = c
                .query_opt(
                    "SELECT id, manifest_store, format, signer_subject, key_fingerprint, asset_sha256, \
                     digital_source_type, created, fp::text, fp_quality, fp_grid \
                     FROM hallmark_records WHERE manifest_id = $1",
                    &[&id],
                )
                .map_err(&e)?
            else {
                return Ok(None);
            };
            let rowid: i64 = r.get(0);
            let bindings = c
                .query(
                    "SELECT alg, value FROM hallmark_bindings WHERE record = $1 ORDER BY alg",
                    &[&rowid],
                )
                .map_err(&e)?
                .iter()
                .map(|b| Binding {
                    alg: b.get(0),
                    value: b.get(1),
                })
                .collect();
            let fp: Option<String> = r.get(8);
            let fp = fp.as_deref().and_then(from_bits).map(|h| h.0.to_vec());
            let quality: Option<i16> = r.get(9);
            let fingerprint = super::stored_fingerprint(
                fp,
                quality.map(i64::from),
                r.get(10),
                location,
                &id,
            )?;
            Ok(Some(Record::from_storage(
                id.clone(),
                r.get(1),
                r.get(2),
                bindings,
                fingerprint,
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
                r.get(7),
            )))
        })
    }

    fn by_binding(&self, alg: &str, value: &[u8]) -> Result<Vec<String>> {
        let (alg, value) = (alg.to_string(), value.to_vec());
        self.run(move |c, location| {
            Ok(c.query(
                "SELECT r.manifest_id FROM hallmark_bindings b JOIN hallmark_records r ON r.id = b.record \
                 WHERE b.alg = $1 AND b.value = $2 ORDER BY r.id",
                &[&alg, &value],
            )
            .map_err(pg_err(location))?
            .iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn nearest(&self, hash: &Hash256, radius: u32, limit: usize) -> Result<Vec<Neighbour>> {
        check_radius(radius)?;
        let q = bits(hash);
        let keys: Vec<i32> = probe_keys(hash, radius).iter().map(|&k| k as i32).collect();
        let (radius, limit) = (radius as i32, limit as i64);
        self.run(move |c, location| {
            // The distances are computed on the index rows (which carry
            // the hash); only the rows within the radius reach a record.
            Ok(c.query(NEAREST_SQL, &[&keys, &q, &radius, &limit])
                .map_err(pg_err(location))?
                .iter()
                .map(|r| Neighbour {
                    manifest_id: r.get(0),
                    distance: r.get::<_, i32>(1).unsigned_abs(),
                })
                .collect())
        })
    }

    fn ping(&self) -> Result<()> {
        self.run(|c, location| {
            c.query_one("SELECT count(*) FROM hallmark_meta", &[])
                .map(drop)
                .map_err(pg_err(location))
        })
    }

    fn stats(&self) -> Result<Stats> {
        self.run(move |c, location| {
            let e = pg_err(location);
            let r = c
                .query_one(
                    "SELECT count(*), count(fp), min(created), max(created), \
                     pg_total_relation_size('hallmark_records') + pg_total_relation_size('hallmark_bindings') \
                     + pg_total_relation_size('hallmark_fp_index') FROM hallmark_records",
                    &[],
                )
                .map_err(&e)?;
            let bindings = c
                .query(
                    "SELECT alg, count(*) FROM hallmark_bindings GROUP BY alg ORDER BY alg",
                    &[],
                )
                .map_err(&e)?
                .iter()
                .map(|b| (b.get::<_, String>(0), b.get::<_, i64>(1) as u64))
                .collect();
            let first: Option<i64> = r.get(2);
            let last: Option<i64> = r.get(3);
            Ok(Stats {
                backend: "postgres".into(),
                location: location.to_string(),
                records: r.get::<_, i64>(0) as u64,
                fingerprints: r.get::<_, i64>(1) as u64,
                bindings,
                bytes: r.get::<_, i64>(4) as u64,
                created_range: first.zip(last),
            })
        })
    }
}

impl PgRegistry {
    fn insert_many_stored(&self, records: Vec<Record>) -> Result<Vec<Stored>> {
        self.run(move |c, location| {
            let mut tx = c.transaction().map_err(pg_err(location))?;
            let out = insert_batch(&mut tx, &records, location)?;
            tx.commit().map_err(pg_err(location))?;
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_strings_round_trip() {
        let mut h = Hash256([0; 32]);
        h.0[0] = 0x80;
        h.0[31] = 0x01;
        let s = bits(&h);
        assert!(s.starts_with('1') && s.ends_with('1'));
        assert_eq!(from_bits(&s), Some(h));
        assert_eq!(from_bits("01"), None);
    }
}
