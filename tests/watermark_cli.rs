//! `hallmark watermark embed|detect` end to end: round trip through PNG and
//! JPEG, exit codes 0/1/2, and every file in `tests/bad/` gives exit 2.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::textured;
use image::{DynamicImage, RgbImage};

fn bin() -> Command {
    Command::cargo_bin("hallmark").unwrap()
}

fn save(img: &DynamicImage, path: &Path) {
    img.save(path).unwrap();
}

#[test]
fn embed_then_detect_png_and_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    save(&textured(400, 300, 3), &input);
    for ext in ["png", "jpg"] {
        let out = dir.path().join(format!("out.{ext}"));
        bin()
            .args(["watermark", "embed"])
            .arg(&input)
            .arg("-o")
            .arg(&out)
            .args(["--payload", "0123456789abcdef"])
            .assert()
            .success();
        let assert = bin()
            .args(["watermark", "detect", "--json"])
            .arg(&out)
            .assert()
            .code(0);
        let v: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
        assert_eq!(v["detected"], true);
        assert_eq!(v["payload"], "0123456789abcdef");
        assert!(v["p_value"].as_f64().unwrap() <= 1e-6);
    }
    // The original is unmarked: exit 1, payload null.
    let assert = bin()
        .args(["watermark", "detect", "--json"])
        .arg(&input)
        .assert()
        .code(1);
    let v: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(v["detected"], false);
    assert!(v["payload"].is_null());
    // Refuses to clobber without --force.
    bin()
        .args(["watermark", "embed"])
        .arg(&input)
        .arg("-o")
        .arg(dir.path().join("out.png"))
        .args(["--payload", "0123456789abcdef"])
        .assert()
        .code(2);
}

#[test]
fn a_secret_key_mark_is_read_only_with_that_key() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    save(&textured(400, 300, 5), &input);
    let key = dir.path().join("wm.key");
    std::fs::write(&key, "3f1c9a7e52b04d8891aa0c6e7d2f4b19\n").unwrap();
    let out = dir.path().join("out.png");
    bin()
        .args(["watermark", "embed"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .args(["--payload", "00000000feedf00d", "--wm-key"])
        .arg(&key)
        .assert()
        .success();
    // The public key does not see it; the secret key reads the payload.
    bin()
        .args(["watermark", "detect"])
        .arg(&out)
        .assert()
        .code(1);
    let assert = bin()
        .args(["watermark", "detect", "--json", "--wm-key"])
        .arg(&key)
        .arg(&out)
        .assert()
        .code(0);
    let v: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(v["payload"], "00000000feedf00d");
    // A key file too short to be secret, or missing: exit 2 with a reason.
    let short = dir.path().join("short.key");
    std::fs::write(&short, "abc\n").unwrap();
    for k in [short, dir.path().join("missing.key")] {
        let assert = bin()
            .args(["watermark", "detect", "--wm-key"])
            .arg(&k)
            .arg(&out)
            .assert()
            .code(2);
        assert!(!assert.get_output().stderr.is_empty());
    }
}

#[test]
fn bad_arguments_and_unfit_images_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("in.png");
    save(&textured(300, 300, 4), &good);
    let small = dir.path().join("small.png");
    save(&textured(100, 80, 5), &small);
    let flat = dir.path().join("flat.png");
    save(
        &DynamicImage::ImageRgb8(RgbImage::from_pixel(400, 400, image::Rgb([90, 90, 90]))),
        &flat,
    );
    let cases: Vec<(PathBuf, &str, &str, &str)> = vec![
        (good.clone(), "out1.png", "12345", "16 hex digits"),
        (
            good.clone(),
            "out2.bmpx",
            "0123456789abcdef",
            "output format",
        ),
        (small, "out3.png", "0123456789abcdef", "too small"),
        (flat, "out4.png", "0123456789abcdef", "too flat"),
    ];
    for (input, out, payload, msg) in cases {
        let a = bin()
            .args(["watermark", "embed"])
            .arg(&input)
            .arg("-o")
            .arg(dir.path().join(out))
            .args(["--payload", payload])
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(msg), "{err}");
        assert!(!dir.path().join(out).exists());
    }
}

#[test]
fn every_bad_file_gives_exit_2_on_detect() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().is_some_and(|f| f == "README.md") {
            continue;
        }
        let a = bin().args(["watermark", "detect"]).arg(&p).assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(
            err.starts_with("hallmark: error:"),
            "{}: {err}",
            p.display()
        );
        assert!(!err.contains("panicked"), "{}: {err}", p.display());
        n += 1;
    }
    assert!(n >= 8);
    bin()
        .args(["watermark", "detect", "/no/such/file.png"])
        .assert()
        .code(2);
}
