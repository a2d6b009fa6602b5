//! The registry contract, run against both backends (embedded SQLite and
//! PostgreSQL): the same tests, the same expectations. Plus recovery
//! (watermark + fingerprint, forged watermarks), verify-before-store, and
//! the failure modes (corrupt file, locked database, lost server).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod registry_support;

use std::io::Cursor;
use std::sync::Arc;

use hallmark::credentials::fingerprint::Hash256;
use hallmark::credentials::recover::Via;
use hallmark::credentials::registry::{self, Create, MAX_RADIUS};
use hallmark::credentials::{
    Record, Registry, Resolver, Stored, FINGERPRINT_ALG, SOFT_BINDING_ALG,
};
use hallmark::keys::TrustStore;
use hallmark::media::Limits;
use hallmark::watermark::attacks::Attack;
use hallmark::watermark::{self, EmbedOptions};
use registry_support::*;

fn jpeg(img: &image::DynamicImage, q: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut out), q);
    img.to_rgb8().write_with_encoder(enc).unwrap();
    out
}

fn resolver(reg: Box<dyn Registry>) -> Resolver {
    Resolver::new(reg, &TrustStore::load_dir(&signed().trust).unwrap()).unwrap()
}

// ---- the contract, once per backend -------------------------------------

fn insert_and_read_back(reg: &dyn Registry) {
    let rec = record(&signed().durable[0]);
    assert_eq!(reg.insert(&rec).unwrap(), Stored::Added);
    let got = reg.get(rec.manifest_id()).unwrap().expect("stored");
    assert_eq!(got, rec);
    assert!(got.payload().is_some());
    assert!(reg.get("urn:c2pa:absent").unwrap().is_none());
}

fn append_only(reg: &dyn Registry) {
    let (a, b) = &signed().same_id;
    let (ra, rb) = (record(a), record(b));
    assert_eq!(ra.manifest_id(), rb.manifest_id());
    assert_ne!(ra.manifest_store(), rb.manifest_store());
    assert_eq!(reg.insert(&ra).unwrap(), Stored::Added);
    assert_eq!(reg.insert(&ra).unwrap(), Stored::AlreadyPresent);
    let err = reg.insert(&rb).unwrap_err().to_string();
    assert!(err.contains("never overwritten"), "{err}");
    assert_eq!(
        reg.get(ra.manifest_id()).unwrap().unwrap().manifest_store(),
        ra.manifest_store()
    );
    assert_eq!(reg.stats().unwrap().records, 1);
}

fn batch_is_all_or_nothing(reg: &dyn Registry) {
    let (a, b) = &signed().same_id;
    let good = record(&signed().durable[1]);
    // The batch conflicts with itself at its end: nothing of it may stay.
    let err = reg
        .insert_many(&[good.clone(), record(a), record(b)])
        .unwrap_err();
    assert!(err.to_string().contains("never overwritten"), "{err}");
    assert!(reg.get(good.manifest_id()).unwrap().is_none());
    assert_eq!(reg.stats().unwrap().records, 0);
    assert_eq!(reg.insert_many(&[good.clone(), record(a)]).unwrap(), 2);
    assert_eq!(reg.insert_many(&[good]).unwrap(), 0);
}

fn lookup_by_binding(reg: &dyn Registry) {
    let rec = record(&signed().durable[2]);
    reg.insert(&rec).unwrap();
    let p = rec.payload().unwrap().to_be_bytes();
    assert_eq!(
        reg.by_binding(SOFT_BINDING_ALG, &p).unwrap(),
        vec![rec.manifest_id().to_string()]
    );
    assert!(reg
        .by_binding(SOFT_BINDING_ALG, &[0; 8])
        .unwrap()
        .is_empty());
    assert!(reg.by_binding("com.example.other", &p).unwrap().is_empty());
}

