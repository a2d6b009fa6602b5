//! Detection: the AI-image classifier, its model card, preprocessing and
//! crop policy.
//!
//! The weakest of hallmark's four kinds of evidence: a statistical,
//! calibrated score. A [`Detector`] pairs a [`ModelCard`] with a
//! [`Classifier`] backend; the backend shipped is ONNX Runtime
//! ([`onnx::OrtClassifier`], loaded at run time, see [`runtime`]), and
//! anything else that turns a batch of crops into logits can stand in for it
//! (tests, the fused report when no model is installed).
//!
//! The pipeline, exactly as `models/CARD.md` specifies it: decode (one
//! guarded decoder) -> 8-bit RGB -> a grid of native-resolution S x S crops
//! (never resized) -> normalise -> one batch through the network -> aggregate
//! the crop logits -> Platt calibration -> two thresholds (`ai`, `real`),
//! with `inconclusive` in between and for images too small to score.
//!
//! Load once, score many: [`Detector::load`] reads the card, checks the
//! model's SHA-256, loads ONNX Runtime (once per process) and makes a
//! session; [`Detector::detect_file`] may then be called from many threads.

pub mod card;
pub mod grid;
pub mod onnx;
pub mod runtime;
pub mod score;

use std::path::{Path, PathBuf};
use std::time::Instant;

use image::DynamicImage;
use serde::Serialize;

pub use card::{find_model, ModelCard};
pub use grid::{Crop, CropBatch};
pub use onnx::SessionConfig;
pub use score::Label;

use crate::error::{Error, Result};
use crate::media::{self, Limits};

/// A backend that scores crops: one logit per crop, higher = more AI.
///
/// Implementations must be usable from several threads at once.
pub trait Classifier: Send + Sync {
    /// Logits for each crop of `batch`, in order (`batch.n` values).
    fn logits(&self, batch: &CropBatch) -> Result<Vec<f32>>;
}

/// The model a score came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelId {
    /// Card `name`.
    pub name: String,
    /// Card `version`.
    pub version: String,
}

impl std::fmt::Display for ModelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

/// The classifier's result for one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// Calibrated probability that the image is AI-generated (0..1);
    /// `null` when the image could not be scored (see `reason`).
    pub score: Option<f64>,
    /// `ai`, `real` or `inconclusive` per the card's thresholds.
    pub label: Label,
    /// Model name and version.
    pub model: ModelId,
    /// SHA-256 of the model file that was run.
    pub model_sha256: String,
    /// Number of crops scored.
    pub crops: usize,
    /// Aggregated logit before calibration.
    pub logit: Option<f64>,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Wall-clock milliseconds (decode + preprocessing + inference).
    pub ms: f64,
    /// Why the image was not scored, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where the model and ONNX Runtime come from.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--model`: a card, `default.json`, an `.onnx` beside its card, or a folder.
    pub model: Option<PathBuf>,
    /// `--ort-lib`: the ONNX Runtime shared library.
    pub ort_lib: Option<PathBuf>,
    /// Session settings.
    pub session: SessionConfig,
}

/// A model card with its classifier: load once, score many files.
pub struct Detector {
    card: ModelCard,
    model_sha256: String,
    classifier: Box<dyn Classifier>,
    limits: Limits,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("model", &self.model_id())
            .field("model_sha256", &self.model_sha256)
            .finish_non_exhaustive()
    }
}

fn ms_since(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1e5).round() / 100.0
}

impl Detector {
    /// Find the model (see [`find_model`]), verify its hash, load ONNX
    /// Runtime and make a session.
    pub fn load(opts: &LoadOptions) -> Result<Self> {
        let card_path = find_model(opts.model.as_deref())?;
        Self::load_card(&card_path, opts)
    }

    /// Load the model a card file describes (hash checked before ONNX
    /// Runtime is touched).
    pub fn load_card(card_path: &Path, opts: &LoadOptions) -> Result<Self> {
        let cf = card::CardFile::read(card_path)?;
        let bytes = cf.read_verified_model()?;
        let rt = runtime::runtime(opts.ort_lib.as_deref())?;
        let sha = cf.card.sha256.to_ascii_lowercase();
        let classifier = onnx::OrtClassifier::new(rt, bytes, &cf.card, opts.session)
            .map_err(|e| with_model_path(e, &cf.model_path()))?;
        Self::with_classifier(cf.card, sha, Box::new(classifier))
    }

    /// A detector over any backend (tests, other runtimes). The card is
    /// validated; `model_sha256` is reported as given.
    pub fn with_classifier(
        card: ModelCard,
        model_sha256: String,
        classifier: Box<dyn Classifier>,
    ) -> Result<Self> {
        card.validate()?;
        Ok(Detector {
            card,
            model_sha256,
            classifier,
            limits: Limits::default(),
        })
    }

    /// Use other decoder limits than the default.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The model card.
    pub fn card(&self) -> &ModelCard {
        &self.card
    }

    /// Model name and version.
    pub fn model_id(&self) -> ModelId {
        ModelId {
            name: self.card.name.clone(),
            version: self.card.version.clone(),
        }
    }

    /// SHA-256 of the model file.
    pub fn model_sha256(&self) -> &str {
        &self.model_sha256
    }

