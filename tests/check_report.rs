//! The fused report's JSON shape and verdict, built from hand-made sections
//! (no engine needed): golden JSON for a conflict, and one case per verdict
//! kind the bundled samples show.

// Test helpers outside #[test] functions unwrap too (clippy.toml covers only test bodies).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use hallmark::report::*;
use serde_json::Value;

fn media() -> MediaInfo {
    MediaInfo {
        format: "image/jpeg".into(),
        width: 640,
        height: 480,
        bytes: 12345,
        sha256: "00".repeat(32),
    }
}

fn camera_manifest(trusted: bool) -> Section<ManifestSection> {
    Section::Ok(ManifestSection {
        present: true,
        valid: true,
        trusted,
        signer: Some("Newsroom Photo Desk".into()),
        digital_source_type: Some(
            "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture".into(),
        ),
        claim_generator: Some("hallmark/0.1.0".into()),
        non_conformant: false,
        failures: vec![],
        watermark_payload: None,
    })
}

fn none<T>() -> Section<T> {
    Section::unavailable("not run in this test")
}

fn classifier(score: f64, label: &str) -> Section<ClassifierSection> {
    Section::Ok(ClassifierSection {
        score,
        label: label.into(),
        model: Some("test-model".into()),
        domain: None,
    })
}

#[test]
fn conflict_report_matches_golden() {
    let r = Report::assemble(
        "photo.jpg".into(),
        media(),
        camera_manifest(true),
        Section::Ok(WatermarkSection::default()),
        Section::Ok(DwtDctSection::default()),
        Section::Ok(MetadataSection {
            findings: vec![MetadataFinding {
                field: "EXIF Make/Model".into(),
                value: "Canon EOS R5".into(),
                generator: Some("Canon EOS R5".into()),
                indicates: Hint::Capture,
            }],
            ..MetadataSection::default()
        }),
        classifier(0.93, "ai"),
    );
    assert_eq!(r.verdict, Verdict::CameraCapture);
    assert_eq!(r.conflicts.len(), 1);
    let v = serde_json::to_value(&r).unwrap();
    let text = serde_json::to_string_pretty(&v).unwrap() + "\n";
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/report-conflict.json");
    if std::env::var_os("HALLMARK_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    assert_eq!(text, std::fs::read_to_string(&path).unwrap());
    let human = human::render(&r);
    assert!(human.contains("conflict"), "{human}");
}

#[test]
fn each_sample_kind_gets_its_verdict() {
    let ai_manifest = Section::Ok(ManifestSection {
        present: true,
        valid: true,
        trusted: true,
        signer: Some("Demo AI Studio".into()),
        digital_source_type: Some(
            "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia".into(),
        ),
        claim_generator: None,
        non_conformant: false,
        failures: vec![],
        watermark_payload: None,
    });
    let r = Report::assemble(
        "a".into(),
        media(),
        ai_manifest,
        none(),
        none(),
        none(),
        none(),
    );
    assert_eq!(r.verdict, Verdict::AiGenerated);
    assert_eq!(
        r.summary,
        "AI-generated (signed C2PA manifest by Demo AI Studio, trusted)"
    );

    let wm = Section::Ok(WatermarkSection {
        detected: true,
        payload: Some("00112233aabbccdd".into()),
        p_value: Some(1e-12),
        found: None,
    });
    let r = Report::assemble(
        "w".into(),
        media(),
        Section::Ok(ManifestSection::default()),
        wm,
        none(),
        none(),
        none(),
    );
    assert_eq!(r.verdict, Verdict::Watermarked);

    let sd = Section::Ok(DwtDctSection {
        detected: true,
        generator: Some("Stable Diffusion".into()),
        message: None,
        match_ratio: Some(1.0),
        p_value: Some(1e-9),
    });
    let r = Report::assemble(
        "s".into(),
        media(),
        none(),
        none(),
        sd,
        none(),
        classifier(0.2, "real"),
    );
    assert_eq!(r.verdict, Verdict::AiGenerated);
    assert_eq!(r.conflicts.len(), 1, "classifier disagrees: shown");

    let meta = Section::Ok(MetadataSection {
        findings: vec![MetadataFinding {
            field: "PNG tEXt parameters".into(),
            value: "a cat, Steps: 20, Sampler: Euler a".into(),
            generator: Some("Stable Diffusion (AUTOMATIC1111)".into()),
            indicates: Hint::Ai,
        }],
        ..MetadataSection::default()
    });
    let r = Report::assemble(
        "m".into(),
        media(),
        Section::Ok(ManifestSection::default()),
        none(),
        none(),
        meta,
        none(),
    );
    assert_eq!(r.verdict, Verdict::AiGenerated);
    assert_eq!(
        r.summary,
        "AI-generated (Stable Diffusion (AUTOMATIC1111) metadata; unsigned)"
    );

    let r = Report::assemble(
        "c".into(),
        media(),
        camera_manifest(true),
        none(),
        none(),
        none(),
        none(),
    );
    assert_eq!(r.verdict, Verdict::CameraCapture);
    let r = Report::assemble(
        "c".into(),
        media(),
        camera_manifest(false),
        none(),
        none(),
        none(),
        none(),
    );
    assert_eq!(
        r.verdict,
        Verdict::LikelyCamera,
        "an unknown signer's camera claim is not proof"
    );

    let absent = || Section::Ok(ManifestSection::default());
    let r = Report::assemble(
        "u".into(),
        media(),
        absent(),
        none(),
        none(),
        none(),
        classifier(0.93, "ai"),
    );
    assert_eq!(r.verdict, Verdict::LikelyAi);
    assert_eq!(
        r.summary,
        "Likely AI-generated (classifier 0.93; no provenance)"
    );

    let r = Report::assemble(
        "n".into(),
        media(),
        Section::Ok(ManifestSection::default()),
        none(),
        none(),
        none(),
        none(),
    );
    assert_eq!(r.verdict, Verdict::Inconclusive);
    assert_eq!(r.summary, "No provenance; inconclusive");
    let v: Value = serde_json::to_value(&r).unwrap();
    assert_eq!(v["verdict"], "inconclusive");
    assert_eq!(v["classifier"]["status"], "unavailable");
}