fn nearest_fingerprints(reg: &dyn Registry) {
    let recs: Vec<Record> = signed().durable.iter().map(|p| record(p)).collect();
    reg.insert_many(&recs).unwrap();
    let h = recs[0].fingerprint().unwrap().hash;
    let n = reg.nearest(&h, 0, 5).unwrap();
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].manifest_id, recs[0].manifest_id());
    // 30 bits flipped, two in every chunk but one: still found at 30.
    let mut far = h;
    for bit in (0..256).step_by(8).take(30) {
        far.0[bit / 8] ^= 0x80 >> (bit % 8);
    }
    let n = reg.nearest(&far, MAX_RADIUS, 5).unwrap();
    assert_eq!(n.first().map(|x| x.distance), Some(30), "{n:?}");
    assert!(reg.nearest(&far, 29, 5).unwrap().is_empty());
    // Up to 15 bits the search probes exact chunks only: 15 bits flipped,
    // one in each chunk but the last, is found through that last chunk.
    let mut mid = h;
    for c in 0..15 {
        mid.0[2 * c] ^= 0x01;
    }
    let n = reg.nearest(&mid, 15, 5).unwrap();
    assert_eq!(n.first().map(|x| x.distance), Some(15), "{n:?}");
    assert!(reg.nearest(&mid, 14, 5).unwrap().is_empty());
    assert!(reg.nearest(&h, MAX_RADIUS + 1, 5).is_err());
    assert!(reg
        .nearest(&Hash256([0x0F; 32]), MAX_RADIUS, 5)
        .unwrap()
        .is_empty());
}

fn stats_count(reg: &dyn Registry) {
    let recs: Vec<Record> = signed().durable.iter().map(|p| record(p)).collect();
    reg.insert_many(&recs).unwrap();
    reg.insert(&record(&signed().plain)).unwrap();
    let s = reg.stats().unwrap();
    assert_eq!(s.records, 4);
    assert_eq!(s.fingerprints, 4);
    assert_eq!(s.bindings, vec![(SOFT_BINDING_ALG.to_string(), 3)]);
    assert!(s.bytes > 0);
    assert!(s.created_range.is_some());
    reg.ping().unwrap();
}

