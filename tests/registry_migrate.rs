//! Registries written by an older hallmark: a schema-1 store (the
//! fingerprint hash only in the records table, the multi-index rows
//! holding just key and record id) is built here with raw SQL, opened,
//! migrated in place, and recovered from; the migrated tables stay
//! append-only. Both backends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod registry_support;

use std::io::Cursor;

use hallmark::credentials::recover::Via;
use hallmark::credentials::registry::{self, Create};
use hallmark::credentials::{Record, Registry, Resolver, Stored, FINGERPRINT_ALG};
use hallmark::keys::TrustStore;
use registry_support::*;

/// The SQLite layout of schema 1, as hallmark wrote it.
const SQLITE_V1: &str = "
CREATE TABLE hallmark_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE hallmark_records (
    id INTEGER PRIMARY KEY, manifest_id TEXT NOT NULL UNIQUE, manifest_store BLOB NOT NULL,
    format TEXT NOT NULL, signer_subject TEXT NOT NULL, key_fingerprint TEXT,
    asset_sha256 TEXT NOT NULL, digital_source_type TEXT, created INTEGER NOT NULL,
    fp BLOB, fp_quality INTEGER, fp_grid BLOB);
CREATE TABLE hallmark_bindings (alg TEXT NOT NULL, value BLOB NOT NULL,
    record INTEGER NOT NULL REFERENCES hallmark_records(id),
    PRIMARY KEY (alg, value, record)) WITHOUT ROWID;
CREATE TABLE hallmark_fp_index (key INTEGER NOT NULL,
    record INTEGER NOT NULL REFERENCES hallmark_records(id),
    PRIMARY KEY (key, record)) WITHOUT ROWID;
INSERT INTO hallmark_meta VALUES ('schema', '1');
";

/// The PostgreSQL layout of schema 1.
const POSTGRES_V1: &str = "
CREATE TABLE hallmark_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE hallmark_records (
    id BIGSERIAL PRIMARY KEY, manifest_id TEXT NOT NULL UNIQUE, manifest_store BYTEA NOT NULL,
    format TEXT NOT NULL, signer_subject TEXT NOT NULL, key_fingerprint TEXT,
    asset_sha256 TEXT NOT NULL, digital_source_type TEXT, created BIGINT NOT NULL,
    fp BIT(256), fp_quality SMALLINT, fp_grid BYTEA);
CREATE TABLE hallmark_bindings (alg TEXT NOT NULL, value BYTEA NOT NULL,
    record BIGINT NOT NULL REFERENCES hallmark_records(id), PRIMARY KEY (alg, value, record));
CREATE TABLE hallmark_fp_index (key INTEGER NOT NULL,
    record BIGINT NOT NULL REFERENCES hallmark_records(id), PRIMARY KEY (key, record));
CREATE FUNCTION hallmark_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the hallmark registry is append-only'; END $$ LANGUAGE plpgsql;
CREATE TRIGGER hallmark_fp_index_append_only BEFORE UPDATE OR DELETE ON hallmark_fp_index
    FOR EACH ROW EXECUTE FUNCTION hallmark_append_only();
INSERT INTO hallmark_meta VALUES ('schema', '1');
";

/// The 16 schema-1 index keys of a hash (`chunk << 16 | value`).
fn keys_v1(rec: &Record) -> Vec<i64> {
    let h = rec.fingerprint().unwrap().hash;
    (0..16)
        .map(|c| ((c as i64) << 16) | i64::from(h.chunk(c)))
        .collect()
}

fn jpeg(img: &image::DynamicImage, q: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut out), q);
    img.to_rgb8().write_with_encoder(enc).unwrap();
    out
}

