//! The classifier runtime end to end through ONNX Runtime, with tiny models
//! whose logits are known functions of the pixels (built by
//! `scripts/make_test_models.py`): crop grid, normalisation, channel order,
//! aggregation, calibration and thresholds, padding, batching (one batch per
//! image, which image-level models rely on), the hash check, card/graph
//! mismatches and concurrent use.

// Helpers outside #[test] functions may fail loudly too.
#![allow(clippy::unwrap_used, clippy::panic)]

mod detect_support;

use std::path::Path;

use detect_support::{card, card_variant, models, png, sigmoid};
use hallmark::detect::onnx::OrtClassifier;
use hallmark::detect::{card::CardFile, runtime, Classifier, Detector, Label, LoadOptions};

fn load(card: &Path) -> Detector {
    Detector::load_card(card, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", card.display()))
}

fn load_err(card: &Path) -> String {
    Detector::load_card(card, &LoadOptions::default())
        .unwrap_err()
        .to_string()
}

/// Per-crop logits of `img` under a card (bypassing aggregation).
fn crop_logits(card: &Path, img: &image::DynamicImage) -> Vec<f32> {
    let cf = CardFile::read(card).unwrap();
    let bytes = cf.read_verified_model().unwrap();
    let rt = runtime::runtime(None).unwrap();
    let c = OrtClassifier::new(rt, bytes, &cf.card, Default::default()).unwrap();
    let det = load(card);
    c.logits(&det.batch_for(img)).unwrap()
}

#[test]
fn mean_model_scores_are_sigmoid_of_the_mean_pixel() {
    let dir = tempfile::tempdir().unwrap();
    let file = png(dir.path(), "gray.png", 70, 50, |_, _| [102, 102, 102]);
    for name in ["mean", "mean_flat", "mean_b1"] {
        let d = load(&card(name)).detect_file(&file).unwrap();
        // 70x50 at S=32: 3 x 2 = 6 crops, max_crops 4.
        assert_eq!(d.crops, 4, "{name}");
        let want = 102.0 / 255.0;
        assert!((d.logit.unwrap() - want).abs() < 1e-5, "{name}: {d:?}");
        assert!(
            (d.score.unwrap() - sigmoid(want)).abs() < 1e-5,
            "{name}: {d:?}"
        );
        assert_eq!(d.label, Label::Inconclusive, "{name}");
        assert_eq!(d.model.name, format!("test-{name}"));
        assert_eq!(d.model_sha256.len(), 64);
        assert_eq!((d.width, d.height), (70, 50));
        assert!(d.ms > 0.0);
    }
}

#[test]
fn normalisation_uses_scale_mean_and_std_per_channel() {
    let dir = tempfile::tempdir().unwrap();
    let card = card_variant(dir.path(), "mean", |j| {
        j["input"]["scale"] = 100.0.into();
        j["input"]["mean"] = serde_json::json!([0.5, 1.0, 1.5]);
        j["input"]["std"] = serde_json::json!([0.5, 1.0, 2.0]);
    });
    let file = png(dir.path(), "c.png", 32, 32, |_, _| [100, 150, 250]);
    let d = load(&card).detect_file(&file).unwrap();
    // R: (1.0 - 0.5) / 0.5 = 1; G: (1.5 - 1) / 1 = 0.5; B: (2.5 - 1.5) / 2 = 0.5; mean 2/3.
    assert!((d.logit.unwrap() - 2.0 / 3.0).abs() < 1e-5, "{d:?}");
}

#[test]
fn channels_are_rgb_in_nchw_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = png(dir.path(), "rb.png", 40, 40, |_, _| [200, 7, 50]);
    let d = load(&card("rgb")).detect_file(&file).unwrap();
    assert!((d.logit.unwrap() - 150.0 / 255.0).abs() < 1e-5, "{d:?}");
    // Grey replicates into R, G and B: R - B = 0.
    let g =
        image::DynamicImage::ImageLuma8(image::GrayImage::from_pixel(40, 40, image::Luma([99])));
    let d = load(&card("rgb")).detect_image(&g).unwrap();
    assert!(d.logit.unwrap().abs() < 1e-6, "{d:?}");
}