fn many_threads(reg: Box<dyn Registry>) {
    let reg: Arc<dyn Registry> = Arc::from(reg);
    let recs: Vec<Record> = signed().durable.iter().map(|p| record(p)).collect();
    let handles: Vec<_> = recs
        .into_iter()
        .map(|r| {
            let reg = Arc::clone(&reg);
            std::thread::spawn(move || {
                reg.insert(&r).unwrap();
                for _ in 0..20 {
                    let p = r.payload().unwrap().to_be_bytes();
                    assert_eq!(reg.by_binding(SOFT_BINDING_ALG, &p).unwrap().len(), 1);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(reg.stats().unwrap().records, 3);
}

/// How far each 4x4 block of the "edit" in [`recovery`] is moved.
const EDIT_LIFT: i32 = 12;

/// Recovery of stripped copies, and refusal of a copied watermark.
fn recovery(reg: Box<dyn Registry>) {
    for p in &signed().durable {
        reg.insert(&record(p)).unwrap();
    }
    let res = resolver(reg);
    let signed_img = image::open(&signed().durable[0]).unwrap();
    let id = record(&signed().durable[0]).manifest_id().to_string();

    // Stripped (JPEG q80, no manifest): recovered through the watermark.
    let r = res.recover_bytes(&jpeg(&signed_img, 80)).unwrap();
    let rec = r.recovered.expect("recovered");
    assert_eq!(rec.manifest_id, id);
    assert_eq!(rec.via, Via::Watermark);
    assert!(rec.distance <= rec.threshold);
    assert!(
        rec.binding.starts_with("watermark payload 0x"),
        "{}",
        rec.binding
    );
    assert!(
        rec.manifest.valid && rec.manifest.trusted,
        "{:?}",
        rec.manifest
    );
    assert!(rec.manifest.ai_generated);

    // Stripped and cropped to the centre 70%: the region match confirms it.
    let (w, h) = (signed_img.width(), signed_img.height());
    let crop = signed_img.crop_imm(w * 15 / 100, h * 15 / 100, w * 70 / 100, h * 70 / 100);
    let r = res.recover_bytes(&jpeg(&crop, 90)).unwrap();
    assert_eq!(r.recovered.map(|x| x.manifest_id), Some(id.clone()));

    // Stripped and turned 5 degrees, or mirrored: the watermark measures
    // the turn and the mirror, and the fingerprint is compared undone.
    for attack in [Attack::Rotate(5.0), Attack::Mirror] {
        let copy = attack.apply(&signed_img, 0).unwrap();
        let r = res.recover_bytes(&jpeg(&copy, 90)).unwrap();
        let rec = r
            .recovered
            .unwrap_or_else(|| panic!("{} not recovered", attack.name()));
        assert_eq!(
            (rec.manifest_id.as_str(), rec.via),
            (id.as_str(), Via::Watermark),
            "{}",
            attack.name()
        );
    }

    // The same payload forged onto an unrelated picture: found, not confirmed.
    let payload = record(&signed().durable[0]).payload().unwrap();
    let forged =
        watermark::embed(&textured(480, 360, 999), payload, &EmbedOptions::default()).unwrap();
    let r = res.recover_bytes(&jpeg(&forged, 95)).unwrap();
    assert_eq!(r.watermark_payload, Some(format!("{payload:016x}")));
    assert!(r.recovered.is_none(), "{:?}", r.recovered);
    assert!(r
        .candidates
        .iter()
        .any(|c| c.manifest_id == id && !c.confirmed));

    // An edit of the picture: the same layout with other fine detail
    // (every 4x4 block lifted or lowered at random). Its hash stays within
    // the match distance, but the details disagree: the fingerprint alone
    // must not lend it the original's credentials.
    let mut edit = signed_img.to_rgb8();
    let mut x = 0x2545_F491u32;
    let mut lift = std::collections::HashMap::new();
    for (px, py, p) in edit.enumerate_pixels_mut() {
        let d = *lift.entry((px / 4, py / 4)).or_insert_with(|| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if x & 1 == 0 {
                EDIT_LIFT
            } else {
                -EDIT_LIFT
            }
        });
        for c in p.0.iter_mut() {
            *c = (i32::from(*c) + d).clamp(0, 255) as u8;
        }
    }
    let r = res
        .recover_with(&image::DynamicImage::ImageRgb8(edit), None)
        .unwrap();
    let c = r
        .candidates
        .iter()
        .find(|c| c.manifest_id == id)
        .expect("the edit is a fingerprint candidate");
    assert!(c.distance.unwrap() <= c.threshold, "{c:?}");
    assert!(!c.confirmed && c.detail_correlation.unwrap() < 0.9, "{c:?}");
    assert!(r.recovered.is_none(), "{:?}", r.recovered);
    // A plain re-encoded copy passes both (the fingerprint alone).
    let r = res
        .recover_with(
            &image::load_from_memory(&jpeg(&signed_img, 85)).unwrap(),
            None,
        )
        .unwrap();
    let rec = r
        .recovered
        .expect("a re-encoded copy recovers by fingerprint");
    assert_eq!(
        (rec.manifest_id.as_str(), rec.via),
        (id.as_str(), Via::Fingerprint)
    );
    assert!(rec.detail_correlation.unwrap() >= 0.9, "{rec:?}");
    assert!(
        rec.binding.contains("detail correlation"),
        "{}",
        rec.binding
    );

    // An unrelated image: nothing.
    let r = res
        .recover_bytes(&jpeg(&textured(480, 360, 5), 90))
        .unwrap();
    assert!(r.recovered.is_none() && r.candidates.is_empty(), "{r:?}");

    // Resolution API shapes.
    let m = res
        .by_binding(SOFT_BINDING_ALG, &payload.to_be_bytes())
        .unwrap();
    assert_eq!(m[0].manifest_id, id);
    assert!(res.by_binding(SOFT_BINDING_ALG, &[1, 2]).is_err());
    assert!(res.by_binding("com.example.unknown", &[0; 8]).is_err());
    assert_eq!(
        res.manifest_store(&id).unwrap().unwrap(),
        record(&signed().durable[0]).manifest_store()
    );
    assert!(res.by_content(&jpeg(&signed_img, 75)).unwrap()[0].manifest_id == id);
    // One algorithm at a time.
    let m = res
        .by_content_using(&jpeg(&signed_img, 75), Some(SOFT_BINDING_ALG))
        .unwrap();
    assert_eq!(
        (m[0].manifest_id.as_str(), m[0].alg),
        (id.as_str(), SOFT_BINDING_ALG)
    );
    let m = res
        .by_content_using(&jpeg(&signed_img, 95), Some(FINGERPRINT_ALG))
        .unwrap();
    assert_eq!(
        (m[0].manifest_id.as_str(), m[0].alg),
        (id.as_str(), FINGERPRINT_ALG)
    );
    assert!(res
        .by_content_using(&jpeg(&signed_img, 95), Some("com.example.unknown"))
        .is_err());
}

macro_rules! backend_suite {
    ($backend:ident, $open:expr) => {
        mod $backend {
            use super::*;

            #[test]
            fn insert_and_read_back() {
                let (r, _keep) = $open;
                super::insert_and_read_back(r.as_ref());
            }
            #[test]
            fn append_only() {
                let (r, _keep) = $open;
                super::append_only(r.as_ref());
            }
            #[test]
            fn batch_is_all_or_nothing() {
                let (r, _keep) = $open;
                super::batch_is_all_or_nothing(r.as_ref());
            }
            #[test]
            fn lookup_by_binding() {
                let (r, _keep) = $open;
                super::lookup_by_binding(r.as_ref());
            }
            #[test]
            fn nearest_fingerprints() {
                let (r, _keep) = $open;
                super::nearest_fingerprints(r.as_ref());
            }
            #[test]
            fn stats_count() {
                let (r, _keep) = $open;
                super::stats_count(r.as_ref());
            }
            #[test]
            fn many_threads() {
                let (r, _keep) = $open;
                super::many_threads(r);
            }
            #[test]
            fn recovery() {
                let (r, _keep) = $open;
                super::recovery(r);
            }
        }
    };
}

backend_suite!(sqlite_backend, sqlite());
backend_suite!(postgres_backend, postgres());

// ---- verify before store ------------------------------------------------

#[test]
fn only_valid_manifests_become_records() {
    let v = verifier();
    let l = Limits::default();
    let unsigned = std::fs::read(&signed().unsigned).unwrap();
    let e = Record::from_signed(&unsigned, None, &v, &l).unwrap_err();
    assert!(e.to_string().contains("no C2PA manifest"), "{e}");
    // A valid manifest presented with other pixels: the hard binding breaks.
    let plain = std::fs::read(&signed().plain).unwrap();
    let store =
        c2pa::jumbf_io::load_jumbf_from_stream("image/png", &mut Cursor::new(&plain)).unwrap();
    let e = Record::from_signed(&unsigned, Some(&store), &v, &l).unwrap_err();
    assert!(e.to_string().contains("invalid"), "{e}");
    // A damaged file is refused too (here by the container check).
    let mut bytes = plain.clone();
    let n = bytes.len();
    bytes[n - 20] ^= 0xFF;
    assert!(Record::from_signed(&bytes, None, &v, &l).is_err());
    // A plain signature records the fingerprint but no watermark binding.
    let p = Record::from_signed(&std::fs::read(&signed().plain).unwrap(), None, &v, &l).unwrap();
    assert!(p.record.bindings().is_empty());
    assert!(p.record.fingerprint().is_some());
}

// ---- the database refuses changes ----------------------------------------

#[test]
fn sqlite_tables_refuse_update_and_delete() {
    let (reg, dir) = sqlite();
    reg.insert(&record(&signed().durable[0])).unwrap();
    let c = rusqlite::Connection::open(dir.path().join("r.sqlite")).unwrap();
    for sql in [
        "UPDATE hallmark_records SET manifest_store = x'00'",
        "DELETE FROM hallmark_records",
        "DELETE FROM hallmark_bindings",
        "UPDATE hallmark_fp_index SET key = 0",
    ] {
        let e = c.execute(sql, []).unwrap_err().to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
}

#[test]
fn postgres_tables_refuse_update_delete_and_truncate() {
    let (reg, url) = postgres();
    reg.insert(&record(&signed().durable[0])).unwrap();
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for sql in [
        "UPDATE hallmark_records SET manifest_store = '\\x00'",
        "DELETE FROM hallmark_records",
        "DELETE FROM hallmark_bindings",
        "TRUNCATE hallmark_fp_index CASCADE",
    ] {
        let e = c.batch_execute(sql).unwrap_err();
        let msg = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default();
        assert!(msg.contains("append-only"), "{sql}: {e}");
    }
}

// ---- failure modes --------------------------------------------------------

#[test]
fn a_corrupt_registry_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.sqlite");
    std::fs::write(&p, vec![0x42u8; 8192]).unwrap();
    let e = registry::open(&p.to_string_lossy(), Create::Never).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("not a database") && !msg.contains('\n'),
        "{msg}"
    );
}

#[test]
fn a_missing_registry_is_not_created_for_reading() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("none.sqlite");
    let e = registry::open(&p.to_string_lossy(), Create::Never).unwrap_err();
    assert!(e.to_string().contains("no registry at"), "{e}");
    assert!(!p.exists());
}

#[test]
fn another_sqlite_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&p)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let e = registry::open(&p.to_string_lossy(), Create::IfMissing).unwrap_err();
    assert!(e.to_string().contains("not a hallmark registry"), "{e}");
}