/// What a migrated registry must do: hold the old records unchanged,
/// find them by fingerprint and by watermark, take new ones.
fn check_migrated(reg: Box<dyn Registry>, old: &[Record]) {
    for r in old {
        assert_eq!(reg.get(r.manifest_id()).unwrap().as_ref(), Some(r));
        let n = reg.nearest(&r.fingerprint().unwrap().hash, 0, 5).unwrap();
        assert_eq!(n.len(), 1, "{n:?}");
        assert_eq!(n[0].manifest_id, r.manifest_id());
    }
    let s = reg.stats().unwrap();
    assert_eq!(
        (s.records, s.fingerprints),
        (old.len() as u64, old.len() as u64)
    );
    let new = record(&signed().durable[2]);
    assert_eq!(reg.insert(&new).unwrap(), Stored::Added);
    let res = Resolver::new(reg, &TrustStore::load_dir(&signed().trust).unwrap()).unwrap();
    let img = image::open(&signed().durable[0]).unwrap();
    let r = res.recover_bytes(&jpeg(&img, 85)).unwrap();
    let got = r.recovered.expect("recovered from the migrated registry");
    assert_eq!(got.manifest_id, old[0].manifest_id());
    assert_eq!(got.via, Via::Watermark);
    // The fingerprint alone (the watermark not looked for) finds it too.
    let m = res
        .by_content_using(&jpeg(&img, 95), Some(FINGERPRINT_ALG))
        .unwrap();
    assert_eq!(
        m.first().map(|m| m.manifest_id.as_str()),
        Some(old[0].manifest_id())
    );
}

/// A schema-1 SQLite registry at `path` holding `old`, as hallmark wrote it.
fn sqlite_v1(path: &std::path::Path, old: &[Record]) {
    {
        let c = rusqlite::Connection::open(path).unwrap();
        c.execute_batch(SQLITE_V1).unwrap();
        for (id, r) in old.iter().enumerate() {
            let s = r.summary();
            let fp = r.fingerprint().unwrap();
            c.execute(
                "INSERT INTO hallmark_records VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                rusqlite::params![
                    id as i64 + 1,
                    r.manifest_id(),
                    r.manifest_store(),
                    r.format(),
                    s.signer_subject,
                    s.key_fingerprint,
                    s.asset_sha256,
                    s.digital_source_type,
                    r.created(),
                    &fp.hash.0[..],
                    i64::from(fp.quality),
                    &fp.grid.0
                ],
            )
            .unwrap();
            for b in r.bindings() {
                c.execute(
                    "INSERT INTO hallmark_bindings VALUES (?1, ?2, ?3)",
                    rusqlite::params![b.alg, b.value, id as i64 + 1],
                )
                .unwrap();
            }
            for k in keys_v1(r) {
                c.execute(
                    "INSERT INTO hallmark_fp_index VALUES (?1, ?2)",
                    [k, id as i64 + 1],
                )
                .unwrap();
            }
        }
        for t in ["hallmark_records", "hallmark_bindings", "hallmark_fp_index"] {
            for op in ["UPDATE", "DELETE"] {
                c.execute_batch(&format!(
                    "CREATE TRIGGER {t}_no_{op} BEFORE {op} ON {t} \
                     BEGIN SELECT RAISE(ABORT, 'the hallmark registry is append-only'); END;"
                ))
                .unwrap();
            }
        }
    }
}

