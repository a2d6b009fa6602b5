//! Registry speed at scale: bulk insert, payload lookup and fingerprint
//! nearest-neighbour search on N records, for the embedded store and
//! (with `--postgres URL`) PostgreSQL.
//!
//! `cargo run --release --example bench_registry -- [--records N] [--batch B]
//!  [--queries Q] [--postgres URL] [--sqlite PATH] [--pool DIR]`
//!
//! Records are real: a few images are signed once (durable credentials) and
//! their records are cloned under fresh manifest ids and payloads (the
//! store bytes are those of a real signed manifest, about 13 KB). Their
//! fingerprints are not random: they are the fingerprints of the images in
//! `--pool DIR` (e.g. ../shared/data/cls), each with 30% of its bits
//! flipped at random per record, so the multi-index buckets are as skewed
//! as real images make them. Fingerprint queries are half registered
//! fingerprints with 5% of their bits flipped (hits) and half unregistered
//! ones (misses); lookups are timed one by one and reported as median and
//! p99. Run again on the same store, it only times the lookups.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // benchmark code

mod common;

use std::time::Instant;

use hallmark::credentials::fingerprint::{Fingerprint, Hash256};
use hallmark::credentials::recover::MATCH_DISTANCE;
use hallmark::credentials::registry::{self, Create, MAX_RADIUS};
use hallmark::credentials::{Record, Registry, SOFT_BINDING_ALG};
use hallmark::watermark::prng::Prng;