#[test]
fn crop_grid_offsets_reach_the_model() {
    // R = x, so the corner model's logit is the crop's left offset / 255.
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(100, 40, |x, y| {
        image::Rgb([x as u8, y as u8, 0])
    }));
    let dir = tempfile::tempdir().unwrap();
    let all = card_variant(dir.path(), "corner", |j| j["crop"]["max_crops"] = 16.into());
    let xs: Vec<f32> = crop_logits(&all, &img)
        .iter()
        .map(|l| (l * 255.0).round())
        .collect();
    // x offsets of a 100 px axis at S = 32: 0, 23, 45, 68; two rows (y = 0, 8).
    assert_eq!(xs, vec![0.0, 23.0, 45.0, 68.0, 0.0, 23.0, 45.0, 68.0]);
    // max_crops 4 keeps grid indices 0, 2, 5, 7.
    let xs: Vec<f32> = crop_logits(&card("corner"), &img)
        .iter()
        .map(|l| (l * 255.0).round())
        .collect();
    assert_eq!(xs, vec![0.0, 45.0, 23.0, 68.0]);
}

#[test]
fn an_image_level_model_sees_all_crops_of_the_image_in_one_batch() {
    // image_mean returns the mean pixel of the whole batch for every crop;
    // mean returns each crop's own mean. If the runtime split the crops of
    // one image over several batches, the image-level logits would differ
    // from crop to crop and from the mean of the per-crop logits.
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(100, 40, |x, y| {
        image::Rgb([(2 * x) as u8, (5 * y) as u8, 200 - x as u8])
    }));
    let per_crop = crop_logits(&card("mean"), &img);
    let image = crop_logits(&card("image_mean"), &img);
    assert_eq!(image.len(), per_crop.len());
    assert!(
        per_crop.iter().any(|l| (l - per_crop[0]).abs() > 0.05),
        "{per_crop:?}"
    );
    let want = per_crop.iter().sum::<f32>() / per_crop.len() as f32;
    for l in &image {
        assert!((l - want).abs() < 1e-5, "{image:?} vs mean {want}");
    }
}

#[test]
fn aggregation_mean_median_max() {
    let dir = tempfile::tempdir().unwrap();
    let file = png(dir.path(), "ramp.png", 100, 40, |x, _| [x as u8, 0, 0]);
    // Crop logits (x 255): 0, 45, 23, 68.
    for (how, want) in [
        ("mean_logit", 34.0),
        ("median_logit", 34.0),
        ("max_logit", 68.0),
    ] {
        let sub = dir.path().join(how);
        std::fs::create_dir(&sub).unwrap();
        let card = card_variant(&sub, "corner", |j| j["aggregation"] = how.into());
        let d = load(&card).detect_file(&file).unwrap();
        assert!(
            (d.logit.unwrap() * 255.0 - want).abs() < 1e-3,
            "{how}: {d:?}"
        );
    }
    let sub = dir.path().join("median3");
    std::fs::create_dir(&sub).unwrap();
    let card = card_variant(&sub, "corner", |j| {
        j["aggregation"] = "median_logit".into();
        j["crop"]["max_crops"] = 3.into();
    });
    // 8 crops, keep 3: indices 0, 4 (x = 0, row 2), 7 (x = 68): median 0.
    let d = load(&card).detect_file(&file).unwrap();
    assert!((d.logit.unwrap() * 255.0 - 0.0).abs() < 1e-3, "{d:?}");
}

#[test]
fn calibration_and_thresholds_give_the_three_labels() {
    let dir = tempfile::tempdir().unwrap();
    let card = card_variant(dir.path(), "mean", |j| {
        j["calibration"]["a"] = 10.0.into();
        j["calibration"]["b"] = (-5.0).into();
        j["thresholds"] = serde_json::json!({"ai": 0.9, "real": 0.1});
    });
    let det = load(&card);
    let cases = [
        (255u8, Label::Ai, sigmoid(5.0)),
        (0, Label::Real, sigmoid(-5.0)),
    ];
    for (v, label, p) in cases {
        let f = png(dir.path(), &format!("{v}.png"), 32, 32, |_, _| [v; 3]);
        let d = det.detect_file(&f).unwrap();
        assert_eq!(d.label, label, "{v}: {d:?}");
        assert!((d.score.unwrap() - p).abs() < 1e-5, "{v}: {d:?}");
    }
    let f = png(dir.path(), "mid.png", 32, 32, |_, _| [128; 3]);
    let d = det.detect_file(&f).unwrap();
    assert_eq!(d.label, Label::Inconclusive, "{d:?}");
    assert!((d.score.unwrap() - sigmoid(10.0 * 128.0 / 255.0 - 5.0)).abs() < 1e-5);
}