#[test]
fn a_schema_1_sqlite_registry_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite");
    let old: Vec<Record> = signed().durable[..2].iter().map(|p| record(p)).collect();
    sqlite_v1(&path, &old);
    let reg = registry::open(&path.to_string_lossy(), Create::Never).unwrap();
    check_migrated(reg, &old);

    let c = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
    // Every index row now carries its record's hash.
    let bad: i64 = c
        .query_row(
            "SELECT count(*) FROM hallmark_fp_index i JOIN hallmark_records r ON r.id = i.record \
             WHERE i.fp IS NOT r.fp",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let rows: i64 = c
        .query_row("SELECT count(*) FROM hallmark_fp_index", [], |r| r.get(0))
        .unwrap();
    assert_eq!((bad, rows), (0, 3 * 16));
    for sql in [
        "UPDATE hallmark_fp_index SET fp = x'00'",
        "DELETE FROM hallmark_fp_index",
        "DELETE FROM hallmark_records",
    ] {
        let e = c.execute(sql, []).unwrap_err().to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    drop(c);
    // Opening again is a no-op (already at version 2).
    let again = registry::open(&path.to_string_lossy(), Create::Never).unwrap();
    assert_eq!(again.stats().unwrap().records, 3);
}

/// A schema-1 index that does not match its records' hashes (here one
/// row too many) is not migrated: one line, and the file stays as it was.
#[test]
fn a_schema_1_index_that_disagrees_is_not_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.sqlite");
    let old = vec![record(&signed().durable[0])];
    sqlite_v1(&path, &old);
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("INSERT INTO hallmark_fp_index VALUES (5, 1)", [])
        .unwrap();
    let e = registry::open(&path.to_string_lossy(), Create::Never)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot migrate") && !e.contains('\n'), "{e}");
    let c = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let rows: i64 = c
        .query_row("SELECT count(*) FROM hallmark_fp_index", [], |r| r.get(0))
        .unwrap();
    let tables: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'hallmark_fp_index_v2'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((version, rows, tables), (0, 17, 0));
}

#[test]
fn a_newer_sqlite_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite");
    drop(registry::open(&path.to_string_lossy(), Create::IfMissing).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 7")
        .unwrap();
    let e = registry::open(&path.to_string_lossy(), Create::Never)
        .unwrap_err()
        .to_string();
    assert!(e.contains("schema version 7 is not supported"), "{e}");
}

#[test]
fn a_schema_1_postgres_registry_is_migrated_on_open() {
    let url = fresh_postgres_url();
    let old: Vec<Record> = signed().durable[..2].iter().map(|p| record(p)).collect();
    {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        c.batch_execute(POSTGRES_V1).unwrap();
        for r in &old {
            let s = r.summary();
            let fp = r.fingerprint().unwrap();
            let bits: String = fp.hash.0.iter().map(|b| format!("{b:08b}")).collect();
            let id: i64 = c
                .query_one(
                    "INSERT INTO hallmark_records (manifest_id, manifest_store, format, signer_subject, \
                     key_fingerprint, asset_sha256, digital_source_type, created, fp, fp_quality, fp_grid) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, ($9::text)::bit(256), $10, $11) RETURNING id",
                    &[
                        &r.manifest_id(),
                        &r.manifest_store(),
                        &r.format(),
                        &s.signer_subject,
                        &s.key_fingerprint,
                        &s.asset_sha256,
                        &s.digital_source_type,
                        &r.created(),
                        &bits,
                        &i16::from(fp.quality),
                        &fp.grid.0,
                    ],
                )
                .unwrap()
                .get(0);
            for b in r.bindings() {
                c.execute(
                    "INSERT INTO hallmark_bindings VALUES ($1, $2, $3)",
                    &[&b.alg, &b.value, &id],
                )
                .unwrap();
            }
            for k in keys_v1(r) {
                c.execute(
                    "INSERT INTO hallmark_fp_index VALUES ($1, $2)",
                    &[&(k as i32), &id],
                )
                .unwrap();
            }
        }
    }
    let reg = registry::open(&url, Create::IfMissing).unwrap();
    check_migrated(reg, &old);

    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let v: String = c
        .query_one("SELECT value FROM hallmark_meta WHERE key = 'schema'", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, "2");
    let row = c
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE i.fp IS DISTINCT FROM r.fp) \
             FROM hallmark_fp_index i JOIN hallmark_records r ON r.id = i.record",
            &[],
        )
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (3 * 16, 0));
    for sql in [
        "UPDATE hallmark_fp_index SET key = 0",
        "DELETE FROM hallmark_fp_index",
        "TRUNCATE hallmark_fp_index",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        let msg = e.as_db_error().map(|d| d.message().to_string());
        assert!(
            msg.as_deref().is_some_and(|m| m.contains("append-only")),
            "{sql}: {e}"
        );
    }
}