#[test]
fn a_locked_database_fails_cleanly_and_keeps_nothing() {
    let (reg, dir) = sqlite();
    let c = rusqlite::Connection::open(dir.path().join("r.sqlite")).unwrap();
    c.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let rec = record(&signed().durable[0]);
    let e = reg.insert(&rec).unwrap_err().to_string();
    assert!(e.contains("locked") || e.contains("busy"), "{e}");
    c.execute_batch("ROLLBACK").unwrap();
    assert!(reg.get(rec.manifest_id()).unwrap().is_none());
    assert_eq!(reg.insert(&rec).unwrap(), Stored::Added);
}

/// Closing a registry checkpoints its write-ahead log: the registry file
/// alone (say, a backup copy of it) holds every record.
#[test]
fn a_closed_sqlite_registry_is_whole_in_its_file() {
    let (reg, dir) = sqlite();
    let rec = record(&signed().durable[0]);
    reg.insert(&rec).unwrap();
    // Keep every worker busy at once, so that each has a connection open
    // when the registry closes (they must not all skip the checkpoint,
    // each seeing the others still open).
    let reg: Arc<dyn Registry> = Arc::from(reg);
    let gate = Arc::new(std::sync::Barrier::new(8));
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (reg, gate) = (Arc::clone(&reg), Arc::clone(&gate));
            std::thread::spawn(move || {
                gate.wait();
                for _ in 0..20 {
                    reg.stats().unwrap();
                }
            })
        })
        .collect();
    for c in calls {
        c.join().unwrap();
    }
    drop(reg);
    assert!(!dir.path().join("r.sqlite-wal").exists());
    let copy = tempfile::tempdir().unwrap();
    let p = copy.path().join("r.sqlite");
    std::fs::copy(dir.path().join("r.sqlite"), &p).unwrap();
    let again = registry::open(&p.to_string_lossy(), Create::Never).unwrap();
    assert_eq!(again.get(rec.manifest_id()).unwrap(), Some(rec));
}

