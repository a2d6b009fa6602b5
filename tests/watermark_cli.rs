//! `hallmark watermark embed|detect` end to end: round trip through PNG and
//! JPEG, exit codes 0/1/2, and every file in `tests/bad/` gives exit 2.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use hallmark::watermark::prng::Prng;
use image::{DynamicImage, RgbImage};

/// A textured test image (value noise over several octaves plus edges).
fn textured(w: u32, h: u32, seed: u64) -> DynamicImage {
    let mut rng = Prng::new(seed, 1);
    let grids: Vec<(u32, Vec<f32>)> = [64u32, 16, 4]
        .iter()
        .map(|&c| {
            (
                c,
                (0..((w / c + 2) * (h / c + 2)))
                    .map(|_| rng.next_f64() as f32)
                    .collect(),
            )
        })
        .collect();
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        let mut v: f32 = 0.0;
        for (amp, (c, g)) in [110.0f32, 60.0, 30.0].iter().zip(&grids) {
            let gw = w / c + 2;
            let (fx, fy) = (x as f32 / *c as f32, y as f32 / *c as f32);
            let (ix, iy) = (fx as u32, fy as u32);
            let (tx, ty) = (fx - ix as f32, fy - iy as f32);
            let at = |i: u32, j: u32| g[(j * gw + i) as usize];
            let top = at(ix, iy) + (at(ix + 1, iy) - at(ix, iy)) * tx;
            let bot = at(ix, iy + 1) + (at(ix + 1, iy + 1) - at(ix, iy + 1)) * tx;
            v += amp * (top + (bot - top) * ty);
        }
        let v = (v - 40.0).clamp(0.0, 255.0) as u8;
        image::Rgb([v, v.saturating_add(10), v / 2 + 60])
    }))
}

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