/// One real record: the first image of the pool that takes hallmark's
/// watermark, signed with durable credentials.
fn template(pool: &[std::path::PathBuf]) -> Record {
    let dir = tempfile::tempdir().unwrap();
    let keys = hallmark::keys::keygen(&hallmark::keys::KeygenOptions {
        name: "bench".into(),
        out_dir: dir.path().join("k"),
        ca_key: None,
        force: false,
    })
    .unwrap();
    let mut opts = hallmark::provenance::SignOptions::new(&keys.key);
    opts.source_type = Some("trainedAlgorithmicMedia".into());
    let (src, out) = pool
        .iter()
        .find_map(|src| {
            let ext = src.extension()?.to_str()?.to_ascii_lowercase();
            let out = dir.path().join(format!("signed.{ext}"));
            hallmark::credentials::sign_durable(src, &out, &opts, &Default::default())
                .ok()
                .map(|_| (src.clone(), out))
        })
        .expect("no image of the pool takes the watermark");
    eprintln!("template record: {}", src.display());
    let verifier =
        hallmark::provenance::Verifier::new(&hallmark::keys::TrustStore::empty()).unwrap();
    Record::from_signed(
        &std::fs::read(&out).unwrap(),
        None,
        &verifier,
        &Default::default(),
    )
    .unwrap()
    .record
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn flip(h: &Hash256, rng: &mut Prng, rate: f64) -> Hash256 {
    let mut o = *h;
    for i in 0..256 {
        if rng.next_f64() < rate {
            o.0[i / 8] ^= 0x80 >> (i % 8);
        }
    }
    o
}

fn pool_hashes(files: &[std::path::PathBuf]) -> Vec<Hash256> {
    use rayon::prelude::*;
    files
        .par_iter()
        .filter_map(|f| image::open(f).ok().map(|i| Fingerprint::of(&i).hash))
        .collect()
}

fn bench(
    name: &str,
    reg: &dyn Registry,
    template: &Record,
    pool: &[Hash256],
    n: usize,
    batch: usize,
    queries: usize,
) {
    let mut rng = Prng::new(7, 3);
    let have = reg.stats().unwrap().records as usize;
    let t0 = Instant::now();
    let mut done = have;
    let mut last = Instant::now();
    let (mut t_make, mut t_insert) = (0.0f64, 0.0f64);
    while done < n {
        let k = batch.min(n - done);
        let t = Instant::now();
        let recs: Vec<Record> = (done..done + k)
            .map(|i| {
                let base = &pool[i % pool.len()];
                let fp = flip(base, &mut rng, 0.3);
                template.bench_clone(
                    &format!("urn:c2pa:bench-{i:08}"),
                    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    fp,
                )
            })
            .collect();
        t_make += t.elapsed().as_secs_f64();
        let t = Instant::now();
        reg.insert_many(&recs).unwrap();
        t_insert += t.elapsed().as_secs_f64();
        done += k;
        if last.elapsed().as_secs() >= 10 {
            eprintln!(
                "{name}: {done}/{n} records, {:.0}/s",
                (done - have) as f64 / t0.elapsed().as_secs_f64()
            );
            last = Instant::now();
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let rate = if done > have {
        (done - have) as f64 / secs
    } else {
        f64::NAN
    };
    // Payload lookups (hits).
    let mut pl = Vec::new();
    for q in 0..queries {
        let i = (q * 7919) % n;
        let p = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes();
        let t = Instant::now();
        let ids = reg.by_binding(SOFT_BINDING_ALG, &p).unwrap();
        pl.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(ids.len(), 1);
    }
    // Nearest neighbours: half near a registered record (its fingerprint
    // with 5% of the bits flipped: hits), half misses; at the largest
    // radius the index serves and at the radius recovery uses.
    let mut queries_fp = Vec::with_capacity(queries);
    for q in 0..queries {
        queries_fp.push(if q % 2 == 0 {
            let id = format!("urn:c2pa:bench-{:08}", (q * 7919) % n);
            let rec = reg.get(&id).unwrap().expect("a benchmark record");
            flip(&rec.fingerprint().unwrap().hash, &mut rng, 0.05)
        } else {
            let mut h = pool[(q * 31) % pool.len()];
            h.0.reverse();
            h
        });
    }
    let nn_at = |radius: u32| {
        let mut nn = Vec::with_capacity(queries);
        let mut found = 0;
        for h in &queries_fp {
            let t = Instant::now();
            let r = reg.nearest(h, radius, 5).unwrap();
            nn.push(t.elapsed().as_secs_f64() * 1e3);
            found += usize::from(!r.is_empty());
        }
        (pct(nn.clone(), 0.5), pct(nn, 0.99), found)
    };
    let (nn_med, nn_p99, found) = nn_at(MAX_RADIUS);
    let (m_med, m_p99, m_found) = nn_at(MATCH_DISTANCE);
    let s = reg.stats().unwrap();
    println!(
        "{name}: {} records ({:.0} MB); insert {:.0} records/s ({} new); payload lookup median {:.3} ms p99 {:.3} ms; \
         fingerprint NN (radius {MAX_RADIUS}) median {nn_med:.2} ms p99 {nn_p99:.2} ms ({found}/{queries} queries had a neighbour); \
         at radius {MATCH_DISTANCE} median {m_med:.2} ms p99 {m_p99:.2} ms ({m_found}/{queries})",
        s.records,
        s.bytes as f64 / 1e6,
        rate,
        done - have,
        pct(pl.clone(), 0.5),
        pct(pl, 0.99),
    );
    if done > have {
        println!(
            "{name}: insert time split: making records {t_make:.1} s, insert_many {t_insert:.1} s \
             ({:.0} records/s inside insert_many)",
            (done - have) as f64 / t_insert
        );
    }
}

/// The plan PostgreSQL runs for a nearest-neighbour search of `h` (to see
/// that it probes the index and reads no manifest).
fn explain_postgres(url: &str, h: &Hash256, radius: u32) {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let flips = if radius <= 15 { 0 } else { 16 };
    let mut keys: Vec<i32> = Vec::new();
    for ch in 0..16 {
        let v = h.chunk(ch);
        keys.push(((ch as i32) << 16) | i32::from(v));
        for b in 0..flips {
            keys.push(((ch as i32) << 16) | i32::from(v ^ (1 << b)));
        }
    }
    let bits: String = h.0.iter().map(|b| format!("{b:08b}")).collect();
    let sql = format!(
        "EXPLAIN (ANALYZE, BUFFERS) {}",
        hallmark::credentials::registry::postgres::NEAREST_SQL
    );
    let rows = c
        .query(&sql, &[&keys, &bits, &(radius as i32), &5i64])
        .unwrap();
    println!("postgres plan of a nearest-neighbour search (radius {radius}):");
    for r in rows {
        println!("    {}", r.get::<_, String>(0));
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut n, mut batch, mut queries) = (100_000usize, 2_000usize, 1_000usize);
    let mut pg: Option<String> = None;
    let mut sqlite = "target/bench-registry.sqlite".to_string();
    let mut pool = "../shared/data/cls".to_string();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--records" => n = args.next().unwrap().parse().unwrap(),
            "--batch" => batch = args.next().unwrap().parse().unwrap(),
            "--queries" => queries = args.next().unwrap().parse().unwrap(),
            "--postgres" => pg = args.next(),
            "--sqlite" => sqlite = args.next().unwrap(),
            "--pool" => pool = args.next().unwrap(),
            other => panic!("unknown argument {other}"),
        }
    }
    let files = common::pool_images(&pool)
        .into_iter()
        .take(2_000)
        .collect::<Vec<_>>();
    let template = template(&files);
    let hashes = pool_hashes(&files);
    eprintln!("{} pool fingerprints from {pool}", hashes.len());
    let reg = registry::open(&sqlite, Create::IfMissing).unwrap();
    bench(
        "sqlite",
        reg.as_ref(),
        &template,
        &hashes,
        n,
        batch,
        queries,
    );
    if let Some(url) = pg {
        let reg = registry::open(&url, Create::IfMissing).unwrap();
        bench(
            "postgres",
            reg.as_ref(),
            &template,
            &hashes,
            n,
            batch,
            queries,
        );
        let id = format!("urn:c2pa:bench-{:08}", 7919 % n);
        let h = reg.get(&id).unwrap().unwrap().fingerprint().unwrap().hash;
        explain_postgres(&url, &h, MAX_RADIUS);
    }
}