    /// Decode a file (through the guarded decoder) and score it.
    pub fn detect_file(&self, path: &Path) -> Result<Detection> {
        let t = Instant::now();
        let img = media::decode_file(path, &self.limits)?;
        let mut d = self.score(&img)?;
        d.ms = ms_since(t);
        Ok(d)
    }

    /// Score encoded image bytes.
    pub fn detect_bytes(&self, bytes: &[u8]) -> Result<Detection> {
        let t = Instant::now();
        let img = media::decode(bytes, &self.limits)?;
        let mut d = self.score(&img)?;
        d.ms = ms_since(t);
        Ok(d)
    }

    /// Score a decoded image.
    pub fn detect_image(&self, img: &DynamicImage) -> Result<Detection> {
        self.score(img)
    }

    /// The crops [`Detector::detect_image`] would score for a `width` x `height` image.
    pub fn crops_for(&self, width: u32, height: u32) -> Vec<Crop> {
        if width.min(height) < self.card.crop.min_side {
            return Vec::new();
        }
        grid::grid(width, height, &self.card.crop)
    }

    /// The normalised batch for an image (what the classifier sees).
    pub fn batch_for(&self, img: &DynamicImage) -> CropBatch {
        let crops = self.crops_for(img.width(), img.height());
        grid::make_batch(
            &grid::RgbView::new(img),
            &crops,
            &self.card.crop,
            &self.card.input,
        )
    }

    fn score(&self, img: &DynamicImage) -> Result<Detection> {
        let t = Instant::now();
        let (width, height) = (img.width(), img.height());
        let mut d = Detection {
            score: None,
            label: Label::Inconclusive,
            model: self.model_id(),
            model_sha256: self.model_sha256.clone(),
            crops: 0,
            logit: None,
            width,
            height,
            ms: 0.0,
            reason: None,
        };
        let min_side = self.card.crop.min_side;
        if width.min(height) < min_side {
            d.reason = Some(format!(
                "image is {width}x{height}; the model needs at least {min_side} px a side"
            ));
            d.ms = ms_since(t);
            return Ok(d);
        }
        let batch = self.batch_for(img);
        let logits = self.classifier.logits(&batch)?;
        if logits.len() != batch.n {
            return Err(Error::Model(format!(
                "the classifier returned {} logits for {} crops",
                logits.len(),
                batch.n
            )));
        }
        d.crops = batch.n;
        match score::aggregate(&logits, self.card.aggregation) {
            Some(agg) => {
                let p = score::calibrate(agg, &self.card.calibration);
                d.logit = Some(agg);
                d.score = Some(p);
                d.label = score::label(p, &self.card.thresholds);
            }
            None => d.reason = Some("the model returned NaN".into()),
        }
        d.ms = ms_since(t);
        Ok(d)
    }
}

fn with_model_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Model(m) => Error::Model(format!("{}: {m}", path.display())),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logit = mean of the crop's normalised values (the tiny ONNX test
    /// models compute the same thing).
    struct MeanValue;
    impl Classifier for MeanValue {
        fn logits(&self, batch: &CropBatch) -> Result<Vec<f32>> {
            Ok((0..batch.n)
                .map(|k| {
                    let c = batch.crop(k);
                    c.iter().sum::<f32>() / c.len() as f32
                })
                .collect())
        }
    }

    fn detector(json: serde_json::Value) -> Detector {
        let card = ModelCard::from_json(&json.to_string()).unwrap();
        Detector::with_classifier(card, "ab".repeat(32), Box::new(MeanValue)).unwrap()
    }

    #[test]
    fn scores_follow_the_mean_pixel_and_the_thresholds() {
        let det = detector(card::tests::sample_json());
        // scale 255, mean 0, std 1: a white image has logit 1.0 -> sigmoid(1) = 0.731.
        let white =
            DynamicImage::ImageRgb8(image::RgbImage::from_pixel(20, 10, image::Rgb([255; 3])));
        let d = det.detect_image(&white).unwrap();
        assert_eq!(d.crops, 4); // 3 x 2 grid, max_crops 4
        assert!(
            (d.score.unwrap() - 1.0 / (1.0 + (-1f64).exp())).abs() < 1e-6,
            "{d:?}"
        );
        assert_eq!(d.label, Label::Inconclusive);
        let black = DynamicImage::ImageRgb8(image::RgbImage::new(8, 8));
        let d = det.detect_image(&black).unwrap();
        assert_eq!(
            (d.crops, d.score, d.label),
            (1, Some(0.5), Label::Inconclusive)
        );
    }

    #[test]
    fn too_small_images_are_inconclusive_with_a_reason() {
        let det = detector(card::tests::sample_json());
        let tiny = DynamicImage::ImageRgb8(image::RgbImage::new(1, 50));
        let d = det.detect_image(&tiny).unwrap();
        assert_eq!((d.score, d.label, d.crops), (None, Label::Inconclusive, 0));
        assert!(d.reason.unwrap().contains("1x50"));
        let json = serde_json::to_value(det.detect_image(&tiny).unwrap()).unwrap();
        assert_eq!(json["label"], "inconclusive");
        assert!(json["score"].is_null());
    }
}
