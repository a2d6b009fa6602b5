//! Detection: the AI-image classifier, its model card, preprocessing and
//! crop policy.
//!
//! The weakest of hallmark's four kinds of evidence: a statistical,
//! calibrated score. A [`Detector`] runs one model: a single-model card
//! ([`ModelCard`]: one pixel network on its crop grid) or a fused card
//! ([`FusedCard`]: several [`Member`]s, e.g. the spectral pixel networks and
//! a frozen CLIP encoder with a head, late-fused). The backend shipped is
//! ONNX Runtime ([`onnx`], loaded at run time, see [`runtime`]); anything
//! that turns a batch of crops into logits can stand in for it ([`Classifier`]).
//!
//! The pipeline, exactly as `models/CARD.md` specifies it: decode (one
//! guarded decoder) -> 8-bit RGB -> per member, its own input (pixel
//! members: a grid of native-resolution S x S crops, never resized; encoder
//! members: resized 224 px views, [`resize`]) -> one batch through the
//! network(s) -> aggregate -> late fusion -> Platt calibration -> two
//! thresholds (`ai`, `real`), with `inconclusive` in between and for images
//! too small to score.
//!
//! Load once, score many: [`Detector::load`] reads the card, checks the
//! model's SHA-256, loads ONNX Runtime (once per process) and makes a
//! session; [`Detector::detect_file`] may then be called from many threads.

pub mod card;
pub mod encoder;
pub mod fused;
pub mod grid;
pub mod member;
pub mod onnx;
pub mod pyenv;
pub mod resize;
pub mod runtime;
pub mod score;

use std::path::{Path, PathBuf};
use std::time::Instant;

use image::DynamicImage;
use serde::Serialize;

pub use card::{find_model, ModelCard};
pub use fused::FusedCard;
pub use grid::{Crop, CropBatch};
pub use member::{Member, MemberScore};
pub use onnx::SessionConfig;
pub use score::Label;

use crate::error::{Error, Result};
use crate::media::{self, Limits};
use card::{Calibration, CardFile, Thresholds};
use fused::{DomainRule, Fusion, MemberSpec};
use grid::RgbView;
use member::PixelMember;

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
    /// SHA-256 of the model file that was run (of the card, for a fused
    /// model: it pins every member's hash).
    pub model_sha256: String,
    /// Number of crops and views scored, over all members.
    pub crops: usize,
    /// Fused (or aggregated) logit before calibration.
    pub logit: Option<f64>,
    /// Each member's logit.
    pub members: Vec<MemberScore>,
    /// Photo-like or non-photo, for a model with a domain rule (non-photo
    /// images get stricter thresholds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<Domain>,
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

/// The image domain a model's domain head saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// A photograph or photo-like image.
    Photo,
    /// An illustration, screenshot, render, diagram or other non-photo.
    Nonphoto,
}

impl Domain {
    /// As printed: `photo`, `nonphoto`.
    pub fn as_str(self) -> &'static str {
        match self {
            Domain::Photo => "photo",
            Domain::Nonphoto => "nonphoto",
        }
    }
}

/// Where the model, the encoder and ONNX Runtime come from.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--model`: a card, `default.json`, an `.onnx` beside its card, or a folder.
    pub model: Option<PathBuf>,
    /// `--ort-lib`: the ONNX Runtime shared library.
    pub ort_lib: Option<PathBuf>,
    /// `--encoder`: the image encoder a fused card needs (else found per
    /// [`encoder::locate`]).
    pub encoder: Option<PathBuf>,
    /// Session settings.
    pub session: SessionConfig,
}

/// A model (one card, or a fused card and its members): load once, score
/// many files.
pub struct Detector {
    model: ModelId,
    model_sha256: String,
    members: Vec<Box<dyn Member>>,
    single: Option<PixelMember>,
    fusion: Fusion,
    calibration: Calibration,
    thresholds: Thresholds,
    domain: Option<DomainRule>,
    min_side: u32,
    limits: Limits,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("model", &self.model)
            .field("model_sha256", &self.model_sha256)
            .finish_non_exhaustive()
    }
}

fn ms_since(t: Instant) -> f64 {
    (t.elapsed().as_secs_f64() * 1e5).round() / 100.0
}

impl Detector {
    /// Find the model (see [`find_model`]), verify its hashes, load ONNX
    /// Runtime and make the sessions.
    pub fn load(opts: &LoadOptions) -> Result<Self> {
        let card_path = find_model(opts.model.as_deref())?;
        Self::load_card(&card_path, opts)
    }

