//! Shared fixtures for the registry tests: signed images made once per
//! test binary, and fresh registries of both backends.
//!
//! PostgreSQL tests need `HALLMARK_TEST_POSTGRES` (a URL of a scratch
//! database on a server where this user may create databases):
//! `bash scripts/test.sh` starts a throwaway server and sets it. Without
//! it the PostgreSQL tests fail; they never skip.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use hallmark::credentials::registry::{self, Create};
use hallmark::credentials::{self, Record, Registry};
use hallmark::keys::keygen::{keygen, KeygenOptions};
use hallmark::keys::TrustStore;
use hallmark::media::Limits;
use hallmark::provenance::{SignOptions, Verifier};
use hallmark::watermark::EmbedOptions;

#[path = "../common/mod.rs"]
mod common;
pub use common::textured;

/// Signed test files, made once.
pub struct Signed {
    pub dir: tempfile::TempDir,
    pub key: PathBuf,
    pub trust: PathBuf,
    /// Durable (watermarked) AI-labelled signed PNGs.
    pub durable: Vec<PathBuf>,
    /// A PNG signed without a watermark.
    pub plain: PathBuf,
    /// Two different images signed under one manifest id.
    pub same_id: (PathBuf, PathBuf),
    /// An unsigned PNG.
    pub unsigned: PathBuf,
}

pub fn signed() -> &'static Signed {
    static S: OnceLock<Signed> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = keygen(&KeygenOptions {
            name: "desk".into(),
            out_dir: dir.path().join("k"),
            ca_key: None,
            force: false,
        })
        .unwrap();
        let trust = dir.path().join("trust");
        std::fs::create_dir(&trust).unwrap();
        std::fs::copy(&out.ca_certificate, trust.join("desk-ca.crt")).unwrap();
        let mut opts = SignOptions::new(&out.key);
        opts.source_type = Some("trainedAlgorithmicMedia".into());
        let src = |name: &str, seed: u64| {
            let p = dir.path().join(format!("{name}-src.png"));
            textured(480, 360, seed).save(&p).unwrap();
            p
        };
        let mut durable = Vec::new();
        for i in 0..3u64 {
            let o = dir.path().join(format!("durable{i}.png"));
            credentials::sign_durable(
                &src(&format!("d{i}"), 100 + i),
                &o,
                &opts,
                &EmbedOptions::default(),
            )
            .unwrap();
            durable.push(o);
        }
        let plain = dir.path().join("plain.png");
        hallmark::provenance::sign(&src("plain", 200), &plain, &opts).unwrap();
        let mut same = opts.clone();
        same.manifest_id = Some("urn:c2pa:11111111-2222-4333-8444-555555555555".into());
        let a = dir.path().join("same-a.png");
        let b = dir.path().join("same-b.png");
        hallmark::provenance::sign(&src("sa", 300), &a, &same).unwrap();
        hallmark::provenance::sign(&src("sb", 301), &b, &same).unwrap();
        let unsigned = src("unsigned", 400);
        Signed {
            key: out.key.clone(),
            trust,
            durable,
            plain,
            same_id: (a, b),
            unsigned,
            dir,
        }
    })
}

/// The verifier trusting the fixtures' CA.
pub fn verifier() -> Verifier {
    Verifier::new(&TrustStore::load_dir(&signed().trust).unwrap()).unwrap()
}

/// The record of a signed file.
pub fn record(path: &Path) -> Record {
    let bytes = std::fs::read(path).unwrap();
    Record::from_signed(&bytes, None, &verifier(), &Limits::default())
        .unwrap()
        .record
}

/// A fresh SQLite registry in its own folder (kept alive by the guard).
pub fn sqlite() -> (Box<dyn Registry>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sqlite");
    let r = registry::open(&path.to_string_lossy(), Create::IfMissing).unwrap();
    (r, dir)
}

/// The scratch PostgreSQL URL, or a loud failure saying how to get one.
pub fn postgres_url() -> String {
    match std::env::var("HALLMARK_TEST_POSTGRES") {
        Ok(u) if !u.is_empty() => u,
        _ => panic!(
            "HALLMARK_TEST_POSTGRES is not set: the PostgreSQL registry tests need a server. \
             Run `bash scripts/test.sh` (it starts a throwaway PostgreSQL on loopback), or set \
             HALLMARK_TEST_POSTGRES=postgresql://USER@HOST:PORT/DB for a database where USER may \
             create databases."
        ),
    }
}

/// A URL to a new, empty database on the test server.
pub fn fresh_postgres_url() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let url = postgres_url();
    let name = format!(
        "hallmark_t_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = postgres::Client::connect(&url, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot connect to HALLMARK_TEST_POSTGRES={url}: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

/// A fresh PostgreSQL registry and its URL.
pub fn postgres() -> (Box<dyn Registry>, String) {
    let url = fresh_postgres_url();
    (registry::open(&url, Create::IfMissing).unwrap(), url)
}
