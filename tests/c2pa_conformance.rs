//! Conformance on public C2PA test files made by other implementations
//! (`tests/fixtures/c2pa/`, CC BY-SA 4.0, see its README): each file gives
//! the outcome the C2PA 2.4 validation rules give, in words that name the
//! cause, through `verify` and through the fused `check` verdict.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::{Path, PathBuf};

use hallmark::keys::TrustStore;
use hallmark::provenance::{State, Verifier};
use hallmark::report::{CheckOptions, Checker, Verdict};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/c2pa")
        .join(name)
}

/// (file, state, words the reason must contain, check verdict)
const CASES: &[(&str, State, &str, Verdict)] = &[
    // Its EXIF names a Canon camera: unsigned camera metadata.
    ("adobe-20220124-A.jpg", State::Absent, "no C2PA manifest", Verdict::LikelyCamera),
    ("adobe-20220124-C.jpg", State::Valid, "does not chain", Verdict::Signed),
    ("adobe-20220124-CA.jpg", State::Valid, "does not chain", Verdict::Signed),
    ("adobe-20220124-CIE-sig-CA.jpg", State::Valid, "does not chain", Verdict::Signed),
    (
        "adobe-20220124-E-clm-CAICAI.jpg",
        State::Invalid,
        "missing from the manifest store",
        Verdict::Tampered,
    ),
    (
        "adobe-20220124-E-dat-CA.jpg",
        State::Invalid,
        "image bytes changed after signing",
        Verdict::Tampered,
    ),
    (
        "adobe-20220124-E-sig-CA.jpg",
        State::Invalid,
        "signature does not match",
        Verdict::Tampered,
    ),
    (
        "adobe-20220124-E-uri-CA.jpg",
        State::Invalid,
        "assertion inside the manifest was altered",
        Verdict::Tampered,
    ),
    (
        "adobe-20220124-XCA.jpg",
        State::Invalid,
        "image bytes changed after signing",
        Verdict::Tampered,
    ),
    (
        "truepic-20230212-camera.jpg",
        State::NonConformant,
        "non-conformant binding: bytes 0..13617 (header, EXIF) are not covered by the signature; the image data is",
        Verdict::NonConformant,
    ),
];

#[test]
fn every_public_file_gives_its_c2pa_outcome_and_cause() {
    let verifier = Verifier::new(&TrustStore::empty()).unwrap();
    let empty = tempfile::tempdir().unwrap();
    let checker = Checker::new(&CheckOptions {
        no_classifier: true,
        trust: Some(empty.path().to_path_buf()),
        ..CheckOptions::default()
    })
    .unwrap();
    let mut table = String::new();
    for &(name, state, words, verdict) in CASES {
        let r = verifier.verify_path(&fixture(name)).unwrap();
        let reason = r.reason.clone().unwrap_or_default();
        table.push_str(&format!("{name:34} {state:?} {reason}\n"));
        assert_eq!(r.state, state, "{name}: {reason}");
        assert!(reason.contains(words), "{name}: {reason:?} lacks {words:?}");
        assert_eq!(r.present, state != State::Absent, "{name}");
        assert!(!r.trusted, "{name}: test signers are not trusted");
        let report = checker.check_path(&fixture(name)).unwrap();
        assert_eq!(report.verdict, verdict, "{name}: {}", report.summary);
        assert!(report.warnings.is_empty(), "{name}: {:?}", report.warnings);
    }
    println!("{table}");
}

/// A non-conformant binding never reads as tampering.
#[test]
fn the_truepic_capture_is_not_called_tampered() {
    let checker = Checker::new(&CheckOptions {
        no_classifier: true,
        ..CheckOptions::default()
    })
    .unwrap();
    let r = checker
        .check_path(&fixture("truepic-20230212-camera.jpg"))
        .unwrap();
    assert_eq!(r.verdict, Verdict::NonConformant);
    assert!(
        !r.summary.to_lowercase().contains("broken"),
        "{}",
        r.summary
    );
    assert!(
        r.summary.contains("non-conformant binding"),
        "{}",
        r.summary
    );
    let m = r.manifest.ok().unwrap();
    assert!(m.present && !m.valid && m.non_conformant);
    // The camera's EXIF is still read and shown.
    assert!(r.summary.contains("Pixel 5"), "{}", r.summary);
}

/// An ingredient whose own manifest failed when it was ingested keeps that
/// failure in the report: CIE-sig-CA took in E-sig-CA, whose claim
/// signature does not verify, and recorded `claimSignature.mismatch` for it
/// (in the v1 status list; the SDK reads such codes back as successes, so
/// the code table decides). Ingredients with clean records list none.
#[test]
fn a_failed_ingredient_is_named_with_its_recorded_failure() {
    let verifier = Verifier::new(&TrustStore::empty()).unwrap();
    let r = verifier
        .verify_path(&fixture("adobe-20220124-CIE-sig-CA.jpg"))
        .unwrap();
    let ing = &r.ingredients[0];
    assert_eq!(ing.title.as_deref(), Some("E-sig-CA.jpg"));
    assert_eq!(ing.failures, ["claimSignature.mismatch"]);
    assert_eq!(ing.ingredients[0].title.as_deref(), Some("A.jpg"));
    assert!(ing.ingredients[0].failures.is_empty());
    let clean = verifier
        .verify_path(&fixture("adobe-20220124-CA.jpg"))
        .unwrap();
    assert!(clean.ingredients[0].failures.is_empty(), "{clean:#?}");
}