    /// Load the model a card file describes (hashes checked before ONNX
    /// Runtime is touched). The card may be a single-model card or a fused
    /// card ([`FusedCard`]).
    pub fn load_card(card_path: &Path, opts: &LoadOptions) -> Result<Self> {
        let text = std::fs::read_to_string(card_path).map_err(|e| Error::io(card_path, e))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Error::Model(format!(
                "{}: model card is not valid: {e}",
                card_path.display()
            ))
        })?;
        if FusedCard::is_fused(&value) {
            return Self::load_fused(card_path, &text, opts).map_err(|e| at_path(e, card_path));
        }
        let cf = CardFile::read(card_path)?;
        let (sha, member) = load_pixel(&cf, opts)?;
        Self::from_single(cf.card.name.clone(), sha, member)
    }

    fn load_fused(card_path: &Path, text: &str, opts: &LoadOptions) -> Result<Self> {
        let fc = FusedCard::from_json(text)?;
        let dir = card_path.parent().unwrap_or_else(|| Path::new("."));
        // Find and check every file first, so a missing encoder is reported
        // before anything is loaded.
        let mut staged = Vec::new();
        for m in &fc.members {
            staged.push(match m {
                MemberSpec::Pixel { card, .. } => {
                    Staged::Pixel(Box::new(CardFile::read(&dir.join(card))?))
                }
                MemberSpec::EncoderHead { encoder, head, .. } => {
                    let enc_path = encoder::locate(encoder, opts.encoder.as_deref())?;
                    let enc = encoder::read_verified(&enc_path, encoder)?;
                    let head_path = dir.join(&head.file);
                    let hb = std::fs::read(&head_path).map_err(|e| Error::io(&head_path, e))?;
                    encoder::check_sha256(&head_path, &hb, &head.sha256)?;
                    Staged::Encoder(enc, hb)
                }
            });
        }
        let rt = runtime::runtime(opts.ort_lib.as_deref())?;
        let mut members: Vec<Box<dyn Member>> = Vec::new();
        for (m, st) in fc.members.iter().zip(staged) {
            members.push(match (m, st) {
                (MemberSpec::Pixel { name, .. }, Staged::Pixel(cf)) => {
                    let (_, mut member) = load_pixel(&cf, opts)?;
                    member.rename(name);
                    Box::new(member)
                }
                (
                    MemberSpec::EncoderHead {
                        name,
                        encoder,
                        view,
                        head,
                        aggregation,
                    },
                    Staged::Encoder(enc, hb),
                ) => Box::new(encoder::EncoderMember::new(
                    name.clone(),
                    (**view).clone(),
                    (
                        onnx::SessionPool::new(rt, enc, opts.session)?,
                        (**encoder).clone(),
                    ),
                    (
                        onnx::SessionPool::new(rt, hb, opts.session)?,
                        (**head).clone(),
                    ),
                    *aggregation,
                )?),
                _ => return Err(Error::Model("fused card: member kinds changed".into())),
            });
        }
        let min_side = members.iter().map(|m| m.min_side()).max().unwrap_or(1);
        Ok(Detector {
            model: ModelId {
                name: fc.name,
                version: fc.version,
            },
            model_sha256: card::sha256_hex(text.as_bytes()),
            members,
            single: None,
            fusion: fc.fusion,
            calibration: fc.calibration,
            thresholds: fc.thresholds,
            domain: fc.domain,
            min_side,
            limits: Limits::default(),
        })
    }

    /// A detector over any backend (tests, other runtimes). The card is
    /// validated; `model_sha256` is reported as given.
    pub fn with_classifier(
        card: ModelCard,
        model_sha256: String,
        classifier: Box<dyn Classifier>,
    ) -> Result<Self> {
        card.validate()?;
        let name = card.name.clone();
        Self::from_single(
            name,
            model_sha256,
            PixelMember::new(String::new(), card, classifier),
        )
    }

    fn from_single(name: String, sha: String, mut member: PixelMember) -> Result<Self> {
        member.rename(&name);
        let card = member.card().clone();
        Ok(Detector {
            model: ModelId {
                name: card.name.clone(),
                version: card.version.clone(),
            },
            model_sha256: sha,
            members: Vec::new(),
            min_side: card.crop.min_side,
            single: Some(member),
            fusion: Fusion {
                weights: vec![1.0],
                bias: 0.0,
            },
            calibration: card.calibration,
            thresholds: card.thresholds,
            domain: None,
            limits: Limits::default(),
        })
    }

    /// A fused detector over members built elsewhere (tests, other runtimes).
    pub fn with_members(
        model: ModelId,
        model_sha256: String,
        members: Vec<Box<dyn Member>>,
        fusion: Fusion,
        calibration: Calibration,
        thresholds: Thresholds,
    ) -> Result<Self> {
        if members.is_empty() || fusion.weights.len() != members.len() {
            return Err(Error::Model(format!(
                "{} fusion weights for {} members",
                fusion.weights.len(),
                members.len()
            )));
        }
        let min_side = members.iter().map(|m| m.min_side()).max().unwrap_or(1);
        Ok(Detector {
            model,
            model_sha256,
            members,
            single: None,
            fusion,
            calibration,
            thresholds,
            domain: None,
            min_side,
            limits: Limits::default(),
        })
    }

    /// Use other decoder limits than the default.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The model card of a single-model detector (`None` for a fused one).
    pub fn card(&self) -> Option<&ModelCard> {
        self.single.as_ref().map(PixelMember::card)
    }

    /// Model name and version.
    pub fn model_id(&self) -> ModelId {
        self.model.clone()
    }

    /// SHA-256 of the model file (of the card, for a fused model).
    pub fn model_sha256(&self) -> &str {
        &self.model_sha256
    }

    /// The members' names, in fusion order.
    pub fn member_names(&self) -> Vec<String> {
        self.members().map(|m| m.name().to_string()).collect()
    }

    fn members(&self) -> impl Iterator<Item = &dyn Member> {
        self.single
            .iter()
            .map(|m| m as &dyn Member)
            .chain(self.members.iter().map(|m| m.as_ref()))
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

    /// The crops a single-model detector scores for a `width` x `height`
    /// image (empty for a fused model).
    pub fn crops_for(&self, width: u32, height: u32) -> Vec<Crop> {
        self.single
            .as_ref()
            .map(|m| m.crops_for(width, height))
            .unwrap_or_default()
    }

    /// The normalised batch a single-model detector feeds its network (empty
    /// for a fused model).
    pub fn batch_for(&self, img: &DynamicImage) -> CropBatch {
        match &self.single {
            Some(m) => m.batch_for(&RgbView::new(img)),
            None => CropBatch {
                data: Vec::new(),
                n: 0,
                size: 0,
            },
        }
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
            members: Vec::new(),
            domain: None,
            width,
            height,
            ms: 0.0,
            reason: None,
        };
        let min_side = self.min_side;
        if width.min(height) < min_side {
            d.reason = Some(format!(
                "image is {width}x{height}; the model needs at least {min_side} px a side"
            ));
            d.ms = ms_since(t);
            return Ok(d);
        }
        let view = RgbView::new(img);
        for m in self.members() {
            d.members.push(m.score(&view)?);
        }
        d.crops = d.members.iter().map(|m| m.crops).sum();
        let logits: Vec<Option<f64>> = d.members.iter().map(|m| m.logit).collect();
        let mut thresholds = &self.thresholds;
        if let Some(rule) = &self.domain {
            let logit = d
                .members
                .iter()
                .find(|m| m.name == rule.member)
                .and_then(|m| m.domain);
            d.domain = logit.map(|l| {
                if l >= rule.nonphoto_at {
                    thresholds = &rule.thresholds;
                    Domain::Nonphoto
                } else {
                    Domain::Photo
                }
            });
        }
        match self.fusion.apply(&logits) {
            Some(z) => {
                let p = score::calibrate(z, &self.calibration);
                d.logit = Some(z);
                d.score = Some(p);
                d.label = score::label(p, thresholds);
            }
            None => d.reason = Some("the model returned NaN".into()),
        }
        d.ms = ms_since(t);
        Ok(d)
    }
}

/// Files of a fused card, read and checked before ONNX Runtime is loaded.
enum Staged {
    Pixel(Box<CardFile>),
    Encoder(Vec<u8>, Vec<u8>),
}

/// A pixel member from its card file: hash checked, session made.
fn load_pixel(cf: &CardFile, opts: &LoadOptions) -> Result<(String, PixelMember)> {
    let bytes = cf.read_verified_model()?;
    let rt = runtime::runtime(opts.ort_lib.as_deref())?;
    let sha = cf.card.sha256.to_ascii_lowercase();
    let classifier = onnx::OrtClassifier::new(rt, bytes, &cf.card, opts.session)
        .map_err(|e| with_model_path(e, &cf.model_path()))?;
    Ok((
        sha,
        PixelMember::new(cf.card.name.clone(), cf.card.clone(), Box::new(classifier)),
    ))
}

fn with_model_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Model(m) => Error::Model(format!("{}: {m}", path.display())),
        other => other,
    }
}

fn at_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Model(m) if !m.contains(&path.display().to_string()) => {
            Error::Model(format!("{}: {m}", path.display()))
        }
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
