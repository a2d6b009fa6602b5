//! The shipped model (`models/default.json`): its card is valid, its hash
//! matches, and Rust reproduces the training pipeline's golden outputs
//! (`models/training/golden.json`, written by Python with onnxruntime):
//! the same crop offsets, normalised pixels, per-crop logits, aggregated
//! logit, `p_ai` and label.

// Helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::{assert_exit, root};
use hallmark::detect::card::{self, CardFile};
use hallmark::detect::onnx::OrtClassifier;
use hallmark::detect::{runtime, Classifier, Detector, LoadOptions};

fn golden() -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("models/training/golden.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn shipped_card() -> PathBuf {
    card::resolve_card(&root().join("models/default.json")).unwrap()
}

#[test]
fn shipped_card_is_valid_and_its_hash_matches() {
    let cf = CardFile::read(&shipped_card()).unwrap();
    let bytes = cf.read_verified_model().unwrap();
    assert_eq!(card::sha256_hex(&bytes), cf.card.sha256);
    let g = golden();
    assert_eq!(
        g["model_sha256"],
        cf.card.sha256.as_str(),
        "golden.json is for another model"
    );
    assert_eq!(
        Path::new(g["card"].as_str().unwrap()),
        Path::new(cf.path.file_name().unwrap())
    );
    // The default lookup (no --model, no HALLMARK_MODEL) finds a
    // models/default.json (beside the build folder's ancestors, the current
    // folder or the source tree) and its card.
    if std::env::var_os(card::MODEL_ENV).is_none() {
        let found = card::find_model(None).unwrap();
        assert!(
            found.parent().unwrap().ends_with("models"),
            "{}",
            found.display()
        );
        CardFile::read(&found).unwrap();
    }
}

#[test]
fn rust_reproduces_the_python_golden_outputs() {
    let g = golden();
    let tol = g["tolerance"].as_f64().unwrap();
    let card_path = shipped_card();
    let det = Detector::load_card(&card_path, &LoadOptions::default()).unwrap();
    let cf = CardFile::read(&card_path).unwrap();
    let clf = OrtClassifier::new(
        runtime::runtime(None).unwrap(),
        cf.read_verified_model().unwrap(),
        &cf.card,
        Default::default(),
    )
    .unwrap();
    let cases = g["cases"].as_array().unwrap();
    assert!(cases.len() >= 2);
    for case in cases {
        let file = root()
            .join("models/training")
            .join(case["file"].as_str().unwrap());
        let name = file.display().to_string();
        let d = det.detect_file(&file).unwrap();
        assert_eq!(
            u64::from(d.width),
            case["width"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            u64::from(d.height),
            case["height"].as_u64().unwrap(),
            "{name}"
        );
        assert_eq!(
            d.label.as_str(),
            case["label"].as_str().unwrap(),
            "{name}: {d:?}"
        );
        let want_crops: Vec<(i64, i64)> = case["crops"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|c| (c[0].as_i64().unwrap(), c[1].as_i64().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        let got_crops: Vec<(i64, i64)> = det
            .crops_for(d.width, d.height)
            .iter()
            .map(|c| (c.x, c.y))
            .collect();
        assert_eq!(got_crops, want_crops, "{name}");
        assert_eq!(d.crops, want_crops.len(), "{name}");
        if want_crops.is_empty() {
            assert!(d.score.is_none(), "{name}: {d:?}");
            continue;
        }
        let img = hallmark::media::decode_file(&file, &Default::default()).unwrap();
        let batch = det.batch_for(&img);
        if let Some(px) = case["first_pixel_input"].as_array() {
            let plane = batch.size * batch.size;
            for (c, want) in px.iter().enumerate() {
                let got = f64::from(batch.data[c * plane]);
                assert!(
                    (got - want.as_f64().unwrap()).abs() < 1e-6,
                    "{name}: channel {c}: {got} vs {want}"
                );
            }
        }
        let logits = clf.logits(&batch).unwrap();
        let want_logits = case["logits"].as_array().unwrap();
        assert_eq!(logits.len(), want_logits.len(), "{name}");
        for (i, (got, want)) in logits.iter().zip(want_logits).enumerate() {
            let want = want.as_f64().unwrap();
            assert!(
                (f64::from(*got) - want).abs() <= tol,
                "{name}: crop {i}: {got} vs {want}"
            );
        }
        let agg = case["aggregated_logit"].as_f64().unwrap();
        assert!(
            (d.logit.unwrap() - agg).abs() <= tol,
            "{name}: {d:?} vs {agg}"
        );
        let p = case["p_ai"].as_f64().unwrap();
        assert!((d.score.unwrap() - p).abs() <= tol, "{name}: {d:?} vs {p}");
    }
}

#[test]
fn cli_scores_the_golden_images_with_the_default_model() {
    let g = golden();
    let tol = g["tolerance"].as_f64().unwrap();
    let cases: Vec<&serde_json::Value> = g["cases"].as_array().unwrap().iter().collect();
    let files: Vec<PathBuf> = cases
        .iter()
        .map(|c| {
            root()
                .join("models/training")
                .join(c["file"].as_str().unwrap())
        })
        .collect();
    let out = assert_cmd::Command::cargo_bin("hallmark")
        .unwrap()
        .env_remove("HALLMARK_MODEL")
        .current_dir(root())
        .args(["detect", "--json", "--model", "models/default.json"])
        .args(&files)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), cases.len());
    for (j, c) in lines.iter().zip(&cases) {
        assert_eq!(j["label"], c["label"], "{j}");
        assert_eq!(j["model_sha256"], g["model_sha256"], "{j}");
        match (j["score"].as_f64(), c["aggregated_logit"].as_f64()) {
            (Some(s), Some(_)) => assert!((s - c["p_ai"].as_f64().unwrap()).abs() <= tol, "{j}"),
            (None, None) => assert!(j["reason"].is_string(), "{j}"),
            _ => panic!("score/golden mismatch: {j} vs {c}"),
        }
    }
}