/// A registry file whose pages were overwritten (a bad disk, a partial
/// copy) fails with one line naming the damage, whichever call meets it.
#[test]
fn a_damaged_registry_file_is_a_clear_error() {
    let (reg, dir) = sqlite();
    for f in &signed().durable {
        reg.insert(&record(f)).unwrap();
    }
    drop(reg);
    let p = dir.path().join("r.sqlite");
    let mut bytes = std::fs::read(&p).unwrap();
    assert!(bytes.len() > 3 * 4096, "{}", bytes.len());
    let mut x = 0x2545_F491u32;
    for b in &mut bytes[4096..] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    std::fs::write(&p, &bytes).unwrap();
    let e = registry::open(&p.to_string_lossy(), Create::Never)
        .and_then(|r| {
            r.stats()?;
            r.nearest(&Hash256([0; 32]), MAX_RADIUS, 5)
        })
        .unwrap_err()
        .to_string();
    assert!(
        (e.contains("malformed") || e.contains("not a database")) && !e.contains('\n'),
        "{e}"
    );
}

#[test]
fn a_lost_postgres_connection_fails_the_call_then_reconnects() {
    let (reg, url) = postgres();
    let rec = record(&signed().durable[0]);
    reg.insert(&rec).unwrap();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let db = url.rsplit('/').next().unwrap().to_string();
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db],
        )
        .unwrap();
    // Every worker's connection is gone: calls fail with one line, or
    // succeed on a fresh connection; none panics, and it recovers.
    for _ in 0..8 {
        if let Err(e) = reg.get(rec.manifest_id()) {
            assert!(!e.to_string().contains('\n'), "{e}");
            assert!(e.to_string().starts_with("registry postgres"), "{e}");
        }
    }
    assert!(reg.get(rec.manifest_id()).unwrap().is_some());
}

#[test]
fn a_postgres_server_that_is_not_there_is_a_clear_error() {
    let e = registry::open("postgres://nobody@127.0.0.1:1/none", Create::IfMissing).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("registry postgres://nobody@127.0.0.1:1/none"),
        "{e}"
    );
}

/// An HTTP server calls the registry from `spawn_blocking` and may drop it
/// inside its async runtime: neither may panic (the PostgreSQL client's own
/// runtime lives on the registry's worker threads).
#[test]
fn postgres_registry_works_from_spawn_blocking_and_drops_in_async() {
    let url = fresh_postgres_url();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let rec = record(&signed().durable[0]);
    let id = rec.manifest_id().to_string();
    rt.block_on(async move {
        let reg: Arc<dyn Registry> = Arc::from(registry::open(&url, Create::IfMissing).unwrap());
        let r2 = Arc::clone(&reg);
        let got = tokio::task::spawn_blocking(move || {
            r2.insert(&rec).unwrap();
            r2.get(&id).unwrap().map(|r| r.manifest_id().to_string())
        })
        .await
        .unwrap();
        assert!(got.is_some());
        let r3 = Arc::clone(&reg);
        let n = tokio::task::spawn_blocking(move || r3.stats().unwrap().records)
            .await
            .unwrap();
        assert_eq!(n, 1);
        drop(reg); // in async context
    });
}
