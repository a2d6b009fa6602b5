//! Fuzz-style pass over the parsers that read untrusted bytes: the
//! container walkers, the metadata reader, the XMP rewriter and the C2PA
//! reading path (`Verifier::verify_bytes`). Seeds are valid files of each
//! format (generated, plus the public C2PA fixtures); each round mutates
//! one (bit flips, byte runs, cuts, splices, length-field edits) and every
//! parser must return, never panic, and errors must be one line.
//!
//! Bounded by `HALLMARK_FUZZ_SECONDS` (default 3; `scripts/test.sh` runs a
//! longer pass) and a fixed seed from `HALLMARK_FUZZ_SEED`, so a failure
//! reproduces.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod provenance_common;

use std::time::{Duration, Instant};

use hallmark::keys::TrustStore;
use hallmark::media::{container, metadata};
use hallmark::provenance::Verifier;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    use image::ImageFormat as F;
    let mut out: Vec<Vec<u8>> = [F::Png, F::Jpeg, F::WebP, F::Tiff, F::Gif, F::Bmp]
        .into_iter()
        .map(|f| provenance_common::image_bytes(f, 24, 16, 7))
        .collect();
    let xmp = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF><rdf:Description Iptc4xmpExt:DigitalSourceType=\"trainedAlgorithmicMedia\"/></rdf:RDF></x:xmpmeta>";
    for i in 0..3 {
        out.push(container::rewrite::set_xmp(&out[i], xmp).unwrap());
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/c2pa");
    for name in ["adobe-20220124-C.jpg", "adobe-20220124-A.jpg"] {
        out.push(std::fs::read(dir.join(name)).unwrap());
    }
    out.push(
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/bad/heic-unsupported.heic"),
        )
        .unwrap(),
    );
    out
}

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            break;
        }
        let at = rng.below(b.len());
        match rng.below(6) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => b[at] = rng.next() as u8,
            2 => b.truncate(at),
            3 => {
                // A length-like field: 4 random bytes.
                let v = (rng.next() as u32).to_be_bytes();
                for (i, x) in v.iter().enumerate() {
                    if let Some(y) = b.get_mut(at + i) {
                        *y = *x;
                    }
                }
            }
            4 => {
                let from = rng.below(other.len());
                let len = rng.below(256).min(other.len() - from);
                b.splice(at..at, other[from..from + len].iter().copied());
            }
            _ => {
                let len = rng.below(64).min(b.len() - at);
                b.drain(at..at + len);
            }
        }
    }
    b
}

#[test]
fn parsers_survive_mutated_files() {
    let secs: u64 = std::env::var("HALLMARK_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("HALLMARK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1515);
    let corpus = seeds();
    let verifier = Verifier::new(&TrustStore::empty()).unwrap();
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut rounds = 0u64;
    while Instant::now() < deadline {
        let a = &corpus[rng.below(corpus.len())];
        let b = &corpus[rng.below(corpus.len())];
        let input = mutate(&mut rng, a, b);
        let walked = container::walk(&input);
        if let Ok(w) = &walked {
            for s in &w.segments {
                assert!(s.range.start <= s.range.end && s.data.start <= s.data.end);
            }
            let _ = container::blocks(&input, w);
            let _ = metadata::read_walked(&input, w);
        }
        let _ = container::rewrite::set_xmp(&input, "<x:xmpmeta/>");
        // The C2PA path is slower: every 8th round, and always for files
        // that still carry a store.
        if rounds.is_multiple_of(8) || walked.as_ref().is_ok_and(|w| w.has_manifest()) {
            if let Err(e) = verifier.verify_bytes(&input, None) {
                assert!(!e.to_string().contains('\n'), "{e}");
            }
        }
        rounds += 1;
    }
    println!("fuzz: {rounds} mutated files in {secs} s (seed {seed})");
    assert!(rounds > 0);
}

/// The XMP rewrite keeps every other byte and reads back.
#[test]
fn set_xmp_round_trips_and_keeps_the_rest() {
    use image::ImageFormat as F;
    let xmp = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description xmlns:Iptc4xmpExt=\"http://iptc.org/std/Iptc4xmpExt/2008-02-29/\" Iptc4xmpExt:DigitalSourceType=\"http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia\"/></rdf:RDF></x:xmpmeta>";
    for f in [F::Png, F::Jpeg, F::WebP] {
        let original = provenance_common::image_bytes(f, 40, 30, 1);
        let once = container::rewrite::set_xmp(&original, xmp).unwrap();
        let twice = container::rewrite::set_xmp(&once, xmp).unwrap();
        assert_eq!(once, twice, "{f:?}: replacing is idempotent");
        let w = container::walk(&once).unwrap();
        assert!(w.damage.is_none(), "{f:?}: {:?}", w.damage);
        let m = metadata::read(&once).unwrap();
        assert_eq!(
            m.digital_source_type.as_deref(),
            Some("trainedAlgorithmicMedia"),
            "{f:?}"
        );
        let a = hallmark::media::decode(&original, &Default::default()).unwrap();
        let b = hallmark::media::decode(&once, &Default::default()).unwrap();
        assert_eq!(a.to_rgba8(), b.to_rgba8(), "{f:?}: pixels kept");
        // Only the XMP segment was added: the rest is the original bytes.
        assert!(once.len() > original.len());
    }
}
