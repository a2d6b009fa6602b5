//! Fused models end to end through ONNX Runtime with a stand-in encoder
//! (`scripts/make_test_models.py`: same input/output names and shapes as the
//! CLIP tower, a few kB instead of 90 MB): Python-vs-Rust golden logits for
//! each member (resize filter included), the encoder's hash check, finding
//! the encoder in a Python package folder without running Python, and a
//! missing encoder turning the report's classifier section "unavailable".

// Helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::panic)]

mod detect_support;

use std::path::{Path, PathBuf};

use detect_support::models;
use hallmark::detect::grid::RgbView;
use hallmark::detect::resize::{views_u8, Windows};
use hallmark::detect::{Detector, Domain, LoadOptions};

/// The procedural image `make_test_models.pattern` draws.
fn pattern(w: u32, h: u32) -> image::DynamicImage {
    image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(w, h, |x, y| {
        let (x, y) = (u64::from(x), u64::from(y));
        image::Rgb([
            ((x * 3 + y * 5) % 256) as u8,
            ((x * y / 7) % 256) as u8,
            (((x ^ y) * 3) % 256) as u8,
        ])
    }))
}

fn fused_card() -> PathBuf {
    models().join("fused.card.json")
}

fn standin() -> PathBuf {
    models().join("standin_encoder.onnx")
}

fn with_encoder(enc: &Path) -> LoadOptions {
    LoadOptions {
        encoder: Some(enc.to_path_buf()),
        ..LoadOptions::default()
    }
}

#[test]
fn every_member_matches_the_python_golden_logits() {
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models().join("fused_golden.json")).unwrap())
            .unwrap();
    let tol = g["tolerance"].as_f64().unwrap();
    let det = Detector::load_card(&fused_card(), &with_encoder(&standin())).unwrap();
    assert_eq!(det.member_names(), vec!["spectral", "clip"]);
    for case in g["cases"].as_array().unwrap() {
        let (w, h) = (
            case["width"].as_u64().unwrap() as u32,
            case["height"].as_u64().unwrap() as u32,
        );
        let img = pattern(w, h);
        // The resized view, pixel for pixel (summed).
        let views = views_u8(&RgbView::new(&img), 224, Windows::Center);
        let sum: u64 = views[0].iter().map(|&v| u64::from(v)).sum();
        assert_eq!(sum, case["view_u8_sum"].as_u64().unwrap(), "{w}x{h}");
        let d = det.detect_image(&img).unwrap();
        let member = |name: &str| {
            d.members
                .iter()
                .find(|m| m.name == name)
                .unwrap()
                .logit
                .unwrap()
        };
        let close = |a: f64, b: &serde_json::Value| (a - b.as_f64().unwrap()).abs() <= tol;
        assert!(
            close(member("spectral"), &case["spectral"]),
            "{w}x{h}: {d:?}"
        );
        assert!(close(member("clip"), &case["clip"][0]), "{w}x{h}: {d:?}");
        assert!(close(d.logit.unwrap(), &case["logit"]), "{w}x{h}: {d:?}");
        assert!(close(d.score.unwrap(), &case["p_ai"]), "{w}x{h}: {d:?}");
        assert_eq!(d.crops, 4 + 1, "4 grid crops + 1 view");
        let clip = d.members.iter().find(|m| m.name == "clip").unwrap();
        assert!(
            close(clip.domain.unwrap(), &case["domain"]),
            "{w}x{h}: {d:?}"
        );
        // The domain rule picks the thresholds: non-photo images get stricter ones.
        let nonphoto = case["domain"].as_f64().unwrap() >= -2.08;
        assert_eq!(
            d.domain,
            Some(if nonphoto {
                Domain::Nonphoto
            } else {
                Domain::Photo
            })
        );
        assert_eq!(d.label.as_str(), case["label"].as_str().unwrap(), "{d:?}");
    }
}

#[test]
fn a_changed_encoder_is_refused_before_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("enc.onnx");
    let mut bytes = std::fs::read(standin()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&bad, &bytes).unwrap();
    let err = Detector::load_card(&fused_card(), &with_encoder(&bad))
        .unwrap_err()
        .to_string();
    assert!(err.contains("SHA-256 mismatch"), "{err}");
    std::fs::write(&bad, &bytes[..100]).unwrap();
    let err = Detector::load_card(&fused_card(), &with_encoder(&bad))
        .unwrap_err()
        .to_string();
    assert!(err.contains("100 bytes"), "{err}");
}

fn hallmark() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("hallmark").unwrap();
    c.env_remove("HALLMARK_ENCODER")
        .env_remove("HALLMARK_MODEL")
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .env_remove("PYTHONPATH");
    c
}

/// The one JSON object a successful run printed.
fn json_ok(out: &std::process::Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap()
}

fn a_png(dir: &Path) -> PathBuf {
    let p = dir.join("p.png");
    pattern(300, 200).save(&p).unwrap();
    p
}

#[test]
fn the_encoder_is_found_in_a_virtual_environment_without_running_python() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir
        .path()
        .join("venv/lib/python3.11/site-packages/hallmark_test_standin");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::copy(standin(), site.join("standin_encoder.onnx")).unwrap();
    let img = a_png(dir.path());
    let (ort, _) = hallmark::detect::runtime::find_library(None).unwrap();
    let out = hallmark()
        .env("VIRTUAL_ENV", dir.path().join("venv"))
        .env("ORT_DYLIB_PATH", ort)
        // No python3 anywhere on PATH: nothing may be spawned to find it.
        .env("PATH", dir.path())
        .args(["detect", "--json", "--model"])
        .arg(fused_card())
        .arg(&img)
        .output()
        .unwrap();
    let v = json_ok(&out);
    assert_eq!(v["model"]["name"], "test-fused");
    assert_eq!(v["members"][1]["name"], "clip");
    assert!(v["score"].as_f64().is_some(), "{v}");
    // HALLMARK_ENCODER names it too.
    let out = hallmark()
        .env("HALLMARK_ENCODER", standin())
        .args(["detect", "--json", "--model"])
        .arg(fused_card())
        .arg(&img)
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn a_missing_encoder_makes_detect_fail_with_the_install_command() {
    let dir = tempfile::tempdir().unwrap();
    let img = a_png(dir.path());
    let out = hallmark()
        .env("HOME", dir.path())
        .args(["detect", "--model"])
        .arg(fused_card())
        .arg(&img)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("pip install --no-deps hallmark-test-standin==0.0.0"),
        "{err}"
    );
}

#[test]
fn a_missing_encoder_makes_the_classifier_section_unavailable_not_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let img = a_png(dir.path());
    let out = hallmark()
        .env("HOME", dir.path())
        .args(["check", "--json", "--model"])
        .arg(fused_card())
        .arg(&img)
        .output()
        .unwrap();
    let v = json_ok(&out);
    assert_eq!(v["classifier"]["status"], "unavailable", "{v}");
    let reason = v["classifier"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("pip install --no-deps hallmark-test-standin==0.0.0"),
        "{reason}"
    );
    assert_eq!(v["manifest"]["status"], "ok");
    assert_eq!(v["verdict"], "inconclusive");
    // With the encoder named, the same report carries a score.
    let out = hallmark()
        .args(["check", "--json", "--model"])
        .arg(fused_card())
        .arg("--encoder")
        .arg(standin())
        .arg(&img)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["classifier"]["status"], "ok", "{v}");
    assert!(v["classifier"]["score"].as_f64().is_some());
}