#[test]
fn small_images_are_padded_zero_or_reflect() {
    // 20 x 20 < S = 32: one window at (-6, -6); R = x + 1.
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(20, 20, |x, _| {
        image::Rgb([x as u8 + 1, 0, 0])
    }));
    assert_eq!(crop_logits(&card("corner"), &img), vec![0.0]);
    let dir = tempfile::tempdir().unwrap();
    let reflect = card_variant(dir.path(), "corner", |j| {
        j["crop"]["pad"] = "reflect".into()
    });
    // numpy reflect: index -6 -> 6, so R = 7.
    assert_eq!(crop_logits(&reflect, &img), vec![7.0 / 255.0]);
    // The mean model sees 400 pixels of value v in 1024: mean = v * 400 / 1024 / 255.
    let flat =
        image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(20, 20, image::Rgb([255; 3])));
    let d = load(&card("mean")).detect_image(&flat).unwrap();
    assert!((d.logit.unwrap() - 400.0 / 1024.0).abs() < 1e-5, "{d:?}");
}

#[test]
fn images_under_min_side_are_inconclusive_without_a_score() {
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::new(7, 300));
    let d = load(&card("mean")).detect_image(&img).unwrap();
    assert_eq!((d.score, d.label, d.crops), (None, Label::Inconclusive, 0));
    assert!(d.reason.unwrap().contains("at least 8"));
}

#[test]
fn sha256_mismatch_is_refused_before_loading() {
    let dir = tempfile::tempdir().unwrap();
    let card = card_variant(dir.path(), "mean", |j| j["sha256"] = "ab".repeat(32).into());
    let err = load_err(&card);
    assert!(err.contains("SHA-256 mismatch"), "{err}");
    // A changed model file with the original card.
    let card = card_variant(dir.path(), "mean", |_| {});
    let mut bytes = std::fs::read(dir.path().join("mean.onnx")).unwrap();
    bytes.push(0);
    std::fs::write(dir.path().join("mean.onnx"), bytes).unwrap();
    let err = load_err(&card);
    assert!(err.contains("SHA-256 mismatch"), "{err}");
    // A missing model file names the path.
    std::fs::remove_file(dir.path().join("mean.onnx")).unwrap();
    assert!(load_err(&card).contains("mean.onnx"));
}

#[test]
fn cards_that_do_not_fit_the_graph_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = card_variant(dir.path(), "mean", |j| j["input"]["name"] = "image".into());
    assert!(
        load_err(&c).contains("\"image\" is not in the model"),
        "{}",
        load_err(&c)
    );
    let c = card_variant(dir.path(), "rgb", |j| j["output"]["name"] = "logit".into());
    assert!(
        load_err(&c).contains("output \"logit\" is not in the model"),
        "{}",
        load_err(&c)
    );
    let c = card_variant(dir.path(), "mean_b1", |j| j["crop"]["size"] = 16.into());
    assert!(load_err(&c).contains("[N, 3, 16, 16]"), "{}", load_err(&c));
    let err = load_err(&card("two_inputs"));
    assert!(err.contains("2 inputs"), "{err}");
}

#[test]
fn one_detector_scores_from_many_threads() {
    let det = load(&card("mean"));
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = (0..12u8)
        .map(|i| {
            png(
                dir.path(),
                &format!("{i}.png"),
                64 + u32::from(i),
                48,
                move |_, _| [i * 20; 3],
            )
        })
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let det = &det;
                s.spawn(move || (i, det.detect_file(f).unwrap()))
            })
            .collect();
        for h in handles {
            let (i, d) = h.join().unwrap();
            assert!(
                (d.logit.unwrap() - f64::from(i as u8 * 20) / 255.0).abs() < 1e-5,
                "{i}: {d:?}"
            );
        }
    });
}

#[test]
fn the_runtime_is_found_and_reports_where() {
    let rt = runtime::runtime(None).unwrap();
    assert!(rt.library().is_file(), "{}", rt.library().display());
    // Asking again (any thread) returns the same runtime; naming another library is refused.
    assert!(std::ptr::eq(rt, runtime::runtime(None).unwrap()));
    assert!(runtime::runtime(Some(rt.library())).is_ok());
    let other = models().join("mean.onnx");
    let err = runtime::runtime(Some(&other)).unwrap_err().to_string();
    assert!(err.contains("already loaded"), "{err}");
}
